"""Cancelling the work of a connection whose Campaign Monitor credentials go away.

Rules this module keeps:

- Disconnect cancels first (:func:`cancel_connection_work`, inside the disconnect's
  transaction): queued and running runs with their client jobs, and queued and running imports,
  become ``CANCELLED`` with the reason (a run's error summary, a client job's last error, an
  import's error), and active standing field mappings are paused with it. One maintenance
  message (support code :data:`SUPPORT_CODE`) lists what was cancelled; with nothing active,
  none (the audit entry says who disconnected).
- A running worker finds out at its next checkpoint: before each Campaign Monitor call of a job
  and at each progress beat of a client job (:func:`watch_run`, :func:`watch_import`), at most
  once per :data:`CHECK_EVERY`. The check raises :class:`JobCancelled` when the job's row was
  cancelled or the connection no longer holds Campaign Monitor credentials.
- :class:`JobCancelled` is a ``BaseException``, as ``asyncio.CancelledError`` is: the failure
  handlers of the engine and of the import (``except Exception``) let it through to the job's
  runner, which records the job as cancelled, never as failed or as an unexpected error.
- A job that finds its credentials gone (:class:`~sync.services.api.CredentialsGone` while
  building its clients, or :class:`JobCancelled` at a checkpoint) ends at once as cancelled:
  :func:`run_stopped` and :func:`import_stopped` free the run's or the import's lease (its
  active status) and write one message saying why, unless the disconnect's message already
  covers that run or import.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from maintenance.models import Level
from maintenance.services import record_message
from sync.models import (
    ACTIVE_STATUSES,
    ClientJob,
    Connection,
    ImportJob,
    RunStatus,
    SyncRun,
)
from sync.services import api, standing

SUPPORT_CODE = "CMS-320"
# Seconds between two checks of one job (a check is a query or two).
CHECK_EVERY = 1.0
AGAIN = "Connect Campaign Monitor again, then start it again."


class JobCancelled(BaseException):  # noqa: N818 - named like asyncio.CancelledError's kin
    """The job was cancelled (its connection was disconnected); ``reason`` says so in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# What a job's runner catches to end the job as cancelled.
STOPPED = (api.CredentialsGone, JobCancelled)


def reason_of(stop: BaseException) -> str:
    """The words a cancelled job keeps (its error), for either kind of stop."""
    if isinstance(stop, JobCancelled):
        return stop.reason
    side = getattr(stop, "side", api.CAMPAIGN_MONITOR)
    if side == api.CAMPAIGN_MONITOR:
        return (
            "Campaign Monitor was disconnected (cmsync no longer holds its credentials), so "
            f"cmsync cancelled this. {AGAIN}"
        )
    return (
        f"{side} is not connected any more (cmsync holds no credentials for it), so cmsync "
        f"cancelled this. Connect {side} again, then start it again."
    )


def _disconnected_by(user) -> str:
    who = getattr(user, "username", "") or ""
    return (
        f"Campaign Monitor was disconnected by {who}"
        if who
        else "Campaign Monitor was disconnected"
    )


# Disconnect ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cancelled:
    """What a disconnect cancelled and paused."""

    runs: list[int] = field(default_factory=list)
    imports: list[int] = field(default_factory=list)
    mappings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.runs or self.imports or self.mappings)

    def describe(self) -> str:
        """E.g. "cancelled run 7 and 2 imports; paused 1 standing field mapping"."""
        cancelled = []
        if self.runs:
            ids = ", ".join(str(pk) for pk in self.runs)
            cancelled.append(f"run {ids}" if len(self.runs) == 1 else f"runs {ids}")
        if self.imports:
            cancelled.append(_count(len(self.imports), "import"))
        parts = [f"cancelled {' and '.join(cancelled)}"] if cancelled else []
        if self.mappings:
            parts.append(f"paused {_count(len(self.mappings), 'standing field mapping')}")
        return "; ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def cancel_connection_work(connection: Connection, *, user) -> Cancelled:
    """Cancel the connection's queued and running runs and imports and pause its standing
    mappings, each saying why; one maintenance message lists them. Call it in the transaction
    that removes the credentials, before removing them."""
    now = timezone.now()
    by = _disconnected_by(user)
    reason = f"{by}, so cmsync cancelled this. {AGAIN}"
    active_runs = SyncRun.objects.select_for_update().filter(
        connection=connection, status__in=ACTIVE_STATUSES
    )
    run_ids = sorted(active_runs.values_list("pk", flat=True))
    SyncRun.objects.filter(pk__in=run_ids).update(
        status=RunStatus.CANCELLED, finished_at=now, stage="Cancelled", error_summary=reason
    )
    ClientJob.objects.filter(run_id__in=run_ids, status__in=ACTIVE_STATUSES).update(
        status=RunStatus.CANCELLED, finished_at=now, last_error=reason
    )
    active_imports = ImportJob.objects.select_for_update().filter(
        connection=connection, status__in=ACTIVE_STATUSES
    )
    import_ids = sorted(active_imports.values_list("pk", flat=True))
    ImportJob.objects.filter(pk__in=import_ids).update(
        status=RunStatus.CANCELLED, finished_at=now, error=reason
    )
    paused = standing.pause_all(
        connection,
        f"{by}, so cmsync paused this mapping. Resume it once Campaign Monitor is connected again.",
    )
    cancelled = Cancelled(run_ids, import_ids, [str(m) for m in paused])
    if cancelled:
        details = [f"Run {pk}" for pk in run_ids]
        details += [f"Import {pk}" for pk in import_ids]
        details += [f"Standing field mapping: {name}" for name in cancelled.mappings]
        record_message(
            job="disconnect",
            level=Level.WARNING,
            message=f"{by}: cmsync {cancelled.describe()}.",
            details="\n".join(details),
            support_code=SUPPORT_CODE,
        )
    return cancelled


# Checkpoints ---------------------------------------------------------------------------------
class _Check:
    """Runs ``probe`` at most once per :data:`CHECK_EVERY`; raises JobCancelled with the reason
    it returns."""

    def __init__(self, probe: Callable[[], str | None]) -> None:
        self.probe = probe
        self.last = -math.inf

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last < CHECK_EVERY:
            return
        self.last = now
        reason = self.probe()
        if reason:
            raise JobCancelled(reason)


def _credentials_gone(connection_id: int) -> str | None:
    still = Connection.objects.filter(pk=connection_id, cm_connected_at__isnull=False).exists()
    return None if still else reason_of(api.CredentialsGone(api.CAMPAIGN_MONITOR))


def watch_run(run_id: int, connection_id: int) -> AbstractContextManager[None]:
    """Checkpoints of a run's work: stop when the run was cancelled or the credentials went."""

    def probe() -> str | None:
        row = SyncRun.objects.filter(pk=run_id).values_list("status", "error_summary").first()
        if row is None:
            return reason_of(api.CredentialsGone(api.CAMPAIGN_MONITOR))
        if row[0] == RunStatus.CANCELLED:
            return row[1] or reason_of(api.CredentialsGone(api.CAMPAIGN_MONITOR))
        return _credentials_gone(connection_id)

    return api.job_checkpoint(_Check(probe))


def watch_import(job_id: int) -> AbstractContextManager[None]:
    """Checkpoints of an import: stop when it was cancelled or the credentials went."""

    def probe() -> str | None:
        row = (
            ImportJob.objects.filter(pk=job_id)
            .values_list("status", "error", "connection_id")
            .first()
        )
        if row is None:
            return reason_of(api.CredentialsGone(api.CAMPAIGN_MONITOR))
        status, error, connection_id = row
        if status == RunStatus.CANCELLED:
            return error or reason_of(api.CredentialsGone(api.CAMPAIGN_MONITOR))
        return _credentials_gone(connection_id)

    return api.job_checkpoint(_Check(probe))


# A job that stopped --------------------------------------------------------------------------
def run_stopped(run_id: int, stop: BaseException) -> bool:
    """A run (or one of its client jobs) met cancellation: cancel the run and its other active
    jobs, which frees its lease, and say why once. Returns whether this call cancelled it (a
    run the disconnect cancelled already has its message)."""
    reason = reason_of(stop)
    now = timezone.now()
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status not in ACTIVE_STATUSES:
            return False
        SyncRun.objects.filter(pk=run.pk).update(
            status=RunStatus.CANCELLED, finished_at=now, stage="Cancelled", error_summary=reason
        )
        run.client_jobs.filter(status__in=ACTIVE_STATUSES).update(
            status=RunStatus.CANCELLED, finished_at=now, last_error=reason
        )
    record_message(
        job="primary sync",
        level=Level.WARNING,
        message=f"Run {run.pk} was cancelled: {reason}",
        details=str(stop),
        support_code=SUPPORT_CODE,
        run=run,
    )
    return True


def import_stopped(job_id: int, stop: BaseException) -> ImportJob:
    """An import met cancellation: end it as cancelled, which frees its lease, and say why once
    (an import the disconnect cancelled is in the disconnect's message)."""
    now = timezone.now()
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update()
            .select_related("connection", "cm_client")
            .get(pk=job_id)
        )
        disconnected = job.connection.cm_disconnected_at
        covered = disconnected is not None and job.created_at <= disconnected
        job.status, job.finished_at, job.error = RunStatus.CANCELLED, now, reason_of(stop)
        job.save(update_fields=["status", "finished_at", "error", "updated_at"])
    if not covered:
        record_message(
            job="import",
            level=Level.WARNING,
            message=f"Import {job.pk} into {job.list_name} was cancelled: {job.error}",
            details=str(stop),
            support_code=SUPPORT_CODE,
            client_name=job.cm_client.name,
        )
    return job
