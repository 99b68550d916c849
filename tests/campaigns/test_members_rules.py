"""CampaignMember rules that do not need the sandboxes: one member per campaign and person, and a
``DUPLICATE_VALUE`` refusal counted as already there (Salesforce's answer for a second member)."""

from __future__ import annotations

from campaigns.engine.members import MemberPass, add_people
from sync.clients.salesforce_types import RecordError, RecordResult
from sync.engine.matcher import Link


class FakeMatcher:
    def __init__(self, links):
        self.links = links

    def links_for(self, emails):
        return {e: self.links.get(e, Link()) for e in emails}


class FakeSalesforce:
    """Answers like Salesforce: members listed by ``query_iter``; ``create`` refuses a second
    member of the same person with DUPLICATE_VALUE (a concurrent run created it meanwhile)."""

    def __init__(self, present=(), raced=()):
        self.present = set(present)
        self.raced = set(raced)
        self.created = []

    def query_iter(self, soql):
        return [{"ContactId": p, "LeadId": None} for p in self.present if p in soql]

    def create(self, sobject, records):
        results = []
        for record in records:
            person = record.get("ContactId") or record.get("LeadId")
            if person in self.raced:
                error = RecordError("DUPLICATE_VALUE", "duplicate value found")
                results.append(RecordResult(None, None, False, errors=[error]))
            else:
                self.created.append(record)
                results.append(RecordResult(None, f"00v{len(self.created):015d}", True, True))
        return results


def test_members_are_created_once_and_a_duplicate_counts_as_there():
    matcher = FakeMatcher(
        {
            "a@x.test": Link(contact_id="003000000000001AAA"),
            "b@x.test": Link(contact_id="003000000000002AAA", lead_id="00Q000000000009AAA"),
            "c@x.test": Link(lead_id="00Q000000000003AAA"),
            "d@x.test": Link(contact_id="003000000000004AAA"),
        }
    )
    sf = FakeSalesforce(present={"003000000000001AAA"}, raced={"00Q000000000003AAA"})
    result = MemberPass()
    page = add_people(
        sf,
        matcher,
        "701000000000001AAA",
        ["a@x.test", "b@x.test", "c@x.test", "d@x.test", "nobody@x.test", "b@x.test"],
        result,
    )
    assert sorted(r["ContactId"] for r in sf.created) == [
        "003000000000002AAA",  # a Contact wins over a Lead with the same address
        "003000000000004AAA",
    ]
    assert all("Status" not in r for r in sf.created)  # the Campaign's default status applies
    assert (result.created, result.already, result.failed, result.unmatched) == (2, 2, 0, 1)
    assert result.complete
    assert page.unmatched == {"nobody@x.test"}
    assert page.members == {"a@x.test", "b@x.test", "c@x.test", "d@x.test"}
