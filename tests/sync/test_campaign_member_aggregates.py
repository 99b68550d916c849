"""Campaign member aggregates: CampaignMember statistics from the tracking records cmsync stores."""

from __future__ import annotations

from collections import Counter

import pytest

from campaigns.services.links import link_campaign
from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce_schema import CAMPAIGN_OBJECT, TRACKING_OBJECT
from sync.models import RunStatus, SyncOptions
from sync.services.runs import run_inline

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def linked(connection, cm_sandbox, sf_sandbox):
    """A sent CM campaign whose recipients include three Contacts, linked to an SF Campaign."""
    cm = CampaignMonitorClient(
        cm_sandbox.api_key, base_url=cm_sandbox.api_base, ca_bundle=cm_sandbox.ca_file
    )
    client = connection.clients.order_by("name").first()
    campaign = next(iter(cm.iter_sent_campaigns(client.cm_client_id)))
    emails = [
        r["EmailAddress"].lower() for r in cm.iter_campaign_recipients(campaign["CampaignID"])
    ][:3]
    cm_sandbox.add_events(campaign["CampaignID"], "opens", [emails[0], emails[0]])
    cm_sandbox.add_events(
        campaign["CampaignID"], "clicks", [emails[0]], url="https://example.com/a"
    )
    sf = sf_sandbox.salesforce()
    contacts = {
        e: sf.Contact.create({"LastName": f"P{i}", "Email": e})["id"] for i, e in enumerate(emails)
    }
    run_inline(connection)
    sf_campaign = sf.Campaign.create({"Name": "Spring newsletter"})["id"]
    # The link is cmsync's (Salesforce Campaigns): made through the service, not in Salesforce.
    link_campaign(connection, campaign["CampaignID"], sf_campaign, None)
    [cms_campaign] = [
        r
        for r in sf_sandbox.app.records(CAMPAIGN_OBJECT)
        if r["CM_Key__c"] == campaign["CampaignID"]
    ]
    assert cms_campaign["Campaign__c"] == sf_campaign
    return {
        "campaign": campaign,
        "emails": emails,
        "contacts": contacts,
        "sf_campaign": sf_campaign,
    }


def _members(sf_sandbox, sf_campaign):
    return {
        m["ContactId"] or m["LeadId"]: m
        for m in sf_sandbox.app.records("CampaignMember")
        if m["CampaignId"] == sf_campaign
    }


def _people_tracked(sf_sandbox, campaign_id):
    return {
        r["Contact__c"] or r["Lead__c"]
        for r in sf_sandbox.app.records(TRACKING_OBJECT)
        if r["CM_Campaign_ID__c"] == campaign_id and (r["Contact__c"] or r["Lead__c"])
    }


def _stored_counts(sf_sandbox, campaign_id, contact_id):
    rows = [
        r
        for r in sf_sandbox.app.records(TRACKING_OBJECT)
        if r["CM_Campaign_ID__c"] == campaign_id and r["Contact__c"] == contact_id
    ]
    return Counter(r["Event_Type__c"] for r in rows)


def test_option_off_writes_no_member_statistics(connection, linked, sf_sandbox):
    run_inline(connection)
    # A linked campaign's recipients become members (Salesforce Campaigns), without statistics.
    members = _members(sf_sandbox, linked["sf_campaign"])
    assert set(linked["contacts"].values()) <= set(members)
    assert all(not m.get("CMS_Opens__c") and not m.get("CMS_Sent__c") for m in members.values())


def test_members_carry_statistics_of_stored_tracking_records(connection, linked, sf_sandbox):
    SyncOptions.objects.filter(connection=connection).update(campaign_member_aggregates=True)
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    members = _members(sf_sandbox, linked["sf_campaign"])
    people = _people_tracked(sf_sandbox, linked["campaign"]["CampaignID"])
    assert set(linked["contacts"].values()) <= people
    assert set(members) == people
    for email, contact_id in linked["contacts"].items():
        stored = _stored_counts(sf_sandbox, linked["campaign"]["CampaignID"], contact_id)
        member = members[contact_id]
        assert member["CMS_Sent__c"] is (stored["Sent"] > 0)
        assert member["CMS_Opens__c"] == stored["Opened"]
        assert member["CMS_Clicks__c"] == stored["Clicked"]
    opener = members[linked["contacts"][linked["emails"][0]]]
    assert opener["CMS_Opens__c"] >= 1 and opener["CMS_Clicks__c"] >= 1
    assert opener["Status"] == "Responded"
    assert run.records_written["CampaignMember"] == len(people)


def test_only_stored_types_count_and_a_quiet_run_writes_nothing(connection, linked, sf_sandbox):
    SyncOptions.objects.filter(connection=connection).update(
        campaign_member_aggregates=True, email_types_to_keep=["Sent", "Clicked"]
    )
    run_inline(connection)  # settings changed: reports read again; opens are not stored
    members = _members(sf_sandbox, linked["sf_campaign"])
    opener = members[linked["contacts"][linked["emails"][0]]]
    assert opener["CMS_Clicks__c"] >= 1
    quiet = run_inline(connection)
    assert quiet.sf_write_calls == 0


def test_new_opens_in_cm_update_the_member(connection, linked, cm_sandbox, sf_sandbox):
    SyncOptions.objects.filter(connection=connection).update(campaign_member_aggregates=True)
    run_inline(connection)
    second = linked["emails"][1]
    contact_id = linked["contacts"][second]
    before = _members(sf_sandbox, linked["sf_campaign"])[contact_id]["CMS_Opens__c"]
    cm_sandbox.add_events(linked["campaign"]["CampaignID"], "opens", [second])
    run_inline(connection)
    after = _members(sf_sandbox, linked["sf_campaign"])[contact_id]
    assert after["CMS_Opens__c"] == before + 1
    # Updated, not duplicated: one member per tracked person.
    people = _people_tracked(sf_sandbox, linked["campaign"]["CampaignID"])
    assert len(_members(sf_sandbox, linked["sf_campaign"])) == len(people)
