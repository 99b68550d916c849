"""Record CRUD, upsert by external id, describe and validation, driven by simple-salesforce."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_external_id


def _add_field(sf, full_name, **metadata):
    metadata = {"label": full_name.split(".")[1][:-3], "type": "Text", "length": 80, **metadata}
    return sf.toolingexecute(
        "sobjects/CustomField", method="POST", data={"FullName": full_name, "Metadata": metadata}
    )


@pytest.fixture
def sf(sf_empty_sandbox):
    return sf_empty_sandbox.salesforce()


def test_create_get_update_delete_a_contact(sf, sf_empty_sandbox):
    created = sf.Contact.create(
        {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}
    )
    assert created["success"] is True and created["errors"] == []
    contact_id = created["id"]
    assert contact_id.startswith("003") and len(contact_id) == 18

    record = sf.Contact.get(contact_id)
    assert record["attributes"] == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{contact_id}",
    }
    assert record["Name"] == "Ada Lovelace"
    assert record["OwnerId"] == sf_empty_sandbox.app.admin_user_id
    assert record["IsDeleted"] is False
    assert record["CreatedDate"].endswith("+0000")

    assert sf.Contact.update(contact_id, {"Title": "Countess"}) == 204
    assert sf.Contact.get(contact_id)["Title"] == "Countess"

    assert sf.Contact.delete(contact_id) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(contact_id)
    assert sf_empty_sandbox.app.get("Contact", contact_id)["IsDeleted"] is True


def test_get_with_fields_returns_only_those(sf):
    contact_id = sf.Contact.create({"LastName": "Fields"})["id"]

    record = sf.Contact.get(contact_id, params={"fields": "id,lastname"})

    assert set(record) == {"attributes", "Id", "LastName"}


def test_fifteen_character_ids_are_accepted(sf):
    contact_id = sf.Contact.create({"LastName": "Short"})["id"]

    assert sf.Contact.get(contact_id[:15])["Id"] == contact_id


def test_upsert_creates_then_updates_with_the_created_flag(sf, sf_empty_sandbox):
    _add_field(sf, "Contact.CM_Key__c", externalId=True, unique=True)
    path = format_external_id("CM_Key__c", "key/1 two")

    first = sf.Contact.upsert(path, {"LastName": "One"}, raw_response=True)
    second = sf.Contact.upsert(path, {"LastName": "Two"}, raw_response=True)

    assert first.status_code == 201 and first.json()["created"] is True
    assert second.status_code == 200 and second.json()["created"] is False
    assert first.json()["id"] == second.json()["id"]
    stored = sf_empty_sandbox.app.get("Contact", first.json()["id"])
    assert stored["CM_Key__c"] == "key/1 two" and stored["LastName"] == "Two"
    assert sf.Contact.get_by_custom_id("CM_Key__c", "key/1 two")["LastName"] == "Two"


def test_upsert_before_api_46_answers_204(sf_empty_sandbox):
    sb = sf_empty_sandbox
    token, _ = sb.issue_token()
    old = Salesforce(instance_url=sb.url, session_id=token, session=sb.session(), version="45.0")
    _add_field(old, "Contact.Old_Key__c", externalId=True)

    old.Contact.upsert("Old_Key__c/a", {"LastName": "A"})
    assert old.Contact.upsert("Old_Key__c/a", {"LastName": "B"}) == 204


def test_upsert_on_a_duplicated_external_id_is_300(sf):
    _add_field(sf, "Contact.Legacy_Id__c", externalId=True)
    sf.Contact.create({"LastName": "A", "Legacy_Id__c": "L1"})
    sf.Contact.create({"LastName": "B", "Legacy_Id__c": "l1"})

    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Contact.upsert("Legacy_Id__c/L1", {"LastName": "C"})
    assert len(caught.value.content) == 2
    assert all(
        url.startswith("/services/data/v59.0/sobjects/Contact/003") for url in caught.value.content
    )


def test_upsert_on_a_field_that_is_not_an_external_id_is_404(sf):
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.upsert("Email/a@example.com", {"LastName": "X"})
    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"


def test_unique_external_id_rejects_a_second_record(sf):
    _add_field(sf, "Contact.CM_Key__c", externalId=True, unique=True)
    sf.Contact.create({"LastName": "A", "CM_Key__c": "same"})

    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.create({"LastName": "B", "CM_Key__c": "SAME"})
    assert caught.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_unknown_record_and_object_answer_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as record:
        sf.Contact.get("003000000000000AAA")
    with pytest.raises(SalesforceResourceNotFound) as sobject:
        sf.Nope__c.create({"Name": "x"})
    with pytest.raises(SalesforceResourceNotFound) as garbage:
        sf.Contact.get("not-an-id")

    assert record.value.content == [
        {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    ]
    assert sobject.value.content[0]["errorCode"] == "NOT_FOUND"
    assert "Provided external ID field does not exist" in garbage.value.content[0]["message"]


@pytest.mark.parametrize(
    ("sobject", "values", "code", "fields"),
    [
        ("Contact", {"FirstName": "No last name"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ("Lead", {"LastName": "L"}, "REQUIRED_FIELD_MISSING", ["Company"]),
        ("Contact", {"LastName": "x" * 81}, "STRING_TOO_LONG", ["LastName"]),
        ("Contact", {"LastName": "E", "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
        (
            "Lead",
            {"LastName": "L", "Company": "C", "Status": "Bogus"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            ["Status"],
        ),
        (
            "Contact",
            {"LastName": "R", "Name": "Computed"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["Name"],
        ),
        ("Contact", {"LastName": "M", "AccountId": "garbage"}, "MALFORMED_ID", ["AccountId"]),
        (
            "Contact",
            {"LastName": "W", "AccountId": "003000000000000AAA"},
            "FIELD_INTEGRITY_EXCEPTION",
            ["AccountId"],
        ),
        (
            "Contact",
            {"LastName": "X", "AccountId": "001000000000000AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            ["AccountId"],
        ),
    ],
)
def test_validation_errors_use_salesforce_codes(sf, sobject, values, code, fields):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        getattr(sf, sobject).create(values)

    error = caught.value.content[0]
    assert error["errorCode"] == code
    assert error["fields"] == fields


def test_unknown_field_and_bad_value_types_fail_the_request(sf):
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.Contact.create({"LastName": "U", "Shoe_Size__c": 42})
    with pytest.raises(SalesforceMalformedRequest) as wrong_type:
        sf.Contact.create({"LastName": "U", "Birthdate": "yesterday"})

    assert unknown.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert wrong_type.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_malformed_json_is_a_json_parser_error(sf_empty_sandbox):
    sb = sf_empty_sandbox
    token, _ = sb.issue_token()
    with sb.session() as session:
        response = session.post(
            f"{sb.url}/services/data/v59.0/sobjects/Contact/",
            data=b"{not json",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=10,
        )

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_clearing_a_required_field_on_update_fails(sf):
    contact_id = sf.Contact.create({"LastName": "Keep"})["id"]

    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(contact_id, {"LastName": None})
    assert caught.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_updating_a_deleted_record_reports_entity_is_deleted(sf):
    contact_id = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(contact_id)

    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.update(contact_id, {"LastName": "Back"})
    assert caught.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_describe_lists_fields_with_salesforce_keys(sf):
    describe = sf.Contact.describe()

    assert describe["name"] == "Contact" and describe["keyPrefix"] == "003"
    fields = {f["name"]: f for f in describe["fields"]}
    assert fields["LastName"]["nillable"] is False and fields["LastName"]["createable"] is True
    assert fields["Email"]["type"] == "email" and fields["Email"]["idLookup"] is True
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert fields["Name"]["updateable"] is False
    lead_status = {f["name"]: f for f in sf.Lead.describe()["fields"]}["Status"]
    assert [p["value"] for p in lead_status["picklistValues"]][0] == "Open - Not Contacted"
    assert "CampaignMembers" in {c["relationshipName"] for c in describe["childRelationships"]}


def test_global_describe_lists_standard_objects(sf):
    names = {s["name"]: s for s in sf.describe()["sobjects"]}

    expected = {
        "Account": "001",
        "Contact": "003",
        "Lead": "00Q",
        "User": "005",
        "Campaign": "701",
        "CampaignMember": "00v",
        "PermissionSet": "0PS",
        "PermissionSetAssignment": "0Pa",
        "CampaignMemberStatus": "01Y",
    }
    assert {name: names[name]["keyPrefix"] for name in expected} == expected


def test_layouts_describe_sections_and_related_lists(sf):
    layout = sf.Contact.describe_layout("")["layouts"][0]

    headings = [s["heading"] for s in layout["detailLayoutSections"]]
    assert headings == ["Contact Information", "System Information"]
    items = [
        item["layoutComponents"][0]["value"]
        for row in layout["detailLayoutSections"][0]["layoutRows"]
        for item in row["layoutItems"]
    ]
    assert "Email" in items and "LastName" in items
    assert layout["relatedLists"][0]["sobject"] == "CampaignMember"


def test_campaign_members_are_unique_per_person_and_follow_statuses(sf):
    campaign_id = sf.Campaign.create({"Name": "Launch"})["id"]
    contact_id = sf.Contact.create({"LastName": "Member", "Email": "m@example.com"})["id"]
    statuses = sf.query(
        f"SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus "
        f"WHERE CampaignId = '{campaign_id}'"
    )["records"]
    assert {(s["Label"], s["IsDefault"], s["HasResponded"]) for s in statuses} == {
        ("Sent", True, False),
        ("Responded", False, True),
    }

    member_id = sf.CampaignMember.create({"CampaignId": campaign_id, "ContactId": contact_id})["id"]
    member = sf.CampaignMember.get(member_id)
    assert member["Status"] == "Sent" and member["HasResponded"] is False
    assert member["Email"] == "m@example.com"

    sf.CampaignMember.update(member_id, {"Status": "Responded"})
    assert sf.CampaignMember.get(member_id)["HasResponded"] is True
    assert sf.Campaign.get(campaign_id)["NumberOfContacts"] == 1

    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.CampaignMember.create({"CampaignId": campaign_id, "ContactId": contact_id})
    assert duplicate.value.content == [
        {"message": "Already a campaign member.", "errorCode": "DUPLICATE_VALUE"}
    ]
    with pytest.raises(SalesforceMalformedRequest) as bad_status:
        sf.CampaignMember.update(member_id, {"Status": "Attended"})
    assert bad_status.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    with pytest.raises(SalesforceMalformedRequest) as moved:
        sf.CampaignMember.update(member_id, {"CampaignId": campaign_id})
    assert moved.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_deleting_a_contact_deletes_its_campaign_members(sf, sf_empty_sandbox):
    campaign_id = sf.Campaign.create({"Name": "Cascade"})["id"]
    contact_id = sf.Contact.create({"LastName": "Leaving"})["id"]
    member_id = sf.CampaignMember.create({"CampaignId": campaign_id, "ContactId": contact_id})["id"]

    sf.Contact.delete(contact_id)

    assert sf_empty_sandbox.app.get("CampaignMember", member_id)["IsDeleted"] is True


def test_permission_set_assignments_are_unique(sf, sf_empty_sandbox):
    admin = sf_empty_sandbox.app.admin_user_id
    permission_set = sf.PermissionSet.create({"Name": "CM_Sync", "Label": "CM Sync"})["id"]
    assert permission_set.startswith("0PS")

    assignment = sf.PermissionSetAssignment.create(
        {"AssigneeId": admin, "PermissionSetId": permission_set}
    )
    assert assignment["id"].startswith("0Pa")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.PermissionSetAssignment.create({"AssigneeId": admin, "PermissionSetId": permission_set})
    assert caught.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_users_cannot_be_deleted(sf, sf_empty_sandbox):
    with pytest.raises(SalesforceMalformedRequest):
        sf.User.delete(sf_empty_sandbox.app.admin_user_id)


def test_updated_and_deleted_windows(sf):
    import datetime as dt

    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    keep = sf.Contact.create({"LastName": "Keep"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(gone)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)

    assert keep in sf.Contact.updated(start, end)["ids"]
    assert [r["id"] for r in sf.Contact.deleted(start, end)["deletedRecords"]] == [gone]


def test_concurrent_writers_get_distinct_records(sf_empty_sandbox):
    from concurrent.futures import ThreadPoolExecutor

    def create_many(worker):
        client = sf_empty_sandbox.salesforce()
        return [client.Contact.create({"LastName": f"W{worker}-{i}"})["id"] for i in range(15)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = [i for batch in pool.map(create_many, range(6)) for i in batch]

    assert len(set(ids)) == 90
    assert len(sf_empty_sandbox.app.records("Contact")) == 90


def test_field_and_object_permissions_are_validated(sf):
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": "Contact.CM_Key__c",
            "Metadata": {"label": "CM Key", "type": "Text", "length": 80},
        },
    )
    parent = sf.PermissionSet.create({"Name": "Perms", "Label": "Perms"})["id"]

    granted = sf.FieldPermissions.create(
        {
            "ParentId": parent,
            "SobjectType": "Contact",
            "Field": "Contact.CM_Key__c",
            "PermissionsRead": True,
            "PermissionsEdit": True,
        }
    )
    assert granted["success"]
    cases = [
        (
            "FieldPermissions",
            {"SobjectType": "Contact", "Field": "Contact.CM_Key__c", "PermissionsRead": True},
            "DUPLICATE_VALUE",
        ),
        (
            "FieldPermissions",
            {"SobjectType": "Contact", "Field": "Contact.Nope__c", "PermissionsRead": True},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        (
            "FieldPermissions",
            {"SobjectType": "Contact", "Field": "Contact.LastName", "PermissionsRead": True},
            "FIELD_INTEGRITY_EXCEPTION",
        ),
        (
            "ObjectPermissions",
            {"SobjectType": "Contact", "PermissionsEdit": True},
            "FIELD_INTEGRITY_EXCEPTION",
        ),
        (
            "ObjectPermissions",
            {"SobjectType": "Nope__c", "PermissionsRead": True},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
    ]
    for sobject, values, code in cases:
        with pytest.raises(SalesforceMalformedRequest) as caught:
            getattr(sf, sobject).create({"ParentId": parent, **values})
        assert caught.value.content[0]["errorCode"] == code, (sobject, values)
