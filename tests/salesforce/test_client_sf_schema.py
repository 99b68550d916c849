"""ensure_schema against the SF sandbox: cmsync's objects, fields and permission set."""

from __future__ import annotations

import datetime as dt
import json

from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT,
    CLIENT_OBJECT,
    EXTERNAL_ID,
    LIST_OBJECT,
    OBJECT_NAMES,
    OBJECTS,
    PERMISSION_SET_NAME,
    STANDARD_OBJECT_FIELDS,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
    ensure_schema,
    subscriber_key,
    suppression_key,
)


def _login(sandbox) -> SalesforceClient:
    return SalesforceClient.password_login(
        sandbox.url,
        sandbox.username,
        sandbox.password,
        sandbox.client_id,
        sandbox.client_secret,
        ca_bundle=sandbox.ca_file,
    )


def _all_items() -> set[str]:
    items = {f"PermissionSet:{PERMISSION_SET_NAME}"}
    for spec in OBJECTS:
        items |= {f"CustomObject:{spec.name}", f"ObjectPermissions:{spec.name}"}
        for field in spec.fields:
            items |= {
                f"CustomField:{spec.name}.{field.name}",
                f"FieldPermissions:{spec.name}.{field.name}",
            }
    for sobject, specs in STANDARD_OBJECT_FIELDS.items():
        for field in specs:
            items |= {
                f"CustomField:{sobject}.{field.name}",
                f"FieldPermissions:{sobject}.{field.name}",
            }
    return items


def test_ensure_schema_creates_what_is_missing_once(sf_empty_sandbox):
    client = _login(sf_empty_sandbox)
    # An earlier, interrupted run left one object with its key field behind.
    client.tooling_create(
        "CustomObject", {"FullName": CLIENT_OBJECT, "Metadata": CLIENT.metadata()}
    )
    key = CLIENT.fields[0]
    client.tooling_create(
        "CustomField", {"FullName": f"{CLIENT_OBJECT}.{key.name}", "Metadata": key.metadata()}
    )

    first = ensure_schema(client)
    second = ensure_schema(client)

    assignment = f"PermissionSetAssignment:{client.user_id}"
    leftovers = {f"CustomObject:{CLIENT_OBJECT}", f"CustomField:{CLIENT_OBJECT}.{EXTERNAL_ID}"}
    assert set(first.existing) == leftovers
    assert set(first.created) == _all_items() - leftovers | {assignment}
    assert second.created == []
    assert set(second.existing) == _all_items() | {assignment}


def test_ensure_schema_grants_access_through_the_permission_set(sf_empty_sandbox):
    client = _login(sf_empty_sandbox)
    ensure_schema(client)
    app = sf_empty_sandbox.app

    [permission_set] = [p for p in app.records("PermissionSet") if p["Name"] == PERMISSION_SET_NAME]
    mine = permission_set["Id"]
    objects = [r for r in app.records("ObjectPermissions") if r["ParentId"] == mine]
    assert {r["SobjectType"] for r in objects} == set(OBJECT_NAMES)
    assert all(r["PermissionsRead"] and r["PermissionsEdit"] for r in objects)
    fields = {r["Field"] for r in app.records("FieldPermissions") if r["ParentId"] == mine}
    assert fields == {f"{o.name}.{f.name}" for o in OBJECTS for f in o.fields} | {
        f"{sobject}.{f.name}" for sobject, specs in STANDARD_OBJECT_FIELDS.items() for f in specs
    }
    member_fields = {f["name"] for f in client.describe("CampaignMember")["fields"]}
    assert {"CMS_Opens__c", "CMS_Clicks__c", "CMS_Last_Activity__c"} <= member_fields
    campaign_fields = {f["name"]: f for f in client.describe("Campaign")["fields"]}
    assert {"CMS_CM_Campaign_ID__c", "CMS_Open_Rate__c", "CMS_Unique_Opens__c"} <= set(
        campaign_fields
    )
    assert campaign_fields["CMS_CM_Campaign_ID__c"]["externalId"] is True
    assignments = [
        r for r in app.records("PermissionSetAssignment") if r["PermissionSetId"] == mine
    ]
    assert [r["AssigneeId"] for r in assignments] == [client.user_id]

    described = {f["name"]: f for f in client.describe(SUBSCRIBER_OBJECT)["fields"]}
    assert described[EXTERNAL_ID]["externalId"] and described[EXTERNAL_ID]["unique"]
    assert described[EXTERNAL_ID]["length"] == 255
    assert [v["value"] for v in described["State__c"]["picklistValues"]] == [
        "Active",
        "Unsubscribed",
        "Bounced",
        "Deleted",
        "Unconfirmed",
    ]
    assert described["Contact__c"]["referenceTo"] == ["Contact"]
    assert described["Custom_Fields__c"]["length"] == 32768
    tracking = {f["name"]: f for f in client.describe(TRACKING_OBJECT)["fields"]}
    assert tracking["Campaign__c"]["referenceTo"] == [CAMPAIGN_OBJECT]
    assert "OwnerId" in tracking


def test_every_object_takes_upserts_after_ensure_schema(sf_empty_sandbox):
    client = _login(sf_empty_sandbox)
    ensure_schema(client)
    [contact] = client.create("Contact", [{"LastName": "Ng", "Email": "ann@example.com"}])
    [lead] = client.create("Lead", [{"LastName": "Ode", "Company": "Acme"}])
    [campaign] = client.create("Campaign", [{"Name": "Spring news"}])
    sent = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
    rows = {
        CLIENT_OBJECT: {EXTERNAL_ID: "c1", "Name": "Acme Ltd"},
        LIST_OBJECT: {EXTERNAL_ID: "l1", "Name": "Newsletter", "CM_Client_ID__c": "c1"},
        SUBSCRIBER_OBJECT: {
            EXTERNAL_ID: subscriber_key("l1", "Ann@Example.com"),
            "Name": "ann@example.com",
            "Email__c": "ann@example.com",
            "CM_List_ID__c": "l1",
            "CM_Client_ID__c": "c1",
            "State__c": "Active",
            "Subscriber_Name__c": "Ann Ng",
            "Mobile_Number__c": "+44 7700 900123",
            "Consent_To_Track__c": "Yes",
            "SMS_Consent__c": "Unchanged",
            "Joined_Date__c": sent,
            "Custom_Fields__c": json.dumps({"City": "Leeds"}),
            "Contact__c": contact.sf_id,
            "Lead__c": lead.sf_id,
        },
        CAMPAIGN_OBJECT: {
            EXTERNAL_ID: "cmp1",
            "Name": "Spring news",
            "CM_Client_ID__c": "c1",
            "Subject__c": "What's new",
            "Sent_Date__c": sent,
            "Tags__c": "news;spring",
            "Recipients__c": 1200,
            "Unique_Opens__c": 600,
            "Total_Opens__c": 900,
            "Clicks__c": 120,
            "Unsubscribes__c": 3,
            "Bounces__c": 12,
            "Spam_Complaints__c": 0,
            "Web_Version_URL__c": "https://createsend.com/t/y-1",
            "Campaign__c": campaign.sf_id,
        },
        SUPPRESSION_OBJECT: {
            EXTERNAL_ID: suppression_key("c1", "Bob@Example.com"),
            "Name": "bob@example.com",
            "Email__c": "bob@example.com",
            "CM_Client_ID__c": "c1",
            "Reason__c": "Unsubscribed",
            "Suppressed_Date__c": sent,
            "Contact__c": contact.sf_id,
        },
    }
    for sobject, row in rows.items():
        [result] = client.upsert(sobject, EXTERNAL_ID, [row])
        assert result.success and result.created, (sobject, result.error_text)
    [cm_campaign] = client.upsert(CAMPAIGN_OBJECT, EXTERNAL_ID, [rows[CAMPAIGN_OBJECT]])
    assert not cm_campaign.created
    event = {
        EXTERNAL_ID: "cmp1:ann@example.com:Clicked:2024-03-01T10:00:00Z",
        "Name": "Clicked",
        "CM_Campaign_ID__c": "cmp1",
        "CM_Client_ID__c": "c1",
        "Email__c": "ann@example.com",
        "Event_Type__c": "Spam Complaint",
        "Event_Date__c": sent,
        "URL__c": "https://example.com/" + "a" * 900,
        "Detail__c": "",
        "Contact__c": contact.sf_id,
        "Campaign__c": cm_campaign.sf_id,
    }
    [tracked] = client.upsert(TRACKING_OBJECT, EXTERNAL_ID, [event])
    assert tracked.success, tracked.error_text

    [stored] = client.query_iter(
        f"SELECT State__c, Joined_Date__c, Contact__c FROM {SUBSCRIBER_OBJECT}"
    )
    assert stored["State__c"] == "Active"
    assert stored["Contact__c"] == contact.sf_id
    assert stored["Joined_Date__c"].startswith("2024-03-01T09:30:00")
    assert client.query_count(f"SELECT COUNT() FROM {TRACKING_OBJECT}") == 1
