"""Standing field mappings: a list view kept in step with a CM list after its import."""

from __future__ import annotations

import datetime as dt

import pytest

from maintenance.models import AuditEntry, MaintenanceMessage
from sync.models import ImportJob, RunStatus, StandingMapping
from sync.services import imports, standing
from sync.services.api import salesforce_client
from tests.sync.conftest import cm_client, set_options
from tests.sync.test_import_wizard import (
    active_members,
    add_contacts,
    new_list,
    source_named,
)

pytestmark = pytest.mark.django_db(transaction=True)


def kept_import(connection, cm_sandbox, custom_fields=()):
    """Import All Contacts into a fresh list with "keep in step"; returns the finished job."""
    destination, keys = new_list(
        connection, cm_sandbox, fields=[(n, "Text") for n, _ in custom_fields]
    )
    custom = {keys[name]: path for name, path in custom_fields}
    plan = imports.ImportPlan(
        source_named(connection, "All Contacts"),
        destination,
        "Email",
        ("Name",),
        custom,
        "Yes",
        keep_in_step=True,
    )
    job = imports.start_import(connection, None, plan, enqueue=False)
    return imports.execute_import(job.pk), keys


def a_moment_later(sf_sandbox, seconds: int = 2) -> None:
    """Salesforce stamps changes to the second; the tests' edits would share the import's."""
    sf_sandbox.app.store.now = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def run_mappings() -> list[ImportJob]:
    return [imports.execute_import(job.pk) for job in standing.run_standing_mappings(enqueue=False)]


def update_contact(connection, email: str, **values) -> None:
    with salesforce_client(connection) as sf:
        rows = list(sf.query_iter(f"SELECT Id FROM Contact WHERE Email = '{email}'"))
        results = sf.update("Contact", [{"Id": rows[0]["Id"], **values}])
    assert all(r.success for r in results), results


def field_value(member: dict, name: str) -> str | None:
    """A custom field's value as CM reports it (keyed by the field's name)."""
    values = [f["Value"] for f in member["CustomFields"] if f["Key"] == name]
    return values[0] if values else None


def test_changed_and_new_people_are_sent_and_nobody_else(connection, cm_sandbox, sf_sandbox):
    cm = cm_client(cm_sandbox)
    first, _ = kept_import(connection, cm_sandbox, custom_fields=[("Job title", "Title")])
    mapping = StandingMapping.objects.get()
    assert first.status == RunStatus.SUCCEEDED and first.standing == mapping
    newest = max(c["LastModifiedDate"] for c in sf_sandbox.app.records("Contact"))
    assert mapping.cursor.strftime("%Y-%m-%dT%H:%M:%S") == newest[:19]
    assert run_mappings() == []  # nothing changed since the import

    members = active_members(cm, first.list_id)
    someone = sorted(members)[0]
    a_moment_later(sf_sandbox)
    update_contact(connection, someone, Title="Head Roaster")
    add_contacts(connection, [{"LastName": "Newcomer", "Email": "new.comer@example.org"}])
    [job] = run_mappings()

    assert job.status == RunStatus.SUCCEEDED
    assert job.changed_since is not None
    assert job.rows_read == 2
    assert (job.new_subscribers, job.existing_subscribers) == (1, 1)
    members = active_members(cm, first.list_id)
    assert field_value(members[someone], "Job title") == "Head Roaster"
    assert members["new.comer@example.org"]["Name"] == "Newcomer"
    assert StandingMapping.objects.get().cursor > mapping.cursor
    assert run_mappings() == []


def test_an_opt_out_is_not_sent_as_a_change(connection, cm_sandbox, sf_sandbox):
    cm = cm_client(cm_sandbox)
    first, _ = kept_import(connection, cm_sandbox)
    someone = sorted(active_members(cm, first.list_id))[0]
    a_moment_later(sf_sandbox)
    update_contact(connection, someone, HasOptedOutOfEmail=True, Title="Gone quiet")
    [job] = run_mappings()
    assert job.skipped_opted_out == 1
    assert job.new_subscribers + job.existing_subscribers == 0


def test_paused_mappings_and_disabled_triggers_send_nothing(
    connection, cm_sandbox, sf_sandbox, admin_user
):
    kept_import(connection, cm_sandbox)
    a_moment_later(sf_sandbox)
    add_contacts(connection, [{"LastName": "Waiting", "Email": "waiting@example.org"}])
    mapping = StandingMapping.objects.get()
    standing.set_active(mapping, False, admin_user)
    assert run_mappings() == []
    standing.set_active(mapping, True, admin_user)
    set_options(connection, disable_triggers=True)
    assert run_mappings() == []
    set_options(connection, disable_triggers=False)
    [job] = run_mappings()
    assert job.new_subscribers == 1
    audit = list(AuditEntry.objects.filter(area="Field mappings").values_list("before", "after"))
    assert ("kept in step", "paused") in audit and ("paused", "kept in step") in audit


def test_a_failed_run_leaves_the_cursor_and_the_next_run_sends_again(
    connection, cm_sandbox, sf_sandbox
):
    cm = cm_client(cm_sandbox)
    first, _ = kept_import(connection, cm_sandbox)
    cursor = StandingMapping.objects.get().cursor
    a_moment_later(sf_sandbox)
    add_contacts(connection, [{"LastName": "Patient", "Email": "patient@example.org"}])
    cm_sandbox.set_faults("500:x10@subscribers.import")
    [failed] = run_mappings()
    cm_sandbox.set_faults("")
    assert failed.status == RunStatus.FAILED
    assert StandingMapping.objects.get().cursor == cursor
    [again] = run_mappings()
    assert again.status == RunStatus.SUCCEEDED
    assert "patient@example.org" in active_members(cm, first.list_id)


def test_a_first_import_that_failed_is_redone_in_full(connection, cm_sandbox):
    cm = cm_client(cm_sandbox)
    cm_sandbox.set_faults("500:x10@subscribers.import")
    first, _ = kept_import(connection, cm_sandbox)
    cm_sandbox.set_faults("")
    assert first.status == RunStatus.FAILED
    assert StandingMapping.objects.get().cursor is None
    [full] = run_mappings()
    assert full.changed_since is None
    assert full.status == RunStatus.SUCCEEDED
    assert full.new_subscribers == len(active_members(cm, first.list_id)) > 0
    assert StandingMapping.objects.get().cursor is not None


def test_only_list_views_can_be_kept_in_step(connection, cm_sandbox):
    destination, _ = new_list(connection, cm_sandbox)
    plan = imports.ImportPlan(
        source_named(connection, "Newsletter Contacts"),
        destination,
        "EMAIL",
        (),
        {},
        "Yes",
        keep_in_step=True,
    )
    with pytest.raises(imports.ImportRefused, match="Only a list view"):
        imports.start_import(connection, None, plan, enqueue=False)
    assert not StandingMapping.objects.exists()


def test_the_change_filter_leaves_out_rows_sent_with_the_cursors_stamp():
    from sync.services.import_sources import Changes

    at = dt.datetime(2026, 11, 27, 15, 0, 4, tzinfo=dt.UTC)
    assert Changes(at, []).condition() == "LastModifiedDate >= 2026-11-27T15:00:04Z"
    assert Changes(at, None).condition() == "LastModifiedDate >= 2026-11-27T15:00:05Z"
    assert Changes(at, ["003A", "003B"]).condition() == (
        "(LastModifiedDate >= 2026-11-27T15:00:05Z OR (LastModifiedDate >= 2026-11-27T15:00:04Z"
        " AND Id NOT IN ('003A', '003B')))"
    )


def test_a_list_view_that_is_gone_pauses_its_mapping_once(connection, cm_sandbox, sf_sandbox):
    kept_import(connection, cm_sandbox)
    mapping = StandingMapping.objects.get()
    del sf_sandbox.app.list_views[mapping.source_id]
    assert run_mappings() == []
    assert run_mappings() == []
    assert not StandingMapping.objects.get().active
    [message] = MaintenanceMessage.objects.filter(job="field mappings")
    assert message.support_code == "CMS-400"
    assert "no longer has that list view" in message.message
