"""People who appear, change or convert after their rows were synced get linked (issue 11, #1).

A row whose Campaign Monitor data does not change is never written again by the clients' sync,
so the run's people pass (``sync.engine.people``) must carry new Contacts, converted Leads and
changed addresses into the links, and write nothing when nobody changed.
"""

from __future__ import annotations

import pytest
import requests

from maintenance.models import MaintenanceMessage
from sync.clients.salesforce_schema import SUBSCRIBER_OBJECT, TRACKING_OBJECT
from sync.engine.people import OVERLAP
from sync.models import RunStatus, SyncedRecord
from sync.services.runs import run_inline
from tests.sync.conftest import cm_client

pytestmark = pytest.mark.django_db(transaction=True)


def unlinked_subscriber(connection, cm_sandbox, sf_sandbox) -> str:
    """An active subscriber with tracking history whom the Salesforce org does not know."""
    known = {
        (p.get("Email") or "").lower()
        for sobject in ("Contact", "Lead")
        for p in sf_sandbox.app.records(sobject)
    }
    tracked = {r["Email__c"] for r in sf_sandbox.app.records(TRACKING_OBJECT)}
    cm = cm_client(cm_sandbox)
    client = connection.clients.order_by("name").first()
    for cm_list in cm.get_lists(client.cm_client_id):
        for sub in cm.iter_subscribers(cm_list["ListID"], "active"):
            email = sub["EmailAddress"].lower()
            if email not in known and email in tracked:
                return email
    raise AssertionError("the demo data has no unlinked subscriber with tracking history")


def rows_of(sf_sandbox, email: str, *sobjects: str) -> list[dict]:
    return [
        r
        for sobject in sobjects or (SUBSCRIBER_OBJECT, TRACKING_OBJECT)
        for r in sf_sandbox.app.records(sobject)
        if r["Email__c"] == email
    ]


def links(sf_sandbox, email: str) -> set[tuple[str | None, str | None]]:
    return {(r["Contact__c"], r["Lead__c"]) for r in rows_of(sf_sandbox, email)}


def test_a_contact_created_after_the_first_sync_is_linked_by_the_next_run(
    connection, cm_sandbox, sf_sandbox
):
    first = run_inline(connection)
    assert first.status == RunStatus.SUCCEEDED, first.error_summary
    email = unlinked_subscriber(connection, cm_sandbox, sf_sandbox)
    assert rows_of(sf_sandbox, email, SUBSCRIBER_OBJECT)
    assert rows_of(sf_sandbox, email, TRACKING_OBJECT)
    assert links(sf_sandbox, email) == {(None, None)}

    sf = sf_sandbox.salesforce()
    contact = sf.Contact.create({"LastName": "Later", "Email": email.upper()})["id"]
    second = run_inline(connection)

    assert second.status == RunStatus.SUCCEEDED, second.error_summary
    assert links(sf_sandbox, email) == {(contact, None)}
    assert second.records_written[SUBSCRIBER_OBJECT] >= 1
    assert second.records_written[TRACKING_OBJECT] >= 1
    stored = SyncedRecord.objects.filter(connection=connection, email=email)
    assert {(r.contact_id, r.lead_id) for r in stored} == {(contact, "")}


@pytest.mark.parametrize("through", ["collections", "bulk"])
def test_a_converted_lead_moves_its_rows_to_the_contact(
    connection, cm_sandbox, sf_sandbox, settings, through
):
    run_inline(connection)
    email = unlinked_subscriber(connection, cm_sandbox, sf_sandbox)
    sf = sf_sandbox.salesforce()
    lead = sf.Lead.create({"LastName": "Prospect", "Company": "Acme", "Email": email})["id"]
    run_inline(connection)
    assert links(sf_sandbox, email) == {(None, lead)}

    converted = sf_sandbox.convert_lead(lead)
    assert converted["success"]
    lead_row = sf_sandbox.app.get("Lead", lead)
    assert lead_row["IsConverted"] and lead_row["ConvertedContactId"] == converted["contactId"]
    if through == "bulk":  # the link rewrite goes through Bulk API 2.0 (#N/A clears Lead__c)
        settings.CMSYNC_BULK_THRESHOLD = 1
    sf_sandbox.reset_stats()
    after = run_inline(connection)

    assert after.status == RunStatus.SUCCEEDED, after.error_summary
    assert links(sf_sandbox, email) == {(converted["contactId"], None)}
    used = sf_sandbox.stats()
    if through == "bulk":
        assert used.get("bulk2.ingest.create", 0) >= 1
    else:
        assert used.get("composite.sobjects.upsert", 0) >= 1


def test_a_lead_converted_into_a_contact_with_another_address_links_that_contact(
    connection, cm_sandbox, sf_sandbox
):
    run_inline(connection)
    email = unlinked_subscriber(connection, cm_sandbox, sf_sandbox)
    sf = sf_sandbox.salesforce()
    lead = sf.Lead.create({"LastName": "Prospect", "Company": "Acme", "Email": email})["id"]
    existing = sf.Contact.create({"LastName": "Known", "Email": "someone.else@example.net"})["id"]
    run_inline(connection)
    sf_sandbox.convert_lead(lead, contactId=existing)
    run_inline(connection)
    assert links(sf_sandbox, email) == {(existing, None)}


def test_a_run_without_people_changes_makes_no_salesforce_write(connection, cm_sandbox, sf_sandbox):
    run_inline(connection)
    email = unlinked_subscriber(connection, cm_sandbox, sf_sandbox)
    sf = sf_sandbox.salesforce()
    sf.Contact.create({"LastName": "Later", "Email": email})
    linked = run_inline(connection)
    assert linked.sf_write_calls > 0
    stamps = {r["Id"]: r["SystemModstamp"] for r in rows_of(sf_sandbox, email)}

    quiet = run_inline(connection)  # the overlap reads the same Contact again: no write
    assert quiet.status == RunStatus.SUCCEEDED, quiet.error_summary
    assert quiet.sf_write_calls == 0
    assert quiet.records_written == {}
    assert {r["Id"]: r["SystemModstamp"] for r in rows_of(sf_sandbox, email)} == stamps


def test_the_people_cursor_is_salesforces_stamp_and_holds_when_a_rewrite_fails(
    connection, cm_sandbox, sf_sandbox
):
    run_inline(connection)
    connection.refresh_from_db()
    email = unlinked_subscriber(connection, cm_sandbox, sf_sandbox)
    sf = sf_sandbox.salesforce()
    contact = sf.Contact.create({"LastName": "Later", "Email": email})["id"]
    before = connection.people_cursor

    sf_sandbox.set_faults("reject:x100@composite.sobjects.upsert")
    refused = run_inline(connection)
    connection.refresh_from_db()
    assert connection.people_cursor == before  # nothing moves past a rewrite that failed
    assert MaintenanceMessage.objects.filter(run=refused, support_code="CMS-220").exists()
    assert links(sf_sandbox, email) == {(None, None)}

    sf_sandbox.set_faults("")
    run_inline(connection)
    connection.refresh_from_db()
    assert links(sf_sandbox, email) == {(contact, None)}
    stamp = sf_sandbox.app.get("Contact", contact)["SystemModstamp"]
    assert connection.people_cursor is not None
    assert connection.people_cursor.strftime("%Y-%m-%dT%H:%M:%S") <= stamp[:19]
    assert OVERLAP.total_seconds() > 0


def test_an_address_change_unlinks_the_rows_left_behind(connection, cm_sandbox, sf_sandbox):
    run_inline(connection)
    email = unlinked_subscriber(connection, cm_sandbox, sf_sandbox)
    sf = sf_sandbox.salesforce()
    contact = sf.Contact.create({"LastName": "Mover", "Email": email})["id"]
    run_inline(connection)
    assert links(sf_sandbox, email) == {(contact, None)}
    sf.Contact.update(contact, {"Email": "moved.away@example.net"})
    run_inline(connection)
    assert links(sf_sandbox, email) == {(None, None)}


def test_the_sandbox_converts_a_lead_as_salesforce_does(sf_sandbox):
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    sf = sf_sandbox.salesforce()
    lead = sf.Lead.create(
        {"FirstName": "Ana", "LastName": "Prospect", "Company": "Acme", "Email": "ana@x.org"}
    )["id"]
    before = sf_sandbox.app.get("Lead", lead)["SystemModstamp"]
    result = sf_sandbox.convert_lead(lead)
    converted = sf_sandbox.app.get("Lead", lead)
    contact = sf_sandbox.app.get("Contact", result["contactId"])
    account = sf_sandbox.app.get("Account", result["accountId"])
    assert converted["IsConverted"] and converted["Status"] == "Closed - Converted"
    assert converted["ConvertedContactId"] == contact["Id"]
    assert converted["ConvertedAccountId"] == account["Id"] == contact["AccountId"]
    assert converted["ConvertedDate"] and converted["SystemModstamp"] >= before
    assert (contact["Email"], contact["LastName"], account["Name"]) == (
        "ana@x.org",
        "Prospect",
        "Acme",
    )
    with pytest.raises(SalesforceMalformedRequest, match="CANNOT_UPDATE_CONVERTED_LEAD"):
        sf.Lead.update(lead, {"Title": "Too late"})
    with pytest.raises(requests.HTTPError, match="400"):  # converting twice is refused too
        sf_sandbox.convert_lead(lead)


def test_rows_synced_before_the_upgrade_learn_their_address_from_the_key():
    import importlib

    migration = importlib.import_module("sync.migrations.0005_people_links_and_reown")
    assert migration.email_from_key("CMS_Subscriber__c", "abc123:ann@x.org") == "ann@x.org"
    assert migration.email_from_key("CMS_Suppression__c", "client9:bo@y.org") == "bo@y.org"
    key = "camp1:SpamComplaint:cy@z.org:202401021030:0a1b2c3d4e"
    assert migration.email_from_key("CMS_Email_Tracking__c", key) == "cy@z.org"
    assert migration.email_from_key("CMS_Campaign__c", "camp1") == ""
    assert migration.email_from_key("CMS_Subscriber__c", "x" * 255) == ""
