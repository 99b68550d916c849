"""Industry benchmarks: a campaign's rates compared with its industry's averages.

- The averages ship as data, ``campaigns/data/industry_benchmarks.json``, with their year and
  source; a later year's table replaces the file without a code change.
- Rates are in percent of delivered e-mails (recipients less bounces), as the published figures
  are: open = unique opens, click-through = clicks, unsubscribe = unsubscribes; click-to-open is
  clicks / unique opens. The difference is the campaign's rate less the average, in points.
- The industry is the CM client's own when the admin picked one, else the account's.
- Each ``CMS_Campaign__c`` record carries the industry, the averages and the differences
  (fields of :data:`sync.clients.salesforce_schema.CAMPAIGN_BENCHMARK_FIELDS`), written with
  every write of the record; the campaign page shows the same comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from campaigns.models import CampaignSettings, ClientIndustry
from sync.clients.salesforce_schema import (
    CAMPAIGN_BENCHMARK_FIELDS,
    CAMPAIGN_BENCHMARK_INDUSTRY,
)
from sync.models import CMClient

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "industry_benchmarks.json"

# metric → what people read
METRICS: dict[str, str] = {
    "open_rate": "Open rate",
    "click_rate": "Click-through rate",
    "click_to_open_rate": "Click-to-open rate",
    "unsubscribe_rate": "Unsubscribe rate",
}
# For unsubscribes, below the average is the better side.
LOWER_IS_BETTER = {"unsubscribe_rate"}


@dataclass(frozen=True)
class BenchmarkTable:
    year: int
    source: str
    source_url: str
    default_industry: str
    averages: dict[str, dict[str, float]]  # industry → metric → percent

    @property
    def industries(self) -> list[str]:
        return list(self.averages)

    def industry_or_default(self, industry: str | None) -> str:
        return industry if industry in self.averages else self.default_industry


@lru_cache(maxsize=1)
def table() -> BenchmarkTable:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    averages = {
        row["industry"]: {metric: float(row[metric]) for metric in METRICS}
        for row in data["industries"]
    }
    return BenchmarkTable(
        year=int(data["year"]),
        source=str(data["source"]),
        source_url=str(data.get("source_url", "")),
        default_industry=str(data["default_industry"]),
        averages=averages,
    )


def _percent(part: int, whole: int) -> float | None:
    if whole <= 0:
        return None
    return round(part * 100 / whole, 2)


def campaign_rates(
    *, recipients: int, bounces: int, unique_opens: int, clicks: int, unsubscribes: int
) -> dict[str, float | None]:
    delivered = max(recipients - bounces, 0)
    return {
        "open_rate": _percent(unique_opens, delivered),
        "click_rate": _percent(clicks, delivered),
        "click_to_open_rate": _percent(clicks, unique_opens),
        "unsubscribe_rate": _percent(unsubscribes, delivered),
    }


@dataclass(frozen=True)
class Comparison:
    metric: str
    label: str
    rate: float | None
    average: float
    difference: float | None  # points, campaign less average

    @property
    def above(self) -> bool:
        return self.difference is not None and self.difference > 0

    @property
    def below(self) -> bool:
        return self.difference is not None and self.difference < 0

    @property
    def points(self) -> float | None:
        return None if self.difference is None else abs(self.difference)

    @property
    def better(self) -> bool:
        if self.difference is None or self.difference == 0:
            return False
        return self.below if self.metric in LOWER_IS_BETTER else self.above


def compare(rates: dict[str, float | None], industry: str) -> list[Comparison]:
    averages = table().averages[table().industry_or_default(industry)]
    result = []
    for metric, label in METRICS.items():
        rate, average = rates.get(metric), averages[metric]
        difference = None if rate is None else round(rate - average, 2)
        result.append(Comparison(metric, label, rate, average, difference))
    return result


def industry_for(cm_client: CMClient | None, options: CampaignSettings) -> str:
    """The client's industry, else the account's (an industry gone from the data: the default)."""
    chosen = None
    if cm_client is not None:
        chosen = (
            ClientIndustry.objects.filter(cm_client=cm_client)
            .values_list("industry", flat=True)
            .first()
        )
    return table().industry_or_default(chosen or options.benchmark_industry)


def _int(value: Any) -> int:
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def record_fields(record: dict[str, Any], industry: str) -> dict[str, Any]:
    """The benchmark fields of a ``CMS_Campaign__c`` record (from its own statistics)."""
    rates = campaign_rates(
        recipients=_int(record.get("Recipients__c")),
        bounces=_int(record.get("Bounces__c")),
        unique_opens=_int(record.get("Unique_Opens__c")),
        clicks=_int(record.get("Clicks__c")),
        unsubscribes=_int(record.get("Unsubscribes__c")),
    )
    fields: dict[str, Any] = {
        CAMPAIGN_BENCHMARK_INDUSTRY: f"{table().industry_or_default(industry)} ({table().year})"
    }
    for row in compare(rates, industry):
        average_field, difference_field = CAMPAIGN_BENCHMARK_FIELDS[row.metric]
        fields[average_field] = row.average
        fields[difference_field] = row.difference
    return fields
