"""REST query support: the lazy bridge to ``sandbox.sf.soql``, ``attributes`` on result rows,
and server-side cursors behind ``nextRecordsUrl`` locators.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import SfError
from .ids import checksum
from .schema import ObjectDef, Schema

DEFAULT_BATCH = 2000
MIN_BATCH = 200
CURSOR_LIFETIME_SECONDS = 15 * 60
MAX_CURSORS = 200


def _soql():
    """Import the SOQL engine lazily so the sandbox starts even while it is being written."""
    try:
        from . import soql
    except ImportError:
        return None
    return soql


def parse_soql(text: str) -> Any:
    soql = _soql()
    if soql is None or not hasattr(soql, "parse"):
        raise SfError("MALFORMED_QUERY", "SOQL queries are not available in this sandbox build")
    if not text or not text.strip():
        raise SfError("MALFORMED_QUERY", "unexpected token: <EOF>")
    try:
        return soql.parse(text)
    except Exception as exc:  # a SoqlError, or a parser bug: both are the caller's 400
        raise _query_error(exc) from None


def execute_soql(
    query: Any,
    records: Iterable[dict[str, Any]],
    get_parent: Callable[[dict[str, Any], str], dict[str, Any] | None],
    now: datetime,
    field_types: dict[str, str] | None = None,
) -> list[dict[str, Any]] | int:
    """Run a parsed query; ``field_types`` (name -> describe type) enables name/type checks."""
    soql = _soql()
    assert soql is not None
    extra: dict[str, Any] = {}
    if field_types is not None:
        extra = {"field_names": list(field_types), "field_types": field_types}
    try:
        return soql.execute(query, records, get_parent=get_parent, now=now, **extra)
    except SfError:
        raise
    except Exception as exc:
        raise _query_error(exc) from None


def unknown_object_error(query: Any) -> SfError:
    soql = _soql()
    if soql is not None and hasattr(soql, "invalid_type_error"):
        return _query_error(soql.invalid_type_error(query))
    return SfError(
        "INVALID_TYPE", f"sObject type '{getattr(query, 'sobject', '')}' is not supported."
    )


def _query_error(exc: Exception) -> SfError:
    code = getattr(exc, "code", None) or getattr(exc, "error_code", None) or "MALFORMED_QUERY"
    if not isinstance(exc, ValueError):
        code = "MALFORMED_QUERY"
    return SfError(str(code), str(exc) or "malformed query")


def with_hidden_id(query: Any) -> bool:
    """Select Id too when the query doesn't, so every row's ``attributes.url`` can name its
    record as Salesforce's does; True when the caller must drop Id from the rows again."""
    fields = getattr(query, "fields", None)
    soql = _soql()
    if not isinstance(fields, list) or getattr(query, "is_count", False) or soql is None:
        return False
    sobject = str(getattr(query, "sobject", "")).lower()
    alias = str(getattr(query, "alias", "") or "").lower()
    for ref in fields:
        path = [p.lower() for p in getattr(ref, "path", ())]
        if path == ["id"] or (len(path) == 2 and path[0] in {sobject, alias} and path[1] == "id"):
            return False
    try:
        fields.append(soql.FieldRef(("Id",)))
    except (AttributeError, TypeError):
        return False
    return True


def add_attributes(
    rows: list[dict[str, Any]], definition: ObjectDef, schema: Schema, version: str
) -> list[dict[str, Any]]:
    """Give each row (and nested parent row) Salesforce's ``attributes`` {type, url}."""
    return [_with_attributes(row, definition, schema, version) for row in rows]


def _with_attributes(
    row: dict[str, Any], definition: ObjectDef, schema: Schema, version: str
) -> dict[str, Any]:
    record_id = row.get("Id")
    if isinstance(record_id, str) and len(record_id) >= 15:
        by_prefix = schema.by_prefix(record_id[:3])
        if by_prefix is not None:
            definition = by_prefix
    attributes: dict[str, Any] = {"type": definition.name}
    if isinstance(record_id, str):
        attributes["url"] = f"/services/data/v{version}/sobjects/{definition.name}/{record_id}"
    result: dict[str, Any] = {"attributes": attributes}
    for key, value in row.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "records" not in value:
            relationship = definition.relationship(key)
            target = schema.get(relationship.reference_to[0]) if relationship else None
            result[key] = _with_attributes(value, target or definition, schema, version)
        else:
            result[key] = value
    return result


@dataclass
class Cursor:
    rows: list[dict[str, Any]]
    batch: int
    all_rows: bool  # queryAll
    created: float


class Cursors:
    """Remembers the rest of a query result for ``query/01g…-2000`` follow-up calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()

    def open(self, rows: list[dict[str, Any]], batch: int, all_rows: bool) -> str:
        body = "01g5g" + secrets.token_hex(5)
        locator = body + checksum(body)
        with self._lock:
            self._cursors[locator] = Cursor(rows, batch, all_rows, time.monotonic())
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
        return locator

    def get(self, locator: str) -> Cursor | None:
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None or time.monotonic() - cursor.created > CURSOR_LIFETIME_SECONDS:
            return None
        return cursor


def batch_size(header: str | None) -> int:
    """The page size a ``Sforce-Query-Options: batchSize=n`` header asks for (200–2000)."""
    if not header:
        return DEFAULT_BATCH
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key.strip().lower() == "batchsize":
            try:
                return max(MIN_BATCH, min(DEFAULT_BATCH, int(value.strip())))
            except ValueError:
                return DEFAULT_BATCH
    return DEFAULT_BATCH
