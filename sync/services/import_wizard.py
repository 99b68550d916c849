"""What the import wizard's screens read live from Salesforce and Campaign Monitor.

The wizard's views call these with the connection and never build an API client themselves.
Each function may raise :class:`~sync.clients.errors.ApiError` when a side cannot be reached;
the screens say so in words. Every read goes through :func:`~sync.services.live_reads.live_read`:
answers are kept briefly, so reloading a screen asks neither side anything, and fresh reads
count against the person's limit (``TooManyLiveReads``).

(This module sits beside :mod:`sync.services.import_sources` rather than in it because it
needs :mod:`sync.services.imports`, which imports ``import_sources``.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sync.models import ACTIVE_STATUSES, Connection, ImportJob
from sync.services import imports
from sync.services.api import campaign_monitor_client, salesforce_client
from sync.services.import_sources import ImportSource, SourceField, available_sources, source_fields
from sync.services.live_reads import live_read

SOURCE_GONE = (
    "Salesforce no longer offers the {source} for import (deleted, or not readable by the "
    "connected user), so it cannot run again. Start a new import."
)
LIST_GONE = (
    "Campaign Monitor no longer lists “{list_name}” among the lists of {client}, so the "
    "import cannot run again. Start a new import."
)


@dataclass(frozen=True)
class Choices:
    """What can be imported (list views and reports) and where to (lists of selected clients)."""

    sources: list[ImportSource]
    destinations: list[imports.DestinationList]


@dataclass(frozen=True)
class Chosen:
    """A chosen source and list, with the fields each side offers for mapping."""

    source: ImportSource
    destination: imports.DestinationList
    source_fields: list[SourceField]
    cm_fields: list[dict[str, Any]]


def choices(connection: Connection, user=None) -> Choices:
    """The org's list views and reports, and the lists of the clients selected for sync."""
    sources, lists = live_read(connection, user, "import-choices", (), lambda: _read(connection))
    # The cache holds plain values; clients are read now (the key holds the selection).
    clients = {c.pk: c for c in connection.clients.filter(selected=True)}
    destinations = [
        imports.DestinationList(clients[client_pk], list_id, name)
        for client_pk, list_id, name in lists
        if client_pk in clients
    ]
    return Choices(sources, destinations)


def _read(connection: Connection) -> tuple[list[ImportSource], list[tuple[int, str, str]]]:
    with salesforce_client(connection) as sf:
        sources = available_sources(sf)
    with campaign_monitor_client(connection) as cm:
        lists = imports.destination_lists(connection, cm)
    return sources, [(d.cm_client.pk, d.list_id, d.name) for d in lists]


def chosen(
    connection: Connection, source_key: str | None, list_key: str | None, user=None
) -> Chosen | None:
    """The source and list with these keys and their fields, or None if either is not there."""
    available = choices(connection, user)
    source = next((s for s in available.sources if s.key == source_key), None)
    destination = next((d for d in available.destinations if d.key == list_key), None)
    if source is None or destination is None:
        return None
    fields = live_read(
        connection, user, "source-fields", (source.key,), lambda: _source_fields(connection, source)
    )
    cm_fields = live_read(
        connection,
        user,
        "list-fields",
        (destination.list_id,),
        lambda: _list_fields(connection, destination.list_id),
    )
    return Chosen(source, destination, fields, cm_fields)


def _source_fields(connection: Connection, source: ImportSource) -> list[SourceField]:
    with salesforce_client(connection) as sf:
        return source_fields(sf, source)


def _list_fields(connection: Connection, list_id: str) -> list[dict[str, Any]]:
    with campaign_monitor_client(connection) as cm:
        return cm.get_custom_fields(list_id)


def preview(
    connection: Connection,
    source: ImportSource,
    mapping: dict[str, Any],
    cm_fields: list[dict[str, Any]],
    user=None,
) -> list[imports.PreviewRow]:
    """The source's first rows as the import would send them."""

    def read() -> list[imports.PreviewRow]:
        with salesforce_client(connection) as sf:
            return imports.preview(sf, source, mapping, cm_fields)

    question = (source.key, json.dumps([mapping, cm_fields], sort_keys=True, default=str))
    return live_read(connection, user, "import-preview", question, read)


def run_again(job: ImportJob, user) -> tuple[ImportJob, bool]:
    """Run an import again under the wizard's rules; ``(job, created)`` as
    :func:`sync.services.imports.run_again`.

    The source and the list must still be what the wizard offers now (the org's list views and
    reports; lists of the clients selected for sync), as if the admin picked them again. While
    the same import is queued or running, that one is the answer and nothing is read live.
    """
    active = imports.same_import(job).filter(status__in=ACTIVE_STATUSES).order_by("-pk").first()
    if active is not None:
        return active, False
    connection = job.connection
    imports.ensure_ready(connection)
    imports.ensure_selected(connection, job.cm_client)
    offered = choices(connection, user)
    source = imports.source_of(job)
    if source.key not in {s.key for s in offered.sources}:
        raise imports.ImportRefused(SOURCE_GONE.format(source=source.description))
    destination = imports.destination_of(job)
    if destination.key not in {d.key for d in offered.destinations}:
        raise imports.ImportRefused(
            LIST_GONE.format(list_name=job.list_name, client=job.cm_client.name)
        )
    return imports.run_again(job, user)
