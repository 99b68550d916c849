"""The Sync Settings screen: what it shows, and every change an Admin makes there."""

from __future__ import annotations

import datetime as dt
import html
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from sync.forms.settings import ConfirmForm
from sync.models import (
    CMClient,
    Connection,
    FullSyncState,
    Plan,
    RunKind,
    RunStatus,
    RunTrigger,
    SyncRun,
)
from sync.services.api import salesforce_client
from sync.services.schedule import next_run_at

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/sync/settings/"


@pytest.fixture(autouse=True)
def private_cache(settings):
    """The Salesforce user list is cached; each test starts with an empty cache of its own."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def page(client) -> str:
    response = client.get(SETTINGS_URL)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def post(client, name: str, data: dict | None = None, **kwargs) -> str:
    response = client.post(reverse(name, kwargs=kwargs or None), data or {}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == SETTINGS_URL
    return html.unescape(response.content.decode())


def beat_task(connection: Connection) -> PeriodicTask:
    return PeriodicTask.objects.get(name=connection.beat_task_name)


def sf_users(connection: Connection) -> dict[str, dict]:
    """Every Salesforce user of the sandbox org (active or not), by name."""
    sf = salesforce_client(connection)
    try:
        return {user["Name"]: user for user in sf.users(active_only=False)}
    finally:
        sf.close()


# Not connected ---------------------------------------------------------------------------------
def test_not_connected_shows_both_connect_cards_with_next_steps(admin_client, settings):
    settings.CM_OAUTH_CLIENT_ID = "cmsync-oauth-app"
    settings.SF_CLIENT_ID = "cmsync-connected-app"
    body = page(admin_client)
    assert 'data-testid="connect-cm"' in body
    assert 'data-testid="connect-sf"' in body
    assert "Next step: paste an account-level API key" in body
    assert 'name="api_key"' in body
    assert "Connect with OAuth" in body
    assert 'action="/sync/connect/salesforce/"' in body
    assert "becomes the <strong>Salesforce Sync User</strong>" in body
    assert "not scheduled: not connected" in body
    assert "Turn off sync" not in body and "Import frequency" not in body


def test_connect_buttons_explain_missing_oauth_apps(admin_client, settings):
    settings.CM_OAUTH_CLIENT_ID = ""
    settings.SF_CLIENT_ID = ""
    body = page(admin_client)
    assert "Connect with OAuth" not in body
    assert 'data-testid="sf-not-configured"' in body
    assert "set <code>SF_CLIENT_ID</code> and <code>SF_CLIENT_SECRET</code>" in body


def test_settings_changes_need_a_connection(admin_client):
    body = post(admin_client, "sync-settings-sync-now")
    assert "Connect Campaign Monitor and Salesforce first." in body
    assert not SyncRun.objects.exists()


# Connected: what the screen shows ----------------------------------------------------------------
def test_connected_screen_shows_every_setting(admin_client, connection):
    body = page(admin_client)
    assert 'data-testid="connect-cm"' not in body
    # Frequency: every choice, hourly selected and labelled recommended.
    for label in ("Every 15 minutes", "Every 30 minutes", "Every 4 hours", "Daily"):
        assert f">{label}</option>" in body
    assert '<option value="60" selected>Hourly (recommended)</option>' in body
    expected_next = timezone.localtime(next_run_at(connection)).strftime("%Y-%m-%d %H:%M")
    assert f'data-testid="next-run">{expected_next}' in body
    assert "Sandbox Admin" in body.split('data-testid="sync-user"')[1][:60]
    assert "No sync has run yet." in body
    assert "Turn off sync" in body and "Sync now" in body
    for item in (
        "Full Campaign Monitor Sync",
        "Change Salesforce Sync User",
        "Reconnect to Campaign Monitor",
        "Disconnect from Campaign Monitor",
    ):
        assert item in body.split('data-testid="more-actions"')[1].split("</details>")[0]
    # Clients table: all three demo clients, active, owned by the sync user by default.
    for name in ("Harbour Lane Coffee", "Northwind Outdoor Co.", "Bluegum Health Clinics"):
        assert f"<td>{name}</td>" in body
    assert body.count(">Active</span>") == 3
    assert body.count("selected>Sandbox Admin (admin@sandbox.cmsync)</option>") == 3
    assert "Select Clients</button>" in body


def test_full_sync_dialog_lists_only_cmsyncs_own_objects(admin_client, connection):
    body = page(admin_client)
    dialog = body.split('<dialog id="full-sync-dialog"')[1].split("</dialog>")[0]
    for sobject in (
        "CMS_Client__c",
        "CMS_List__c",
        "CMS_Subscriber__c",
        "CMS_Campaign__c",
        "CMS_Email_Tracking__c",
        "CMS_Suppression__c",
    ):
        assert f"<code>{sobject}</code>" in dialog
    assert "Contacts, Leads and Campaigns are <strong>never</strong> removed" in dialog
    assert 'name="confirm"' in dialog and "data-close-dialog" in dialog


def test_last_sync_status_with_timing_counts_and_link(admin_client, connection):
    started = timezone.now() - dt.timedelta(minutes=30)
    run = SyncRun.objects.create(
        connection=connection,
        status=RunStatus.PARTLY_FAILED,
        trigger=RunTrigger.SCHEDULE,
        started_at=started,
        finished_at=started + dt.timedelta(minutes=1, seconds=5),
        records_written={"CMS_Subscriber__c": 10, "CMS_List__c": 2},
        rejected_count=2,
        cm_calls=7,
        sf_calls=9,
    )
    last = page(admin_client).split('data-testid="last-sync"')[1].split("</dd>")[0]
    assert "Partly failed" in last
    assert "took 1 min 5 s" in last
    assert "28 min ago" in last
    assert "12 records written, 2 rejected by Salesforce" in last
    assert "7 Campaign Monitor and 9 Salesforce API calls" in last
    assert f'href="/sync/runs/{run.pk}/"' in last


def test_running_run_shows_live_progress(admin_client, connection):
    run = SyncRun.objects.create(
        connection=connection,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        stage="Harbour Lane Coffee: subscribers",
        percent=40,
    )
    body = page(admin_client)
    progress = body.split('data-testid="run-progress"')[1].split("</section>")[0]
    assert f'data-poll-url="/sync/runs/{run.pk}/progress/"' in progress
    assert '<span data-field="stage">Harbour Lane Coffee: subscribers</span>' in progress
    assert '<span data-field="percent">40</span>%' in progress
    assert 'data-progress-bar style="width: 40%"' in progress
    assert "You can leave this page" in progress
    assert admin_client.get(f"/sync/runs/{run.pk}/progress/").json()["percent"] == 40


def test_rejected_credentials_show_what_to_do(admin_client, connection):
    Connection.objects.filter(pk=connection.pk).update(cm_needs_reconnect=True)
    body = page(admin_client)
    banner = body.split('data-testid="reconnect-needed"')[1].split("</section>")[0]
    assert "Campaign Monitor rejected cmsync's credentials" in banner
    assert 'href="/sync/settings/reconnect/"' in banner
    assert "Reconnect needed" in body.split('data-testid="sync-state"')[1][:40]


# Frequency, on/off -------------------------------------------------------------------------------
def test_frequency_change_updates_the_beat_interval_and_next_run(admin_client, connection):
    before = next_run_at(connection)
    body = post(admin_client, "sync-settings-frequency", {"frequency": "15"})
    assert "Import frequency saved: Every 15 minutes." in body
    connection.refresh_from_db()
    assert connection.frequency_minutes == 15
    assert beat_task(connection).interval.every == 15
    after = next_run_at(connection)
    assert after < before
    assert '<option value="15" selected>Every 15 minutes</option>' in body
    assert timezone.localtime(after).strftime("%Y-%m-%d %H:%M") in body


def test_unknown_frequency_is_refused_with_a_clear_error(admin_client, connection):
    body = post(admin_client, "sync-settings-frequency", {"frequency": "7"})
    assert "Choose one of the listed import frequencies." in body
    assert beat_task(connection).interval.every == 60


def test_turn_off_and_on_switches_the_schedule_and_says_so(admin_client, connection):
    body = post(admin_client, "sync-settings-turn-off")
    assert beat_task(connection).enabled is False
    assert "Sync is off: scheduled runs are skipped" in body
    assert "not scheduled: sync is off" in body
    assert "Turn on sync" in body and "Turn off sync" not in body

    body = post(admin_client, "sync-settings-turn-on")
    assert beat_task(connection).enabled is True
    assert "Sync is on" in body
    assert 'data-testid="sync-off-note"' not in body
    assert "Turn off sync" in body


# Sync now, full sync ------------------------------------------------------------------------------
def test_sync_now_starts_one_run_and_a_second_click_says_already_running(
    admin_client, admin_user, connection, django_capture_on_commit_callbacks
):
    with mock.patch("sync.tasks.primary_sync.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            body = post(admin_client, "sync-settings-sync-now")
        assert "Sync started" in body
        run = SyncRun.objects.get()
        assert (run.kind, run.trigger, run.requested_by) == (
            RunKind.INCREMENTAL,
            RunTrigger.MANUAL,
            admin_user,
        )
        delay.assert_called_once_with(run.pk)

        with django_capture_on_commit_callbacks(execute=True):
            body = post(admin_client, "sync-settings-sync-now")
        assert "A sync is already running" in body
        assert SyncRun.objects.count() == 1
        delay.assert_called_once()
    assert 'data-testid="run-progress"' in body


def test_sync_now_without_selected_clients_says_what_is_missing(admin_client, connection):
    connection.clients.update(selected=False)
    body = post(admin_client, "sync-settings-sync-now")
    assert "Select at least one Campaign Monitor client to sync." in body
    assert not SyncRun.objects.exists()


def test_full_sync_needs_the_dialogs_confirmation(
    admin_client, connection, django_capture_on_commit_callbacks
):
    body = post(admin_client, "sync-settings-full-sync")
    assert "Confirm the full sync in its dialog first" in body
    assert not SyncRun.objects.exists()

    with (
        mock.patch("sync.tasks.primary_sync.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        body = post(admin_client, "sync-settings-full-sync", {"confirm": ConfirmForm.FULL_SYNC})
    assert "Full Campaign Monitor Sync started" in body
    run = SyncRun.objects.get()
    assert run.kind == RunKind.FULL
    delay.assert_called_once_with(run.pk)
    connection.refresh_from_db()
    assert connection.full_sync_state == FullSyncState.DELETING


# Disconnect ---------------------------------------------------------------------------------------
def test_disconnect_removes_credentials_and_stops_the_schedule(admin_client, connection):
    body = post(admin_client, "sync-settings-disconnect", {"confirm": ConfirmForm.DISCONNECT})
    assert "Data already in Salesforce stays" in body
    connection.refresh_from_db()
    assert not connection.cm_api_key and not connection.cm_access_token
    assert connection.cm_connected is False
    assert beat_task(connection).enabled is False
    assert 'data-testid="connect-cm"' in body
    assert connection.sf_connected  # Salesforce stays connected


def test_disconnect_without_confirmation_changes_nothing(admin_client, connection):
    body = post(admin_client, "sync-settings-disconnect")
    assert "Confirm the disconnect in its dialog first" in body
    connection.refresh_from_db()
    assert connection.cm_connected


# Security owner -----------------------------------------------------------------------------------
def test_security_owner_accepts_only_active_salesforce_users(admin_client, connection):
    users = sf_users(connection)
    client = CMClient.objects.get(connection=connection, name="Harbour Lane Coffee")
    body = post(
        admin_client,
        "sync-settings-security-owner",
        {"owner": users["Maria Lopez"]["Id"]},
        client_id=client.pk,
    )
    assert "Harbour Lane Coffee: Salesforce Security Owner is now Maria Lopez." in body
    client.refresh_from_db()
    assert (client.security_owner_id, client.security_owner_name) == (
        users["Maria Lopez"]["Id"],
        "Maria Lopez",
    )
    assert "selected>Maria Lopez (maria.lopez@sandbox.cmsync)</option>" in body

    inactive = users["Jonas Berg"]
    assert inactive["IsActive"] is False
    body = post(
        admin_client, "sync-settings-security-owner", {"owner": inactive["Id"]}, client_id=client.pk
    )
    assert "Harbour Lane Coffee: Choose an active Salesforce user." in body
    client.refresh_from_db()
    assert client.security_owner_name == "Maria Lopez"
    assert "Jonas Berg" not in body


def test_salesforce_user_list_is_cached_between_page_views(admin_client, connection, sf_sandbox):
    sf_sandbox.reset_stats()
    page(admin_client)
    page(admin_client)
    assert sf_sandbox.stats().get("query") == 1


def test_salesforce_errors_on_the_user_list_are_shown_not_raised(admin_client, connection):
    # Salesforce now refuses cmsync's session, refresh token and stored login.
    connection.sf_access_token = "expired"
    connection.sf_refresh_token = "revoked"
    connection.sf_password = "no longer the password"
    connection.save()
    body = page(admin_client)
    assert "Salesforce users could not be loaded" in body
    assert 'data-testid="owner-form-' not in body
    assert "Sandbox Admin" in body.split('data-testid="cm-clients"')[1]
    body = post(
        admin_client,
        "sync-settings-security-owner",
        {"owner": "005000000000000AAA"},
        client_id=connection.clients.first().pk,
    )
    assert "Salesforce users could not be loaded" in body


# Select clients (agency accounts) ----------------------------------------------------------------
def test_select_clients_on_enterprise_adds_and_removes_sub_accounts(admin_client, connection):
    keep = list(
        connection.clients.filter(name__in=["Harbour Lane Coffee", "Bluegum Health Clinics"])
        .order_by("name")
        .values_list("cm_client_id", flat=True)
    )
    body = post(admin_client, "sync-settings-select-clients", {"clients": keep})
    assert "Clients to sync saved: Bluegum Health Clinics, Harbour Lane Coffee." in body
    assert set(connection.clients.filter(selected=True).values_list("cm_client_id", flat=True)) == (
        set(keep)
    )
    assert "<td>Northwind Outdoor Co.</td>" not in body

    body = post(admin_client, "sync-settings-select-clients", {"clients": []})
    assert "Select at least one Campaign Monitor client." in body
    assert connection.clients.filter(selected=True).count() == 2


def test_select_clients_is_refused_outside_the_enterprise_plan(admin_client, connection):
    Connection.objects.filter(pk=connection.pk).update(plan=Plan.STANDARD)
    body = page(admin_client)
    assert '<button type="button" class="button" disabled>Select Clients</button>' in body
    assert "needs the Enterprise plan (this installation is on Standard)" in body
    assert 'id="select-clients-dialog"' not in body

    one = connection.clients.order_by("name").first()
    body = post(admin_client, "sync-settings-select-clients", {"clients": [one.cm_client_id]})
    assert "Selecting clients of an agency account needs the Enterprise plan" in body
    assert connection.clients.filter(selected=True).count() == 3


# Support: reads everything, changes nothing -------------------------------------------------------
SETTINGS_POSTS = [
    ("sync-settings-frequency", {}, {"frequency": "15"}),
    ("sync-settings-turn-off", {}, {}),
    ("sync-settings-turn-on", {}, {}),
    ("sync-settings-sync-now", {}, {}),
    ("sync-settings-full-sync", {}, {"confirm": ConfirmForm.FULL_SYNC}),
    ("sync-settings-change-sync-user", {}, {}),
    ("sync-settings-reconnect", {}, {"api_key": "x"}),
    ("sync-settings-disconnect", {}, {"confirm": ConfirmForm.DISCONNECT}),
    ("sync-settings-select-clients", {}, {"clients": ["x"]}),
    ("sync-connect-cm", {}, {"api_key": "x"}),
    ("sync-connect-cm-oauth", {}, {}),
    ("sync-connect-cm-clients", {}, {"clients": "x"}),
    ("sync-connect-sf", {}, {}),
]


def test_support_sees_every_element_read_only(support_client, connection):
    body = page(support_client)
    assert "Your role may read these settings but not change them." in body
    assert "Hourly (recommended)" in body and "Sandbox Admin" in body
    assert '<button type="submit" class="button primary" disabled>Sync now</button>' in body
    assert "Turn off sync</button>" in body and "Harbour Lane Coffee" in body
    assert 'data-testid="owner-form-' not in body  # owners shown as names, no picker
    assert support_client.get(reverse("sync-settings-reconnect")).status_code == 200


def test_support_may_not_change_anything(support_client, connection):
    owner_url = reverse("sync-settings-security-owner", args=[connection.clients.first().pk])
    urls = [(reverse(name, kwargs=kw or None), data) for name, kw, data in SETTINGS_POSTS]
    for url, data in [*urls, (owner_url, {"owner": "x"})]:
        response = support_client.post(url, data)
        assert response.status_code == 403, url
    for callback in ("sync-connect-cm-callback", "sync-connect-sf-callback"):
        assert support_client.get(reverse(callback), {"code": "x"}).status_code == 403
    connection.refresh_from_db()
    assert (
        connection.frequency_minutes == 60 and connection.sync_enabled and connection.cm_connected
    )
    assert not SyncRun.objects.exists()
    assert beat_task(connection).enabled is True
