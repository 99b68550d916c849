"""A new Security Owner re-owns the client's records already in Salesforce (issue 11, #2).

The job is a ``ReownJob`` row run by a Celery task through Bulk API 2.0, with progress, a
heartbeat the sweeper watches, and idempotent re-runs.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from cmsync.celery import app as celery_app
from maintenance.models import MaintenanceMessage
from sync.clients.campaign_monitor import make_subscriber
from sync.clients.salesforce_schema import (
    CLIENT_OBJECT,
    EXTERNAL_ID,
    OBJECT_NAMES,
    SUBSCRIBER_OBJECT,
)
from sync.models import ReownJob, RunStatus
from sync.services import reown
from sync.services.connect import set_security_owner
from sync.services.runs import run_inline
from tests.sync.conftest import cm_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager_celery():
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=True)
    yield
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_TASK_EAGER_PROPAGATES=False)


@pytest.fixture
def synced(connection, sf_sandbox):
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    return connection


def users_by_name(sf_sandbox) -> dict[str, dict]:
    return {u["Name"]: u for u in sf_sandbox.app.records("User")}


def records_of(sf_sandbox, client_id: str) -> list[dict]:
    """Every cmsync record of one CM client in the sandbox org."""
    found = []
    for sobject in OBJECT_NAMES:
        for record in sf_sandbox.app.records(sobject):
            mine = (
                record[EXTERNAL_ID] == client_id
                if sobject == CLIENT_OBJECT
                else record.get("CM_Client_ID__c") == client_id
            )
            if mine:
                found.append(record)
    return found


def change_owner(client, user: dict) -> None:
    """The owner as saved, without the job the Sync Settings service would queue with it."""
    client.security_owner_id, client.security_owner_name = user["Id"], user["Name"]
    client.save(update_fields=["security_owner_id", "security_owner_name"])


def test_saving_a_new_security_owner_queues_the_reown_job(synced, sf_sandbox, admin_user):
    client_a = synced.clients.order_by("name").first()
    maria = users_by_name(sf_sandbox)["Maria Lopez"]
    queued: list[int] = []
    with (
        mock.patch("sync.tasks.reown_client_records.delay", queued.append),
        transaction.atomic(),
    ):
        set_security_owner(client_a, maria["Id"], [maria], user=admin_user)
        assert queued == []  # only once the change is committed
    job = ReownJob.objects.get(cm_client=client_a)
    assert queued == [job.pk]
    assert (job.owner_id, job.owner_name) == (maria["Id"], "Maria Lopez")

    set_security_owner(client_a, maria["Id"], [maria], user=admin_user)  # no change: no job
    assert ReownJob.objects.filter(cm_client=client_a).count() == 1


def test_a_new_security_owner_reowns_the_clients_records_through_bulk_api(
    synced, sf_sandbox, cm_sandbox, eager_celery
):
    client_a, client_b = list(synced.clients.order_by("name"))[:2]
    sync_user = synced.sf_sync_user_id
    maria = users_by_name(sf_sandbox)["Maria Lopez"]
    a_records = records_of(sf_sandbox, client_a.cm_client_id)
    b_before = {r["Id"]: r["OwnerId"] for r in records_of(sf_sandbox, client_b.cm_client_id)}
    assert a_records and {r["OwnerId"] for r in a_records} == {sync_user}

    change_owner(client_a, maria)
    sf_sandbox.reset_stats()
    job = reown.start_reown(client_a, client_a.owner_id, None)  # queued on commit, eager here

    job.refresh_from_db()
    assert job.status == RunStatus.SUCCEEDED, job.error
    assert job.done == job.total == len(a_records)
    assert (job.failed, job.percent) == (0, 100)
    assert job.owner_name == "Maria Lopez"
    assert f"{len(a_records)} existing record(s) re-owned to Maria Lopez" == job.summary
    assert {r["OwnerId"] for r in records_of(sf_sandbox, client_a.cm_client_id)} == {maria["Id"]}
    assert {r["Id"]: r["OwnerId"] for r in records_of(sf_sandbox, client_b.cm_client_id)} == (
        b_before
    )
    stats = sf_sandbox.stats()
    assert stats.get("bulk2.ingest.create", 0) >= 1
    assert "composite.sobjects.upsert" not in stats
    assert job.sf_calls > 0

    # Again: nothing is left to re-own, so nothing is written.
    sf_sandbox.reset_stats()
    again = reown.start_reown(client_a, client_a.owner_id, None)
    again.refresh_from_db()
    assert again.status == RunStatus.SUCCEEDED
    assert (again.done, again.total) == (0, 0)
    assert not any(name.startswith("bulk2.ingest") for name in sf_sandbox.stats())

    # Records written from now on carry the new owner.
    cm = cm_client(cm_sandbox)
    list_id = cm.get_lists(client_a.cm_client_id)[0]["ListID"]
    cm.add_subscriber(
        list_id, make_subscriber("fresh.face@example.org", "Fresh Face", consent_to_track="Yes")
    )
    run_inline(synced)
    fresh = next(
        r
        for r in sf_sandbox.app.records(SUBSCRIBER_OBJECT)
        if r["CM_Key__c"] == f"{list_id}:fresh.face@example.org"
    )
    assert fresh["OwnerId"] == maria["Id"]


def test_progress_is_saved_batch_by_batch_and_a_rerun_finishes_only_the_rest(
    synced, sf_sandbox, monkeypatch
):
    client = synced.clients.order_by("name").first()
    tom = users_by_name(sf_sandbox)["Tom Becker"]
    change_owner(client, tom)
    total = len(records_of(sf_sandbox, client.cm_client_id))
    saved: list[tuple[int, int | None, str]] = []
    original = reown._Progress.batch

    def replaced_after_three_batches(self, batch):
        original(self, batch)
        row = ReownJob.objects.get(pk=self.job.pk)
        saved.append((row.done, row.total, row.stage))
        return len(saved) < 3

    monkeypatch.setattr(reown, "BATCH", 7)
    monkeypatch.setattr(reown._Progress, "batch", replaced_after_three_batches)
    job = reown.start_reown(client, client.owner_id, None, enqueue=False)
    reown.execute_reown(job.pk)
    assert len(saved) == 3
    assert [total_ for _done, total_, _stage in saved] == [total] * 3
    assert 0 < saved[0][0] < saved[1][0] < saved[2][0] < total
    assert saved[-1][2].startswith("Re-owning ")
    owned = [r for r in records_of(sf_sandbox, client.cm_client_id) if r["OwnerId"] == tom["Id"]]
    assert len(owned) == saved[-1][0]

    monkeypatch.setattr(reown._Progress, "batch", original)
    rest = reown.start_reown(client, client.owner_id, None, enqueue=False)
    rest = reown.execute_reown(rest.pk)
    assert rest.status == RunStatus.SUCCEEDED
    assert rest.done == rest.total == total - len(owned)
    assert {r["OwnerId"] for r in records_of(sf_sandbox, client.cm_client_id)} == {tom["Id"]}


def test_a_newer_owner_change_replaces_an_unfinished_job(synced, sf_sandbox):
    client = synced.clients.order_by("name").first()
    users = users_by_name(sf_sandbox)
    change_owner(client, users["Tom Becker"])
    first = reown.start_reown(client, client.owner_id, None, enqueue=False)
    change_owner(client, users["Maria Lopez"])
    second = reown.start_reown(client, client.owner_id, None, enqueue=False)
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED and first.error == reown.REPLACED
    assert reown.execute_reown(first.pk).status == RunStatus.FAILED  # never runs now
    assert reown.execute_reown(second.pk).status == RunStatus.SUCCEEDED
    owners = {r["OwnerId"] for r in records_of(sf_sandbox, client.cm_client_id)}
    assert owners == {users["Maria Lopez"]["Id"]}
    assert reown.latest_reown_jobs(synced)[client.pk].pk == second.pk
    clients = reown.attach_reown_jobs(list(synced.clients.all()))
    assert {c.pk: c.reown_job and c.reown_job.pk for c in clients}[client.pk] == second.pk


def test_refused_records_are_reported_and_retried_by_the_next_job(synced, sf_sandbox):
    client = synced.clients.order_by("name").first()
    change_owner(client, users_by_name(sf_sandbox)["Aisha Khan"])
    sf_sandbox.set_faults("reject:x2@bulk2.ingest.process")
    job = reown.execute_reown(reown.start_reown(client, client.owner_id, None, enqueue=False).pk)
    assert job.status == RunStatus.PARTLY_FAILED
    assert job.failed == 2 and job.support_code == "CMS-220"
    assert "Salesforce refused 2" in job.summary
    assert MaintenanceMessage.objects.filter(job=reown.JOB_NAME, support_code="CMS-220").exists()

    sf_sandbox.set_faults("")
    retry = reown.execute_reown(reown.start_reown(client, client.owner_id, None, enqueue=False).pk)
    assert retry.status == RunStatus.SUCCEEDED and retry.done == 2


def test_salesforce_outage_fails_the_job_with_a_support_code(synced, sf_sandbox):
    client = synced.clients.order_by("name").first()
    change_owner(client, users_by_name(sf_sandbox)["Maria Lopez"])
    sf_sandbox.set_faults("503:x100@bulk2.ingest.create")
    job = reown.execute_reown(reown.start_reown(client, client.owner_id, None, enqueue=False).pk)
    assert job.status == RunStatus.FAILED
    assert job.support_code == "CMS-230"
    assert "stopped" in job.summary and "(CMS-230)" in job.summary
    message = MaintenanceMessage.objects.get(job=reown.JOB_NAME, support_code="CMS-230")
    assert client.name in message.message


def test_the_sweeper_queues_a_dead_workers_job_again_then_gives_up(
    synced, sf_sandbox, eager_celery
):
    client = synced.clients.order_by("name").first()
    maria = users_by_name(sf_sandbox)["Maria Lopez"]
    change_owner(client, maria)
    job = reown.start_reown(client, client.owner_id, None, enqueue=False)
    stale = timezone.now() - reown.LEASE - dt.timedelta(minutes=1)
    ReownJob.objects.filter(pk=job.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=stale, attempts=1
    )
    assert reown.execute_reown(job.pk).status == RunStatus.RUNNING  # a worker holds it

    assert reown.sweep_stale_reowns() == 1  # queued again, and run at once (eager)
    job.refresh_from_db()
    assert job.status == RunStatus.SUCCEEDED and job.attempts == 2
    assert {r["OwnerId"] for r in records_of(sf_sandbox, client.cm_client_id)} == {maria["Id"]}

    dead = reown.start_reown(client, client.owner_id, None, enqueue=False)
    ReownJob.objects.filter(pk=dead.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=stale, attempts=reown.MAX_ATTEMPTS
    )
    assert reown.sweep_stale_reowns() == 1
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and dead.support_code == "CMS-300"
    assert MaintenanceMessage.objects.filter(job=reown.JOB_NAME, support_code="CMS-300").exists()


def test_the_sweep_task_includes_reown_jobs(synced, eager_celery):
    from sync.tasks import sweep_stale_runs

    client = synced.clients.order_by("name").first()
    job = reown.start_reown(client, client.owner_id, None, enqueue=False)
    ReownJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - reown.LEASE * 2, attempts=reown.MAX_ATTEMPTS
    )
    assert sweep_stale_runs() == 1
