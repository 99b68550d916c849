"""Connect flows: CM by API key or OAuth, SF by OAuth, reconnect, change the sync user.

The OAuth round trips go through the sandboxes' real authorize pages (they auto-approve): the
test follows the redirect to the sandbox by hand, then calls cmsync's callback with what the
sandbox sent back.
"""

from __future__ import annotations

import html
import re
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from sync.clients.errors import PermanentError
from sync.models import CMAuthMethod, CMClient, Connection, Plan, SyncCursor

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/sync/settings/"


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def cm_settings(settings, cm_sandbox):
    settings.CMSYNC_CA_BUNDLE = cm_sandbox.ca_file
    settings.CM_API_BASE_URL = cm_sandbox.api_base
    settings.CM_OAUTH_CLIENT_ID = cm_sandbox.oauth_client_id
    settings.CM_OAUTH_CLIENT_SECRET = cm_sandbox.oauth_client_secret
    return settings


@pytest.fixture
def sf_settings(settings, sf_sandbox):
    settings.CMSYNC_CA_BUNDLE = sf_sandbox.ca_file
    settings.SF_LOGIN_URL = sf_sandbox.url
    settings.SF_CLIENT_ID = sf_sandbox.client_id
    settings.SF_CLIENT_SECRET = sf_sandbox.client_secret
    return settings


def text(response) -> str:
    return html.unescape(response.content.decode())


def authorize_at_sandbox(start_response, ca_file: str) -> str:
    """Follow cmsync's redirect to the sandbox's authorize page; return the callback path+query."""
    assert start_response.status_code == 302
    answer = requests.get(
        start_response["Location"], verify=ca_file, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.netloc == "testserver"
    return f"{back.path}?{back.query}"


# Campaign Monitor with an API key ----------------------------------------------------------------
def test_api_key_connects_a_single_client_account(admin_client, settings, cm_empty_sandbox):
    settings.CMSYNC_CA_BUNDLE = cm_empty_sandbox.ca_file
    settings.CM_API_BASE_URL = cm_empty_sandbox.api_base
    response = admin_client.post(
        reverse("sync-connect-cm"), {"api_key": cm_empty_sandbox.api_key}, follow=True
    )
    body = text(response)
    assert response.redirect_chain[-1][0] == SETTINGS_URL
    assert "Connected to Campaign Monitor: Sandbox Client." in body
    assert "Next step: connect Salesforce." in body
    connection = Connection.objects.get()
    assert connection.cm_connected and connection.cm_auth_method == CMAuthMethod.API_KEY
    assert connection.cm_api_key.reveal() == cm_empty_sandbox.api_key
    assert list(connection.clients.values_list("name", "selected")) == [("Sandbox Client", True)]
    # The CM card now says connected; the Salesforce card still asks to connect.
    assert 'data-testid="connect-sf"' in body and "Connected</span> by API key" in body
    assert cm_empty_sandbox.api_key not in body


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("", "Enter the Campaign Monitor API key."),
        ("abc def", "An API key has no spaces or line breaks"),
        (
            "wrong-key",
            "Campaign Monitor rejected the API key (code 100: Invalid API Key). Use an "
            "account-level API key",
        ),
    ],
)
def test_api_key_errors_say_what_is_wrong(admin_client, cm_settings, key, error):
    response = admin_client.post(reverse("sync-connect-cm"), {"api_key": key})
    assert response.status_code == 200
    assert error in text(response)
    assert f'value="{key}"' not in text(response)  # a typed key is never echoed back
    assert not Connection.objects.filter(cm_connected_at__isnull=False).exists()


def test_agency_account_chooses_its_clients_after_connecting(admin_client, cm_settings):
    response = admin_client.post(reverse("sync-connect-cm"), {"api_key": "sandbox-cm-key"})
    assert response["Location"] == reverse("sync-connect-cm-clients")
    connection = Connection.objects.get()
    assert connection.cm_is_agency and not connection.clients.filter(selected=True).exists()
    ids = dict(connection.clients.values_list("name", "cm_client_id"))

    # On the Standard plan only one client may be synced: the page offers a single choice.
    Connection.objects.filter(pk=connection.pk).update(plan=Plan.STANDARD)
    body = text(admin_client.get(reverse("sync-connect-cm-clients")))
    assert body.count('type="radio" name="clients"') == 3
    assert "syncing several needs the Enterprise plan" in body
    response = admin_client.post(reverse("sync-connect-cm-clients"), {})
    assert "Select at least one Campaign Monitor client." in text(response)
    coffee = ids["Harbour Lane Coffee"]
    response = admin_client.post(reverse("sync-connect-cm-clients"), {"clients": coffee})
    assert response["Location"] == SETTINGS_URL
    assert list(
        connection.clients.filter(selected=True).values_list("cm_client_id", flat=True)
    ) == [coffee]

    # On Enterprise every client can be ticked.
    Connection.objects.filter(pk=connection.pk).update(plan=Plan.ENTERPRISE)
    body = text(admin_client.get(reverse("sync-connect-cm-clients")))
    assert body.count('type="checkbox" name="clients"') == 3
    two = [coffee, ids["Northwind Outdoor Co."]]
    response = admin_client.post(reverse("sync-connect-cm-clients"), {"clients": two}, follow=True)
    assert "Clients to sync saved: Harbour Lane Coffee, Northwind Outdoor Co." in text(response)
    assert set(connection.clients.filter(selected=True).values_list("cm_client_id", flat=True)) == (
        set(two)
    )


# Campaign Monitor with OAuth ---------------------------------------------------------------------
def test_cm_oauth_round_trip_connects_with_tokens(admin_client, cm_settings, cm_sandbox):
    body = text(admin_client.get(SETTINGS_URL))
    assert "Connect with OAuth" in body
    start = admin_client.post(reverse("sync-connect-cm-oauth"))
    location = urlsplit(start["Location"])
    assert location.path == "/oauth" and f"{location.scheme}://{location.netloc}" == cm_sandbox.url
    callback = authorize_at_sandbox(start, cm_sandbox.ca_file)
    assert callback.startswith(reverse("sync-connect-cm-callback") + "?code=")

    response = admin_client.get(callback)
    assert response["Location"] == reverse("sync-connect-cm-clients")
    connection = Connection.objects.get()
    assert connection.cm_auth_method == CMAuthMethod.OAUTH
    assert connection.cm_access_token and connection.cm_refresh_token and not connection.cm_api_key
    assert connection.clients.count() == 3
    # Connected now: a second OAuth start is turned away towards Reconnect.
    again = admin_client.post(reverse("sync-connect-cm-oauth"), follow=True)
    assert "already connected" in text(again)
    # The state is single-use: replaying the callback changes nothing and says why.
    replay = admin_client.get(callback, follow=True)
    assert "could not be verified" in text(replay)


def test_cm_oauth_callback_refuses_a_foreign_state(admin_client, cm_settings, cm_sandbox):
    start = admin_client.post(reverse("sync-connect-cm-oauth"))
    callback = authorize_at_sandbox(start, cm_sandbox.ca_file)
    forged = callback.split("&state=")[0] + "&state=someone-elses-state"
    response = admin_client.get(forged, follow=True)
    assert "could not be verified (its state does not match" in text(response)
    assert not Connection.objects.exists()


def test_cm_oauth_denied_access_is_explained(admin_client, cm_settings):
    admin_client.post(reverse("sync-connect-cm-oauth"))
    state = admin_client.session["cmsync.cm_oauth"]["state"]
    response = admin_client.get(
        reverse("sync-connect-cm-callback"), {"error": "access_denied", "state": state}, follow=True
    )
    assert "Campaign Monitor did not grant access (access_denied)" in text(response)


# Salesforce with OAuth ---------------------------------------------------------------------------
def test_sf_oauth_round_trip_connects_and_prepares_the_org(admin_client, sf_settings, sf_sandbox):
    start = admin_client.post(reverse("sync-connect-sf"))
    assert start["Location"].startswith(sf_sandbox.url + "/services/oauth2/authorize?")
    assert (
        "redirect_uri=http%3A%2F%2Ftestserver%2Fsync%2Fconnect%2Fsalesforce%2Fcallback%2F"
        in (start["Location"])
    )
    callback = authorize_at_sandbox(start, sf_sandbox.ca_file)
    response = admin_client.get(callback, follow=True)
    body = text(response)
    assert "Connected to Salesforce; cmsync's objects are ready. Sandbox Admin is the " in body
    assert "Next step: connect Campaign Monitor." in body
    connection = Connection.objects.get()
    assert connection.sf_connected and connection.sf_schema_ready_at is not None
    assert connection.sf_sync_user_name == "Sandbox Admin"
    assert connection.sf_refresh_token


def test_sf_oauth_denied_access_is_explained(admin_client, sf_settings):
    admin_client.post(reverse("sync-connect-sf"))
    state = admin_client.session["cmsync.sf_oauth"]["state"]
    response = admin_client.get(
        reverse("sync-connect-sf-callback"),
        {"error": "access_denied", "error_description": "end-user denied authorization"},
        follow=True,
    )
    assert "could not be verified" in text(response)  # no state: refused before anything else
    admin_client.post(reverse("sync-connect-sf"))
    state = admin_client.session["cmsync.sf_oauth"]["state"]
    response = admin_client.get(
        reverse("sync-connect-sf-callback"),
        {
            "error": "access_denied",
            "error_description": "end-user denied authorization",
            "state": state,
        },
        follow=True,
    )
    body = text(response)
    assert "Salesforce did not grant access (end-user denied authorization)" in body
    assert "choose Allow" in body
    assert not Connection.objects.filter(sf_connected_at__isnull=False).exists()


def test_sf_connect_failure_shows_the_connect_error(admin_client, sf_settings, sf_sandbox):
    refusal = PermanentError(
        "insufficient access rights on cross-reference id", code="INSUFFICIENT_ACCESS"
    )
    start = admin_client.post(reverse("sync-connect-sf"))
    with mock.patch("sync.services.connect.ensure_schema", side_effect=refusal):
        response = admin_client.get(authorize_at_sandbox(start, sf_sandbox.ca_file), follow=True)
    body = text(response)
    assert "cmsync could not prepare its objects in Salesforce" in body
    assert "grant them and connect again" in body
    assert not Connection.objects.filter(sf_connected_at__isnull=False).exists()


def test_change_sync_user_signs_the_person_in_as_themselves(admin_client, connection, sf_sandbox):
    assert connection.sf_username  # connected by the password flow
    start = admin_client.post(reverse("sync-settings-change-sync-user"))
    assert admin_client.session["cmsync.sf_oauth"]["purpose"] == "change_sync_user"
    response = admin_client.get(authorize_at_sandbox(start, sf_sandbox.ca_file), follow=True)
    assert "Sandbox Admin is now the Salesforce Sync User." in text(response)
    connection.refresh_from_db()
    # The org is now reached with the person's own OAuth tokens, not the scripted login.
    assert connection.sf_username == "" and connection.sf_refresh_token
    assert connection.sf_sync_user_name == "Sandbox Admin"


def test_change_sync_user_refuses_a_person_of_another_org(admin_client, connection, sf_sandbox):
    org_id = connection.sf_org_id
    assert org_id.startswith("00D")  # remembered from the identity URL when connecting
    Connection.objects.filter(pk=connection.pk).update(sf_org_id="00D000000000OTHER")
    start = admin_client.post(reverse("sync-settings-change-sync-user"))
    response = admin_client.get(authorize_at_sandbox(start, sf_sandbox.ca_file), follow=True)
    assert "You signed in to a different Salesforce org" in text(response)
    connection.refresh_from_db()
    assert connection.sf_username  # still the scripted login: nothing was switched
    assert connection.sf_org_id == "00D000000000OTHER"


# Reconnect ---------------------------------------------------------------------------------------
def test_reconnect_with_a_bad_key_shows_the_error(admin_client, connection):
    everyone = list(connection.clients.values_list("cm_client_id", flat=True))
    response = admin_client.post(
        reverse("sync-settings-reconnect"), {"api_key": "wrong-key", "clients": everyone}
    )
    assert response.status_code == 200
    assert "Campaign Monitor rejected the API key (code 100: Invalid API Key)" in text(response)
    connection.refresh_from_db()
    assert connection.cm_api_key.reveal() == "sandbox-cm-key"


def test_reconnect_asks_for_every_client_again(admin_client, connection, cm_sandbox):
    body = text(admin_client.get(reverse("sync-settings-reconnect")))
    assert body.count('type="checkbox" name="clients"') == 3
    assert 'name="clients" value="' in body and "checked" not in body.split("reconnect-form")[1]
    response = admin_client.post(
        reverse("sync-settings-reconnect"), {"api_key": cm_sandbox.api_key}
    )
    assert "Select every client to keep syncing (at least one)." in text(response)


def test_reconnect_leaving_a_client_out_needs_confirmation(admin_client, connection, cm_sandbox):
    left_out = connection.clients.get(name="Bluegum Health Clinics")
    SyncCursor.objects.create(cm_client=left_out, stream="lists")
    keep = list(connection.clients.exclude(pk=left_out.pk).values_list("cm_client_id", flat=True))
    data = {"api_key": cm_sandbox.api_key, "clients": keep}

    response = admin_client.post(reverse("sync-settings-reconnect"), data)
    body = text(response)
    warning = body.split('data-testid="losing-warning"')[1].split("</div>")[0]
    assert "<li>Bluegum Health Clinics</li>" in warning
    for loss in (
        "sync cursors",
        "run history",
        "import wizards",
        "field mappings",
        "campaign links",
    ):
        assert loss in warning
    # The box sends its own value (nothing else confirms the loss).
    token = re.search(r'type="checkbox" name="confirm_loss" value="([^"]+)"', warning).group(1)
    assert CMClient.objects.filter(pk=left_out.pk).exists()

    response = admin_client.post(
        reverse("sync-settings-reconnect"), {**data, "confirm_loss": token}
    )
    assert response["Location"] == SETTINGS_URL
    assert not CMClient.objects.filter(pk=left_out.pk).exists()
    assert not SyncCursor.objects.filter(stream="lists").exists()
    # The client is still in the account: it comes back as a new row, unselected and blank.
    fresh = connection.clients.get(name="Bluegum Health Clinics")
    assert fresh.pk != left_out.pk and not fresh.selected
    assert set(connection.clients.filter(selected=True).values_list("cm_client_id", flat=True)) == (
        set(keep)
    )
    body = text(admin_client.get(SETTINGS_URL))
    assert "Reconnected to Campaign Monitor. Syncing: " in body
    assert "<td>Bluegum Health Clinics</td>" not in body


def test_reconnect_with_oauth_keeps_tokens_out_of_the_page(
    admin_client, connection, cm_settings, cm_sandbox
):
    start = admin_client.post(reverse("sync-connect-cm-oauth"), {"purpose": "reconnect"})
    response = admin_client.get(authorize_at_sandbox(start, cm_sandbox.ca_file))
    assert response["Location"] == reverse("sync-settings-reconnect")
    stored = admin_client.session["cmsync.cm_reconnect_tokens"]
    assert stored.startswith("fernet:")  # encrypted in the session store

    body = text(admin_client.get(reverse("sync-settings-reconnect")))
    assert "Campaign Monitor access was granted with OAuth" in body
    assert 'name="api_key"' not in body
    everyone = list(connection.clients.values_list("cm_client_id", flat=True))
    response = admin_client.post(reverse("sync-settings-reconnect"), {"clients": everyone})
    assert response["Location"] == SETTINGS_URL
    connection.refresh_from_db()
    assert connection.cm_auth_method == CMAuthMethod.OAUTH and not connection.cm_api_key
    assert connection.clients.filter(selected=True).count() == 3
    assert "cmsync.cm_reconnect_tokens" not in admin_client.session
