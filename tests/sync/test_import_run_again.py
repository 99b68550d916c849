"""Run again keeps the wizard's rules and starts at most one job per import (issue 11, defect 7).

The concurrency test uses real threads against the database. On PostgreSQL (CI) they race for
real and only the row lock keeps the second job out. SQLite's in-memory test database (shared
cache) refuses a second writer at once with "database table is locked" instead of waiting as a
file database with a busy timeout does, so there each thread retries until the lock is free:
the writes are serialised by SQLite's own lock, as they are in production on SQLite.
"""

from __future__ import annotations

import html
import threading
import time
from unittest import mock

import pytest
from django.db import OperationalError
from django.db import connection as db_connection

from sync.models import CMClient, ImportJob, RunStatus
from sync.services import imports
from sync.services.api import campaign_monitor_client, salesforce_client
from sync.services.import_sources import available_sources
from tests.conftest import create_list

pytestmark = pytest.mark.django_db(transaction=True)

CLICKS = 10


@pytest.fixture
def tasks_not_run():
    """Started imports stay queued (no worker); the mock counts what was queued."""
    with mock.patch("sync.tasks.run_import.delay") as delay:
        yield delay


def finished_import(connection, cm_sandbox, *, fresh_list: bool = False) -> ImportJob:
    """A finished import of "All Open Leads" into a list of the first client."""
    client = connection.clients.filter(selected=True).order_by("name").first()
    if fresh_list:
        list_id = create_list(cm_sandbox, client.cm_client_id, "Run again target")
        destination = imports.DestinationList(client, list_id, "Run again target")
    else:
        with campaign_monitor_client(connection) as cm:
            row = cm.get_lists(client.cm_client_id)[0]
        destination = imports.DestinationList(client, row["ListID"], row["Name"])
    with salesforce_client(connection) as sf:
        source = next(s for s in available_sources(sf) if s.label == "All Open Leads")
    plan = imports.ImportPlan(source, destination, "Email", ("Name",), {}, "Yes")
    job = imports.start_import(connection, None, plan, enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(status=RunStatus.SUCCEEDED)
    job.refresh_from_db()
    return job


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def test_run_again_refuses_a_list_of_a_deselected_client(
    connection, cm_sandbox, admin_client, tasks_not_run
):
    job = finished_import(connection, cm_sandbox)
    CMClient.objects.filter(pk=job.cm_client_id).update(selected=False)

    response = admin_client.post(f"/sync/import/{job.pk}/run-again/", follow=True)

    assert list(ImportJob.objects.values_list("pk", flat=True)) == [job.pk]
    assert f"“{job.cm_client.name}” is not selected for sync" in text_of(response)
    tasks_not_run.assert_not_called()
    # The service refuses too, whoever calls it.
    with pytest.raises(imports.ImportRefused, match="is not selected for sync"):
        imports.run_again(job, None, enqueue=False)
    # The detail page says so next to a disabled button.
    detail = text_of(admin_client.get(f"/sync/import/{job.pk}/"))
    assert "disabled" in detail.split("Run again")[0].rsplit("<button", 1)[1]


def test_run_again_refuses_a_list_campaign_monitor_no_longer_has(
    connection, cm_sandbox, admin_client, tasks_not_run
):
    job = finished_import(connection, cm_sandbox, fresh_list=True)
    cm_sandbox.call("DELETE", f"/lists/{job.list_id}.json")

    response = admin_client.post(f"/sync/import/{job.pk}/run-again/", follow=True)

    assert ImportJob.objects.count() == 1
    assert "Campaign Monitor no longer lists “Run again target”" in text_of(response)


def test_ten_clicks_on_run_again_start_one_import(
    connection, cm_sandbox, admin_client, tasks_not_run
):
    job = finished_import(connection, cm_sandbox)

    landed = {admin_client.post(f"/sync/import/{job.pk}/run-again/").url for _ in range(CLICKS)}

    again = ImportJob.objects.exclude(pk=job.pk).get()
    assert again.status == RunStatus.QUEUED
    assert landed == {f"/sync/import/{again.pk}/"}
    assert tasks_not_run.call_count == 1
    last = admin_client.post(f"/sync/import/{job.pk}/run-again/", follow=True)
    assert "is already queued; no other was started" in text_of(last)
    # Run again on the queued one is the same import too.
    assert admin_client.post(f"/sync/import/{again.pk}/run-again/").url == landed.pop()
    assert ImportJob.objects.count() == 2


def _retrying_on_sqlite_locks(call):
    """``call()``, retried while SQLite's in-memory test database reports a lock (see the
    module docstring); any other error, or any error on PostgreSQL, is raised."""
    for _ in range(2000):
        try:
            return call()
        except OperationalError as exc:
            if db_connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(0.005)
    raise AssertionError("the database stayed locked")


def test_concurrent_run_again_clicks_start_one_job(connection, cm_sandbox, monkeypatch):
    job = finished_import(connection, cm_sandbox)
    # Widen the window between "is one active?" and the insert: without a lock held across
    # both, every thread passes the check before the first insert lands.
    create_for = ImportJob.create_for.__func__

    def slow_create_for(cls, *args, **kwargs):
        time.sleep(0.2)
        return create_for(cls, *args, **kwargs)

    monkeypatch.setattr(ImportJob, "create_for", classmethod(slow_create_for))
    start = threading.Barrier(CLICKS)
    results, errors = [], []

    def click():
        try:
            start.wait()
            results.append(
                _retrying_on_sqlite_locks(lambda: imports.run_again(job, None, enqueue=False))
            )
        except Exception as exc:  # reported below with the others
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(results) == CLICKS
    assert sum(created for _, created in results) == 1
    assert len({again.pk for again, _ in results}) == 1
    assert ImportJob.objects.exclude(pk=job.pk).count() == 1
