"""Standing field mappings: a Salesforce list view kept in step with a Campaign Monitor list.

An import with "keep in step" ticked leaves a :class:`~sync.models.StandingMapping` behind. Every
15 minutes (beat) each active mapping asks Salesforce how many rows of the view changed since
its cursor (one ``COUNT()``); when some did, it starts an ordinary import job limited to those
rows, so the same consent rules, journeys option, progress page and error handling apply. The
cursor moves to the newest ``LastModifiedDate`` sent, once that job has finished; a failed job
leaves it, and the next run sends the same rows again (imports are upserts). Rows already sent
with the cursor's own second are left out by Id, so a quiet view costs one query and no job.

What a mapping does not do: people who leave the view, or whose Contact or Lead is deleted,
stay in the CM list (removing them would be an unsubscribe nobody asked for); and someone who
enters the view through a change on another record (an Account field, say) is sent only once
their own record changes.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from maintenance.services import record_changes, record_message
from sync.clients.errors import ApiError, NotFound
from sync.models import (
    ACTIVE_STATUSES,
    Connection,
    ImportJob,
    ImportSourceKind,
    RunStatus,
    StandingMapping,
    SyncOptions,
)
from sync.services.api import salesforce_client
from sync.services.import_sources import Changes, ImportSource, SourceNotFound, count_changed
from sync.services.jobs import RUN_IMPORT, enqueue_on_commit

logger = logging.getLogger(__name__)

AUDIT_AREA = "Field mappings"
JOB_NAME = "field mappings"
# Beyond this many rows stamped the same second, a check counts only later seconds (an Id list
# that long would not fit a query).
SAME_SECOND_IDS = 200
# With no row in the view, the first cursor is the import's start less this (clock skew).
CLOCK_MARGIN = dt.timedelta(minutes=5)


def keep_in_step(job: ImportJob, user) -> StandingMapping:
    """Make (or refresh) the standing mapping of a list-view import and attach the job to it."""
    described = {
        "cm_client": job.cm_client,
        "list_name": job.list_name,
        "source_object": job.source_object,
        "source_name": job.source_name,
        "mapping": job.mapping,
        "consent_to_track": job.consent_to_track,
    }
    mapping, created = StandingMapping.objects.update_or_create(
        connection=job.connection,
        source_id=job.source_id,
        list_id=job.list_id,
        defaults={**described, "active": True, "cursor": None, "cursor_ids": []},
        create_defaults={
            **described,
            "created_by": user if getattr(user, "is_authenticated", False) else None,
        },
    )
    job.standing = mapping
    job.save(update_fields=["standing", "updated_at"])
    before = "—" if created else "kept in step (mapping replaced)"
    record_changes(user=user, area=AUDIT_AREA, changes={str(mapping): (before, "kept in step")})
    return mapping


def job_finished(job: ImportJob) -> None:
    """Move the mapping's cursor past what a finished job sent (nothing if it failed)."""
    if job.standing_id is None or job.status not in (
        RunStatus.SUCCEEDED,
        RunStatus.PARTLY_FAILED,
    ):
        return
    newest, ids = job.newest_change, list(job.newest_ids)
    if newest is None:
        newest = job.changed_since or (job.started_at or timezone.now()) - CLOCK_MARGIN
    with transaction.atomic():
        mapping = StandingMapping.objects.select_for_update().get(pk=job.standing_id)
        if mapping.cursor is None or newest > mapping.cursor:
            mapping.cursor, mapping.cursor_ids = newest, ids
        elif newest == mapping.cursor:
            mapping.cursor_ids = list(dict.fromkeys([*mapping.cursor_ids, *ids]))
        mapping.save(update_fields=["cursor", "cursor_ids"])


def set_active(mapping: StandingMapping, active: bool, user) -> None:
    """Pause or resume (audited). The row is locked from the check to the write, so of many
    concurrent clicks one changes it and writes the audit entry; the others find it done."""
    with transaction.atomic():
        locked = StandingMapping.objects.select_for_update().filter(pk=mapping.pk).first()
        if locked is None or locked.active == active:
            return
        record_changes(
            user=user,
            area=AUDIT_AREA,
            changes={str(locked): (_state(locked.active), _state(active))},
        )
        locked.active = active
        locked.paused_reason = ""  # a person's choice replaces the reason cmsync paused it for
        locked.save(update_fields=["active", "paused_reason"])
    mapping.active = active
    mapping.paused_reason = ""


def pause_all(connection: Connection, reason: str) -> list[StandingMapping]:
    """Pause every active mapping of the connection, saying why (its Campaign Monitor account
    was disconnected); returns them. A person resumes them with :func:`set_active`."""
    mappings = list(StandingMapping.objects.filter(connection=connection, active=True))
    StandingMapping.objects.filter(pk__in=[m.pk for m in mappings]).update(
        active=False, paused_reason=reason[:500]
    )
    return mappings


def delete(mapping: StandingMapping, user) -> None:
    """Delete (audited) under the same lock: a second concurrent delete finds nothing to do."""
    with transaction.atomic():
        locked = StandingMapping.objects.select_for_update().filter(pk=mapping.pk).first()
        if locked is None:
            return
        record_changes(
            user=user, area=AUDIT_AREA, changes={str(locked): (_state(locked.active), "deleted")}
        )
        locked.delete()


def _state(active: bool) -> str:
    return "kept in step" if active else "paused"


# The beat job ------------------------------------------------------------------------------
def run_standing_mappings(*, enqueue: bool = True) -> list[ImportJob]:
    """Start an import for every active mapping whose view changed; returns the jobs started."""
    started = []
    for mapping in StandingMapping.objects.filter(active=True).select_related(
        "connection", "cm_client"
    ):
        connection = mapping.connection
        if not connection.both_connected:
            continue
        if SyncOptions.for_connection(connection).disable_triggers:
            continue
        if mapping.jobs.filter(status__in=ACTIVE_STATUSES).exists():
            continue  # the previous run (or the first import) is still going
        job = _check(mapping, enqueue=enqueue)
        if job is not None:
            started.append(job)
    return started


def _check(mapping: StandingMapping, *, enqueue: bool) -> ImportJob | None:
    """Count rows changed since the cursor (leaving out those already sent with the cursor's
    own stamp, so a quiet view starts no job); start a job for them when there are any."""
    since = changes_of(mapping)
    if since is not None:
        try:
            with salesforce_client(mapping.connection) as sf:
                changed = count_changed(sf, _source(mapping), since)
        except (NotFound, SourceNotFound) as exc:
            _pause_gone(mapping, exc)
            return None
        except ApiError as exc:
            record_message(
                job=JOB_NAME,
                message=f"Could not check {mapping} for changes; the next run tries again.",
                details=str(exc),
                support_code="CMS-230",
                client_name=mapping.cm_client.name,
            )
            return None
        StandingMapping.objects.filter(pk=mapping.pk).update(last_checked_at=timezone.now())
        if not changed:
            return None
    return _start_job(mapping, enqueue=enqueue)


def _pause_gone(mapping: StandingMapping, exc: Exception) -> None:
    """The list view is gone: pause the mapping (one message, not one every 15 minutes)."""
    StandingMapping.objects.filter(pk=mapping.pk).update(active=False)
    record_message(
        job=JOB_NAME,
        message=f"{mapping} is paused: Salesforce no longer has that list view. Delete the "
        "mapping, or import from another view with Keep in step.",
        details=str(exc),
        support_code="CMS-400",
        client_name=mapping.cm_client.name,
    )


def changes_of(mapping: StandingMapping) -> Changes | None:
    """What a run of the mapping reads: changes since its cursor (None: everything)."""
    if mapping.cursor is None:
        return None
    return Changes(mapping.cursor, _sent(mapping))


def _start_job(mapping: StandingMapping, *, enqueue: bool) -> ImportJob:
    job = ImportJob.create_for(
        mapping.connection,
        cm_client=mapping.cm_client,
        list_id=mapping.list_id,
        list_name=mapping.list_name,
        source_kind=ImportSourceKind.LIST_VIEW,
        source_object=mapping.source_object,
        source_id=mapping.source_id,
        source_name=mapping.source_name,
        mapping=mapping.mapping,
        consent_to_track=mapping.consent_to_track,
        standing=mapping,
        changed_since=mapping.cursor,
    )
    if enqueue:
        enqueue_on_commit(RUN_IMPORT, job.pk)
    return job


def _sent(mapping: StandingMapping) -> list[str] | None:
    """The rows to leave out of the check; None when too many share the cursor's second."""
    ids = [i for i in mapping.cursor_ids if i]
    return ids if len(ids) <= SAME_SECOND_IDS else None


def _source(mapping: StandingMapping) -> ImportSource:
    return ImportSource("listview", mapping.source_id, mapping.source_name, mapping.source_object)
