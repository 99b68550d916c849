"""The primary sync over HTTPS against both sandboxes: exactly once, incremental, resumable."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from maintenance.models import MaintenanceMessage
from sync.clients.campaign_monitor import make_subscriber
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT_OBJECT,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    TRACKING_OBJECT,
)
from sync.engine import records
from sync.models import FullSyncState, RecordRejection, RunKind, RunStatus, SyncRun
from sync.services import runs
from sync.services.runs import request_run, run_inline
from tests.conftest import send_campaign
from tests.sync.conftest import cm_client

pytestmark = pytest.mark.django_db(transaction=True)


def expected_state(cm_sandbox, days=180, types=None) -> dict[str, set[str]]:
    """Every key the sync should create, read independently through the CM client.

    Tracking events count when inside the last ``days`` days and of a kept type (the defaults
    of the Storage settings: 180 days, every type).
    """
    cutoff = timezone.now() - dt.timedelta(days=days)
    kept = set(types or ["Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Spam Complaint"])

    def keep(event_type, when):
        moment = records.parse_cm_date(when)
        return days > 0 and event_type in kept and (moment is None or moment >= cutoff)

    cm = cm_client(cm_sandbox)
    keys: dict[str, set[str]] = {
        CLIENT_OBJECT: set(),
        LIST_OBJECT: set(),
        SUBSCRIBER_OBJECT: set(),
        CAMPAIGN_OBJECT: set(),
        TRACKING_OBJECT: set(),
    }
    for client in cm.get_clients():
        cid = client["ClientID"]
        keys[CLIENT_OBJECT].add(cid)
        for cm_list in cm.get_lists(cid):
            keys[LIST_OBJECT].add(cm_list["ListID"])
            for state in records.SUBSCRIBER_STATE_REPORTS:
                for sub in cm.iter_subscribers(cm_list["ListID"], state):
                    keys[SUBSCRIBER_OBJECT].add(
                        records.membership_record(cid, cm_list["ListID"], sub)["CM_Key__c"]
                    )
        for campaign in cm.iter_sent_campaigns(cid):
            camp_id = campaign["CampaignID"]
            keys[CAMPAIGN_OBJECT].add(camp_id)
            for item in cm.iter_campaign_recipients(camp_id):
                if not keep("Sent", campaign["SentDate"]):
                    continue
                keys[TRACKING_OBJECT].add(
                    records.tracking_record(cid, camp_id, "Sent", item, campaign["SentDate"])[
                        "CM_Key__c"
                    ]
                )
            for report, event_type in records.EVENT_REPORTS.items():
                for item in cm.iter_campaign_events(camp_id, report):
                    if not keep(event_type, item["Date"]):
                        continue
                    keys[TRACKING_OBJECT].add(
                        records.tracking_record(cid, camp_id, event_type, item, item["Date"])[
                            "CM_Key__c"
                        ]
                    )
    cm.close()
    return keys


def sf_keys(sf_sandbox, sobject) -> list[str]:
    return [r["CM_Key__c"] for r in sf_sandbox.app.records(sobject)]


def assert_exactly_once(sf_sandbox, expected):
    for sobject, keys in expected.items():
        landed = sf_keys(sf_sandbox, sobject)
        assert len(landed) == len(set(landed)), f"duplicates in {sobject}"
        assert set(landed) == keys, sobject


def test_first_sync_lands_everything_exactly_once(connection, cm_sandbox, sf_sandbox):
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    expected = expected_state(cm_sandbox)
    assert_exactly_once(sf_sandbox, expected)
    assert run.records_written[TRACKING_OBJECT] == len(expected[TRACKING_OBJECT])
    assert run.cm_calls > 0 and run.sf_calls >= run.sf_write_calls > 0
    # Ownership and people links.
    members = sf_sandbox.app.records(SUBSCRIBER_OBJECT)
    assert {m["OwnerId"] for m in members} == {connection.sf_sync_user_id}


def test_memberships_link_to_the_matching_contact_and_lead(connection, cm_sandbox, sf_sandbox):
    cm = cm_client(cm_sandbox)
    client = connection.clients.order_by("name").first()
    list_id = cm.get_lists(client.cm_client_id)[0]["ListID"]
    emails = [s["EmailAddress"].lower() for s in cm.iter_subscribers(list_id, "active")][:2]
    sf = sf_sandbox.salesforce()
    single = sf.Contact.create({"LastName": "Single", "Email": emails[0]})["id"]
    older = sf.Contact.create({"LastName": "Older", "Email": emails[1]})["id"]
    newer = sf.Contact.create({"LastName": "Newer", "Email": emails[1].upper()})["id"]
    sf.Contact.update(newer, {"FirstName": "Touched"})
    lead = sf.Lead.create({"LastName": "Lead", "Company": "Acme", "Email": emails[0]})["id"]
    run = run_inline(connection)
    members = {r["CM_Key__c"]: r for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)}
    assert members[f"{list_id}:{emails[0]}"]["Contact__c"] == single
    assert members[f"{list_id}:{emails[0]}"]["Lead__c"] == lead
    assert members[f"{list_id}:{emails[1]}"]["Contact__c"] == newer
    assert older != newer
    note = MaintenanceMessage.objects.filter(
        run=run, support_code="CMS-310", details__contains=emails[1]
    ).get()
    assert emails[1] in note.details and older in note.details


def test_second_run_without_changes_writes_nothing(connection, sf_sandbox):
    run_inline(connection)
    before = {r["Id"]: r["LastModifiedDate"] for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)}
    second = run_inline(connection)
    assert second.status == RunStatus.SUCCEEDED
    assert second.sf_write_calls == 0
    assert second.records_written == {}
    after = {r["Id"]: r["LastModifiedDate"] for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)}
    assert after == before


def test_changes_in_cm_arrive_on_the_next_run(connection, cm_sandbox, sf_sandbox):
    run_inline(connection)
    cm = cm_client(cm_sandbox)
    client = connection.clients.order_by("name").first()
    cm_list = cm.get_lists(client.cm_client_id)[0]
    list_id = cm_list["ListID"]
    cm.add_subscriber(
        list_id, make_subscriber("new.person@example.org", "New Person", consent_to_track="Yes")
    )
    leaving = next(iter(cm.iter_subscribers(list_id, "active")))["EmailAddress"]
    cm.unsubscribe(list_id, leaving)
    campaign = next(iter(cm.iter_sent_campaigns(client.cm_client_id)))
    opener = next(iter(cm.iter_campaign_recipients(campaign["CampaignID"])))["EmailAddress"]
    cm_sandbox.add_events(campaign["CampaignID"], "opens", [opener])
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    members = {r["CM_Key__c"]: r for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)}
    assert members[f"{list_id}:new.person@example.org"]["State__c"] == "Active"
    assert members[f"{list_id}:new.person@example.org"]["Subscriber_Name__c"] == "New Person"
    assert members[f"{list_id}:{leaving.lower()}"]["State__c"] == "Unsubscribed"
    opens = [
        r
        for r in sf_sandbox.app.records(TRACKING_OBJECT)
        if r["Event_Type__c"] == "Opened"
        and r["Email__c"] == opener.lower()
        and r["CM_Campaign_ID__c"] == campaign["CampaignID"]
    ]
    assert opens
    assert_exactly_once(sf_sandbox, expected_state(cm_sandbox))
    assert run.records_written[SUBSCRIBER_OBJECT] >= 2


def test_new_campaign_sent_in_cm_arrives(connection, cm_sandbox, sf_sandbox):
    run_inline(connection)
    cm = cm_client(cm_sandbox)
    client = connection.clients.order_by("name").first()
    list_id = cm.get_lists(client.cm_client_id)[0]["ListID"]
    campaign_id = send_campaign(cm_sandbox, client.cm_client_id, [list_id], "Winter offers")
    run_inline(connection)
    campaigns = {r["CM_Key__c"]: r for r in sf_sandbox.app.records(CAMPAIGN_OBJECT)}
    assert campaigns[campaign_id]["Name"] == "Winter offers"
    sent = [
        r for r in sf_sandbox.app.records(TRACKING_OBJECT) if r["CM_Campaign_ID__c"] == campaign_id
    ]
    active = {s["EmailAddress"].lower() for s in cm.iter_subscribers(list_id, "active")}
    assert {r["Email__c"] for r in sent if r["Event_Type__c"] == "Sent"} == active


def test_full_sync_rebuilds_the_same_state_and_keeps_contacts(connection, cm_sandbox, sf_sandbox):
    run_inline(connection)
    contacts = sorted(c["Id"] for c in sf_sandbox.app.records("Contact"))
    old_ids = {r["Id"] for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)}
    full = run_inline(connection, kind=RunKind.FULL)
    assert full.status == RunStatus.SUCCEEDED, full.error_summary
    assert_exactly_once(sf_sandbox, expected_state(cm_sandbox))
    assert not old_ids & {r["Id"] for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)}
    assert sorted(c["Id"] for c in sf_sandbox.app.records("Contact")) == contacts
    connection.refresh_from_db()
    assert connection.full_sync_state == FullSyncState.NONE


def test_rejected_records_are_reported_the_rest_lands_and_they_retry(
    connection, cm_sandbox, sf_sandbox
):
    sf_sandbox.set_faults("reject:x3@composite.sobjects.upsert")
    run = run_inline(connection)
    assert run.status == RunStatus.PARTLY_FAILED
    assert run.rejected_count == 3
    rejections = list(RecordRejection.objects.filter(run=run))
    assert {r.error_code for r in rejections} == {"FIELD_CUSTOM_VALIDATION_EXCEPTION"}
    message = MaintenanceMessage.objects.get(run=run, support_code="CMS-220")
    assert "rejected 3 record" in message.message
    expected = expected_state(cm_sandbox)
    landed = sum(len(sf_keys(sf_sandbox, s)) for s in expected)
    assert landed == sum(len(k) for k in expected.values()) - 3
    sf_sandbox.set_faults("")
    retry = run_inline(connection)
    assert retry.status == RunStatus.SUCCEEDED
    assert_exactly_once(sf_sandbox, expected)
    assert not RecordRejection.objects.filter(resolved_at__isnull=True).exists()


def test_transient_faults_on_both_sides_recover(connection, cm_sandbox, sf_sandbox):
    cm_sandbox.set_faults("503:x2@lists.active,500:x1@campaigns.opens,drop:x1@clients.campaigns")
    sf_sandbox.set_faults("503:x2@composite.sobjects.upsert,drop:x1@query")
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    assert_exactly_once(sf_sandbox, expected_state(cm_sandbox))


def test_failed_run_keeps_cursors_and_the_next_resumes_without_duplicates(
    connection, cm_sandbox, sf_sandbox
):
    sf_sandbox.set_faults("503:x40@composite.sobjects.upsert")
    failed = run_inline(connection)
    assert failed.status in (RunStatus.FAILED, RunStatus.PARTLY_FAILED)
    assert MaintenanceMessage.objects.filter(run=failed, support_code="CMS-230").exists()
    sf_sandbox.set_faults("")
    resumed = run_inline(connection)
    assert resumed.status == RunStatus.SUCCEEDED
    assert_exactly_once(sf_sandbox, expected_state(cm_sandbox))


def test_interrupted_full_sync_continues_instead_of_restarting(connection, cm_sandbox, sf_sandbox):
    run_inline(connection)
    cm_sandbox.set_faults("500:x30@campaigns.opens")
    broken = run_inline(connection, kind=RunKind.FULL)
    assert broken.status != RunStatus.SUCCEEDED
    connection.refresh_from_db()
    assert connection.full_sync_state == FullSyncState.IMPORTING
    landed_before = len(sf_keys(sf_sandbox, SUBSCRIBER_OBJECT))
    assert landed_before > 0
    cm_sandbox.set_faults("")
    resumed = run_inline(connection)  # asked as incremental, continues the full sync
    assert resumed.kind == RunKind.FULL
    assert resumed.status == RunStatus.SUCCEEDED
    assert_exactly_once(sf_sandbox, expected_state(cm_sandbox))
    connection.refresh_from_db()
    assert connection.full_sync_state == FullSyncState.NONE


def test_only_one_run_at_a_time_and_a_dead_workers_lock_expires(connection):
    first, created = request_run(connection, enqueue=False)
    again, created_again = request_run(connection, enqueue=False)
    assert created and not created_again and again.pk == first.pk
    SyncRun.objects.filter(pk=first.pk).update(heartbeat_at=timezone.now() - runs.LEASE * 2)
    fresh, created_fresh = request_run(connection, enqueue=False)
    assert created_fresh and fresh.pk != first.pk
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED
    assert MaintenanceMessage.objects.filter(run=first, support_code="CMS-300").exists()


@pytest.mark.skipif(db_connection.vendor == "sqlite", reason="needs row locks (PostgreSQL in CI)")
def test_concurrent_requests_give_one_run(connection):
    results = []

    def ask():
        results.append(request_run(connection, enqueue=False))
        db_connection.close()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(created for _, created in results) == 1
    assert len({run.pk for run, _ in results}) == 1
