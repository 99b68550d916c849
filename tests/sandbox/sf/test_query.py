"""REST query and queryAll: paging through nextRecordsUrl, deleted rows, parents, errors."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


@pytest.fixture
def sf(sf_empty_sandbox):
    return sf_empty_sandbox.salesforce()


def _insert_contacts(sf, count, prefix="Page"):
    rows = [
        {"LastName": f"{prefix}{i:05d}", "Email": f"{prefix.lower()}{i}@example.com"}
        for i in range(count)
    ]
    result = sf.bulk2.Contact.insert(records=rows, wait=0)
    assert result[0]["numberRecordsFailed"] == 0


def test_query_all_iter_follows_next_records_url_across_pages(sf_empty_sandbox, sf):
    _insert_contacts(sf, 4500)
    sf_empty_sandbox.reset_stats()

    names = [
        r["LastName"]
        for r in sf.query_all_iter("SELECT Id, LastName FROM Contact ORDER BY LastName")
    ]

    assert names == [f"Page{i:05d}" for i in range(4500)]
    assert sf_empty_sandbox.stats()["query"] == 3


def test_first_page_has_2000_records_and_a_locator_path(sf):
    _insert_contacts(sf, 2500)

    page = sf.query("SELECT Id FROM Contact")

    assert page["totalSize"] == 2500 and page["done"] is False
    assert len(page["records"]) == 2000
    locator = page["nextRecordsUrl"]
    assert locator.startswith("/services/data/v59.0/query/01g") and locator.endswith("-2000")
    rest = sf.query_more(locator, identifier_is_url=True)
    assert rest["done"] is True and len(rest["records"]) == 500
    assert "nextRecordsUrl" not in rest
    bare = sf.query_more(locator.rsplit("/", 1)[1])
    assert len(bare["records"]) == 500


def test_batch_size_header_shrinks_pages(sf):
    _insert_contacts(sf, 450)

    page = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})

    assert len(page["records"]) == 200 and page["nextRecordsUrl"].endswith("-200")


def test_query_all_sees_deleted_records_until_hard_delete(sf):
    keep = sf.Contact.create({"LastName": "Keep"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)

    live = sf.query("SELECT Id FROM Contact")["records"]
    everything = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)

    assert [r["Id"] for r in live] == [keep]
    assert {r["Id"]: r["IsDeleted"] for r in everything["records"]} == {keep: False, gone: True}

    sf.bulk2.Contact.hard_delete(records=[{"Id": gone}], wait=0)
    after = sf.query_all("SELECT Id FROM Contact", include_deleted=True)["records"]
    assert [r["Id"] for r in after] == [keep]


def test_parent_fields_come_back_nested_with_attributes(sf):
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    sf.Contact.create({"LastName": "Child", "AccountId": account_id})

    record = sf.query("SELECT Id, Account.Name, Owner.Username FROM Contact")["records"][0]

    assert record["Account"]["Name"] == "Acme"
    assert record["Account"]["attributes"]["type"] == "Account"
    assert record["Owner"]["attributes"]["type"] == "User"


def test_count_query_returns_total_size_only(sf):
    _insert_contacts(sf, 30)

    result = sf.query("SELECT COUNT() FROM Contact WHERE Email LIKE 'page1%'")

    assert result == {"totalSize": 11, "done": True, "records": []}


def test_where_filters_on_custom_fields_added_through_tooling(sf):
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": "Contact.Tier__c",
            "Metadata": {"label": "Tier", "type": "Text", "length": 10},
        },
    )
    sf.Contact.create({"LastName": "Gold", "Tier__c": "gold"})
    sf.Contact.create({"LastName": "Plain"})

    rows = sf.query("SELECT LastName FROM Contact WHERE Tier__c = 'GOLD'")["records"]

    assert [r["LastName"] for r in rows] == ["Gold"]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FORM Contact", "MALFORMED_QUERY"),
        ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
        ("SELECT Shoe__c FROM Contact", "INVALID_FIELD"),
        ("", "MALFORMED_QUERY"),
    ],
)
def test_bad_queries_are_400_with_salesforce_codes(sf, soql, code):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)

    assert caught.value.content[0]["errorCode"] == code


def test_unknown_locator_is_invalid_query_locator(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more("01g5g00000abcdeAAA-2000")

    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_is_sandbox_reads_the_organization(sf):
    assert sf.is_sandbox() is True


def test_rows_name_their_record_even_without_id_selected(sf):
    contact_id = sf.Contact.create({"LastName": "Url"})["id"]

    record = sf.query("SELECT LastName FROM Contact")["records"][0]

    assert set(record) == {"attributes", "LastName"}
    assert record["attributes"]["url"].endswith(f"/sobjects/Contact/{contact_id}")
