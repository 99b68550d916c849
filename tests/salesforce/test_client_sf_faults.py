"""Salesforce client against the SF sandbox: injected faults, retries and the daily limit."""

from __future__ import annotations

import pytest

from sync.clients.errors import (
    PermanentError,
    RateLimited,
    RequestLimitExceeded,
    TransientError,
)
from sync.clients.salesforce import SalesforceClient


def _client(sandbox, **kwargs) -> SalesforceClient:
    access, refresh = sandbox.issue_token()
    options = {
        "refresh_token": refresh,
        "login_url": sandbox.url,
        "client_id": sandbox.client_id,
        "ca_bundle": sandbox.ca_file,
        "backoff_base": 0.01,
        "bulk_poll_seconds": 0.05,
        "max_retries": 3,
        **kwargs,
    }
    return SalesforceClient(sandbox.url, access, **options)


def _contacts(n: int) -> list[dict]:
    return [{"LastName": f"Person {i}", "Email": f"p{i}@example.com"} for i in range(n)]


@pytest.mark.parametrize("kind", ["500", "503", "drop"])
def test_server_errors_and_dropped_connections_are_retried(sf_empty_sandbox, kind):
    client = _client(sf_empty_sandbox)
    sf_empty_sandbox.set_faults(f"{kind}:x2@composite.sobjects.create")
    results = client.create("Contact", _contacts(3))
    assert all(r.success for r in results)
    assert client.calls.by_endpoint() == {"composite.sobjects.create": 3}
    assert sf_empty_sandbox.stats() == {"composite.sobjects.create": 3}
    assert len(sf_empty_sandbox.app.records("Contact")) == 3


def test_a_slow_answer_times_out_and_is_retried(sf_empty_sandbox):
    client = _client(sf_empty_sandbox, timeout=0.3)
    sf_empty_sandbox.set_faults("slow:x1@limits", slow_seconds=1.5)
    assert client.limits()["DailyApiRequests"]["Max"] > 0
    assert client.calls.by_endpoint() == {"limits": 2}


def test_persistent_server_errors_become_a_transient_error(sf_empty_sandbox):
    client = _client(sf_empty_sandbox, max_retries=2)
    sf_empty_sandbox.set_faults("503:x10@query")
    with pytest.raises(TransientError) as caught:
        client.query_count("SELECT COUNT() FROM Contact")
    assert (caught.value.code, caught.value.status) == ("SERVER_UNAVAILABLE", 503)
    assert not isinstance(caught.value, PermanentError)
    assert client.calls.by_endpoint() == {"query": 3}


def test_a_dead_connection_after_all_retries_is_a_transient_error(sf_empty_sandbox):
    client = _client(sf_empty_sandbox, max_retries=1)
    sf_empty_sandbox.set_faults("drop:x5@limits")
    with pytest.raises(TransientError) as caught:
        client.limits()
    assert "did not answer" in str(caught.value)
    assert sf_empty_sandbox.stats() == {"limits": 2}


def test_client_errors_are_never_retried(sf_empty_sandbox):
    client = _client(sf_empty_sandbox)
    with pytest.raises(PermanentError) as caught:
        client.query_count("SELECT COUNT() FROM NoSuchThing__c")
    assert caught.value.code == "INVALID_TYPE"
    assert caught.value.status == 400
    assert client.calls.by_endpoint() == {"query": 1}


def test_throttling_is_retried_after_the_servers_retry_after(sf_empty_sandbox):
    client = _client(sf_empty_sandbox)
    slept: list[float] = []
    client._session._sleep = slept.append
    sf_empty_sandbox.set_faults("429:x2@limits", retry_after=7)
    assert client.limits()
    assert slept == [7, 7]  # the server's Retry-After, not our own back-off
    assert client.calls.by_endpoint() == {"limits": 3}


def test_throttling_that_outlasts_the_retries_is_rate_limited(sf_empty_sandbox):
    client = _client(sf_empty_sandbox)
    client._session._sleep = lambda seconds: None
    sf_empty_sandbox.set_faults("429:x9@limits", retry_after=7)
    with pytest.raises(RateLimited) as caught:
        client.limits()
    assert caught.value.retry_after == 7
    assert client.calls.by_endpoint() == {"limits": 4}  # the first try and 3 retries
    sf_empty_sandbox.set_faults("")
    assert client.limits()  # the daily-limit stop is not triggered by throttling


def test_reject_faults_fail_single_records_not_the_call(sf_empty_sandbox):
    client = _client(sf_empty_sandbox)
    sf_empty_sandbox.set_faults("reject:x1@composite.sobjects.create")
    results = client.create("Contact", _contacts(3), key_field="Email")
    assert [(r.key, r.success) for r in results] == [
        ("p0@example.com", False),
        ("p1@example.com", True),
        ("p2@example.com", True),
    ]
    assert results[0].errors[0].code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in results[0].error_text


def test_the_daily_limit_stops_the_client_without_another_call(make_sf_sandbox):
    sandbox = make_sf_sandbox(seed="empty", sf_daily_api_limit=3)
    client = _client(sandbox)
    for _ in range(3):
        client.limits()
    with pytest.raises(RequestLimitExceeded) as caught:
        client.create("Contact", _contacts(2))
    error = caught.value
    assert error.code == "REQUEST_LIMIT_EXCEEDED"
    assert error.status == 403
    assert "daily API request limit" in str(error)
    assert sandbox.stats() == {"limits": 3, "composite.sobjects.create": 1}

    for call in (
        lambda: client.limits(),
        lambda: client.upsert("Contact", "Id", _contacts(1)),
        lambda: list(client.query_iter("SELECT Id FROM Contact")),
        lambda: client.hard_delete("Contact", ["003000000000001AAA"]),
    ):
        with pytest.raises(RequestLimitExceeded):
            call()
    assert sandbox.stats() == {"limits": 3, "composite.sobjects.create": 1}
    assert client.calls.total == 4
    assert sandbox.app.records("Contact") == []


def test_the_daily_limit_stops_a_bulk_job_midway_without_cleanup_calls(make_sf_sandbox):
    sandbox = make_sf_sandbox(seed="empty")
    client = _client(sandbox)
    sandbox.app.usage.used = sandbox.app.usage.maximum - 1  # room for exactly one call
    with pytest.raises(RequestLimitExceeded):
        client.upsert_bulk("Contact", "Id", _contacts(5))
    assert sandbox.stats() == {"bulk2.ingest.create": 1, "bulk2.ingest.upload": 1}


def test_an_unreachable_org_is_a_transient_error(sf_empty_sandbox):
    access, _ = sf_empty_sandbox.issue_token()
    client = SalesforceClient(
        "https://127.0.0.1:9",
        access,
        ca_bundle=sf_empty_sandbox.ca_file,
        max_retries=1,
        backoff_base=0.01,
    )
    with pytest.raises(TransientError):
        client.limits()
    assert client.calls.by_endpoint() == {"limits": 2}


def test_an_untrusted_certificate_is_a_permanent_error(sf_empty_sandbox):
    access, _ = sf_empty_sandbox.issue_token()
    client = SalesforceClient(sf_empty_sandbox.url, access)  # system CAs only
    with pytest.raises(PermanentError) as caught:
        client.limits()
    assert "TLS" in str(caught.value)
    assert client.calls.total == 1
