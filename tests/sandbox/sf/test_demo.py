"""The demo org: people shared with the CM demo, users, permission sets, reports, list views."""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox.sf import people


@pytest.fixture
def sf(sf_sandbox):
    return sf_sandbox.salesforce()


def test_demo_people_share_addresses_with_the_documented_generator(sf_sandbox):
    expected = {
        p.email
        for p in people.demo_people(sf_sandbox.config.subscribers, sf_sandbox.config.random_seed)
    }
    emails = [
        r["Email"] for sobject in ("Contact", "Lead") for r in sf_sandbox.app.records(sobject)
    ]

    assert set(emails) <= expected
    assert len(set(emails)) >= len(expected) * 0.8
    assert any(count > 1 for count in Counter(emails).values()), "real orgs have duplicates"


def test_demo_is_reproducible_from_the_random_seed(make_sf_sandbox):
    def owners(sb):
        return [(r["Email"], r["OwnerId"]) for r in sb.app.records("Contact")]

    assert owners(make_sf_sandbox(random_seed=3)) == owners(make_sf_sandbox(random_seed=3))


def test_demo_users_permission_sets_and_admin(sf_sandbox, sf):
    users = sf.query("SELECT Username, IsActive FROM User")["records"]
    by_name = {u["Username"]: u["IsActive"] for u in users}

    assert by_name[sf_sandbox.username] is True
    assert False in by_name.values() and list(by_name.values()).count(True) >= 3
    names = [r["Name"] for r in sf.query("SELECT Name FROM PermissionSet")["records"]]
    assert "CM_Sync_Integration" in names
    assigned = sf.query(
        "SELECT PermissionSet.Name FROM PermissionSetAssignment "
        f"WHERE AssigneeId = '{sf_sandbox.app.admin_user_id}'"
    )["records"]
    assert [a["PermissionSet"]["Name"] for a in assigned] == ["CM_Sync_Integration"]


def test_empty_seed_has_only_the_admin_user(sf_empty_sandbox):
    app = sf_empty_sandbox.app

    assert [u["Username"] for u in app.records("User")] == [sf_empty_sandbox.username]
    assert app.records("Contact") == [] and app.records("Lead") == []


def test_reports_list_and_run_with_a_tabular_fact_map(sf):
    reports = sf.restful("analytics/reports")
    assert {r["name"] for r in reports} >= {"Newsletter Contacts", "Open Leads"}
    report = next(r for r in reports if r["name"] == "Newsletter Contacts")
    assert report["id"].startswith("00O")

    run = sf.restful(f"analytics/reports/{report['id']}")

    columns = run["reportMetadata"]["detailColumns"]
    assert columns[:4] == ["CONTACT_ID", "FIRST_NAME", "LAST_NAME", "EMAIL"]
    assert run["reportMetadata"]["reportFormat"] == "TABULAR"
    rows = run["factMap"]["T!T"]["rows"]
    total = sf.query("SELECT COUNT() FROM Contact WHERE Email != null")["totalSize"]
    assert len(rows) == total == run["factMap"]["T!T"]["aggregates"][0]["value"]
    email_cell = rows[0]["dataCells"][3]
    assert "@" in email_cell["value"] and email_cell["label"] == email_cell["value"]
    assert run["reportExtendedMetadata"]["detailColumnInfo"]["EMAIL"]["dataType"] == "email"


def test_unknown_report_is_404(sf):
    with pytest.raises(Exception) as caught:
        sf.restful("analytics/reports/00O000000000000AAA")
    assert caught.value.status == 404


def test_list_views_and_their_results(sf):
    views = sf.restful("sobjects/Contact/listviews")
    assert views["sobjectType"] == "Contact"
    view = next(v for v in views["listviews"] if v["label"] == "All Contacts")

    results = sf.restful(f"sobjects/Contact/listviews/{view['id']}/results", params={"limit": 5})
    describe = sf.restful(f"sobjects/Contact/listviews/{view['id']}/describe")

    assert results["size"] == len(sf.query_all("SELECT Id FROM Contact")["records"])
    assert len(results["records"]) == 5
    first = {c["fieldNameOrPath"]: c["value"] for c in results["records"][0]["columns"]}
    assert first["Id"].startswith("003") and "Email" in first
    assert describe["query"].startswith("SELECT Name, Email, Account.Name")
    assert {c["fieldNameOrPath"]: c["hidden"] for c in results["columns"]}["Id"] is True


def test_demo_campaigns_have_members_statuses_statistics_and_a_parent(sf):
    campaigns = sf.query(
        "SELECT Name, Type, Status, Parent.Name, NumberSent, NumberOfContacts, NumberOfLeads, "
        "NumberOfResponses, HierarchyNumberOfContacts FROM Campaign ORDER BY CreatedDate"
    )["records"]
    by_name = {c["Name"]: c for c in campaigns}

    assert list(by_name) == [
        "Email Marketing",
        "Spring Newsletter",
        "Summer Webinar",
        "Autumn Product Launch",
    ]
    assert {c["Type"] for c in campaigns} == {"Email"}
    newsletter, webinar = by_name["Spring Newsletter"], by_name["Summer Webinar"]
    assert newsletter["Parent"]["Name"] == "Email Marketing"
    assert (newsletter["NumberOfContacts"], newsletter["NumberOfLeads"]) == (15, 5)
    assert newsletter["NumberSent"] == 20
    assert by_name["Email Marketing"]["HierarchyNumberOfContacts"] == 30
    statuses = sf.query(
        "SELECT Label, IsDefault, HasResponded FROM CampaignMemberStatus "
        "WHERE Campaign.Name = 'Summer Webinar' ORDER BY SortOrder"
    )["records"]
    assert [(s["Label"], s["IsDefault"], s["HasResponded"]) for s in statuses] == [
        ("Sent", False, False),
        ("Responded", False, True),
        ("Registered", True, False),
        ("Attended", False, True),
    ]
    members = sf.query(
        "SELECT Status, HasResponded FROM CampaignMember WHERE Campaign.Name = 'Summer Webinar'"
    )["records"]
    assert {m["Status"] for m in members} <= {"Registered", "Attended"}
    responded = sum(m["HasResponded"] for m in members)
    assert responded == webinar["NumberOfResponses"] > 0
