"""Charts drawn as inline SVG (no chart library: the console works offline).

``{% storage_chart report %}`` draws the Storage screen's bars: per object one bar for the
records now and one per forecast horizon. The numbers come from
:func:`sync.services.storage.storage_report`; where each bar goes on the page is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from sync.services.storage import FORECAST_HORIZONS, RECORD_KB, ObjectRow, StorageReport, format_kb

register = template.Library()

WIDTH = 640
LABEL_WIDTH = 170
BAR_AREA = 360
BAR_HEIGHT = 9
GROUP_GAP = 14
LEGEND_HEIGHT = 24
LEGEND_STEP = 110
SERIES_COLOURS = ("#0b5cad", "#7aa7d9", "#a9c6e8", "#d3e2f3")


@register.inclusion_tag("sync/partials/storage_chart.html")
def storage_chart(report: StorageReport) -> dict[str, Any]:
    return {"chart": storage_chart_geometry(report.rows, report.horizons)}


def storage_chart_geometry(
    rows: Iterable[ObjectRow], horizons: Iterable[int] = FORECAST_HORIZONS
) -> dict[str, Any]:
    """Bar geometry: per object one bar for now and one per forecast horizon.

    Coordinates are pre-formatted strings so template localisation never touches them.
    """
    rows = list(rows)
    series = ["Now", *(f"In {h} days" for h in horizons)]
    largest = max([1, *(max(row.records, *row.forecast) for row in rows)])
    step = BAR_HEIGHT + 1
    groups = []
    y = LEGEND_HEIGHT
    for row in rows:
        bars = []
        for index, records in enumerate([row.records, *row.forecast]):
            width = BAR_AREA * records / largest
            top = y + index * step
            bars.append(
                {
                    "x": _n(LABEL_WIDTH),
                    "y": _n(top),
                    "width": _n(max(width, 1.0) if records else 0),
                    "height": _n(BAR_HEIGHT),
                    "colour": SERIES_COLOURS[index],
                    "text_x": _n(LABEL_WIDTH + width + 4),
                    "text_y": _n(top + BAR_HEIGHT - 1),
                    "title": f"{row.label}, {series[index].lower()}: {records:,} records "
                    f"({format_kb(records * RECORD_KB)})",
                    "value": f"{records:,}",
                }
            )
        group_height = len(bars) * step
        groups.append(
            {
                "label": row.label,
                "label_x": _n(LABEL_WIDTH - 8),
                "label_y": _n(y + group_height / 2 + 4),
                "bars": bars,
            }
        )
        y += group_height + GROUP_GAP
    legend = [
        {
            "label": label,
            "colour": colour,
            "x": _n(LABEL_WIDTH + index * LEGEND_STEP),
            "text_x": _n(LABEL_WIDTH + index * LEGEND_STEP + 14),
        }
        for index, (label, colour) in enumerate(zip(series, SERIES_COLOURS, strict=True))
    ]
    return {"width": _n(WIDTH), "height": _n(y), "groups": groups, "legend": legend}


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
