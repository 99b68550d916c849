"""Evaluate a parsed SOQL Query against stored records.

Records are plain dicts keyed by canonical field names. Values are str/int/float/bool/None;
dates are "YYYY-MM-DD" and datetimes Salesforce strings ("2024-05-01T10:00:00.000+0000").

Semantics follow Salesforce rather than SQL:
- two-valued logic: `Email != 'x'` and `Email NOT IN ('x')` also match a null Email;
- `=`, `!=`, ordering and LIKE on text ignore case;
- a date (or a relative date literal such as TODAY) against a datetime field covers whole UTC
  days; day boundaries are in UTC (Salesforce uses the running user's time zone);
- ORDER BY defaults to ASC NULLS FIRST / DESC NULLS LAST and sorts text case-insensitively.

When the caller passes `field_types` (describe types by field name), literals are also checked
against field types the way Salesforce does, e.g. a date literal on a datetime field is
INVALID_FIELD.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

from sandbox.sf.soql_ast import (
    INVALID_FIELD,
    And,
    Comparison,
    Condition,
    FieldRef,
    InList,
    Literal,
    Not,
    Or,
    Query,
    located_error,
)

Record = Mapping[str, Any]
GetParent = Callable[[Record, str], "Record | None"]
Accessor = Callable[[Record], Any]
Predicate = Callable[[Record], bool]

_DATE_VALUE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_VALUE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)

_NUMBER_TYPES = {
    "int": "integer",
    "long": "long",
    "double": "double",
    "currency": "double",
    "percent": "double",
}
_UNCHECKED_TYPES = frozenset({"time", "base64", "address", "location", "anytype", "complexvalue"})


# -- value coercion ------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def parse_datetime_value(text: str) -> datetime | None:
    """A stored datetime string as an aware UTC datetime, or None if it is not one."""
    match = _DATETIME_VALUE_RE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, UTC
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        value = value - offset if zone[0] == "+" else value + offset
    return value


def _as_day(value: Any) -> date | None:
    """The UTC calendar day of a stored date or datetime value."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    if _DATE_VALUE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    parsed = parse_datetime_value(value)
    return parsed.date() if parsed else None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        return None
    parsed = parse_datetime_value(value)
    if parsed is not None:
        return parsed
    day = _as_day(value)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


# -- relative date literals ----------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def date_literal_range(name: str, amount: int | None, today: date) -> tuple[date, date]:
    """[start, end) in days for a relative date literal, given today's (UTC) date.

    Weeks start on Sunday (en_US locale). LAST_N_DAYS:n includes today (n + 1 days, as
    Salesforce behaves); NEXT_N_DAYS:n starts tomorrow.
    """
    n = amount or 0
    week_start = today - timedelta(days=(today.weekday() + 1) % 7)
    month_start = today.replace(day=1)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year_start = date(today.year, 1, 1)
    one_day = timedelta(days=1)
    ranges: dict[str, Callable[[], tuple[date, date]]] = {
        "YESTERDAY": lambda: (today - one_day, today),
        "TODAY": lambda: (today, today + one_day),
        "TOMORROW": lambda: (today + one_day, today + 2 * one_day),
        "LAST_WEEK": lambda: (week_start - timedelta(days=7), week_start),
        "THIS_WEEK": lambda: (week_start, week_start + timedelta(days=7)),
        "NEXT_WEEK": lambda: (week_start + timedelta(days=7), week_start + timedelta(days=14)),
        "LAST_MONTH": lambda: (_add_months(month_start, -1), month_start),
        "THIS_MONTH": lambda: (month_start, _add_months(month_start, 1)),
        "NEXT_MONTH": lambda: (_add_months(month_start, 1), _add_months(month_start, 2)),
        "LAST_QUARTER": lambda: (_add_months(quarter_start, -3), quarter_start),
        "THIS_QUARTER": lambda: (quarter_start, _add_months(quarter_start, 3)),
        "NEXT_QUARTER": lambda: (_add_months(quarter_start, 3), _add_months(quarter_start, 6)),
        "LAST_YEAR": lambda: (year_start.replace(year=today.year - 1), year_start),
        "THIS_YEAR": lambda: (year_start, year_start.replace(year=today.year + 1)),
        "NEXT_YEAR": lambda: (
            year_start.replace(year=today.year + 1),
            year_start.replace(year=today.year + 2),
        ),
        "LAST_90_DAYS": lambda: (today - timedelta(days=90), today + one_day),
        "NEXT_90_DAYS": lambda: (today + one_day, today + timedelta(days=91)),
        "LAST_N_DAYS": lambda: (today - timedelta(days=n), today + one_day),
        "NEXT_N_DAYS": lambda: (today + one_day, today + timedelta(days=n + 1)),
        "N_DAYS_AGO": lambda: (today - timedelta(days=n), today - timedelta(days=n - 1)),
        "LAST_N_WEEKS": lambda: (week_start - timedelta(days=7 * n), week_start),
        "NEXT_N_WEEKS": lambda: (
            week_start + timedelta(days=7),
            week_start + timedelta(days=7 * (n + 1)),
        ),
        "LAST_N_MONTHS": lambda: (_add_months(month_start, -n), month_start),
        "NEXT_N_MONTHS": lambda: (_add_months(month_start, 1), _add_months(month_start, n + 1)),
    }
    return ranges[name]()


# -- comparison matchers -------------------------------------------------------------------


def _ordered(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _in_day_range(op: str, day: date, start: date, end: date) -> bool:
    """Compare a day against the range [start, end) the way Salesforce compares date literals."""
    if op == "=":
        return start <= day < end
    if op == "!=":
        return not start <= day < end
    if op == "<":
        return day < start
    if op == "<=":
        return day < end
    if op == ">":
        return day >= end
    return day >= start


def like_regex(raw: str) -> re.Pattern[str]:
    """Compile a LIKE pattern (string-literal text, escapes intact); case-insensitive."""
    parts: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            escaped = raw[i + 1]
            if escaped == "u":
                parts.append(re.escape(chr(int(raw[i + 2 : i + 6], 16))))
                i += 6
                continue
            plain = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}.get(escaped, escaped)
            parts.append(re.escape(plain))
            i += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _value_matcher(op: str, literal: Literal, today: date) -> Callable[[Any], bool]:
    """A test for one stored value against `op literal` (value None handled by the caller)."""
    kind, target = literal.kind, literal.value
    if kind == "string" and op == "LIKE":
        pattern = like_regex(literal.raw)
        return lambda value: isinstance(value, str) and pattern.fullmatch(value) is not None
    if kind == "string":
        folded = target.casefold()
        number = _as_number(target)

        def match_string(value: Any) -> bool:
            if isinstance(value, str):
                return _ordered(op, value.casefold(), folded)
            if isinstance(value, bool):
                return _ordered(op, str(value).lower(), folded)
            if number is not None and isinstance(value, int | float):
                return _ordered(op, value, number)
            return op == "!="

        return match_string
    if kind == "number":
        return lambda value: _coerced(op, _as_number(value), target)
    if kind == "boolean":
        return lambda value: _coerced(op, _as_bool(value), target)
    if kind == "datetime":
        return lambda value: _coerced(op, _as_datetime(value), target)
    if kind == "date":
        start, end = target, target + timedelta(days=1)
    else:
        start, end = date_literal_range(target[0], target[1], today)

    def match_day(value: Any) -> bool:
        day = _as_day(value)
        return op == "!=" if day is None else _in_day_range(op, day, start, end)

    return match_day


def _coerced(op: str, value: Any, target: Any) -> bool:
    if value is None:
        return op == "!="
    return _ordered(op, value, target)


def _literal_test(op: str, literal: Literal, today: date) -> Callable[[Any], bool]:
    """A test for a stored value (possibly None) against `op literal`, Salesforce null rules."""
    if literal.kind == "null":
        if op == "=":
            return lambda value: value is None
        if op == "!=":
            return lambda value: value is not None
        return lambda value: False
    matcher = _value_matcher(op, literal, today)
    null_result = op == "!="
    return lambda value: null_result if value is None else matcher(value)


# -- field resolution ----------------------------------------------------------------------


class _FieldKey:
    """Finds one field in records whose key spelling may differ in case from the query."""

    def __init__(self, spelled: str, canonical: str | None) -> None:
        self.lower = spelled.lower()
        self.key = canonical or spelled
        self.canonical = canonical

    def get(self, record: Record) -> Any:
        key = self.key
        if key in record:
            return record[key]
        for candidate in record:
            if candidate.lower() == self.lower:
                self.key = candidate
                return record[candidate]
        return None

    def output_key(self, record: Record) -> str:
        """The canonical spelling: declared name, else the record's own key, else as written."""
        if self.canonical is None and self.key not in record:
            self.get(record)
        return self.canonical or self.key


class _Resolver:
    """Maps FieldRefs to accessors, validating names when the object's fields are known."""

    def __init__(
        self,
        query: Query,
        get_parent: GetParent,
        field_names: Iterable[str] | None,
        field_types: Mapping[str, str] | None,
    ) -> None:
        self.query = query
        self.get_parent = get_parent
        self.declared = None if field_names is None else {n.lower(): n for n in field_names}
        self.types = {k.lower(): v.lower() for k, v in (field_types or {}).items()}
        self.keys: dict[tuple[str, ...], _FieldKey] = {}
        self.relationships: dict[tuple[str, ...], str] = {}

    def fail(self, ref: FieldRef, detail: str) -> Exception:
        return located_error(self.query.source, ref.pos, detail, INVALID_FIELD)

    def split(self, ref: FieldRef) -> tuple[tuple[str, ...], str]:
        """(relationship names, field name) with an object-name or alias qualifier removed."""
        path = ref.path
        if len(path) > 1 and self.is_qualifier(path[0]):
            path = path[1:]
        return tuple(path[:-1]), path[-1]

    def is_qualifier(self, head: str) -> bool:
        """`Contact.Email FROM Contact` or `c.Email FROM Contact c` name the queried object."""
        lower = head.lower()
        if self.query.alias and lower == self.query.alias.lower():
            return True
        return lower == self.query.sobject.lower() and self.relationship_name(head) is None

    def relationship_name(self, spelled: str) -> str | None:
        """Canonical relationship name from the reference field (AccountId -> Account)."""
        if self.declared is None:
            return None
        lower = spelled.lower()
        if lower.endswith("__r") and (lower[:-1] + "c") in self.declared:
            return self.declared[lower[:-1] + "c"][:-1] + "r"
        if (lower + "id") in self.declared:
            return self.declared[lower + "id"][:-2]
        return None

    def relationships_for(self, ref: FieldRef, rels: tuple[str, ...]) -> tuple[str, ...]:
        canonical = []
        for depth, spelled in enumerate(rels):
            if depth == 0 and self.declared is not None:
                name = self.relationship_name(spelled)
                if name is None:
                    raise self.fail(
                        ref,
                        f"Didn't understand relationship '{spelled}' in field path. If you are "
                        "attempting to use a custom relationship, be sure to append the '__r' "
                        "after the custom relationship name. Please reference your WSDL or the "
                        "describe call for the appropriate names.",
                    )
                canonical.append(name)
            else:
                canonical.append(spelled)
        return tuple(canonical)

    def key_for(self, rels: tuple[str, ...], name: str, ref: FieldRef) -> _FieldKey:
        lookup = (*(r.lower() for r in rels), name.lower())
        if lookup in self.keys:
            return self.keys[lookup]
        canonical = None
        if not rels and self.declared is not None:
            canonical = self.declared.get(name.lower())
            if canonical is None and name.lower() == "id":
                canonical = "Id"
            if canonical is None:
                raise self.fail(
                    ref,
                    f"No such column '{name}' on entity '{self.query.sobject}'. If you are "
                    "attempting to use a custom field, be sure to append the '__c' after the "
                    "custom field name. Please reference your WSDL or the describe call for the "
                    "appropriate names.",
                )
        elif not rels and name.lower() == "id":
            canonical = "Id"
        key = self.keys[lookup] = _FieldKey(name, canonical)
        return key

    def accessor(self, ref: FieldRef) -> Accessor:
        rels, name = self.split(ref)
        canonical_rels = self.relationships_for(ref, rels)
        key = self.key_for(canonical_rels, name, ref)
        if not canonical_rels:
            return key.get
        get_parent = self.get_parent

        def through_parents(record: Record) -> Any:
            current: Record | None = record
            for relationship in canonical_rels:
                current = get_parent(current, relationship)
                if current is None:
                    return None
            return key.get(current)

        return through_parents

    def field_type(self, ref: FieldRef) -> str | None:
        rels, name = self.split(ref)
        return None if rels else self.types.get(name.lower())


# -- type checks (only with field_types) ---------------------------------------------------


def _check_literal_type(resolver: _Resolver, ref: FieldRef, literal: Literal) -> None:
    field_type = resolver.field_type(ref)
    if field_type is None or field_type in _UNCHECKED_TYPES or literal.kind == "null":
        return
    if field_type == "date":
        expected, allowed = "date", {"date", "date_literal"}
    elif field_type == "datetime":
        expected, allowed = "dateTime", {"datetime", "date_literal"}
    elif field_type == "boolean":
        expected, allowed = "boolean", {"boolean"}
    elif field_type in _NUMBER_TYPES:
        expected, allowed = _NUMBER_TYPES[field_type], {"number"}
    else:
        expected, allowed = "string", {"string"}
    if literal.kind in allowed:
        return
    quoting = (
        "should be enclosed in quotes"
        if expected == "string"
        else ("should not be enclosed in quotes")
    )
    detail = (
        f"value of filter criterion for field '{ref.text}' must be of type {expected} and {quoting}"
    )
    raise located_error(resolver.query.source, literal.pos, detail, INVALID_FIELD)


# -- compilation ---------------------------------------------------------------------------


def _compile(condition: Condition, resolver: _Resolver, today: date) -> Predicate:
    if isinstance(condition, And):
        parts = [_compile(c, resolver, today) for c in condition.operands]
        return lambda record: all(part(record) for part in parts)
    if isinstance(condition, Or):
        parts = [_compile(c, resolver, today) for c in condition.operands]
        return lambda record: any(part(record) for part in parts)
    if isinstance(condition, Not):
        inner = _compile(condition.operand, resolver, today)
        return lambda record: not inner(record)
    accessor = resolver.accessor(condition.field)
    if isinstance(condition, InList):
        for literal in condition.values:
            _check_literal_type(resolver, condition.field, literal)
        tests = [_literal_test("=", literal, today) for literal in condition.values]
        negated = condition.negated

        def in_list(record: Record) -> bool:
            value = accessor(record)
            return any(test(value) for test in tests) != negated

        return in_list
    assert isinstance(condition, Comparison)
    if condition.op != "LIKE":
        _check_literal_type(resolver, condition.field, condition.value)
    test = _literal_test(condition.op, condition.value, today)
    return lambda record: test(accessor(record))


def _sort_value(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        parsed = parse_datetime_value(value) if len(value) > 10 else None
        if parsed is not None:
            return (2, parsed)
        return (3, value.casefold())
    return (4, str(value))


def _sort(rows: list[Record], query: Query, resolver: _Resolver) -> None:
    """Stable multi-key sort in place: sort by the last key first."""
    for key in reversed(query.order_by):
        accessor = resolver.accessor(key.field)
        # With reverse=True the flag order flips too, hence the XOR.
        null_flag = 0 if key.nulls_first != key.descending else 1

        def sort_key(record: Record, accessor: Accessor = accessor, null_flag: int = null_flag):
            value = accessor(record)
            if value is None:
                return (null_flag, (0, 0))
            return (1 - null_flag, _sort_value(value))

        rows.sort(key=sort_key, reverse=key.descending)


# -- projection ----------------------------------------------------------------------------


class _Projection:
    """Output shape of a SELECT: flat fields plus nested dicts for parent relationships."""

    def __init__(self, get_parent: GetParent) -> None:
        self.get_parent = get_parent
        self.leaves: dict[str, _FieldKey] = {}
        self.children: dict[str, tuple[str, _Projection]] = {}
        self.order: list[tuple[str, str]] = []  # ("leaf"|"child", lower name)

    def add(self, rels: tuple[str, ...], key: _FieldKey) -> None:
        if not rels:
            if key.lower not in self.leaves:
                self.leaves[key.lower] = key
                self.order.append(("leaf", key.lower))
            return
        lower = rels[0].lower()
        if lower not in self.children:
            self.children[lower] = (rels[0], _Projection(self.get_parent))
            self.order.append(("child", lower))
        self.children[lower][1].add(rels[1:], key)

    def project(self, record: Record) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for kind, lower in self.order:
            if kind == "leaf":
                key = self.leaves[lower]
                row[key.output_key(record)] = key.get(record)
                continue
            relationship, child = self.children[lower]
            parent = self.get_parent(record, relationship)
            row[relationship] = None if parent is None else child.project(parent)
        return row


def execute(
    query: Query,
    records: Iterable[Record],
    *,
    get_parent: GetParent,
    now: datetime,
    field_names: Iterable[str] | None = None,
    field_types: Mapping[str, str] | None = None,
) -> list[dict[str, Any]] | int:
    """Run `query` over `records` (all of query.sobject); rows without "attributes", or a count.

    Filtering streams over `records`; only ORDER BY materialises the matching records.
    """
    resolver = _Resolver(query, get_parent, field_names, field_types)
    projection = _Projection(get_parent)
    for ref in query.fields:
        rels, name = resolver.split(ref)
        canonical_rels = resolver.relationships_for(ref, rels)
        projection.add(canonical_rels, resolver.key_for(canonical_rels, name, ref))
    today = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC).date()
    predicate = _compile(query.where, resolver, today) if query.where is not None else None
    for key in query.order_by:
        resolver.accessor(key.field)  # validate names before touching records

    matching: Iterator[Record] = iter(records)
    if predicate is not None:
        matching = filter(predicate, matching)
    start = query.offset or 0
    stop = None if query.limit is None else start + query.limit
    if query.order_by:
        rows = list(matching)
        _sort(rows, query, resolver)
        selected: Iterable[Record] = rows[start:stop]
    else:
        selected = islice(matching, start, stop)
    if query.is_count:
        return sum(1 for _ in selected)
    return [projection.project(record) for record in selected]
