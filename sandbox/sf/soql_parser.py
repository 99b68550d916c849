"""Tokenizer and recursive-descent parser for the sandbox's SOQL subset.

Grammar (keywords case-insensitive)::

    query     := SELECT select FROM name [alias] [WHERE cond] [ORDER BY key {, key}]
                 [LIMIT int] [OFFSET int] [FOR (VIEW | REFERENCE)] EOF
    select    := COUNT ( ) | path {, path}
    cond      := unary {AND unary} | unary {OR unary}
    unary     := NOT unary | ( cond ) | path op literal | path [NOT] IN ( literal {, literal} )
                 | path LIKE string
    key       := path [ASC | DESC] [NULLS (FIRST | LAST)]

Like Salesforce, AND and OR cannot be mixed at one level without parentheses
("a AND b OR c" is MALFORMED_QUERY at the OR); NOT binds to the condition right after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from sandbox.sf.soql_ast import (
    NUMBER_OUTSIDE_VALID_RANGE,
    And,
    Comparison,
    Condition,
    FieldRef,
    InList,
    Literal,
    Not,
    Or,
    OrderKey,
    Query,
    SoqlError,
    located_error,
)

MAX_OFFSET = 2000
MAX_QUERY_LENGTH = 100_000

# SOQL's reserved keywords: never a field or object name (TRUE/FALSE/NULL are values).
RESERVED = frozenset(
    {"AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES"}
    | {"LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH"}
    | {"TRUE", "FALSE"}
)
# Words that start the clause after FROM, so they are not an object alias ("Order" stays a
# valid object and relationship name elsewhere).
CLAUSE_WORDS = RESERVED | {"ORDER", "OFFSET", "FOR", "USING", "UPDATE", "ALL"}

# Relative date literals: name -> whether it takes ":n".
DATE_LITERALS = {
    "YESTERDAY": False,
    "TODAY": False,
    "TOMORROW": False,
    "LAST_WEEK": False,
    "THIS_WEEK": False,
    "NEXT_WEEK": False,
    "LAST_MONTH": False,
    "THIS_MONTH": False,
    "NEXT_MONTH": False,
    "LAST_90_DAYS": False,
    "NEXT_90_DAYS": False,
    "LAST_QUARTER": False,
    "THIS_QUARTER": False,
    "NEXT_QUARTER": False,
    "LAST_YEAR": False,
    "THIS_YEAR": False,
    "NEXT_YEAR": False,
    "LAST_N_DAYS": True,
    "NEXT_N_DAYS": True,
    "N_DAYS_AGO": True,
    "LAST_N_WEEKS": True,
    "NEXT_N_WEEKS": True,
    "LAST_N_MONTHS": True,
    "NEXT_N_MONTHS": True,
}

_COMPARISON_OPS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

_STRING_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "%",
    "_": "_",
}

_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})"
)
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![\w:.-])")
_PARTIAL_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]*")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::\d+)?")
_OP_RE = re.compile(r"!=|<>|<=|>=|=|<|>")
_WS_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Token:
    kind: str  # IDENT STRING NUMBER DATE DATETIME OP ( ) , EOF
    text: str
    pos: int
    value: object = None
    raw: str = ""

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "IDENT" and self.text.upper() in words


def _line_position(source: str, pos: int) -> str:
    """ANTLR-style "line R:C" (C zero-based) that Salesforce puts in lexer errors."""
    line_start = source.rfind("\n", 0, pos) + 1
    row = source.count("\n", 0, pos) + 1
    return f"line {row}:{pos - line_start}"


def _lex_error(source: str, pos: int) -> SoqlError:
    char = source[pos] if pos < len(source) else "<EOF>"
    detail = f"{_line_position(source, pos)} no viable alternative at character '{char}'"
    return located_error(source, pos, detail)


def _read_string(source: str, start: int) -> Token:
    """Read a single-quoted literal starting at `start` (the opening quote)."""
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "'":
            return Token(
                "STRING", source[start : i + 1], start, "".join(chars), source[start + 1 : i]
            )
        if char != "\\":
            chars.append(char)
            i += 1
            continue
        escape = source[i + 1 : i + 2]
        if escape in _STRING_ESCAPES:
            chars.append(_STRING_ESCAPES[escape])
            i += 2
        elif escape == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", source[i + 2 : i + 6]):
            chars.append(chr(int(source[i + 2 : i + 6], 16)))
            i += 6
        else:
            end = source.find("'", i + 1)
            literal = source[start : end + 1] if end != -1 else source[start:]
            detail = (
                f"Invalid string literal '{literal}'. Illegal character sequence "
                f"'\\{escape}' in string literal."
            )
            raise located_error(source, start, detail)
    detail = f"{_line_position(source, len(source))} mismatched character '<EOF>' expecting '''"
    raise located_error(source, len(source), detail)


def _read_datetime(source: str, match: re.Match[str]) -> Token:
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        if zone == "Z":
            tzinfo = UTC
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tzinfo = timezone(sign * offset)
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo
        )
    except ValueError:
        raise located_error(source, match.start(), f"Invalid datetime: {match.group(0)}")
    return Token("DATETIME", match.group(0), match.start(), value)


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if ws := _WS_RE.match(source, pos):
            pos = ws.end()
            continue
        if char == "'":
            token = _read_string(source, pos)
        elif char in "(),":
            token = Token(char, char, pos)
        elif char == ":":
            detail = "Bind variables only allowed in Apex code"
            raise located_error(source, pos, detail)
        elif match := _DATETIME_RE.match(source, pos):
            token = _read_datetime(source, match)
        elif match := _DATE_RE.match(source, pos):
            try:
                value = date(*(int(part) for part in match.groups()))
            except ValueError:
                raise located_error(source, pos, f"Invalid date: {match.group(0)}")
            token = Token("DATE", match.group(0), pos, value)
        elif match := _PARTIAL_DATETIME_RE.match(source, pos):
            raise _lex_error(source, match.end())
        elif match := _NUMBER_RE.match(source, pos):
            text = match.group(0)
            value = float(text) if "." in text else int(text)
            token = Token("NUMBER", text, pos, value)
        elif match := _IDENT_RE.match(source, pos):
            token = Token("IDENT", match.group(0), pos)
        elif match := _OP_RE.match(source, pos):
            token = Token("OP", match.group(0), pos)
        else:
            raise _lex_error(source, pos)
        tokens.append(token)
        pos = pos + len(token.text)
    tokens.append(Token("EOF", "<EOF>", len(source)))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0

    # -- token helpers -------------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "EOF":
            self.index += 1
        return token

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.current
        shown = "<EOF>" if token.kind == "EOF" else f"'{token.text}'"
        return located_error(self.source, token.pos, f"unexpected token: {shown}")

    def error_at(self, token: Token, detail: str, code: str = "MALFORMED_QUERY") -> SoqlError:
        return located_error(self.source, token.pos, detail, code)

    def expect_keyword(self, *words: str) -> Token:
        if not self.current.is_keyword(*words):
            raise self.unexpected()
        return self.advance()

    def expect(self, kind: str) -> Token:
        if self.current.kind != kind:
            raise self.unexpected()
        return self.advance()

    def accept_keyword(self, *words: str) -> Token | None:
        if self.current.is_keyword(*words):
            return self.advance()
        return None

    # -- clauses -------------------------------------------------------------------------

    def parse_query(self) -> Query:
        self.expect_keyword("SELECT")
        fields, is_count = self.parse_select_list()
        self.expect_keyword("FROM")
        sobject = self.expect_name()
        alias = None
        if self.current.kind == "IDENT" and self.current.text.upper() not in CLAUSE_WORDS:
            alias = self.expect_name().text
        query = Query(
            sobject=sobject.text,
            fields=fields,
            is_count=is_count,
            source=self.source,
            sobject_pos=sobject.pos,
            alias=alias,
        )
        if self.accept_keyword("WHERE"):
            query.where = self.parse_condition()
        if self.accept_keyword("ORDER"):
            self.expect_keyword("BY")
            query.order_by = self.parse_order_by()
        if self.accept_keyword("LIMIT"):
            query.limit = self.parse_count_value()
        if offset_token := self.accept_keyword("OFFSET"):
            query.offset = self.parse_count_value()
            if query.offset > MAX_OFFSET:
                detail = f"Maximum SOQL offset allowed is {MAX_OFFSET}"
                raise self.error_at(offset_token, detail, NUMBER_OUTSIDE_VALID_RANGE)
        if self.accept_keyword("FOR"):
            self.expect_keyword("VIEW", "REFERENCE")
        if self.current.kind != "EOF":
            raise self.unexpected()
        return query

    def expect_name(self) -> Token:
        """An object name or alias: one identifier, no dots, not a keyword."""
        token = self.current
        if token.kind != "IDENT" or "." in token.text or ":" in token.text:
            raise self.unexpected()
        if token.text.upper() in RESERVED:
            raise self.unexpected()
        return self.advance()

    def parse_select_list(self) -> tuple[list[FieldRef], bool]:
        if self.current.is_keyword("COUNT") and self.tokens[self.index + 1].kind == "(":
            count = self.advance()
            self.advance()
            if self.current.kind != ")":
                raise self.error_at(
                    count, "COUNT(fieldName) aggregate queries are not supported by the sandbox"
                )
            self.advance()
            if self.current.kind == ",":
                raise self.unexpected()
            return [], True
        fields = [self.parse_select_item()]
        while self.current.kind == ",":
            self.advance()
            fields.append(self.parse_select_item())
        seen: set[str] = set()
        for ref in fields:
            if ref.text.lower() in seen:
                detail = f"duplicate field selected: {ref.text}"
                raise located_error(self.source, ref.pos, detail)
            seen.add(ref.text.lower())
        return fields, False

    def parse_select_item(self) -> FieldRef:
        if self.current.kind == "(":
            raise self.error_at(self.current, "Subqueries are not supported by the sandbox")
        ref = self.parse_field()
        if self.current.kind == "(" and ref.text.upper() == "COUNT":
            detail = "COUNT() must be the only item in the SELECT list"
            raise located_error(self.source, ref.pos, detail)
        if self.current.kind == "(":
            detail = f"Function {ref.text}() is not supported by the sandbox SOQL subset"
            raise located_error(self.source, ref.pos, detail)
        return ref

    def parse_field(self) -> FieldRef:
        token = self.current
        if token.kind != "IDENT" or ":" in token.text:
            raise self.unexpected()
        if token.text.split(".")[0].upper() in RESERVED:
            raise self.unexpected()
        self.advance()
        return FieldRef(tuple(token.text.split(".")), token.pos)

    def parse_order_by(self) -> list[OrderKey]:
        keys = []
        while True:
            ref = self.parse_field()
            descending = bool(self.accept_keyword("DESC"))
            if not descending:
                self.accept_keyword("ASC")
            nulls_first = not descending
            if self.accept_keyword("NULLS"):
                nulls_first = self.expect_keyword("FIRST", "LAST").text.upper() == "FIRST"
            keys.append(OrderKey(ref, descending, nulls_first))
            if self.current.kind != ",":
                return keys
            self.advance()

    def parse_count_value(self) -> int:
        token = self.current
        if token.kind != "NUMBER" or not isinstance(token.value, int) or token.value < 0:
            raise self.unexpected()
        if token.text.startswith("+"):
            raise self.unexpected()
        self.advance()
        return token.value

    # -- conditions ----------------------------------------------------------------------

    def parse_condition(self) -> Condition:
        operands = [self.parse_unary()]
        joiner: str | None = None
        while self.current.is_keyword("AND", "OR"):
            word = self.current.text.upper()
            if joiner is not None and word != joiner:
                raise self.unexpected()  # Salesforce demands parentheses when mixing AND/OR
            joiner = word
            self.advance()
            operands.append(self.parse_unary())
        if joiner is None:
            return operands[0]
        return And(tuple(operands)) if joiner == "AND" else Or(tuple(operands))

    def parse_unary(self) -> Condition:
        if self.accept_keyword("NOT"):
            return Not(self.parse_unary())
        if self.current.kind == "(":
            self.advance()
            condition = self.parse_condition()
            self.expect(")")
            return condition
        return self.parse_simple_condition()

    def parse_simple_condition(self) -> Condition:
        ref = self.parse_field()
        token = self.current
        if token.kind == "OP":
            self.advance()
            return Comparison(ref, _COMPARISON_OPS[token.text], self.parse_literal())
        if token.is_keyword("LIKE"):
            self.advance()
            if self.current.kind != "STRING":
                raise self.unexpected()
            return Comparison(ref, "LIKE", self.parse_literal())
        if token.is_keyword("IN"):
            self.advance()
            return InList(ref, self.parse_literal_list())
        if token.is_keyword("NOT"):
            self.advance()
            self.expect_keyword("IN")
            return InList(ref, self.parse_literal_list(), negated=True)
        if token.is_keyword("INCLUDES", "EXCLUDES"):
            raise self.error_at(token, f"{token.text.upper()} is not supported by the sandbox")
        raise self.unexpected()

    def parse_literal_list(self) -> tuple[Literal, ...]:
        self.expect("(")
        if self.current.is_keyword("SELECT"):
            raise self.error_at(
                self.current, "Semi-join subqueries are not supported by the sandbox"
            )
        values = [self.parse_literal()]
        while self.current.kind == ",":
            self.advance()
            values.append(self.parse_literal())
        self.expect(")")
        return tuple(values)

    def parse_literal(self) -> Literal:
        token = self.current
        if token.kind == "STRING":
            self.advance()
            return Literal("string", token.value, token.text, token.pos, token.raw)
        if token.kind in ("NUMBER", "DATE", "DATETIME"):
            self.advance()
            return Literal(token.kind.lower(), token.value, token.text, token.pos)
        if token.kind != "IDENT":
            raise self.unexpected()
        word = token.text.upper()
        if word in ("TRUE", "FALSE"):
            self.advance()
            return Literal("boolean", word == "TRUE", token.text, token.pos)
        if word == "NULL":
            self.advance()
            return Literal("null", None, token.text, token.pos)
        name, _, amount = word.partition(":")
        if name in DATE_LITERALS and DATE_LITERALS[name] == bool(amount):
            self.advance()
            value = (name, int(amount) if amount else None)
            return Literal("date_literal", value, token.text, token.pos)
        raise self.unexpected()


def parse(text: str) -> Query:
    """Parse a SOQL SELECT into a Query, or raise SoqlError (MALFORMED_QUERY)."""
    if len(text) > MAX_QUERY_LENGTH:
        detail = f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH} characters"
        raise SoqlError(detail, detail=detail)
    return _Parser(text).parse_query()
