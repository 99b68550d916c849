"""Tooling API: custom objects and fields become real schema; layouts can be read and changed."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


@pytest.fixture
def sf(sf_empty_sandbox):
    return sf_empty_sandbox.salesforce()


def _create(sf, kind, full_name, metadata):
    return sf.toolingexecute(
        f"sobjects/{kind}", method="POST", data={"FullName": full_name, "Metadata": metadata}
    )


def test_custom_object_and_field_support_crud_query_and_describe(sf, sf_empty_sandbox):
    created = _create(
        sf,
        "CustomObject",
        "CM_Subscriber__c",
        {
            "label": "CM Subscriber",
            "pluralLabel": "CM Subscribers",
            "nameField": {"type": "Text", "label": "Subscriber Name"},
            "deploymentStatus": "Deployed",
            "sharingModel": "ReadWrite",
        },
    )
    assert created["success"] is True and created["id"].startswith("01I")
    field = _create(
        sf,
        "CustomField",
        "CM_Subscriber__c.Email__c",
        {"label": "Email", "type": "Email", "externalId": True, "unique": True},
    )
    _create(
        sf,
        "CustomField",
        "CM_Subscriber__c.Contact__c",
        {
            "label": "Contact",
            "type": "Lookup",
            "referenceTo": "Contact",
            "relationshipName": "CM_Subscribers",
        },
    )
    assert field["id"].startswith("00N")

    describe = sf.CM_Subscriber__c.describe()
    assert describe["custom"] is True and describe["keyPrefix"].startswith("a0")
    fields = {f["name"]: f for f in describe["fields"]}
    assert fields["Email__c"]["externalId"] is True and fields["Email__c"]["type"] == "email"
    assert fields["Contact__c"]["relationshipName"] == "Contact__r"

    contact_id = sf.Contact.create({"LastName": "Linked"})["id"]
    record_id = sf.CM_Subscriber__c.create(
        {"Name": "Sub 1", "Email__c": "sub@example.com", "Contact__c": contact_id}
    )["id"]
    assert record_id[:3] == describe["keyPrefix"]
    upserted = sf.CM_Subscriber__c.upsert(
        "Email__c/sub@example.com", {"Name": "Renamed"}, raw_response=True
    )
    assert upserted.status_code == 200

    rows = sf.query("SELECT Name, Contact__r.LastName FROM CM_Subscriber__c")["records"]
    assert rows[0]["Name"] == "Renamed" and rows[0]["Contact__r"]["LastName"] == "Linked"
    children = {c["relationshipName"] for c in sf.Contact.describe()["childRelationships"]}
    assert "CM_Subscribers__r" in children

    with pytest.raises(SalesforceMalformedRequest) as invalid:
        sf.CM_Subscriber__c.create({"Name": "Bad", "Email__c": "nope"})
    assert invalid.value.content[0]["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_new_field_on_a_standard_object_appears_on_existing_records(sf):
    contact_id = sf.Contact.create({"LastName": "Existing"})["id"]

    _create(
        sf,
        "CustomField",
        "Contact.Opted_In__c",
        {"label": "Opted In", "type": "Checkbox", "defaultValue": "false"},
    )
    _create(
        sf,
        "CustomField",
        "Contact.Segment__c",
        {
            "label": "Segment",
            "type": "Picklist",
            "valueSet": {
                "restricted": True,
                "valueSetDefinition": {
                    "value": [
                        {"fullName": "Gold", "default": False, "label": "Gold"},
                        {"fullName": "Silver", "default": True, "label": "Silver"},
                    ]
                },
            },
        },
    )

    assert sf.Contact.get(contact_id)["Opted_In__c"] is False
    assert sf.Contact.create({"LastName": "New"})["success"]
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Contact.create({"LastName": "Bad", "Segment__c": "Bronze"})
    assert bad.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_tooling_query_finds_fields_by_table(sf):
    object_id = _create(sf, "CustomObject", "Sync_Log__c", {"label": "Sync Log"})["id"]
    _create(
        sf,
        "CustomField",
        "Sync_Log__c.Detail__c",
        {"label": "Detail", "type": "Text", "length": 255},
    )
    _create(
        sf,
        "CustomField",
        "Contact.CM_Key__c",
        {"label": "CM Key", "type": "Text", "length": 80, "externalId": True},
    )

    on_contact = sf.toolingexecute(
        "query/?q=SELECT+Id,DeveloperName+FROM+CustomField+WHERE+TableEnumOrId='Contact'"
    )
    on_custom = sf.toolingexecute(
        f"query/?q=SELECT+DeveloperName+FROM+CustomField+WHERE+TableEnumOrId='{object_id}'"
    )
    objects = sf.toolingexecute("query/?q=SELECT+Id,DeveloperName+FROM+CustomObject")

    assert [r["DeveloperName"] for r in on_contact["records"]] == ["CM_Key"]
    assert [r["DeveloperName"] for r in on_custom["records"]] == ["Detail"]
    assert [(r["Id"], r["DeveloperName"]) for r in objects["records"]] == [(object_id, "Sync_Log")]


def test_get_custom_field_by_id_returns_its_metadata(sf):
    field_id = _create(
        sf,
        "CustomField",
        "Contact.CM_Key__c",
        {"label": "CM Key", "type": "Text", "length": 80, "externalId": True},
    )["id"]

    body = sf.toolingexecute(f"sobjects/CustomField/{field_id}")

    assert body["FullName"] == "Contact.CM_Key__c"
    assert body["Metadata"]["externalId"] is True


@pytest.mark.parametrize(
    ("full_name", "metadata"),
    [
        ("Contact.No_Suffix", {"label": "x", "type": "Text", "length": 10}),
        ("Contact.Weird__c", {"label": "x", "type": "Hologram"}),
        ("Nope__c.Field__c", {"label": "x", "type": "Text", "length": 10}),
        ("Contact.LastName__c", {"label": "x", "type": "Text", "length": 999}),
    ],
)
def test_invalid_custom_fields_are_refused(sf, full_name, metadata):
    with pytest.raises(SalesforceMalformedRequest):
        _create(sf, "CustomField", full_name, metadata)


def test_creating_a_field_twice_is_refused(sf):
    metadata = {"label": "Twice", "type": "Text", "length": 10}
    _create(sf, "CustomField", "Contact.Twice__c", metadata)

    with pytest.raises(SalesforceMalformedRequest) as caught:
        _create(sf, "CustomField", "Contact.Twice__c", metadata)
    assert caught.value.content[0]["errorCode"] == "DUPLICATE_DEVELOPER_NAME"


def test_layout_metadata_can_be_read_and_updated(sf):
    _create(
        sf,
        "CustomField",
        "Contact.CM_Status__c",
        {"label": "CM Status", "type": "Text", "length": 40},
    )
    found = sf.toolingexecute("query/?q=SELECT+Id,Name+FROM+Layout+WHERE+TableEnumOrId='Contact'")[
        "records"
    ]
    layout_id = found[0]["Id"]
    layout = sf.toolingexecute(f"sobjects/Layout/{layout_id}")
    sections = layout["Metadata"]["layoutSections"]
    sections.append(
        {
            "label": "Campaign Monitor",
            "style": "OneColumn",
            "layoutColumns": [{"layoutItems": [{"field": "CM_Status__c", "behavior": "Edit"}]}],
        }
    )

    sf.toolingexecute(
        f"sobjects/Layout/{layout_id}", method="PATCH", data={"Metadata": layout["Metadata"]}
    )

    described = sf.Contact.describe_layout("")["layouts"][0]["detailLayoutSections"]
    assert described[-1]["heading"] == "Campaign Monitor"
    item = described[-1]["layoutRows"][0]["layoutItems"][0]
    assert item["layoutComponents"][0]["value"] == "CM_Status__c"


def test_layout_update_with_an_unknown_field_is_refused(sf):
    layout_id = sf.toolingexecute("query/?q=SELECT+Id+FROM+Layout+WHERE+TableEnumOrId='Lead'")[
        "records"
    ][0]["Id"]
    metadata = {
        "layoutSections": [
            {"label": "X", "layoutColumns": [{"layoutItems": [{"field": "Ghost__c"}]}]}
        ]
    }

    with pytest.raises(SalesforceMalformedRequest):
        sf.toolingexecute(
            f"sobjects/Layout/{layout_id}", method="PATCH", data={"Metadata": metadata}
        )


def test_auto_number_name_fields_count_up(sf):
    _create(
        sf,
        "CustomObject",
        "Ticket__c",
        {
            "label": "Ticket",
            "nameField": {"type": "AutoNumber", "label": "Ticket No", "displayFormat": "T-{0000}"},
        },
    )

    first = sf.Ticket__c.create({})["id"]
    second = sf.Ticket__c.create({})["id"]

    assert sf.Ticket__c.get(first)["Name"] == "T-0001"
    assert sf.Ticket__c.get(second)["Name"] == "T-0002"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Ticket__c.create({"Name": "mine"})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
