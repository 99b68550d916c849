"""CM's OAuth 2 flow: ``GET /oauth`` (auto-approved) and ``POST /oauth/token``.

The authorize page approves at once and redirects to ``redirect_uri?code=...&state=...``.
Access tokens live ``config.token_lifetime_seconds`` on the sandbox clock; tests can expire them
all with ``POST /__sandbox__/expire-tokens``. Errors use OAuth's lower-case body
(``{"error": ..., "error_description": ...}``) with HTTP 400, as CM's samples show.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sandbox.config import SandboxConfig
from sandbox.core.http import Request, Response

from .dates import Clock
from .errors import expired_token, invalid_token, revoked_token

if TYPE_CHECKING:
    from .app import CampaignMonitorApp

SCOPES = (
    "ViewReports",
    "ManageLists",
    "CreateCampaigns",
    "ImportSubscribers",
    "SendCampaigns",
    "ViewSubscribersInReports",
    "ManageTemplates",
    "AdministerPersons",
    "AdministerAccount",
    "ViewTransactional",
    "SendTransactional",
    "Automation",
)
CODE_LIFETIME_SECONDS = 600


@dataclass
class AuthorizationCode:
    redirect_uri: str
    scope: str
    expires_at: float


@dataclass
class AccessToken:
    scope: str
    expires_at: float
    refresh_token: str
    revoked: bool = False


class OAuthServer:
    """Codes, access tokens and refresh tokens (the app's state lock guards them)."""

    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> scope

    def issue_code(self, redirect_uri: str, scope: str) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            redirect_uri, scope, self.clock.now() + CODE_LIFETIME_SECONDS
        )
        return code

    def issue_token(self, scope: str, refresh_token: str | None = None) -> dict[str, object]:
        access = secrets.token_urlsafe(32)
        refresh = refresh_token or secrets.token_urlsafe(32)
        lifetime = int(self.config.token_lifetime_seconds)
        self.tokens[access] = AccessToken(scope, self.clock.now() + lifetime, refresh)
        self.refresh_tokens[refresh] = scope
        return {"access_token": access, "expires_in": lifetime, "refresh_token": refresh}

    def check_access_token(self, token: str) -> AccessToken:
        found = self.tokens.get(token)
        if found is None:
            raise invalid_token()
        if found.revoked:
            raise revoked_token()
        if found.expires_at <= self.clock.now():
            raise expired_token()
        return found

    def expire_all(self) -> int:
        now = self.clock.now()
        count = 0
        for token in self.tokens.values():
            if token.expires_at > now:
                token.expires_at = now - 1
                count += 1
        return count

    def revoke_all(self) -> int:
        for token in self.tokens.values():
            token.revoked = True
        self.refresh_tokens.clear()
        return len(self.tokens)


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json({"error": error, "error_description": description}, status=status)


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def authorize(app: CampaignMonitorApp, request: Request) -> Response:
    """``GET /oauth?client_id=&redirect_uri=&scope=&state=``: approve and redirect back."""
    query = request.query
    client_id = query.get("client_id") or ""
    redirect_uri = query.get("redirect_uri") or ""
    if client_id != app.config.cm_oauth_client_id:
        return _oauth_error("unknown_client", "The client_id is not recognised")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _oauth_error("invalid_redirect_uri", "A valid redirect_uri is required")
    state = query.get("state")
    extra = {"state": state} if state is not None else {}
    scopes = [item.strip() for item in (query.get("scope") or "").split(",") if item.strip()]
    known = {scope.lower(): scope for scope in SCOPES}
    if not scopes or any(scope.lower() not in known for scope in scopes):
        return Response.redirect(_with_query(redirect_uri, {"error": "unknown_scope", **extra}))
    scope = ",".join(known[item.lower()] for item in scopes)
    code = app.oauth.issue_code(redirect_uri, scope)
    return Response.redirect(_with_query(redirect_uri, {"code": code, **extra}))


def token(app: CampaignMonitorApp, request: Request) -> Response:
    """``POST /oauth/token`` (form-encoded): authorization_code and refresh_token grants."""
    try:
        form = request.form()
    except UnicodeDecodeError:
        return _oauth_error("invalid_request", "The request body could not be read")
    grant = (form.get("grant_type") or "").strip()
    server = app.oauth
    if grant == "refresh_token":
        refresh = form.get("refresh_token") or ""
        scope = server.refresh_tokens.get(refresh)
        if scope is None:
            return _oauth_error("invalid_grant", "Specified refresh_token was invalid or expired")
        return Response.json(server.issue_token(scope, refresh))
    if grant != "authorization_code":
        return _oauth_error("invalid_request", "grant_type must be authorization_code")
    if form.get("client_id") != app.config.cm_oauth_client_id or (
        form.get("client_secret") != app.config.cm_oauth_client_secret
    ):
        return _oauth_error("unknown_client", "The client_id or client_secret is not recognised")
    code = server.codes.pop(form.get("code") or "", None)
    if code is None or code.expires_at <= server.clock.now():
        return _oauth_error("invalid_grant", "Specified code was invalid or expired")
    if (form.get("redirect_uri") or "") != code.redirect_uri:
        return _oauth_error("invalid_redirect_uri", "The redirect_uri does not match")
    return Response.json(server.issue_token(code.scope))
