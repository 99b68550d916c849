"""Campaign member aggregates: CampaignMember statistics from the tracking records cmsync stores.

For every cmsync campaign linked to a Salesforce Campaign, the
people its stored tracking records point at (Contact, else Lead) become CampaignMembers with
cmsync's statistics fields: sent, opens, clicks, bounced, unsubscribed, spam complaint, last
activity. Only records cmsync stores count, so the Storage settings (days and types kept) shape
the numbers. The tracking rows are read ordered by person, so one person is aggregated at a time
and memory stays bounded however large the campaign.

Which Campaign a CM campaign is linked to is asked of the campaign hooks
(:mod:`sync.engine.extensions`): the Salesforce Campaigns feature answers from the links cmsync
stores, never from a field someone may have edited in Salesforce. Without that feature the link is
read from ``CMS_Campaign__c.Campaign__c``. A campaign whose link moved to another Campaign is
aggregated again.

A member's ``Status`` is the campaign hooks' too (``member_statuses``): the Salesforce Campaigns
feature maps the member's activities to its status labels, moving a member only forward. Without
it no Status is written (a new member gets its Campaign's default status). The status settings'
version is part of each campaign's marker, so changing them aggregates the campaigns again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sync.clients.salesforce_schema import CAMPAIGN_OBJECT, EXTERNAL_ID, TRACKING_OBJECT
from sync.engine.extensions import CampaignStep, MemberStatusPolicy, campaign_hooks
from sync.engine.matcher import soql_list, soql_string
from sync.engine.records import fingerprint
from sync.engine.writer import Outcome, SalesforceWriter
from sync.models import CMClient, EmailType, SyncCursor, SyncedRecord

MEMBER = "CampaignMember"
BATCH = 200


@dataclass
class MemberStats:
    contact_id: str | None
    lead_id: str | None
    sent: bool = False
    opens: int = 0
    clicks: int = 0
    bounced: bool = False
    unsubscribed: bool = False
    spam: bool = False
    last_activity: str | None = None

    @property
    def person_id(self) -> str:
        return self.contact_id or self.lead_id or ""

    def add(self, event_type: str, when: str | None) -> None:
        if event_type == EmailType.SENT:
            self.sent = True
        elif event_type == EmailType.OPENED:
            self.opens += 1
        elif event_type == EmailType.CLICKED:
            self.clicks += 1
        elif event_type == EmailType.BOUNCED:
            self.bounced = True
        elif event_type == EmailType.UNSUBSCRIBED:
            self.unsubscribed = True
        elif event_type == EmailType.SPAM_COMPLAINT:
            self.spam = True
        if when and (self.last_activity is None or when > self.last_activity):
            self.last_activity = when

    def activities(self) -> frozenset[str]:
        """The email types the person's stored tracking records show."""
        seen = {
            EmailType.SENT: self.sent,
            EmailType.OPENED: self.opens > 0,
            EmailType.CLICKED: self.clicks > 0,
            EmailType.BOUNCED: self.bounced,
            EmailType.UNSUBSCRIBED: self.unsubscribed,
            EmailType.SPAM_COMPLAINT: self.spam,
        }
        return frozenset(str(kind) for kind, present in seen.items() if present)

    def fields(self) -> dict[str, Any]:
        return {
            "CMS_Sent__c": self.sent,
            "CMS_Opens__c": self.opens,
            "CMS_Clicks__c": self.clicks,
            "CMS_Bounced__c": self.bounced,
            "CMS_Unsubscribed__c": self.unsubscribed,
            "CMS_Spam_Complaint__c": self.spam,
            "CMS_Last_Activity__c": self.last_activity,
        }


def update_campaign_members(
    writer: SalesforceWriter,
    cm_client: CMClient,
    changed_campaigns: set[str],
    step: CampaignStep | None = None,
) -> int:
    """Refresh member statistics of linked campaigns that changed (or were never aggregated,
    or were aggregated under other status settings)."""
    hooks = campaign_hooks()
    linked = hooks.linked_campaigns(cm_client)
    if linked is None:
        linked = _linked_campaigns(writer, cm_client.cm_client_id)
    done = dict(
        SyncCursor.objects.filter(
            cm_client=cm_client, stream__in=[f"aggregates:{cid}" for cid in linked]
        ).values_list("stream", "marker")
    )
    version = hooks.member_status_version(cm_client)
    written = 0
    for cm_campaign_id, sf_campaign_id in linked.items():
        marker = f"aggregates:{cm_campaign_id}"
        value = f"{sf_campaign_id}:{version}" if version else sf_campaign_id
        if cm_campaign_id not in changed_campaigns and done.get(marker) == value:
            continue
        policy = hooks.member_statuses(step, sf_campaign_id) if step else MemberStatusPolicy()
        written += _aggregate_campaign(writer, cm_client, cm_campaign_id, sf_campaign_id, policy)
        SyncCursor.objects.update_or_create(
            cm_client=cm_client, stream=marker, defaults={"marker": value}
        )
    return written


def _linked_campaigns(writer: SalesforceWriter, client_id: str) -> dict[str, str]:
    soql = (
        f"SELECT {EXTERNAL_ID}, Campaign__c FROM {CAMPAIGN_OBJECT} "
        f"WHERE CM_Client_ID__c = {soql_string(client_id)} AND Campaign__c != null"
    )
    return {row[EXTERNAL_ID]: row["Campaign__c"] for row in writer.sf.query_iter(soql)}


def _people_stats(writer: SalesforceWriter, cm_campaign_id: str) -> Iterator[MemberStats]:
    """Stored tracking rows of one campaign, grouped person by person (rows come sorted)."""
    soql = (
        f"SELECT Contact__c, Lead__c, Event_Type__c, Event_Date__c FROM {TRACKING_OBJECT} "
        f"WHERE CM_Campaign_ID__c = {soql_string(cm_campaign_id)} "
        "AND (Contact__c != null OR Lead__c != null) ORDER BY Contact__c, Lead__c"
    )
    current: MemberStats | None = None
    for row in writer.sf.query_iter(soql):
        contact, lead = row.get("Contact__c"), row.get("Lead__c")
        key = contact or lead
        if current is None or key != current.person_id:
            if current is not None:
                yield current
            current = MemberStats(contact_id=contact, lead_id=None if contact else lead)
        current.add(row.get("Event_Type__c") or "", row.get("Event_Date__c"))
    if current is not None:
        yield current


def _aggregate_campaign(
    writer: SalesforceWriter,
    cm_client: CMClient,
    cm_campaign_id: str,
    sf_campaign_id: str,
    policy: MemberStatusPolicy,
) -> int:
    written = 0
    for batch in _batches(_people_stats(writer, cm_campaign_id), BATCH):
        written += _write_members(writer, cm_client, sf_campaign_id, batch, policy)
    return written


def _batches(items: Iterable[MemberStats], size: int) -> Iterator[list[MemberStats]]:
    batch: list[MemberStats] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _member_print(person: MemberStats, policy: MemberStatusPolicy) -> str:
    target = policy.target(person.activities())
    fields = person.fields()
    # Without a status the fingerprint is the statistics' alone, as before statuses were mapped.
    return fingerprint(fields if target is None else {**fields, "Status": target})


def _write_members(
    writer: SalesforceWriter,
    cm_client: CMClient,
    sf_campaign_id: str,
    people: list[MemberStats],
    policy: MemberStatusPolicy,
) -> int:
    connection = cm_client.connection
    keys = {p.person_id: f"{sf_campaign_id}:{p.person_id}" for p in people}
    prints = {p.person_id: _member_print(p, policy) for p in people}
    known = dict(
        SyncedRecord.objects.filter(
            connection=connection, sobject=MEMBER, cm_key__in=keys.values()
        ).values_list("cm_key", "fingerprint")
    )
    changed = [p for p in people if known.get(keys[p.person_id]) != prints[p.person_id]]
    if not changed:
        return 0
    existing = _existing_members(writer, sf_campaign_id, changed)
    updates = [
        _member_update(existing[p.person_id], p, policy) for p in changed if p.person_id in existing
    ]
    creates = [
        _new_member(sf_campaign_id, p, policy) for p in changed if p.person_id not in existing
    ]
    results = []
    if updates:
        results += list(zip(updates, writer.sf.update(MEMBER, updates), strict=True))
    if creates:
        results += list(zip(creates, writer.sf.create(MEMBER, creates), strict=True))
    ids = {member_id: person for person, (member_id, _) in existing.items()}
    outcomes = []
    for record, result in results:
        person = record.get("ContactId") or record.get("LeadId") or ids.get(record.get("Id"), "")
        outcomes.append(Outcome(keys[person], prints[person], result, sf_id=record.get("Id", "")))
    before = writer.written[MEMBER]
    writer.record_outcomes(MEMBER, outcomes)
    return writer.written[MEMBER] - before


def _existing_members(
    writer: SalesforceWriter, sf_campaign_id: str, people: list[MemberStats]
) -> dict[str, tuple[str, str | None]]:
    """Person id → (CampaignMember id, its Status) for the people already on the campaign."""
    contacts = [p.contact_id for p in people if p.contact_id]
    leads = [p.lead_id for p in people if p.lead_id]
    clauses = []
    if contacts:
        clauses.append(f"ContactId IN {soql_list(contacts)}")
    if leads:
        clauses.append(f"LeadId IN {soql_list(leads)}")
    soql = (
        f"SELECT Id, ContactId, LeadId, Status FROM {MEMBER} "
        f"WHERE CampaignId = {soql_string(sf_campaign_id)} AND ({' OR '.join(clauses)})"
    )
    found: dict[str, tuple[str, str | None]] = {}
    for row in writer.sf.query_iter(soql):
        person = row.get("ContactId") or row.get("LeadId")
        if person:
            found[person] = (row["Id"], row.get("Status"))
    return found


def _member_update(
    member: tuple[str, str | None], person: MemberStats, policy: MemberStatusPolicy
) -> dict[str, Any]:
    member_id, current = member
    record: dict[str, Any] = {"Id": member_id, **person.fields()}
    status = policy.status(person.activities(), current or "")
    if status is not None:
        record["Status"] = status
    return record


def _new_member(
    sf_campaign_id: str, person: MemberStats, policy: MemberStatusPolicy
) -> dict[str, Any]:
    record: dict[str, Any] = {"CampaignId": sf_campaign_id, **person.fields()}
    status = policy.status(person.activities(), None)
    if status is not None:  # none: the Campaign's default status applies
        record["Status"] = status
    if person.contact_id:
        record["ContactId"] = person.contact_id
    else:
        record["LeadId"] = person.lead_id
    return record
