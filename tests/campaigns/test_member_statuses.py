"""Campaign member statuses over both sandboxes: the status map with forward-only moves, statuses
auto-created with HasResponded, a refused empty label, and a label the Campaign lacks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import MemberStatusSettings
from campaigns.services.links import link_campaign
from campaigns.services.statuses import StatusMapError, update_statuses
from maintenance.models import AuditEntry, MaintenanceMessage
from sync.clients.salesforce_schema import TRACKING_OBJECT
from sync.models import RunStatus, SyncOptions
from sync.services.runs import run_inline
from tests.campaigns.helpers import cm_client

pytestmark = pytest.mark.django_db(transaction=True)

FULL_MAP = [("Clicked", "Clicked"), ("Opened", "Opened"), ("Sent", "Sent")]


@pytest.fixture
def linked(connection, cm_sandbox, sf_sandbox):
    """A sent campaign whose first eight recipients are Contacts, the first of them opened and
    clicked; linked to a new SF Campaign, member statistics on. ``clicker`` and ``sent_only``
    (a Contact with only a Sent record) name the two people the tests follow."""
    cm = cm_client(cm_sandbox)
    client = connection.clients.order_by("name").first()
    campaign = next(iter(cm.iter_sent_campaigns(client.cm_client_id)))
    cid = campaign["CampaignID"]
    emails = [r["EmailAddress"].lower() for r in cm.iter_campaign_recipients(cid)][:8]
    cm_sandbox.add_events(cid, "opens", [emails[0]])
    cm_sandbox.add_events(cid, "clicks", [emails[0]], url="https://example.com/a")
    sf = sf_sandbox.salesforce()
    contacts = {
        e: sf.Contact.create({"LastName": f"P{i}", "Email": e})["id"] for i, e in enumerate(emails)
    }
    run_inline(connection)
    SyncOptions.objects.filter(connection=connection).update(campaign_member_aggregates=True)
    sf_campaign = sf.Campaign.create({"Name": "Spring newsletter"})["id"]
    link_campaign(connection, cid, sf_campaign, None)
    kinds: dict[str, set[str]] = {c: set() for c in contacts.values()}
    for row in sf_sandbox.app.records(TRACKING_OBJECT):
        if row["CM_Campaign_ID__c"] == cid and row["Contact__c"] in kinds:
            kinds[row["Contact__c"]].add(row["Event_Type__c"])
    email_of = {c: e for e, c in contacts.items()}
    sent_only = next((c for c, seen in kinds.items() if seen == {"Sent"}), None)
    assert sent_only, "the seed has no recipient with only a Sent record among the first eight"
    return {
        "cid": cid,
        "sf_campaign": sf_campaign,
        "clicker": contacts[emails[0]],
        "clicker_email": emails[0],
        "sent_only": sent_only,
        "sent_only_email": email_of[sent_only],
    }


def _member(sf_sandbox, sf_campaign: str, contact_id: str) -> dict:
    [member] = [
        m
        for m in sf_sandbox.app.records("CampaignMember")
        if m["CampaignId"] == sf_campaign and m["ContactId"] == contact_id
    ]
    return member


def _statuses(sf_sandbox, sf_campaign: str) -> dict[str, dict]:
    return {
        s["Label"]: s
        for s in sf_sandbox.app.records("CampaignMemberStatus")
        if s["CampaignId"] == sf_campaign
    }


def _run(connection):
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    return run


def test_default_map_uses_the_statuses_every_campaign_has(connection, linked, sf_sandbox):
    _run(connection)
    clicker = _member(sf_sandbox, linked["sf_campaign"], linked["clicker"])
    assert clicker["Status"] == "Responded" and clicker["HasResponded"] is True
    assert _member(sf_sandbox, linked["sf_campaign"], linked["sent_only"])["Status"] == "Sent"
    assert set(_statuses(sf_sandbox, linked["sf_campaign"])) == {"Sent", "Responded"}
    assert not MaintenanceMessage.objects.filter(support_code="CMS-520").exists()


def test_statuses_are_auto_created_with_has_responded(connection, linked, sf_sandbox, admin_user):
    update_statuses(
        connection,
        admin_user,
        update_statuses=True,
        auto_create_statuses=True,
        status_map=[*FULL_MAP, ("Unsubscribed", "Unsubscribed")],
    )
    run = _run(connection)
    statuses = _statuses(sf_sandbox, linked["sf_campaign"])
    assert statuses["Clicked"]["HasResponded"] is True
    assert statuses["Opened"]["HasResponded"] is True
    assert statuses["Unsubscribed"]["HasResponded"] is False
    # Nothing deleted: the Campaign's own statuses are still there, "Sent" shared with the map.
    assert {"Sent", "Responded"} <= set(statuses)
    assert run.records_written["CampaignMemberStatus"] == 3
    clicker = _member(sf_sandbox, linked["sf_campaign"], linked["clicker"])
    assert clicker["Status"] == "Clicked" and clicker["HasResponded"] is True
    assert _member(sf_sandbox, linked["sf_campaign"], linked["sent_only"])["Status"] == "Sent"
    # A quiet run creates nothing more and writes nothing.
    assert _run(connection).sf_write_calls == 0


def test_status_moves_forward_never_back(connection, linked, cm_sandbox, sf_sandbox, admin_user):
    update_statuses(
        connection, admin_user, update_statuses=True, auto_create_statuses=True, status_map=FULL_MAP
    )
    _run(connection)
    clicker_id, sent_id = linked["clicker"], linked["sent_only"]
    assert _member(sf_sandbox, linked["sf_campaign"], clicker_id)["Status"] == "Clicked"
    assert _member(sf_sandbox, linked["sf_campaign"], sent_id)["Status"] == "Sent"

    # The click records are no longer stored in Salesforce; new opens arrive in CM.
    sf = sf_sandbox.salesforce()
    for row in sf_sandbox.app.records(TRACKING_OBJECT):
        if row["CM_Campaign_ID__c"] == linked["cid"] and row["Event_Type__c"] == "Clicked":
            getattr(sf, TRACKING_OBJECT).delete(row["Id"])
    cm_sandbox.add_events(
        linked["cid"], "opens", [linked["clicker_email"], linked["sent_only_email"]]
    )
    _run(connection)

    clicker = _member(sf_sandbox, linked["sf_campaign"], clicker_id)
    assert clicker["CMS_Clicks__c"] == 0 and clicker["CMS_Opens__c"] >= 1  # the run saw opens only
    assert clicker["Status"] == "Clicked"  # never back
    assert _member(sf_sandbox, linked["sf_campaign"], sent_id)["Status"] == "Opened"  # forward


def test_existing_members_keep_their_status_with_the_option_off(
    connection, linked, cm_sandbox, sf_sandbox, admin_user
):
    update_statuses(
        connection, admin_user, auto_create_statuses=True, status_map=FULL_MAP
    )  # update_statuses stays off: only new members get a mapped status
    _run(connection)
    sent_id = linked["sent_only"]
    assert _member(sf_sandbox, linked["sf_campaign"], sent_id)["Status"] == "Sent"
    cm_sandbox.add_events(linked["cid"], "opens", [linked["sent_only_email"]])
    _run(connection)
    member = _member(sf_sandbox, linked["sf_campaign"], sent_id)
    assert member["CMS_Opens__c"] >= 1 and member["Status"] == "Sent"


def test_missing_label_with_auto_create_off_is_reported_not_a_crash(
    connection, linked, sf_sandbox, admin_user
):
    update_statuses(connection, admin_user, update_statuses=True, status_map=FULL_MAP)
    _run(connection)
    # "Clicked" and "Opened" are not on the Campaign: not created, reported in words.
    assert set(_statuses(sf_sandbox, linked["sf_campaign"])) == {"Sent", "Responded"}
    [message] = MaintenanceMessage.objects.filter(support_code="CMS-520")
    assert '"Clicked"' in message.message and '"Opened"' in message.message
    assert "Auto-create member statuses" in message.message
    # The clicker gets the most advanced status the Campaign has; nobody was refused.
    clicker = _member(sf_sandbox, linked["sf_campaign"], linked["clicker"])
    assert clicker["Status"] == "Sent"
    assert not MaintenanceMessage.objects.filter(support_code="CMS-510").exists()


@pytest.mark.parametrize(
    "status_map",
    [
        [("Clicked", ""), ("Sent", "Sent")],
        [("Clicked", "   "), ("Sent", "Sent")],
        [],
        [("Clicked", "Clicked"), ("Clicked", "Again")],
        [("Forwarded", "Forwarded")],
    ],
    ids=["empty", "blank", "no-activity", "twice", "unknown"],
)
def test_a_bad_status_map_is_refused(connection, admin_user, status_map):
    with pytest.raises(StatusMapError):
        update_statuses(connection, admin_user, status_map=status_map)
    saved = MemberStatusSettings.for_connection(connection)
    assert saved.precedence()[0] == ("Clicked", "Responded")
    assert not AuditEntry.objects.exists()


def test_the_screen_refuses_an_empty_label(connection, admin_client):
    response = admin_client.post(
        reverse("campaigns-statuses"),
        {"use_clicked": "on", "label_clicked": "", "rank_clicked": "1"},
    )
    assert response.status_code == 400
    assert b"A status map with an empty label is refused" in response.content
    assert not AuditEntry.objects.exists()
    assert MemberStatusSettings.for_connection(connection).precedence()[0][1] == "Responded"


def test_support_reads_the_screen_but_may_not_save(connection, support_client):
    page = support_client.get(reverse("campaigns-statuses"))
    assert page.status_code == 200
    assert b"Map statuses" in page.content and b"read these settings but not change" in page.content
    refused = support_client.post(reverse("campaigns-statuses"), {"update_statuses": "on"})
    assert refused.status_code == 403


def test_changing_the_settings_applies_them_without_new_activity(
    connection, linked, sf_sandbox, admin_user
):
    _run(connection)  # the default map: the clicker is "Responded"
    assert _member(sf_sandbox, linked["sf_campaign"], linked["clicker"])["Status"] == "Responded"
    update_statuses(
        connection, admin_user, update_statuses=True, auto_create_statuses=True, status_map=FULL_MAP
    )
    _run(connection)  # nothing new in CM: the settings' version alone aggregates again
    assert _member(sf_sandbox, linked["sf_campaign"], linked["clicker"])["Status"] == "Clicked"
    assert _run(connection).sf_write_calls == 0
