"""CM's paging vocabulary (page, pagesize, orderfield, orderdirection) and its result envelope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import (
    ORDER_DIRECTION_INVALID,
    ORDER_FIELD_INVALID,
    PAGE_INVALID,
    PAGE_SIZE_INVALID,
    error,
)

MIN_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Paging:
    page: int
    page_size: int
    order_field: str
    direction: str  # "asc" or "desc"

    @property
    def descending(self) -> bool:
        return self.direction == "desc"

    def bounds(self, total: int) -> tuple[int, int]:
        """Start and stop positions of this page within ``total`` ordered records."""
        start = min((self.page - 1) * self.page_size, total)
        return start, min(start + self.page_size, total)


def _int(value: Any, pair: tuple[int, str]) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise error(pair) from None


def read_paging(
    query: Any,
    *,
    default_field: str,
    fields: tuple[str, ...],
    default_direction: str = "asc",
    has_order_field: bool = True,
) -> Paging:
    """Validate the paging parameters of a query (names matched case-insensitively)."""
    page = query.get("page")
    page_number = 1 if page in (None, "") else _int(page, PAGE_INVALID)
    if page_number < 1:
        raise error(PAGE_INVALID)
    size = query.get("pagesize")
    page_size = MAX_PAGE_SIZE if size in (None, "") else _int(size, PAGE_SIZE_INVALID)
    if not MIN_PAGE_SIZE <= page_size <= MAX_PAGE_SIZE:
        raise error(PAGE_SIZE_INVALID)
    order_field = default_field
    raw_field = query.get("orderfield") if has_order_field else None
    if raw_field not in (None, ""):
        order_field = str(raw_field).strip().lower()
        if order_field not in fields:
            raise error(ORDER_FIELD_INVALID)
    direction = default_direction
    raw_direction = query.get("orderdirection")
    if raw_direction not in (None, ""):
        direction = str(raw_direction).strip().lower()
        if direction not in ("asc", "desc"):
            raise error(ORDER_DIRECTION_INVALID)
    return Paging(page_number, page_size, order_field, direction)


def envelope(
    results: list[Any], paging: Paging, total: int, ordered_by: str | None = None
) -> dict[str, Any]:
    """The paged response body, keys in CM's order."""
    return {
        "Results": results,
        "ResultsOrderedBy": ordered_by or paging.order_field,
        "OrderDirection": paging.direction,
        "PageNumber": paging.page,
        "PageSize": paging.page_size,
        "RecordsOnThisPage": len(results),
        "TotalNumberOfRecords": total,
        "NumberOfPages": -(-total // paging.page_size),
    }


def page_of(items: list[Any], paging: Paging) -> list[Any]:
    start, stop = paging.bounds(len(items))
    return items[start:stop]
