"""CM writes dates as the client's wall clock; Salesforce gets the true instant."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce_schema import TRACKING_OBJECT
from sync.engine import records
from sync.models import RunStatus
from sync.services.runs import run_inline

JANUARY = dt.datetime(2026, 1, 15, 12, 0)
JULY = dt.datetime(2026, 7, 15, 12, 0)


@pytest.mark.parametrize(
    ("label", "january", "july"),
    [
        ("(GMT+10:00) Canberra, Melbourne, Sydney", 11 * 60, 10 * 60),  # DST in January
        ("(GMT+10:00) Brisbane", 10 * 60, 10 * 60),
        ("(GMT-05:00) Eastern Time (US & Canada)", -5 * 60, -4 * 60),
        ("(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi", 330, 330),
        ("(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London", 0, 60),
        ("(GMT) Coordinated Universal Time", 0, 0),
        ("(GMT+03:00) Some label CM does not list", 180, 180),  # its standard offset
        ("", 0, 0),
        ("Somewhere odd", 0, 0),
    ],
)
def test_zone_labels_give_their_offset(label, january, july):
    zone = records.zone_from_cm(label)
    for moment, minutes in ((JANUARY, january), (JULY, july)):
        assert moment.replace(tzinfo=zone).utcoffset() == dt.timedelta(minutes=minutes)


def test_every_label_cm_offers_maps_to_a_zone_with_its_standard_offset():
    import re

    from lib.cm_time_zones import CM_LABEL_TO_IANA

    assert len(CM_LABEL_TO_IANA) == 97
    moved = {"(GMT-11:00) Samoa"}  # crossed the date line in 2011: CM's label predates it
    for label in set(CM_LABEL_TO_IANA) - moved:
        match = re.match(r"\(GMT(?:([+-])(\d\d):(\d\d))?\)", label)
        sign = -1 if match.group(1) == "-" else 1
        standard = sign * (int(match.group(2) or 0) * 60 + int(match.group(3) or 0))
        zone = records.zone_from_cm(label)
        offsets = {
            int(m.replace(tzinfo=zone).utcoffset().total_seconds() // 60) for m in (JANUARY, JULY)
        }
        # The label's offset is the zone's standard one; a few zones moved by an hour since CM
        # wrote its labels (Kazakhstan unified on +05:00 in 2024), so allow that much.
        assert abs(min(offsets) - standard) <= 60, label


def test_event_dates_become_utc_and_keys_do_not_depend_on_the_zone():
    sydney = records.zone_from_cm("(GMT+10:00) Canberra, Melbourne, Sydney")
    event = {"EmailAddress": "A@Example.com", "Date": "2026-03-01 09:30:00"}
    local = records.tracking_record("c", "camp", "Opened", event, event["Date"], sydney)
    plain = records.tracking_record("c", "camp", "Opened", event, event["Date"])
    assert local["Event_Date__c"] == "2026-02-28T22:30:00.000+0000"  # Sydney summer: +11
    assert local["CM_Key__c"] == plain["CM_Key__c"]


@pytest.mark.parametrize(
    ("client_name", "iana"),
    [("Harbour Lane Coffee", "Australia/Sydney"), ("Bluegum Health Clinics", "America/New_York")],
)
@pytest.mark.django_db(transaction=True)
def test_a_new_open_lands_at_its_true_instant_and_cursors_round_trip(
    connection, cm_sandbox, sf_sandbox, client_name, iana
):
    """End to end: the sandbox writes the client's dates in its own zone, as CM does."""
    run_inline(connection)
    client = connection.clients.get(name=client_name)
    cm = CampaignMonitorClient(
        cm_sandbox.api_key, base_url=cm_sandbox.api_base, ca_bundle=cm_sandbox.ca_file
    )
    campaign = next(iter(cm.iter_sent_campaigns(client.cm_client_id)))
    opener = next(iter(cm.iter_campaign_recipients(campaign["CampaignID"])))["EmailAddress"]
    before = sandbox_now(cm_sandbox)
    cm_sandbox.add_events(campaign["CampaignID"], "opens", [opener])
    after = sandbox_now(cm_sandbox)
    newest = list(cm.iter_campaign_events(campaign["CampaignID"], "opens"))[-1]
    wall_clock = dt.datetime.strptime(newest["Date"], "%Y-%m-%d %H:%M:%S")
    local = ZoneInfo(iana)  # CM's date is the client's wall clock, not UTC
    assert before.astimezone(local).replace(tzinfo=None) <= wall_clock
    assert wall_clock <= after.astimezone(local).replace(tzinfo=None)

    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED
    key = records.tracking_record(
        client.cm_client_id, campaign["CampaignID"], "Opened", newest, newest["Date"]
    )["CM_Key__c"]
    [landed] = [r for r in sf_sandbox.app.records(TRACKING_OBJECT) if r["CM_Key__c"] == key]
    instant = dt.datetime.strptime(landed["Event_Date__c"][:16], "%Y-%m-%dT%H:%M")
    assert before <= instant.replace(tzinfo=dt.UTC) <= after
    quiet = run_inline(connection)
    assert quiet.sf_write_calls == 0  # the cursor, kept in UTC, reads back the same minute


def sandbox_now(cm_sandbox) -> dt.datetime:
    """The sandbox clock (its control endpoints speak UTC), to the minute."""
    text = cm_sandbox.info()["now"]
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_the_zone_is_read_once_from_client_details(connection, cm_sandbox):
    cm_sandbox.reset_stats()
    run_inline(connection)
    first = cm_sandbox.stats().get("clients.details", 0)
    run_inline(connection)
    assert first == connection.clients.filter(selected=True).count()
    assert cm_sandbox.stats().get("clients.details", 0) == first
    assert set(connection.clients.values_list("cm_time_zone", flat=True)) == {
        "(GMT+10:00) Canberra, Melbourne, Sydney",
        "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London",
        "(GMT-05:00) Eastern Time (US & Canada)",
    }
