"""Services queue tasks by name after commit and never import the tasks; no import cycles."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from celery import current_app

from sync import tasks
from sync.services import jobs
from sync.services.jobs import enqueue_on_commit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "sync" / "services"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sync_graph() -> dict[str, set[str]]:
    """sync.services.* and sync.tasks → the ones among them each imports."""
    files = {f"sync.services.{p.stem}": p for p in SERVICES.glob("*.py") if p.stem != "__init__"}
    files["sync.tasks"] = ROOT / "sync" / "tasks.py"
    return {name: imported_modules(path) & set(files) for name, path in files.items()}


def test_services_never_import_the_tasks():
    for path in SERVICES.glob("*.py"):
        imported = imported_modules(path)
        assert not {m for m in imported if m == "sync.tasks" or m.startswith("sync.tasks.")}, path
        assert "maintenance.tasks" not in imported, path


def test_services_and_tasks_import_each_other_without_a_cycle():
    graph = sync_graph()
    assert "sync.services.standing" in graph["sync.services.imports"]
    assert "sync.services.imports" not in graph["sync.services.standing"]

    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " → ".join([*path, name])
        if name in done:
            return
        for imported in graph[name]:
            visit(imported, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_every_queued_task_name_is_a_sync_task():
    names = [jobs.PRIMARY_SYNC, jobs.RUN_IMPORT, jobs.RETENTION_JOB, jobs.REOWN_CLIENT_RECORDS]
    assert names == [
        tasks.primary_sync.name,
        tasks.run_import.name,
        tasks.retention_job.name,
        tasks.reown_client_records.name,
    ]
    assert all(name in current_app.tasks for name in names)


@pytest.mark.django_db
def test_a_task_is_queued_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with mock.patch("sync.tasks.retention_job.delay") as delay:
        with django_capture_on_commit_callbacks() as callbacks:
            enqueue_on_commit(jobs.RETENTION_JOB, 7)
            delay.assert_not_called()
        assert len(callbacks) == 1
        callbacks[0]()
    delay.assert_called_once_with(7)


@pytest.fixture
def eager_celery():
    # Settings come from Django under the CELERY_ namespace, so override them under that name.
    current_app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=True)
    assert current_app.conf.task_always_eager  # never send a real message from a test
    yield
    current_app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_TASK_EAGER_PROPAGATES=False)


@pytest.mark.django_db
def test_eager_mode_runs_the_task_in_this_process(eager_celery, django_capture_on_commit_callbacks):
    with (
        mock.patch("sync.services.imports.execute_import") as execute,
        django_capture_on_commit_callbacks(execute=True),
    ):
        enqueue_on_commit(jobs.RUN_IMPORT, 42)
    execute.assert_called_once_with(42)


def test_a_process_that_never_imported_the_tasks_finds_them_by_name():
    code = (
        "import sys, django; django.setup()\n"
        "from sync.services.jobs import RUN_IMPORT, registered_task\n"
        "assert 'sync.tasks' not in sys.modules\n"
        "print(registered_task(RUN_IMPORT).name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cmsync.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == jobs.RUN_IMPORT
