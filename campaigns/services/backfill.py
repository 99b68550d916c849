"""The backfill: auto-create and link Salesforce Campaigns for campaigns synced before.

The screen shows how many campaigns it would touch first (:func:`backfill_count`); starting it
makes a :class:`BackfillJob` row (the lock: one active job per connection, and the progress the
screen shows) and queues ``campaigns.tasks.backfill_campaigns`` once the row is committed. The job
works in batches: create (upsert) the Campaigns, link them, write the link onto their
``CMS_Campaign__c`` records, and add the recipients as CampaignMembers; progress is saved after
every batch. A campaign someone unlinked by hand is left alone, and running it again only touches
campaigns still without a link, so a job that died is simply started again.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.engine import autocreate, links, members, statistics
from campaigns.engine.hooks import refresh_members, report_refused
from campaigns.models import BackfillJob, SyncedCampaign
from maintenance.models import Level
from maintenance.services import record_changes, record_message
from sync.clients.counting import CallCounter
from sync.clients.errors import ApiError
from sync.engine.matcher import ContactMatcher
from sync.models import ACTIVE_STATUSES, Connection, RunStatus
from sync.services.api import campaign_monitor_client, salesforce_client
from sync.services.jobs import enqueue_on_commit
from sync.services.runs import classify_api_error

BACKFILL_TASK = "campaigns.tasks.backfill_campaigns"
AUDIT_AREA = "Salesforce Campaigns"
BATCH = 50
LEASE = dt.timedelta(minutes=10)


class BackfillRefused(Exception):
    """The backfill cannot start; the message says why."""


def candidates(connection: Connection) -> QuerySet[SyncedCampaign]:
    """Sent campaigns synced so far that were never linked (unlinked ones stay unlinked)."""
    return SyncedCampaign.objects.filter(
        connection=connection, link__isnull=True, sent_at__isnull=False
    ).order_by("sent_at", "pk")


def backfill_count(connection: Connection) -> int:
    return candidates(connection).count()


def latest_job(connection: Connection) -> BackfillJob | None:
    return BackfillJob.objects.filter(connection=connection).first()


def request_backfill(connection: Connection, user) -> BackfillJob:
    if not connection.both_connected:
        raise BackfillRefused("Connect Campaign Monitor and Salesforce first.")
    with transaction.atomic():
        Connection.objects.select_for_update().get(pk=connection.pk)
        active = BackfillJob.objects.filter(connection=connection, status__in=ACTIVE_STATUSES)
        running = active.first()
        if running is not None and timezone.now() - running.heartbeat_at < LEASE:
            raise BackfillRefused("A backfill is already running.")
        active.update(status=RunStatus.FAILED, error="The worker stopped without finishing.")
        count = backfill_count(connection)
        if not count:
            raise BackfillRefused("Every synced campaign already has a Salesforce Campaign.")
        job = BackfillJob.objects.create(
            connection=connection,
            requested_by=user if getattr(user, "is_authenticated", False) else None,
            total=count,
        )
        record_changes(
            user=user,
            area=AUDIT_AREA,
            changes={"Backfill of Salesforce Campaigns": ("", f"started for {count} campaign(s)")},
        )
        enqueue_on_commit(BACKFILL_TASK, job.pk)
    return job


def execute_backfill(job_id: int) -> BackfillJob:
    job = BackfillJob.objects.select_related("connection").get(pk=job_id)
    if job.status not in ACTIVE_STATUSES:
        return job
    connection = job.connection
    job.status, job.started_at = RunStatus.RUNNING, timezone.now()
    job.total = backfill_count(connection)
    _save(job, "status", "started_at", "total")
    calls = CallCounter()
    try:
        sf = salesforce_client(connection, calls)
        cm = campaign_monitor_client(connection, calls)
    except ApiError as exc:
        return _fail(job, exc)
    try:
        writable = statistics.updateable_fields(sf)
        matcher = ContactMatcher(sf)
        start = members.newest_change(sf)
        refused_ids: list[int] = []  # left for a later run: asked once per job
        while True:
            batch = list(candidates(connection).exclude(pk__in=refused_ids)[:BATCH])
            if not batch:
                break
            created = autocreate.create_and_link(sf, batch, writable)
            for link in created.links:
                links.write_link_now(sf, link.campaign.cm_campaign_id, link.sf_campaign_id)
                result = refresh_members(cm, sf, matcher, link, start, on_page=lambda: _beat(job))
                job.members_created += result.created
                job.done += 1
            job.failed += len(created.refused)
            refused_ids += [campaign.pk for campaign, _ in created.refused]
            report_refused(None, None, "create Salesforce Campaigns (backfill)", created.refused)
            _save(job, "done", "failed", "members_created")
    except ApiError as exc:
        return _fail(job, exc)
    finally:
        sf.close()
        cm.close()
    job.status = RunStatus.PARTLY_FAILED if job.failed else RunStatus.SUCCEEDED
    job.finished_at = timezone.now()
    _save(job, "status", "finished_at")
    return job


def sweep_stale_backfills(now: dt.datetime | None = None) -> int:
    """Fail the backfills whose worker stopped beating for ``LEASE`` (beat, every few minutes),
    each with one message saying that starting it again goes on where it stopped."""
    cutoff = (now or timezone.now()) - LEASE
    stale = list(BackfillJob.objects.filter(status__in=ACTIVE_STATUSES, heartbeat_at__lt=cutoff))
    for job in stale:
        job.status, job.finished_at = RunStatus.FAILED, timezone.now()
        job.error, job.support_code = "The worker stopped without finishing.", "CMS-300"
        job.save(update_fields=["status", "finished_at", "error", "support_code"])
        record_message(
            job="campaign backfill",
            message="The backfill of Salesforce Campaigns stopped: its worker stopped without "
            "finishing. Start it again: it goes on with the campaigns still without a link.",
            level=Level.ERROR,
            support_code="CMS-300",
        )
    return len(stale)


def _beat(job: BackfillJob) -> None:
    _save(job)


def _save(job: BackfillJob, *fields: str) -> None:
    job.heartbeat_at = timezone.now()
    job.save(update_fields=[*fields, "heartbeat_at"])


def _fail(job: BackfillJob, exc: ApiError) -> BackfillJob:
    code, words = classify_api_error(exc, salesforce=True)
    job.status = RunStatus.FAILED
    job.error, job.support_code = words[:1000], code
    job.finished_at = timezone.now()
    _save(job, "status", "error", "support_code", "finished_at")
    record_message(
        job="campaign backfill",
        message=f"The backfill of Salesforce Campaigns stopped: {words} Start it again to go on.",
        details=str(exc),
        level=Level.ERROR,
        support_code=code,
    )
    return job
