"""Calls Salesforce completed but whose answer never arrived: repeating them changes nothing."""

from __future__ import annotations

import pytest

from tests.reliability.conftest import sf_login

ROWS = [{"CM_Key__c": f"client-{n}", "Name": f"Client {n}"} for n in range(12)]


@pytest.mark.parametrize(
    ("endpoint", "also"),
    [
        ("bulk2.ingest.create", ""),
        ("bulk2.ingest.upload", ""),
        # Closing the job: the resend is refused because the job already runs or finished.
        ("bulk2.ingest.state", ""),
        ("bulk2.ingest.state", ",503:x1@bulk2.ingest.get"),  # and the look at the job fails once
        ("bulk2.ingest.get", ""),
        ("bulk2.ingest.results", ""),
    ],
)
def test_a_bulk_upsert_survives_a_lost_answer_at_every_step(sf_org, endpoint, also):
    sf_org.set_faults(f"timeout:x1@{endpoint}{also}")
    client = sf_login(sf_org, bulk_threshold=5, bulk_poll_seconds=0.05, backoff_base=0.01)

    results = client.upsert("CMS_Client__c", "CM_Key__c", ROWS)

    assert [r.success for r in results] == [True] * len(ROWS)
    landed = sorted(r["CM_Key__c"] for r in sf_org.app.records("CMS_Client__c"))
    assert landed == sorted(row["CM_Key__c"] for row in ROWS)
    assert client.calls.by_endpoint()[endpoint] >= 2


def test_collections_upsert_repeated_after_a_lost_answer_lands_once(sf_org):
    sf_org.set_faults("timeout:x1@composite.sobjects.upsert")
    client = sf_login(sf_org, backoff_base=0.01)

    results = client.upsert("CMS_Client__c", "CM_Key__c", ROWS)

    assert all(r.success for r in results)
    assert len(sf_org.app.records("CMS_Client__c")) == len(ROWS)


def test_a_real_read_timeout_on_the_close_is_a_lost_answer_too(sf_org):
    sf_org.set_faults("timeout:x1@bulk2.ingest.state", timeout_seconds=0.6)
    client = sf_login(sf_org, bulk_threshold=5, bulk_poll_seconds=0.05, timeout=0.4)

    results = client.upsert("CMS_Client__c", "CM_Key__c", ROWS)

    assert all(r.success for r in results)
    assert client.calls.by_endpoint()["bulk2.ingest.state"] == 2
