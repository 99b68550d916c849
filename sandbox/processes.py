"""Run cmsync against the sandboxes in separate processes, as the long drills (``soak``) do.

- :func:`rerun_isolated` re-runs a management command in a child process with a throw-away
  SQLite database, secret key and field key, so a drill never touches the console's data;
- :func:`start_sandbox_process` starts both sandboxes (``run_sandbox``) in their own process,
  so the sync's timings and memory are its own, and waits until both answer;
- :func:`connect` connects a new connection to them, as ``manage.py connect`` would.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from django.conf import settings

from sandbox.config import SandboxConfig
from sync.clients.salesforce import password_grant
from sync.models import Connection
from sync.services.connect import connect_campaign_monitor, connect_salesforce

CHILD_FLAG = "CMSYNC_DRILL_CHILD"


class DrillError(RuntimeError):
    """A drill could not be set up (the message says what)."""


def in_child() -> bool:
    return bool(os.environ.get(CHILD_FLAG))


def rerun_isolated(command: str, arguments: Sequence[str], extra_env: dict | None = None) -> int:
    """Run ``manage.py <command> <arguments>`` in a child with its own database; its exit code."""
    with tempfile.TemporaryDirectory(prefix=f"cmsync-{command}-") as folder:
        env = dict(os.environ)
        env.update(
            {
                CHILD_FLAG: "1",
                "DATABASE_URL": f"sqlite:///{folder}/drill.sqlite3",
                "REDIS_URL": "",
                # Production mode, so Django does not keep every SQL query in memory (DEBUG does).
                "DEBUG": "0",
                "SECRET_KEY": secrets.token_urlsafe(60),
                "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                **(extra_env or {}),
            }
        )
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True)
        return subprocess.run(
            [*manage, command, *arguments], cwd=settings.BASE_DIR, env=env
        ).returncode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sandbox_process(
    cm_port: int, sf_port: int, arguments: Sequence[str], *, wait_seconds: float = 600
) -> subprocess.Popen:
    """``run_sandbox`` on these ports with extra ``arguments``; returns once both answer."""
    command = [
        sys.executable, "manage.py", "run_sandbox",
        "--cm-port", str(cm_port), "--sf-port", str(sf_port), *arguments,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, env=dict(os.environ)
    )
    deadline = time.monotonic() + wait_seconds
    ca = ca_file()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DrillError("the sandbox did not start")
        try:
            requests.get(f"https://127.0.0.1:{sf_port}/services/data/", verify=ca, timeout=2)
            requests.get(f"https://127.0.0.1:{cm_port}/__sandbox__/stats", verify=ca, timeout=2)
            return process
        except (requests.ConnectionError, OSError):
            time.sleep(0.3)
    process.terminate()
    raise DrillError(f"the sandbox did not answer within {wait_seconds:.0f} s")


def ca_file() -> str:
    return str(Path(settings.CMSYNC_SANDBOX_DIR) / "ca.pem")


def connect(cm_port: int, sf_port: int, name: str) -> Connection:
    """A connection to both sandboxes (all CM clients selected); points settings at them."""
    defaults = SandboxConfig()
    settings.CMSYNC_CA_BUNDLE = ca_file()
    settings.SF_CLIENT_ID = defaults.sf_client_id
    settings.SF_CLIENT_SECRET = defaults.sf_client_secret
    cm_base = f"https://127.0.0.1:{cm_port}/api/v3.3"
    sf_url = f"https://127.0.0.1:{sf_port}"
    connection = Connection.objects.create(name=name, cm_base_url=cm_base)
    connect_campaign_monitor(
        connection, base_url=cm_base, api_key=defaults.cm_api_key, select="all"
    )
    tokens = password_grant(
        sf_url, defaults.sf_username, defaults.sf_password, defaults.sf_client_id,
        defaults.sf_client_secret, settings.CMSYNC_CA_BUNDLE,
    )  # fmt: skip
    connect_salesforce(
        connection, tokens, login_url=sf_url, username=defaults.sf_username,
        password=defaults.sf_password,
    )  # fmt: skip
    connection.refresh_from_db()
    return connection
