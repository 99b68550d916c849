"""Contract tests: API-key and OAuth authentication of the CM client against the sandbox."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sync.clients.campaign_monitor import (
    CampaignMonitorClient,
    OAuthTokens,
    authorize_url,
    exchange_code,
)
from sync.clients.counting import CallCounter
from sync.clients.errors import AuthError, NotFound, PermanentError

REDIRECT_URI = "https://console.cmsync.test/oauth/cm/callback"


def key_client(sandbox, api_key: str) -> CampaignMonitorClient:
    return CampaignMonitorClient(
        api_key=api_key, base_url=sandbox.api_base, ca_bundle=sandbox.ca_file, sleep=lambda s: None
    )


def authorize_in_browser(sandbox, state: str = "csrf-123") -> str:
    """Follow the authorize URL like a browser would and return the ``code`` CM redirects with."""
    url = authorize_url(
        sandbox.oauth_client_id,
        REDIRECT_URI,
        ["ViewReports", "ManageLists", "ImportSubscribers"],
        state,
        base_url=sandbox.url,
    )
    answer = requests.get(url, verify=sandbox.ca_file, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location._replace(query="").geturl() == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def connect(sandbox, calls: CallCounter | None = None) -> OAuthTokens:
    return exchange_code(
        sandbox.oauth_client_id,
        sandbox.oauth_client_secret,
        REDIRECT_URI,
        authorize_in_browser(sandbox),
        base_url=sandbox.api_base,
        ca_bundle=sandbox.ca_file,
        calls=calls,
    )


def test_api_key_auth_reaches_the_account(cm_sandbox):
    assert len(key_client(cm_sandbox, cm_sandbox.api_key).get_clients()) == 3


def test_bad_api_key_is_an_auth_error_with_cm_code_and_no_secret(cm_sandbox):
    client = key_client(cm_sandbox, "not-the-key-7b1f")
    with pytest.raises(AuthError) as caught:
        client.get_clients()
    error = caught.value
    assert (error.code, error.status, error.endpoint) == (100, 401, "account.clients")
    assert error.message == "Invalid API Key"
    assert "not-the-key-7b1f" not in str(error) + repr(error) + repr(client)
    assert client.calls.by_endpoint() == {"account.clients": 1}  # auth failures are not retried


def test_unknown_ids_are_not_found_with_cm_code(cm_sandbox):
    client = key_client(cm_sandbox, cm_sandbox.api_key)
    unknown = "0" * 32
    cases = [
        (lambda: client.get_list(unknown), 101, "lists.details"),
        (lambda: list(client.iter_subscribers(unknown, "active")), 101, "lists.active"),
        (lambda: client.get_lists(unknown), 102, "clients.lists"),
        (lambda: client.get_campaign_summary(unknown), 301, "campaigns.summary"),
    ]
    for call, code, endpoint in cases:
        with pytest.raises(NotFound) as caught:
            call()
        assert (caught.value.code, caught.value.endpoint) == (code, endpoint)
    assert client.calls.total == len(cases)


def test_client_level_api_key_only_reaches_its_client(cm_sandbox):
    account = key_client(cm_sandbox, cm_sandbox.api_key)
    first, second = account.get_clients()[:2]
    own_key = account.get_client(first["ClientID"])["ApiKey"]
    scoped = key_client(cm_sandbox, own_key)
    assert scoped.get_lists(first["ClientID"])
    with pytest.raises((AuthError, NotFound)):
        scoped.get_lists(second["ClientID"])


def test_oauth_code_exchange_then_bearer_calls(cm_sandbox):
    calls = CallCounter()
    tokens = connect(cm_sandbox, calls)
    assert tokens.access_token and tokens.refresh_token
    assert tokens.expires_in == cm_sandbox.config.token_lifetime_seconds
    assert calls.by_endpoint() == {"oauth.token": 1}
    client = CampaignMonitorClient(
        oauth_tokens=tokens, base_url=cm_sandbox.api_base, ca_bundle=cm_sandbox.ca_file
    )
    assert len(client.get_clients()) == 3
    assert tokens.access_token not in repr(client)


def test_expired_token_is_refreshed_once_and_the_call_retried(cm_sandbox):
    tokens = connect(cm_sandbox)
    saved: list[OAuthTokens] = []
    client = CampaignMonitorClient(
        oauth_tokens=tokens,
        on_token_refresh=saved.append,
        base_url=cm_sandbox.api_base,
        ca_bundle=cm_sandbox.ca_file,
    )
    assert cm_sandbox.expire_tokens() >= 1
    cm_sandbox.reset_stats()

    assert len(client.get_clients()) == 3

    assert len(saved) == 1
    assert saved[0].access_token != tokens.access_token
    assert client.oauth_tokens == saved[0]
    # 401 (Code 121), one refresh, one successful repeat: all counted, on both sides.
    assert client.calls.by_endpoint() == {"account.clients": 2, "oauth.token": 1}
    assert cm_sandbox.stats() == {"account.clients": 2, "oauth.token": 1}
    assert len(client.get_clients()) == 3  # the new token keeps working
    assert len(saved) == 1


def test_failed_refresh_is_an_auth_error(cm_sandbox):
    tokens = connect(cm_sandbox)
    stale = OAuthTokens(access_token=tokens.access_token, refresh_token="revoked-refresh-token")
    saved: list[OAuthTokens] = []
    client = CampaignMonitorClient(
        oauth_tokens=stale,
        on_token_refresh=saved.append,
        base_url=cm_sandbox.api_base,
        ca_bundle=cm_sandbox.ca_file,
    )
    cm_sandbox.expire_tokens()
    with pytest.raises(AuthError) as caught:
        client.get_clients()
    assert caught.value.code == "invalid_grant"
    assert "revoked-refresh-token" not in str(caught.value)
    assert saved == []
    assert client.calls.by_endpoint() == {"account.clients": 1, "oauth.token": 1}


def test_invalid_token_is_not_refreshed(cm_sandbox):
    tokens = OAuthTokens(access_token="forged-token", refresh_token="forged-refresh")
    client = CampaignMonitorClient(
        oauth_tokens=tokens, base_url=cm_sandbox.api_base, ca_bundle=cm_sandbox.ca_file
    )
    with pytest.raises(AuthError) as caught:
        client.get_clients()
    assert caught.value.code == 120
    assert client.calls.by_endpoint() == {"account.clients": 1}


def test_bad_or_reused_code_is_an_auth_error(cm_sandbox):
    code = authorize_in_browser(cm_sandbox)
    options = {"base_url": cm_sandbox.url, "ca_bundle": cm_sandbox.ca_file}
    exchange_code(
        cm_sandbox.oauth_client_id, cm_sandbox.oauth_client_secret, REDIRECT_URI, code, **options
    )
    with pytest.raises(AuthError) as caught:  # codes are single-use
        exchange_code(
            cm_sandbox.oauth_client_id,
            cm_sandbox.oauth_client_secret,
            REDIRECT_URI,
            code,
            **options,
        )
    assert caught.value.code == "invalid_grant"
    assert caught.value.message == "Specified code was invalid or expired"
    with pytest.raises(AuthError) as caught:
        exchange_code(cm_sandbox.oauth_client_id, "wrong-secret", REDIRECT_URI, "x", **options)
    assert "wrong-secret" not in str(caught.value)


def test_untrusted_certificate_is_refused(cm_sandbox):
    client = CampaignMonitorClient(api_key=cm_sandbox.api_key, base_url=cm_sandbox.api_base)
    with pytest.raises(PermanentError) as caught:  # system trust does not know the sandbox CA
        client.get_clients()
    assert "certificate" in str(caught.value)
    assert client.calls.total == 1


def test_refresh_happens_at_most_once_per_call(make_cm_sandbox):
    sandbox = make_cm_sandbox(seed="empty", token_lifetime_seconds=0)  # every token born expired
    tokens = connect(sandbox)
    saved: list[OAuthTokens] = []
    client = CampaignMonitorClient(
        oauth_tokens=tokens,
        on_token_refresh=saved.append,
        base_url=sandbox.api_base,
        ca_bundle=sandbox.ca_file,
    )
    with pytest.raises(AuthError) as caught:
        client.get_clients()
    assert caught.value.code == 121
    assert len(saved) == 1
    assert client.calls.by_endpoint() == {"account.clients": 2, "oauth.token": 1}
