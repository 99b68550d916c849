"""The import wizard's work: start an import of Salesforce people into a CM list, and run it.

Rules the import keeps:

- Consent first. An address whose Contact or Lead has opted out of e-mail is never imported,
  and nobody is resubscribed (``Resubscribe`` false): CM keeps whoever unsubscribed,
  bounced or was deleted as they are.
- Journeys. "Trigger journeys for subscribers added by cmsync" (General Options) sets CM's
  ``QueueSubscriptionBasedAutoresponders`` and ``RestartSubscriptionBasedAutoresponders``; off,
  an import starts no journey.
- "Disable triggers" stops every Salesforce → CM change, imports included.
- Bounded memory: rows stream from Salesforce and go to CM 1,000 (CM's cap) per call. An import
  is an upsert by e-mail, so running it again duplicates nothing.
- Destinations are lists of clients selected for sync, when an import starts and when it is run
  again: a client deselected since is never imported into.
- At most one at a time: Run again starts nothing while an import of the same source into the
  same list is queued or running (it answers with that one). The check and the insert happen
  under a lock on the destination client's row, so concurrent clicks cannot both pass it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from maintenance.models import Level
from maintenance.services import record_message
from sync.clients.campaign_monitor_types import IMPORT_BATCH_LIMIT, ImportResult
from sync.clients.counting import CallCounter
from sync.clients.errors import ApiError, NotFound
from sync.engine.consent import parse_sf_datetime
from sync.models import (
    ACTIVE_STATUSES,
    CMClient,
    Connection,
    ImportJob,
    RunStatus,
    SyncOptions,
)
from sync.services import standing
from sync.services.api import campaign_monitor_client, salesforce_client
from sync.services.import_sources import (
    ImportSource,
    SourceNotFound,
    first_rows,
    opted_out_addresses,
    read_rows,
)
from sync.services.jobs import RUN_IMPORT, enqueue_on_commit
from sync.services.runs import classify_api_error

logger = logging.getLogger(__name__)

JOB_NAME = "import"
CM_VALUE_LIMIT = 250
FAILURES_KEPT = 200
PREVIEW_ROWS = 5
CHANGE_STAMP = "LastModifiedDate"
# Endpoint names of the Campaign Monitor calls an import makes (the rest are Salesforce's).
CM_ENDPOINTS = ("subscribers", "lists", "clients")
OUTBOUND_DISABLED = (
    "Disable triggers is on (General Options): cmsync sends no changes to Campaign Monitor, "
    "imports included. Turn it off to import."
)
NOT_CONNECTED = "Connect Campaign Monitor and Salesforce first."
CLIENT_NOT_SELECTED = (
    "“{client}” is not selected for sync (Sync Settings), so cmsync imports into none of its "
    "lists. Select the client again, or start a new import into a list of a selected client."
)
ONLY_LIST_VIEWS = (
    "Only a list view can be kept in step: Salesforce cannot say which rows of a report changed."
)
INTERRUPTED = (
    "The worker running it stopped (restart, crash or time limit). Addresses sent before stay "
    "in Campaign Monitor; Run again finishes the import without adding anyone twice."
)
STALE_AFTER = dt.timedelta(minutes=15)


class ImportRefused(Exception):
    """The import cannot start; the message says why in words."""


@dataclass(frozen=True)
class DestinationList:
    cm_client: CMClient
    list_id: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.cm_client.pk}:{self.list_id}"


@dataclass(frozen=True)
class ImportPlan:
    """The wizard's validated choices."""

    source: ImportSource
    destination: DestinationList
    email_field: str
    name_fields: tuple[str, ...]
    custom_fields: dict[str, str]  # CM field key ("[Company]") → source field path
    consent_to_track: str
    keep_in_step: bool = False  # leave a standing field mapping behind (list views only)

    @property
    def mapping(self) -> dict[str, Any]:
        return {
            "email": self.email_field,
            "name": list(self.name_fields),
            "custom_fields": self.custom_fields,
        }


def destination_lists(connection: Connection, cm) -> list[DestinationList]:
    """Every list of every client selected for sync, client by client."""
    lists = []
    for client in connection.clients.filter(selected=True).order_by("name"):
        for row in cm.get_lists(client.cm_client_id):
            lists.append(DestinationList(client, row["ListID"], row.get("Name") or row["ListID"]))
    return lists


def mapped_paths(mapping: dict[str, Any]) -> list[str]:
    """The source fields an import reads, each once."""
    paths = [mapping["email"], *mapping.get("name", []), *mapping.get("custom_fields", {}).values()]
    return list(dict.fromkeys(p for p in paths if p))


# Starting ----------------------------------------------------------------------------------
def ensure_ready(connection: Connection) -> None:
    """Refuse (:class:`ImportRefused`) unless imports may run: both sides connected and
    "Disable triggers" off."""
    if not connection.both_connected:
        raise ImportRefused(NOT_CONNECTED)
    if SyncOptions.for_connection(connection).disable_triggers:
        raise ImportRefused(OUTBOUND_DISABLED)


def ensure_selected(connection: Connection, cm_client: CMClient) -> None:
    """Refuse unless the client is one of the connection's clients selected for sync (read from
    the database now, not from the object handed in)."""
    if not connection.clients.filter(pk=cm_client.pk, selected=True).exists():
        raise ImportRefused(CLIENT_NOT_SELECTED.format(client=cm_client.name))


def start_import(
    connection: Connection, user, plan: ImportPlan, *, enqueue: bool = True
) -> ImportJob:
    """Record the import and hand it to a worker once the transaction commits."""
    ensure_ready(connection)
    ensure_selected(connection, plan.destination.cm_client)
    if plan.keep_in_step and plan.source.kind != "listview":
        raise ImportRefused(ONLY_LIST_VIEWS)
    job = ImportJob.create_for(
        connection,
        cm_client=plan.destination.cm_client,
        list_id=plan.destination.list_id,
        list_name=plan.destination.name,
        source_kind=plan.source.kind,
        source_object=plan.source.sobject,
        source_id=plan.source.source_id,
        source_name=plan.source.label,
        mapping=plan.mapping,
        consent_to_track=plan.consent_to_track,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if plan.keep_in_step:
        standing.keep_in_step(job, user)
    if enqueue:
        enqueue_on_commit(RUN_IMPORT, job.pk)
    return job


def source_of(job: ImportJob) -> ImportSource:
    return ImportSource(job.source_kind, job.source_id, job.source_name, job.source_object)


def destination_of(job: ImportJob) -> DestinationList:
    return DestinationList(job.cm_client, job.list_id, job.list_name)


def same_import(job: ImportJob):
    """Every import of the job's source into the job's list (what Run again repeats)."""
    return ImportJob.objects.filter(
        connection_id=job.connection_id,
        cm_client_id=job.cm_client_id,
        list_id=job.list_id,
        source_kind=job.source_kind,
        source_object=job.source_object,
        source_id=job.source_id,
    )


def run_again(job: ImportJob, user, *, enqueue: bool = True) -> tuple[ImportJob, bool]:
    """The same import once more (safe: CM imports are upserts by e-mail): ``(job, True)``.

    While an import of the same source into the same list is queued or running, that one is
    returned as ``(it, False)`` and nothing starts. The destination client's row is locked
    (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the IMMEDIATE transaction holds the
    database's write lock) from the check to the insert, so of many concurrent clicks one
    starts a job and the others find it. The rules of a new import apply again (connected,
    triggers on, the client still selected); :func:`sync.services.import_wizard.run_again`
    adds the wizard's own check that the source and list are still offered.
    """
    mapping = job.mapping
    plan = ImportPlan(
        source_of(job),
        destination_of(job),
        mapping["email"],
        tuple(mapping.get("name", [])),
        dict(mapping.get("custom_fields", {})),
        job.consent_to_track,
    )
    with transaction.atomic():
        CMClient.objects.select_for_update().filter(pk=job.cm_client_id).first()
        active = same_import(job).filter(status__in=ACTIVE_STATUSES).order_by("-pk").first()
        if active is not None:
            return active, False
        return start_import(job.connection, user, plan, enqueue=enqueue), True


# Running -----------------------------------------------------------------------------------
def execute_import(job_id: int) -> ImportJob:
    """Run one import to the end; a redelivered task re-runs it harmlessly (upserts)."""
    job = ImportJob.objects.select_related("connection", "cm_client").get(pk=job_id)
    if not job.is_active:
        return job
    if SyncOptions.for_connection(job.connection).disable_triggers:
        _finish(job, RunStatus.FAILED, error=OUTBOUND_DISABLED)
        return job
    job.status, job.started_at = RunStatus.RUNNING, timezone.now()
    _reset_counters(job)
    job.save()
    cm_calls, sf_calls = CallCounter(), CallCounter()
    sf = salesforce_client(job.connection, sf_calls)
    cm = campaign_monitor_client(job.connection, cm_calls)
    try:
        _import_rows(job, sf, cm, cm_calls, sf_calls)
    except (ApiError, SourceNotFound) as exc:
        _fail(job, exc)
    except Exception as exc:  # a defect: fail the job in words instead of leaving it running
        logger.exception("import %s failed unexpectedly", job.pk)
        _fail(job, exc)
    finally:
        sf.close()
        cm.close()
    job.cm_calls, job.sf_calls = cm_calls.total, sf_calls.total
    if job.status == RunStatus.RUNNING:
        _finish(job, RunStatus.PARTLY_FAILED if job.failed else RunStatus.SUCCEEDED)
    else:
        job.save()
    return job


def sweep_stale_imports(now: dt.datetime | None = None) -> int:
    """Fail running imports whose worker stopped saving progress; returns how many.

    Every batch saves the job, so one untouched for ``STALE_AFTER`` lost its worker (restart,
    crash, time limit). It is marked failed so the page stops waiting and Run again is offered.
    """
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = list(ImportJob.objects.filter(status=RunStatus.RUNNING, updated_at__lt=cutoff))
    for job in stale:
        job.status, job.finished_at, job.error = RunStatus.FAILED, timezone.now(), INTERRUPTED
        job.save(update_fields=["status", "finished_at", "error", "updated_at"])
        record_message(
            job=JOB_NAME,
            message=f"Import {job.pk} into {job.list_name} stopped. {INTERRUPTED}",
            support_code="CMS-400",
            client_name=job.cm_client.name,
        )
    return len(stale)


COUNTERS = (
    "rows_read",
    "new_subscribers",
    "existing_subscribers",
    "failed",
    "skipped_opted_out",
    "skipped_no_email",
    "duplicates",
    "cm_calls",
    "sf_calls",
)
# What a batch changes. A batch saves only these, so a status set meanwhile by someone else
# (a disconnect cancelling the job) is never overwritten by the worker's stale copy.
PROGRESS_FIELDS = [*COUNTERS, "failures", "newest_change", "newest_ids", "updated_at"]


def _reset_counters(job: ImportJob) -> None:
    for name in COUNTERS:
        setattr(job, name, 0)
    job.failures, job.error, job.warning, job.total_rows = [], "", "", None
    job.newest_change, job.newest_ids = None, []


def _import_rows(job: ImportJob, sf, cm, cm_calls: CallCounter, sf_calls: CallCounter) -> None:
    try:
        cm_fields = cm.get_custom_fields(job.list_id)
    except NotFound:
        raise SourceNotFound(
            f"The Campaign Monitor list “{job.list_name}” no longer exists."
        ) from None
    field_types = {f["Key"]: f.get("DataType", "Text") for f in cm_fields}
    missing = set(job.mapping.get("custom_fields", {})) - set(field_types)
    if missing:
        raise SourceNotFound(
            f"The list “{job.list_name}” no longer has the field(s) {', '.join(sorted(missing))}; "
            "start a new import to map its current fields."
        )
    opted_out = opted_out_addresses(sf)
    source = source_of(job)
    paths = mapped_paths(job.mapping)
    if source.kind == "listview":
        paths += ["Id", CHANGE_STAMP]  # move a standing mapping's cursor
    changes = standing.changes_of(job.standing) if job.standing and job.changed_since else None
    source_rows = read_rows(sf, source, paths, changes)
    job.total_rows, job.warning = source_rows.total, source_rows.warning
    job.save(update_fields=["total_rows", "warning", "updated_at"])
    for batch in _batches(source_rows.rows, IMPORT_BATCH_LIMIT):
        subscribers = _subscribers_of(job, batch, field_types, opted_out)
        if subscribers:
            result = cm.import_subscribers(
                job.list_id,
                subscribers,
                resubscribe=False,
                queue_subscription_based_autoresponders=job.trigger_journeys,
                restart_subscription_based_autoresponders=job.trigger_journeys,
            )
            _count_result(job, result)
        job.cm_calls, job.sf_calls = cm_calls.total, sf_calls.total
        job.save(update_fields=PROGRESS_FIELDS)


def _note_change(job: ImportJob, row: dict[str, Any]) -> None:
    """Remember the newest change stamp (to the second) and which rows carry it."""
    changed = parse_sf_datetime(row.get(CHANGE_STAMP))
    if changed is None:
        return
    if job.newest_change is None or changed > job.newest_change:
        job.newest_change, job.newest_ids = changed, [row.get("Id")]
    elif changed == job.newest_change and len(job.newest_ids) <= standing.SAME_SECOND_IDS:
        job.newest_ids.append(row.get("Id"))


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _subscribers_of(
    job: ImportJob,
    rows: list[dict[str, Any]],
    field_types: dict[str, str],
    opted_out: set[str],
) -> list[dict[str, Any]]:
    subscribers = []
    for row in rows:
        job.rows_read += 1
        _note_change(job, row)
        email = str(row.get(job.mapping["email"]) or "").strip()
        if not email:
            job.skipped_no_email += 1
            continue
        if email.lower() in opted_out:
            job.skipped_opted_out += 1
            continue
        if not _valid_email(email):
            _note_failure(job, email, "Not a valid e-mail address (checked before sending)")
            continue
        subscribers.append(
            subscriber_for(row, email, job.mapping, field_types, job.consent_to_track)
        )
    return subscribers


def subscriber_for(
    row: dict[str, Any],
    email: str,
    mapping: dict[str, Any],
    field_types: dict[str, str],
    consent_to_track: str,
) -> dict[str, Any]:
    """The CM import item for one row. Empty Salesforce values are left out, so they never
    clear what CM already holds."""
    item: dict[str, Any] = {"EmailAddress": email, "ConsentToTrack": consent_to_track}
    name = " ".join(str(row.get(p) or "").strip() for p in mapping.get("name", [])).strip()
    if name:
        item["Name"] = name[:CM_VALUE_LIMIT]
    custom = []
    for key, path in mapping.get("custom_fields", {}).items():
        custom += cm_field_values(key, row.get(path), field_types.get(key, "Text"))
    if custom:
        item["CustomFields"] = custom
    return item


@dataclass(frozen=True)
class PreviewRow:
    """One source row as the import would send it, or why it would be skipped."""

    email: str
    name: str
    fields: list[tuple[str, str]]  # (CM field name, value)
    note: str = ""


def preview(
    sf,
    source: ImportSource,
    mapping: dict[str, Any],
    cm_fields: list[dict[str, Any]],
    limit: int = PREVIEW_ROWS,
) -> list[PreviewRow]:
    """The first rows of the source as they would land (opt-outs are checked at import)."""
    field_types = {f["Key"]: f.get("DataType", "Text") for f in cm_fields}
    names = {f["Key"]: f.get("FieldName") or f["Key"] for f in cm_fields}
    rows = []
    for row in first_rows(sf, source, mapped_paths(mapping), limit):
        email = str(row.get(mapping["email"]) or "").strip()
        if not email:
            rows.append(PreviewRow("", "", [], "skipped: no e-mail address"))
            continue
        item = subscriber_for(row, email, mapping, field_types, "Unchanged")
        values = [(names.get(f["Key"], f["Key"]), f["Value"]) for f in item.get("CustomFields", [])]
        note = "" if _valid_email(email) else "refused: not a valid e-mail address"
        rows.append(PreviewRow(email, item.get("Name", ""), values, note))
    return rows


def _valid_email(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def cm_field_values(key: str, value: Any, data_type: str) -> list[dict[str, str]]:
    """A Salesforce value as CM custom-field entries (none for an empty value).

    Dates become CM's ``YYYY/MM/DD``; a multi-select picklist (``a;b``) becomes one entry per
    option for a MultiSelectMany field; booleans read Yes/No; text is cut at CM's 250.
    """
    if value is None or value == "":
        return []
    if isinstance(value, bool):
        return [{"Key": key, "Value": "Yes" if value else "No"}]
    text = str(value).strip()
    if data_type == "Date":
        day = _date_of(text)
        return [{"Key": key, "Value": day.strftime("%Y/%m/%d")}] if day else []
    if data_type == "MultiSelectMany" and ";" in text:
        return [{"Key": key, "Value": part.strip()} for part in text.split(";") if part.strip()]
    return [{"Key": key, "Value": text[:CM_VALUE_LIMIT]}]


def _date_of(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _count_result(job: ImportJob, result: ImportResult) -> None:
    job.new_subscribers += result.total_new_subscribers
    job.existing_subscribers += result.total_existing_subscribers
    job.duplicates += len(result.duplicate_emails)
    for failure in result.failures:
        reason = f"{failure.message} (Campaign Monitor code {failure.code})"
        _note_failure(job, failure.email, reason)


def _note_failure(job: ImportJob, email: str, reason: str) -> None:
    job.failed += 1
    if len(job.failures) < FAILURES_KEPT:
        job.failures.append({"email": email, "reason": reason})


def _fail(job: ImportJob, exc: Exception) -> None:
    code, words = _classify(exc)
    job.status = RunStatus.FAILED
    job.error = words
    record_message(
        job=JOB_NAME,
        message=f"Import {job.pk} of {job.source_name} into {job.list_name} stopped: {words}",
        details=str(exc) if isinstance(exc, (ApiError, SourceNotFound)) else type(exc).__name__,
        support_code=code,
        client_name=job.cm_client.name,
    )


def _classify(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, SourceNotFound):
        return "CMS-400", str(exc)
    if not isinstance(exc, ApiError):
        return "CMS-900", f"Unexpected error ({type(exc).__name__}); the details are in the log."
    salesforce = not exc.endpoint.startswith(CM_ENDPOINTS)
    return classify_api_error(exc, salesforce, refused_code="CMS-400")


def _finish(job: ImportJob, status: str, *, error: str = "") -> None:
    job.status, job.finished_at = status, timezone.now()
    if error:
        job.error = error
    job.save()
    standing.job_finished(job)
    if status == RunStatus.PARTLY_FAILED:
        record_message(
            job=JOB_NAME,
            level=Level.WARNING,
            message=f"Import {job.pk} into {job.list_name}: {job.failed} address(es) were refused; "
            f"{job.imported} imported.",
            details="\n".join(f"{f['email']}: {f['reason']}" for f in job.failures[:50]),
            support_code="CMS-410",
            client_name=job.cm_client.name,
        )
