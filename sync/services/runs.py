"""Sync runs: one at a time per connection, fanned out per client, resumable, accounted.

The lock is the run row itself: a queued or running run whose heartbeat is fresher than
``LEASE`` blocks a second one. A killed worker stops heart-beating, so its run is declared lost
after the lease (by the sweeper or by the next request) and the next run resumes from the cursors.

A run whose connection loses its Campaign Monitor credentials is cancelled, not failed: the
rules are :mod:`sync.services.cancellation`'s. Its jobs stop at their next checkpoint, a job
that finds the credentials gone ends it at once (freeing the lock), and the calls and records
its jobs made still add up on the run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable

from django.db import transaction
from django.db.models import Avg, F
from django.utils import timezone

from maintenance.models import Level
from maintenance.services import batch_size_for, record_message
from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.counting import CallCounter
from sync.clients.errors import ApiError, AuthError, RequestLimitExceeded
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT_OBJECT,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
)
from sync.engine.client_sync import ClientSync
from sync.engine.people import PeopleRelinker, RelinkReport, changes_since
from sync.engine.writer import SalesforceFailure, SalesforceWriter
from sync.models import (
    ACTIVE_STATUSES,
    ClientJob,
    Connection,
    FullSyncState,
    RunKind,
    RunStatus,
    RunTrigger,
    SyncCursor,
    SyncedRecord,
    SyncRun,
)
from sync.services import cancellation
from sync.services.api import (
    CredentialsGone,
    campaign_monitor_client,
    check_credentials,
    checkpoint,
    salesforce_client,
)
from sync.services.jobs import PRIMARY_SYNC, enqueue_on_commit

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=10)
PROGRESS_EVERY = dt.timedelta(seconds=2)
OWNED_OBJECTS = (
    TRACKING_OBJECT,
    SUBSCRIBER_OBJECT,
    CAMPAIGN_OBJECT,
    LIST_OBJECT,
    SUPPRESSION_OBJECT,
    CLIENT_OBJECT,
)


class SyncNotReady(Exception):
    """The connection cannot sync yet; the message says what is missing."""


# Starting runs --------------------------------------------------------------------------------
def request_run(
    connection: Connection,
    *,
    kind: str = RunKind.INCREMENTAL,
    trigger: str = RunTrigger.MANUAL,
    user=None,
    enqueue: bool = True,
    only_client: str | None = None,
) -> tuple[SyncRun, bool]:
    """Queue a run unless one is active; returns (run, created)."""
    if not connection.cm_connected or not connection.sf_connected:
        raise SyncNotReady("Connect both Campaign Monitor and Salesforce first.")
    if not connection.clients.filter(selected=True).exists():
        raise SyncNotReady("Select at least one Campaign Monitor client to sync.")
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        active = _active_run(locked)
        if active is not None:
            return active, False
        if kind == RunKind.FULL and locked.full_sync_state == FullSyncState.NONE:
            locked.full_sync_state = FullSyncState.DELETING
            locked.save(update_fields=["full_sync_state", "updated_at"])
        if locked.full_sync_state != FullSyncState.NONE:
            kind = RunKind.FULL  # an unfinished full sync continues where it stopped
        run = SyncRun.objects.create(
            connection=locked,
            kind=kind,
            trigger=trigger,
            requested_by=user,
            heartbeat_at=timezone.now(),
            only_client=locked.clients.filter(cm_client_id=only_client, selected=True).first()
            if only_client and kind == RunKind.INCREMENTAL
            else None,
        )
        if enqueue:
            enqueue_on_commit(PRIMARY_SYNC, run.pk)
    return run, True


def _active_run(connection: Connection) -> SyncRun | None:
    active = connection.runs.filter(status__in=ACTIVE_STATUSES).order_by("-created_at").first()
    if active is None:
        return None
    if timezone.now() - active.heartbeat_at > LEASE:
        _declare_lost(active)
        return None
    return active


def _declare_lost(run: SyncRun) -> None:
    run.status = RunStatus.FAILED
    run.finished_at = timezone.now()
    run.error_summary = (run.error_summary + "\nThe worker stopped without finishing.").strip()
    run.save(update_fields=["status", "finished_at", "error_summary"])
    run.client_jobs.filter(status__in=ACTIVE_STATUSES).update(
        status=RunStatus.FAILED, last_error="worker lost", finished_at=timezone.now()
    )
    record_message(
        job="primary sync",
        message=f"Run {run.pk} was interrupted; the next run resumes where it stopped.",
        level=Level.WARNING,
        support_code="CMS-300",
        run=run,
    )


def sweep_stale_runs() -> int:
    """Free the lock of runs whose worker died; returns how many were declared lost."""
    cutoff = timezone.now() - LEASE
    stale = list(SyncRun.objects.filter(status__in=ACTIVE_STATUSES, heartbeat_at__lt=cutoff))
    for run in stale:
        _declare_lost(run)
    return len(stale)


# Executing runs -------------------------------------------------------------------------------
def execute_run(run_id: int, fan_out: Callable[[ClientJob], None]) -> None:
    """Start a queued run: purge first for a full sync, then one job per selected client."""
    run = SyncRun.objects.select_related("connection").get(pk=run_id)
    if run.status not in ACTIVE_STATUSES:
        return
    connection = run.connection
    started = SyncRun.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES).update(
        status=RunStatus.RUNNING,
        started_at=run.started_at or timezone.now(),
        stage="Starting",
        heartbeat_at=timezone.now(),
    )
    if not started:
        return  # cancelled meanwhile
    run.refresh_from_db()
    try:
        with cancellation.watch_run(run.pk, connection.pk):
            check_credentials(connection)  # a full sync must not purge what it cannot re-import
            checkpoint()
            if connection.full_sync_state == FullSyncState.DELETING:
                try:
                    _purge_owned_records(run)
                except ApiError as exc:
                    _fail_run(run, exc, salesforce=True)
                    return
            if run.kind == RunKind.INCREMENTAL:
                relink_people(run)
            checkpoint()
    except cancellation.STOPPED as stop:
        cancellation.run_stopped(run.pk, stop)
        return
    clients = connection.clients.filter(selected=True)
    if run.only_client_id:
        clients = clients.filter(pk=run.only_client_id)
    jobs = [ClientJob.objects.get_or_create(run=run, cm_client=client)[0] for client in clients]
    for job in jobs:
        if job.status in ACTIVE_STATUSES:
            fan_out(job)
    finish_run_if_done(run.pk)


def _purge_owned_records(run: SyncRun) -> None:
    """Delete every record of cmsync's own objects (never Contacts, Leads or Campaigns)."""
    connection = run.connection
    calls = CallCounter()
    sf = salesforce_client(connection, calls)
    try:
        for index, sobject in enumerate(OWNED_OBJECTS):
            checkpoint()
            _mark(
                run,
                stage=f"Removing cmsync records: {sobject}",
                percent=index * 10 // len(OWNED_OBJECTS),
            )
            ids = (row["Id"] for row in sf.query_iter(f"SELECT Id FROM {sobject}"))
            sf.hard_delete(sobject, ids)
    finally:
        _add_calls(run, sf_calls=calls)
        sf.close()
    with transaction.atomic():
        SyncedRecord.objects.filter(connection=connection).delete()
        SyncCursor.objects.filter(cm_client__connection=connection).delete()
        Connection.objects.filter(pk=connection.pk).update(full_sync_state=FullSyncState.IMPORTING)
    connection.full_sync_state = FullSyncState.IMPORTING


def relink_people(run: SyncRun) -> None:
    """Carry Contacts and Leads created, changed or converted since the people cursor into the
    links of rows written earlier (``sync.engine.people``); once per run, before the clients.

    It never stops the run: a failure leaves the cursor where it was, so the next run reads the
    same changes again.
    """
    connection = run.connection
    since = changes_since(connection)
    if since is None:
        return  # nothing linked to people has been written yet
    _mark(run, stage="Linking new and converted Contacts and Leads")
    calls = CallCounter()
    sf = salesforce_client(connection, calls)
    try:
        report = PeopleRelinker(sf, connection).run(since, connection.people_cursor_seen)
    except ApiError as exc:
        code, words = classify_api_error(exc, salesforce=True)
        record_message(
            job="primary sync",
            message=f"Links to new or converted Contacts and Leads wait for the next run: {words}",
            details=str(exc),
            level=Level.WARNING,
            support_code=code,
            run=run,
        )
        return
    except Exception as exc:  # noqa: BLE001 - a defect here must not stop the clients' sync
        logger.exception("relinking people failed in run %s", run.pk)
        record_message(
            job="primary sync",
            message="Links to new or converted Contacts and Leads could not be updated.",
            details=f"{type(exc).__name__} in run {run.pk}",
            support_code="CMS-900",
            run=run,
        )
        return
    finally:
        _add_calls(run, sf_calls=calls)
        sf.close()
    _record_relink(run, report)


def _record_relink(run: SyncRun, report: RelinkReport) -> None:
    if report.relinked:
        SyncRun.objects.filter(pk=run.pk).update(records_written=dict(report.relinked))
        run.records_written = dict(report.relinked)
        record_message(
            job="primary sync",
            message=f"{report.total_relinked} record(s) now link to Contacts or Leads that were "
            "created, changed or converted in Salesforce.",
            level=Level.INFO,
            run=run,
        )
    if report.failed:
        record_message(
            job="primary sync",
            message=f"Salesforce refused {report.failed} link update(s); the next run tries again.",
            details="\n".join(report.samples),
            level=Level.WARNING,
            support_code="CMS-220",
            run=run,
        )
    elif report.cursor is not None:
        Connection.objects.filter(pk=run.connection_id).update(
            people_cursor=report.cursor, people_cursor_seen=report.seen
        )
    if report.relinked and report.duplicates:
        lines = [
            f"{d.email}: {d.sobject} {d.chosen_id} chosen among {', '.join(d.candidate_ids)}"
            for d in report.duplicates[:50]
        ]
        record_message(
            job="primary sync",
            message=f"{len(report.duplicates)} e-mail address(es) match several Salesforce "
            "records; the most recently modified was linked.",
            details="\n".join(lines),
            level=Level.INFO,
            support_code="CMS-310",
            run=run,
        )


def run_client_job(job_id: int) -> None:
    """Sync one client for one run (a Celery task body; safe to run again after a crash)."""
    job = ClientJob.objects.select_related("run__connection", "cm_client__connection").get(
        pk=job_id
    )
    if job.status not in ACTIVE_STATUSES:
        return
    run = job.run
    now = timezone.now()
    started = ClientJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
        status=RunStatus.RUNNING, attempts=F("attempts") + 1, started_at=now
    )
    if not started:
        return  # cancelled meanwhile
    job.status, job.attempts, job.started_at = RunStatus.RUNNING, job.attempts + 1, now
    cm_calls, sf_calls = CallCounter(), CallCounter()
    connection = run.connection
    try:
        cm, sf = _open_clients(connection, cm_calls, sf_calls)
    except CredentialsGone as gone:
        _job_stopped(job, gone)
        return
    progress = _JobProgress(job)
    batch = batch_size_for("full_sync" if run.kind == RunKind.FULL else "primary_sync")
    writer = SalesforceWriter(sf, run, job.cm_client, batch_size=batch, on_flush=progress.beat)
    stopped: BaseException | None = None
    try:
        with cancellation.watch_run(run.pk, connection.pk):
            ClientSync(cm, writer, job.cm_client, progress).run()
        job.status = RunStatus.PARTLY_FAILED if writer.rejected else RunStatus.SUCCEEDED
        job.cm_client.last_synced_at = timezone.now()
        job.cm_client.connection_active = True
        job.cm_client.save(update_fields=["last_synced_at", "connection_active"])
    except cancellation.STOPPED as stop:
        # Cancelled: nothing more is read or written (rows read since the last flush are read
        # again next time: their cursors did not move).
        stopped = stop
        job.status, job.last_error = RunStatus.CANCELLED, cancellation.reason_of(stop)[:1000]
    except SalesforceFailure as failure:
        _job_failed(job, failure.error, salesforce=True)
    except ApiError as exc:
        _save_what_was_read(writer)
        _job_failed(job, exc, salesforce=False)
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the run hanging
        logger.exception("client job %s failed", job.pk)
        job.status = RunStatus.FAILED
        job.last_error = f"Unexpected {type(exc).__name__}"
        record_message(
            job="primary sync",
            message=f"Unexpected error while syncing client {job.cm_client.name}.",
            details=f"{type(exc).__name__} in run {run.pk}",
            support_code="CMS-900",
            client_name=job.cm_client.name,
            run=run,
        )
    finally:
        cm.close()
        sf.close()
    _report_duplicates(job, writer)
    job.records_written = dict(writer.written)
    job.rejected_count = writer.rejected
    job.cm_calls, job.sf_calls = cm_calls.total, sf_calls.total
    job.sf_write_calls = count_write_calls(sf_calls)
    job.percent = 100 if job.status not in (RunStatus.FAILED, RunStatus.CANCELLED) else job.percent
    job.finished_at = timezone.now()
    job.save()
    if stopped is not None:
        cancellation.run_stopped(run.pk, stopped)
    _add_to_cancelled_run(job)
    finish_run_if_done(run.pk)


def _open_clients(
    connection: Connection, cm_calls: CallCounter, sf_calls: CallCounter
) -> tuple[CampaignMonitorClient, SalesforceClient]:
    cm = campaign_monitor_client(connection, cm_calls)
    try:
        return cm, salesforce_client(connection, sf_calls)
    except BaseException:
        cm.close()
        raise


def _job_stopped(job: ClientJob, stop: BaseException) -> None:
    """The job found its credentials gone before starting: it and its run end cancelled."""
    ClientJob.objects.filter(pk=job.pk).update(
        status=RunStatus.CANCELLED,
        finished_at=timezone.now(),
        last_error=cancellation.reason_of(stop)[:1000],
    )
    cancellation.run_stopped(job.run_id, stop)


def _add_to_cancelled_run(job: ClientJob) -> None:
    """A job of a cancelled run stopped (or finished): its calls and records count on the run,
    which ``finish_run_if_done`` no longer totals."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=job.run_id)
        if run.status != RunStatus.CANCELLED:
            return
        written: Counter[str] = Counter(run.records_written)
        written.update(job.records_written)
        run.records_written = dict(written)
        run.rejected_count += job.rejected_count
        run.cm_calls += job.cm_calls
        run.sf_calls += job.sf_calls
        run.sf_write_calls += job.sf_write_calls
        run.save(
            update_fields=[
                "records_written",
                "rejected_count",
                "cm_calls",
                "sf_calls",
                "sf_write_calls",
            ]
        )


def _save_what_was_read(writer: SalesforceWriter) -> None:
    """Campaign Monitor failed mid-way: write what was already read, so its cursors advance."""
    try:
        writer.flush()
    except SalesforceFailure:
        logger.warning("could not save rows read before a Campaign Monitor failure")


def count_write_calls(calls: CallCounter) -> int:
    """Salesforce calls that write: collections, single-record writes and Bulk 2.0 ingest."""
    total = 0
    for endpoint, count in calls.by_endpoint().items():
        if endpoint.startswith("bulk2.ingest") or (
            endpoint.startswith(("composite.sobjects.", "sobjects."))
            and endpoint.rsplit(".", 1)[-1] in {"create", "update", "upsert", "delete"}
        ):
            total += count
    return total


def _job_failed(job: ClientJob, exc: ApiError, *, salesforce: bool) -> None:
    job.status = RunStatus.FAILED
    job.last_error = str(exc)[:1000]
    connection = job.run.connection
    code, message = _classify(exc, salesforce)
    if isinstance(exc, AuthError):
        field = "sf_needs_reconnect" if salesforce else "cm_needs_reconnect"
        Connection.objects.filter(pk=connection.pk).update(**{field: True})
        if not salesforce:
            job.cm_client.connection_active = False
            job.cm_client.save(update_fields=["connection_active"])
    record_message(
        job="primary sync",
        message=message,
        details=str(exc),
        support_code=code,
        client_name=job.cm_client.name,
        run=job.run,
    )


def _classify(exc: ApiError, salesforce: bool) -> tuple[str, str]:
    code, words = classify_api_error(exc, salesforce)
    if code in ("CMS-230", "CMS-110"):
        words += " The next run retries."
    elif code == "CMS-210":
        words += " The run stopped to spare calls."
    return code, words


def classify_api_error(
    exc: ApiError, salesforce: bool, *, refused_code: str = "CMS-900"
) -> tuple[str, str]:
    """The support code of an API failure and what happened in words (no advice: callers add
    what their job does next). ``refused_code`` is for a request the service refused."""
    side = "Salesforce" if salesforce else "Campaign Monitor"
    if isinstance(exc, CredentialsGone):
        return cancellation.SUPPORT_CODE, f"{exc.side} is not connected any more."
    if isinstance(exc, RequestLimitExceeded):
        return "CMS-210", "Salesforce's daily API limit is reached."
    if isinstance(exc, AuthError):
        return ("CMS-200" if salesforce else "CMS-100"), f"{side} rejected cmsync's credentials."
    if exc.status and 400 <= exc.status < 500 and exc.status != 429:
        return refused_code, f"{side} refused a request: {exc.message}"
    return ("CMS-230" if salesforce else "CMS-110"), f"{side} is unavailable."


def _fail_run(run: SyncRun, exc: ApiError, *, salesforce: bool) -> None:
    if not SyncRun.objects.filter(pk=run.pk, status__in=ACTIVE_STATUSES).exists():
        return  # cancelled meanwhile: that says why it stopped
    code, message = _classify(exc, salesforce)
    record_message(job="full sync", message=message, details=str(exc), support_code=code, run=run)
    if isinstance(exc, AuthError):
        Connection.objects.filter(pk=run.connection_id).update(sf_needs_reconnect=True)
    _mark(run, status=RunStatus.FAILED, finished_at=timezone.now(), error_summary=message)


def finish_run_if_done(run_id: int) -> None:
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status not in ACTIVE_STATUSES:
            return
        jobs = list(run.client_jobs.all())
        if any(job.status in ACTIVE_STATUSES for job in jobs):
            return
        written: Counter[str] = Counter(run.records_written)  # the people links, if any
        for job in jobs:
            written.update(job.records_written)
        run.records_written = dict(written)
        run.rejected_count = sum(job.rejected_count for job in jobs)
        run.cm_calls += sum(job.cm_calls for job in jobs)
        run.sf_calls += sum(job.sf_calls for job in jobs)
        run.sf_write_calls += sum(job.sf_write_calls for job in jobs)
        run.status = _overall_status(jobs)
        run.error_summary = "\n".join(
            f"{job.cm_client.name}: {job.last_error}" for job in jobs if job.last_error
        )
        run.finished_at = timezone.now()
        run.percent = 100
        run.stage = "Finished"
        run.save()
        if run.kind == RunKind.FULL and not any(job.status == RunStatus.FAILED for job in jobs):
            Connection.objects.filter(pk=run.connection_id).update(
                full_sync_state=FullSyncState.NONE
            )
    if run.rejected_count:
        record_message(
            job="primary sync",
            message=f"Salesforce rejected {run.rejected_count} record(s); the rest landed.",
            details=_rejection_details(run),
            level=Level.WARNING,
            support_code="CMS-220",
            run=run,
        )


def _overall_status(jobs: list[ClientJob]) -> str:
    if not jobs:
        return RunStatus.SUCCEEDED
    if any(job.status == RunStatus.CANCELLED for job in jobs):
        return RunStatus.CANCELLED
    failed = sum(job.status == RunStatus.FAILED for job in jobs)
    if failed == len(jobs):
        return RunStatus.FAILED
    if failed or any(job.status == RunStatus.PARTLY_FAILED for job in jobs):
        return RunStatus.PARTLY_FAILED
    return RunStatus.SUCCEEDED


def _rejection_details(run: SyncRun) -> str:
    lines = [
        f"{r.sobject} {r.cm_key}: {r.error_code} {r.message}" for r in run.rejections.all()[:20]
    ]
    more = run.rejected_count - len(lines)
    if more > 0:
        lines.append(f"… and {more} more on the run's detail page")
    return "\n".join(lines)


def _report_duplicates(job: ClientJob, writer: SalesforceWriter) -> None:
    duplicates = writer.matcher.duplicates
    if not duplicates:
        return
    lines = [
        f"{d.email}: {d.sobject} {d.chosen_id} chosen among {', '.join(d.candidate_ids)}"
        for d in duplicates[:50]
    ]
    record_message(
        job="primary sync",
        message=f"{len(duplicates)} e-mail address(es) match several Salesforce records; "
        "the most recently modified was linked.",
        details="\n".join(lines),
        level=Level.INFO,
        support_code="CMS-310",
        client_name=job.cm_client.name,
        run=job.run,
    )


# Progress and accounting ----------------------------------------------------------------------
def _mark(run: SyncRun, **fields) -> None:
    fields.setdefault("heartbeat_at", timezone.now())
    for name, value in fields.items():
        setattr(run, name, value)
    SyncRun.objects.filter(pk=run.pk).update(**fields)


def _add_calls(run: SyncRun, *, sf_calls: CallCounter) -> None:
    SyncRun.objects.filter(pk=run.pk).update(
        sf_calls=run.sf_calls + sf_calls.total,
        sf_write_calls=run.sf_write_calls + count_write_calls(sf_calls),
    )
    run.refresh_from_db(fields=["sf_calls", "sf_write_calls"])


class _JobProgress:
    """Stage and percent of a client job, written at most every ``PROGRESS_EVERY``."""

    def __init__(self, job: ClientJob) -> None:
        self.job = job
        self._last = timezone.now() - PROGRESS_EVERY

    def __call__(self, stage: str, percent: int) -> None:
        self.job.stage, self.job.percent = stage[:200], max(0, min(percent, 100))
        self.beat(force=percent >= 100)

    def beat(self, force: bool = False) -> None:
        checkpoint()  # a cancelled job stops here too, even between Campaign Monitor calls
        now = timezone.now()
        if not force and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        ClientJob.objects.filter(pk=self.job.pk).update(
            stage=self.job.stage, percent=self.job.percent
        )
        run = self.job.run
        average = run.client_jobs.aggregate(p=Avg("percent"))["p"] or 0
        SyncRun.objects.filter(pk=run.pk).update(
            heartbeat_at=now,
            stage=f"{self.job.cm_client.name}: {self.job.stage}"[:200],
            percent=int(average),
        )


# Running in this process (CLI, benchmarks, tests) -------------------------------------------------
def run_inline(
    connection: Connection,
    *,
    kind: str = RunKind.INCREMENTAL,
    trigger: str = RunTrigger.CLI,
    only_client: str | None = None,
) -> SyncRun:
    """Request a run and execute it here, client after client, without a Celery worker."""
    run, created = request_run(
        connection, kind=kind, trigger=trigger, enqueue=False, only_client=only_client
    )
    if not created:
        return run
    execute_run(run.pk, fan_out=lambda job: run_client_job(job.pk))
    run.refresh_from_db()
    return run
