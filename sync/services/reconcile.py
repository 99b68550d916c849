"""Reconcile a connection: its selected CM clients, record by record, against Salesforce.

Read-only on both sides (nothing is written, no cursor moves), so it can run beside the sync;
records written by a run still in progress may show as missing until it ends. The comparison
rules are in :mod:`sync.engine.reconcile`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from sync.clients.counting import CallCounter
from sync.engine.reconcile import (
    DEFAULT_SAMPLES,
    ParkedRecord,
    Reconciler,
    Reconciliation,
    client_zone,
)
from sync.models import CMClient, Connection, RecordRejection, SyncOptions
from sync.services.api import campaign_monitor_client, salesforce_client

# The support code a run's message gives records Salesforce refused (see runs.finish_run_if_done).
REJECTION_SUPPORT_CODE = "CMS-220"


def reconcile_connection(
    connection: Connection,
    *,
    sample_size: int = DEFAULT_SAMPLES,
    now: dt.datetime | None = None,
) -> Reconciliation:
    """Compare what CM says Salesforce should hold with what it holds (see the engine module).

    Raises :class:`sync.clients.errors.ApiError` when either service cannot be read.
    """
    options = SyncOptions.for_connection(connection)
    clients = list(connection.clients.filter(selected=True).order_by("name"))
    cm_calls, sf_calls = CallCounter(), CallCounter()
    cm = campaign_monitor_client(connection, cm_calls)
    sf = salesforce_client(connection, sf_calls)
    try:
        with Reconciler(
            cm, sf, options, now=now or timezone.now(), sample_size=sample_size
        ) as reconciler:
            for client in clients:
                zone = client_zone(cm, client.cm_client_id, client.cm_time_zone)
                reconciler.read_campaign_monitor(client.cm_client_id, client.name, zone)
            reconciler.read_salesforce()
            result = reconciler.compare(_parked(clients))
    finally:
        cm.close()
        sf.close()
    result.cm_calls, result.sf_calls = cm_calls.total, sf_calls.total
    return result


def _parked(clients: list[CMClient]) -> Iterator[ParkedRecord]:
    """Open rejections of these clients, newest first for each record."""
    rows = (
        RecordRejection.objects.filter(cm_client__in=clients, resolved_at__isnull=True)
        .order_by("sobject", "cm_key", "-pk")
        .values_list("sobject", "cm_key", "error_code", "message", "run_id")
    )
    for sobject, key, code, message, run_id in rows.iterator():
        yield ParkedRecord(
            sobject=sobject,
            key=key,
            error_code=code,
            message=message[:300],
            support_code=REJECTION_SUPPORT_CODE,
            run_id=run_id,
        )
