"""Seed data for the sandbox org.

``empty``: the organisation, a System Administrator profile and the admin user
(``config.sf_username``). ``demo`` adds users (active and inactive), permission sets and
assignments, accounts, and ``config.subscribers`` contacts and leads from
:func:`sandbox.sf.people.demo_people`: about 40% / 15% of them hold the addresses of Campaign
Monitor demo subscribers of the same config, a few of those Contacts twice (the older copy last
modified 30-400 days ago, as real orgs have duplicates); email campaigns under a parent campaign,
with members, a webinar with its own member statuses and a sent newsletter with NumberSent;
reports and list views. Everything is drawn from ``random.Random(config.random_seed)`` so a seed
is reproducible (only dates move with the clock).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

from sandbox.config import SandboxConfig

from . import people
from .store import sf_datetime

if TYPE_CHECKING:
    from .app import SalesforceApp

ADMIN_PROFILE = "System Administrator"


def seed_org(app: SalesforceApp, config: SandboxConfig) -> None:
    store = app.store
    schema = app.schema
    with store.atomic():
        org = _insert(
            app,
            "Organization",
            {
                "Name": "cmsync Sandbox Org",
                "OrganizationType": "Developer Edition",
                "IsSandbox": True,
                "InstanceName": "CS42",
            },
        )
        app.org_id = org["Id"]
        app.tokens.org_id = org["Id"]
        admin_profile = _insert(app, "Profile", {"Name": ADMIN_PROFILE, "UserType": "Standard"})
        _insert(app, "Profile", {"Name": "Standard User", "UserType": "Standard"})
        _insert(app, "Profile", {"Name": "Marketing User", "UserType": "Standard"})
        admin = store.create(
            schema.objects["User"],
            _user_values(config.sf_username, "Sandbox", "Admin", admin_profile["Id"], True),
        )
        app.admin_user_id = admin["Id"]
        store.user_id = admin["Id"]
        for table in store.tables.values():
            for record in table.values():
                record["CreatedById"] = record["LastModifiedById"] = admin["Id"]
                if "OwnerId" in record:
                    record["OwnerId"] = admin["Id"]
        if config.seed == "demo":
            seed_demo(app, config, admin_profile["Id"])


def _insert(app: SalesforceApp, sobject: str, values: dict[str, Any]) -> dict[str, Any]:
    """Create bypassing the read-only checks (for objects the API cannot create)."""
    definition = app.schema.objects[sobject]
    record = app.store._template(definition)
    record.update(values)
    stamp = "2024-01-02T09:00:00.000+0000"
    record.update(
        Id=app.store.ids.new(definition.key_prefix),
        IsDeleted=False,
        CreatedDate=stamp,
        LastModifiedDate=stamp,
        SystemModstamp=stamp,
        CreatedById=app.store.user_id or None,
        LastModifiedById=app.store.user_id or None,
    )
    app.store._put(sobject, record)
    return record


def _user_values(username: str, first: str, last: str, profile_id: str, active: bool):
    return {
        "Username": username,
        "Email": username if "@" in username else f"{username}@example.com",
        "FirstName": first,
        "LastName": last,
        "Alias": (first[:1] + last[:7]).lower(),
        "ProfileId": profile_id,
        "IsActive": active,
        "TimeZoneSidKey": "Europe/London",
        "LocaleSidKey": "en_GB",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
    }


def seed_demo(app: SalesforceApp, config: SandboxConfig, profile_id: str) -> None:
    rng = random.Random(config.random_seed)
    store = app.store
    objects = app.schema.objects
    users = [store.get("User", app.admin_user_id)]
    for index, (first, last, active) in enumerate(
        [
            ("Maria", "Lopez", True),
            ("Tom", "Becker", True),
            ("Aisha", "Khan", True),
            ("Jonas", "Berg", False),
            ("Chloe", "Martin", False),
        ]
    ):
        values = _user_values(
            f"{first.lower()}.{last.lower()}@sandbox.cmsync", first, last, profile_id, active
        )
        values["Title"] = ["Sales Rep", "Marketing Manager", "Sales Rep", "Analyst", "Intern"][
            index
        ]
        users.append(store.create(objects["User"], values))
    active_users = [u for u in users if u["IsActive"]]

    permission_sets = []
    for name, label in [
        ("CM_Sync_Integration", "CM Sync Integration"),
        ("Marketing_Console", "Marketing Console"),
        ("Sales_Ops", "Sales Operations"),
    ]:
        permission_sets.append(
            store.create(
                objects["PermissionSet"],
                {
                    "Name": name,
                    "Label": label,
                    "PermissionsApiEnabled": True,
                    "Description": f"{label} access",
                },
            )
        )
    store.create(
        objects["PermissionSetAssignment"],
        {"AssigneeId": app.admin_user_id, "PermissionSetId": permission_sets[0]["Id"]},
    )
    for user in users[1:4]:
        store.create(
            objects["PermissionSetAssignment"],
            {"AssigneeId": user["Id"], "PermissionSetId": permission_sets[1]["Id"]},
        )

    population = people.demo_people(config.subscribers, config.random_seed)
    accounts = []
    for company in sorted({p.company for p in population})[:40]:
        accounts.append(
            store.create(
                objects["Account"],
                {
                    "Name": company,
                    "Industry": rng.choice(["Banking", "Retail", "Technology", "Media"]),
                    "OwnerId": rng.choice(active_users)["Id"],
                },
            )
        )
    account_by_name = {a["Name"]: a for a in accounts}
    contacts, leads = [], []
    for person in population:
        values = {
            "FirstName": person.first_name,
            "LastName": person.last_name,
            "Email": person.email,
            "OwnerId": rng.choice(active_users)["Id"],
            "LeadSource": rng.choice(["Web", "Phone Inquiry", "Partner Referral"]),
        }
        if person.sobject == "Lead":
            values["Company"] = person.company
            leads.append(store.create(objects["Lead"], values))
            continue
        account = account_by_name.get(person.company)
        values["AccountId"] = account["Id"] if account else None
        if person.duplicated:  # an older copy of the same person, as real orgs have
            older = store.create(objects["Contact"], values)
            contacts.append(_backdate(app, "Contact", older, rng.randint(30, 400)))
        contacts.append(store.create(objects["Contact"], values))

    _seed_campaigns(app, rng, contacts, leads)
    _seed_reports_and_views(app)


# The demo's Salesforce campaigns: (name, Status, days from today to StartDate, member statuses
# beyond the default "Sent" / "Responded" as (Label, IsDefault, HasResponded), or none).
DEMO_CAMPAIGNS = [
    ("Spring Newsletter", "Completed", -120, ()),
    (
        "Summer Webinar",
        "In Progress",
        -20,
        (("Registered", True, False), ("Attended", False, True)),
    ),
    ("Autumn Product Launch", "Planned", 40, ()),
]


def _seed_campaigns(
    app: SalesforceApp, rng: random.Random, contacts: list[dict], leads: list[dict]
) -> None:
    """Three email campaigns under a parent; the first two have members (15 contacts and 5 leads
    each), the webinar its own member statuses; a sent campaign carries NumberSent."""
    store, objects = app.store, app.schema.objects
    today = store.now().date()
    parent = store.create(
        objects["Campaign"], {"Name": "Email Marketing", "Type": "Email", "IsActive": True}
    )
    campaigns = []
    for name, status, start, statuses in DEMO_CAMPAIGNS:
        values = {
            "Name": name,
            "Status": status,
            "Type": "Email",
            "IsActive": status != "Completed",
            "ParentId": parent["Id"],
            "StartDate": (today + dt.timedelta(days=start)).isoformat(),
            "EndDate": (today + dt.timedelta(days=start + 30)).isoformat(),
        }
        campaign = store.create(objects["Campaign"], values)
        for order, (label, default, responded) in enumerate(statuses, start=3):
            store.create(
                objects["CampaignMemberStatus"],
                {
                    "CampaignId": campaign["Id"],
                    "Label": label,
                    "IsDefault": default,
                    "HasResponded": responded,
                    "SortOrder": order,
                },
            )
        campaigns.append((campaign, [label for label, _d, _r in statuses]))
    for campaign, labels in campaigns[:2]:
        # The webinar's people registered or attended; the newsletter's were sent or responded.
        choices = labels or ["Sent", "Responded"]
        members = rng.sample(contacts, min(len(contacts), 15))
        for contact in members:
            store.create(
                objects["CampaignMember"],
                {
                    "CampaignId": campaign["Id"],
                    "ContactId": contact["Id"],
                    "Status": rng.choice(choices),
                },
            )
        for lead in rng.sample(leads, min(len(leads), 5)):
            store.create(
                objects["CampaignMember"], {"CampaignId": campaign["Id"], "LeadId": lead["Id"]}
            )
    newsletter = campaigns[0][0]
    member_campaign = objects["CampaignMember"].fields["CampaignId"]
    sent = len(store.find_by("CampaignMember", member_campaign, newsletter["Id"]))
    store.update(objects["Campaign"], newsletter["Id"], {"NumberSent": float(sent)})


def _backdate(
    app: SalesforceApp, sobject: str, record: dict[str, Any], days: int
) -> dict[str, Any]:
    """``record`` as if created and last modified ``days`` ago (the older of two duplicates)."""
    stamp = sf_datetime(app.store.now() - dt.timedelta(days=days))
    record = {**record, "CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp}
    app.store._put(sobject, record)
    return record


def _seed_reports_and_views(app: SalesforceApp) -> None:
    from . import analytics

    analytics.add_report(
        app,
        "Newsletter Contacts",
        "Contact",
        ["Id", "FirstName", "LastName", "Email", "Account.Name"],
        "Email != null",
        "Marketing Reports",
    )
    analytics.add_report(
        app,
        "Open Leads",
        "Lead",
        ["Id", "FirstName", "LastName", "Email", "Company", "Status"],
        "IsConverted = false",
        "Sales Reports",
    )
    analytics.add_list_view(app, "Contact", "All Contacts", ["Name", "Email", "Account.Name"], "")
    analytics.add_list_view(
        app, "Contact", "Opted Out Contacts", ["Name", "Email"], "HasOptedOutOfEmail = true"
    )
    analytics.add_list_view(
        app, "Lead", "All Open Leads", ["Name", "Email", "Company", "Status"], "IsConverted = false"
    )
