"""A real Celery worker on the configured broker (Redis in CI, filesystem locally) runs a task."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from cmsync.beat import STATIC_SCHEDULE, primary_sync_entry
from cmsync.celery import app
from maintenance.services import last_heartbeat
from maintenance.tasks import worker_heartbeat

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def real_worker():
    env = dict(os.environ)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cmsync",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.slow
def test_real_worker_runs_a_real_task(real_worker):
    result = worker_heartbeat.delay()
    payload = result.get(timeout=60)
    assert real_worker.poll() is None, real_worker.stdout.read()
    assert payload["hostname"]
    assert last_heartbeat()["at"].isoformat() == payload["at"]


def test_celery_is_configured_json_only_with_time_limits():
    conf = app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_url == settings.CELERY_BROKER_URL
    if os.environ.get("REDIS_URL"):
        assert conf.broker_url.startswith("redis://")
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_every_schedule_entry_has_an_expiry_and_a_registered_task():
    app.loader.import_default_modules()
    for name, entry in STATIC_SCHEDULE.items():
        assert entry["options"]["expires"] > 0, name
        assert entry["task"] in app.tasks, name
    dynamic = primary_sync_entry(7, 60)
    assert dynamic["expires_seconds"] > 0
    assert dynamic["task"] in app.tasks
