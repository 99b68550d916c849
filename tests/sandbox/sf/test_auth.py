"""OAuth grants, token expiry and what the sandbox counts, as a client sees them over HTTPS."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession


def _token(sb, **form):
    data = {"client_id": sb.client_id, "client_secret": sb.client_secret, **form}
    with sb.session() as session:
        return session.post(f"{sb.url}/services/oauth2/token", data=data, timeout=10)


def _password_grant(sb, **overrides):
    form = {"grant_type": "password", "username": sb.username, "password": sb.password}
    return _token(sb, **{**form, **overrides})


def test_password_grant_answers_like_salesforce(sf_empty_sandbox):
    response = _password_grant(sf_empty_sandbox)

    assert response.status_code == 200
    body = response.json()
    assert body["instance_url"] == sf_empty_sandbox.url
    assert body["token_type"] == "Bearer"
    assert body["issued_at"].isdigit()
    assert body["signature"]
    assert body["refresh_token"]
    org_id, user_id = body["id"].rsplit("/", 2)[-2:]
    assert org_id.startswith("00D") and user_id.startswith("005")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"password": "wrong"}, "invalid_grant"),
        ({"username": "nobody@example.com"}, "invalid_grant"),
        ({"client_id": "someone-else"}, "invalid_client_id"),
        ({"client_secret": "guess"}, "invalid_client"),
        ({"grant_type": "magic"}, "unsupported_grant_type"),
    ],
)
def test_bad_credentials_get_oauth_errors(sf_empty_sandbox, overrides, error):
    response = _password_grant(sf_empty_sandbox, **overrides)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert "error_description" in response.json()


def test_authorization_code_flow_redirects_and_exchanges_once(sf_empty_sandbox):
    sb = sf_empty_sandbox
    redirect = "https://app.example.com/sf/callback"
    with sb.session() as session:
        answer = session.get(
            f"{sb.url}/services/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": sb.client_id,
                "redirect_uri": redirect,
                "state": "xyz",
            },
            allow_redirects=False,
            timeout=10,
        )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    params = parse_qs(location.query)
    assert params["state"] == ["xyz"]

    code = params["code"][0]
    first = _token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect)
    again = _token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect)

    assert first.status_code == 200
    assert first.json()["refresh_token"]
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_authorize_refuses_an_unknown_client(sf_empty_sandbox):
    sb = sf_empty_sandbox
    with sb.session() as session:
        answer = session.get(
            f"{sb.url}/services/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": "nope",
                "redirect_uri": "https://x.example.com/cb",
            },
            allow_redirects=False,
            timeout=10,
        )
    assert answer.status_code == 400


def test_refresh_grant_issues_a_working_access_token(sf_empty_sandbox):
    sb = sf_empty_sandbox
    refresh = _password_grant(sb).json()["refresh_token"]

    response = _token(sb, grant_type="refresh_token", refresh_token=refresh)

    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body
    sf = Salesforce(
        instance_url=body["instance_url"], session_id=body["access_token"], session=sb.session()
    )
    assert sf.User.get(body["id"].rsplit("/", 1)[-1])["Username"] == sb.username


def test_unknown_refresh_token_is_refused(sf_empty_sandbox):
    response = _token(sf_empty_sandbox, grant_type="refresh_token", refresh_token="5Aepnope")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_expired_tokens_get_invalid_session_id(sf_empty_sandbox):
    sb = sf_empty_sandbox
    sf = sb.salesforce()
    sf.query("SELECT Id FROM User")

    sb.expire_tokens()

    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_token_lifetime_comes_from_config(make_sf_sandbox):
    sb = make_sf_sandbox(seed="empty", token_lifetime_seconds=0)
    token, _refresh = sb.issue_token()
    with sb.session() as session:
        response = session.get(
            f"{sb.url}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_missing_token_is_401_with_a_json_list(sf_empty_sandbox):
    with sf_empty_sandbox.session() as session:
        response = session.get(f"{sf_empty_sandbox.url}/services/data/v59.0/sobjects", timeout=10)

    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_identity_url_and_userinfo_describe_the_user(sf_empty_sandbox):
    sb = sf_empty_sandbox
    body = _password_grant(sb).json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    with sb.session() as session:
        identity = session.get(body["id"], headers=headers, timeout=10)
        userinfo = session.get(f"{sb.url}/services/oauth2/userinfo", headers=headers, timeout=10)

    assert identity.status_code == 200
    assert identity.json()["username"] == sb.username
    assert userinfo.json()["email"] == sb.username


def test_revoked_refresh_token_stops_working(sf_empty_sandbox):
    sb = sf_empty_sandbox
    refresh = _password_grant(sb).json()["refresh_token"]
    with sb.session() as session:
        revoked = session.post(
            f"{sb.url}/services/oauth2/revoke", data={"token": refresh}, timeout=10
        )

    assert revoked.status_code == 200
    assert _token(sb, grant_type="refresh_token", refresh_token=refresh).status_code == 400


def test_inactive_users_cannot_log_in(sf_sandbox):
    inactive = next(u for u in sf_sandbox.app.records("User") if not u["IsActive"])

    response = _password_grant(sf_sandbox, username=inactive["Username"])

    assert response.status_code == 400
