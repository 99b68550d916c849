"""A linked campaign's recipients who are Contacts or Leads become its CampaignMembers.

CampaignMember has no external id, so "one per campaign and person" is kept by Salesforce's own
rule and by asking first: addresses are matched to Contacts and Leads (a Contact wins over a Lead
with the same address), the members the Campaign already has among them are read back (one query
per page), and only the others are created, without a Status (the Campaign's default applies). A
``DUPLICATE_VALUE`` refusal means the member is there already (a retry, a concurrent run): counted
as present, never as a failure.

- A new link gets one pass over the campaign's recipients, read page by page from Campaign
  Monitor. The recipients who match nobody are kept (``UnmatchedRecipient``), and the link
  remembers the Campaign the pass completed for; a pass with refusals runs again next time.
- Later runs do not read the recipients again: the Contacts and Leads changed since the client's
  people cursor (Salesforce's ``SystemModstamp``, read from a little before it) are read in pages,
  and only their addresses are looked up among the unmatched recipients. So a person who becomes
  a Contact or Lead later is added on a later run, at a cost that follows the changes in
  Salesforce, not the size of the campaigns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from campaigns.models import CampaignLink, UnmatchedRecipient
from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce import SalesforceClient
from sync.engine.matcher import ContactMatcher, soql_list, soql_string
from sync.engine.people import parse_stamp
from sync.engine.records import normalise_email

MEMBER = "CampaignMember"
PAGE = 200
ALREADY_THERE = "DUPLICATE_VALUE"
PEOPLE = ("Contact", "Lead")
# Changes are read from a little before the cursor: a late commit can carry an older stamp.
OVERLAP = dt.timedelta(minutes=5)
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


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


@dataclass
class _Page:
    """What happened to one page of addresses: who is a member now, who matched nobody."""

    members: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


def add_recipients(
    cm: CampaignMonitorClient,
    sf: SalesforceClient,
    matcher: ContactMatcher,
    link: CampaignLink,
    on_page: Callable[[], None] | None = None,
) -> MemberPass:
    """The first pass of a link: every matched recipient becomes a member of its Campaign."""
    result = MemberPass()
    UnmatchedRecipient.objects.filter(link=link).delete()
    rows = cm.iter_campaign_recipients(link.campaign.cm_campaign_id)
    for emails in _pages((r.get("EmailAddress") or "" for r in rows), PAGE):
        page = add_people(sf, matcher, link.sf_campaign_id, emails, result)
        UnmatchedRecipient.objects.bulk_create(
            [UnmatchedRecipient(link=link, email=e) for e in sorted(page.unmatched)],
            ignore_conflicts=True,
        )
        if on_page:
            on_page()
    return result


def add_changed_people(
    sf: SalesforceClient, links: list[CampaignLink], since: dt.datetime
) -> tuple[MemberPass, dt.datetime | None]:
    """Add the unmatched recipients of ``links`` who are Contacts or Leads changed since
    ``since``; returns what was done and the newest change read (the next cursor)."""
    result = MemberPass()
    newest = _Newest()
    by_id = {link.pk: link for link in links}
    matcher = ContactMatcher(sf)  # fresh: this job's cache may predate the change
    for sobject in PEOPLE:
        soql = sf.soql(
            f"SELECT Email, SystemModstamp FROM {sobject} "
            "WHERE SystemModstamp >= {} AND Email != null",
            since - OVERLAP,
        )
        for page in _pages(newest.emails(sf.query_iter(soql)), PAGE):
            _add_unmatched(sf, matcher, by_id, page, result)
    return result, newest.value


class _Newest:
    """Passes the addresses of changed people on, noting the newest stamp among them."""

    def __init__(self) -> None:
        self.value: dt.datetime | None = None

    def emails(self, rows: Iterable[dict]) -> Iterator[str]:
        for row in rows:
            stamp = parse_stamp(row.get("SystemModstamp"))
            if stamp and (self.value is None or stamp > self.value):
                self.value = stamp
            yield row.get("Email") or ""


def _add_unmatched(
    sf: SalesforceClient,
    matcher: ContactMatcher,
    links: dict[int, CampaignLink],
    emails: list[str],
    result: MemberPass,
) -> None:
    waiting: dict[int, list[str]] = defaultdict(list)
    for link_id, email in UnmatchedRecipient.objects.filter(
        link_id__in=list(links), email__in=emails
    ).values_list("link_id", "email"):
        waiting[link_id].append(email)
    for link_id, addresses in waiting.items():
        link = links[link_id]
        before = result.created
        page = add_people(sf, matcher, link.sf_campaign_id, addresses, result)
        if page.members:
            UnmatchedRecipient.objects.filter(link=link, email__in=page.members).delete()
            link.members_created += result.created - before
            link.members_unmatched = max(link.members_unmatched - len(page.members), 0)
            link.save(update_fields=["members_created", "members_unmatched"])


def newest_change(sf: SalesforceClient) -> dt.datetime:
    """The newest ``SystemModstamp`` of Contacts and Leads: where a new cursor starts."""
    stamps = []
    for sobject in PEOPLE:
        soql = f"SELECT SystemModstamp FROM {sobject} ORDER BY SystemModstamp DESC LIMIT 1"
        for row in sf.query_iter(soql):
            stamp = parse_stamp(row.get("SystemModstamp"))
            if stamp:
                stamps.append(stamp)
    return max(stamps, default=EPOCH)  # no people yet: every future one is newer


def add_people(
    sf: SalesforceClient,
    matcher: ContactMatcher,
    sf_campaign_id: str,
    emails: list[str],
    result: MemberPass,
) -> _Page:
    """Make the matched addresses members of the Campaign (once each)."""
    page = _Page()
    links = matcher.links_for(emails)
    people: dict[str, str] = {}  # person id → "ContactId" / "LeadId"
    emails_of: dict[str, list[str]] = defaultdict(list)
    for email in set(emails):
        link = links.get(email)
        person, kind = (
            (link.contact_id, "ContactId")
            if link and link.contact_id
            else (link.lead_id, "LeadId")
            if link and link.lead_id
            else (None, "")
        )
        if person is None:
            result.unmatched += 1
            page.unmatched.add(email)
            continue
        people[person] = kind
        emails_of[person].append(email)
    if not people:
        return page
    present = _members_among(sf, sf_campaign_id, people)
    result.already += len(present)
    settled = set(present)
    wanted = [
        {"CampaignId": sf_campaign_id, kind: person}
        for person, kind in people.items()
        if person not in present
    ]
    outcomes = sf.create(MEMBER, wanted) if wanted else []
    for record, outcome in zip(wanted, outcomes, strict=True):
        person = record.get("ContactId") or record.get("LeadId")
        if outcome.success:
            result.created += 1
            settled.add(person)
        elif any(error.code == ALREADY_THERE for error in outcome.errors):
            result.already += 1
            settled.add(person)
        else:
            result.failed += 1
            if len(result.reasons) < 5:
                result.reasons.append(outcome.error_text)
    for person in settled:
        page.members.update(emails_of[person])
    return page


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
                found.add(str(person)[:15])
    return {p for p in people if p[:15] in found}
