"""sObject Collections and Composite through sf.restful, as the sync client calls them."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


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


def _contact(**values):
    return {"attributes": {"type": "Contact"}, **values}


def test_create_with_mixed_results_commits_the_good_ones(sf, sf_empty_sandbox):
    body = {
        "allOrNone": False,
        "records": [
            _contact(LastName="Good"),
            _contact(FirstName="No last name"),
            {"attributes": {"type": "Account"}, "Name": "Acme"},
        ],
    }

    results = sf.restful("composite/sobjects", method="POST", json=body)

    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["id"] is None
    assert results[1]["errors"] == [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [LastName]",
            "fields": ["LastName"],
        }
    ]
    assert results[2]["id"].startswith("001")
    assert [c["LastName"] for c in sf_empty_sandbox.app.records("Contact")] == ["Good"]


def test_all_or_none_rolls_everything_back(sf, sf_empty_sandbox):
    existing = sf.Contact.create({"LastName": "Before"})["id"]
    body = {
        "allOrNone": True,
        "records": [
            _contact(Id=existing, LastName="Changed"),
            _contact(Id=existing, Email="broken"),
        ],
    }

    results = sf.restful("composite/sobjects", method="PATCH", json=body)

    assert [r["success"] for r in results] == [False, False]
    assert results[0]["errors"][0]["statusCode"] == ROLLED_BACK
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sf_empty_sandbox.app.get("Contact", existing)["LastName"] == "Before"


def test_all_or_none_create_leaves_no_records(sf, sf_empty_sandbox):
    body = {"allOrNone": True, "records": [_contact(LastName="A"), _contact(LastName="x" * 100)]}

    results = sf.restful("composite/sobjects", method="POST", json=body)

    assert results[0] == {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": ROLLED_BACK,
                "message": "Record rolled back because not all records were valid and the "
                "request was using AllOrNone header",
                "fields": [],
            }
        ],
    }
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert sf_empty_sandbox.app.records("Contact") == []


def test_more_than_200_records_is_refused(sf):
    body = {"records": [_contact(LastName=f"N{i}") for i in range(201)]}

    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json=body)

    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_upsert_collection_reports_created_flags(sf):
    sf.Contact.create({"LastName": "Old", "CM_Key__c": "k1"})
    body = {
        "allOrNone": False,
        "records": [
            _contact(CM_Key__c="k1", LastName="Updated"),
            _contact(CM_Key__c="k2", LastName="New"),
            _contact(CM_Key__c="k3"),
            _contact(LastName="No key"),
        ],
    }

    results = sf.restful("composite/sobjects/Contact/CM_Key__c", method="PATCH", json=body)

    assert [(r["success"], r["created"]) for r in results] == [
        (True, False),
        (True, True),
        (False, False),
        (False, False),
    ]
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[3]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    assert sf.Contact.get_by_custom_id("CM_Key__c", "k1")["LastName"] == "Updated"


def test_upsert_collection_on_a_non_external_field_is_404(sf):
    with pytest.raises(Exception) as caught:
        sf.restful(
            "composite/sobjects/Contact/Email",
            method="PATCH",
            json={"records": [_contact(Email="a@example.com")]},
        )
    assert caught.value.status == 404


def test_delete_collection_and_missing_ids(sf, sf_empty_sandbox):
    first = sf.Contact.create({"LastName": "One"})["id"]
    second = sf.Contact.create({"LastName": "Two"})["id"]
    sf.Contact.delete(second)

    results = sf.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": f"{first},{second},garbage", "allOrNone": "false"},
    )

    assert [r["success"] for r in results] == [True, False, False]
    assert results[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert results[2]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert sf_empty_sandbox.app.get("Contact", first)["IsDeleted"] is True


def test_retrieve_collection_returns_null_for_unknown_ids(sf):
    contact_id = sf.Contact.create({"LastName": "Found", "Email": "f@example.com"})["id"]

    rows = sf.restful(
        "composite/sobjects/Contact",
        params={"ids": f"{contact_id},003000000000000AAA", "fields": "Id,Email"},
    )
    posted = sf.restful(
        "composite/sobjects/Contact",
        method="POST",
        json={"ids": [contact_id], "fields": ["LastName"]},
    )

    assert rows[0]["Email"] == "f@example.com" and rows[1] is None
    assert posted[0]["LastName"] == "Found"


def test_a_record_level_reject_fault_fails_one_item(sf, sf_empty_sandbox):
    sf_empty_sandbox.set_faults("reject:x1@composite.sobjects.create")
    body = {"records": [_contact(LastName="A"), _contact(LastName="B")]}

    results = sf.restful("composite/sobjects", method="POST", json=body)

    assert results[0]["errors"] == [
        {
            "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "cmsync sandbox validation rule",
            "fields": [],
        }
    ]
    assert results[1]["success"] is True


def test_composite_resolves_references_between_subrequests(sf, sf_empty_sandbox):
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Parent"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "kid",
                "body": {"LastName": "Kid", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{kid.id}?fields=AccountId",
                "referenceId": "read",
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account",
                "referenceId": "q",
            },
        ],
    }

    answer = sf.restful("composite", method="POST", json=body)["compositeResponse"]

    assert [a["httpStatusCode"] for a in answer] == [201, 201, 200, 200]
    assert answer[2]["body"]["AccountId"] == answer[0]["body"]["id"]
    assert answer[3]["body"]["totalSize"] == 1


def test_composite_all_or_none_rolls_back_and_halts(sf, sf_empty_sandbox):
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Rolled back"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "bad",
                "body": {"FirstName": "No last name"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "after",
                "body": {"Name": "Never"},
            },
        ],
    }

    answer = sf.restful("composite", method="POST", json=body)["compositeResponse"]

    assert [a["httpStatusCode"] for a in answer] == [400, 400, 400]
    assert answer[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert answer[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf_empty_sandbox.app.records("Account") == []


def test_composite_counts_as_one_api_request(sf, sf_empty_sandbox):
    before = sf.limits()["DailyApiRequests"]["Remaining"]
    body = {
        "compositeRequest": [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": f"a{i}",
                "body": {"Name": f"A{i}"},
            }
            for i in range(5)
        ]
    }

    sf.restful("composite", method="POST", json=body)

    assert sf.limits()["DailyApiRequests"]["Remaining"] == before - 2


def test_composite_refuses_more_than_25_subrequests(sf):
    body = {
        "compositeRequest": [
            {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
            for i in range(26)
        ]
    }

    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json=body)


def test_composite_allows_at_most_five_queries_or_collections(sf):
    def query(i):
        return {
            "method": "GET",
            "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+User",
            "referenceId": f"q{i}",
        }

    five = sf.restful(
        "composite", method="POST", json={"compositeRequest": [query(i) for i in range(5)]}
    )
    assert len(five["compositeResponse"]) == 5
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "composite", method="POST", json={"compositeRequest": [query(i) for i in range(6)]}
        )
