"""Re-owning a client's records when its Security Owner changes: a tracked background job.

``start_reown`` records a :class:`ReownJob` and hands it to a worker once the transaction
commits; the Sync Settings screen calls it right after ``set_security_owner``. The worker runs
``execute_reown``, which walks the client's records through ``sync.engine.reown`` and saves
``done`` / ``total`` and a heartbeat after every batch. A newer change of owner replaces a job
still running (it stops at its next batch). ``sweep_stale_reowns`` (with the other sweepers)
queues again a job whose worker stopped, up to ``MAX_ATTEMPTS`` runs, then fails it with a
message. Every run of a job only touches records the new owner does not own yet.

Records written from now on carry the new owner anyway: the writer reads the owner per batch.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from maintenance.models import Level
from maintenance.services import record_message
from sync.clients.counting import CallCounter
from sync.clients.errors import ApiError, AuthError
from sync.engine.reown import LABELS, Batch, ClientReowner, Stopped
from sync.models import ACTIVE_STATUSES, CMClient, Connection, ReownJob, RunStatus
from sync.services.api import salesforce_client
from sync.services.jobs import REOWN_CLIENT_RECORDS, enqueue_on_commit
from sync.services.runs import classify_api_error

logger = logging.getLogger(__name__)

JOB_NAME = "re-own records"
LEASE = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 3
BATCH = 10_000  # records per query and per Bulk API 2.0 job
REPLACED = "Replaced by a later change of Security Owner."
LOST = "Its worker stopped repeatedly; saving the Security Owner again resumes it."


class ReownRefused(Exception):
    """The job cannot start; the message says why."""


def start_reown(cm_client: CMClient, owner_id: str, user=None, *, enqueue: bool = True) -> ReownJob:
    """Record a job that gives the client's records in Salesforce to ``owner_id`` and queue it
    after commit. An unfinished job of the same client is replaced."""
    connection = cm_client.connection
    if not connection.sf_connected:
        raise ReownRefused("Connect Salesforce first.")
    owner_id = owner_id or cm_client.owner_id
    if not owner_id:
        raise ReownRefused("Choose a Salesforce user to own the records.")
    owner_name = ""
    if owner_id == cm_client.security_owner_id:
        owner_name = cm_client.security_owner_name
    elif owner_id == connection.sf_sync_user_id:
        owner_name = connection.sf_sync_user_name
    with transaction.atomic():
        ReownJob.objects.filter(cm_client=cm_client, status__in=ACTIVE_STATUSES).update(
            status=RunStatus.FAILED, error=REPLACED, finished_at=timezone.now()
        )
        job = ReownJob.objects.create(
            connection=connection,
            cm_client=cm_client,
            owner_id=owner_id,
            owner_name=owner_name,
            requested_by=user if getattr(user, "is_authenticated", False) else None,
            heartbeat_at=timezone.now(),
        )
        if enqueue:
            enqueue_on_commit(REOWN_CLIENT_RECORDS, job.pk)
    return job


def latest_reown_jobs(connection: Connection) -> dict[int, ReownJob]:
    """The newest re-own job of each client of the connection (by CMClient pk), for the
    clients table of Sync Settings (``job.summary``, ``job.percent``, ``job.is_active``)."""
    latest: dict[int, ReownJob] = {}
    for job in ReownJob.objects.filter(connection=connection).order_by("-created_at", "-pk"):
        latest.setdefault(job.cm_client_id, job)
    return latest


def attach_reown_jobs(clients: list[CMClient]) -> list[CMClient]:
    """Set ``client.reown_job`` (the newest job, or None) on each client; returns the list."""
    jobs: dict[int, ReownJob] = {}
    if clients:
        jobs = latest_reown_jobs(clients[0].connection)
    for client in clients:
        client.reown_job = jobs.get(client.pk)
    return clients


# Running ---------------------------------------------------------------------------------------
def execute_reown(job_id: int) -> ReownJob:
    """Run one job to the end (a Celery task body; safe to run again)."""
    job = ReownJob.objects.select_related("connection", "cm_client").get(pk=job_id)
    if not _claim(job):
        return job
    calls = CallCounter()
    sf = salesforce_client(job.connection, calls)
    progress = _Progress(job, calls)
    reowner = ClientReowner(
        sf, job.cm_client.cm_client_id, job.owner_id, on_batch=progress.batch, batch_size=BATCH
    )
    try:
        remaining = reowner.remaining()
        progress.counted(sum(remaining.values()))
        reowner.run(remaining)
        progress.save(stage="Finished")
    except Stopped:
        pass  # replaced by a newer job: what was done stands
    except ApiError as exc:
        progress.save(stage="Stopped")
        _fail(job, exc)
    except Exception as exc:  # noqa: BLE001 - a defect must not leave the job running
        logger.exception("re-own job %s failed", job.pk)
        _fail(job, exc)
    else:
        _finish(job)
    finally:
        sf.close()
    job.refresh_from_db()
    return job


def _claim(job: ReownJob) -> bool:
    """Mark a queued job running. A running one belongs to a worker (a duplicate delivery, or
    a dead worker's job, which the sweeper queues again once its heartbeat is stale)."""
    now = timezone.now()
    claimed = ReownJob.objects.filter(pk=job.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        started_at=job.started_at or now,
        heartbeat_at=now,
        attempts=job.attempts + 1,
        error="",
        support_code="",
    )
    job.refresh_from_db()
    return bool(claimed)


class _Progress:
    def __init__(self, job: ReownJob, calls: CallCounter) -> None:
        self.job = job
        self.calls = calls
        self.sf_calls_before = job.sf_calls
        self.samples: list[str] = []

    def counted(self, remaining: int) -> None:
        # A resumed job keeps what earlier attempts did.
        self.job.total = self.job.done + self.job.failed + remaining
        self.save(stage="Re-owning records")

    def batch(self, batch: Batch) -> bool:
        job = self.job
        job.done += batch.succeeded
        job.failed += batch.failed
        job.total = max(job.total or 0, job.done + job.failed)
        self.samples.extend(batch.samples[: 20 - len(self.samples)])
        return self.save(stage=f"Re-owning {LABELS.get(batch.sobject, batch.sobject)}")

    def save(self, *, stage: str) -> bool:
        """Save progress and heartbeat; False when the job was replaced meanwhile."""
        job = self.job
        job.stage = stage[:200]
        job.sf_calls = self.sf_calls_before + self.calls.total
        job.heartbeat_at = timezone.now()
        return bool(
            ReownJob.objects.filter(pk=job.pk, status=RunStatus.RUNNING).update(
                stage=job.stage,
                total=job.total,
                done=job.done,
                failed=job.failed,
                sf_calls=job.sf_calls,
                heartbeat_at=job.heartbeat_at,
            )
        )


def _finish(job: ReownJob) -> None:
    job.refresh_from_db()
    if job.status != RunStatus.RUNNING:
        return  # replaced while finishing
    job.status = RunStatus.PARTLY_FAILED if job.failed else RunStatus.SUCCEEDED
    job.finished_at = timezone.now()
    job.stage = "Finished"
    if job.failed:
        job.support_code = "CMS-220"
        job.error = f"Salesforce refused {job.failed} record(s)."
    job.save()
    if job.failed:
        record_message(
            job=JOB_NAME,
            message=f"Salesforce refused to re-own {job.failed} record(s) of "
            f"{job.cm_client.name}; {job.done} now belong to {job.owner_name or job.owner_id}.",
            level=Level.WARNING,
            support_code="CMS-220",
            client_name=job.cm_client.name,
        )


def _fail(job: ReownJob, exc: Exception) -> None:
    if isinstance(exc, ApiError):
        code, words = classify_api_error(exc, salesforce=True)
        details = str(exc)
        if isinstance(exc, AuthError):
            Connection.objects.filter(pk=job.connection_id).update(sf_needs_reconnect=True)
    else:
        code, words = "CMS-900", f"Unexpected error ({type(exc).__name__})."
        details = type(exc).__name__
    updated = ReownJob.objects.filter(pk=job.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=words[:1000],
        support_code=code,
        heartbeat_at=timezone.now(),
    )
    job.refresh_from_db()
    if not updated:
        return
    record_message(
        job=JOB_NAME,
        message=f"Re-owning the records of {job.cm_client.name} stopped after {job.done} of "
        f"{job.total or '?'}: {words} Saving the Security Owner again resumes it.",
        details=details,
        support_code=code,
        client_name=job.cm_client.name,
    )


def sweep_stale_reowns(now: dt.datetime | None = None) -> int:
    """Queue again the jobs whose worker stopped heart-beating (or that no worker took);
    fail those out of attempts. Returns how many were handled."""
    now = now or timezone.now()
    stale = list(
        ReownJob.objects.select_related("cm_client").filter(
            status__in=ACTIVE_STATUSES, heartbeat_at__lt=now - LEASE
        )
    )
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = RunStatus.FAILED, now
            job.error, job.support_code = LOST, "CMS-300"
            job.save(update_fields=["status", "finished_at", "error", "support_code"])
            record_message(
                job=JOB_NAME,
                message=f"Re-owning the records of {job.cm_client.name} was interrupted "
                f"{job.attempts} times and stopped after {job.done} of {job.total or '?'}.",
                support_code="CMS-300",
                client_name=job.cm_client.name,
            )
            continue
        with transaction.atomic():
            job.status, job.heartbeat_at = RunStatus.QUEUED, now
            job.save(update_fields=["status", "heartbeat_at"])
            enqueue_on_commit(REOWN_CLIENT_RECORDS, job.pk)
    return len(stale)
