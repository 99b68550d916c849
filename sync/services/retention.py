"""The tracking-history retention job: delete from Salesforce what the Storage settings no
longer keep.

A ``CMS_Email_Tracking__c`` record is outside the setting when its ``Event_Date__c`` is older
than ``days_to_keep`` days or its ``Event_Type__c`` is not one of ``email_types_to_keep``
(``days_to_keep`` 0 keeps nothing). The job reads the Ids of those records page by page, deletes
them in batches of ``batch_size_for("retention")`` and forgets cmsync's memory of what it wrote
(``SyncedRecord``), so widening the setting later imports them again instead of skipping them as
unchanged. Every run leaves one maintenance message: how many it deleted, or what went wrong.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils import timezone

from maintenance.models import Level
from maintenance.services import batch_size_for, record_message
from sync.clients.errors import ApiError, AuthError, PermanentError, RequestLimitExceeded
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import EXTERNAL_ID, TRACKING_OBJECT
from sync.models import Connection, SyncedRecord, SyncOptions
from sync.services.api import salesforce_client

logger = logging.getLogger(__name__)

JOB = "retention"
LOCK_SECONDS = 60 * 60
# SyncedRecord keys deleted per query, well under every database's bound-parameter limit.
FORGET_CHUNK = 500
# How many refused records a warning lists in its details.
DETAIL_SAMPLES = 10


def outside_window_condition(
    sf: SalesforceClient, options: SyncOptions, now: dt.datetime | None = None
) -> str:
    """The SOQL WHERE condition matching tracking records outside the setting, or "" for all."""
    if options.keeps_nothing:
        return ""
    condition = sf.soql("Event_Date__c < {}", options.retention_cutoff(now))
    if not options.keeps_every_type:
        condition += sf.soql(" OR Event_Type__c NOT IN {}", options.kept_types())
    return condition


def _where(condition: str) -> str:
    return f" WHERE {condition}" if condition else ""


def count_outside_window(
    connection: Connection, options: SyncOptions, now: dt.datetime | None = None
) -> int:
    """How many tracking records in Salesforce fall outside ``options`` (which may be unsaved
    settings someone is about to save). Raises :class:`ApiError` when Salesforce cannot say."""
    sf = salesforce_client(connection)
    try:
        condition = outside_window_condition(sf, options, now)
        return sf.query_count(f"SELECT COUNT() FROM {TRACKING_OBJECT}{_where(condition)}")
    finally:
        sf.close()


@dataclass
class RetentionOutcome:
    """What one retention run did."""

    deleted: int = 0
    refused: list[str] = field(default_factory=list)  # "Id: CODE message"
    refused_count: int = 0


def run_retention(connection: Connection, *, now: dt.datetime | None = None) -> int:
    """Delete the connection's tracking records outside its setting; returns how many.

    Never raises for Salesforce trouble: a failure becomes a warning maintenance message with a
    support code (whatever was deleted before it stays deleted, and is counted).
    """
    lock = f"cmsync:retention-lock:{connection.pk}"
    if not cache.add(lock, timezone.now().isoformat(), LOCK_SECONDS):
        logger.info("retention for connection %s is already running; skipped", connection.pk)
        return 0
    try:
        return _run_locked(connection, now or timezone.now())
    finally:
        cache.delete(lock)


def _run_locked(connection: Connection, now: dt.datetime) -> int:
    options = SyncOptions.for_connection(connection)
    outcome = RetentionOutcome()
    sf = salesforce_client(connection)
    try:
        _delete_outside(sf, connection, options, now, outcome)
    except ApiError as exc:
        _record_failure(options, outcome, exc)
        return outcome.deleted
    finally:
        sf.close()
    _record_success(options, outcome)
    return outcome.deleted


def _delete_outside(
    sf: SalesforceClient,
    connection: Connection,
    options: SyncOptions,
    now: dt.datetime,
    outcome: RetentionOutcome,
) -> None:
    condition = outside_window_condition(sf, options, now)
    soql = f"SELECT Id, {EXTERNAL_ID} FROM {TRACKING_OBJECT}{_where(condition)}"
    # Salesforce's query cursor is a snapshot, so deleting rows already read does not disturb
    # the pages still to come.
    for batch in _batches(sf.query_iter(soql), batch_size_for(JOB)):
        _delete_batch(sf, connection, batch, outcome)


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, max(1, size))):
        yield batch


def _delete_batch(
    sf: SalesforceClient, connection: Connection, batch: list[dict], outcome: RetentionOutcome
) -> None:
    key_by_id = {row["Id"]: row.get(EXTERNAL_ID) for row in batch}
    ids = list(key_by_id)
    results = _delete_ids(sf, ids)
    deleted_keys = []
    for result in results:
        if result.success:
            outcome.deleted += 1
            if key_by_id.get(result.key):
                deleted_keys.append(key_by_id[result.key])
            continue
        outcome.refused_count += 1
        if len(outcome.refused) < DETAIL_SAMPLES:
            reasons = "; ".join(f"{e.code} {e.message}" for e in result.errors)
            outcome.refused.append(f"{result.key}: {reasons}")
    forget_synced_records(connection, deleted_keys)


def _delete_ids(sf: SalesforceClient, ids: list[str]) -> list:
    """Bulk API 2.0 hard delete (no recycle bin) for big batches, Collections for small ones."""
    if len(ids) < sf.bulk_threshold:
        return sf.delete_collections(ids)
    try:
        return sf.hard_delete(TRACKING_OBJECT, ids)
    except (AuthError, RequestLimitExceeded):
        raise
    except PermanentError as exc:
        # Hard delete needs the "Bulk API Hard Delete" permission, which many orgs withhold;
        # a Bulk delete to the recycle bin still frees the storage once the bin is emptied.
        logger.warning("Bulk hard delete refused (%s); deleting to the recycle bin", exc.code)
        return sf.delete(TRACKING_OBJECT, ids)


def forget_synced_records(connection: Connection, keys: list[str]) -> int:
    """Drop cmsync's record of having written these tracking keys, so a wider setting later
    writes them again."""
    forgotten = 0
    for start in range(0, len(keys), FORGET_CHUNK):
        chunk = keys[start : start + FORGET_CHUNK]
        removed, _ = SyncedRecord.objects.filter(
            connection=connection, sobject=TRACKING_OBJECT, cm_key__in=chunk
        ).delete()
        forgotten += removed
    return forgotten


def _record_success(options: SyncOptions, outcome: RetentionOutcome) -> None:
    message = (
        f"Tracking history retention deleted {outcome.deleted} tracking "
        f"record{'s' if outcome.deleted != 1 else ''} from Salesforce (keeping "
        f"{options.tracking_description()})."
    )
    if not outcome.refused_count:
        record_message(job=JOB, level=Level.INFO, message=message)
        return
    record_message(
        job=JOB,
        level=Level.WARNING,
        message=f"{message} Salesforce refused to delete {outcome.refused_count}; the next run "
        "tries them again.",
        details="\n".join(outcome.refused),
        support_code="CMS-220",
    )


def _record_failure(options: SyncOptions, outcome: RetentionOutcome, exc: ApiError) -> None:
    code, reason = classify_failure(exc)
    record_message(
        job=JOB,
        level=Level.WARNING,
        message=(
            f"Tracking history retention stopped after deleting {outcome.deleted} tracking "
            f"records: {reason} The rest is deleted on the next run."
        ),
        details=f"{type(exc).__name__}: {exc}\nSetting: {options.tracking_description()}",
        support_code=code,
    )


def classify_failure(exc: ApiError) -> tuple[str, str]:
    """(support code, one sentence) for a Salesforce failure."""
    if isinstance(exc, RequestLimitExceeded):
        return "CMS-210", "Salesforce's daily API limit is reached."
    if isinstance(exc, AuthError):
        return "CMS-200", "Salesforce rejected cmsync's credentials."
    if exc.status and 400 <= exc.status < 500 and exc.status != 429:
        return "CMS-900", f"Salesforce refused the request ({exc.message})."
    return "CMS-230", "Salesforce is unavailable."
