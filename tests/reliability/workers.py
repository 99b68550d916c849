"""Real Celery workers on a throw-away database and broker, for the kill -9 tests.

The test process runs the sandboxes (so it can hold a call at a chosen point); everything that
needs the database runs in child processes pointed at a temporary SQLite file and a filesystem
broker under a temporary folder: ``manage.py`` steps, the workers, and the small steps below,
which run inside ``manage.py shell`` (``python manage.py shell -c "from tests.reliability.workers
import …; …()"``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
ACTIVE = ("queued", "running")
BATCH_SIZE = 40  # rows per Salesforce write: many batches, so a kill lands between two


class WorkerDrill:
    """One throw-away installation: database, broker, workers, all under ``folder``."""

    def __init__(self, folder: Path, cm, sf) -> None:
        self.folder = folder
        self.cm, self.sf = cm, sf
        self.database = folder / "drill.sqlite3"
        self.workers: list[subprocess.Popen] = []
        inherited = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
        self.env = {
            **inherited,
            # No broker URL and no Redis: the filesystem broker under CMSYNC_VAR_DIR, this
            # drill's own (a killed worker's messages must not leak into other tests).
            "REDIS_URL": "",
            "DATABASE_URL": f"sqlite:///{self.database}",
            "CMSYNC_VAR_DIR": str(folder / "var"),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "CMSYNC_CA_BUNDLE": cm.ca_file,
            "CM_API_BASE_URL": cm.api_base,
            "SF_LOGIN_URL": sf.url,
            "SF_CLIENT_ID": sf.client_id,
            "SF_CLIENT_SECRET": sf.client_secret,
            "CMSYNC_BACKOFF_BASE_MS": "5",
            "CMSYNC_BACKOFF_CAP_MS": "50",
            "CMSYNC_BULK_POLL_MS": "50",
        }

    # Steps in child processes ------------------------------------------------------------------
    def manage(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check and result.returncode:
            raise AssertionError(f"manage.py {arguments[0]} failed:\n{result.stderr[-3000:]}")
        return result

    def step(self, name: str) -> str:
        """Run one of this module's ``step_*`` functions in ``manage.py shell``."""
        code = f"from tests.reliability.workers import step_{name}; step_{name}()"
        return self.manage("shell", "-c", code).stdout

    def prepare(self) -> None:
        """Migrate, connect to the sandboxes, sync once, then queue a full sync."""
        self.manage("migrate", "-v0")
        self.manage(
            "connect",
            "--cm-base-url", self.cm.api_base, "--cm-api-key", self.cm.api_key,
            "--sf-instance-url", self.sf.url, "--sf-username", self.sf.username,
            "--sf-password", self.sf.password, "--clients", "all",
        )  # fmt: skip
        self.step("first_sync_then_queue_full")

    def reconcile(self) -> dict[str, Any]:
        result = self.manage("reconcile", "--json", check=False)
        if result.returncode not in (0, 1):
            raise AssertionError(f"reconcile failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout)

    # Workers -----------------------------------------------------------------------------------
    def start_worker(self) -> subprocess.Popen:
        number = len(self.workers) + 1
        log = (self.folder / f"worker-{number}.log").open("w")
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "cmsync", "worker", "--pool=solo",
                "--loglevel=WARNING", "--without-gossip", "--without-mingle",
                "--without-heartbeat", "-n", f"drill-{number}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    def stop_workers(self) -> None:
        """The drill's database and broker are thrown away, so no warm shutdown is needed."""
        for worker in self.workers:
            if worker.poll() is None:
                self.kill(worker)

    def worker_logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}"
            for path in sorted(self.folder.glob("worker-*.log"))
        )

    # Reading the database directly (no Django in the test process) -----------------------------
    def rows(self, sql: str, *params: Any) -> list[tuple]:
        with sqlite3.connect(self.database, timeout=20) as db:
            return db.execute(sql, params).fetchall()

    def runs(self) -> list[dict[str, Any]]:
        columns = ("id", "kind", "status", "error_summary")
        rows = self.rows(f"SELECT {', '.join(columns)} FROM sync_syncrun ORDER BY id")
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def jobs(self, run_id: int) -> list[str]:
        return [
            row[0]
            for row in self.rows("SELECT status FROM sync_clientjob WHERE run_id = ?", run_id)
        ]

    def wait_until(self, what: str, condition: Callable[[], bool], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            for worker in self.workers[-1:]:
                if worker.poll() is not None:
                    raise AssertionError(f"the worker died: {self.worker_logs()}")
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.runs()}\n{self.worker_logs()}")


# Steps run inside `manage.py shell` (Django set up, on the drill's database) ---------------------
def step_first_sync_then_queue_full() -> None:
    from maintenance.models import GovernorLimit
    from sync.models import RunKind, RunStatus, SyncOptions
    from sync.services.runs import request_run, run_inline
    from sync.services.status import get_connection

    for job in ("primary_sync", "full_sync"):
        GovernorLimit.objects.update_or_create(job=job, defaults={"batch_size": BATCH_SIZE})
    connection = get_connection()
    options = SyncOptions.for_connection(connection)
    options.suppression_sync = True
    options.save()
    first = run_inline(connection)
    assert first.status == RunStatus.SUCCEEDED, first.error_summary
    request_run(connection, kind=RunKind.FULL)  # queued for a worker after the commit


def step_lease_passes_then_beat_ticks() -> None:
    """As if the lease had run out, then what beat sends: the sweeper and the scheduled sync."""
    from django.utils import timezone

    from sync.models import ACTIVE_STATUSES, SyncRun
    from sync.services.runs import LEASE
    from sync.services.status import get_connection
    from sync.tasks import scheduled_primary_sync, sweep_stale_runs

    SyncRun.objects.filter(status__in=ACTIVE_STATUSES).update(
        heartbeat_at=timezone.now() - LEASE - LEASE
    )
    sweep_stale_runs.delay()
    scheduled_primary_sync.delay(get_connection().pk)
