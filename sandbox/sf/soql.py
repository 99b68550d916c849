"""SOQL subset for the Salesforce sandbox: `parse(text)` then `execute(query, records, ...)`.

The implementation lives in soql_ast (tree, errors), soql_parser (tokenizer + parser) and
soql_eval (evaluation); this module is the public interface the sandbox server uses.
"""

from __future__ import annotations

from sandbox.sf.soql_ast import (
    INVALID_FIELD,
    INVALID_TYPE,
    MALFORMED_QUERY,
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
    invalid_type_error,
)
from sandbox.sf.soql_eval import date_literal_range, execute
from sandbox.sf.soql_parser import MAX_OFFSET, parse

__all__ = [
    "INVALID_FIELD",
    "INVALID_TYPE",
    "MALFORMED_QUERY",
    "MAX_OFFSET",
    "NUMBER_OUTSIDE_VALID_RANGE",
    "And",
    "Comparison",
    "Condition",
    "FieldRef",
    "InList",
    "Literal",
    "Not",
    "Or",
    "OrderKey",
    "Query",
    "SoqlError",
    "date_literal_range",
    "execute",
    "invalid_type_error",
    "parse",
]
