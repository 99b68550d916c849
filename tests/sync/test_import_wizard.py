"""The import wizard's job: Salesforce list views and reports land in a Campaign Monitor list.

Everything runs over HTTPS against both sandboxes; what landed is read back from CM's API.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from maintenance.models import MaintenanceMessage
from sync.models import ImportJob, RunStatus
from sync.services import imports
from sync.services.api import salesforce_client
from sync.services.import_sources import ImportSource, available_sources
from tests.conftest import create_custom_field, create_list
from tests.sync.conftest import cm_client, set_options

pytestmark = pytest.mark.django_db(transaction=True)


def source_named(connection, label: str) -> ImportSource:
    with salesforce_client(connection) as sf:
        return next(s for s in available_sources(sf) if s.label == label)


def new_list(connection, cm_sandbox, title="Imported people", fields=(), keep_suppression=False):
    """A fresh list of the first client; its suppression list is emptied unless kept (the
    demo client suppresses a few Contacts' addresses)."""
    client = connection.clients.order_by("name").first()
    if not keep_suppression:
        cm = cm_client(cm_sandbox)
        for address in suppressed_in(cm, client):
            cm.unsuppress(client.cm_client_id, address)
    list_id = create_list(cm_sandbox, client.cm_client_id, title)
    keys = {name: create_custom_field(cm_sandbox, list_id, name, kind) for name, kind in fields}
    return imports.DestinationList(client, list_id, title), keys


def first_list(connection, cm):
    client = connection.clients.order_by("name").first()
    row = cm.get_lists(client.cm_client_id)[0]
    return imports.DestinationList(client, row["ListID"], row["Name"])


def run(
    connection, source, destination, *, email="Email", name=("Name",), custom=None, consent="Yes"
):
    plan = imports.ImportPlan(source, destination, email, tuple(name), custom or {}, consent)
    job = imports.start_import(connection, None, plan, enqueue=False)
    return imports.execute_import(job.pk)


def active_members(cm, list_id) -> dict[str, dict]:
    return {row["EmailAddress"].lower(): row for row in cm.iter_subscribers(list_id, "active")}


def suppressed_in(cm, client) -> set[str]:
    return {r["EmailAddress"].lower() for r in cm.iter_suppression_list(client.cm_client_id)}


def people(sf_sandbox, sobject, **where):
    return [
        r
        for r in sf_sandbox.app.records(sobject)
        if all(r.get(key) == value for key, value in where.items())
    ]


def opted_out(sf_sandbox) -> set[str]:
    rows = people(sf_sandbox, "Contact", HasOptedOutOfEmail=True)
    rows += people(sf_sandbox, "Lead", HasOptedOutOfEmail=True, IsConverted=False)
    return {r["Email"].lower() for r in rows if r.get("Email")}


def add_contacts(connection, rows):
    with salesforce_client(connection) as sf:
        results = sf.create("Contact", rows)
    assert all(r.success for r in results), results


def test_list_view_lands_every_contact_with_name_and_mapped_field(
    connection, cm_sandbox, sf_sandbox
):
    cm = cm_client(cm_sandbox)
    add_contacts(
        connection,
        [{"LastName": "Away", "Email": "away.person@example.org", "HasOptedOutOfEmail": True}],
    )
    destination, keys = new_list(
        connection, cm_sandbox, fields=[("Job title", "Text")], keep_suppression=True
    )
    job = run(
        connection,
        source_named(connection, "All Contacts"),
        destination,
        custom={keys["Job title"]: "Title"},
    )
    contacts = [c for c in people(sf_sandbox, "Contact") if c.get("Email")]
    blocked = opted_out(sf_sandbox)
    suppressed = suppressed_in(cm, destination.cm_client)
    expected = {
        c["Email"].lower(): c for c in contacts if c["Email"].lower() not in blocked | suppressed
    }
    refused = {c["Email"].lower() for c in contacts} & suppressed - blocked
    assert refused, "the demo client suppresses some Contacts' addresses"
    assert job.status == RunStatus.PARTLY_FAILED
    assert {f["email"].lower() for f in job.failures} == refused
    landed = active_members(cm, destination.list_id)
    assert set(landed) == set(expected)
    assert job.new_subscribers == len(expected)
    assert job.rows_read == len(people(sf_sandbox, "Contact"))
    assert job.skipped_opted_out == sum(1 for c in contacts if c["Email"].lower() in blocked) > 0
    for email, member in landed.items():
        contact = expected[email]
        assert member["Name"] in {contact["Name"], f"{contact['FirstName']} {contact['LastName']}"}
        titles = [f["Value"] for f in member["CustomFields"] if f["Key"] == "Job title"]
        assert titles == ([contact["Title"]] if contact.get("Title") else [])


def test_an_address_opted_out_on_a_lead_is_not_imported_from_contacts(
    connection, cm_sandbox, sf_sandbox
):
    add_contacts(connection, [{"LastName": "Twin", "Email": "twin.person@example.org"}])
    with salesforce_client(connection) as sf:
        sf.create(
            "Lead",
            [
                {
                    "LastName": "Twin",
                    "Company": "Twins",
                    "Email": "twin.person@example.org",
                    "HasOptedOutOfEmail": True,
                }
            ],
        )
    cm = cm_client(cm_sandbox)
    destination, _ = new_list(connection, cm_sandbox)
    job = run(connection, source_named(connection, "All Contacts"), destination)
    assert job.status == RunStatus.SUCCEEDED
    assert "twin.person@example.org" not in active_members(cm, destination.list_id)


def test_running_an_import_again_adds_nobody_twice(connection, cm_sandbox):
    cm = cm_client(cm_sandbox)
    destination, _ = new_list(connection, cm_sandbox)
    source = source_named(connection, "All Contacts")
    first = run(connection, source, destination)
    again = imports.execute_import(imports.run_again(first, None, enqueue=False)[0].pk)
    assert first.new_subscribers > 0
    assert again.status == RunStatus.SUCCEEDED
    assert again.new_subscribers == 0
    assert again.existing_subscribers == first.new_subscribers
    assert len(active_members(cm, destination.list_id)) == first.new_subscribers


def test_report_source_joins_first_and_last_name(connection, cm_sandbox, sf_sandbox):
    cm = cm_client(cm_sandbox)
    destination, _ = new_list(connection, cm_sandbox)
    job = run(
        connection,
        source_named(connection, "Newsletter Contacts"),
        destination,
        email="EMAIL",
        name=("FIRST_NAME", "LAST_NAME"),
    )
    assert job.status == RunStatus.SUCCEEDED, job.failures
    landed = active_members(cm, destination.list_id)
    contacts = {c["Email"].lower(): c for c in people(sf_sandbox, "Contact") if c.get("Email")}
    assert landed
    for email, member in landed.items():
        contact = contacts[email]
        assert member["Name"] == f"{contact.get('FirstName') or ''} {contact['LastName']}".strip()


def test_journeys_start_only_when_the_option_is_on(connection, cm_sandbox):
    cm = cm_client(cm_sandbox)
    destination = first_list(connection, cm)
    journey = next(
        j
        for j in cm.get_journeys(destination.cm_client.cm_client_id)
        if j["ListID"] == destination.list_id and j["Status"] == "Active"
    )
    first_email = cm.get_journey_summary(journey["JourneyID"])["Emails"][0]["EmailID"]

    def journey_recipients() -> set[str]:
        rows = cm.iter_journey_email_report(first_email, "recipients")
        return {r["EmailAddress"].lower() for r in rows}

    source = source_named(connection, "All Contacts")
    set_options(connection, trigger_journeys=False)
    add_contacts(connection, [{"LastName": "Quiet", "Email": "quiet.newcomer@example.org"}])
    run(connection, source, destination)
    assert "quiet.newcomer@example.org" in active_members(cm, destination.list_id)
    assert "quiet.newcomer@example.org" not in journey_recipients()

    set_options(connection, trigger_journeys=True)
    add_contacts(connection, [{"LastName": "Eager", "Email": "eager.newcomer@example.org"}])
    job = run(connection, source, destination)
    assert job.trigger_journeys
    assert "eager.newcomer@example.org" in journey_recipients()
    assert "quiet.newcomer@example.org" not in journey_recipients()


def test_addresses_cm_refuses_are_listed_and_the_rest_lands(connection, cm_sandbox, sf_sandbox):
    cm = cm_client(cm_sandbox)
    destination, _ = new_list(connection, cm_sandbox)
    add_contacts(connection, [{"LastName": "Blocked", "Email": "blocked.person@example.org"}])
    cm.suppress(destination.cm_client.cm_client_id, ["blocked.person@example.org"])
    job = run(connection, source_named(connection, "All Contacts"), destination)
    assert job.status == RunStatus.PARTLY_FAILED
    assert job.failed == 1
    assert job.failures[0]["email"] == "blocked.person@example.org"
    assert "suppress" in job.failures[0]["reason"].lower()
    assert job.new_subscribers == len(active_members(cm, destination.list_id)) > 0
    message = MaintenanceMessage.objects.get(support_code="CMS-410")
    assert "blocked.person@example.org" in message.details


def test_disable_triggers_refuses_to_start_and_stops_a_queued_import(connection, cm_sandbox):
    cm = cm_client(cm_sandbox)
    destination, _ = new_list(connection, cm_sandbox)
    source = source_named(connection, "All Contacts")
    plan = imports.ImportPlan(source, destination, "Email", ("Name",), {}, "Yes")
    queued = imports.start_import(connection, None, plan, enqueue=False)
    set_options(connection, disable_triggers=True)
    with pytest.raises(imports.ImportRefused, match="Disable triggers"):
        imports.start_import(connection, None, plan, enqueue=False)
    job = imports.execute_import(queued.pk)
    assert job.status == RunStatus.FAILED
    assert "Disable triggers" in job.error
    assert active_members(cm, destination.list_id) == {}


def test_a_deleted_list_fails_the_import_in_words(connection, cm_sandbox):
    destination, _ = new_list(connection, cm_sandbox)
    cm_sandbox.call("DELETE", f"/lists/{destination.list_id}.json")
    job = run(connection, source_named(connection, "All Contacts"), destination)
    assert job.status == RunStatus.FAILED
    assert "no longer exists" in job.error
    assert MaintenanceMessage.objects.filter(support_code="CMS-400").exists()


def test_cm_outage_fails_the_import_and_run_again_finishes_it(connection, cm_sandbox):
    cm = cm_client(cm_sandbox)
    destination, _ = new_list(connection, cm_sandbox)
    cm_sandbox.set_faults("500:x10@subscribers.import")
    job = run(connection, source_named(connection, "All Contacts"), destination)
    cm_sandbox.set_faults("")
    assert job.status == RunStatus.FAILED
    assert job.error == "Campaign Monitor is unavailable."
    assert MaintenanceMessage.objects.filter(support_code="CMS-110").exists()
    again = imports.execute_import(imports.run_again(job, None, enqueue=False)[0].pk)
    assert again.status == RunStatus.SUCCEEDED
    assert len(active_members(cm, destination.list_id)) == again.new_subscribers > 0


def test_an_import_is_recorded_with_who_and_what(connection, cm_sandbox, django_user_model):
    admin = django_user_model.objects.create_user("ada")
    destination, _ = new_list(connection, cm_sandbox)
    plan = imports.ImportPlan(
        source_named(connection, "All Open Leads"), destination, "Email", ("Name",), {}, "No"
    )
    job = imports.start_import(connection, admin, plan, enqueue=False)
    stored = ImportJob.objects.get(pk=job.pk)
    assert stored.requested_by == admin
    assert stored.source_object == "Lead"
    assert stored.mapping == {"email": "Email", "name": ["Name"], "custom_fields": {}}
    assert stored.status == RunStatus.QUEUED


def test_an_import_whose_worker_died_is_failed_by_the_sweeper(connection, cm_sandbox):
    destination, _ = new_list(connection, cm_sandbox)
    plan = imports.ImportPlan(
        source_named(connection, "All Contacts"), destination, "Email", ("Name",), {}, "Yes"
    )
    job = imports.start_import(connection, None, plan, enqueue=False)
    fresh = imports.start_import(connection, None, plan, enqueue=False)
    ImportJob.objects.filter(pk__in=[job.pk, fresh.pk]).update(status=RunStatus.RUNNING)
    later = timezone.now() + dt.timedelta(minutes=16)
    ImportJob.objects.filter(pk=fresh.pk).update(updated_at=later)

    assert imports.sweep_stale_imports(now=later) == 1

    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == RunStatus.FAILED
    assert "worker running it stopped" in job.error
    assert fresh.status == RunStatus.RUNNING
    assert MaintenanceMessage.objects.filter(support_code="CMS-400").count() == 1
    # The same import is still running: Run again answers with it and starts nothing.
    assert imports.run_again(job, None, enqueue=False) == (fresh, False)
    ImportJob.objects.filter(pk=fresh.pk).update(status=RunStatus.SUCCEEDED)
    again, created = imports.run_again(job, None, enqueue=False)
    assert created
    assert imports.execute_import(again.pk).status == RunStatus.SUCCEEDED


def test_an_unexpected_error_fails_the_import_in_words(connection, cm_sandbox, monkeypatch):
    destination, _ = new_list(connection, cm_sandbox)

    def broken(*args, **kwargs):
        raise RuntimeError("token=secret-value")

    monkeypatch.setattr(imports, "read_rows", broken)
    job = run(connection, source_named(connection, "All Contacts"), destination)
    assert job.status == RunStatus.FAILED
    assert job.error == "Unexpected error (RuntimeError); the details are in the log."
    message = MaintenanceMessage.objects.get(support_code="CMS-900")
    assert "secret-value" not in message.details + message.message
