"""The campaign filter's rule and the benchmark arithmetic, case by case (no sandbox needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.engine.benchmarks import campaign_rates, compare, table
from campaigns.engine.filters import CampaignFilter

START = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("rule", "sent_on", "tags", "kept"),
    [
        (CampaignFilter(active=False, start_date=START, tags=("Sale",)), None, [], True),
        (CampaignFilter(active=True), dt.date(2020, 1, 1), [], True),  # nothing chosen
        (CampaignFilter(active=True, start_date=START), dt.date(2026, 2, 28), [], False),
        (CampaignFilter(active=True, start_date=START), START, [], True),  # on the day
        (CampaignFilter(active=True, start_date=START), None, [], False),
        (CampaignFilter(active=True, tags=("Sale",)), None, ["sale", "Events"], True),
        (CampaignFilter(active=True, tags=("Sale",)), None, ["Events"], False),
        (CampaignFilter(active=True, start_date=START, tags=("Sale",)), START, ["Sale"], True),
        (
            CampaignFilter(active=True, start_date=START, tags=("Sale",)),
            dt.date(2026, 1, 1),
            ["Sale"],
            False,
        ),
        (CampaignFilter(active=True, start_date=START, tags=("Sale",)), START, [], False),
    ],
)
def test_the_filter_keeps(rule, sent_on, tags, kept):
    assert rule.keeps(sent_on, tags) is kept


def test_a_future_start_date_waits():
    today = dt.date(2026, 3, 1)
    assert CampaignFilter(active=True, start_date=dt.date(2026, 3, 2)).waits_for_start(today)
    assert not CampaignFilter(active=True, start_date=today).waits_for_start(today)
    assert not CampaignFilter(active=False, start_date=dt.date(2027, 1, 1)).waits_for_start(today)


def test_rates_are_per_delivered_email_and_compared_in_points():
    rates = campaign_rates(recipients=110, bounces=10, unique_opens=25, clicks=5, unsubscribes=1)
    assert rates == {
        "open_rate": 25.0,
        "click_rate": 5.0,
        "click_to_open_rate": 20.0,
        "unsubscribe_rate": 1.0,
    }
    rows = {row.metric: row for row in compare(rates, "Retail")}
    assert rows["open_rate"].average == 17.1
    assert rows["open_rate"].difference == pytest.approx(7.9)
    assert rows["open_rate"].above and rows["open_rate"].better
    assert rows["unsubscribe_rate"].above and not rows["unsubscribe_rate"].better


def test_nothing_sent_has_no_rates_and_an_unknown_industry_falls_back():
    rates = campaign_rates(recipients=0, bounces=0, unique_opens=0, clicks=0, unsubscribes=0)
    rows = compare(rates, "No such industry")
    assert all(row.rate is None and row.difference is None for row in rows)
    assert [row.average for row in rows] == list(
        table().averages[table().default_industry].values()
    )


def test_the_data_file_names_its_year_and_source():
    data = table()
    assert data.year == 2022 and "Campaign Monitor" in data.source and data.source_url
    assert data.default_industry in data.industries and len(data.industries) == 19
