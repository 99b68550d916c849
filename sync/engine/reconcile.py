"""Reconciliation: what Campaign Monitor says Salesforce should hold, against what it holds.

For each CM client the reconciler reads, through the product's paged CM client, what the primary
sync copies: the client, its lists, each list's members in every state, the sent campaigns with
their summaries, the tracking events inside the window the Storage settings keep, and (when
suppression sync is on) the suppression list. It builds the expected ``CMS_*`` records with the
engine's own builders (:mod:`sync.engine.records`, :func:`suppression_record`), then reads
cmsync's objects in Salesforce by SOQL, page by page, and compares them by ``CM_Key__c``.

The rules it keeps:

- Compared are the fields the builders produce, in canonical form (Salesforce answers datetimes,
  numbers and blanks in its own forms). Links to Contacts/Leads and record owners are not compared:
  they come from Salesforce, not from Campaign Monitor.
- missing: expected, not in Salesforce. extra: in Salesforce under a key of a reconciled client,
  not expected. different: in both, fields differ. duplicates: one key on two or more records.
- Tracking records the Storage settings no longer keep (older than the window, or of a type not
  kept) are counted as *outside the window*: deleting them is the retention job's work, not drift.
- Records Salesforce refused (parked ``RecordRejection`` rows) are listed apart and never counted
  as missing or different.
- The same key built twice from CM keeps the last one, as the writer does.
- Memory stays bounded: both sides are spooled to a scratch SQLite file and compared with SQL,
  so a million tracking events cost disk, not RAM; a repair can walk the same tables.

The walk over CM is written independently of :mod:`sync.engine.client_sync` (no cursors, no
writer): it is the second opinion the sync is checked against, sharing only the record builders
and the Storage settings' predicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT_OBJECT,
    EXTERNAL_ID,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
)
from sync.engine import records
from sync.engine.suppression import suppression_record
from sync.models import EmailType, SyncOptions

KINDS = ("missing", "extra", "different", "duplicates")
DEFAULT_SAMPLES = 20
# The fields each object is compared on: exactly what the builders write (derived, not listed).
COMPARED_FIELDS: dict[str, tuple[str, ...]] = {
    CLIENT_OBJECT: tuple(records.client_record("", "")),
    LIST_OBJECT: tuple(records.list_record("", {"ListID": ""})),
    SUBSCRIBER_OBJECT: tuple(records.membership_record("", "", {})),
    CAMPAIGN_OBJECT: tuple(records.campaign_record("", {"CampaignID": ""}, {})),
    TRACKING_OBJECT: tuple(records.tracking_record("", "", EmailType.SENT, {}, None)),
    SUPPRESSION_OBJECT: tuple(suppression_record("", {})),
}
_INSERT_BATCH = 1000
_SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


# Results ------------------------------------------------------------------------------------
@dataclass
class Finding:
    """One record that does not reconcile; ``fields`` names what differs (for "different")."""

    kind: str
    sobject: str
    key: str
    client_id: str
    expected: dict[str, Any] | None = None
    actual: dict[str, Any] | None = None
    sf_ids: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)


@dataclass
class ObjectFigures:
    expected: int = 0
    in_salesforce: int = 0
    missing: int = 0
    extra: int = 0
    different: int = 0
    duplicates: int = 0
    rejected: int = 0
    outside_window: int = 0

    def add(self, other: ObjectFigures) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class ParkedRecord:
    """A record Salesforce refused and cmsync parked (it retries it every run)."""

    sobject: str
    key: str
    error_code: str
    message: str
    support_code: str
    run_id: int | None = None
    in_salesforce: bool = False


@dataclass
class Reconciliation:
    clients: list[str]
    objects: dict[str, ObjectFigures]
    samples: dict[str, list[Finding]]
    rejections: list[ParkedRecord]
    rejected_total: int = 0
    not_reconciled: list[str] = field(default_factory=list)
    other_clients: int = 0  # Salesforce records of CM clients not reconciled (not selected)
    cm_calls: int = 0
    sf_calls: int = 0

    @property
    def totals(self) -> ObjectFigures:
        total = ObjectFigures()
        for figures in self.objects.values():
            total.add(figures)
        return total

    @property
    def clean(self) -> bool:
        """No missing, extra, different or duplicated record (parked rejections aside)."""
        totals = self.totals
        return not (totals.missing or totals.extra or totals.different or totals.duplicates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "clean": self.clean,
            "totals": asdict(self.totals),
            "objects": {name: asdict(figures) for name, figures in self.objects.items()},
            "samples": {kind: [asdict(f) for f in items] for kind, items in self.samples.items()},
            "rejected_total": self.rejected_total,
            "rejections": [asdict(item) for item in self.rejections],
            "not_reconciled": self.not_reconciled,
            "other_clients": self.other_clients,
            "cm_calls": self.cm_calls,
            "sf_calls": self.sf_calls,
        }

    def render(self) -> str:
        """Counts first, then the first rows of each kind, then the parked rejections."""
        totals = self.totals
        lines = [
            f"Reconciliation of {len(self.clients)} CM client(s) against Salesforce: "
            f"missing {totals.missing}, extra {totals.extra}, different {totals.different}, "
            f"duplicates {totals.duplicates} "
            f"(rejected {totals.rejected}, outside the tracking window {totals.outside_window})",
            "",
            f"{'object':<24}{'expected':>10}{'in SF':>10}{'missing':>9}{'extra':>7}"
            f"{'differ':>8}{'dupes':>7}{'rejected':>10}{'outside':>9}",
        ]
        for name, f in self.objects.items():
            lines.append(
                f"{name:<24}{f.expected:>10}{f.in_salesforce:>10}{f.missing:>9}{f.extra:>7}"
                f"{f.different:>8}{f.duplicates:>7}{f.rejected:>10}{f.outside_window:>9}"
            )
        for note in self.not_reconciled:
            lines.append(f"not reconciled: {note}")
        if self.other_clients:
            lines.append(f"{self.other_clients} Salesforce record(s) belong to unselected clients")
        for kind in KINDS:
            for finding in self.samples.get(kind, []):
                detail = f" fields {', '.join(finding.fields)}" if finding.fields else ""
                ids = f" ids {', '.join(finding.sf_ids)}" if finding.sf_ids else ""
                lines.append(f"{kind}: {finding.sobject} {finding.key}{detail}{ids}")
        if self.rejected_total:
            lines.append(f"parked rejections: {self.rejected_total}")
        for item in self.rejections:
            reason = item.message
            if not reason.startswith(item.error_code):
                reason = f"{item.error_code}: {reason}"
            lines.append(
                f"rejected [{item.support_code}] {item.sobject} {item.key}: {reason} "
                f"(run {item.run_id})"
            )
        return "\n".join(lines)


# Canonical values ---------------------------------------------------------------------------
def canonical(value: Any) -> Any:
    """A field value in one form whoever wrote it: blanks are None, numbers are numbers,
    datetimes are UTC to the second."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, str):
        if _SF_DATETIME.match(value):
            moment = parse_sf_datetime(value)
            if moment is not None:
                return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        return value
    return str(value)


def parse_sf_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def canonical_record(sobject: str, record: dict[str, Any]) -> dict[str, Any]:
    return {name: canonical(record.get(name)) for name in COMPARED_FIELDS[sobject]}


def _digest(record: dict[str, Any]) -> str:
    payload = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.md5(payload.encode("utf-8")).hexdigest()  # noqa: S324 - comparison only


def client_zone(cm: CampaignMonitorClient, client_id: str, stored_label: str) -> dt.tzinfo:
    """The zone the client's CM dates are in: the stored label, else CM's (read, not saved)."""
    label = stored_label
    if not label:
        details = cm.get_client(client_id)
        label = (details.get("BasicDetails") or {}).get("TimeZone") or "(GMT)"
    return records.zone_from_cm(label)


# The reconciler -----------------------------------------------------------------------------
class Reconciler:
    """Spool CM's expected records and Salesforce's records, then compare them.

    Use as a context manager: ``read_campaign_monitor`` for each client, then
    ``read_salesforce`` once, then ``compare``.
    """

    def __init__(
        self,
        cm: CampaignMonitorClient,
        sf: SalesforceClient,
        options: SyncOptions,
        *,
        now: dt.datetime,
        sample_size: int = DEFAULT_SAMPLES,
        scratch_dir: str | Path | None = None,
    ) -> None:
        self.cm = cm
        self.sf = sf
        self.options = options
        self.cutoff = options.retention_cutoff(now)
        self.sample_size = sample_size
        self.clients: list[str] = []
        self.other_clients = 0
        self._folder = tempfile.TemporaryDirectory(prefix="cmsync-reconcile-", dir=scratch_dir)
        self._db = sqlite3.connect(Path(self._folder.name) / "reconcile.sqlite3")
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE expected (sobject TEXT, key TEXT, client TEXT, fp TEXT, record TEXT,
                                   PRIMARY KEY (sobject, key));
            CREATE TABLE actual (sobject TEXT, key TEXT, client TEXT, sf_id TEXT, fp TEXT,
                                 record TEXT, outside INTEGER);
            CREATE TABLE parked (sobject TEXT, key TEXT, PRIMARY KEY (sobject, key));
            """
        )
        self._pending: dict[str, list[tuple]] = {"expected": [], "actual": []}

    def __enter__(self) -> Reconciler:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()
        self._folder.cleanup()

    @property
    def objects(self) -> tuple[str, ...]:
        """The objects compared: suppression records only when suppression sync is on."""
        names = tuple(COMPARED_FIELDS)
        if self.options.suppression_sync:
            return names
        return tuple(name for name in names if name != SUPPRESSION_OBJECT)

    # Campaign Monitor ------------------------------------------------------------------------
    def read_campaign_monitor(self, client_id: str, name: str, tz: dt.tzinfo) -> None:
        """Spool the records one CM client should have in Salesforce."""
        self.clients.append(client_id)
        self._expect(CLIENT_OBJECT, client_id, records.client_record(client_id, name))
        lists = self.cm.get_lists(client_id)
        for cm_list in lists:
            self._expect(LIST_OBJECT, client_id, records.list_record(client_id, cm_list))
        for cm_list in lists:
            self._read_members(client_id, cm_list["ListID"], tz)
        for campaign in self.cm.iter_sent_campaigns(client_id, order_direction="asc"):
            self._read_campaign(client_id, campaign, tz)
        if self.options.suppression_sync:
            for item in self.cm.iter_suppression_list(client_id):
                self._expect(SUPPRESSION_OBJECT, client_id, suppression_record(client_id, item, tz))
        self._flush("expected")

    def _read_members(self, client_id: str, list_id: str, tz: dt.tzinfo) -> None:
        # The same report options as the sync: they decide which fields CM includes.
        for state in records.SUBSCRIBER_STATE_REPORTS:
            rows = self.cm.iter_subscribers(
                list_id,
                state,
                include_tracking_preference=True,
                include_sms_preference=True,
                order_field="date",
                order_direction="asc",
            )
            for item in rows:
                record = records.membership_record(client_id, list_id, item, tz)
                self._expect(SUBSCRIBER_OBJECT, client_id, record)

    def _read_campaign(self, client_id: str, campaign: dict[str, Any], tz: dt.tzinfo) -> None:
        campaign_id = campaign["CampaignID"]
        summary = self.cm.get_campaign_summary(campaign_id)
        self._expect(
            CAMPAIGN_OBJECT, client_id, records.campaign_record(client_id, campaign, summary, tz)
        )
        sent_date = campaign.get("SentDate")
        sent_at = records.parse_cm_date(sent_date, tz)
        if self.options.keeps(EmailType.SENT) and not (sent_at and sent_at < self.cutoff):
            for item in self.cm.iter_campaign_recipients(campaign_id):
                record = records.tracking_record(
                    client_id, campaign_id, EmailType.SENT, item, sent_date, tz
                )
                self._expect(TRACKING_OBJECT, client_id, record)
        for report, event_type in records.EVENT_REPORTS.items():
            if not self.options.keeps(event_type):
                continue
            events = self.cm.iter_campaign_events(
                campaign_id, report, order_field="date", order_direction="asc"
            )
            for item in events:
                moment = records.parse_cm_date(item.get("Date"), tz)
                if moment is not None and moment < self.cutoff:
                    continue
                record = records.tracking_record(
                    client_id, campaign_id, event_type, item, item.get("Date"), tz
                )
                self._expect(TRACKING_OBJECT, client_id, record)

    def _expect(self, sobject: str, client_id: str, record: dict[str, Any]) -> None:
        row = canonical_record(sobject, record)
        self._queue("expected", (sobject, row[EXTERNAL_ID], client_id, _digest(row), _json(row)))

    # Salesforce ------------------------------------------------------------------------------
    def read_salesforce(self) -> None:
        """Spool cmsync's records of the reconciled clients, every object, page by page."""
        clients = set(self.clients)
        for sobject in self.objects:
            fields = COMPARED_FIELDS[sobject]
            client_field = EXTERNAL_ID if sobject == CLIENT_OBJECT else "CM_Client_ID__c"
            columns = ", ".join(dict.fromkeys(("Id", *fields, client_field)))
            for row in self.sf.query_iter(f"SELECT {columns} FROM {sobject}"):
                key = row.get(EXTERNAL_ID)
                if not key:
                    continue  # not written by cmsync
                client = row.get(client_field)
                if client not in clients:
                    self.other_clients += 1
                    continue
                record = canonical_record(sobject, row)
                outside = sobject == TRACKING_OBJECT and self._outside_window(row)
                self._queue(
                    "actual",
                    (sobject, key, client, row["Id"], _digest(record), _json(record), outside),
                )
        self._flush("actual")

    def _outside_window(self, row: dict[str, Any]) -> bool:
        """Whether the Storage settings no longer keep this tracking record (retention's job)."""
        if not self.options.keeps(row.get("Event_Type__c") or ""):
            return True
        moment = parse_sf_datetime(row.get("Event_Date__c"))
        return moment is not None and moment < self.cutoff

    # Spooling --------------------------------------------------------------------------------
    def _queue(self, table: str, values: tuple) -> None:
        pending = self._pending[table]
        pending.append(values)
        if len(pending) >= _INSERT_BATCH:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows, self._pending[table] = self._pending[table], []
        if not rows:
            return
        if table == "expected":  # last one wins, as in the writer
            self._db.executemany("INSERT OR REPLACE INTO expected VALUES (?, ?, ?, ?, ?)", rows)
        else:
            self._db.executemany("INSERT INTO actual VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    # Comparing -------------------------------------------------------------------------------
    def compare(self, parked: Iterable[ParkedRecord] = ()) -> Reconciliation:
        """Count and sample the differences; ``parked`` are the open rejections (newest first
        per key), listed apart and left out of missing and different."""
        self._flush("expected")
        self._flush("actual")
        db = self._db
        db.execute("CREATE INDEX actual_key ON actual (sobject, key)")
        rejections: list[ParkedRecord] = []
        rejected_total = 0
        for item in parked:
            if item.sobject not in COMPARED_FIELDS:
                continue
            inserted = db.execute(
                "INSERT OR IGNORE INTO parked VALUES (?, ?)", (item.sobject, item.key)
            ).rowcount
            if not inserted:
                continue
            rejected_total += 1
            if len(rejections) < self.sample_size:
                item.in_salesforce = self._in_salesforce(item.sobject, item.key)
                rejections.append(item)
        objects = {name: ObjectFigures() for name in self.objects}
        for name, figures in objects.items():
            self._count(name, figures)
        samples = {kind: list(self._samples(kind)) for kind in KINDS}
        return Reconciliation(
            clients=list(self.clients),
            objects=objects,
            samples=samples,
            rejections=rejections,
            rejected_total=rejected_total,
            not_reconciled=[]
            if self.options.suppression_sync
            else [f"{SUPPRESSION_OBJECT} (suppression list sync is off)"],
            other_clients=self.other_clients,
        )

    def _in_salesforce(self, sobject: str, key: str) -> bool:
        found = self._db.execute(
            "SELECT 1 FROM actual WHERE sobject = ? AND key = ? LIMIT 1", (sobject, key)
        )
        return found.fetchone() is not None

    def _scalar(self, sql: str, *params: Any) -> int:
        return int(self._db.execute(sql, params).fetchone()[0] or 0)

    def _count(self, sobject: str, figures: ObjectFigures) -> None:
        one = self._scalar
        figures.expected = one("SELECT COUNT(*) FROM expected WHERE sobject = ?", sobject)
        figures.in_salesforce = one("SELECT COUNT(*) FROM actual WHERE sobject = ?", sobject)
        figures.rejected = one(
            "SELECT COUNT(*) FROM parked p JOIN expected e USING (sobject, key) "
            "WHERE p.sobject = ?",
            sobject,
        )
        figures.missing = one(f"SELECT COUNT(*) FROM ({_MISSING})", sobject)
        figures.extra = one(f"SELECT COUNT(*) FROM ({_UNEXPECTED})", sobject, 0)
        figures.outside_window = one(f"SELECT COUNT(*) FROM ({_UNEXPECTED})", sobject, 1)
        figures.different = one(f"SELECT COUNT(*) FROM ({_DIFFERENT})", sobject)
        figures.duplicates = one(f"SELECT COUNT(*) FROM ({_DUPLICATES})", sobject)

    def _samples(self, kind: str) -> Iterator[Finding]:
        limit = self.sample_size
        for sobject in self.objects:
            if limit <= 0:
                return
            if kind == "missing":
                keys = self._db.execute(f"{_MISSING} LIMIT ?", (sobject, limit))
            elif kind == "extra":
                keys = self._db.execute(f"{_UNEXPECTED} LIMIT ?", (sobject, 0, limit))
            elif kind == "different":
                keys = self._db.execute(f"{_DIFFERENT} LIMIT ?", (sobject, limit))
            else:
                keys = self._db.execute(f"{_DUPLICATES} LIMIT ?", (sobject, limit))
            for (key,) in keys.fetchall():
                limit -= 1
                yield self._finding(kind, sobject, key)

    def _finding(self, kind: str, sobject: str, key: str) -> Finding:
        wanted = self._db.execute(
            "SELECT client, record FROM expected WHERE sobject = ? AND key = ?", (sobject, key)
        ).fetchone()
        found = self._db.execute(
            "SELECT client, sf_id, record FROM actual WHERE sobject = ? AND key = ? ORDER BY sf_id",
            (sobject, key),
        ).fetchall()
        expected = json.loads(wanted[1]) if wanted else None
        actual = json.loads(found[0][2]) if found else None
        fields: list[str] = []
        if expected is not None and actual is not None:
            fields = [name for name in expected if expected.get(name) != actual.get(name)]
        return Finding(
            kind=kind,
            sobject=sobject,
            key=key,
            client_id=wanted[0] if wanted else found[0][0],
            expected=expected,
            actual=actual,
            sf_ids=[row[1] for row in found],
            fields=fields,
        )


def _json(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)


# Each query yields keys of one object (the first parameter); LIMIT is appended for samples.
_MISSING = (
    "SELECT e.key FROM expected e WHERE e.sobject = ? "
    "AND NOT EXISTS (SELECT 1 FROM actual a WHERE a.sobject = e.sobject AND a.key = e.key) "
    "AND NOT EXISTS (SELECT 1 FROM parked p WHERE p.sobject = e.sobject AND p.key = e.key) "
    "ORDER BY e.key"
)
_UNEXPECTED = (
    "SELECT DISTINCT a.key FROM actual a WHERE a.sobject = ? AND a.outside = ? "
    "AND NOT EXISTS (SELECT 1 FROM expected e WHERE e.sobject = a.sobject AND e.key = a.key) "
    "ORDER BY a.key"
)
_DIFFERENT = (
    "SELECT DISTINCT e.key FROM expected e JOIN actual a ON a.sobject = e.sobject "
    "AND a.key = e.key WHERE e.sobject = ? AND a.fp != e.fp "
    "AND NOT EXISTS (SELECT 1 FROM parked p WHERE p.sobject = e.sobject AND p.key = e.key) "
    "ORDER BY e.key"
)
_DUPLICATES = (
    "SELECT a.key FROM actual a WHERE a.sobject = ? GROUP BY a.key HAVING COUNT(*) > 1 "
    "ORDER BY a.key"
)
