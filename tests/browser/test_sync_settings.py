"""An Admin uses Sync Settings in a real browser: frequency, Sync now, the Full sync and
Disconnect dialogs."""

from __future__ import annotations

from unittest import mock

import pytest
from django_celery_beat.models import PeriodicTask

from conftest import PASSWORD
from sync.models import RunKind, SyncRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url: str, user) -> None:
    page.goto(base_url + "/sync/settings/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/sync/settings/")


def flash(page) -> str:
    return page.inner_text("ul.flash")


def test_admin_changes_frequency_syncs_now_and_cancels_a_full_sync(
    live_server, page, admin_user, connection
):
    sign_in(page, live_server.url, admin_user)
    assert page.inner_text("h1.page-title") == "Sync Settings"
    assert "Hourly (recommended)" in page.inner_text("#id_frequency option:checked")

    page.select_option("#id_frequency", "30")
    page.click("[data-testid=frequency-form] button[type=submit]")
    page.wait_for_selector("ul.flash")
    assert "Import frequency saved: Every 30 minutes." in flash(page)
    task = PeriodicTask.objects.get(name=connection.beat_task_name)
    assert task.interval.every == 30

    with mock.patch("sync.tasks.primary_sync.delay") as delay:
        page.click("button:has-text('Sync now')")
        page.wait_for_selector("[data-testid=run-progress]")
        assert "Sync started" in flash(page)
        assert "You can leave this page" in page.inner_text("[data-testid=run-progress]")
        run = SyncRun.objects.get()
        delay.assert_called_once_with(run.pk)

        page.click("[data-testid=more-actions] summary")
        page.click("button:has-text('Full Campaign Monitor Sync')")
        dialog = page.locator("#full-sync-dialog")
        dialog.wait_for(state="visible")
        assert "CMS_Suppression__c" in dialog.inner_text()
        assert "never" in dialog.inner_text()
        dialog.locator("button:has-text('Cancel')").click()
        dialog.wait_for(state="hidden")

    assert SyncRun.objects.count() == 1
    assert not SyncRun.objects.filter(kind=RunKind.FULL).exists()


def test_admin_confirms_a_full_sync_and_a_disconnect_in_their_dialogs(
    live_server, page, admin_user, connection
):
    """The dialogs send their own confirmation token; the disconnect cancels the queued run."""
    sign_in(page, live_server.url, admin_user)
    with mock.patch("sync.tasks.primary_sync.delay"):
        page.click("[data-testid=more-actions] summary")
        page.click("button:has-text('Full Campaign Monitor Sync')")
        dialog = page.locator("#full-sync-dialog")
        dialog.wait_for(state="visible")
        dialog.locator("button:has-text('Remove and re-import')").click()
        page.wait_for_selector("ul.flash")
        assert "Full Campaign Monitor Sync started" in flash(page)
    run = SyncRun.objects.get(kind=RunKind.FULL)

    page.click("[data-testid=more-actions] summary")
    page.click("button:has-text('Disconnect from Campaign Monitor')")
    dialog = page.locator("#disconnect-dialog")
    dialog.wait_for(state="visible")
    dialog.locator("button:has-text('Disconnect')").click()
    page.wait_for_selector("[data-testid=connect-cm]")
    assert "Disconnected from Campaign Monitor" in flash(page)
    assert f"Cancelled run {run.pk}" in flash(page)
    run.refresh_from_db()
    assert run.get_status_display() == "Cancelled"
