"""OAuth 2.0 endpoints of the sandbox org: token (password, authorization_code, refresh_token
grants), authorize (auto-approves the admin), revoke, userinfo and the identity URL.

Errors are Salesforce's ``{"error", "error_description"}`` bodies with HTTP 400.
"""

from __future__ import annotations

import base64
import time
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from sandbox.core.http import Request, Response

from .auth import signature
from .ids import normalize_id

if TYPE_CHECKING:
    from .app import SalesforceApp

NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def register(app: SalesforceApp) -> None:
    oauth = OAuth(app)
    app.route("POST", "/services/oauth2/token", "oauth.token", oauth.oauth_token)
    app.route("GET", "/services/oauth2/authorize", "oauth.authorize", oauth.oauth_authorize)
    app.route("POST", "/services/oauth2/revoke", "oauth.revoke", oauth.oauth_revoke)
    app.route("GET", "/services/oauth2/userinfo", "oauth.userinfo", oauth.oauth_userinfo)
    app.route("GET", "/id/{org}/{user}", "oauth.identity", oauth.identity)


class OAuth:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app

    def token_answer(self, user_id: str, refresh: bool) -> dict[str, Any]:
        issued_at = str(int(time.time() * 1000))
        identity = self.app.identity_url(user_id)
        body = {
            "access_token": self.app.tokens.issue_access(user_id),
            "instance_url": self.app.base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature(identity, issued_at, self.app.config.sf_client_secret),
            "scope": "api refresh_token web",
        }
        if refresh:
            body["refresh_token"] = self.app.tokens.issue_refresh(user_id)
        self.app.save_meta()
        return body

    @staticmethod
    def oauth_error(error: str, description: str, status: int = 400) -> Response:
        return Response.json({"error": error, "error_description": description}, status=status)

    def _client_ok(self, form: Any, request: Request, secret_required: bool) -> Response | None:
        client_id = form.get("client_id") or ""
        client_secret = form.get("client_secret")
        basic = request.header("Authorization") or ""
        if basic.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(basic[6:]).decode("utf-8")
                client_id, _, client_secret = decoded.partition(":")
            except ValueError:
                return self.oauth_error("invalid_client", "invalid client credentials")
        if client_id != self.app.config.sf_client_id:
            return self.oauth_error("invalid_client_id", "client identifier invalid")
        if (secret_required or client_secret is not None) and (
            client_secret != self.app.config.sf_client_secret
        ):
            return self.oauth_error("invalid_client", "invalid client credentials")
        return None

    def oauth_token(self, request: Request) -> Response:
        try:
            form = request.form()
        except UnicodeDecodeError:
            return self.oauth_error("invalid_request", "the body must be UTF-8 form data")
        grant = form.get("grant_type") or ""
        if grant == "password":
            problem = self._client_ok(form, request, secret_required=True)
            if problem:
                return problem
            user = self.app.active_user_by_username(form.get("username") or "")
            if user is None or form.get("password") != self.app.config.sf_password:
                return self.oauth_error("invalid_grant", "authentication failure")
            return Response.json(self.token_answer(user["Id"], True))
        if grant == "authorization_code":
            problem = self._client_ok(form, request, secret_required=True)
            if problem:
                return problem
            user_id = self.app.tokens.redeem_code(
                form.get("code") or "",
                form.get("client_id") or self.app.config.sf_client_id,
                form.get("redirect_uri") or "",
            )
            if user_id is None:
                return self.oauth_error("invalid_grant", "invalid authorization code")
            return Response.json(self.token_answer(user_id, True))
        if grant == "refresh_token":
            problem = self._client_ok(form, request, secret_required=False)
            if problem:
                return problem
            user_id = self.app.tokens.user_for_refresh(form.get("refresh_token") or "")
            if user_id is None or self.app.active_user(user_id) is None:
                return self.oauth_error("invalid_grant", "expired access/refresh token")
            return Response.json(self.token_answer(user_id, False))
        return self.oauth_error("unsupported_grant_type", "grant type not supported")

    def oauth_authorize(self, request: Request) -> Response:
        """Auto-approve the sandbox admin and send the browser back with a code."""
        query = request.query
        redirect_uri = query.get("redirect_uri") or ""
        if query.get("client_id") != self.app.config.sf_client_id:
            return _html_page("error=invalid_client_id: client identifier invalid", 400)
        if not redirect_uri.startswith(("http://", "https://")):
            return _html_page(
                "error=redirect_uri_mismatch: redirect_uri must match configuration", 400
            )
        if (query.get("response_type") or "code") != "code":
            params = {
                "error": "unsupported_response_type",
                "error_description": "response type not supported",
            }
        else:
            code = self.app.tokens.issue_code(
                self.app.admin_user_id, self.app.config.sf_client_id, redirect_uri
            )
            params = {"code": code}
        if query.get("state") is not None:
            params["state"] = query.get("state")
        separator = "&" if "?" in redirect_uri else "?"
        return Response.redirect(redirect_uri + separator + urlencode(params))

    def oauth_revoke(self, request: Request) -> Response:
        try:
            form = request.form()
        except UnicodeDecodeError:
            return self.oauth_error("invalid_request", "the body must be UTF-8 form data")
        token = form.get("token") or request.query.get("token") or ""
        if not self.app.tokens.revoke(token):
            return self.oauth_error("unsupported_token_type", "this token type is not supported")
        self.app.save_meta()
        return Response(status=200)

    def _user_answer(self, user_id: str) -> dict[str, Any]:
        user = self.app.store.get("User", user_id) or {}
        return {
            "sub": self.app.identity_url(user_id),
            "user_id": user_id,
            "organization_id": self.app.org_id,
            "preferred_username": user.get("Username"),
            "username": user.get("Username"),
            "email": user.get("Email"),
            "name": user.get("Name"),
            "display_name": user.get("Name"),
            "given_name": user.get("FirstName"),
            "family_name": user.get("LastName"),
            "active": bool(user.get("IsActive")),
            "user_type": "STANDARD",
            "urls": {
                "rest": f"{self.app.base_url}/services/data/v{{version}}/",
                "sobjects": f"{self.app.base_url}/services/data/v{{version}}/sobjects/",
                "query": f"{self.app.base_url}/services/data/v{{version}}/query/",
            },
        }

    def oauth_userinfo(self, request: Request) -> Response:
        return Response.json(self._user_answer(self.app.user_for(request) or ""))

    def identity(self, request: Request) -> Response:
        user_id = normalize_id(unquote(request.params["user"])) or ""
        if self.app.store.get("User", user_id) is None:
            return Response.json(NOT_FOUND, status=404)
        return Response.json(self._user_answer(user_id))


def _html_page(message: str, status: int) -> Response:
    html = f"<!DOCTYPE html><html><body><p>{escape(message)}</p></body></html>"
    return Response.text(html, status=status, content_type="text/html; charset=utf-8")
