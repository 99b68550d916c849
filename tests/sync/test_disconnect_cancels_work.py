"""Disconnecting Campaign Monitor cancels the connection's work first, and a job that finds its
credentials gone ends at once as cancelled (support code CMS-320), never as a crash that holds
the run's lease for ten minutes and is later recorded as a generic CMS-300."""

from __future__ import annotations

import html
from unittest import mock

import pytest
from django.urls import reverse

from maintenance.models import MaintenanceMessage
from maintenance.support_codes import get_support_code
from sync import tasks
from sync.clients.campaign_monitor import CampaignMonitorClient, OAuthTokens
from sync.forms.settings import ConfirmForm
from sync.models import (
    ACTIVE_STATUSES,
    ClientJob,
    Connection,
    ImportJob,
    ImportSourceKind,
    RunStatus,
    StandingMapping,
)
from sync.services import cancellation, imports, runs, standing
from sync.services.api import CredentialsGone, campaign_monitor_client, salesforce_client
from sync.services.connect import connect_campaign_monitor, disconnect_campaign_monitor
from sync.services.import_sources import available_sources
from tests.conftest import create_list
from tests.sync.conftest import cm_client

pytestmark = pytest.mark.django_db

CODE = "CMS-320"


def text(response) -> str:
    return html.unescape(response.content.decode())


def messages_with(code: str) -> list[MaintenanceMessage]:
    return list(MaintenanceMessage.objects.filter(support_code=code))


def forget_cm_credentials(connection: Connection) -> None:
    """What a disconnect racing a job leaves behind: no Campaign Monitor credentials."""
    Connection.objects.filter(pk=connection.pk).update(
        cm_api_key="", cm_access_token="", cm_refresh_token="", cm_connected_at=None
    )


def an_import(connection, **fields) -> ImportJob:
    client = connection.clients.order_by("name").first()
    values = {
        "cm_client": client,
        "list_id": "list-1",
        "list_name": "Coffee Club Newsletter",
        "source_kind": ImportSourceKind.LIST_VIEW,
        "source_object": "Contact",
        "source_id": "00B000000000001",
        "source_name": "All Contacts",
        "mapping": {"email": "Email", "name": ["Name"], "custom_fields": {}},
        **fields,
    }
    return ImportJob.create_for(connection, **values)


def a_mapping(connection, **fields) -> StandingMapping:
    client = connection.clients.order_by("name").first()
    values = {
        "cm_client": client,
        "list_id": "list-1",
        "list_name": "Coffee Club Newsletter",
        "source_object": "Contact",
        "source_id": "00B000000000001",
        "source_name": "All Contacts",
        "mapping": {"email": "Email", "name": ["Name"], "custom_fields": {}},
        **fields,
    }
    return StandingMapping.objects.create(connection=connection, **values)


@pytest.fixture
def every_call_checks():
    """Check for cancellation at every Campaign Monitor call (not at most once a second)."""
    with mock.patch.object(cancellation, "CHECK_EVERY", 0):
        yield


# The typed error ---------------------------------------------------------------------------------
def test_building_a_client_without_credentials_raises_credentials_gone(connection):
    forget_cm_credentials(connection)
    connection.refresh_from_db()
    with pytest.raises(CredentialsGone) as caught:
        campaign_monitor_client(connection)
    assert caught.value.side == "Campaign Monitor"
    connection.sf_access_token = ""
    with pytest.raises(CredentialsGone):
        salesforce_client(connection)


# A job that finds its credentials gone -----------------------------------------------------------
def test_client_job_that_finds_credentials_gone_ends_cancelled_at_once(connection):
    run, _ = runs.request_run(connection, enqueue=False)

    def disconnect_then_run(job: ClientJob) -> None:
        forget_cm_credentials(connection)  # e.g. a disconnect between fan-out and the job
        runs.run_client_job(job.pk)

    runs.execute_run(run.pk, fan_out=disconnect_then_run)

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.finished_at is not None
    assert "credentials" in run.error_summary
    assert set(run.client_jobs.values_list("status", flat=True)) == {RunStatus.CANCELLED}
    assert runs._active_run(Connection.objects.get()) is None  # the lease is released at once
    [message] = messages_with(CODE)
    assert message.run_id == run.pk and "cancelled" in message.message
    assert not messages_with("CMS-900") and not messages_with("CMS-300")
    assert runs.sweep_stale_runs() == 0


def test_queued_run_that_finds_credentials_gone_never_starts_a_full_sync_purge(
    connection, sf_sandbox
):
    run, _ = runs.request_run(connection, kind="full", enqueue=False)
    forget_cm_credentials(connection)
    before = len(sf_sandbox.app.records("CMS_Client__c"))
    fan_out = mock.Mock()
    runs.execute_run(run.pk, fan_out=fan_out)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    fan_out.assert_not_called()
    assert len(sf_sandbox.app.records("CMS_Client__c")) == before  # nothing was purged
    assert len(messages_with(CODE)) == 1


def test_import_that_finds_credentials_gone_ends_cancelled_at_once(connection):
    job = an_import(connection)
    forget_cm_credentials(connection)
    assert tasks.run_import(job.pk) == RunStatus.CANCELLED
    job.refresh_from_db()
    assert job.status == RunStatus.CANCELLED and job.finished_at is not None
    assert "credentials" in job.error
    assert len(messages_with(CODE)) == 1
    assert not messages_with("CMS-900")


# Disconnect cancels first ------------------------------------------------------------------------
def test_disconnect_cancels_queued_runs_imports_and_pauses_mappings(admin_client, connection):
    run, _ = runs.request_run(connection, enqueue=False)
    queued_import = an_import(connection)
    running_import = an_import(connection, list_id="list-2", status=RunStatus.RUNNING)
    done_import = an_import(connection, list_id="list-3", status=RunStatus.SUCCEEDED)
    mapping = a_mapping(connection)
    paused = a_mapping(connection, list_id="list-2", active=False)

    response = admin_client.post(
        reverse("sync-settings-disconnect"), {"confirm": ConfirmForm.DISCONNECT}, follow=True
    )
    body = text(response)
    assert "Disconnected from Campaign Monitor" in body
    assert f"Cancelled run {run.pk}" in body

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert "Campaign Monitor was disconnected by alice-admin" in run.error_summary
    for job in (queued_import, running_import):
        job.refresh_from_db()
        assert job.status == RunStatus.CANCELLED
        assert "Campaign Monitor was disconnected" in job.error
    done_import.refresh_from_db()
    assert done_import.status == RunStatus.SUCCEEDED and not done_import.error
    mapping.refresh_from_db()
    assert not mapping.active and "Campaign Monitor was disconnected" in mapping.paused_reason
    paused.refresh_from_db()
    assert paused.paused_reason == ""  # paused by a person earlier: left as it was

    [message] = messages_with(CODE)
    assert f"run {run.pk}" in message.message
    assert "2 imports" in message.message and "1 standing field mapping" in message.message
    assert get_support_code(CODE) is not None

    # The queued tasks arrive later and do nothing.
    runs.execute_run(run.pk, fan_out=lambda job: runs.run_client_job(job.pk))
    assert tasks.run_import(queued_import.pk) == RunStatus.CANCELLED
    assert not ClientJob.objects.filter(status__in=ACTIVE_STATUSES).exists()
    assert len(messages_with(CODE)) == 1

    # The screens say so.
    detail = text(admin_client.get(reverse("sync-run-detail", args=[run.pk])))
    assert "Cancelled" in detail and "Campaign Monitor was disconnected" in detail
    assert "Cancelled" in text(admin_client.get(reverse("sync-runs")))
    imports_page = text(admin_client.get(reverse("sync-import")))
    assert "so cmsync paused this mapping" in imports_page


def test_disconnect_with_nothing_running_writes_no_message(connection):
    disconnect_campaign_monitor(connection, user=None)
    assert not messages_with(CODE)


def test_disconnect_during_a_client_job_stops_it_at_the_next_call(
    connection, cm_sandbox, every_call_checks
):
    run, _ = runs.request_run(connection, enqueue=False)
    original = CampaignMonitorClient.get_lists
    calls: list[int] = []

    def disconnect_midway(self, client_id):
        if not calls:
            disconnect_campaign_monitor(Connection.objects.get(), user=None)
            cm_sandbox.reset_stats()
        calls.append(1)
        return original(self, client_id)

    with mock.patch.object(CampaignMonitorClient, "get_lists", disconnect_midway):
        runs.execute_run(run.pk, fan_out=lambda job: runs.run_client_job(job.pk))

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert set(run.client_jobs.values_list("status", flat=True)) == {RunStatus.CANCELLED}
    assert sum(cm_sandbox.stats().values()) == 0  # no call after the disconnect
    assert len(messages_with(CODE)) == 1  # the disconnect's, none per job
    assert not messages_with("CMS-900")
    assert run.cm_calls > 0  # the calls made before still count


def test_disconnect_during_an_import_stops_it_before_the_next_batch(
    connection, cm_sandbox, every_call_checks
):
    client = connection.clients.order_by("name").first()
    list_id = create_list(cm_sandbox, client.cm_client_id, "Imported people")
    with salesforce_client(connection) as sf:
        source = next(s for s in available_sources(sf) if s.label == "All Contacts")
    job = an_import(
        connection,
        list_id=list_id,
        list_name="Imported people",
        source_id=source.source_id,
        source_name=source.label,
    )
    original = imports.read_rows

    def disconnect_then_read(*args, **kwargs):
        disconnect_campaign_monitor(Connection.objects.get(), user=None)
        return original(*args, **kwargs)

    with mock.patch.object(imports, "read_rows", disconnect_then_read):
        assert tasks.run_import(job.pk) == RunStatus.CANCELLED

    job.refresh_from_db()
    assert job.status == RunStatus.CANCELLED
    assert "Campaign Monitor was disconnected" in job.error
    assert list(cm_client(cm_sandbox).iter_subscribers(list_id, "active")) == []
    assert len(messages_with(CODE)) == 1


def test_after_reconnecting_a_new_run_starts(connection, cm_sandbox):
    run, _ = runs.request_run(connection, enqueue=False)
    disconnect_campaign_monitor(connection, user=None)
    connect_campaign_monitor(
        connection, user=None, base_url=cm_sandbox.api_base, api_key=cm_sandbox.api_key
    )
    again, created = runs.request_run(connection, enqueue=False)
    assert created and again.pk != run.pk


def test_resuming_a_paused_mapping_clears_its_reason(connection):
    mapping = a_mapping(connection)
    disconnect_campaign_monitor(connection, user=None)
    mapping.refresh_from_db()
    assert mapping.paused_reason
    standing.set_active(mapping, True, None)
    mapping.refresh_from_db()
    assert mapping.active and mapping.paused_reason == ""


def test_tokens_refreshed_after_a_disconnect_are_not_stored_back(connection):
    Connection.objects.filter(pk=connection.pk).update(
        cm_auth_method="oauth", cm_access_token="old-access", cm_refresh_token="old-refresh"
    )
    connection.refresh_from_db()
    client = campaign_monitor_client(connection)
    disconnect_campaign_monitor(connection, user=None)
    client._on_token_refresh(OAuthTokens(access_token="new-access", refresh_token="new-refresh"))
    connection.refresh_from_db()
    assert not connection.cm_access_token and not connection.cm_refresh_token
