"""What the import wizard's screens read live from Salesforce and Campaign Monitor.

The wizard's views call these with the connection and never build an API client themselves.
Each function may raise :class:`~sync.clients.errors.ApiError` when a side cannot be reached;
the screens say so in words.

(This module sits beside :mod:`sync.services.import_sources` rather than in it because it
needs :mod:`sync.services.imports`, which imports ``import_sources``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.models import ACTIVE_STATUSES, Connection, ImportJob
from sync.services import imports
from sync.services.api import campaign_monitor_client, salesforce_client
from sync.services.import_sources import ImportSource, SourceField, available_sources, source_fields

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


def choices(connection: Connection) -> Choices:
    """The org's list views and reports, and the lists of the clients selected for sync."""
    with salesforce_client(connection) as sf:
        sources = available_sources(sf)
    cm = campaign_monitor_client(connection)
    try:
        destinations = imports.destination_lists(connection, cm)
    finally:
        cm.close()
    return Choices(sources, destinations)


def chosen(connection: Connection, source_key: str | None, list_key: str | None) -> Chosen | None:
    """The source and list with these keys and their fields, or None if either is not there."""
    available = choices(connection)
    source = next((s for s in available.sources if s.key == source_key), None)
    destination = next((d for d in available.destinations if d.key == list_key), None)
    if source is None or destination is None:
        return None
    with salesforce_client(connection) as sf:
        fields = source_fields(sf, source)
    cm = campaign_monitor_client(connection)
    try:
        cm_fields = cm.get_custom_fields(destination.list_id)
    finally:
        cm.close()
    return Chosen(source, destination, fields, cm_fields)


def preview(
    connection: Connection,
    source: ImportSource,
    mapping: dict[str, Any],
    cm_fields: list[dict[str, Any]],
) -> list[imports.PreviewRow]:
    """The source's first rows as the import would send them."""
    with salesforce_client(connection) as sf:
        return imports.preview(sf, source, mapping, cm_fields)


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
    offered = choices(connection)
    source = imports.source_of(job)
    if source.key not in {s.key for s in offered.sources}:
        raise imports.ImportRefused(SOURCE_GONE.format(source=source.description))
    destination = imports.destination_of(job)
    if destination.key not in {d.key for d in offered.destinations}:
        raise imports.ImportRefused(
            LIST_GONE.format(list_name=job.list_name, client=job.cm_client.name)
        )
    return imports.run_again(job, user)
