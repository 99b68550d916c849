"""CM writes dates as the client's wall clock; Salesforce gets the true instant."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce_schema import TRACKING_OBJECT
from sync.engine import records
from sync.models import RunStatus
from sync.services.runs import run_inline


@pytest.mark.parametrize(
    ("label", "offset"),
    [
        ("(GMT+10:00) Canberra, Melbourne, Sydney", dt.timedelta(hours=10)),
        ("(GMT-05:00) Eastern Time (US & Canada)", dt.timedelta(hours=-5)),
        ("(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi", dt.timedelta(hours=5, minutes=30)),
        ("(GMT) Dublin, Edinburgh, Lisbon, London", dt.timedelta(0)),
        ("(GMT) Coordinated Universal Time", dt.timedelta(0)),
        ("", dt.timedelta(0)),
        ("Somewhere odd", dt.timedelta(0)),
    ],
)
def test_zone_labels_give_their_offset(label, offset):
    assert records.zone_from_cm(label).utcoffset(None) == offset


def test_event_dates_become_utc_and_keys_do_not_depend_on_the_zone():
    sydney = records.zone_from_cm("(GMT+10:00) Canberra, Melbourne, Sydney")
    event = {"EmailAddress": "A@Example.com", "Date": "2026-03-01 09:30:00"}
    local = records.tracking_record("c", "camp", "Opened", event, event["Date"], sydney)
    plain = records.tracking_record("c", "camp", "Opened", event, event["Date"])
    assert local["Event_Date__c"] == "2026-02-28T23:30:00.000+0000"
    assert local["CM_Key__c"] == plain["CM_Key__c"]


@pytest.mark.django_db(transaction=True)
def test_sync_converts_from_the_clients_zone_and_round_trips_its_cursors(
    connection, cm_sandbox, sf_sandbox
):
    run_inline(connection)
    # The sandbox's demo clients are UTC; pretend CM said this one is in Sydney.
    client = connection.clients.order_by("name").first()
    client.cm_time_zone = "(GMT+10:00) Canberra, Melbourne, Sydney"
    client.save()
    cm = CampaignMonitorClient(
        cm_sandbox.api_key, base_url=cm_sandbox.api_base, ca_bundle=cm_sandbox.ca_file
    )
    campaign = next(iter(cm.iter_sent_campaigns(client.cm_client_id)))
    opener = next(iter(cm.iter_campaign_recipients(campaign["CampaignID"])))["EmailAddress"]
    cm_sandbox.add_events(campaign["CampaignID"], "opens", [opener])
    newest = list(cm.iter_campaign_events(campaign["CampaignID"], "opens"))[-1]
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED
    expected_key = records.tracking_record(
        client.cm_client_id, campaign["CampaignID"], "Opened", newest, newest["Date"]
    )["CM_Key__c"]
    [landed] = [
        r for r in sf_sandbox.app.records(TRACKING_OBJECT) if r["CM_Key__c"] == expected_key
    ]
    cm_wall_clock = dt.datetime.strptime(newest["Date"], "%Y-%m-%d %H:%M:%S")
    assert landed["Event_Date__c"].startswith(
        (cm_wall_clock - dt.timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M")
    )
    quiet = run_inline(connection)
    assert quiet.sf_write_calls == 0


@pytest.mark.django_db(transaction=True)
def test_the_zone_is_read_once_from_client_details(connection, cm_sandbox):
    cm_sandbox.reset_stats()
    run_inline(connection)
    first = cm_sandbox.stats().get("clients.details", 0)
    run_inline(connection)
    assert first == connection.clients.filter(selected=True).count()
    assert cm_sandbox.stats().get("clients.details", 0) == first
    assert set(connection.clients.values_list("cm_time_zone", flat=True)) == {
        "(GMT) Coordinated Universal Time"
    }
