"""Salesforce client against the SF sandbox over HTTPS: logins, token refresh, secrets."""

from __future__ import annotations

import traceback
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sync.clients.errors import AuthError, NotFound
from sync.clients.salesforce import (
    SalesforceClient,
    SalesforceTokens,
    authorize_url,
    exchange_code,
    password_grant,
)

REDIRECT = "https://console.example/salesforce/callback"


def _login(sandbox, **kwargs) -> SalesforceClient:
    return SalesforceClient.password_login(
        sandbox.url,
        sandbox.username,
        sandbox.password,
        sandbox.client_id,
        sandbox.client_secret,
        ca_bundle=sandbox.ca_file,
        **kwargs,
    )


def _authorization_code(sandbox, state: str) -> tuple[str, str]:
    """Follow the authorize URL as a browser would; return (code, state) from the redirect."""
    url = authorize_url(sandbox.url, sandbox.client_id, REDIRECT, state)
    answer = requests.get(url, allow_redirects=False, verify=sandbox.ca_file, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    query = parse_qs(urlsplit(location).query)
    return query["code"][0], query["state"][0]


def test_password_login_gives_a_working_client(sf_sandbox):
    client = _login(sf_sandbox)
    assert client.instance_url == sf_sandbox.url
    assert client.user_id.startswith("005")
    [me] = [u for u in client.users() if u["Id"] == client.user_id]
    assert me["Username"] == sf_sandbox.username
    assert client.calls.by_endpoint()["oauth.token"] == 1


def test_password_login_with_a_wrong_password_is_an_auth_error(sf_sandbox):
    with pytest.raises(AuthError) as caught:
        SalesforceClient.password_login(
            sf_sandbox.url,
            sf_sandbox.username,
            "not-the-password",
            sf_sandbox.client_id,
            sf_sandbox.client_secret,
            ca_bundle=sf_sandbox.ca_file,
        )
    assert caught.value.code == "invalid_grant"
    assert "not-the-password" not in str(caught.value)


def test_web_server_flow_exchanges_the_code_for_tokens(sf_sandbox):
    code, state = _authorization_code(sf_sandbox, "csrf-123")
    assert state == "csrf-123"
    tokens = exchange_code(
        sf_sandbox.url,
        code,
        sf_sandbox.client_id,
        sf_sandbox.client_secret,
        REDIRECT,
        sf_sandbox.ca_file,
    )
    assert tokens.instance_url == sf_sandbox.url
    assert tokens.refresh_token
    assert tokens.user_id.startswith("005")
    assert tokens.issued_at
    client = SalesforceClient.from_tokens(tokens, ca_bundle=sf_sandbox.ca_file)
    assert client.query_count("SELECT COUNT() FROM User") >= 1


def test_a_code_can_be_used_only_once(sf_sandbox):
    code, _ = _authorization_code(sf_sandbox, "s")
    args = (sf_sandbox.client_id, sf_sandbox.client_secret, REDIRECT, sf_sandbox.ca_file)
    exchange_code(sf_sandbox.url, code, *args)
    with pytest.raises(AuthError) as caught:
        exchange_code(sf_sandbox.url, code, *args)
    assert caught.value.code == "invalid_grant"


def test_expired_session_is_refreshed_once_and_reported(sf_sandbox):
    access, refresh = sf_sandbox.issue_token()
    seen: list[SalesforceTokens] = []
    client = SalesforceClient(
        sf_sandbox.url,
        access,
        refresh_token=refresh,
        login_url=sf_sandbox.url,
        client_id=sf_sandbox.client_id,
        client_secret=sf_sandbox.client_secret,
        ca_bundle=sf_sandbox.ca_file,
        on_token_refresh=seen.append,
    )
    before = client.query_count("SELECT COUNT() FROM User")
    sf_sandbox.expire_tokens()

    assert client.query_count("SELECT COUNT() FROM User") == before
    assert len(seen) == 1
    assert seen[0].access_token != access
    assert seen[0].refresh_token == refresh  # not rotated: the stored one stays valid
    assert client.tokens.access_token == seen[0].access_token
    assert client.calls.by_endpoint() == {"query": 3, "oauth.token": 1}


def test_refresh_also_covers_bulk_jobs_and_typed_calls(sf_sandbox):
    access, refresh = sf_sandbox.issue_token()
    seen: list[SalesforceTokens] = []
    client = SalesforceClient(
        sf_sandbox.url,
        access,
        refresh_token=refresh,
        login_url=sf_sandbox.url,
        client_id=sf_sandbox.client_id,
        ca_bundle=sf_sandbox.ca_file,
        on_token_refresh=seen.append,
        bulk_poll_seconds=0.05,
    )
    sf_sandbox.expire_tokens()
    assert client.describe("Contact")["name"] == "Contact"
    sf_sandbox.expire_tokens()
    rows = [{"LastName": f"Bulk {i}", "Email": f"b{i}@example.com"} for i in range(3)]
    results = client.sf.bulk2.Contact.insert(records=rows, wait=0.05)
    assert results[0]["numberRecordsProcessed"] == 3
    assert len(seen) == 2


def test_a_revoked_refresh_token_is_an_auth_error(sf_sandbox):
    access, _ = sf_sandbox.issue_token()
    client = SalesforceClient(
        sf_sandbox.url,
        access,
        refresh_token="5Aep-no-such-token",
        login_url=sf_sandbox.url,
        client_id=sf_sandbox.client_id,
        ca_bundle=sf_sandbox.ca_file,
    )
    sf_sandbox.expire_tokens()
    with pytest.raises(AuthError) as caught:
        client.limits()
    assert caught.value.code == "invalid_grant"


def test_without_a_way_to_refresh_an_expired_session_is_an_auth_error(sf_sandbox):
    access, _ = sf_sandbox.issue_token()
    client = SalesforceClient(sf_sandbox.url, access, ca_bundle=sf_sandbox.ca_file)
    sf_sandbox.expire_tokens()
    with pytest.raises(AuthError) as caught:
        client.limits()
    assert caught.value.code == "INVALID_SESSION_ID"


def test_password_clients_renew_an_expired_session(sf_sandbox):
    seen: list[SalesforceTokens] = []
    client = _login(sf_sandbox, on_token_refresh=seen.append)
    sf_sandbox.expire_tokens()
    assert client.limits()["DailyApiRequests"]["Max"] > 0
    assert len(seen) == 1


def test_without_a_refresh_token_the_client_logs_in_again(sf_sandbox):
    """Real orgs give no refresh token to the password flow: the client repeats the login."""
    logins = []

    def login_again(session):
        logins.append(1)
        return password_grant(
            sf_sandbox.url,
            sf_sandbox.username,
            sf_sandbox.password,
            sf_sandbox.client_id,
            sf_sandbox.client_secret,
            session=session,
        )

    access, _ = sf_sandbox.issue_token()
    client = SalesforceClient(
        sf_sandbox.url, access, ca_bundle=sf_sandbox.ca_file, reauthenticate=login_again
    )
    sf_sandbox.expire_tokens()
    assert client.query_count("SELECT COUNT() FROM User") >= 1
    assert logins == [1]
    assert client.calls.by_endpoint() == {"query": 2, "oauth.token": 1}


def test_a_failing_token_callback_does_not_fail_the_call(sf_sandbox, caplog):
    def broken_store(tokens):
        raise RuntimeError("database is down")

    client = _login(sf_sandbox, on_token_refresh=broken_store)
    sf_sandbox.expire_tokens()
    assert client.limits()["DailyApiRequests"]["Max"] > 0
    assert "Storing the refreshed Salesforce tokens failed" in caplog.text


def test_secrets_stay_out_of_reprs_and_errors(sf_sandbox):
    code, _ = _authorization_code(sf_sandbox, "s")
    tokens = exchange_code(
        sf_sandbox.url,
        code,
        sf_sandbox.client_id,
        sf_sandbox.client_secret,
        REDIRECT,
        sf_sandbox.ca_file,
    )
    client = SalesforceClient.from_tokens(
        tokens,
        login_url=sf_sandbox.url,
        client_id=sf_sandbox.client_id,
        client_secret=sf_sandbox.client_secret,
        ca_bundle=sf_sandbox.ca_file,
    )
    secrets = [tokens.access_token, tokens.refresh_token, sf_sandbox.client_secret]
    with pytest.raises(NotFound) as caught:
        client.get("Contact", "003000000000000AAA")
    try:
        password_grant(
            sf_sandbox.url,
            sf_sandbox.username,
            "wrong-pass-secret",
            "bad-client",
            "s3cr3t",
            sf_sandbox.ca_file,
        )
    except AuthError as exc:
        auth_error = exc
    texts = [repr(client), str(client), repr(tokens), str(tokens), repr(client.tokens)]
    for error in (caught.value, auth_error):
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    for text in texts:
        for secret in [*secrets, "wrong-pass-secret", "s3cr3t"]:
            assert secret not in text
