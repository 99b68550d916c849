"""Bulk API 2.0 ingest through simple-salesforce's sf.bulk2, plus the raw job resources."""

from __future__ import annotations

import csv
import io

import pytest
from simple_salesforce.exceptions import SalesforceOperationError


@pytest.fixture
def sf(sf_empty_sandbox):
    sf = sf_empty_sandbox.salesforce()
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": "Contact.CM_Key__c",
            "Metadata": {
                "label": "CM Key",
                "type": "Text",
                "length": 80,
                "externalId": True,
                "unique": True,
            },
        },
    )
    return sf


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.slow
def test_upsert_of_50000_rows_reports_the_invalid_ones(sf, sf_empty_sandbox):
    rows = []
    for i in range(50_000):
        row = {"CM_Key__c": f"cm-{i}", "LastName": f"Person {i}", "Email": f"p{i}@example.com"}
        if i % 5000 == 7:
            row["Email"] = "not an address"
        if i % 5000 == 11:
            row["LastName"] = ""
        rows.append(row)

    result = sf.bulk2.Contact.upsert(records=rows, external_id_field="CM_Key__c", wait=0)

    assert result[0]["numberRecordsProcessed"] == 50_000
    assert result[0]["numberRecordsFailed"] == 20
    failed = _rows(sf.bulk2.Contact.get_failed_records(result[0]["job_id"]))
    assert len(failed) == 20
    by_key = {row["CM_Key__c"]: row for row in failed}
    assert by_key["cm-7"]["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:")
    assert by_key["cm-11"]["sf__Error"] == (
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    )
    assert by_key["cm-7"]["sf__Id"] == ""
    assert len(sf_empty_sandbox.app.records("Contact")) == 49_980

    rows[0]["LastName"] = "Renamed"
    again = sf.bulk2.Contact.upsert(records=rows[:3], external_id_field="CM_Key__c", wait=0)
    successful = _rows(sf.bulk2.Contact.get_successful_records(again[0]["job_id"]))
    assert [r["sf__Created"] for r in successful] == ["false", "false", "false"]
    assert sf.Contact.get_by_custom_id("CM_Key__c", "cm-0")["LastName"] == "Renamed"


def test_insert_results_have_ids_and_created_flags(sf):
    result = sf.bulk2.Contact.insert(
        records=[{"LastName": "A", "Email": "a@example.com"}, {"LastName": "B", "Email": "bad"}],
        wait=0,
    )

    job_id = result[0]["job_id"]
    successful = _rows(sf.bulk2.Contact.get_successful_records(job_id))
    failed = _rows(sf.bulk2.Contact.get_failed_records(job_id))
    assert [(r["sf__Created"], r["LastName"]) for r in successful] == [("true", "A")]
    assert successful[0]["sf__Id"].startswith("003")
    assert failed[0]["sf__Error"] == (
        "INVALID_EMAIL_ADDRESS:Email: invalid email address: bad:Email --"
    )
    assert _rows(sf.bulk2.Contact.get_unprocessed_records(job_id)) == []


def test_update_empty_cells_keep_values_and_na_clears_them(sf, sf_empty_sandbox):
    contact_id = sf.Contact.create({"LastName": "Keep", "Title": "Boss", "Email": "k@example.com"})[
        "id"
    ]

    sf.bulk2.Contact.update(
        csv_file=None,
        records=[{"Id": contact_id, "LastName": "", "Title": "#N/A", "Email": "new@example.com"}],
        wait=0,
    )

    stored = sf_empty_sandbox.app.get("Contact", contact_id)
    assert (stored["LastName"], stored["Title"], stored["Email"]) == (
        "Keep",
        None,
        "new@example.com",
    )


def test_delete_and_hard_delete_jobs(sf, sf_empty_sandbox):
    ids = [sf.Contact.create({"LastName": f"D{i}"})["id"] for i in range(3)]

    soft = sf.bulk2.Contact.delete(records=[{"Id": ids[0]}, {"Id": "003000000000000AAA"}], wait=0)
    sf.bulk2.Contact.hard_delete(records=[{"Id": ids[1]}], wait=0)

    assert soft[0]["numberRecordsFailed"] == 1
    assert sf_empty_sandbox.app.get("Contact", ids[0])["IsDeleted"] is True
    assert sf_empty_sandbox.app.get("Contact", ids[1]) is None
    assert sf_empty_sandbox.app.get("Contact", ids[2])["IsDeleted"] is False


def test_an_unknown_column_fails_the_job(sf):
    with pytest.raises(SalesforceOperationError) as caught:
        sf.bulk2.Contact.insert(records=[{"LastName": "A", "Shoe_Size__c": "9"}], wait=0)

    assert "Field name not found : Shoe_Size__c" in str(caught.value)


def test_reject_faults_fail_single_rows(sf, sf_empty_sandbox):
    sf_empty_sandbox.set_faults("reject:x2@bulk2.*")

    result = sf.bulk2.Contact.insert(records=[{"LastName": f"R{i}"} for i in range(5)], wait=0)

    assert result[0]["numberRecordsFailed"] == 2
    failed = _rows(sf.bulk2.Contact.get_failed_records(result[0]["job_id"]))
    assert {r["sf__Error"] for r in failed} == {
        "FIELD_CUSTOM_VALIDATION_EXCEPTION:cmsync sandbox validation rule: --"
    }


def _raw(sb, method, path, **kwargs):
    token, _ = sb.issue_token()
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    with sb.session() as session:
        return session.request(
            method, f"{sb.url}/services/data/v59.0/{path}", headers=headers, timeout=30, **kwargs
        )


def test_job_resources_answer_like_salesforce(sf, sf_empty_sandbox):
    sb = sf_empty_sandbox
    created = _raw(
        sb,
        "POST",
        "jobs/ingest",
        json={"object": "Contact", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"},
    )
    job = created.json()
    assert created.status_code == 200 and job["state"] == "Open" and job["id"].startswith("750")
    assert job["contentUrl"] == f"services/data/v59.0/jobs/ingest/{job['id']}/batches"

    upload = _raw(
        sb,
        "PUT",
        f"jobs/ingest/{job['id']}/batches",
        data=b"LastName\nOne\nTwo\n",
        headers={"Content-Type": "text/csv"},
    )
    assert upload.status_code == 201
    closed = _raw(sb, "PATCH", f"jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    sb.app.bulk_jobs.wait_idle()

    info = _raw(sb, "GET", f"jobs/ingest/{job['id']}").json()
    assert (info["state"], info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (
        "JobComplete",
        2,
        0,
    )
    listed = _raw(sb, "GET", "jobs/ingest").json()
    assert job["id"] in [j["id"] for j in listed["records"]]
    lower = _raw(sb, "GET", f"jobs/ingest/{job['id']}/unprocessedrecords/")
    assert lower.status_code == 200 and lower.headers["Content-Type"].startswith("text/csv")
    assert _raw(sb, "DELETE", f"jobs/ingest/{job['id']}").status_code == 204
    assert _raw(sb, "GET", f"jobs/ingest/{job['id']}").status_code == 404


def test_bad_job_requests_are_refused(sf, sf_empty_sandbox):
    sb = sf_empty_sandbox
    unknown = _raw(sb, "POST", "jobs/ingest", json={"object": "Nope__c", "operation": "insert"})
    no_ext = _raw(
        sb,
        "POST",
        "jobs/ingest",
        json={"object": "Contact", "operation": "upsert", "externalIdFieldName": "Email"},
    )
    job = _raw(sb, "POST", "jobs/ingest", json={"object": "Contact", "operation": "insert"}).json()
    _raw(sb, "PATCH", f"jobs/ingest/{job['id']}", json={"state": "Aborted"})
    late = _raw(sb, "PUT", f"jobs/ingest/{job['id']}/batches", data=b"LastName\nX\n")

    assert unknown.status_code == 400 and unknown.json()[0]["errorCode"] == "INVALIDJOB"
    assert no_ext.status_code == 400
    assert late.status_code >= 400


def test_bulk_query_pages_csv_through_locators(sf):
    sf.bulk2.Contact.insert(
        records=[{"LastName": f"Q{i:03d}", "Email": f"q{i}@example.com"} for i in range(250)],
        wait=0,
    )
    account_id = sf.Account.create({"Name": "Parent Co"})["id"]
    sf.Contact.create({"LastName": "Z-child", "AccountId": account_id})

    pages = list(
        sf.bulk2.Contact.query(
            "SELECT LastName, Email, Account.Name FROM Contact ORDER BY LastName",
            max_records=100,
            wait=0,
        )
    )

    assert len(pages) == 3
    rows = [row for page in pages for row in _rows(page)]
    assert len(rows) == 251
    assert list(rows[0]) == ["LastName", "Email", "Account.Name"]
    assert rows[0]["LastName"] == "Q000" and rows[0]["Account.Name"] == ""
    assert rows[-1]["Account.Name"] == "Parent Co"


def test_bulk_query_all_includes_deleted_rows(sf):
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)

    live = [
        r for page in sf.bulk2.Contact.query("SELECT Id FROM Contact", wait=0) for r in _rows(page)
    ]
    everything = [
        r
        for page in sf.bulk2.Contact.query_all("SELECT Id, IsDeleted FROM Contact", wait=0)
        for r in _rows(page)
    ]

    assert live == []
    assert everything == [{"Id": gone, "IsDeleted": "true"}]
