"""Salesforce client against the SF sandbox: Bulk API 2.0 writes with per-row results."""

from __future__ import annotations

import pytest

from sync.clients.errors import PermanentError
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import EXTERNAL_ID, OBJECTS_BY_NAME, SUBSCRIBER_OBJECT

FIELDS = (EXTERNAL_ID, "Email__c", "CM_List_ID__c", "State__c", "Joined_Date__c")


def _client(sandbox, **kwargs) -> SalesforceClient:
    access, refresh = sandbox.issue_token()
    options = {
        "refresh_token": refresh,
        "login_url": sandbox.url,
        "client_id": sandbox.client_id,
        "ca_bundle": sandbox.ca_file,
        "backoff_base": 0.01,
        "bulk_poll_seconds": 0.05,
        **kwargs,
    }
    return SalesforceClient(sandbox.url, access, **options)


@pytest.fixture
def org(sf_empty_sandbox):
    """An empty org with cmsync's subscriber object (a few of its fields)."""
    client = _client(sf_empty_sandbox)
    spec = OBJECTS_BY_NAME[SUBSCRIBER_OBJECT]
    client.tooling_create(
        "CustomObject", {"FullName": SUBSCRIBER_OBJECT, "Metadata": spec.metadata()}
    )
    for field in spec.fields:
        if field.name in FIELDS:
            body = {"FullName": f"{SUBSCRIBER_OBJECT}.{field.name}", "Metadata": field.metadata()}
            client.tooling_create("CustomField", body)
    sf_empty_sandbox.reset_stats()
    return sf_empty_sandbox


def _row(i: int, email: str | None = None) -> dict:
    email = email or f"p{i}@example.com"
    return {
        EXTERNAL_ID: f"list1:{email}",
        "Name": email,
        "Email__c": email,
        "CM_List_ID__c": "list1",
        "State__c": "Active",
    }


@pytest.mark.slow
def test_a_50000_row_bulk_upsert_reports_every_failed_row(org):
    client = _client(org)
    invalid = set(range(7, 50_000, 5_000))  # ten rows with a broken address

    def rows():  # a generator: the client must not need a list
        for i in range(50_000):
            yield _row(i, f"p{i}@@broken" if i in invalid else None)

    org.set_faults("reject:x3@bulk2.ingest.process")
    results = client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, rows())

    assert len(results) == 50_000
    assert [r.key for r in results[:3]] == [_row(i)[EXTERNAL_ID] for i in range(3)]
    failed = {i: r for i, r in enumerate(results) if not r.success}
    rejected = [
        i for i, r in failed.items() if r.errors[0].code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    ]
    bad_email = {i for i, r in failed.items() if r.errors[0].code == "INVALID_EMAIL_ADDRESS"}
    assert bad_email == invalid
    assert len(rejected) == 3
    assert len(failed) == 13
    assert failed[7].key == "list1:p7@@broken"
    assert failed[7].errors[0].fields == ["Email__c"]
    assert all(r.sf_id and r.created for r in results if r.success)
    assert len(org.app.records(SUBSCRIBER_OBJECT)) == 50_000 - 13
    assert client.calls.by_endpoint()["bulk2.ingest.create"] == 1
    assert "composite.sobjects.upsert" not in client.calls.by_endpoint()


def test_bulk_upsert_tells_inserts_from_updates_and_keeps_input_order(org):
    client = _client(org, bulk_threshold=10)
    first = client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, [_row(i) for i in range(0, 20, 2)])
    assert all(r.created for r in first)
    rows = [_row(i) for i in reversed(range(20))]
    results = client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, rows)
    assert [r.key for r in results] == [row[EXTERNAL_ID] for row in rows]
    assert [r.created for r in results] == [i % 2 == 1 for i in reversed(range(20))]
    by_key = {r.key: r.sf_id for r in first}
    assert all(r.sf_id == by_key[r.key] for r in results if not r.created)


def test_bulk_threshold_decides_between_collections_and_bulk(org):
    client = _client(org, bulk_threshold=10)
    client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, [_row(i) for i in range(9)])
    assert set(client.calls.by_endpoint()) == {"composite.sobjects.upsert"}
    client.calls.reset()
    client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, (_row(i) for i in range(10)))
    assert "composite.sobjects.upsert" not in client.calls.by_endpoint()
    assert client.calls.by_endpoint()["bulk2.ingest.upload"] == 1


def test_none_values_clear_fields_in_bulk(org):
    client = _client(org, bulk_threshold=1)
    client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, [{**_row(1), "Joined_Date__c": None}])
    [stored] = org.app.records(SUBSCRIBER_OBJECT)
    assert stored["Joined_Date__c"] is None
    assert stored["State__c"] == "Active"


def test_hard_delete_through_bulk_skips_the_recycle_bin(org):
    client = _client(org)
    made = client.upsert_collections(SUBSCRIBER_OBJECT, EXTERNAL_ID, [_row(i) for i in range(5)])
    ids = [r.sf_id for r in made]
    ghost = ids[0][:3] + "000000000000AAA"
    client.calls.reset()

    results = client.hard_delete(SUBSCRIBER_OBJECT, [ids[0], ghost, ids[1]])

    assert [(r.key, r.success) for r in results] == [(ids[0], True), (ghost, False), (ids[1], True)]
    assert results[1].errors[0].code
    remaining = {r["Id"] for r in org.app.records(SUBSCRIBER_OBJECT, include_deleted=True)}
    assert remaining == set(ids[2:])
    assert client.calls.by_endpoint()["bulk2.ingest.create"] == 1


def test_delete_at_the_threshold_uses_bulk_and_keeps_rows_in_the_recycle_bin(org):
    client = _client(org, bulk_threshold=3)
    made = client.upsert_collections(SUBSCRIBER_OBJECT, EXTERNAL_ID, [_row(i) for i in range(4)])
    results = client.delete(SUBSCRIBER_OBJECT, [r.sf_id for r in made[:3]])
    assert all(r.success for r in results)
    assert "bulk2.ingest.create" in client.calls.by_endpoint()
    deleted = [
        r for r in org.app.records(SUBSCRIBER_OBJECT, include_deleted=True) if r["IsDeleted"]
    ]
    assert len(deleted) == 3


def test_a_bulk_job_on_an_unknown_external_id_is_a_permanent_error(org):
    client = _client(org)
    with pytest.raises(PermanentError):
        client.upsert_bulk(SUBSCRIBER_OBJECT, "Nope__c", [{**_row(1), "Nope__c": "x"}])


def test_bulk_steps_are_retried_after_server_errors(org):
    client = _client(org)
    org.set_faults(
        "503:x1@bulk2.ingest.create,500:x1@bulk2.ingest.upload,503:x1@bulk2.ingest.results"
    )
    results = client.upsert_bulk(SUBSCRIBER_OBJECT, EXTERNAL_ID, [_row(i) for i in range(3)])
    assert all(r.success for r in results)
    counted = client.calls.by_endpoint()
    assert counted == org.stats()
    assert counted["bulk2.ingest.create"] == 2
    assert counted["bulk2.ingest.upload"] == 2
    assert counted["bulk2.ingest.results"] == 4
