"""The import wizard's screens: choose, map, start, follow; validation and roles."""

from __future__ import annotations

import html
import re
from unittest import mock
from urllib.parse import urlencode

import pytest

from maintenance.models import AuditEntry
from sync.models import ImportJob, RunStatus, StandingMapping
from sync.services import imports
from sync.services.api import campaign_monitor_client, salesforce_client
from sync.services.import_sources import available_sources
from tests.sync.conftest import set_options

pytestmark = pytest.mark.django_db(transaction=True)


START_URL = "/sync/import/"
MAP_URL = "/sync/import/new/"


@pytest.fixture
def run_imports_here():
    """Started imports run in this process instead of on a Celery worker."""
    with mock.patch("sync.tasks.run_import.delay", side_effect=imports.execute_import):
        yield


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def keys_for(connection, source_label: str) -> tuple[str, str, str]:
    with salesforce_client(connection) as sf:
        source = next(s for s in available_sources(sf) if s.label == source_label)
    cm = campaign_monitor_client(connection)
    destination = imports.destination_lists(connection, cm)[0]
    return source.key, destination.key, destination.name


def map_url(source_key: str, list_key: str) -> str:
    return f"{MAP_URL}?{urlencode({'source': source_key, 'list': list_key})}"


def selected(text: str, name: str) -> str:
    """The selected option's value of a <select name=...>."""
    block = re.search(rf'<select name="{name}".*?</select>', text, re.S).group(0)
    match = re.search(r'<option value="([^"]*)"[^>]*selected', block)
    return match.group(1) if match else ""


def test_start_page_offers_the_orgs_list_views_reports_and_synced_lists(connection, admin_client):
    text = text_of(admin_client.get(START_URL))
    for label in ("All Contacts", "Opted Out Contacts", "All Open Leads", "Newsletter Contacts"):
        assert f">{label}</option>" in text
    assert 'optgroup label="Contact list views"' in text
    assert 'optgroup label="Reports"' in text
    cm = campaign_monitor_client(connection)
    for destination in imports.destination_lists(connection, cm):
        assert f'value="{destination.key}"' in text
    assert "No import has run yet." in text


def test_start_form_refuses_an_unknown_source_in_words(connection, admin_client):
    _, list_key, _ = keys_for(connection, "All Contacts")
    response = admin_client.get(START_URL, {"source": "report:00Onope", "destination": list_key})
    assert response.status_code == 200
    assert "That list view or report is not available" in text_of(response)


def test_valid_choice_goes_to_mapping_with_sensible_defaults(connection, admin_client):
    source_key, list_key, list_name = keys_for(connection, "All Contacts")
    response = admin_client.get(START_URL, {"source": source_key, "destination": list_key})
    assert response.status_code == 302
    assert response.url == map_url(source_key, list_key)
    text = text_of(admin_client.get(response.url))
    assert f"to list “{list_name}”" in text
    assert selected(text, "email") == "Email"
    assert selected(text, "name") == "Name"
    # A new connection triggers journeys (the guide's default), and the page says so.
    assert "“Trigger journeys for subscribers added by cmsync” is on" in text


def test_mapping_page_for_a_report_offers_first_plus_last_name(connection, admin_client):
    source_key, list_key, _ = keys_for(connection, "Newsletter Contacts")
    text = text_of(admin_client.get(map_url(source_key, list_key)))
    assert selected(text, "email") == "EMAIL"
    assert selected(text, "name") == "FIRST_NAME+LAST_NAME"


def test_mapping_without_email_is_refused(connection, admin_client):
    source_key, list_key, _ = keys_for(connection, "All Contacts")
    response = admin_client.post(map_url(source_key, list_key), {"consent_to_track": "Yes"})
    assert response.status_code == 400
    assert "Choose the Salesforce field that holds the e-mail address." in text_of(response)
    assert not ImportJob.objects.exists()


def test_mapping_a_field_salesforce_does_not_have_is_refused(connection, admin_client):
    source_key, list_key, _ = keys_for(connection, "All Contacts")
    response = admin_client.post(
        map_url(source_key, list_key),
        {"email": "Email", "name": "Nickname__c", "consent_to_track": "Yes"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in text_of(response)
    assert not ImportJob.objects.exists()


def test_tampered_source_on_the_mapping_page_goes_back_with_a_message(connection, admin_client):
    response = admin_client.get(map_url("listview:Contact:00Bnope", "1:nope"), follow=True)
    assert "Choose a list view or report and a list" in text_of(response)


def test_starting_an_import_runs_it_and_shows_the_outcome(
    connection, admin_client, admin_user, run_imports_here
):
    source_key, list_key, list_name = keys_for(connection, "All Open Leads")
    response = admin_client.post(
        map_url(source_key, list_key),
        {"email": "Email", "name": "Name", "consent_to_track": "Yes"},
        follow=True,
    )
    job = ImportJob.objects.get()
    assert response.redirect_chain[-1][0] == f"/sync/import/{job.pk}/"
    assert job.status == RunStatus.SUCCEEDED
    assert job.requested_by == admin_user
    text = text_of(response)
    assert f"Import {job.pk} started." in text
    assert f'data-testid="new-subscribers">{job.new_subscribers}<' in text
    assert job.imported > 0
    progress = admin_client.get(f"/sync/import/{job.pk}/progress/").json()
    assert progress["done"] is True
    assert progress["percent"] == 100
    assert progress["imported"] == job.imported
    history = text_of(admin_client.get(START_URL))
    assert "All Open Leads" in history and list_name in history


def test_run_again_starts_the_same_import(connection, admin_client, run_imports_here):
    source_key, list_key, _ = keys_for(connection, "All Open Leads")
    admin_client.post(
        map_url(source_key, list_key), {"email": "Email", "name": "Name", "consent_to_track": "No"}
    )
    first = ImportJob.objects.get()
    response = admin_client.post(f"/sync/import/{first.pk}/run-again/", follow=True)
    again = ImportJob.objects.exclude(pk=first.pk).get()
    assert response.redirect_chain[-1][0] == f"/sync/import/{again.pk}/"
    assert again.mapping == first.mapping
    assert again.consent_to_track == "No"
    assert again.new_subscribers == 0
    assert again.existing_subscribers == first.imported


def test_disable_triggers_blocks_the_wizard(connection, admin_client):
    set_options(connection, disable_triggers=True)
    text = text_of(admin_client.get(START_URL))
    assert "Disable triggers is on" in text
    assert re.search(r'data-testid="import-start-form".*?<fieldset[^>]*disabled', text, re.S)
    source_key, list_key, _ = keys_for(connection, "All Contacts")
    response = admin_client.post(
        map_url(source_key, list_key),
        {"email": "Email", "name": "Name", "consent_to_track": "Yes"},
        follow=True,
    )
    assert "Disable triggers is on" in text_of(response)
    assert not ImportJob.objects.exists()


def test_not_connected_says_what_to_do(admin_client):
    text = text_of(admin_client.get(START_URL))
    assert "Connect Campaign Monitor and Salesforce first." in text
    assert 'data-testid="import-start-form"' not in text


def test_support_may_look_but_not_start(connection, support_client):
    source_key, list_key, _ = keys_for(connection, "All Contacts")
    text = text_of(support_client.get(START_URL))
    assert "Your role may look at imports but not start them." in text
    response = support_client.post(
        map_url(source_key, list_key), {"email": "Email", "consent_to_track": "Yes"}
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_unreachable_salesforce_is_reported_in_words(connection, admin_client, sf_sandbox):
    sf_sandbox.set_faults("503:x50@listviews.list")
    response = admin_client.get(START_URL)
    sf_sandbox.set_faults("")
    assert response.status_code == 200
    assert "could not be reached to list what can be imported" in text_of(response)


def test_mapping_page_previews_the_first_rows_as_cm_would_get_them(
    connection, admin_client, sf_sandbox
):
    source_key, list_key, _ = keys_for(connection, "All Open Leads")
    text = text_of(admin_client.get(map_url(source_key, list_key)))
    preview = text.split('data-testid="import-preview"')[1]
    leads = sorted(
        (r for r in sf_sandbox.app.records("Lead") if not r.get("IsConverted")),
        key=lambda r: (r["Name"].lower(), r["Id"]),
    )
    for lead in leads[:5]:
        assert lead["Email"] in preview and lead["Name"] in preview
    assert leads[5]["Email"] not in preview


def test_preview_button_shows_the_new_mapping_without_starting(
    connection, admin_client, sf_sandbox
):
    source_key, list_key, _ = keys_for(connection, "Newsletter Contacts")
    response = admin_client.post(
        map_url(source_key, list_key),
        {"email": "EMAIL", "name": "LAST_NAME", "consent_to_track": "Yes", "action": "preview"},
    )
    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    text = text_of(response)
    assert selected(text, "name") == "LAST_NAME"
    preview = text.split('data-testid="import-preview"')[1]
    last_names = {c["Email"]: c["LastName"] for c in sf_sandbox.app.records("Contact")}
    rows = re.findall(r"<tr>\s*<td>([^<]*)</td><td>([^<]*)</td>", preview)
    assert len(rows) == 5
    assert all(name == last_names[email] for email, name in rows)


def test_keep_in_step_is_offered_for_list_views_only(connection, admin_client):
    source_key, list_key, _ = keys_for(connection, "All Contacts")
    text = text_of(admin_client.get(map_url(source_key, list_key)))
    assert 'name="keep_in_step"' in text
    report_key, _, _ = keys_for(connection, "Newsletter Contacts")
    text = text_of(admin_client.get(map_url(report_key, list_key)))
    assert 'name="keep_in_step"' not in text
    assert "Only a list view can be kept in step" in text


def test_an_import_kept_in_step_is_listed_and_can_be_paused_resumed_and_deleted(
    connection, admin_client, run_imports_here
):
    source_key, list_key, list_name = keys_for(connection, "All Open Leads")
    admin_client.post(
        map_url(source_key, list_key),
        {"email": "Email", "name": "Name", "consent_to_track": "Yes", "keep_in_step": "on"},
    )
    mapping = StandingMapping.objects.get()
    assert mapping.cursor is not None  # the first import finished
    row = f'data-testid="standing-{mapping.pk}"'
    text = text_of(admin_client.get(START_URL))
    assert row in text and "Kept in step</span>" in text.split(row)[1]

    admin_client.post(f"/sync/import/mappings/{mapping.pk}/pause/")
    assert not StandingMapping.objects.get().active
    assert "Paused</span>" in text_of(admin_client.get(START_URL)).split(row)[1]
    admin_client.post(f"/sync/import/mappings/{mapping.pk}/resume/")
    assert StandingMapping.objects.get().active
    response = admin_client.post(f"/sync/import/mappings/{mapping.pk}/delete/", follow=True)
    assert "is no longer kept in step" in text_of(response)
    assert not StandingMapping.objects.exists()
    audit = AuditEntry.objects.filter(area="Field mappings").values_list("after", flat=True)
    assert list(audit.order_by("pk")) == ["kept in step", "paused", "kept in step", "deleted"]
    assert admin_client.post(f"/sync/import/mappings/{mapping.pk}/explode/").status_code == 404


def test_support_cannot_change_standing_mappings(connection, support_client, cm_sandbox):
    cm = campaign_monitor_client(connection)
    destination = imports.destination_lists(connection, cm)[0]
    with salesforce_client(connection) as sf:
        source = next(s for s in available_sources(sf) if s.label == "All Contacts")
    plan = imports.ImportPlan(source, destination, "Email", (), {}, "Yes", keep_in_step=True)
    imports.start_import(connection, None, plan, enqueue=False)
    mapping = StandingMapping.objects.get()
    assert support_client.post(f"/sync/import/mappings/{mapping.pk}/pause/").status_code == 403
    assert StandingMapping.objects.get().active
    assert "Pause</button>" not in text_of(support_client.get(START_URL))
