"""Campaign, CampaignMember and CampaignMemberStatus follow Salesforce's rules in the SF sandbox,
whichever way a record is written: REST sObject calls (simple-salesforce), sObject Collections
and Bulk API 2.0 (the product's client), composite.

Rules and error codes: sandbox/sf/campaigns.py; sources: /work/shared/reference/salesforce
(API.md §5.1-5.3) and Salesforce's object reference for the three objects.
"""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sync.clients.salesforce import SalesforceClient


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
    return sf_empty_sandbox


@pytest.fixture
def sf(org):
    """simple-salesforce on the sandbox: single-record REST calls."""
    return org.salesforce()


@pytest.fixture
def client(org):
    """The product's client: sObject Collections, Bulk API 2.0 and queries."""
    with _client(org) as client:
        yield client


def _ok(results):
    assert all(r.success for r in results), [r.error_text for r in results]
    return [r.sf_id for r in results]


def _codes(result) -> list[str]:
    return [error.code for error in result.errors]


def _campaign(client, name="Spring Sale", **fields) -> str:
    return _ok(client.create("Campaign", [{"Name": name, **fields}]))[0]


def _people(client, sobject, count, **fields) -> list[str]:
    rows = [
        {"LastName": f"{sobject} {i}", "Email": f"{sobject.lower()}{i}@example.com", **fields}
        for i in range(count)
    ]
    if sobject == "Lead":
        rows = [{**row, "Company": "Acme"} for row in rows]
    return _ok(client.create(sobject, rows))


def _statuses(client, campaign_id) -> list[dict]:
    soql = client.soql(
        "SELECT Id, Label, IsDefault, HasResponded, SortOrder FROM CampaignMemberStatus "
        "WHERE CampaignId = {} ORDER BY SortOrder",
        campaign_id,
    )
    return list(client.query_iter(soql))


def _status_id(client, campaign_id, label) -> str:
    return next(s["Id"] for s in _statuses(client, campaign_id) if s["Label"] == label)


def _stats(client, campaign_id) -> dict:
    return client.get(
        "Campaign",
        campaign_id,
        ["NumberOfContacts", "NumberOfLeads", "NumberOfResponses", "NumberOfConvertedLeads"],
    )


# --- Campaign ----------------------------------------------------------------------------------


def test_a_new_campaign_has_sent_as_default_and_responded_as_response(client):
    campaign_id = _campaign(client)

    statuses = _statuses(client, campaign_id)
    assert [(s["Label"], s["IsDefault"], s["HasResponded"], s["SortOrder"]) for s in statuses] == [
        ("Sent", True, False, 1),
        ("Responded", False, True, 2),
    ]
    campaign = client.get("Campaign", campaign_id)
    assert campaign["Status"] == "Planned" and campaign["IsActive"] is False
    assert campaign["NumberSent"] == 0
    assert {k: campaign[k] for k in ("NumberOfContacts", "NumberOfLeads", "NumberOfResponses")} == {
        "NumberOfContacts": 0,
        "NumberOfLeads": 0,
        "NumberOfResponses": 0,
    }


def test_campaign_describe_has_the_standard_fields_with_their_access(client):
    fields = {f["name"]: f for f in client.describe("Campaign")["fields"]}

    assert "Email" in [v["value"] for v in fields["Type"]["picklistValues"]]
    assert [v["value"] for v in fields["Status"]["picklistValues"]] == [
        "Planned",
        "In Progress",
        "Completed",
        "Aborted",
    ]
    assert [v["value"] for v in fields["Status"]["picklistValues"] if v["defaultValue"]] == [
        "Planned"
    ]
    writable = ("NumberSent", "IsActive", "StartDate", "EndDate", "ParentId", "Type", "Status")
    for name in writable:
        assert fields[name]["createable"] and fields[name]["updateable"], name
    calculated = (
        "NumberOfContacts",
        "NumberOfLeads",
        "NumberOfResponses",
        "NumberOfConvertedLeads",
        "NumberOfOpportunities",
        "HierarchyNumberSent",
        "HierarchyNumberOfResponses",
    )
    for name in calculated:
        assert not fields[name]["createable"] and not fields[name]["updateable"], name
    assert fields["NumberSent"]["type"] == "double"
    assert fields["ParentId"]["referenceTo"] == ["Campaign"]
    members = {f["name"]: f for f in client.describe("CampaignMember")["fields"]}
    for name in ("HasResponded", "FirstRespondedDate"):
        assert not members[name]["createable"] and not members[name]["updateable"], name
    for name in ("CampaignId", "ContactId", "LeadId"):
        assert members[name]["createable"] and not members[name]["updateable"], name
    statuses = {f["name"]: f for f in client.describe("CampaignMemberStatus")["fields"]}
    for name in ("Label", "IsDefault", "HasResponded", "SortOrder"):
        assert statuses[name]["createable"] and statuses[name]["updateable"], name


def test_type_and_status_are_unrestricted_picklists_and_number_sent_is_writable(client, sf):
    campaign_id = _campaign(client, Type="Email", Status="In Progress", NumberSent=1200)
    sf.Campaign.update(campaign_id, {"Type": "Podcast", "NumberSent": 1250, "IsActive": True})

    campaign = client.get("Campaign", campaign_id)
    assert (campaign["Type"], campaign["Status"], campaign["IsActive"]) == (
        "Podcast",
        "In Progress",
        True,
    )
    assert campaign["NumberSent"] == 1250


@pytest.mark.parametrize("field", ["NumberOfContacts", "NumberOfResponses", "HierarchyNumberSent"])
def test_campaign_statistics_are_read_only_through_rest_and_collections(client, sf, field):
    campaign_id = _campaign(client)

    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Campaign.update(campaign_id, {field: 5})
    (result,) = client.update("Campaign", [{"Id": campaign_id, field: 5}])
    (created,) = client.create("Campaign", [{"Name": "Cooked", field: 5}])

    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert _codes(result) == _codes(created) == ["INVALID_FIELD_FOR_INSERT_UPDATE"]
    assert client.get("Campaign", campaign_id)[field] == 0


def test_deleting_a_campaign_deletes_its_members_and_statuses(client, sf, org):
    campaign_id = _campaign(client)
    child_id = _campaign(client, "Child", ParentId=campaign_id)
    (contact_id,) = _people(client, "Contact", 1)
    (member_id,) = _ok(
        client.create("CampaignMember", [{"CampaignId": campaign_id, "ContactId": contact_id}])
    )
    status_ids = [s["Id"] for s in _statuses(client, campaign_id)]

    assert sf.Campaign.delete(campaign_id) == 204

    for sobject, record_id in [("CampaignMember", member_id)] + [
        ("CampaignMemberStatus", i) for i in status_ids
    ]:
        assert org.app.get(sobject, record_id)["IsDeleted"] is True
    assert (
        client.query_count(
            client.soql(
                "SELECT COUNT() FROM CampaignMemberStatus WHERE CampaignId = {}", campaign_id
            )
        )
        == 0
    )
    assert client.get("Campaign", child_id)["ParentId"] is None
    assert client.get("Contact", contact_id)["Id"] == contact_id


@pytest.mark.parametrize("how", ["collections", "bulk", "bulk hard"])
def test_campaign_cascade_holds_for_collections_and_bulk_deletes(org, how):
    with _client(org, bulk_threshold=1 if how == "bulk" else 2000) as client:
        campaign_id = _campaign(client)
        contact_ids = _people(client, "Contact", 2)
        members = [{"CampaignId": campaign_id, "ContactId": i} for i in contact_ids]
        member_ids = _ok(client.create("CampaignMember", members))

        if how == "bulk hard":
            results = client.hard_delete("Campaign", [campaign_id])
        else:
            results = client.delete("Campaign", [campaign_id])

    _ok(results)
    for member_id in member_ids:
        member = org.app.get("CampaignMember", member_id)
        assert member is None if how == "bulk hard" else member["IsDeleted"] is True
    assert not [
        s for s in org.app.records("CampaignMemberStatus") if s["CampaignId"] == campaign_id
    ]


def test_a_campaign_cannot_be_its_own_ancestor_and_hierarchy_totals_add_up(client, sf):
    top = _campaign(client, "Top", NumberSent=100)
    middle = _campaign(client, "Middle", ParentId=top, NumberSent=20)
    bottom = _campaign(client, "Bottom", ParentId=middle, NumberSent=3)
    (contact_id,) = _people(client, "Contact", 1)
    (lead_id,) = _people(client, "Lead", 1)
    _ok(
        client.create(
            "CampaignMember",
            [
                {"CampaignId": bottom, "ContactId": contact_id, "Status": "Responded"},
                {"CampaignId": middle, "LeadId": lead_id},
            ],
        )
    )

    with pytest.raises(SalesforceMalformedRequest) as loop:
        sf.Campaign.update(top, {"ParentId": bottom})
    (itself,) = client.update("Campaign", [{"Id": middle, "ParentId": middle}])

    assert loop.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert _codes(itself) == ["FIELD_INTEGRITY_EXCEPTION"]
    fields = [
        "HierarchyNumberSent",
        "HierarchyNumberOfContacts",
        "HierarchyNumberOfLeads",
        "HierarchyNumberOfResponses",
        "NumberOfContacts",
    ]
    assert client.get("Campaign", top, fields) == {
        "HierarchyNumberSent": 123,
        "HierarchyNumberOfContacts": 1,
        "HierarchyNumberOfLeads": 1,
        "HierarchyNumberOfResponses": 1,
        "NumberOfContacts": 0,
    }

    sf.Campaign.update(bottom, {"ParentId": None})

    assert client.get("Campaign", top, ["HierarchyNumberSent", "HierarchyNumberOfContacts"]) == {
        "HierarchyNumberSent": 120,
        "HierarchyNumberOfContacts": 0,
    }


# --- CampaignMember ----------------------------------------------------------------------------


def test_a_member_is_unique_per_campaign_and_contact_or_lead(client, sf):
    campaign_id = _campaign(client)
    other_campaign = _campaign(client, "Other")
    (contact_id,) = _people(client, "Contact", 1)
    (lead_id,) = _people(client, "Lead", 1)
    first = [
        {"CampaignId": campaign_id, "ContactId": contact_id},
        {"CampaignId": campaign_id, "LeadId": lead_id},
        {"CampaignId": other_campaign, "ContactId": contact_id},
    ]
    _ok(client.create("CampaignMember", first))

    again = client.create("CampaignMember", first[:2])
    with pytest.raises(SalesforceMalformedRequest) as rest:
        sf.CampaignMember.create({"CampaignId": campaign_id, "ContactId": contact_id})

    assert [_codes(r) for r in again] == [["DUPLICATE_VALUE"], ["DUPLICATE_VALUE"]]
    assert again[0].errors[0].message == "Already a campaign member."
    assert rest.value.content == [
        {"message": "Already a campaign member.", "errorCode": "DUPLICATE_VALUE"}
    ]
    assert _stats(client, campaign_id)["NumberOfContacts"] == 1


def test_a_second_membership_in_one_bulk_job_fails_that_row_only(org):
    with _client(org) as client:
        campaign_id = _campaign(client)
        contact_ids = _people(client, "Contact", 2)
        rows = [
            {"CampaignId": campaign_id, "ContactId": contact_ids[0]},
            {"CampaignId": campaign_id, "ContactId": contact_ids[1], "Status": "Responded"},
            {"CampaignId": campaign_id, "ContactId": contact_ids[0]},
        ]

        results = client.upsert_bulk("CampaignMember", "Id", rows)

        assert [r.success for r in results] == [True, True, False]
        assert _codes(results[2]) == ["DUPLICATE_VALUE"]
        assert _stats(client, campaign_id) == {
            "NumberOfContacts": 2,
            "NumberOfLeads": 0,
            "NumberOfResponses": 1,
            "NumberOfConvertedLeads": 0,
        }


def test_a_member_needs_a_contact_or_lead_and_keeps_only_the_contact_of_both(client):
    campaign_id = _campaign(client)
    (contact_id,) = _people(client, "Contact", 1)
    (lead_id,) = _people(client, "Lead", 1)

    nobody, both = client.create(
        "CampaignMember",
        [
            {"CampaignId": campaign_id},
            {"CampaignId": campaign_id, "ContactId": contact_id, "LeadId": lead_id},
        ],
    )

    assert _codes(nobody) == ["REQUIRED_FIELD_MISSING"]
    member = client.get("CampaignMember", both.sf_id)
    assert (member["ContactId"], member["LeadId"], member["Type"]) == (contact_id, None, "Contact")


def test_a_member_without_status_gets_the_default_and_responded_follows_status(client, sf):
    campaign_id = _campaign(client)
    (contact_id,) = _people(client, "Contact", 1)
    (member_id,) = _ok(
        client.create("CampaignMember", [{"CampaignId": campaign_id, "ContactId": contact_id}])
    )
    fields = ["Status", "HasResponded", "FirstRespondedDate"]
    assert client.get("CampaignMember", member_id, fields) == {
        "Status": "Sent",
        "HasResponded": False,
        "FirstRespondedDate": None,
    }
    assert _stats(client, campaign_id)["NumberOfResponses"] == 0

    sf.CampaignMember.update(member_id, {"Status": "responded"})  # a label, in any case

    member = client.get("CampaignMember", member_id, fields)
    assert member["Status"] == "Responded" and member["HasResponded"] is True
    responded_on = member["FirstRespondedDate"]
    assert responded_on
    assert _stats(client, campaign_id)["NumberOfResponses"] == 1

    _ok(client.update("CampaignMember", [{"Id": member_id, "Status": "Sent"}]))

    assert client.get("CampaignMember", member_id, fields) == {
        "Status": "Sent",
        "HasResponded": False,
        "FirstRespondedDate": responded_on,  # the first response stays on record
    }
    assert _stats(client, campaign_id)["NumberOfResponses"] == 0


def test_the_default_status_is_the_campaigns_own(client, sf):
    campaign_id = _campaign(client)
    invited = sf.CampaignMemberStatus.create(
        {"CampaignId": campaign_id, "Label": "Invited", "IsDefault": True}
    )["id"]
    (contact_id,) = _people(client, "Contact", 1)

    (member_id,) = _ok(
        client.create("CampaignMember", [{"CampaignId": campaign_id, "ContactId": contact_id}])
    )

    assert client.get("CampaignMember", member_id)["Status"] == "Invited"
    assert client.get("CampaignMemberStatus", invited)["IsDefault"] is True


def test_a_status_must_be_one_of_the_campaigns_labels_wherever_it_is_written(org, sf):
    with _client(org) as client:
        campaign_id = _campaign(client)
        other = _campaign(client, "Other")
        sf.CampaignMemberStatus.create({"CampaignId": other, "Label": "Attended"})
        contact_ids = _people(client, "Contact", 3)
        expected = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"

        with pytest.raises(SalesforceMalformedRequest) as rest:
            sf.CampaignMember.create(
                {"CampaignId": campaign_id, "ContactId": contact_ids[0], "Status": "Attended"}
            )
        (collections,) = client.create(
            "CampaignMember",
            [{"CampaignId": campaign_id, "ContactId": contact_ids[1], "Status": "Attended"}],
        )
        (bulk,) = client.upsert_bulk(
            "CampaignMember",
            "Id",
            [{"CampaignId": campaign_id, "ContactId": contact_ids[2], "Status": "Attended"}],
        )

        assert rest.value.content == [
            {
                "message": "Status: bad value for restricted picklist field: Attended",
                "errorCode": expected,
                "fields": ["Status"],
            }
        ]
        assert _codes(collections) == _codes(bulk) == [expected]
        assert _stats(client, campaign_id)["NumberOfContacts"] == 0


def test_a_members_status_cannot_be_cleared(client, sf):
    campaign_id = _campaign(client)
    (contact_id,) = _people(client, "Contact", 1)
    (member_id,) = _ok(
        client.create("CampaignMember", [{"CampaignId": campaign_id, "ContactId": contact_id}])
    )

    with pytest.raises(SalesforceMalformedRequest) as cleared:
        sf.CampaignMember.update(member_id, {"Status": None})

    assert cleared.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert client.get("CampaignMember", member_id)["Status"] == "Sent"


@pytest.mark.parametrize("field", ["HasResponded", "FirstRespondedDate", "CampaignId"])
def test_derived_and_create_only_member_fields_cannot_be_updated(client, field):
    campaign_id = _campaign(client)
    (contact_id,) = _people(client, "Contact", 1)
    (member_id,) = _ok(
        client.create("CampaignMember", [{"CampaignId": campaign_id, "ContactId": contact_id}])
    )
    value = {"HasResponded": True, "FirstRespondedDate": "2024-05-01"}.get(field, campaign_id)

    (result,) = client.update("CampaignMember", [{"Id": member_id, field: value}])

    assert _codes(result) == ["INVALID_FIELD_FOR_INSERT_UPDATE"]


def test_counts_follow_contacts_leads_deletes_and_lead_conversion(client, org):
    campaign_id = _campaign(client)
    contact_ids = _people(client, "Contact", 3)
    lead_ids = _people(client, "Lead", 2)
    rows = [{"CampaignId": campaign_id, "ContactId": i} for i in contact_ids]
    rows += [{"CampaignId": campaign_id, "LeadId": i, "Status": "Responded"} for i in lead_ids]
    member_ids = _ok(client.create("CampaignMember", rows))
    assert _stats(client, campaign_id) == {
        "NumberOfContacts": 3,
        "NumberOfLeads": 2,
        "NumberOfResponses": 2,
        "NumberOfConvertedLeads": 0,
    }

    org.convert_lead(lead_ids[0])
    _ok(client.delete("CampaignMember", [member_ids[0], member_ids[4]]))
    _ok(client.delete("Contact", [contact_ids[1]]))  # its membership goes with it

    assert _stats(client, campaign_id) == {
        "NumberOfContacts": 1,
        "NumberOfLeads": 1,
        "NumberOfResponses": 1,
        "NumberOfConvertedLeads": 1,
    }


def test_all_or_none_rolls_back_members_and_their_counts(client, sf):
    campaign_id = _campaign(client)
    contact_ids = _people(client, "Contact", 2)
    body = {
        "allOrNone": True,
        "records": [
            {"attributes": {"type": "CampaignMember"}, "CampaignId": campaign_id, "ContactId": i}
            for i in (contact_ids[0], contact_ids[1], contact_ids[0])
        ],
    }

    answer = sf.restful("composite/sobjects", method="POST", json=body)

    assert [item["success"] for item in answer] == [False, False, False]
    assert answer[2]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert answer[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert _stats(client, campaign_id)["NumberOfContacts"] == 0
    assert client.query_count("SELECT COUNT() FROM CampaignMember") == 0


# --- CampaignMemberStatus ----------------------------------------------------------------------


def test_labels_are_unique_per_campaign_and_new_ones_go_last(client, sf):
    campaign_id = _campaign(client)
    other = _campaign(client, "Other")
    sent_id = _status_id(client, campaign_id, "Sent")

    opened = sf.CampaignMemberStatus.create({"CampaignId": campaign_id, "Label": "Opened"})["id"]
    again, elsewhere = client.create(
        "CampaignMemberStatus",
        [
            {"CampaignId": campaign_id, "Label": "SENT"},
            {"CampaignId": other, "Label": "Opened"},
        ],
    )
    with pytest.raises(SalesforceMalformedRequest) as rest:
        sf.CampaignMemberStatus.create({"CampaignId": campaign_id, "Label": "Sent"})
    (renamed,) = client.update("CampaignMemberStatus", [{"Id": opened, "Label": "responded"}])

    assert client.get("CampaignMemberStatus", opened)["SortOrder"] == 3
    assert _codes(again) == _codes(renamed) == ["DUPLICATE_VALUE"]
    assert again.errors[0].message == (
        f"duplicate value found: Label duplicates value on record with id: {sent_id}"
    )
    assert rest.value.content[0]["errorCode"] == "DUPLICATE_VALUE"
    assert elsewhere.success


def test_sort_orders_are_unique_per_campaign(client):
    campaign_id = _campaign(client)

    (taken,) = client.create(
        "CampaignMemberStatus", [{"CampaignId": campaign_id, "Label": "Opened", "SortOrder": 2}]
    )
    (free,) = client.create(
        "CampaignMemberStatus", [{"CampaignId": campaign_id, "Label": "Opened", "SortOrder": 10}]
    )

    assert _codes(taken) == ["DUPLICATE_VALUE"] and "SortOrder" in taken.errors[0].message
    assert free.success


def test_exactly_one_default_status(client, sf):
    campaign_id = _campaign(client)
    sent_id = _status_id(client, campaign_id, "Sent")

    (invited,) = _ok(
        client.create(
            "CampaignMemberStatus",
            [{"CampaignId": campaign_id, "Label": "Invited", "IsDefault": True}],
        )
    )
    assert [s["Label"] for s in _statuses(client, campaign_id) if s["IsDefault"]] == ["Invited"]

    with pytest.raises(SalesforceMalformedRequest) as unset:
        sf.CampaignMemberStatus.update(invited, {"IsDefault": False})
    sf.CampaignMemberStatus.update(sent_id, {"IsDefault": True})

    assert unset.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert [s["Label"] for s in _statuses(client, campaign_id) if s["IsDefault"]] == ["Sent"]


def test_the_last_responded_status_keeps_its_flag(client, sf):
    campaign_id = _campaign(client)
    responded_id = _status_id(client, campaign_id, "Responded")

    (result,) = client.update("CampaignMemberStatus", [{"Id": responded_id, "HasResponded": False}])
    sf.CampaignMemberStatus.create(
        {"CampaignId": campaign_id, "Label": "Clicked", "HasResponded": True}
    )
    sf.CampaignMemberStatus.update(responded_id, {"HasResponded": False})

    assert _codes(result) == ["FIELD_INTEGRITY_EXCEPTION"]
    assert [s["Label"] for s in _statuses(client, campaign_id) if s["HasResponded"]] == ["Clicked"]


def test_statuses_in_use_the_default_and_the_last_responded_cannot_be_deleted(org, sf):
    with _client(org) as client:
        campaign_id = _campaign(client)
        (contact_id,) = _people(client, "Contact", 1)
        sf.CampaignMemberStatus.create({"CampaignId": campaign_id, "Label": "Opened"})
        sf.CampaignMemberStatus.create({"CampaignId": campaign_id, "Label": "Unused"})
        _ok(
            client.create(
                "CampaignMember",
                [{"CampaignId": campaign_id, "ContactId": contact_id, "Status": "Opened"}],
            )
        )
        ids = {s["Label"]: s["Id"] for s in _statuses(client, campaign_id)}

        with pytest.raises(SalesforceMalformedRequest) as default:
            sf.CampaignMemberStatus.delete(ids["Sent"])
        in_use, last_responded = client.delete(
            "CampaignMemberStatus", [ids["Opened"], ids["Responded"]]
        )
        (bulk,) = client.hard_delete("CampaignMemberStatus", [ids["Opened"]])
        (unused,) = client.delete("CampaignMemberStatus", [ids["Unused"]])

        assert default.value.content[0]["errorCode"] == "DELETE_FAILED"
        assert _codes(in_use) == _codes(last_responded) == _codes(bulk) == ["DELETE_FAILED"]
        assert unused.success
        labels = [s["Label"] for s in _statuses(client, campaign_id)]
        assert labels == ["Sent", "Responded", "Opened"]


def test_changing_a_statuss_responded_flag_or_label_carries_over_to_its_members(client, sf):
    campaign_id = _campaign(client)
    contact_ids = _people(client, "Contact", 3)
    opened = sf.CampaignMemberStatus.create({"CampaignId": campaign_id, "Label": "Opened"})["id"]
    rows = [{"CampaignId": campaign_id, "ContactId": i, "Status": "Opened"} for i in contact_ids]
    rows[2]["Status"] = "Sent"
    member_ids = _ok(client.create("CampaignMember", rows))

    sf.CampaignMemberStatus.update(opened, {"HasResponded": True})

    members = [client.get("CampaignMember", i) for i in member_ids]
    assert [m["HasResponded"] for m in members] == [True, True, False]
    assert members[0]["FirstRespondedDate"]
    assert _stats(client, campaign_id)["NumberOfResponses"] == 2

    _ok(client.update("CampaignMemberStatus", [{"Id": opened, "Label": "Opened email"}]))

    assert [client.get("CampaignMember", i)["Status"] for i in member_ids] == [
        "Opened email",
        "Opened email",
        "Sent",
    ]
    status_field = next(
        f for f in client.describe("CampaignMember")["fields"] if f["name"] == "Status"
    )
    assert {"Sent", "Responded", "Opened email"} <= {
        v["value"] for v in status_field["picklistValues"]
    }


def test_statuses_can_be_written_with_bulk_and_keep_the_same_rules(org):
    with _client(org) as client:
        campaign_id = _campaign(client)
        rows = [
            {"CampaignId": campaign_id, "Label": "Opened"},
            {"CampaignId": campaign_id, "Label": "Clicked", "HasResponded": True},
            {"CampaignId": campaign_id, "Label": "opened"},
        ]

        results = client.upsert_bulk("CampaignMemberStatus", "Id", rows)

        assert [r.success for r in results] == [True, True, False]
        assert _codes(results[2]) == ["DUPLICATE_VALUE"]
        assert [(s["Label"], s["SortOrder"]) for s in _statuses(client, campaign_id)] == [
            ("Sent", 1),
            ("Responded", 2),
            ("Opened", 3),
            ("Clicked", 4),
        ]


# --- composite and persistence -----------------------------------------------------------------


def _composite(sf, all_or_none, *subrequests):
    body = {"allOrNone": all_or_none, "compositeRequest": list(subrequests)}
    return sf.restful("composite", method="POST", json=body)["compositeResponse"]


def _post(reference, sobject, body):
    url = f"/services/data/v59.0/sobjects/{sobject}"
    return {"method": "POST", "url": url, "referenceId": reference, "body": body}


def test_composite_builds_a_campaign_with_its_own_status_and_rolls_all_of_it_back(client, sf):
    (contact_id,) = _people(client, "Contact", 1)
    campaign = {"Name": "Webinar", "Type": "Webinar"}
    status = {"CampaignId": "@{camp.id}", "Label": "Attended", "HasResponded": True}
    member = {"CampaignId": "@{camp.id}", "ContactId": contact_id, "Status": "Attended"}
    steps = [
        _post("camp", "Campaign", campaign),
        _post("attended", "CampaignMemberStatus", status),
        _post("member", "CampaignMember", member),
    ]
    twice = _post("again", "CampaignMember", {"CampaignId": "@{camp.id}", "ContactId": contact_id})

    failed = _composite(sf, True, *steps, twice)

    assert [a["httpStatusCode"] for a in failed] == [400, 400, 400, 400]
    assert failed[3]["body"][0]["errorCode"] == "DUPLICATE_VALUE"
    for sobject in ("Campaign", "CampaignMemberStatus", "CampaignMember"):
        assert client.query_count(f"SELECT COUNT() FROM {sobject}") == 0, sobject

    done = _composite(sf, True, *steps)

    campaign_id = done[0]["body"]["id"]
    saved = client.get("CampaignMember", done[2]["body"]["id"])
    assert (saved["Status"], saved["HasResponded"]) == ("Attended", True)
    assert _stats(client, campaign_id)["NumberOfResponses"] == 1
    assert [s["Label"] for s in _statuses(client, campaign_id)] == ["Sent", "Responded", "Attended"]


def test_campaign_records_and_learned_status_labels_survive_a_restart(make_sf_sandbox, tmp_path):
    state = tmp_path / "persisted"
    first = make_sf_sandbox(seed="empty", persist=True, state_dir=state)
    with _client(first) as client:
        campaign_id = _campaign(client)
        first.salesforce().CampaignMemberStatus.create(
            {"CampaignId": campaign_id, "Label": "Registered"}
        )
        (contact_id,) = _people(client, "Contact", 1)
        rows = [{"CampaignId": campaign_id, "ContactId": contact_id, "Status": "Registered"}]
        _ok(client.create("CampaignMember", rows))
    first.stop()

    second = make_sf_sandbox(seed="empty", persist=True, state_dir=state)

    with _client(second) as client:
        assert _stats(client, campaign_id)["NumberOfContacts"] == 1
        status = next(
            f for f in client.describe("CampaignMember")["fields"] if f["name"] == "Status"
        )
        assert "Registered" in [v["value"] for v in status["picklistValues"]]
        (duplicate,) = client.create(
            "CampaignMember", [{"CampaignId": campaign_id, "ContactId": contact_id}]
        )
        assert _codes(duplicate) == ["DUPLICATE_VALUE"]


@pytest.mark.parametrize("how", ["rest", "collections", "bulk"])
def test_campaigns_upserted_by_an_external_id_follow_the_same_rules(org, sf, how):
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": "Campaign.CM_Key__c",
            "Metadata": {"label": "CM Key", "type": "Text", "length": 80, "externalId": True},
        },
    )

    def upsert(client, row):
        if how == "rest":
            key = row.pop("CM_Key__c")
            try:
                sf.Campaign.upsert(f"CM_Key__c/{key}", row)
            except SalesforceMalformedRequest as refused:
                return refused.content[0]["errorCode"]
            return None
        write = client.upsert_bulk if how == "bulk" else client.upsert_collections
        (result,) = write("Campaign", "CM_Key__c", [row])
        return None if result.success else _codes(result)[0]

    with _client(org) as client:
        assert upsert(client, {"CM_Key__c": "cm-1", "Name": "Issue 1", "NumberSent": 40}) is None
        assert upsert(client, {"CM_Key__c": "cm-1", "Name": "Issue 1", "NumberSent": 42}) is None
        refused = upsert(client, {"CM_Key__c": "cm-1", "NumberOfResponses": 3})

        (campaign,) = client.query_iter(
            "SELECT Id, NumberSent, NumberOfResponses FROM Campaign WHERE CM_Key__c = 'cm-1'"
        )
        assert (campaign["NumberSent"], campaign["NumberOfResponses"]) == (42, 0)
        assert [s["Label"] for s in _statuses(client, campaign["Id"])] == ["Sent", "Responded"]
        assert refused == "INVALID_FIELD_FOR_INSERT_UPDATE"
