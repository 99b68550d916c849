"""pytest fixtures that run the Campaign Monitor sandbox in-process (import-safe: no Django).

Fixtures (registered through ``sandbox.pytest_plugin``):

- ``make_cm_sandbox(**overrides)`` starts a sandbox on a free port with
  ``SandboxConfig(**overrides)`` and returns a :class:`CMSandbox`; all are stopped at teardown.
- ``cm_sandbox``: ``seed="demo", subscribers=60, events=400, random_seed=1``.
- ``cm_empty_sandbox``: ``seed="empty"`` (one client, "Sandbox Client", no lists).

What tests may rely on in the demo seed (fixed whatever the random seed):

- clients, in this order: "Harbour Lane Coffee", "Northwind Outdoor Co.",
  "Bluegum Health Clinics";
- their lists, in order: "Coffee Club Newsletter", "Wholesale Customers", "Barista Workshops"
  (confirmed opt-in); "Trail News", "Members"; "Patient Updates", "Wellness Tips",
  "Practitioner Bulletin". "Wholesale Customers", "Members" and "Practitioner Bulletin" use
  UnsubscribeSetting OnlyThisList, the rest AllClientLists;
- every list has a "Phone" Text field (national formats; ``MobileNumber`` only in E.164);
- each client has 6-10 sent campaigns over the last 200 days, tagged from its pool
  (e.g. "Newsletter"), one draft, and two journeys ("Welcome series", "Win-back").

Ids, people, dates and events depend on ``random_seed`` only (the same seed gives the same
ids and data; dates are relative to now). ``CMSandbox.info()`` returns ids by name.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from sandbox.config import SandboxConfig
from sandbox.core.http import SandboxServer

__all__ = ["CMSandbox", "cm_empty_sandbox", "cm_sandbox", "make_cm_sandbox"]


class CMSandbox:
    """A running CM sandbox: where it is, how to authenticate, and test controls."""

    def __init__(self, server: SandboxServer, config: SandboxConfig) -> None:
        self.server = server
        self.config = config
        self.app = server.app
        self.url = server.url
        self.api_base = self.url + "/api/v3.3"
        self.ca_file = str(server.ca_file)
        self.api_key = config.cm_api_key
        self.oauth_client_id = config.cm_oauth_client_id
        self.oauth_client_secret = config.cm_oauth_client_secret

    def __repr__(self) -> str:
        return f"CMSandbox(url={self.url!r}, seed={self.config.seed!r})"

    @property
    def auth(self) -> tuple[str, str]:
        """``requests``' ``auth=``: HTTP Basic with the API key as user name."""
        return (self.api_key, "x")

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One ``requests`` call to ``api_base + path`` with the API key and the sandbox CA.

        Pass ``auth=None`` for no credentials or ``headers={"Authorization": ...}`` for others.
        """
        import requests

        kwargs.setdefault("auth", self.auth)
        kwargs.setdefault("verify", self.ca_file)
        kwargs.setdefault("timeout", 10)
        return requests.request(method, self.api_base + path, **kwargs)

    @property
    def basic_auth_header(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.api_key}:x".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(
            f"{self.url}/__sandbox__/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        context = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            body = response.read()
        return json.loads(body) if body else None

    def set_faults(self, spec: str, retry_after: int | None = None) -> None:
        payload: dict[str, Any] = {"spec": spec}
        if retry_after is not None:
            payload["retry_after"] = retry_after
        self._control("PUT", "faults", payload)

    def stats(self) -> dict[str, int]:
        return dict(self._control("GET", "stats")["calls"])

    def reset_stats(self) -> None:
        self._control("DELETE", "stats")

    def add_events(
        self, campaign_id: str, kind: str, emails: list[str], url: str | None = None, **extra: Any
    ) -> int:
        """Same as ``POST /__sandbox__/events``; raises ValueError on bad input."""
        from sandbox.cm.sandbox_endpoints import add_events

        return add_events(self.app, campaign_id, kind, list(emails), url=url, **extra)

    def expire_tokens(self) -> int:
        return self.app.oauth.expire_all()

    def shift_clock(self, seconds: float) -> None:
        self.app.clock.shift(seconds)

    def info(self) -> dict[str, Any]:
        from sandbox.cm.sandbox_endpoints import info

        return info(self.app)

    def wait_for_webhooks(self) -> None:
        """Block until queued webhook POSTs were attempted."""
        self.app.webhooks.wait_idle()

    def stop(self) -> None:
        self.server.stop()
        self.app.close()


def _start(cert_dir: Path, overrides: dict[str, Any]) -> CMSandbox:
    from sandbox.cm import build_app

    known = {item.name for item in fields(SandboxConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown SandboxConfig fields: {', '.join(sorted(unknown))}")
    config = SandboxConfig(**overrides)
    server = SandboxServer(build_app(config), cert_dir)
    # Like server.start(), but polling for shutdown every 50 ms instead of 500 ms keeps
    # teardown (one stop per test) fast.
    server._thread = threading.Thread(
        target=server.httpd.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="campaign-monitor-sandbox",
        daemon=True,
    )
    server._thread.start()
    return CMSandbox(server, config)


@pytest.fixture
def make_cm_sandbox(sandbox_cert_dir: Path) -> Iterator[Callable[..., CMSandbox]]:
    started: list[CMSandbox] = []

    def make(**overrides: Any) -> CMSandbox:
        sandbox = _start(sandbox_cert_dir, overrides)
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def cm_sandbox(make_cm_sandbox: Callable[..., CMSandbox]) -> CMSandbox:
    return make_cm_sandbox(seed="demo", subscribers=60, events=400, random_seed=1)


@pytest.fixture
def cm_empty_sandbox(make_cm_sandbox: Callable[..., CMSandbox]) -> CMSandbox:
    return make_cm_sandbox(seed="empty")
