"""The command-line side of the sync: connect, sync_now, and the Celery task wiring."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cmsync.celery import app as celery_app
from sync.models import Connection, RunStatus, SyncRun
from sync.services.runs import request_run

pytestmark = pytest.mark.django_db(transaction=True)


def _connect_args(cm, sf, **overrides):
    args = {
        "cm_base_url": cm.api_base,
        "cm_api_key": cm.api_key,
        "sf_instance_url": sf.url,
        "sf_username": sf.username,
        "sf_password": sf.password,
        "sf_client_id": sf.client_id,
        "sf_client_secret": sf.client_secret,
        "clients": "all",
    }
    args.update(overrides)
    return args


def test_connect_command_connects_both_sides(sandbox_settings, cm_sandbox, sf_sandbox):
    out = StringIO()
    call_command("connect", stdout=out, **_connect_args(cm_sandbox, sf_sandbox))
    assert "Connected. Campaign Monitor: 3 client(s)" in out.getvalue()
    connection = Connection.objects.get()
    assert connection.cm_connected and connection.sf_connected
    assert connection.clients.filter(selected=True).count() == 3
    assert connection.sf_sync_user_name


def test_connect_command_says_what_is_wrong_with_a_bad_key(
    sandbox_settings, cm_sandbox, sf_sandbox
):
    with pytest.raises(CommandError, match="Campaign Monitor rejected the API key"):
        call_command("connect", **_connect_args(cm_sandbox, sf_sandbox, cm_api_key="wrong-key"))
    assert not Connection.objects.filter(cm_connected_at__isnull=False).exists()


def test_connect_command_rejects_unknown_client_ids(sandbox_settings, cm_sandbox, sf_sandbox):
    with pytest.raises(CommandError, match="Unknown Campaign Monitor client id"):
        call_command("connect", **_connect_args(cm_sandbox, sf_sandbox, clients="nope"))


def test_connect_command_reports_a_bad_salesforce_password(
    sandbox_settings, cm_sandbox, sf_sandbox
):
    with pytest.raises(CommandError, match="Salesforce login failed"):
        call_command("connect", **_connect_args(cm_sandbox, sf_sandbox, sf_password="wrong"))


def test_sync_now_inline_prints_one_json_line(connection):
    out = StringIO()
    call_command("sync_now", "--inline", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded"
    assert line["written"]["CMS_Subscriber__c"] > 0
    assert line["cm_calls"] > 0 and line["sf_calls"] > 0
    assert set(line) >= {"status", "written", "cm_calls", "sf_calls", "seconds"}


def test_sync_now_for_one_client_only_syncs_that_client(connection, sf_sandbox):
    client = connection.clients.order_by("name").first()
    out = StringIO()
    call_command("sync_now", "--inline", "--client", client.cm_client_id, stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["clients"] == [client.name]
    clients_in_sf = {r["CM_Client_ID__c"] for r in sf_sandbox.app.records("CMS_List__c")}
    assert clients_in_sf == {client.cm_client_id}


def test_second_sync_now_while_one_runs_starts_nothing(connection, monkeypatch):
    monkeypatch.setattr("sync.tasks.primary_sync.delay", lambda run_id: None)
    call_command("sync_now", stdout=StringIO())
    err = StringIO()
    call_command("sync_now", stdout=StringIO(), stderr=err)
    assert "already running" in err.getvalue()
    assert SyncRun.objects.count() == 1


def test_sync_now_without_a_connection_explains(db):
    with pytest.raises(CommandError, match="Not connected"):
        call_command("sync_now")


@pytest.fixture
def eager_celery():
    # Settings come from Django under the CELERY_ namespace, so override them under that name.
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=True)
    yield
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_TASK_EAGER_PROPAGATES=False)


def test_queued_run_goes_through_the_celery_tasks(connection, eager_celery, sf_sandbox):
    run, created = request_run(connection)  # enqueues primary_sync on commit; eager runs it now
    assert created
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    assert run.client_jobs.count() == 3
    assert len(sf_sandbox.app.records("CMS_Client__c")) == 3


def test_beat_entry_skips_when_sync_is_off(connection, eager_celery):
    from sync.tasks import scheduled_primary_sync

    connection.sync_enabled = False
    connection.save()
    assert scheduled_primary_sync(connection.pk) == "sync is turned off"
    assert not SyncRun.objects.exists()
