"""Buffered, idempotent writes of cmsync records to Salesforce.

``add`` buffers records per object; ``flush`` drops what Salesforce already has (the fingerprint
of the last write is kept in ``SyncedRecord``), links Contacts/Leads by e-mail, sets the owner,
and upserts on ``CM_Key__c``. Per-record refusals are parked as ``RecordRejection`` rows while
the rest of the batch lands; transport failures propagate so the caller's cursor stays put.

The fingerprint covers the Campaign Monitor data only. The link written with a row (and its
address) is kept beside it in ``SyncedRecord``: people who appear, change or convert later are
carried into the links by :mod:`sync.engine.people`, and a new Security Owner by
:mod:`sync.engine.reown`. The owner is read afresh for every batch, so a change of owner
reaches the very next write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from sync.clients.errors import ApiError
from sync.clients.salesforce import RecordResult, SalesforceClient
from sync.clients.salesforce_schema import EXTERNAL_ID
from sync.engine.matcher import ContactMatcher
from sync.engine.records import OBJECTS_WITH_EMAIL, fingerprint
from sync.models import CMClient, RecordRejection, SyncedRecord, SyncRun

COLLECTION_BATCH = 200


@dataclass
class Outcome:
    """One row's write result; ``payload`` is what a retry would send (empty: no retry)."""

    key: str
    fingerprint: str
    result: RecordResult
    payload: dict[str, Any] = field(default_factory=dict)
    sf_id: str = ""
    # Rows linked to people: the address and the Contact / Lead written with the row.
    email: str = ""
    contact_id: str = ""
    lead_id: str = ""


class SalesforceFailure(Exception):
    """A Salesforce call failed as a whole (not one record); wraps the typed API error."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error))
        self.error = error


LOOKUP_CHUNK = 900  # keys per SyncedRecord query (SQLite allows 999 parameters in old builds)


class SalesforceWriter:
    def __init__(
        self,
        sf: SalesforceClient,
        run: SyncRun,
        cm_client: CMClient,
        *,
        batch_size: int = COLLECTION_BATCH,
        on_flush: Callable[[], None] | None = None,
    ) -> None:
        self.sf = sf
        self.run = run
        self.cm_client = cm_client
        self.connection = cm_client.connection
        self.batch_size = batch_size
        self.on_flush = on_flush
        self.owner_id = cm_client.owner_id
        self.matcher = ContactMatcher(sf)
        self._buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        # Work to do once data is in Salesforce (cursor moves), keyed so a later position
        # replaces an earlier one: {sobject or None: {key: callback}}.
        self._checkpoints: dict[str | None, dict[str, Callable[[], None]]] = defaultdict(dict)
        self.written: dict[str, int] = defaultdict(int)
        self.deleted: dict[str, int] = defaultdict(int)
        self.rejected = 0
        self.skipped_unchanged = 0

    def add(self, sobject: str, record: dict[str, Any]) -> None:
        buffer = self._buffers[sobject]
        buffer.append(record)
        if len(buffer) >= self.batch_size:
            self.flush(sobject)

    def checkpoint(
        self, key: str, callback: Callable[[], None], sobject: str | None = None
    ) -> None:
        """Run ``callback`` once every row added so far (of ``sobject``, or of all objects when
        None) is in Salesforce. Registering the same key again replaces the earlier callback."""
        self._checkpoints[sobject][key] = callback

    def flush(self, sobject: str | None = None) -> None:
        """Write buffered rows (of one object, or all) and then run the checkpoints they cover."""
        names = [sobject] if sobject else list(self._buffers)
        for name in names:
            rows, self._buffers[name] = self._buffers[name], []
            if rows:
                try:
                    self._write(name, rows)
                except ApiError as exc:
                    raise SalesforceFailure(exc) from exc
        for name in [sobject] if sobject else list(self._checkpoints):
            callbacks, self._checkpoints[name] = self._checkpoints[name], {}
            for callback in callbacks.values():
                callback()
        if self.on_flush:
            self.on_flush()

    # ---------------------------------------------------------------------------------------
    def _write(self, sobject: str, rows: list[dict[str, Any]]) -> None:
        rows = _last_per_key(rows)
        prints = {row[EXTERNAL_ID]: fingerprint(row) for row in rows}
        known = self._known_fingerprints(sobject, list(prints))
        changed = [row for row in rows if known.get(row[EXTERNAL_ID]) != prints[row[EXTERNAL_ID]]]
        self.skipped_unchanged += len(rows) - len(changed)
        if not changed:
            return
        self.owner_id = self._current_owner()
        outgoing = [self._decorate(sobject, row) for row in changed]
        if sobject in OBJECTS_WITH_EMAIL:
            self._link_people(outgoing)
        results = self.sf.upsert(sobject, EXTERNAL_ID, outgoing)
        self.record_outcomes(
            sobject,
            [
                Outcome(
                    row[EXTERNAL_ID],
                    prints[row[EXTERNAL_ID]],
                    result,
                    payload=row,
                    email=sent.get("Email__c") or "",
                    contact_id=sent.get("Contact__c") or "",
                    lead_id=sent.get("Lead__c") or "",
                )
                for row, sent, result in zip(changed, outgoing, results, strict=True)
            ],
        )

    def record_outcomes(self, sobject: str, outcomes: list[Outcome]) -> None:
        """Remember what landed (its fingerprint) and park what Salesforce refused."""
        succeeded: list[SyncedRecord] = []
        rejections: list[RecordRejection] = []
        for outcome in outcomes:
            result = outcome.result
            if result.success:
                succeeded.append(
                    SyncedRecord(
                        connection=self.connection,
                        sobject=sobject,
                        cm_key=outcome.key,
                        fingerprint=outcome.fingerprint,
                        sf_id=result.sf_id or outcome.sf_id,
                        written_at=timezone.now(),
                        email=outcome.email[:254],
                        contact_id=outcome.contact_id,
                        lead_id=outcome.lead_id,
                    )
                )
            else:
                first = result.errors[0] if result.errors else None
                rejections.append(
                    RecordRejection(
                        run=self.run,
                        cm_client=self.cm_client,
                        sobject=sobject,
                        cm_key=outcome.key,
                        error_code=first.code if first else "UNKNOWN_ERROR",
                        message=result.error_text or "rejected without a reason",
                        payload=outcome.payload,
                    )
                )
        self._save(succeeded, rejections)
        self.written[sobject] += len(succeeded)
        self.rejected += len(rejections)

    def _current_owner(self) -> str:
        """The client's owner now (its Security Owner may have changed during the run)."""
        row = (
            CMClient.objects.filter(pk=self.cm_client.pk)
            .values_list("security_owner_id", "connection__sf_sync_user_id")
            .first()
        )
        if row is None:
            return self.owner_id
        return row[0] or row[1]

    def _decorate(self, sobject: str, row: dict[str, Any]) -> dict[str, Any]:
        record = dict(row)
        if self.owner_id:
            record["OwnerId"] = self.owner_id
        return record

    def _link_people(self, records: list[dict[str, Any]]) -> None:
        links = self.matcher.links_for(r.get("Email__c") or "" for r in records)
        for record in records:
            link = links.get(record.get("Email__c") or "")
            if link:
                record["Contact__c"] = link.contact_id
                record["Lead__c"] = link.lead_id

    def _known_fingerprints(self, sobject: str, keys: list[str]) -> dict[str, str]:
        known: dict[str, str] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            known.update(
                SyncedRecord.objects.filter(
                    connection=self.connection, sobject=sobject, cm_key__in=chunk
                ).values_list("cm_key", "fingerprint")
            )
        return known

    def delete(self, sobject: str, ids_by_key: dict[str, str]) -> int:
        """Delete records cmsync wrote earlier (key → Salesforce id); returns how many went."""
        keys = list(ids_by_key)
        deleted = 0
        for start in range(0, len(keys), self.batch_size):
            chunk = keys[start : start + self.batch_size]
            try:
                results = self.sf.delete(sobject, [ids_by_key[k] for k in chunk])
            except ApiError as exc:
                raise SalesforceFailure(exc) from exc
            gone = [
                key
                for key, result in zip(chunk, results, strict=True)
                if result.success or any(e.code == "ENTITY_IS_DELETED" for e in result.errors)
            ]
            SyncedRecord.objects.filter(
                connection=self.connection, sobject=sobject, cm_key__in=gone
            ).delete()
            deleted += len(gone)
        self.deleted[sobject] += deleted
        return deleted

    def retry_parked(self) -> int:
        """Queue again the records Salesforce refused in earlier runs (their cursors moved on).

        Each key is retried once per run; a success resolves every open rejection of that key.
        """
        parked = (
            RecordRejection.objects.filter(cm_client=self.cm_client, resolved_at__isnull=True)
            .exclude(run=self.run)
            .order_by("cm_key", "-pk")
        )
        seen: set[tuple[str, str]] = set()
        for rejection in parked.iterator():
            marker = (rejection.sobject, rejection.cm_key)
            if marker in seen or not rejection.payload:
                continue
            seen.add(marker)
            self.add(rejection.sobject, rejection.payload)
        return len(seen)

    @transaction.atomic
    def _save(self, succeeded: list[SyncedRecord], rejections: list[RecordRejection]) -> None:
        if succeeded:
            for sobject in {row.sobject for row in succeeded}:
                RecordRejection.objects.filter(
                    cm_client=self.cm_client,
                    sobject=sobject,
                    cm_key__in=[row.cm_key for row in succeeded if row.sobject == sobject],
                    resolved_at__isnull=True,
                ).update(resolved_at=timezone.now())
            SyncedRecord.objects.bulk_create(
                succeeded,
                batch_size=500,
                update_conflicts=True,
                unique_fields=["connection", "sobject", "cm_key"],
                update_fields=[
                    "fingerprint",
                    "sf_id",
                    "written_at",
                    "email",
                    "contact_id",
                    "lead_id",
                ],
            )
        if rejections:
            RecordRejection.objects.bulk_create(rejections, batch_size=500)


def _last_per_key(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep one row per external id (the last seen wins), preserving first-seen order."""
    by_key: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_key[row[EXTERNAL_ID]] = row
    return list(by_key.values())
