"""Edits of long-standing subscribers (name, custom fields) reach Salesforce.

CM's subscriber reports filter by subscribe date, so an incremental read never sees an edit of
someone who subscribed long ago; the periodic re-read of the active report does.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from sync.clients.salesforce_schema import SUBSCRIBER_OBJECT
from sync.models import RunStatus, SyncCursor
from sync.services.runs import run_inline
from tests.sync.conftest import cm_client

pytestmark = pytest.mark.django_db(transaction=True)


def an_old_active_member(cm, connection):
    client = connection.clients.order_by("name").first()
    list_id = cm.get_lists(client.cm_client_id)[0]["ListID"]
    member = next(iter(cm.iter_subscribers(list_id, "active")))  # oldest first
    return list_id, member


def synced_then_renamed(connection, cm_sandbox, new_name: str) -> tuple[str, str, str]:
    """Sync once, then rename a long-standing active subscriber in CM.

    Returns the list id, the address and the name Salesforce holds before the change.
    """
    cm = cm_client(cm_sandbox)
    assert run_inline(connection).status == RunStatus.SUCCEEDED
    list_id, member = an_old_active_member(cm, connection)
    email = member["EmailAddress"]
    body = {"EmailAddress": email, "Name": new_name, "ConsentToTrack": "Unchanged"}
    renamed = cm_sandbox.call(
        "PUT", f"/subscribers/{list_id}.json", params={"email": email}, json=body
    )
    assert renamed.ok, renamed.text
    return list_id, email, member["Name"]


def membership_in_sf(sf_sandbox, list_id, email) -> dict:
    return next(
        r
        for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)
        if r["CM_List_ID__c"] == list_id and r["Email__c"] == email.lower()
    )


def make_reread_due(list_id: str, hours: int = 25) -> None:
    updated = SyncCursor.objects.filter(stream=f"reread:{list_id}:active").update(
        position=timezone.now() - dt.timedelta(hours=hours)
    )
    assert updated == 1


def test_an_edited_name_arrives_with_the_daily_reread_and_nothing_else_is_written(
    connection, cm_sandbox, sf_sandbox
):
    list_id, email, old_name = synced_then_renamed(connection, cm_sandbox, "Renamed Person")

    run_inline(connection)  # within the day: the date-filtered read cannot see the edit
    assert membership_in_sf(sf_sandbox, list_id, email)["Subscriber_Name__c"] == old_name

    make_reread_due(list_id)
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED
    assert membership_in_sf(sf_sandbox, list_id, email)["Subscriber_Name__c"] == "Renamed Person"
    assert run.records_written.get(SUBSCRIBER_OBJECT) == 1
    reread = SyncCursor.objects.get(stream=f"reread:{list_id}:active").position
    assert timezone.now() - reread < dt.timedelta(minutes=5)


def test_rereads_can_be_turned_off(connection, cm_sandbox, sf_sandbox, settings):
    list_id, email, old_name = synced_then_renamed(connection, cm_sandbox, "Quietly Renamed")
    make_reread_due(list_id, hours=24 * 7)
    settings.CMSYNC_RESYNC_ACTIVE_HOURS = 0
    run_inline(connection)
    assert membership_in_sf(sf_sandbox, list_id, email)["Subscriber_Name__c"] == old_name


def test_a_failed_write_keeps_the_reread_due(connection, cm_sandbox, sf_sandbox):
    list_id, email, old_name = synced_then_renamed(connection, cm_sandbox, "Renamed Later")
    make_reread_due(list_id)
    sf_sandbox.set_faults("503:x100@composite.sobjects.upsert")
    run_inline(connection)
    sf_sandbox.set_faults("")
    before = SyncCursor.objects.get(stream=f"reread:{list_id}:active").position
    assert timezone.now() - before > dt.timedelta(hours=24)
    run_inline(connection)
    assert membership_in_sf(sf_sandbox, list_id, email)["Subscriber_Name__c"] == "Renamed Later"
