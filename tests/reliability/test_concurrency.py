"""Concurrency: ten identical requests at once leave exactly the state one request leaves.

Each action is sent by ten threads, each with its own test client signed in as the Admin (its
own database connection, as ten browser tabs or a double-click on ten workers would have),
released together by a barrier. The state afterwards is checked against what one request
makes: one queued run for Sync now, one full run for Full sync, one new import for Run again,
a standing mapping paused, resumed or deleted once with one audit entry, and one connection
with one audit entry for a sign-in's callback arriving ten times with the same state and code.
No answer is a server error.

Celery does not run: the tasks' queueing is recorded instead (``enqueue_on_commit`` hands the
task to ``registered_task(name).delay`` once the transaction commits).

All of it runs on PostgreSQL (CI sets ``DATABASE_URL``). On SQLite the actions that take row
locks are skipped: the in-memory test database is shared between threads through SQLite's
shared cache, which refuses a second writer at once ("database table is locked") instead of
waiting for the first; the callbacks, which lock nothing, run on both.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.db import connections
from django.test import Client

from maintenance.models import AuditEntry
from sync.forms.settings import ConfirmForm
from sync.models import (
    Connection,
    ConsentToTrack,
    FullSyncState,
    ImportJob,
    RunKind,
    RunStatus,
    StandingMapping,
    SyncRun,
)
from sync.services import import_wizard, imports
from sync.services.jobs import PRIMARY_SYNC, RUN_IMPORT
from tests.sync.conftest import connection, sandbox_settings  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

TABS = 10
needs_row_locks = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="needs row locks: SQLite's in-memory test database (shared cache) answers a second "
    "concurrent writer 'database table is locked' at once instead of waiting; this runs on "
    "PostgreSQL (CI sets DATABASE_URL)",
)


@pytest.fixture
def queued():
    """The tasks queued (by name), instead of queueing them on a broker."""
    names: Counter[str] = Counter()
    lock = threading.Lock()

    def registered(name: str):
        def delay(*args):
            with lock:
                names[name] += 1

        return mock.Mock(delay=delay)

    with mock.patch("sync.services.jobs.registered_task", side_effect=registered):
        yield names


@pytest.fixture
def tabs(admin_user) -> list[Client]:
    """Ten clients signed in as the Admin, each with its own session."""
    clients = []
    for _ in range(TABS):
        client = Client()
        client.force_login(admin_user)
        clients.append(client)
    return clients


def at_once(clients: list[Client], send: Callable[[Client], object]) -> list[int]:
    """Send from every client at the same moment; the answers' status codes."""
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def tab(client: Client) -> None:
        try:
            barrier.wait(timeout=30)
            response = send(client)
            with lock:
                statuses.append(response.status_code)
        except BaseException as exc:  # re-raised in the test's thread below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()  # this thread's own database connection

    threads = [threading.Thread(target=tab, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(statuses) == len(clients)
    assert all(status < 500 for status in statuses), statuses
    return statuses


# Sync now and Full sync ----------------------------------------------------------------------
@needs_row_locks
def test_sync_now_ten_times_queues_one_run(connection, tabs, queued):  # noqa: F811
    at_once(tabs, lambda client: client.post("/sync/settings/sync-now/"))
    runs = SyncRun.objects.filter(connection=connection)
    assert runs.count() == 1
    assert runs.get().kind == RunKind.INCREMENTAL and runs.get().status == RunStatus.QUEUED
    assert queued == {PRIMARY_SYNC: 1}


@needs_row_locks
def test_full_sync_ten_times_starts_one_full_run(connection, tabs, queued):  # noqa: F811
    confirm = {"confirm": ConfirmForm.FULL_SYNC}
    at_once(tabs, lambda client: client.post("/sync/settings/full-sync/", confirm))
    runs = SyncRun.objects.filter(connection=connection)
    assert runs.count() == 1 and runs.get().kind == RunKind.FULL
    connection.refresh_from_db()
    assert connection.full_sync_state == FullSyncState.DELETING
    assert queued == {PRIMARY_SYNC: 1}


# Run again and standing mappings -------------------------------------------------------------
@pytest.fixture
def finished_import(connection, admin_user):  # noqa: F811
    """A list-view import kept in step, finished."""
    available = import_wizard.choices(connection)
    source = next(s for s in available.sources if s.kind == "listview")
    plan = imports.ImportPlan(
        source,
        available.destinations[0],
        "Email",
        ("Name",),
        {},
        ConsentToTrack.YES,
        keep_in_step=True,
    )
    job = imports.start_import(connection, admin_user, plan, enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(status=RunStatus.SUCCEEDED)
    return job


@needs_row_locks
def test_run_again_ten_times_starts_one_import(finished_import, tabs, queued):
    url = f"/sync/import/{finished_import.pk}/run-again/"
    at_once(tabs, lambda client: client.post(url))
    again = ImportJob.objects.exclude(pk=finished_import.pk)
    assert again.count() == 1
    assert queued == {RUN_IMPORT: 1}


@needs_row_locks
@pytest.mark.parametrize(
    ("action", "start_active", "after"),
    [("pause", True, False), ("resume", False, True), ("delete", True, None)],
)
def test_standing_mapping_action_ten_times_acts_once(
    finished_import, tabs, action, start_active, after
):
    mapping = StandingMapping.objects.get()
    StandingMapping.objects.filter(pk=mapping.pk).update(active=start_active)
    audited = AuditEntry.objects.filter(area="Field mappings").count()
    url = f"/sync/import/mappings/{mapping.pk}/{action}/"
    statuses = at_once(tabs, lambda client: client.post(url))
    assert set(statuses) <= {302, 404}  # a delete that came second finds nothing to delete
    remaining = StandingMapping.objects.filter(pk=mapping.pk).first()
    if after is None:
        assert remaining is None
    else:
        assert remaining is not None and remaining.active is after
    assert AuditEntry.objects.filter(area="Field mappings").count() == audited + 1


# Connect callbacks ---------------------------------------------------------------------------
@pytest.fixture
def oauth_settings(sandbox_settings, cm_sandbox):  # noqa: F811
    sandbox_settings.CM_OAUTH_CLIENT_ID = cm_sandbox.oauth_client_id
    sandbox_settings.CM_OAUTH_CLIENT_SECRET = cm_sandbox.oauth_client_secret
    return sandbox_settings


def same_browser(admin_user, count: int) -> list[Client]:
    """``count`` clients sharing one session: one browser sending the same request again."""
    first = Client()
    first.force_login(admin_user)
    clients = [first]
    for _ in range(count - 1):
        client = Client()
        client.cookies = first.cookies
        clients.append(client)
    return clients


def approved_callback(client: Client, start_url: str, ca_file: str) -> str:
    """Start a sign-in and let the sandbox approve it; the callback path and query."""
    start = client.post(start_url)
    assert start.status_code == 302
    answer = requests.get(start["Location"], verify=ca_file, allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


@pytest.mark.parametrize(
    ("start_url", "connected"),
    [
        ("/sync/connect/campaign-monitor/oauth/", "cm_connected"),
        ("/sync/connect/salesforce/", "sf_connected"),
    ],
)
def test_a_callback_ten_times_connects_once(
    oauth_settings, cm_sandbox, admin_user, queued, start_url, connected
):
    clients = same_browser(admin_user, TABS)
    callback = approved_callback(clients[0], start_url, cm_sandbox.ca_file)
    at_once(clients, lambda client: client.get(callback))
    assert Connection.objects.count() == 1
    assert getattr(Connection.objects.get(), connected)
    assert AuditEntry.objects.count() == 1, list(AuditEntry.objects.values_list("setting", "after"))
