"""Campaign Monitor API keys are ASCII. A key with other characters ("ключ", "clé") is a form
error on the connect and reconnect forms, a clear error of ``manage.py connect``, and a typed
error of the CM client itself, never a ``UnicodeEncodeError`` from the basic-auth header."""

from __future__ import annotations

import html

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from sync.clients.campaign_monitor import CampaignMonitorClient, OAuthTokens
from sync.clients.errors import MalformedCredentials
from sync.services.connect import ConnectError, read_cm_clients

pytestmark = pytest.mark.django_db

# Cyrillic (outside Latin-1: the header encoding crashed), Latin-1 but not ASCII (sent, then
# refused by CM as "Invalid API Key" at best), an invisible control character, a zero-width
# space, and a full-width digit.
NOT_ASCII_KEYS = ["ключ", "clé-0123", "abc\x07def", "abc\u200bdef", "key１"]
FORM_ERROR = "An API key has only ASCII letters, digits and punctuation"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def cm_settings(settings, cm_sandbox):
    settings.CMSYNC_CA_BUNDLE = cm_sandbox.ca_file
    settings.CM_API_BASE_URL = cm_sandbox.api_base
    return settings


@pytest.mark.parametrize("key", NOT_ASCII_KEYS)
def test_connect_form_refuses_a_key_that_is_not_ascii(admin_client, cm_settings, cm_sandbox, key):
    cm_sandbox.reset_stats()
    response = admin_client.post(reverse("sync-connect-cm"), {"api_key": key})
    assert response.status_code == 200
    assert FORM_ERROR in text(response)
    assert key not in text(response)  # a typed key is never echoed back
    assert cm_sandbox.stats().get("account.clients", 0) == 0  # refused before any call


@pytest.mark.parametrize("key", NOT_ASCII_KEYS)
def test_reconnect_form_refuses_a_key_that_is_not_ascii(admin_client, connection, key):
    everyone = list(connection.clients.values_list("cm_client_id", flat=True))
    response = admin_client.post(
        reverse("sync-settings-reconnect"), {"api_key": key, "clients": everyone}
    )
    assert response.status_code == 200
    assert FORM_ERROR in text(response)
    connection.refresh_from_db()
    assert connection.cm_api_key.reveal() == "sandbox-cm-key"


@pytest.mark.parametrize("key", NOT_ASCII_KEYS)
def test_cm_client_refuses_a_key_that_is_not_ascii_with_its_own_error(key):
    with pytest.raises(MalformedCredentials) as caught:
        CampaignMonitorClient(api_key=key, base_url="https://127.0.0.1:9/api/v3.3")
    assert key not in str(caught.value) and key not in repr(caught.value)
    assert "ASCII" in caught.value.message


def test_cm_client_refuses_oauth_tokens_that_are_not_ascii():
    tokens = OAuthTokens(access_token="jeton-é", refresh_token="ok")
    with pytest.raises(MalformedCredentials):
        CampaignMonitorClient(oauth_tokens=tokens, base_url="https://127.0.0.1:9/api/v3.3")


def test_connect_service_turns_the_clients_error_into_a_connect_error(cm_settings, cm_sandbox):
    with pytest.raises(ConnectError, match="only ASCII letters, digits and punctuation"):
        read_cm_clients(cm_sandbox.api_base, api_key="ключ")


@pytest.mark.django_db(transaction=True)
def test_connect_command_refuses_a_key_that_is_not_ascii(sandbox_settings, cm_sandbox, sf_sandbox):
    with pytest.raises(CommandError, match="only ASCII letters, digits and punctuation"):
        call_command(
            "connect",
            cm_base_url=cm_sandbox.api_base,
            cm_api_key="ключ",
            sf_instance_url=sf_sandbox.url,
            sf_username=sf_sandbox.username,
            sf_password=sf_sandbox.password,
            sf_client_id=sf_sandbox.client_id,
            sf_client_secret=sf_sandbox.client_secret,
        )
