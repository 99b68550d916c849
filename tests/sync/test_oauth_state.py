"""The OAuth ``state`` of a pending sign-in: a forged callback (wrong, missing or odd state) is
refused without touching the admin's real sign-in, and a sign-in left pending expires.

Both providers go through the sandboxes' real authorize pages (they auto-approve).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from django.urls import reverse

from sync.models import Connection
from sync.services import oauth

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Flow:
    provider: oauth.Provider
    start: str  # URL name that begins the sign-in
    callback: str  # URL name the provider sends the browser back to
    connected: str  # the Connection field set once the sign-in was used

    @property
    def session_key(self) -> str:
        return self.provider.session_key


FLOWS = {
    "campaign-monitor": Flow(
        oauth.CAMPAIGN_MONITOR, "sync-connect-cm-oauth", "sync-connect-cm-callback", "cm_connected"
    ),
    "salesforce": Flow(
        oauth.SALESFORCE, "sync-connect-sf", "sync-connect-sf-callback", "sf_connected"
    ),
}

# Callback parameters a forger could send in place of the real state.
FORGED_STATES = [
    {"state": "someone-elses-state"},
    {"state": ""},
    {},  # no state at all
    {"state": "ключ"},  # not ASCII: compare_digest on str would raise TypeError
    {"state": "x" * 5000},
]


@pytest.fixture
def both_settings(settings, cm_sandbox, sf_sandbox):
    # The two sandboxes share one test CA (sandbox_cert_dir), so one bundle verifies both.
    assert cm_sandbox.ca_file == sf_sandbox.ca_file
    settings.CMSYNC_CA_BUNDLE = cm_sandbox.ca_file
    settings.CM_API_BASE_URL = cm_sandbox.api_base
    settings.CM_OAUTH_CLIENT_ID = cm_sandbox.oauth_client_id
    settings.CM_OAUTH_CLIENT_SECRET = cm_sandbox.oauth_client_secret
    settings.SF_LOGIN_URL = sf_sandbox.url
    settings.SF_CLIENT_ID = sf_sandbox.client_id
    settings.SF_CLIENT_SECRET = sf_sandbox.client_secret
    return settings


def text(response) -> str:
    return html.unescape(response.content.decode())


def authorize(admin_client, flow: Flow, ca_file: str) -> str:
    """Begin a sign-in and let the sandbox approve it; returns the real callback path+query."""
    start = admin_client.post(reverse(flow.start))
    assert start.status_code == 302
    answer = requests.get(start["Location"], verify=ca_file, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def with_params(callback: str, **replace: str | None) -> str:
    path, _, query = callback.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    for name, value in replace.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return f"{path}?{urlencode(params)}"


def connected(flow: Flow) -> bool:
    connection = Connection.objects.first()
    return bool(connection and getattr(connection, flow.connected))


@pytest.mark.parametrize(
    "forged", FORGED_STATES, ids=["other", "empty", "none", "cyrillic", "long"]
)
@pytest.mark.parametrize("name", FLOWS)
def test_forged_callback_leaves_the_real_sign_in_usable(
    admin_client, both_settings, cm_sandbox, name, forged
):
    flow = FLOWS[name]
    real = authorize(admin_client, flow, cm_sandbox.ca_file)
    pending = dict(admin_client.session[flow.session_key])

    forgery = with_params(real, state=forged.get("state"))
    response = admin_client.get(forgery, follow=True)
    assert response.status_code == 200
    assert "could not be verified" in text(response)
    assert not connected(flow)
    assert admin_client.session[flow.session_key] == pending  # untouched

    response = admin_client.get(real, follow=True)
    assert "could not be verified" not in text(response)
    assert connected(flow)
    assert flow.session_key not in admin_client.session  # used once
    replay = admin_client.get(real, follow=True)
    assert "could not be verified" in text(replay)


@pytest.mark.parametrize("name", FLOWS)
def test_a_forged_denial_does_not_cancel_the_real_sign_in(
    admin_client, both_settings, cm_sandbox, name
):
    """ "access_denied" with a wrong state is a forgery too: it is not reported as a denial."""
    flow = FLOWS[name]
    real = authorize(admin_client, flow, cm_sandbox.ca_file)
    forged = reverse(flow.callback) + "?" + urlencode({"error": "access_denied", "state": "nope"})
    body = text(admin_client.get(forged, follow=True))
    assert "could not be verified" in body and "did not grant access" not in body
    admin_client.get(real, follow=True)
    assert connected(flow)


@pytest.mark.parametrize("name", FLOWS)
def test_a_sign_in_left_pending_expires(admin_client, both_settings, cm_sandbox, name):
    flow = FLOWS[name]
    real = authorize(admin_client, flow, cm_sandbox.ca_file)
    session = admin_client.session
    minutes = oauth.STATE_LIFETIME.total_seconds() / 60
    session[flow.session_key]["created_at"] -= oauth.STATE_LIFETIME.total_seconds() + 1
    session.save()

    body = text(admin_client.get(real, follow=True))
    assert f"took longer than {minutes:.0f} minutes" in body
    assert "nothing was changed" in body
    assert not connected(flow)
    assert flow.session_key not in admin_client.session  # an expired sign-in is dropped
    # Starting again works.
    admin_client.get(authorize(admin_client, flow, cm_sandbox.ca_file), follow=True)
    assert connected(flow)


@pytest.mark.parametrize("name", FLOWS)
def test_a_sign_in_just_inside_its_lifetime_is_accepted(
    admin_client, both_settings, cm_sandbox, name
):
    flow = FLOWS[name]
    real = authorize(admin_client, flow, cm_sandbox.ca_file)
    session = admin_client.session
    session[flow.session_key]["created_at"] -= oauth.STATE_LIFETIME.total_seconds() - 30
    session.save()
    admin_client.get(real, follow=True)
    assert connected(flow)


@pytest.mark.parametrize("name", FLOWS)
def test_a_pending_sign_in_without_a_start_time_is_treated_as_expired(
    admin_client, both_settings, cm_sandbox, name
):
    """Sign-ins begun before states carried their start time cannot be dated: start again."""
    flow = FLOWS[name]
    real = authorize(admin_client, flow, cm_sandbox.ca_file)
    session = admin_client.session
    del session[flow.session_key]["created_at"]
    session.save()
    body = text(admin_client.get(real, follow=True))
    assert "took longer than" in body
    assert not connected(flow)
