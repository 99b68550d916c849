"""The Campaign Monitor API v3.3 sandbox application.

Routes live under ``/api/v3.3/`` with CM's real paths and ``.json`` suffix, matched without
regard to case. Every route has a name ``<area>.<action>``; the harness counts calls per name
and fault rules target names by glob (``503:x2@lists.*``). The names:

- account: ``account.clients``, ``account.timezones``, ``clients.create``
- clients: ``clients.details``, ``clients.lists``, ``clients.listsforemail``,
  ``clients.segments``, ``clients.campaigns``, ``clients.scheduled``, ``clients.drafts``,
  ``clients.tags``, ``clients.suppressionlist``, ``clients.suppress``, ``clients.unsuppress``,
  ``clients.journeys``
- lists: ``lists.create``, ``lists.details``, ``lists.update``, ``lists.delete``,
  ``lists.stats``, ``lists.customfields``, ``lists.customfields.create``,
  ``lists.customfields.update``, ``lists.customfields.delete``, ``lists.active``,
  ``lists.unconfirmed``, ``lists.unsubscribed``, ``lists.bounced``, ``lists.deleted``,
  ``lists.webhooks.list``, ``lists.webhooks.create``, ``lists.webhooks.delete``,
  ``lists.webhooks.test``, ``lists.webhooks.activate``, ``lists.webhooks.deactivate``
- subscribers: ``subscribers.get``, ``subscribers.add``, ``subscribers.update``,
  ``subscribers.import``, ``subscribers.unsubscribe``, ``subscribers.delete``,
  ``subscribers.history``
- campaigns: ``campaigns.create``, ``campaigns.send``, ``campaigns.delete``,
  ``campaigns.summary``, ``campaigns.listsandsegments``, ``campaigns.recipients``,
  ``campaigns.opens``, ``campaigns.clicks``, ``campaigns.unsubscribes``, ``campaigns.spam``,
  ``campaigns.bounces``
- journeys: ``journeys.summary``, ``journeys.email.recipients``, ``journeys.email.opens``,
  ``journeys.email.clicks``, ``journeys.email.unsubscribes``, ``journeys.email.bounces``
- OAuth (outside ``/api/``, no auth): ``oauth.authorize`` (GET /oauth), ``oauth.token``
  (POST /oauth/token)
- ``webversion`` (GET /t/r-{code}, no auth): a stand-in for a campaign's web version page.

Authentication is checked before routing: HTTP Basic with the API key as user name (any
password; the account key from ``SandboxConfig.cm_api_key`` or a client's own ``ApiKey``, which
only reaches that client), or ``Authorization: Bearer <token>`` from the OAuth flow.

Sandbox-only endpoints (``/__sandbox__/...``, never under ``/api/``): ``POST events`` (add
tracking events to a sent campaign), ``POST expire-tokens``, ``GET|POST clock`` (shift "now"),
``GET info`` (ids and names of the seeded objects), plus the harness's ``stats`` and ``faults``.

``pretty=true`` indents JSON answers, as CM does.

Time: CM reports local time of the account; the sandbox treats every time zone as UTC and reads
the real UTC clock (plus any shift from ``/__sandbox__/clock``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.core.faults import FaultInjector
from sandbox.core.http import CaseInsensitiveDict, Request, Response, Router, SandboxApp

from . import (
    api_campaigns,
    api_clients,
    api_journeys,
    api_lists,
    api_subscribers,
    oauth,
    sandbox_endpoints,
)
from .dates import Clock, use_utc
from .errors import CMError, invalid_api_key, malformed_body
from .state import CMState, truthy
from .webhooks import WebhookDispatcher

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v3.3"
ApiHandler = Callable[["CampaignMonitorApp", Request], Response]

_SCOPE_ATTR = "cm_client_scope"


class CampaignMonitorApp(SandboxApp):
    """A stand-in for ``api.createsend.com`` (see the module docstring for routes)."""

    name = "campaign-monitor"

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(FaultInjector(config.faults, random_seed=config.random_seed))
        self.config = config
        self.clock = Clock()
        self.state = CMState(self.clock, random_seed=config.random_seed)
        self.oauth = oauth.OAuthServer(config, self.clock)
        self.webhooks = WebhookDispatcher()
        self.state.on_flush = self._deliver_webhooks
        self.router = Router(case_insensitive=True)
        for module in (api_clients, api_lists, api_subscribers, api_campaigns, api_journeys):
            for method, template, name, handler in module.ROUTES:
                self.route(method, API_PREFIX + template, name, handler)
        self.route("GET", "/oauth", "oauth.authorize", oauth.authorize)
        self.route("POST", "/oauth/token", "oauth.token", oauth.token)
        self.route("GET", "/t/r-{code}", "webversion", api_campaigns.web_version)
        self.route("GET", "/t/r-{code}/t", "webversion", api_campaigns.web_version)

    def route(self, method: str, template: str, name: str, handler: ApiHandler) -> None:
        self.router.add(method, template, self._wrap(handler), name)

    def _wrap(self, handler: ApiHandler) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            use_utc()  # until the handler resolves a client, list, campaign or journey
            with self.state.lock:
                try:
                    response = handler(self, request)
                except CMError as exc:
                    response = exc.response()
                finally:
                    self.state.flush_outbox()
            if truthy(request.query.get("pretty")) and response.body[:1] in (b"{", b"["):
                response.body = json.dumps(json.loads(response.body), indent=2).encode("utf-8")
            return response

        return run

    # Request helpers used by the handlers -------------------------------------------------------
    @staticmethod
    def scope(request: Request) -> str | None:
        """The client id a client-level API key is limited to; None for account-wide access."""
        return getattr(request, _SCOPE_ATTR, None)

    @staticmethod
    def body(request: Request, fields: str = "request") -> Any:
        """The JSON object of the body (None when empty), every object's keys matched
        case-insensitively. Every CM body is an object: anything else, like malformed JSON, is
        CM's "Failed to deserialize" 400."""
        try:
            value = request.json()
        except (ValueError, UnicodeDecodeError):
            raise malformed_body(fields) from None
        if value is not None and not isinstance(value, dict):
            raise malformed_body(fields)
        return _case_insensitive(value)

    @property
    def public_url(self) -> str:
        return self.base_url or "https://127.0.0.1"

    # Harness hooks -----------------------------------------------------------------------------
    def is_public(self, request: Request) -> bool:
        return not request.path.lower().startswith("/api/")

    def authenticate(self, request: Request) -> Response | None:
        header = (request.header("Authorization") or "").strip()
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        try:
            if scheme == "bearer":
                with self.state.lock:
                    self.oauth.check_access_token(credentials.strip())
                return None
            if scheme == "basic":
                setattr(request, _SCOPE_ATTR, self._check_api_key(credentials.strip()))
                return None
        except CMError as exc:
            return exc.response()
        return invalid_api_key().response()

    def _check_api_key(self, credentials: str) -> str | None:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_api_key() from None
        api_key = decoded.partition(":")[0]
        if api_key and api_key == self.config.cm_api_key:
            return None
        with self.state.lock:
            client = self.state.client_by_api_key(api_key) if api_key else None
        if client is None:
            raise invalid_api_key()
        return client.client_id

    def fault_response(self, kind: str, request: Request) -> Response:
        if kind == "429":
            retry = str(self.faults.settings.retry_after)
            return CMError(429, 429, "Rate limit exceeded").response(
                headers={"Retry-After": retry, "X-RateLimit-Remaining": "0"}
            )
        if kind == "503":
            return CMError(503, 503, "Service Unavailable").response()
        return CMError(500, 500, "Internal Server Error").response()

    def not_found(self, request: Request) -> Response:
        return CMError(404, 404, "Not Found").response()

    def method_not_allowed(self, request: Request) -> Response:
        return CMError(405, 405, "Method Not Allowed").response()

    def server_error(self, request: Request) -> Response:
        return CMError(500, 500, "Internal Server Error").response()

    def handle_sandbox(self, request: Request, action: str) -> Response | None:
        use_utc()  # the control endpoints speak UTC, whatever zone the clients live in
        with self.state.lock:
            try:
                return sandbox_endpoints.handle(self, request, action)
            finally:
                self.state.flush_outbox()

    # Webhooks ----------------------------------------------------------------------------------
    def _deliver_webhooks(self, pending: list[tuple[str, dict[str, Any]]]) -> None:
        by_list: dict[str, list[dict[str, Any]]] = {}
        for list_id, event in pending:
            by_list.setdefault(list_id, []).append(event)
        for list_id, events in by_list.items():
            lst = self.state.lists.get(list_id)
            if lst is None:
                continue
            for hook in lst.webhooks:
                if hook.status != "Active":
                    continue
                wanted = [event for event in events if event["Type"] in hook.events]
                for start in range(0, len(wanted), 1000):
                    self.webhooks.enqueue(
                        hook.url, list_id, wanted[start : start + 1000], hook.payload_format
                    )

    def close(self) -> None:
        """Stop the webhook delivery thread (the server's stop() does not know about it)."""
        self.webhooks.stop()


def _case_insensitive(value: Any) -> Any:
    if isinstance(value, dict):
        return CaseInsensitiveDict({key: _case_insensitive(item) for key, item in value.items()})
    if isinstance(value, list):
        return [_case_insensitive(item) for item in value]
    return value


def build_app(config: SandboxConfig) -> CampaignMonitorApp:
    """Build the CM sandbox for ``config`` and seed it (``demo`` or ``empty``)."""
    from .seed import seed_demo, seed_empty

    app = CampaignMonitorApp(config)
    with app.state.lock:
        if config.seed == "demo":
            seed_demo(app.state, config)
        else:
            seed_empty(app.state, config)
        app.state.outbox.clear()
    return app
