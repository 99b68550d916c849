"""An Admin imports a Salesforce list view into a Campaign Monitor list in a real browser."""

from __future__ import annotations

import pytest

from sync.models import ImportJob, RunStatus
from sync.services import imports
from tests.browser.test_sync_settings import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_maps_fields_starts_an_import_and_watches_it_finish(
    live_server, page, admin_user, connection, monkeypatch
):
    queued: list[int] = []
    # the "worker" runs it below
    monkeypatch.setattr("sync.tasks.run_import.delay", queued.append)
    sign_in(page, live_server.url, admin_user)
    page.click("nav >> text=Import")
    page.wait_for_selector("[data-testid=import-start-form]")
    page.select_option("#id_source", label="All Open Leads")
    destination = page.locator("#id_destination option").nth(1)
    list_name = destination.inner_text()
    page.select_option("#id_destination", index=1)
    page.click("button:has-text('Continue to field mapping')")

    page.wait_for_selector("[data-testid=import-map-form]")
    assert f"to list “{list_name}”" in page.inner_text("[data-testid=import-map]")
    assert page.locator("#id_email option:checked").inner_text().startswith("Email")
    page.select_option("#id_email", "")
    page.click("button:has-text('Start import')")
    page.wait_for_selector("[data-testid=email-error]")
    assert "holds the e-mail address" in page.inner_text("[data-testid=email-error]")

    page.select_option("#id_email", "Email")
    page.select_option("#id_consent_to_track", "Yes")
    page.click("button:has-text('Start import')")
    page.wait_for_selector("[data-testid=import-summary]")
    assert "You can leave this page" in page.inner_text("[data-testid=import-summary]")
    job = ImportJob.objects.get()
    assert queued == [job.pk]

    imports.execute_import(job.pk)  # the page polls, then reloads when the job is done
    page.wait_for_selector("[data-testid=import-summary] h2:has-text('Succeeded')")
    job.refresh_from_db()
    assert job.status == RunStatus.SUCCEEDED and job.new_subscribers > 0
    new = page.inner_text("[data-testid=new-subscribers]")
    assert new == str(job.new_subscribers)
    assert "Run again" in page.inner_text("[data-testid=import-summary]")
