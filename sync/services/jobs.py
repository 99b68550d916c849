"""Queueing background work: every service hands a task to Celery through ``enqueue_on_commit``.

Services never import :mod:`sync.tasks` (the tasks import the services they call); they name
the task instead. The task is queued only once the surrounding transaction commits, so a worker
never looks for a row that is not there yet (or that a rollback removed).

It is looked up by name in the Celery app's registry and queued through its ``delay``, as if
the caller had imported it: ``CELERY_TASK_ALWAYS_EAGER`` still runs it in this process, and a
test that patches ``sync.tasks.<name>.delay`` still sees the call.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from celery.app.task import Task
from django.db import transaction

# The sync tasks services queue, by their registered names (see sync/tasks.py).
PRIMARY_SYNC = "sync.tasks.primary_sync"
RUN_IMPORT = "sync.tasks.run_import"
RETENTION_JOB = "sync.tasks.retention_job"
REOWN_CLIENT_RECORDS = "sync.tasks.reown_client_records"


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Queue ``task_name(*args)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: registered_task(task_name).delay(*args))


def registered_task(name: str) -> Task:
    """The app's task of that name. A web process has not imported the apps' ``tasks`` modules
    (a worker does at start), so the first look-up there discovers them."""
    app = current_app
    if name not in app.tasks:
        app.autodiscover_tasks(force=True)
    return app.tasks[name]
