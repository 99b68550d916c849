"""Where the import wizard reads people from: Salesforce list views and reports.

A list view is read through the SOQL Salesforce itself runs for it (``describe`` answers its
``query``): cmsync keeps the view's FROM, WHERE and ORDER BY and selects the fields the admin
mapped, so every row of the view is read, page by page. A report is run synchronously through
the Analytics API, which returns at most 2,000 detail rows; a bigger report is flagged so the
admin can use a list view instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sync.clients.errors import ApiError
from sync.clients.salesforce import SalesforceClient
from sync.engine.matcher import PEOPLE, soql_list

LIST_VIEW_OBJECTS = ("Contact", "Lead")
REPORT_ROW_CAP = 2000
# Field types a CM list field can take a value from (compound address/location fields cannot).
MAPPABLE_TYPES = {
    "string",
    "email",
    "phone",
    "picklist",
    "multipicklist",
    "textarea",
    "url",
    "date",
    "datetime",
    "boolean",
    "double",
    "int",
    "currency",
    "percent",
    "id",
    "reference",
}
# Every tabular report of the org (the Analytics API's own list holds only recently viewed ones;
# summary and matrix reports group their rows, which an import cannot map).
TABULAR_REPORTS = "SELECT Id, Name FROM Report WHERE Format = 'Tabular' ORDER BY Name"
_FROM = re.compile(r"\sFROM\s", re.IGNORECASE)
_ORDER_BY = re.compile(r"\sORDER\s+BY\s", re.IGNORECASE)
_WHERE = re.compile(r"\sWHERE\s", re.IGNORECASE)


class SourceNotFound(ValueError):
    """The chosen list view or report does not exist (any more) or cannot be read."""


@dataclass(frozen=True)
class ImportSource:
    """A list view (``kind="listview"``, with its object) or a report (``kind="report"``)."""

    kind: str
    source_id: str
    label: str
    sobject: str = ""

    @property
    def key(self) -> str:
        if self.kind == "listview":
            return f"listview:{self.sobject}:{self.source_id}"
        return f"report:{self.source_id}"

    @property
    def description(self) -> str:
        if self.kind == "listview":
            return f"{self.sobject} list view “{self.label}”"
        return f"report “{self.label}”"


@dataclass(frozen=True)
class SourceField:
    """One column the admin can map: ``path`` is what rows are keyed by."""

    path: str
    label: str
    data_type: str
    entity: str = ""  # the Salesforce field behind a report column (``Email``, ``FirstName``)


@dataclass
class SourceRows:
    """The rows of a source, with how many there are (None when unknown) and any caveat."""

    rows: Iterator[dict[str, Any]]
    total: int | None
    warning: str = ""


def available_sources(sf: SalesforceClient) -> list[ImportSource]:
    """Every SOQL-compatible Contact and Lead list view, then the org's tabular reports."""
    sources = [
        ImportSource("listview", view["id"], view.get("label") or view["id"], sobject)
        for sobject in LIST_VIEW_OBJECTS
        for view in sf.list_views(sobject)
        if view.get("soqlCompatible", True)
    ]
    sources += [
        ImportSource("report", row["Id"], row.get("Name") or row["Id"])
        for row in sf.query_iter(TABULAR_REPORTS)
    ]
    return sources


def source_fields(sf: SalesforceClient, source: ImportSource) -> list[SourceField]:
    """The columns the admin can map, in Salesforce's order."""
    if source.kind == "listview":
        return _object_fields(sf, source.sobject)
    return _report_columns(sf.describe_report(source.source_id))


def _object_fields(sf: SalesforceClient, sobject: str) -> list[SourceField]:
    described = sf.describe(sobject)
    return [
        SourceField(f["name"], f.get("label") or f["name"], f.get("type", "string"), f["name"])
        for f in described.get("fields", [])
        if f.get("type", "string") in MAPPABLE_TYPES
    ]


def _report_columns(described: dict[str, Any]) -> list[SourceField]:
    metadata = described.get("reportMetadata") or {}
    info = (described.get("reportExtendedMetadata") or {}).get("detailColumnInfo") or {}
    columns = []
    for name in metadata.get("detailColumns") or []:
        column = info.get(name) or {}
        columns.append(
            SourceField(
                name,
                column.get("label") or name,
                column.get("dataType") or "string",
                column.get("entityColumnName") or "",
            )
        )
    return columns


@dataclass(frozen=True)
class Changes:
    """Rows changed at or after ``since`` (a whole second), except ``sent_ids`` (already sent
    with that very stamp); ``sent_ids`` None means too many to list: later seconds only."""

    since: dt.datetime
    sent_ids: list[str] | None = None

    def condition(self) -> str:
        later = f"LastModifiedDate >= {soql_datetime(self.since + dt.timedelta(seconds=1))}"
        if not self.sent_ids:  # None (too many to list) or nothing sent at that second
            return later if self.sent_ids is None else f"LastModifiedDate >= {self.at()}"
        same_second = f"LastModifiedDate >= {self.at()} AND Id NOT IN {soql_list(self.sent_ids)}"
        return f"({later} OR ({same_second}))"

    def at(self) -> str:
        return soql_datetime(self.since)


def read_rows(
    sf: SalesforceClient,
    source: ImportSource,
    paths: list[str],
    changes: Changes | None = None,
) -> SourceRows:
    """Stream the source's rows as ``{path: value}`` dicts (``paths`` are mapped fields).

    ``changes`` (list views only) keeps the rows changed since a standing field mapping's
    cursor, oldest change first.
    """
    if source.kind == "listview":
        return _list_view_rows(sf, source, paths, changes=changes)
    return _report_rows(sf, source)


def first_rows(
    sf: SalesforceClient, source: ImportSource, paths: list[str], limit: int
) -> list[dict[str, Any]]:
    """The source's first ``limit`` rows (the mapping page's preview), without a count."""
    if source.kind == "listview":
        return list(_list_view_rows(sf, source, paths, limit=limit).rows)
    return list(islice(_report_rows(sf, source).rows, limit))


def count_changed(sf: SalesforceClient, source: ImportSource, changes: Changes) -> int:
    """How many rows of a list view changed (one COUNT() query)."""
    from_where, _order = _view_clauses(sf, source, changes.condition())
    return sf.query_count("SELECT COUNT()" + from_where)


def _view_clauses(
    sf: SalesforceClient, source: ImportSource, condition: str | None = None
) -> tuple[str, str]:
    """The view's `` FROM … [WHERE …]`` and `` ORDER BY …``; with a ``condition``, narrowed to
    it and ordered by change (oldest first)."""
    described = sf.describe_list_view(source.sobject, source.source_id)
    query = str(described.get("query") or "")
    match = _FROM.search(query)
    if not match:
        raise SourceNotFound(f"Salesforce gave no usable query for {source.description}")
    rest = query[match.start() :]
    parts = _ORDER_BY.split(rest, maxsplit=1)
    from_where, order = parts[0], (f" ORDER BY {parts[1]}" if len(parts) > 1 else "")
    if condition is None:
        return from_where, order
    if _WHERE.search(from_where):
        from_where = _WHERE.sub(" WHERE (", from_where, count=1) + f") AND {condition}"
    else:
        from_where += f" WHERE {condition}"
    return from_where, " ORDER BY LastModifiedDate ASC, Id ASC"


def soql_datetime(moment: dt.datetime) -> str:
    """A SOQL datetime literal, to the second (as Salesforce stamps records)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list_view_rows(
    sf: SalesforceClient,
    source: ImportSource,
    paths: list[str],
    *,
    limit: int | None = None,
    changes: Changes | None = None,
) -> SourceRows:
    from_where, order = _view_clauses(sf, source, changes.condition() if changes else None)
    selected = ", ".join(dict.fromkeys(["Id", *paths]))
    soql = f"SELECT {selected}{from_where}{order}"
    if limit is not None:
        soql += f" LIMIT {int(limit)}"
        total = None
    else:
        total = _count(sf, "SELECT COUNT()" + from_where)
    rows = ({path: value_at(row, path) for path in paths} for row in sf.query_iter(soql))
    return SourceRows(rows, total)


def _count(sf: SalesforceClient, soql: str) -> int | None:
    try:
        return sf.query_count(soql)
    except ApiError:
        return None  # the progress bar shows rows read without a total


def _report_rows(sf: SalesforceClient, source: ImportSource) -> SourceRows:
    answer = sf.run_report(source.source_id)
    columns = [c.path for c in _report_columns(answer)]
    fact = (answer.get("factMap") or {}).get("T!T") or {}
    detail = fact.get("rows") or []
    warning = ""
    if answer.get("allData") is False:
        warning = (
            f"Salesforce returns at most {REPORT_ROW_CAP:,} rows of a report run, and this report "
            "has more: only those were imported. Use a list view to import everyone."
        )
    rows = (
        {
            name: cell.get("value")
            for name, cell in zip(columns, row.get("dataCells") or [], strict=False)
        }
        for row in detail
    )
    return SourceRows(rows, len(detail), warning)


def value_at(row: dict[str, Any], path: str) -> Any:
    """``row["Account"]["Name"]`` for ``"Account.Name"``; None anywhere along the way."""
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def opted_out_addresses(sf: SalesforceClient) -> set[str]:
    """Lower-case addresses of every Contact and open Lead that opted out of e-mail.

    Read once per import (two paged queries) rather than per batch: an address opted out on
    any matching Contact or Lead is never imported, whichever object the source lists.
    """
    addresses: set[str] = set()
    for sobject, extra in PEOPLE:
        soql = (
            f"SELECT Email FROM {sobject} WHERE HasOptedOutOfEmail = true AND Email != null{extra}"
        )
        addresses.update((row.get("Email") or "").strip().lower() for row in sf.query_iter(soql))
    addresses.discard("")
    return addresses
