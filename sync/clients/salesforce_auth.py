"""OAuth 2.0 helpers for Salesforce: web-server flow, refresh and username-password grants.

All grants post a form to ``{login_url}/services/oauth2/token``; failures come back as HTTP 400
``{"error": ..., "error_description": ...}`` and are raised as :class:`AuthError` carrying the
``error`` code. Nothing here logs or repeats a secret.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import requests

from .errors import AuthError, TransientError
from .salesforce_http import SalesforceSession, endpoint_name
from .salesforce_types import SalesforceTokens

DEFAULT_SCOPE = "api refresh_token"
TOKEN_PATH = "/services/oauth2/token"
AUTHORIZE_PATH = "/services/oauth2/authorize"


def authorize_url(
    login_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    scope: str = DEFAULT_SCOPE,
) -> str:
    """The URL to send the admin's browser to, to start the web-server (authorization code) flow."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": scope,
        }
    )
    return f"{login_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def exchange_code(
    login_url: str,
    code: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    ca_bundle: str | Path | None = None,
    *,
    session: requests.Session | None = None,
) -> SalesforceTokens:
    """Trade the ``code`` from the OAuth callback for access and refresh tokens."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    return SalesforceTokens.from_token_response(
        _post_token(login_url, form, ca_bundle, session, "code exchange")
    )


def refresh_access_token(
    login_url: str,
    refresh_token: str,
    client_id: str,
    client_secret: str = "",
    ca_bundle: str | Path | None = None,
    *,
    session: requests.Session | None = None,
) -> SalesforceTokens:
    """Get a new access token with a refresh token; the refresh token is kept if not rotated."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    if client_secret:
        form["client_secret"] = client_secret
    data = _post_token(login_url, form, ca_bundle, session, "token refresh")
    return SalesforceTokens.from_token_response(data, refresh_token=refresh_token)


def password_grant(
    login_url: str,
    username: str,
    password: str,
    client_id: str,
    client_secret: str,
    ca_bundle: str | Path | None = None,
    *,
    session: requests.Session | None = None,
) -> SalesforceTokens:
    """The username-password flow (no refresh token; the password may need the security token
    appended). Salesforce discourages it; it exists for service users and the sandbox."""
    form = {
        "grant_type": "password",
        "client_id": client_id,
        "client_secret": client_secret,
        "username": username,
        "password": password,
    }
    return SalesforceTokens.from_token_response(
        _post_token(login_url, form, ca_bundle, session, "password login")
    )


def _post_token(
    login_url: str,
    form: dict[str, str],
    ca_bundle: str | Path | None,
    session: requests.Session | None,
    what: str,
) -> dict:
    url = login_url.rstrip("/") + TOKEN_PATH
    own_session = session is None
    http = session if session is not None else SalesforceSession(ca_bundle=ca_bundle)
    try:
        response = http.post(url, data=form, headers={"Accept": "application/json"})
    finally:
        if own_session:
            http.close()
    endpoint = endpoint_name("POST", url)
    body = _json_or_none(response)
    if response.status_code >= 500:
        raise TransientError(
            f"Salesforce {what} failed on the server side",
            status=response.status_code,
            endpoint=endpoint,
        )
    access = body.get("access_token") if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(access, str) or not access:
        code = body.get("error") if isinstance(body, dict) else None
        detail = body.get("error_description") if isinstance(body, dict) else None
        code = code if isinstance(code, str) else None
        detail = detail if isinstance(detail, str) else None
        raise AuthError(
            f"Salesforce refused the {what}: {detail or 'no reason given'}",
            code=code or "invalid_response",
            status=response.status_code,
            endpoint=endpoint,
        )
    return body


def _json_or_none(response: requests.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None
