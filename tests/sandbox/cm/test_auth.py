"""Authentication of the CM sandbox: API keys, client keys, OAuth codes and tokens."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

REDIRECT = "https://app.example/cm/callback?next=settings"


def authorize(cm, **params) -> requests.Response:
    query = {
        "client_id": cm.oauth_client_id,
        "redirect_uri": REDIRECT,
        "scope": "ViewReports,ManageLists",
        "state": "xyz-42",
        **params,
    }
    return requests.get(cm.url + "/oauth", params=query, verify=cm.ca_file, allow_redirects=False)


def code_from(response: requests.Response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def exchange(cm, the_code: str, **overrides) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "client_id": cm.oauth_client_id,
        "client_secret": cm.oauth_client_secret,
        "redirect_uri": REDIRECT,
        "code": the_code,
        **overrides,
    }
    return requests.post(cm.url + "/oauth/token", data=form, verify=cm.ca_file)


def refresh(cm, refresh_token: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return requests.post(cm.url + "/oauth/token", data=form, verify=cm.ca_file)


def bearer(cm, token: str, path: str = "/clients.json") -> requests.Response:
    return cm.call("GET", path, auth=None, headers={"Authorization": f"Bearer {token}"})


def connect(cm) -> dict:
    response = exchange(cm, code_from(authorize(cm)))
    assert response.status_code == 200, response.text
    return response.json()


INVALID_KEY = {"Code": 100, "Message": "Invalid API Key"}


# --- API keys ------------------------------------------------------------------------------------


def test_the_api_key_is_the_basic_auth_user_name_and_any_password_works(cm_sandbox):
    for password in ("x", "", "anything at all"):
        response = cm_sandbox.call("GET", "/clients.json", auth=(cm_sandbox.api_key, password))
        assert response.status_code == 200
        assert len(response.json()) == 3


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic bm90LXRoZS1rZXk6eA=="},  # not-the-key:x
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Token sandbox-cm-key"},
    ],
)
def test_missing_or_wrong_credentials_get_the_same_401(cm_sandbox, headers):
    response = cm_sandbox.call("GET", "/clients.json", auth=None, headers=headers)
    assert response.status_code == 401
    assert response.json() == INVALID_KEY


def test_the_key_as_password_is_not_accepted(cm_sandbox):
    response = cm_sandbox.call("GET", "/clients.json", auth=("someone", cm_sandbox.api_key))
    assert response.status_code == 401
    assert response.json() == INVALID_KEY


def test_auth_is_checked_before_routing(cm_sandbox):
    cm = cm_sandbox
    for method, path in [("GET", "/no/such/thing.json"), ("PATCH", "/clients.json")]:
        anonymous = cm.call(method, path, auth=None)
        assert (anonymous.status_code, anonymous.json()) == (401, INVALID_KEY)
    assert cm.call("GET", "/no/such/thing.json").json() == {"Code": 404, "Message": "Not Found"}
    assert cm.call("PATCH", "/clients.json").status_code == 405


def test_auth_errors_never_echo_the_credentials(cm_sandbox):
    response = cm_sandbox.call("GET", "/clients.json", auth=("secret-key-123", "pw-456"))
    assert "secret-key-123" not in response.text and "pw-456" not in response.text


def test_a_client_api_key_reaches_only_its_own_client(cm_sandbox):
    cm = cm_sandbox
    clients = cm.call("GET", "/clients.json").json()
    own, other = clients[0]["ClientID"], clients[1]["ClientID"]
    client_key = cm.call("GET", f"/clients/{own}.json").json()["ApiKey"]
    scoped = (client_key, "x")
    assert [c["ClientID"] for c in cm.call("GET", "/clients.json", auth=scoped).json()] == [own]
    assert cm.call("GET", f"/clients/{own}/lists.json", auth=scoped).status_code == 200
    denied = cm.call("GET", f"/clients/{other}/lists.json", auth=scoped)
    assert (denied.status_code, denied.json()["Code"]) == (401, 102)
    other_list = cm.call("GET", f"/clients/{other}/lists.json").json()[0]["ListID"]
    denied = cm.call("GET", f"/lists/{other_list}.json", auth=scoped)
    assert (denied.status_code, denied.json()["Code"]) == (401, 101)
    body = {
        "CompanyName": "New",
        "Country": "Australia",
        "TimeZone": "(GMT+10:00) Canberra, Melbourne, Sydney",
    }
    assert cm.call("POST", "/clients.json", json=body, auth=scoped).status_code == 403


# --- OAuth ---------------------------------------------------------------------------------------


def test_authorize_redirects_back_with_a_code_and_the_state(cm_sandbox):
    response = authorize(cm_sandbox)
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert response.status_code == 302
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT.split("?")[0]
    assert query["next"] == ["settings"] and query["state"] == ["xyz-42"]
    assert query["code"][0]


def test_code_exchange_gives_tokens_that_call_the_api(cm_sandbox):
    tokens = connect(cm_sandbox)
    assert tokens["expires_in"] == cm_sandbox.config.token_lifetime_seconds
    assert tokens["access_token"] != tokens["refresh_token"]
    response = bearer(cm_sandbox, tokens["access_token"])
    assert response.status_code == 200 and len(response.json()) == 3


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"client_id": "someone-else"}, "unknown_client"),
        ({"redirect_uri": "not a url"}, "invalid_redirect_uri"),
    ],
)
def test_authorize_refuses_unknown_clients_and_bad_redirects(cm_sandbox, params, error):
    response = authorize(cm_sandbox, **params)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_authorize_with_an_unknown_scope_redirects_with_an_error(cm_sandbox):
    response = authorize(cm_sandbox, scope="ViewReports,ReadMinds")
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert response.status_code == 302
    assert query["error"] == ["unknown_scope"] and "code" not in query


def test_a_code_works_once(cm_sandbox):
    code = code_from(authorize(cm_sandbox))
    assert exchange(cm_sandbox, code).status_code == 200
    again = exchange(cm_sandbox, code)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "Specified code was invalid or expired",
    }


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_secret": "wrong"}, "unknown_client"),
        ({"client_id": "wrong"}, "unknown_client"),
        ({"redirect_uri": "https://elsewhere.example/cb"}, "invalid_redirect_uri"),
        ({"code": "made-up"}, "invalid_grant"),
        ({"grant_type": "password"}, "invalid_request"),
    ],
)
def test_code_exchange_checks_client_redirect_and_code(cm_sandbox, overrides, error):
    response = exchange(cm_sandbox, code_from(authorize(cm_sandbox)), **overrides)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_expired_tokens_get_code_121_and_refresh_gives_a_working_token(cm_sandbox):
    cm = cm_sandbox
    tokens = connect(cm)
    expired = requests.post(cm.url + "/__sandbox__/expire-tokens", verify=cm.ca_file)
    assert expired.json() == {"expired": 1}
    response = bearer(cm, tokens["access_token"])
    assert response.status_code == 401
    assert response.json() == {"Code": 121, "Message": "Expired OAuth Token"}
    renewed = refresh(cm, tokens["refresh_token"])
    assert renewed.status_code == 200
    fresh = renewed.json()
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["expires_in"] == cm.config.token_lifetime_seconds
    assert bearer(cm, fresh["access_token"]).status_code == 200
    assert bearer(cm, tokens["access_token"]).status_code == 401


def test_tokens_expire_after_the_configured_lifetime(make_cm_sandbox):
    cm = make_cm_sandbox(seed="empty", token_lifetime_seconds=60)
    tokens = connect(cm)
    assert tokens["expires_in"] == 60
    cm.shift_clock(59)
    assert bearer(cm, tokens["access_token"]).status_code == 200
    cm.shift_clock(2)
    assert bearer(cm, tokens["access_token"]).json()["Code"] == 121


def test_unknown_bearer_tokens_get_code_120(cm_sandbox):
    response = bearer(cm_sandbox, "made-up-token")
    assert response.status_code == 401
    assert response.json() == {"Code": 120, "Message": "Invalid OAuth Token"}


def test_a_bad_refresh_token_is_an_invalid_grant(cm_sandbox):
    response = refresh(cm_sandbox, "made-up")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Specified refresh_token was invalid or expired",
    }


def test_oauth_endpoints_are_counted_under_their_route_names(cm_sandbox):
    cm_sandbox.reset_stats()
    connect(cm_sandbox)
    assert cm_sandbox.stats() == {"oauth.authorize": 1, "oauth.token": 1}
