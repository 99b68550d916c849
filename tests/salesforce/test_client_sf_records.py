"""Salesforce client against the SF sandbox over HTTPS: record writes, reads and accounting."""

from __future__ import annotations

import itertools

import pytest

from sync.clients.errors import NotFound, PermanentError
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import (
    CLIENT_OBJECT,
    EXTERNAL_ID,
    OBJECTS_BY_NAME,
    SUBSCRIBER_OBJECT,
)

# Only what these tests touch (ensure_schema itself is tested in test_client_sf_schema.py).
NEEDED = {
    CLIENT_OBJECT: (EXTERNAL_ID,),
    SUBSCRIBER_OBJECT: (EXTERNAL_ID, "Email__c", "CM_List_ID__c", "State__c"),
}


def _client(sandbox, **kwargs) -> SalesforceClient:
    access, refresh = sandbox.issue_token()
    options = {
        "refresh_token": refresh,
        "login_url": sandbox.url,
        "client_id": sandbox.client_id,
        "ca_bundle": sandbox.ca_file,
        "api_version": sandbox.api_version,
        "backoff_base": 0.01,
        "bulk_poll_seconds": 0.05,
        **kwargs,
    }
    return SalesforceClient(sandbox.url, access, **options)


@pytest.fixture
def org(sf_empty_sandbox):
    """An empty org with two of cmsync's objects, as defined in salesforce_schema."""
    client = _client(sf_empty_sandbox)
    for name, field_names in NEEDED.items():
        spec = OBJECTS_BY_NAME[name]
        client.tooling_create("CustomObject", {"FullName": name, "Metadata": spec.metadata()})
        for field in spec.fields:
            if field.name in field_names:
                body = {"FullName": f"{name}.{field.name}", "Metadata": field.metadata()}
                client.tooling_create("CustomField", body)
    sf_empty_sandbox.reset_stats()
    return sf_empty_sandbox


def _subscriber(i: int, email: str | None = None, **extra) -> dict:
    email = email or f"person{i}@example.com"
    return {
        EXTERNAL_ID: f"list1:{email.lower()}",
        "Name": email,
        "Email__c": email,
        "CM_List_ID__c": "list1",
        "State__c": "Active",
        **extra,
    }


def test_contacts_can_be_created_read_updated_and_deleted(sf_empty_sandbox):
    client = _client(sf_empty_sandbox)
    rows = [{"LastName": "Ada", "Email": "ada@example.com"}, {"LastName": "Bob"}]
    created = client.create("Contact", rows)
    assert [(r.key, r.success, r.created) for r in created] == [
        ("0", True, True),
        ("1", True, True),
    ]
    ada_id = created[0].sf_id
    assert ada_id.startswith("003")

    assert client.get("Contact", ada_id, ["Id", "LastName", "Email"]) == {
        "Id": ada_id,
        "LastName": "Ada",
        "Email": "ada@example.com",
    }
    [updated] = client.update("Contact", [{"Id": ada_id, "LastName": "Lovelace"}])
    assert (updated.key, updated.success, updated.created) == (ada_id, True, False)
    assert sf_empty_sandbox.app.get("Contact", ada_id)["LastName"] == "Lovelace"

    deleted = client.delete("Contact", [ada_id, created[1].sf_id])
    assert all(r.success for r in deleted)
    with pytest.raises(NotFound) as caught:
        client.get("Contact", ada_id)
    assert caught.value.code == "NOT_FOUND"


def test_create_reports_each_refused_row_under_the_callers_key(sf_empty_sandbox):
    client = _client(sf_empty_sandbox)
    rows = [
        {"LastName": "Ok", "Email": "ok@example.com", "Ref": "a"},
        {"LastName": "Bad", "Email": "not-an-address", "Ref": "b"},
    ]
    results = client.create("Contact", [{k: v for k, v in r.items() if k != "Ref"} for r in rows])
    assert [r.success for r in results] == [True, False]
    [error] = results[1].errors
    assert (error.code, error.fields) == ("INVALID_EMAIL_ADDRESS", ["Email"])
    assert results[1].sf_id is None


def test_upsert_maps_mixed_outcomes_back_to_the_right_rows(org):
    client = _client(org)
    [first] = client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, [_subscriber(5)])
    assert first.created
    org.set_faults("reject:x2@composite.sobjects.upsert")
    rows = [
        _subscriber(0),
        _subscriber(1),
        _subscriber(2, "broken-address"),
        _subscriber(3),
        _subscriber(4, "also@broken@example.com"),
        _subscriber(5, State__c="Unsubscribed"),
    ]

    results = client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, rows)

    assert [r.key for r in results] == [row[EXTERNAL_ID] for row in rows]
    codes = [r.errors[0].code if r.errors else "ok" for r in results]
    assert codes == [
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "INVALID_EMAIL_ADDRESS",
        "ok",
        "INVALID_EMAIL_ADDRESS",
        "ok",
    ]
    assert results[2].errors[0].fields == ["Email__c"]
    assert "validation rule" in results[0].errors[0].message
    assert (results[3].created, results[5].created) == (True, False)
    assert results[5].sf_id == first.sf_id
    assert org.app.get(SUBSCRIBER_OBJECT, first.sf_id)["State__c"] == "Unsubscribed"
    stored = {r[EXTERNAL_ID] for r in org.app.records(SUBSCRIBER_OBJECT)}
    assert stored == {"list1:person3@example.com", "list1:person5@example.com"}


def test_collections_upsert_sends_200_rows_a_call_and_keeps_input_order(org):
    client = _client(org)
    rows = [_subscriber(i) for i in range(450)]
    results = client.upsert_collections(SUBSCRIBER_OBJECT, EXTERNAL_ID, iter(rows))
    assert [r.key for r in results] == [row[EXTERNAL_ID] for row in rows]
    assert all(r.success and r.created for r in results)
    assert client.calls.by_endpoint() == {"composite.sobjects.upsert": 3}
    again = client.upsert_collections(SUBSCRIBER_OBJECT, EXTERNAL_ID, rows[:5])
    assert [r.created for r in again] == [False] * 5


def test_a_malformed_request_is_a_permanent_error_with_salesforces_code(org):
    client = _client(org)
    with pytest.raises(PermanentError) as caught:
        client.upsert(SUBSCRIBER_OBJECT, "No_Such_Field__c", [_subscriber(1)])
    assert caught.value.status in (400, 404)
    assert caught.value.code


def test_deleting_a_missing_record_fails_only_that_row(org):
    client = _client(org)
    [kept] = client.upsert(CLIENT_OBJECT, EXTERNAL_ID, [{EXTERNAL_ID: "c1", "Name": "Client"}])
    ghost = kept.sf_id[:3] + "000000000000AAA"
    results = client.delete(CLIENT_OBJECT, [kept.sf_id, ghost])
    assert [(r.key, r.success) for r in results] == [(kept.sf_id, True), (ghost, False)]
    assert results[1].errors[0].code in {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"}


def test_query_iter_streams_pages_without_attributes(org):
    client = _client(org, bulk_threshold=1000)
    rows = [{EXTERNAL_ID: f"client-{i:05d}", "Name": f"Client {i}"} for i in range(4500)]
    assert all(r.success for r in client.upsert(CLIENT_OBJECT, EXTERNAL_ID, rows))
    client.calls.reset()

    stream = client.query_iter(f"SELECT Id, {EXTERNAL_ID}, Name FROM {CLIENT_OBJECT}")
    first = next(stream)
    assert client.calls.by_endpoint() == {"query": 1}  # one page fetched so far
    assert set(first) == {"Id", EXTERNAL_ID, "Name"}
    remaining = list(stream)
    assert len(remaining) + 1 == 4500
    assert client.calls.by_endpoint() == {"query": 3}
    keys = {first[EXTERNAL_ID], *(row[EXTERNAL_ID] for row in remaining)}
    assert keys == {row[EXTERNAL_ID] for row in rows}

    assert client.query_count(f"SELECT COUNT() FROM {CLIENT_OBJECT}") == 4500
    count = client.query_count(
        f"SELECT COUNT() FROM {CLIENT_OBJECT} WHERE {EXTERNAL_ID} LIKE 'client-0000%'"
    )
    assert count == 10


def test_query_iter_can_include_deleted_rows(org):
    client = _client(org)
    results = client.upsert(CLIENT_OBJECT, EXTERNAL_ID, [{EXTERNAL_ID: "gone", "Name": "Gone"}])
    client.delete(CLIENT_OBJECT, [results[0].sf_id])
    soql = f"SELECT Id, IsDeleted FROM {CLIENT_OBJECT}"
    assert list(client.query_iter(soql)) == []
    assert list(client.query_iter(soql, include_deleted=True)) == [
        {"Id": results[0].sf_id, "IsDeleted": True}
    ]


def test_bad_soql_is_a_permanent_error_even_while_streaming(org):
    client = _client(org)
    with pytest.raises(PermanentError) as caught:
        list(client.query_iter("SELECT Nope__c FROM Contact"))
    assert caught.value.code == "INVALID_FIELD"


def test_describe_describe_global_and_limits(org):
    client = _client(org)
    described = client.describe(SUBSCRIBER_OBJECT)
    key = next(f for f in described["fields"] if f["name"] == EXTERNAL_ID)
    assert key["externalId"] and key["unique"]
    names = {o["name"] for o in client.describe_global()["sobjects"]}
    assert {"Contact", "Lead", SUBSCRIBER_OBJECT} <= names
    assert client.limits()["DailyApiRequests"]["Max"] == 100_000


def test_users_lists_active_users_for_the_owner_picker(sf_sandbox):
    client = _client(sf_sandbox)
    active = client.users()
    everyone = client.users(active_only=False)
    assert active and all(u["IsActive"] for u in active)
    assert set(active[0]) == {"Id", "Name", "Username", "Email", "IsActive"}
    assert any(not u["IsActive"] for u in everyone)
    assert {u["Id"] for u in active} < {u["Id"] for u in everyone}
    assert sf_sandbox.username in {u["Username"] for u in active}


def test_api_usage_follows_the_sforce_limit_info_header(sf_sandbox):
    client = _client(sf_sandbox)
    assert client.api_usage is None
    client.query_count("SELECT COUNT() FROM Contact")
    usage = sf_sandbox.app.usage
    assert client.api_usage == (usage.used, usage.maximum)
    assert client.api_usage.max == 100_000
    before = client.api_usage.used
    client.limits()
    assert client.api_usage.used == before + 1


def test_call_counts_match_the_sandboxs_own_statistics(org):
    client = _client(org, bulk_threshold=300)
    org.set_faults("503:x1@query")
    rows = [_subscriber(i) for i in range(320)]
    client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, rows)  # bulk: create, upload, close, polls...
    client.upsert(SUBSCRIBER_OBJECT, EXTERNAL_ID, rows[:250])  # 2 collection calls
    list(client.query_iter(f"SELECT Id FROM {SUBSCRIBER_OBJECT}"))  # 503 once, then retried
    client.describe(SUBSCRIBER_OBJECT)
    client.limits()
    org.expire_tokens()
    client.query_count(f"SELECT COUNT() FROM {SUBSCRIBER_OBJECT}")  # 401, refresh, retry

    counted = client.calls.by_endpoint()
    assert counted == org.stats()
    assert counted["query"] == 4
    assert counted["oauth.token"] == 1
    assert counted["composite.sobjects.upsert"] == 2
    assert counted["bulk2.ingest.results"] == 3
    assert client.calls.total == sum(counted.values())


def test_a_call_counter_can_be_shared_across_clients(org):
    shared = _client(org).calls
    for _ in range(2):
        _client(org, calls=shared).limits()
    assert shared.by_endpoint() == {"limits": 2}


def test_writes_accept_generators_and_empty_input(org):
    client = _client(org)
    assert client.upsert(CLIENT_OBJECT, EXTERNAL_ID, iter([])) == []
    assert client.delete(CLIENT_OBJECT, []) == []
    generated = ({EXTERNAL_ID: f"g{i}", "Name": f"G{i}"} for i in itertools.count())
    results = client.upsert(CLIENT_OBJECT, EXTERNAL_ID, itertools.islice(generated, 3))
    assert [r.key for r in results] == ["g0", "g1", "g2"]
    assert client.calls.total == 1
