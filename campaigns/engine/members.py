"""A linked campaign's recipients who are Contacts or Leads become its CampaignMembers.

CampaignMember has no external id, so "one per campaign and person" is kept by Salesforce's own
rule and by asking first: the recipients are read page by page from Campaign Monitor, matched to
Contacts and Leads (a Contact wins over a Lead with the same address), the members the Campaign
already has among them are read back (one query per page), and only the others are created,
without a Status (the Campaign's default applies). A ``DUPLICATE_VALUE`` refusal means the member
is there already (a retry, a concurrent run): counted as present, never as a failure.

A pass that ends without failures is remembered on the link (for which Campaign, and the people
cursor then): it runs again only for a new link, or when recipients matched nobody and Contacts
or Leads changed since, so a person who becomes a Contact or Lead later is added on a later run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce import SalesforceClient
from sync.engine.matcher import ContactMatcher, soql_list, soql_string
from sync.engine.records import normalise_email

MEMBER = "CampaignMember"
PAGE = 200
ALREADY_THERE = "DUPLICATE_VALUE"


@dataclass
class MemberPass:
    created: int = 0
    already: int = 0
    unmatched: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failed


def add_recipients(
    cm: CampaignMonitorClient,
    sf: SalesforceClient,
    matcher: ContactMatcher,
    cm_campaign_id: str,
    sf_campaign_id: str,
    on_page: Callable[[], None] | None = None,
) -> MemberPass:
    """Make every matched recipient of the CM campaign a member of the Salesforce Campaign."""
    result = MemberPass()
    recipients = (r.get("EmailAddress") or "" for r in cm.iter_campaign_recipients(cm_campaign_id))
    for emails in _pages(recipients, PAGE):
        _add_page(sf, matcher, sf_campaign_id, emails, result)
        if on_page:
            on_page()
    return result


def _pages(emails: Iterable[str], size: int) -> Iterator[list[str]]:
    page: list[str] = []
    for email in emails:
        normal = normalise_email(email)
        if normal:
            page.append(normal)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def _add_page(
    sf: SalesforceClient,
    matcher: ContactMatcher,
    sf_campaign_id: str,
    emails: list[str],
    result: MemberPass,
) -> None:
    links = matcher.links_for(emails)
    people: dict[str, str] = {}  # person id → "ContactId" / "LeadId"
    for email in set(emails):
        link = links.get(email)
        if link and link.contact_id:
            people[link.contact_id] = "ContactId"
        elif link and link.lead_id:
            people[link.lead_id] = "LeadId"
        else:
            result.unmatched += 1
    if not people:
        return
    present = _members_among(sf, sf_campaign_id, people)
    result.already += len(present)
    wanted = [
        {"CampaignId": sf_campaign_id, kind: person}
        for person, kind in people.items()
        if person not in present
    ]
    if not wanted:
        return
    for outcome in sf.create(MEMBER, wanted):
        if outcome.success:
            result.created += 1
        elif any(error.code == ALREADY_THERE for error in outcome.errors):
            result.already += 1
        else:
            result.failed += 1
            if len(result.reasons) < 5:
                result.reasons.append(outcome.error_text)


def _members_among(sf: SalesforceClient, sf_campaign_id: str, people: dict[str, str]) -> set[str]:
    """The people (Contact / Lead ids) already members of the Campaign."""
    contacts = [p for p, kind in people.items() if kind == "ContactId"]
    leads = [p for p, kind in people.items() if kind == "LeadId"]
    clauses = []
    if contacts:
        clauses.append(f"ContactId IN {soql_list(contacts)}")
    if leads:
        clauses.append(f"LeadId IN {soql_list(leads)}")
    soql = (
        f"SELECT ContactId, LeadId FROM {MEMBER} "
        f"WHERE CampaignId = {soql_string(sf_campaign_id)} AND ({' OR '.join(clauses)})"
    )
    found: set[str] = set()
    for row in sf.query_iter(soql):
        for person in (row.get("ContactId"), row.get("LeadId")):
            if person:
                found.add(str(person))
                found.add(str(person)[:15])
    return {p for p in people if p in found or p[:15] in found}
