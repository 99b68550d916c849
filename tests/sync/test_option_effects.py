"""Each Storage / General Options setting changes what lands in Salesforce or Campaign Monitor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sync.clients.campaign_monitor import make_subscriber
from sync.clients.salesforce_schema import SUBSCRIBER_OBJECT, SUPPRESSION_OBJECT, TRACKING_OBJECT
from sync.models import ConsentChange, ConsentSource, RunStatus
from sync.services.optout import run_optout_batch
from sync.services.runs import run_inline
from tests.sync.conftest import cm_client, set_options

pytestmark = pytest.mark.django_db(transaction=True)


def lists_by_name(cm, connection, client_name):
    client = connection.clients.get(name=client_name)
    return client, {item["Name"]: item["ListID"] for item in cm.get_lists(client.cm_client_id)}


def test_only_kept_types_inside_the_window_are_imported(connection, sf_sandbox):
    set_options(connection, days_to_keep=90, email_types_to_keep=["Sent", "Opened"])
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED
    events = sf_sandbox.app.records(TRACKING_OBJECT)
    assert events
    assert {e["Event_Type__c"] for e in events} <= {"Sent", "Opened"}
    cutoff = (timezone.now() - dt.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M")
    assert all(e["Event_Date__c"][:16] >= cutoff for e in events)


def test_days_zero_stores_no_tracking_history(connection, sf_sandbox):
    set_options(connection, days_to_keep=0)
    run_inline(connection)
    assert sf_sandbox.app.records(TRACKING_OBJECT) == []
    assert sf_sandbox.app.records(SUBSCRIBER_OBJECT)


def test_adding_a_type_later_imports_it_on_the_next_run(connection, sf_sandbox):
    set_options(connection, email_types_to_keep=["Opened"])
    run_inline(connection)
    assert {e["Event_Type__c"] for e in sf_sandbox.app.records(TRACKING_OBJECT)} == {"Opened"}
    set_options(connection, email_types_to_keep=["Opened", "Clicked"])
    run_inline(connection)
    types = {e["Event_Type__c"] for e in sf_sandbox.app.records(TRACKING_OBJECT)}
    assert types == {"Opened", "Clicked"}


def test_suppression_mirror_follows_suppress_and_unsuppress(connection, cm_sandbox, sf_sandbox):
    cm = cm_client(cm_sandbox)
    client = connection.clients.order_by("name").first()
    cm.suppress(client.cm_client_id, ["blocked.one@example.net", "Blocked.Two@example.net"])
    run_inline(connection)
    assert sf_sandbox.app.records(SUPPRESSION_OBJECT) == []  # option off: nothing mirrored
    set_options(connection, suppression_sync=True)
    run_inline(connection)
    mirrored = {r["Email__c"]: r for r in sf_sandbox.app.records(SUPPRESSION_OBJECT)}
    assert {"blocked.one@example.net", "blocked.two@example.net"} <= set(mirrored)
    assert mirrored["blocked.one@example.net"]["CM_Client_ID__c"] == client.cm_client_id
    cm.unsuppress(client.cm_client_id, "blocked.one@example.net")
    run_inline(connection)
    remaining = {r["Email__c"] for r in sf_sandbox.app.records(SUPPRESSION_OBJECT)}
    assert "blocked.one@example.net" not in remaining
    assert "blocked.two@example.net" in remaining


def test_cm_unsubscribe_from_every_list_opts_the_contact_out(connection, cm_sandbox, sf_sandbox):
    set_options(connection, email_opt_sync=True)
    cm = cm_client(cm_sandbox)
    _, lists = lists_by_name(cm, connection, "Harbour Lane Coffee")
    email = "optout.person@example.org"
    for name in ("Coffee Club Newsletter", "Wholesale Customers"):
        cm.add_subscriber(lists[name], make_subscriber(email, "Opt Out", consent_to_track="Yes"))
    sf = sf_sandbox.salesforce()
    contact = sf.Contact.create({"LastName": "Out", "Email": email})["id"]
    lead = sf.Lead.create({"LastName": "Out", "Company": "Acme", "Email": email})["id"]
    run_inline(connection)
    # Unsubscribed from one list only (it unsubscribes from that list alone): still opted in.
    cm.unsubscribe(lists["Wholesale Customers"], email)
    run_inline(connection)
    assert sf_sandbox.app.get("Contact", contact)["HasOptedOutOfEmail"] is False
    # Now from the other list too: every membership of the client is unsubscribed.
    cm.unsubscribe(lists["Coffee Club Newsletter"], email)
    run_inline(connection)
    assert sf_sandbox.app.get("Contact", contact)["HasOptedOutOfEmail"] is True
    assert sf_sandbox.app.get("Lead", lead)["HasOptedOutOfEmail"] is True
    log = ConsentChange.objects.filter(email=email, source=ConsentSource.CAMPAIGN_MONITOR)
    assert log.count() == 2


def test_option_off_leaves_contacts_alone(connection, cm_sandbox, sf_sandbox):
    cm = cm_client(cm_sandbox)
    _, lists = lists_by_name(cm, connection, "Harbour Lane Coffee")
    email = "stays.in@example.org"
    cm.add_subscriber(
        lists["Coffee Club Newsletter"], make_subscriber(email, "In", consent_to_track="Yes")
    )
    contact = sf_sandbox.salesforce().Contact.create({"LastName": "In", "Email": email})["id"]
    run_inline(connection)
    cm.unsubscribe(lists["Coffee Club Newsletter"], email)
    run_inline(connection)
    assert sf_sandbox.app.get("Contact", contact)["HasOptedOutOfEmail"] is False


def _active_member(cm, connection):
    client, lists = lists_by_name(cm, connection, "Northwind Outdoor Co.")
    list_id = lists["Trail News"]
    email = "trail.walker@example.org"
    cm.add_subscriber(list_id, make_subscriber(email, "Trail Walker", consent_to_track="Yes"))
    return list_id, email


def test_salesforce_opt_out_unsubscribes_in_cm_and_never_resubscribes(
    connection, cm_sandbox, sf_sandbox
):
    set_options(connection, email_opt_sync=True)
    cm = cm_client(cm_sandbox)
    list_id, email = _active_member(cm, connection)
    sf = sf_sandbox.salesforce()
    contact = sf.Contact.create({"LastName": "Walker", "Email": email})["id"]
    run_inline(connection)
    assert run_optout_batch(connection).unsubscribed == 0  # not opted out yet
    sf.Contact.update(contact, {"HasOptedOutOfEmail": True})
    report = run_optout_batch(connection)
    assert report.unsubscribed == 1
    assert cm.get_subscriber(list_id, email)["State"] == "Unsubscribed"
    assert ConsentChange.objects.filter(email=email, source=ConsentSource.SALESFORCE).exists()
    sf.Contact.update(contact, {"HasOptedOutOfEmail": False})
    run_optout_batch(connection)
    assert cm.get_subscriber(list_id, email)["State"] == "Unsubscribed"
    # The primary sync then records the new state in Salesforce.
    run_inline(connection)
    members = {r["CM_Key__c"]: r for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)}
    assert members[f"{list_id}:{email}"]["State__c"] == "Unsubscribed"


def test_disable_triggers_stops_salesforce_to_cm_changes(connection, cm_sandbox, sf_sandbox):
    set_options(connection, email_opt_sync=True, disable_triggers=True)
    cm = cm_client(cm_sandbox)
    list_id, email = _active_member(cm, connection)
    sf = sf_sandbox.salesforce()
    sf.Contact.create({"LastName": "Walker", "Email": email, "HasOptedOutOfEmail": True})
    run_inline(connection)
    assert run_optout_batch(connection) is None
    assert cm.get_subscriber(list_id, email)["State"] == "Active"


def test_changes_by_users_without_the_permission_set_do_not_flow(
    connection, cm_sandbox, sf_sandbox
):
    set_options(connection, email_opt_sync=True)
    cm = cm_client(cm_sandbox)
    list_id, email = _active_member(cm, connection)
    admin = sf_sandbox.salesforce()
    other_user = next(
        u["Id"]
        for u in admin.query("SELECT Id FROM User WHERE IsActive = true")["records"]
        if u["Id"] != connection.sf_sync_user_id
    )
    contact = admin.Contact.create({"LastName": "Walker", "Email": email})["id"]
    run_inline(connection)
    token, _ = sf_sandbox.app.issue_token(user_id=other_user)
    from simple_salesforce import Salesforce

    as_other = Salesforce(
        instance_url=sf_sandbox.url,
        session_id=token,
        session=sf_sandbox.session(),
        version=sf_sandbox.api_version,
    )
    as_other.Contact.update(contact, {"HasOptedOutOfEmail": True})
    report = run_optout_batch(connection)
    assert report.skipped_no_permission == 1
    assert cm.get_subscriber(list_id, email)["State"] == "Active"
