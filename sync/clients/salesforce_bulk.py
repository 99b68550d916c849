"""Bulk API 2.0 writes through simple-salesforce's ``sf.bulk2.<Type>``, with per-row results.

Input rows are spooled to temporary files (JSON lines, then CSV) rather than held in memory;
simple-salesforce uploads the CSV in jobs of at most ``job_rows`` rows. After each job the three
result files (successful / failed / unprocessed) are downloaded to temporary files and read back,
so every input row gets a :class:`RecordResult` in input order. Only the rows' keys (the external
id values, or the ids for deletes) stay in memory while the jobs run.

Salesforce does not promise result rows in upload order, so rows are matched by key; when the
same key appears several times, results are handed out in the order they were read.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import os
import tempfile
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simple_salesforce import Salesforce

from .salesforce_types import RecordError, RecordResult

NULL_MARKER = "#N/A"  # Bulk 2.0: an empty cell leaves a field unchanged, #N/A sets it to null
UNPROCESSED = RecordError("UNPROCESSED", "Salesforce did not process this row (job stopped early)")
NO_RESULT = RecordError("NO_RESULT", "Salesforce reported no result for this row")


def csv_value(value: Any) -> str:
    """One CSV cell in the form Bulk 2.0 expects."""
    if type(value) is str:  # the common case, first
        return value
    if value is None:
        return NULL_MARKER
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, int, float)):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def parse_bulk_error(text: str) -> list[RecordError]:
    """Read an ``sf__Error`` cell, roughly ``CODE:message`` or ``CODE:message:Field1,Field2 --``."""
    text = (text or "").strip()
    if not text:
        return [RecordError("UNKNOWN_ERROR", "Salesforce gave no reason")]
    code, sep, rest = text.partition(":")
    if not sep or not code.replace("_", "").isalnum() or code.upper() != code:
        return [RecordError("UNKNOWN_ERROR", text)]
    message, fields = rest, []
    if rest.endswith("--"):
        head, sep, tail = rest[:-2].rstrip().rpartition(":")
        if sep:
            message = head
            fields = [name.strip() for name in tail.split(",") if name.strip()]
    return [RecordError(code, message.strip(), fields)]


@contextmanager
def _temp_dir(parent: str | Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cmsync-bulk-", dir=parent) as name:
        yield Path(name)


class BulkWriter:
    """Runs Bulk 2.0 ingest jobs for one client; ``sf`` is read afresh for every job."""

    def __init__(
        self,
        sf_getter: Callable[[], Salesforce],
        *,
        poll_seconds: float = 2.0,
        job_rows: int | None = 100_000,
        temp_dir: str | Path | None = None,
    ) -> None:
        self._sf_getter = sf_getter
        self.poll_seconds = poll_seconds
        self.job_rows = job_rows
        self.temp_dir = temp_dir

    @property
    def sf(self) -> Salesforce:
        return self._sf_getter()

    def upsert(
        self, sobject: str, external_id_field: str, records: Iterable[dict[str, Any]]
    ) -> list[RecordResult]:
        with _temp_dir(self.temp_dir) as work:
            keys, columns = _spool_records(records, external_id_field, work / "rows.jsonl")
            if not keys:
                return []
            data = work / "rows.csv"
            _write_csv(work / "rows.jsonl", columns, data)
            (work / "rows.jsonl").unlink()
            handler = getattr(self.sf.bulk2, sobject)
            jobs = handler.upsert(
                csv_file=str(data),
                external_id_field=external_id_field,
                batch_size=self.job_rows,
                wait=self.poll_seconds,
            )
            data.unlink()
            return self._collect(handler, jobs, keys, external_id_field, work, upsert=True)

    def delete(self, sobject: str, ids: Iterable[str], *, hard: bool) -> list[RecordResult]:
        with _temp_dir(self.temp_dir) as work:
            data = work / "ids.csv"
            keys = _write_id_csv(ids, data)
            if not keys:
                return []
            handler = getattr(self.sf.bulk2, sobject)
            run = handler.hard_delete if hard else handler.delete
            jobs = run(csv_file=str(data), batch_size=self.job_rows, wait=self.poll_seconds)
            data.unlink()
            return self._collect(handler, jobs, keys, "Id", work, upsert=False)

    # Results ---------------------------------------------------------------------------------
    def _collect(
        self,
        handler: Any,
        jobs: list[dict[str, Any]],
        keys: list[str | None],
        key_column: str,
        work: Path,
        *,
        upsert: bool,
    ) -> list[RecordResult]:
        found: dict[str, deque[RecordResult]] = defaultdict(deque)
        for job in jobs:
            job_id = job["job_id"]
            for kind, reader in (
                ("ok", handler.get_successful_records),
                ("failed", handler.get_failed_records),
                ("unprocessed", handler.get_unprocessed_records),
            ):
                target = work / f"{job_id}-{kind}.csv"
                reader(job_id, file=str(target))
                for result in _read_results(target, kind, key_column, upsert):
                    found[result.key or ""].append(result)
                target.unlink()
        ordered = []
        for key in keys:
            bucket = found.get(key or "")
            if bucket:
                ordered.append(bucket.popleft())
            else:
                ordered.append(RecordResult(key, None, False, False, [NO_RESULT]))
        return ordered


def _spool_records(
    records: Iterable[dict[str, Any]], key_field: str, target: Path
) -> tuple[list[str | None], list[str]]:
    """Write rows as JSON lines; return the rows' keys in order and the union of their columns."""
    keys: list[str | None] = []
    columns: dict[str, None] = {key_field: None}
    with target.open("w", encoding="utf-8") as out:
        for record in records:
            row = {name: csv_value(value) for name, value in record.items() if name != "attributes"}
            columns.update(dict.fromkeys(row))
            value = record.get(key_field)
            keys.append(None if value is None else csv_value(value))
            out.write(json.dumps(row))
            out.write("\n")
    return keys, list(columns)


def _write_csv(source: Path, columns: list[str], target: Path) -> None:
    # A column a row lacks is left empty, which Bulk 2.0 reads as "leave unchanged".
    with (
        source.open(encoding="utf-8") as rows,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
        writer.writeheader()
        for line in rows:
            writer.writerow(json.loads(line))


def _write_id_csv(ids: Iterable[str], target: Path) -> list[str | None]:
    keys: list[str | None] = []
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Id"])
        for record_id in ids:
            keys.append(record_id)
            writer.writerow([record_id])
    return keys


def _read_results(path: Path, kind: str, key_column: str, upsert: bool) -> Iterator[RecordResult]:
    if not path.exists() or os.path.getsize(path) == 0:
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = row.get(key_column)
            key = None if key == NULL_MARKER else key
            sf_id = row.get("sf__Id") or (row.get("Id") if not upsert else None) or None
            if kind == "ok":
                created = (row.get("sf__Created") or "").strip().lower() == "true"
                yield RecordResult(key, sf_id, True, created and upsert, [])
            elif kind == "failed":
                yield RecordResult(
                    key, sf_id, False, False, parse_bulk_error(row.get("sf__Error", ""))
                )
            else:
                yield RecordResult(key, None, False, False, [UNPROCESSED])
