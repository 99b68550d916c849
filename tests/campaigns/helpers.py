"""Reading what landed in the Salesforce sandbox, for the Salesforce Campaigns tests."""

from __future__ import annotations

from collections import Counter

from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce_schema import CAMPAIGN_OBJECT


def cm_client(cm_sandbox) -> CampaignMonitorClient:
    return CampaignMonitorClient(
        cm_sandbox.api_key, base_url=cm_sandbox.api_base, ca_bundle=cm_sandbox.ca_file
    )


def cms_campaign(sf_sandbox, cm_campaign_id: str) -> dict | None:
    rows = [r for r in sf_sandbox.app.records(CAMPAIGN_OBJECT) if r["CM_Key__c"] == cm_campaign_id]
    return rows[0] if rows else None


def members(sf_sandbox, sf_campaign_id: str) -> list[dict]:
    return [
        m
        for m in sf_sandbox.app.records("CampaignMember")
        if m["CampaignId"] == sf_campaign_id and not m.get("IsDeleted")
    ]


def member_people(sf_sandbox, sf_campaign_id: str) -> Counter:
    """How many members each person has on the Campaign (1 each when there are no duplicates)."""
    return Counter(m["ContactId"] or m["LeadId"] for m in members(sf_sandbox, sf_campaign_id))


def matched_recipients(cm_sandbox, sf_sandbox, cm_campaign_id: str) -> set[str]:
    """The Contact (else live Lead) ids the campaign's recipients match in Salesforce."""
    emails = {
        (r.get("EmailAddress") or "").strip().lower()
        for r in cm_client(cm_sandbox).iter_campaign_recipients(cm_campaign_id)
    }
    contacts, leads = {}, {}
    for row in sf_sandbox.app.records("Contact"):
        if (row.get("Email") or "").lower() in emails and not row.get("IsDeleted"):
            contacts.setdefault(row["Email"].lower(), row["Id"])
    for row in sf_sandbox.app.records("Lead"):
        email = (row.get("Email") or "").lower()
        if email in emails and not row.get("IsConverted") and not row.get("IsDeleted"):
            leads.setdefault(email, row["Id"])
    return {contacts.get(e) or leads[e] for e in emails if e in contacts or e in leads}
