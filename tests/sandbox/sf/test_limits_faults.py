"""API usage accounting, limits, and injected faults in Salesforce's shapes."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)


def _get(sb, path, token=None):
    token = token or sb.issue_token()[0]
    with sb.session() as session:
        return session.get(
            f"{sb.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )


def test_every_response_carries_sforce_limit_info(sf_empty_sandbox):
    token = sf_empty_sandbox.issue_token()[0]

    first = _get(sf_empty_sandbox, "/services/data/v59.0/limits", token)
    second = _get(sf_empty_sandbox, "/services/data/v60.0/sobjects/Nope__c/describe", token)

    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/100000"
    assert second.status_code == 404
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/100000"


def test_simple_salesforce_tracks_usage_and_limits(sf_empty_sandbox):
    sf = sf_empty_sandbox.salesforce()
    sf.query("SELECT Id FROM User")

    limits = sf.limits()

    assert sf.api_usage["api-usage"].used == 2
    assert limits["DailyApiRequests"] == {"Max": 100000, "Remaining": 99998}
    assert limits["DataStorageMB"]["Max"] >= limits["DataStorageMB"]["Remaining"]


def test_data_storage_counts_two_kilobytes_per_record(sf_empty_sandbox):
    sf = sf_empty_sandbox.salesforce()
    before = sf.limits()["DataStorageMB"]["Remaining"]

    sf.bulk2.Contact.insert(records=[{"LastName": f"S{i}"} for i in range(1024)], wait=0)

    assert sf.limits()["DataStorageMB"]["Remaining"] == before - 2


def test_past_the_daily_limit_requests_are_refused(make_sf_sandbox):
    sb = make_sf_sandbox(seed="empty", sf_daily_api_limit=3)
    sf = sb.salesforce()
    for _ in range(3):
        sf.query("SELECT Id FROM User")

    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM User")

    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert _oauth_still_works(sb), "OAuth calls do not count against the daily limit"


def _oauth_still_works(sb):
    with sb.session() as session:
        response = session.post(
            f"{sb.url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "username": sb.username,
                "password": sb.password,
            },
            timeout=10,
        )
    return response.status_code == 200 and response.json()["access_token"]


def test_versions_are_public_and_free(sf_empty_sandbox):
    with sf_empty_sandbox.session() as session:
        response = session.get(f"{sf_empty_sandbox.url}/services/data/", timeout=10)

    assert response.status_code == 200
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in (
        response.json()
    )
    assert sf_empty_sandbox.app.usage.used == 0


def test_503_fault_is_server_unavailable(sf_empty_sandbox):
    sf_empty_sandbox.set_faults("503:x1@query")
    sf = sf_empty_sandbox.salesforce()

    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM User")

    assert caught.value.status == 503
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_500_fault_is_unknown_exception(sf_empty_sandbox):
    sf_empty_sandbox.set_faults("500:x1@sobjects.create")
    sf = sf_empty_sandbox.salesforce()

    with pytest.raises(SalesforceGeneralError) as caught:
        sf.Contact.create({"LastName": "X"})

    assert caught.value.status == 500
    assert caught.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"


def test_429_fault_carries_retry_after(sf_empty_sandbox):
    sf_empty_sandbox.set_faults("429:x1@limits", retry_after=7)

    response = _get(sf_empty_sandbox, "/services/data/v59.0/limits")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_drop_fault_closes_the_connection(sf_empty_sandbox):
    sf_empty_sandbox.set_faults("drop:x1@limits")

    with pytest.raises(requests.ConnectionError):
        _get(sf_empty_sandbox, "/services/data/v59.0/limits")
    assert _get(sf_empty_sandbox, "/services/data/v59.0/limits").status_code == 200


def test_slow_fault_still_answers(sf_empty_sandbox):
    sf_empty_sandbox.set_faults("slow:x1@limits", slow_seconds=0.05)

    assert _get(sf_empty_sandbox, "/services/data/v59.0/limits").status_code == 200


def test_reject_fault_on_a_single_record_call(sf_empty_sandbox):
    sf_empty_sandbox.set_faults("reject:x1@sobjects.*")
    sf = sf_empty_sandbox.salesforce()

    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "Rejected"})

    assert caught.value.content == [
        {
            "message": "cmsync sandbox validation rule",
            "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        }
    ]
    assert sf_empty_sandbox.app.records("Contact") == []


def _reject_pattern(make_sf_sandbox, seed):
    sb = make_sf_sandbox(seed="empty", random_seed=seed, faults="reject:0.3@composite.*")
    sf = sb.salesforce()
    body = {
        "records": [{"attributes": {"type": "Contact"}, "LastName": f"N{i}"} for i in range(40)]
    }
    return [r["success"] for r in sf.restful("composite/sobjects", method="POST", json=body)]


def test_random_faults_are_reproducible_from_the_seed(make_sf_sandbox):
    first = _reject_pattern(make_sf_sandbox, 5)
    second = _reject_pattern(make_sf_sandbox, 5)

    assert first == second
    assert 0 < first.count(False) < 40


def test_stats_count_calls_per_route_name(sf_empty_sandbox):
    sf = sf_empty_sandbox.salesforce()
    sf_empty_sandbox.reset_stats()
    contact_id = sf.Contact.create({"LastName": "Counted"})["id"]
    sf.Contact.get(contact_id)
    sf.query("SELECT Id FROM Contact")

    stats = sf_empty_sandbox.stats()

    assert stats["sobjects.create"] == 1 and stats["sobjects.get"] == 1 and stats["query"] == 1
