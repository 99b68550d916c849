"""pytest fixtures for the Salesforce sandbox (registered by ``sandbox.pytest_plugin``).

Import-safe: no Django models. ``make_sf_sandbox(**overrides)`` starts a sandbox on a free port
and stops it at teardown; ``sf_sandbox`` is a small demo org, ``sf_empty_sandbox`` holds only the
admin user.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.config import SandboxConfig
from sandbox.core.http import SandboxServer

__all__ = ["SFSandbox", "make_sf_sandbox", "sf_empty_sandbox", "sf_sandbox"]


class SFSandbox:
    """A running Salesforce sandbox and what a test needs to talk to it."""

    api_version = "59.0"

    def __init__(self, config: SandboxConfig, cert_dir: Path) -> None:
        from . import build_app

        self.config = config
        self.app = build_app(config)
        self.server = SandboxServer(self.app, cert_dir)
        self._serve()
        self.url = self.server.url
        self.ca_file = str(self.server.ca_file)
        self.username = config.sf_username
        self.password = config.sf_password
        self.client_id = config.sf_client_id
        self.client_secret = config.sf_client_secret

    def _serve(self) -> None:
        """Like ``SandboxServer.start()``, but polling for shutdown every 20 ms instead of 0.5 s,
        which would otherwise add half a second to every test's teardown."""
        thread = threading.Thread(
            target=self.server.httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="salesforce-sandbox",
            daemon=True,
        )
        self.server._thread = thread
        thread.start()

    def __repr__(self) -> str:
        return f"SFSandbox({self.url})"

    def session(self) -> requests.Session:
        """A requests session that trusts the sandbox CA.

        ``trust_env`` is off because requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``
        override ``session.verify``, and proxies from the environment must not see loopback calls.
        """
        session = requests.Session()
        session.verify = self.ca_file
        session.trust_env = False
        return session

    def _call(self, method: str, action: str, payload: Any = None) -> requests.Response:
        with self.session() as session:
            response = session.request(
                method, f"{self.url}/__sandbox__/{action}", json=payload, timeout=30
            )
        response.raise_for_status()
        return response

    def set_faults(self, spec: str, **settings: Any) -> None:
        """Replace the fault rules, e.g. ``"503:x1@query"`` or ``"reject:x2@composite.*"``."""
        self._call("PUT", "faults", {"spec": spec, **settings})

    def stats(self) -> dict[str, int]:
        return self._call("GET", "stats").json()["calls"]

    def reset_stats(self) -> None:
        self._call("DELETE", "stats")

    def expire_tokens(self) -> None:
        self._call("POST", "expire-tokens")

    def convert_lead(self, lead_id: str, **options: Any) -> dict[str, Any]:
        """Convert a Lead as a Salesforce user would (``contactId``, ``accountId``,
        ``convertedStatus`` optional); returns the LeadConvertResult ids."""
        return self._call("POST", "convert-lead", {"leadId": lead_id, **options}).json()

    def issue_token(self) -> tuple[str, str]:
        """(access_token, refresh_token) for the admin user, without an OAuth round trip."""
        return self.app.issue_token()

    def salesforce(self, **kwargs: Any):
        """A simple_salesforce.Salesforce client for this sandbox, with a fresh token."""
        from simple_salesforce import Salesforce

        token, _refresh = self.issue_token()
        return Salesforce(
            instance_url=self.url,
            session_id=token,
            session=self.session(),
            version=self.api_version,
            **kwargs,
        )

    def stop(self) -> None:
        self.app.bulk_jobs.wait_idle(10)
        self.server.stop()
        if self.app.persistence:
            self.app.persistence.close()


@pytest.fixture
def make_sf_sandbox(sandbox_cert_dir: Path, tmp_path: Path) -> Iterator[Callable[..., SFSandbox]]:
    started: list[SFSandbox] = []

    def make(**overrides: Any) -> SFSandbox:
        fields = {f.name for f in dataclasses.fields(SandboxConfig)}
        defaults: dict[str, Any] = {
            "seed": "demo",
            "subscribers": 60,
            "random_seed": 1,
            "state_dir": tmp_path / "sf-state",
        }
        config = SandboxConfig(
            **{k: v for k, v in {**defaults, **overrides}.items() if k in fields}
        )
        sandbox = SFSandbox(config, sandbox_cert_dir)
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sf_sandbox(make_sf_sandbox: Callable[..., SFSandbox]) -> SFSandbox:
    """A small demo org (random seed 1)."""
    return make_sf_sandbox(seed="demo", random_seed=1)


@pytest.fixture
def sf_empty_sandbox(make_sf_sandbox: Callable[..., SFSandbox]) -> SFSandbox:
    """An org with only the organisation, profiles and the admin user."""
    return make_sf_sandbox(seed="empty")
