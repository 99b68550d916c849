"""SOQL syntax tree, the parsed `Query`, and Salesforce-shaped query errors.

Salesforce reports query problems as `{"message": ..., "errorCode": ...}` where the message quotes
a window of the query, a caret under the offending token, the row/column and a short reason::

    SELECT Id FORM Contact
              ^
    ERROR at Row:1:Column:11
    unexpected token: 'FORM'

`located_error` builds exactly that shape so the sandbox can answer like the real API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"

# How many characters of the query Salesforce shows on each side of the caret.
_SNIPPET_RADIUS = 40


class SoqlError(ValueError):
    """A query Salesforce would reject; `error_code` is the API `errorCode`.

    `str(error)` is the full Salesforce-like message (snippet, caret, row/column, reason);
    `detail` is only the reason, e.g. ``unexpected token: 'FORM'``.
    """

    def __init__(self, message: str, error_code: str = MALFORMED_QUERY, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.detail = detail or message


def located_error(
    source: str, pos: int, detail: str, error_code: str = MALFORMED_QUERY
) -> SoqlError:
    """A SoqlError whose message points at `source[pos]` the way Salesforce does."""
    pos = max(0, min(pos, len(source)))
    line_start = source.rfind("\n", 0, pos) + 1
    line_end = source.find("\n", pos)
    if line_end == -1:
        line_end = len(source)
    row = source.count("\n", 0, pos) + 1
    column = pos - line_start + 1
    window_start = max(line_start, pos - _SNIPPET_RADIUS)
    window_end = min(line_end, pos + _SNIPPET_RADIUS)
    snippet = source[window_start:window_end]
    caret = " " * (pos - window_start) + "^"
    message = f"\n{snippet}\n{caret}\nERROR at Row:{row}:Column:{column}\n{detail}"
    return SoqlError(message, error_code, detail)


@dataclass(frozen=True)
class FieldRef:
    """A field path as written: ("Email",) or ("Account", "Owner", "Email")."""

    path: tuple[str, ...]
    pos: int = 0

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Literal:
    """A value in a WHERE clause.

    kind is one of "string", "number", "boolean", "null", "date", "datetime", "date_literal".
    `value` is the Python value (str, int/float, bool, None, datetime.date, aware
    datetime.datetime, or (NAME, n) for date literals such as ("LAST_N_DAYS", 30)).
    `raw` keeps a string literal's text between the quotes, escapes intact (LIKE needs it).
    """

    kind: str
    value: Any
    text: str
    pos: int = 0
    raw: str = ""


@dataclass(frozen=True)
class Comparison:
    """`field op value`; op is one of = != < <= > >= LIKE (`<>` is stored as `!=`)."""

    field: FieldRef
    op: str
    value: Literal


@dataclass(frozen=True)
class InList:
    field: FieldRef
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class And:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Condition, ...]


Condition = Comparison | InList | Not | And | Or


@dataclass(frozen=True)
class OrderKey:
    """One ORDER BY key. Salesforce defaults: ASC NULLS FIRST, DESC NULLS LAST."""

    field: FieldRef
    descending: bool = False
    nulls_first: bool = True


@dataclass
class Query:
    """A parsed SELECT. `fields` is empty for SELECT COUNT()."""

    sobject: str
    fields: list[FieldRef]
    where: Condition | None = None
    order_by: list[OrderKey] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    is_count: bool = False
    source: str = ""
    sobject_pos: int = 0
    alias: str | None = None


def invalid_type_error(query: Query) -> SoqlError:
    """The INVALID_TYPE error Salesforce gives for an unknown FROM object (for the server)."""
    detail = (
        f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference your WSDL "
        "or the describe call for the appropriate names."
    )
    return located_error(query.source, query.sobject_pos, detail, INVALID_TYPE)
