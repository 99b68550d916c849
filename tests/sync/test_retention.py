"""Tracking-history retention: confirming a smaller setting, then deleting exactly what falls
outside it from the Salesforce sandbox."""

from __future__ import annotations

import datetime as dt
import html
from unittest import mock

import pytest
from django.utils import timezone

from maintenance.models import AuditEntry, GovernorLimit, Level, MaintenanceMessage
from sync.clients.salesforce_schema import TRACKING_OBJECT
from sync.models import Connection, EmailType, SyncedRecord, SyncOptions
from sync.services import retention
from sync.services.runs import run_inline
from sync.tasks import retention_job

pytestmark = pytest.mark.django_db

TRACKING_URL = "/sync/storage/tracking-history/"
ALL_TYPES = list(EmailType.values)


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def synced(connection: Connection) -> Connection:
    run_inline(connection)
    return connection


@pytest.fixture
def run_task_at_once():
    """The retention task queued on commit runs right away, in this process."""
    with mock.patch("sync.tasks.retention_job.delay", side_effect=retention_job) as delay:
        yield delay


def tracking(sf_sandbox) -> dict[str, dict]:
    """The sandbox's live tracking records by CM_Key__c."""
    return {r["CM_Key__c"]: r for r in sf_sandbox.app.records(TRACKING_OBJECT)}


def is_outside(record: dict, days: int, types: list[str], now: dt.datetime) -> bool:
    if days == 0 or not types:
        return True
    when = dt.datetime.strptime(record["Event_Date__c"], "%Y-%m-%dT%H:%M:%S.%f%z")
    return when < now - dt.timedelta(days=days) or record["Event_Type__c"] not in types


def synced_keys(connection: Connection) -> set[str]:
    return set(
        SyncedRecord.objects.filter(connection=connection, sobject=TRACKING_OBJECT).values_list(
            "cm_key", flat=True
        )
    )


def post_setting(client, days: str, types: list[str], confirmed: bool = False):
    data = {"days_to_keep": days, "email_types_to_keep": types}
    if confirmed:
        data["confirmed"] = "1"
    return client.post(TRACKING_URL, data, follow=True)


def retention_messages() -> list[MaintenanceMessage]:
    return list(MaintenanceMessage.objects.filter(job="retention").order_by("pk"))


def assert_retention_kept_exactly(sf_sandbox, before, days, types, now, connection):
    after = tracking(sf_sandbox)
    deleted = set(before) - set(after)
    expected = {key for key, record in before.items() if is_outside(record, days, types, now)}
    assert deleted == expected
    assert all(not is_outside(r, days, types, now) for r in after.values())
    # cmsync forgot writing the deleted keys (a wider setting imports them again) and only those
    assert not synced_keys(connection) & deleted
    assert set(after) <= synced_keys(connection)
    return deleted


# Lowering the setting --------------------------------------------------------------------------
def test_lowering_days_asks_for_confirmation_with_the_number_to_delete(
    admin_client, synced, sf_sandbox, django_capture_on_commit_callbacks
):
    now = timezone.now()
    expected = sum(is_outside(r, 90, ALL_TYPES, now) for r in tracking(sf_sandbox).values())
    assert 0 < expected < len(tracking(sf_sandbox))

    with django_capture_on_commit_callbacks() as callbacks:
        response = post_setting(admin_client, "90", ALL_TYPES)

    body = html.unescape(response.content.decode())
    assert response.redirect_chain == []  # a confirmation page, not a save
    assert f'data-testid="delete-count" data-count="{expected}"' in body
    assert "cmsync keeps the last 90 days of all email types." in body
    assert 'name="confirmed" value="1"' in body
    assert callbacks == []
    assert SyncOptions.for_connection(synced).days_to_keep == 180
    assert not AuditEntry.objects.exists()


def test_confirming_saves_audits_and_deletes_exactly_the_records_outside_the_window(
    admin_client,
    admin_user,
    synced,
    sf_sandbox,
    run_task_at_once,
    django_capture_on_commit_callbacks,
):
    before = tracking(sf_sandbox)
    assert set(before) <= synced_keys(synced)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_setting(admin_client, "90", ALL_TYPES, confirmed=True)
    now = timezone.now()

    assert response.redirect_chain[-1][0] == "/sync/storage/"
    assert "Tracking history saved: cmsync keeps the last 90 days" in html.unescape(
        response.content.decode()
    )
    run_task_at_once.assert_called_once_with(synced.pk)
    deleted = assert_retention_kept_exactly(sf_sandbox, before, 90, ALL_TYPES, now, synced)
    assert deleted

    (message,) = retention_messages()
    assert message.level == Level.INFO
    assert f"deleted {len(deleted)} tracking records" in message.message

    entry = AuditEntry.objects.get()
    assert (entry.area, entry.setting, entry.before, entry.after) == (
        "Storage",
        "Days to keep",
        "180",
        "90",
    )
    assert entry.user == admin_user


def test_keeping_only_sent_emails_deletes_every_other_type(
    admin_client, synced, sf_sandbox, run_task_at_once, django_capture_on_commit_callbacks
):
    before = tracking(sf_sandbox)
    now = timezone.now()
    not_sent = sum(is_outside(r, 180, ["Sent"], now) for r in before.values())

    confirm = html.unescape(post_setting(admin_client, "180", ["Sent"]).content.decode())
    assert f'data-count="{not_sent}"' in confirm
    assert "Opened, Clicked, Bounced, Unsubscribed, Spam complaint" in confirm
    with django_capture_on_commit_callbacks(execute=True):
        post_setting(admin_client, "180", ["Sent"], confirmed=True)

    assert_retention_kept_exactly(sf_sandbox, before, 180, ["Sent"], timezone.now(), synced)
    assert {r["Event_Type__c"] for r in tracking(sf_sandbox).values()} == {"Sent"}
    entry = AuditEntry.objects.get()
    assert entry.setting == "Email types to keep"
    assert entry.before == "Sent, Opened, Clicked, Bounced, Unsubscribed, Spam complaint"
    assert entry.after == "Sent"


def test_keeping_zero_days_deletes_all_tracking_records_in_bulk_batches(
    admin_client, synced, sf_sandbox, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CMSYNC_BULK_THRESHOLD = 200  # a full batch (250) goes through Bulk; the rest not
    GovernorLimit.objects.create(job="retention", batch_size=250)
    monkeypatch.setattr(retention, "salesforce_client", _fast_bulk_client)
    before = tracking(sf_sandbox)
    assert len(before) > 2 * 250  # two Bulk batches and a Collections remainder

    confirm = html.unescape(post_setting(admin_client, "0", []).content.decode())
    assert f'data-count="{len(before)}"' in confirm
    with (
        mock.patch("sync.tasks.retention_job.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        post_setting(admin_client, "0", [], confirmed=True)
    delay.assert_called_once_with(synced.pk)
    Connection.objects.create(name="not connected")  # the daily task skips it

    assert retention_job() == len(before)

    assert tracking(sf_sandbox) == {}
    assert not synced_keys(synced)
    operations = [job.operation for job in sf_sandbox.app.bulk_jobs.jobs.values()]
    assert operations.count("hardDelete") == 2
    recycled = sf_sandbox.app.records(TRACKING_OBJECT, include_deleted=True)
    assert len(recycled) == len(before) - 500  # only the small remainder went to the recycle bin
    (message,) = retention_messages()
    assert f"deleted {len(before)} tracking records" in message.message
    assert "keeping no tracking history" in message.message


def _fast_bulk_client(connection, calls=None):
    from sync.services.api import salesforce_client

    client = salesforce_client(connection, calls)
    client._bulk.poll_seconds = 0.05  # the sandbox finishes jobs at once
    return client


def test_widening_asks_nothing_and_deletes_nothing(
    admin_client, synced, sf_sandbox, run_task_at_once, django_capture_on_commit_callbacks
):
    before = tracking(sf_sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_setting(admin_client, "3650", ALL_TYPES)
    assert response.redirect_chain[-1][0] == "/sync/storage/"
    run_task_at_once.assert_not_called()
    assert tracking(sf_sandbox) == before


# The job on its own ------------------------------------------------------------------------------
def test_count_outside_window_matches_the_records_retention_deletes(synced, sf_sandbox):
    now = timezone.now()
    options = SyncOptions(
        connection=synced, days_to_keep=60, email_types_to_keep=["Opened", "Clicked"]
    )
    before = tracking(sf_sandbox)
    expected = sum(is_outside(r, 60, ["Opened", "Clicked"], now) for r in before.values())

    assert retention.count_outside_window(synced, options, now=now) == expected

    SyncOptions.objects.filter(connection=synced).update(
        days_to_keep=60, email_types_to_keep=["Opened", "Clicked"]
    )
    assert retention.run_retention(synced, now=now) == expected
    assert_retention_kept_exactly(sf_sandbox, before, 60, ["Opened", "Clicked"], now, synced)


def test_nothing_outside_the_window_deletes_nothing_and_says_so(connection, sf_sandbox):
    assert retention.run_retention(connection) == 0
    (message,) = retention_messages()
    assert message.level == Level.INFO
    assert "deleted 0 tracking records" in message.message


def test_salesforce_failure_is_a_warning_with_a_support_code_not_a_crash(connection, sf_sandbox):
    SyncOptions.objects.filter(connection=connection).update(days_to_keep=0)
    sf_sandbox.set_faults("503:x100@query")

    assert retention.run_retention(connection) == 0

    (message,) = retention_messages()
    assert message.level == Level.WARNING
    assert message.support_code == "CMS-230"
    assert "Salesforce is unavailable" in message.message


def test_refused_deletes_are_reported_and_still_remembered(synced, sf_sandbox):
    SyncOptions.objects.filter(connection=synced).update(days_to_keep=0)
    before = tracking(sf_sandbox)
    sf_sandbox.set_faults("reject:x3@composite.sobjects.delete")

    deleted = retention.run_retention(synced)

    left = tracking(sf_sandbox)
    assert len(left) == 3
    assert deleted == len(before) - 3
    assert set(left) == synced_keys(synced)  # what is still in Salesforce is still remembered
    (message,) = retention_messages()
    assert message.level == Level.WARNING
    assert message.support_code == "CMS-220"
    assert f"deleted {deleted} tracking records" in message.message
    assert "refused to delete 3" in message.message
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in message.details
