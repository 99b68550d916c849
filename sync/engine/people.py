"""Carry new, changed and converted Contacts and Leads into the links of cmsync's records.

The writer links a row to the Contact and Lead of its address when it writes the row, and a row
whose Campaign Monitor data does not change is never written again. So once per run the people
who changed since the connection's *people cursor* are read from Salesforce: two paged queries,
Contacts and Leads whose ``SystemModstamp`` is past the cursor (created, edited, or converted:
a conversion is an update of the Lead). Their addresses, and the ids the stored links point at,
find the rows concerned in ``SyncedRecord``; the links of those addresses are recomputed with
the writer's own :class:`ContactMatcher` (so both paths agree), and only the rows whose link
differs from the one stored are written: by ``CM_Key__c`` with ``Contact__c`` / ``Lead__c``
alone (collections, or Bulk API 2.0 for big batches, through the client's ``upsert``).

Changes are read from ``OVERLAP`` before the cursor, because a record saved in a transaction
that commits late can carry a stamp just below the newest one seen. The people already handled
inside that overlap are remembered with their stamp (``seen``, at most ``SEEN_CAP``) and skipped,
so a quiet run costs the two queries and nothing else.

Rules kept: bounded memory (people are read page by page and handled ``PEOPLE_CHUNK`` at a time,
rewrites go out ``REWRITE_BATCH`` rows at a time); the cursor is what Salesforce stamped, not
our clock, and the caller moves it only when every rewrite landed; a run in which no person with
cmsync rows changed writes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import EXTERNAL_ID
from sync.engine.matcher import ContactMatcher, DuplicateChoice
from sync.engine.records import OBJECTS_WITH_EMAIL
from sync.models import Connection, SyncedRecord

logger = logging.getLogger(__name__)

OVERLAP = dt.timedelta(minutes=2)  # read again before the cursor (late commits)
SEEN_CAP = 5_000  # people remembered inside the overlap; beyond it they are simply re-checked
PEOPLE_CHUNK = 300  # people handled together (one matcher batch of addresses)
# Rows per upsert call (the client switches to Bulk API 2.0 from 2,000). Rewrites wait for the
# end of a people chunk, so a chunk's own rows bound what is held.
REWRITE_BATCH = 10_000
SAMPLES = 10  # refused rows named in the report


@dataclass(frozen=True)
class ChangedPerson:
    sobject: str
    sf_id: str
    email: str
    stamp: dt.datetime | None


@dataclass
class RelinkReport:
    """What one pass did; ``cursor`` is the newest stamp read (None: nobody changed)."""

    people_read: int = 0
    rows_checked: int = 0
    relinked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed: int = 0
    samples: list[str] = field(default_factory=list)
    stubs_removed: int = 0
    cursor: dt.datetime | None = None
    # People read within OVERLAP of ``cursor`` (id → SystemModstamp): the next pass skips them.
    seen: dict[str, str] = field(default_factory=dict)
    duplicates: list[DuplicateChoice] = field(default_factory=list)

    @property
    def total_relinked(self) -> int:
        return sum(self.relinked.values())


@dataclass
class _Rewrite:
    pk: int
    key: str
    contact_id: str
    lead_id: str


def changes_since(connection: Connection) -> dt.datetime | None:
    """Where the next pass reads from, or None when there is nothing that could need a link.

    Before the first pass the cursor is the oldest write of a linked row: every person who
    changed before it was already there when that row was linked.
    """
    position = connection.people_cursor
    if position is None:
        oldest = (
            SyncedRecord.objects.filter(connection=connection, sobject__in=OBJECTS_WITH_EMAIL)
            .order_by("written_at")
            .values_list("written_at", flat=True)
            .first()
        )
        if oldest is None:
            return None
        position = oldest
    return position - OVERLAP


class PeopleRelinker:
    """One pass over the people changed since a moment, for one connection."""

    def __init__(
        self,
        sf: SalesforceClient,
        connection: Connection,
        *,
        rewrite_batch: int = REWRITE_BATCH,
    ) -> None:
        self.sf = sf
        self.connection = connection
        self.rewrite_batch = rewrite_batch
        self.matcher = ContactMatcher(sf)
        self.report = RelinkReport()
        self._before: dict[str, str] = {}
        self._pending: dict[str, list[_Rewrite]] = defaultdict(list)
        self._pending_count = 0

    def run(self, since: dt.datetime, seen: dict[str, str] | None = None) -> RelinkReport:
        """Relink the rows of the people changed after ``since``, except those in ``seen`` (the
        previous pass's ``report.seen``) whose stamp has not moved."""
        self._before = seen or {}
        for chunk in _chunks(self._changed_people(since), PEOPLE_CHUNK):
            self._relink(chunk)
        self._flush()
        self._prune_seen(final=True)
        self.report.duplicates = self.matcher.duplicates
        return self.report

    # Reading ---------------------------------------------------------------------------------
    def _changed_people(self, since: dt.datetime) -> Iterator[ChangedPerson]:
        for sobject in ("Contact", "Lead"):
            soql = self.sf.soql(
                f"SELECT Id, Email, SystemModstamp FROM {sobject} WHERE SystemModstamp > {{}}",
                since,
            )
            for row in self.sf.query_iter(soql):
                raw = str(row.get("SystemModstamp") or "")
                stamp = parse_stamp(raw)
                if stamp and (self.report.cursor is None or stamp > self.report.cursor):
                    self.report.cursor = stamp
                self.report.people_read += 1
                if stamp:
                    self._remember(row["Id"], raw)
                if raw and self._before.get(row["Id"]) == raw:
                    continue  # handled by the previous pass, unchanged since
                email = (row.get("Email") or "").strip().lower()
                yield ChangedPerson(sobject, row["Id"], email, stamp)

    def _remember(self, sf_id: str, raw_stamp: str) -> None:
        self.report.seen[sf_id] = raw_stamp
        if len(self.report.seen) > 2 * SEEN_CAP:
            self._prune_seen()

    def _prune_seen(self, final: bool = False) -> None:
        """Keep the people inside the overlap of the newest stamp (all of them, or none)."""
        cursor = self.report.cursor
        if cursor is None:
            self.report.seen = {}
            return
        edge = cursor - OVERLAP
        self.report.seen = {
            sf_id: raw
            for sf_id, raw in self.report.seen.items()
            if (parse_stamp(raw) or edge) > edge
        }
        if final and len(self.report.seen) > SEEN_CAP:
            self.report.seen = {}  # too many to remember: the next pass re-checks them

    # Relinking -------------------------------------------------------------------------------
    def _relink(self, people: list[ChangedPerson]) -> None:
        """Recompute the links of the rows at these people's addresses or linked to them."""
        emails = {p.email for p in people if p.email}
        contacts = {p.sf_id for p in people if p.sobject == "Contact"}
        leads = {p.sf_id for p in people if p.sobject == "Lead"}
        # One query (a chunk holds at most PEOPLE_CHUNK addresses and as many ids). Rows linked
        # to a person under another address are included: the person's address changed.
        rows = SyncedRecord.objects.filter(
            Q(email__in=emails) | Q(contact_id__in=contacts) | Q(lead_id__in=leads),
            connection=self.connection,
            sobject__in=OBJECTS_WITH_EMAIL,
        ).exclude(email="")
        # The addresses are few (about one per person) and only those with rows cost a lookup;
        # the rows may be many (tracking history) and are walked without being kept.
        addresses = set(rows.values_list("email", flat=True).distinct())
        if not addresses:
            return
        links = self.matcher.links_for(addresses)
        columns = ("pk", "sobject", "cm_key", "email", "contact_id", "lead_id")
        for row in rows.only(*columns).iterator(chunk_size=2000):
            self.report.rows_checked += 1
            link = links.get(row.email)
            if link is None:  # written since the addresses were read: linked by the writer
                continue
            contact_id, lead_id = link.contact_id or "", link.lead_id or ""
            if (contact_id, lead_id) == (row.contact_id, row.lead_id):
                continue
            self._pending[row.sobject].append(_Rewrite(row.pk, row.cm_key, contact_id, lead_id))
            self._pending_count += 1
        # Written between chunks, never while the rows above are being read.
        if self._pending_count >= self.rewrite_batch:
            self._flush()

    # Writing ---------------------------------------------------------------------------------
    def _flush(self) -> None:
        pending, self._pending, self._pending_count = self._pending, defaultdict(list), 0
        for sobject, rewrites in pending.items():
            self._write(sobject, rewrites)

    def _write(self, sobject: str, rewrites: list[_Rewrite]) -> None:
        records = [
            {
                EXTERNAL_ID: item.key,
                "Contact__c": item.contact_id or None,
                "Lead__c": item.lead_id or None,
            }
            for item in rewrites
        ]
        results = self.sf.upsert(sobject, EXTERNAL_ID, records)
        linked: list[SyncedRecord] = []
        stubs: list[tuple[_Rewrite, str]] = []
        for item, result in zip(rewrites, results, strict=True):
            if not result.success:
                self.report.failed += 1
                if len(self.report.samples) < SAMPLES:
                    self.report.samples.append(f"{sobject} {item.key}: {result.error_text}")
            elif result.created:
                # The record was deleted in Salesforce since cmsync wrote it: the upsert made a
                # record holding only the link. Remove it, and forget the row, so the next read
                # of its Campaign Monitor data writes it whole again.
                stubs.append((item, result.sf_id or ""))
            else:
                linked.append(
                    SyncedRecord(pk=item.pk, contact_id=item.contact_id, lead_id=item.lead_id)
                )
                self.report.relinked[sobject] += 1
        if linked:
            SyncedRecord.objects.bulk_update(linked, ["contact_id", "lead_id"], batch_size=500)
        if stubs:
            self._remove_stubs(stubs)

    def _remove_stubs(self, stubs: list[tuple[_Rewrite, str]]) -> None:
        ids = [sf_id for _item, sf_id in stubs if sf_id]
        if ids:
            self.sf.delete_collections(ids)
        SyncedRecord.objects.filter(pk__in=[item.pk for item, _ in stubs]).delete()
        self.report.stubs_removed += len(stubs)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def parse_stamp(value: object) -> dt.datetime | None:
    """A Salesforce datetime ("2024-05-01T10:00:00.000+0000") as an aware datetime."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
