"""Celery tasks of the sync: thin wrappers that load ids and call the services.

Services queue them by name through :func:`sync.services.jobs.enqueue_on_commit` and never
import this module.
"""

from __future__ import annotations

from celery import shared_task

from sync.models import Connection, RunKind, RunTrigger
from sync.services import cancellation, imports, reown, runs
from sync.services.optout import run_optout_batch
from sync.services.retention import run_retention
from sync.services.standing import run_standing_mappings


@shared_task(name="sync.tasks.primary_sync", acks_late=True)
def primary_sync(run_id: int) -> None:
    """Start a queued run and fan out one task per selected client."""
    runs.execute_run(
        run_id,
        fan_out=lambda job: sync_client.apply_async(args=[job.pk]),
    )


@shared_task(name="sync.tasks.sync_client", acks_late=True, reject_on_worker_lost=True)
def sync_client(job_id: int) -> None:
    runs.run_client_job(job_id)


@shared_task(name="sync.tasks.scheduled_primary_sync", acks_late=True)
def scheduled_primary_sync(connection_id: int) -> str:
    """Beat's entry point: queue a run unless sync is off or one is already running."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return "no such connection"
    if not connection.sync_enabled:
        return "sync is turned off"
    try:
        run, created = runs.request_run(
            connection, kind=RunKind.INCREMENTAL, trigger=RunTrigger.SCHEDULE
        )
    except runs.SyncNotReady as exc:
        return str(exc)
    return f"queued run {run.pk}" if created else f"run {run.pk} already active"


@shared_task(name="sync.tasks.sweep_stale_runs")
def sweep_stale_runs() -> int:
    """Declare lost the runs and imports whose worker died, and queue again the re-own jobs
    whose worker died (beat, every few minutes)."""
    return runs.sweep_stale_runs() + imports.sweep_stale_imports() + reown.sweep_stale_reowns()


@shared_task(name="sync.tasks.optout_batch", acks_late=True)
def optout_batch() -> int:
    """Carry Salesforce opt-outs to Campaign Monitor for every connection that wants it."""
    done = 0
    for connection in Connection.objects.all():
        report = run_optout_batch(connection)
        done += report.unsubscribed if report else 0
    return done


@shared_task(name="sync.tasks.retention_job", acks_late=True)
def retention_job(connection_id: int | None = None) -> int:
    """Delete tracking history outside the Storage setting, for one connection or every
    connected one; returns how many records were deleted."""
    connections = Connection.objects.exclude(sf_connected_at=None)
    if connection_id is not None:
        connections = connections.filter(pk=connection_id)
    return sum(run_retention(c) for c in connections if c.sf_connected)


@shared_task(name="sync.tasks.run_import", acks_late=True, reject_on_worker_lost=True)
def run_import(job_id: int) -> str:
    """Run one import-wizard job (Salesforce list view or report → Campaign Monitor list); it
    ends as cancelled when its connection loses its credentials (checked before every Campaign
    Monitor call)."""
    try:
        with cancellation.watch_import(job_id):
            return imports.execute_import(job_id).status
    except cancellation.STOPPED as stop:
        return cancellation.import_stopped(job_id, stop).status


@shared_task(name="sync.tasks.keep_mappings_in_step", acks_late=True)
def keep_mappings_in_step() -> int:
    """Start an import for each standing field mapping whose list view changed."""
    return len(run_standing_mappings())


@shared_task(name="sync.tasks.reown_client_records", acks_late=True, reject_on_worker_lost=True)
def reown_client_records(job_id: int) -> str:
    """Give a client's records in Salesforce its new Security Owner (a ``ReownJob``)."""
    return reown.execute_reown(job_id).status
