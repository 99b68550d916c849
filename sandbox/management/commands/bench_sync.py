"""Benchmark the primary sync against a freshly seeded sandbox and print one JSON line.

The benchmark re-runs itself in a child process with its own throw-away SQLite database, so it
never touches the console's data; the sandboxes run in another child process (``run_sandbox``),
so the peak RSS reported is the sync's own. Steps: full sync, then a sync with no changes in CM.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from maintenance.services import command_actor
from sandbox.config import SandboxConfig
from sync.clients.salesforce import password_grant
from sync.models import Connection, RunKind, SyncCursor, SyncRun
from sync.services.connect import connect_campaign_monitor, connect_salesforce
from sync.services.runs import run_inline


class Command(BaseCommand):
    help = "Seed a fresh sandbox, run a full sync and a no-change sync, print figures as JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--subscribers", type=int, default=2000)
        parser.add_argument("--events", type=int, default=20000)
        parser.add_argument("--random-seed", type=int, default=7)
        parser.add_argument("--bulk-threshold", type=int, default=settings.CMSYNC_BULK_THRESHOLD)
        parser.add_argument(
            "--bulk-poll-ms",
            type=int,
            default=250,
            help="first wait before polling a Bulk job (the sandbox finishes jobs at once)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subscribers"] < 1 or options["events"] < 0:
            raise CommandError("--subscribers must be at least 1 and --events not negative")
        if not os.environ.get(_CHILD_FLAG):
            _rerun_isolated(options)
            return
        cm_port, sf_port = _free_port(), _free_port()
        sandbox = _start_sandbox(cm_port, sf_port, options)
        connection = None
        try:
            defaults = SandboxConfig()
            settings.CMSYNC_CA_BUNDLE = str(Path(settings.CMSYNC_SANDBOX_DIR) / "ca.pem")
            settings.SF_CLIENT_ID = defaults.sf_client_id
            settings.SF_CLIENT_SECRET = defaults.sf_client_secret
            settings.CMSYNC_BULK_THRESHOLD = options["bulk_threshold"]
            settings.CMSYNC_BULK_POLL_MS = options["bulk_poll_ms"]
            connection = _connect(cm_port, sf_port, defaults)
            full, full_seconds = _timed(lambda: run_inline(connection, kind=RunKind.FULL))
            again, again_seconds = _timed(lambda: run_inline(connection))
            _make_rereads_due(connection)
            reread, reread_seconds = _timed(lambda: run_inline(connection))
            figures = _figures(options, full, full_seconds, again, again_seconds)
            figures["daily_reread_sync"] = _run_figures(reread, reread_seconds)
            self.stdout.write(json.dumps(figures))
        finally:
            if connection is not None:
                connection.delete()
            sandbox.terminate()
            sandbox.wait(timeout=20)


_CHILD_FLAG = "CMSYNC_BENCH_CHILD"


def _rerun_isolated(options: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="cmsync-bench-") as folder:
        env = dict(os.environ)
        env.update(
            {
                _CHILD_FLAG: "1",
                "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                "REDIS_URL": "",
                # Production mode, so Django does not keep every SQL query in memory (DEBUG does);
                # production mode leaves the sandbox app out unless asked for.
                "DEBUG": "0",
                "CMSYNC_SANDBOX": "1",
                "SECRET_KEY": secrets.token_urlsafe(60),
                "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            }
        )
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True)
        arguments = [
            "--subscribers", str(options["subscribers"]), "--events", str(options["events"]),
            "--random-seed", str(options["random_seed"]),
            "--bulk-threshold", str(options["bulk_threshold"]),
            "--bulk-poll-ms", str(options["bulk_poll_ms"]),
        ]  # fmt: skip
        result = subprocess.run([*manage, "bench_sync", *arguments], cwd=settings.BASE_DIR, env=env)
        if result.returncode:
            raise CommandError("the benchmark failed (see above)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_sandbox(cm_port: int, sf_port: int, options: dict[str, Any]) -> subprocess.Popen:
    command = [
        sys.executable, "manage.py", "run_sandbox", "--seed", "demo",
        "--cm-port", str(cm_port), "--sf-port", str(sf_port),
        "--subscribers", str(options["subscribers"]), "--events", str(options["events"]),
        "--random-seed", str(options["random_seed"]),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, env=dict(os.environ)
    )
    deadline = time.monotonic() + 300
    ca = str(Path(settings.CMSYNC_SANDBOX_DIR) / "ca.pem")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CommandError("the sandbox did not start")
        try:
            requests.get(f"https://127.0.0.1:{sf_port}/services/data/", verify=ca, timeout=2)
            requests.get(f"https://127.0.0.1:{cm_port}/__sandbox__/stats", verify=ca, timeout=2)
            return process
        except (requests.ConnectionError, OSError):
            time.sleep(0.3)
    process.terminate()
    raise CommandError("the sandbox did not answer within 5 minutes")


def _connect(cm_port: int, sf_port: int, defaults: SandboxConfig) -> Connection:
    cm_base = f"https://127.0.0.1:{cm_port}/api/v3.3"
    sf_url = f"https://127.0.0.1:{sf_port}"
    connection = Connection.objects.create(name="bench_sync", cm_base_url=cm_base)
    actor = command_actor("bench_sync")
    connect_campaign_monitor(
        connection, user=actor, base_url=cm_base, api_key=defaults.cm_api_key, select="all"
    )
    tokens = password_grant(
        sf_url, defaults.sf_username, defaults.sf_password, defaults.sf_client_id,
        defaults.sf_client_secret, settings.CMSYNC_CA_BUNDLE,
    )  # fmt: skip
    connect_salesforce(
        connection, tokens, user=actor, login_url=sf_url, username=defaults.sf_username,
        password=defaults.sf_password,
    )  # fmt: skip
    return connection


def _make_rereads_due(connection: Connection) -> None:
    """As if a day had passed: the next run re-reads every list's active subscribers."""
    long_ago = timezone.now() - dt.timedelta(days=2)
    SyncCursor.objects.filter(
        cm_client__connection=connection, stream__startswith="reread:"
    ).update(position=long_ago)


def _run_figures(run: SyncRun, seconds: float) -> dict[str, Any]:
    """A run with nothing new in CM: what it cost."""
    return {
        "status": run.status,
        "seconds": round(seconds, 2),
        "cm_calls": run.cm_calls,
        "sf_calls": run.sf_calls,
        "sf_write_calls": run.sf_write_calls,
    }


def _timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def _figures(
    options: dict[str, Any],
    full: SyncRun,
    full_seconds: float,
    again: SyncRun,
    again_seconds: float,
) -> dict[str, Any]:
    rows = full.total_written
    minimum_collection_calls = sum(math.ceil(n / 200) for n in full.records_written.values())
    return {
        "subscribers": options["subscribers"],
        "events": options["events"],
        "bulk_threshold": options["bulk_threshold"],
        "bulk_poll_ms": options["bulk_poll_ms"],
        "full_sync": {
            "status": full.status,
            "records": rows,
            "by_object": full.records_written,
            "seconds": round(full_seconds, 2),
            "records_per_second": round(rows / full_seconds, 1) if full_seconds else None,
            "cm_calls": full.cm_calls,
            "sf_calls": full.sf_calls,
            "sf_write_calls": full.sf_write_calls,
            "min_sf_write_calls_collections": minimum_collection_calls,
            "write_calls_vs_minimum": round(full.sf_write_calls / minimum_collection_calls, 3)
            if minimum_collection_calls
            else None,
        },
        "no_change_sync": _run_figures(again, again_seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
