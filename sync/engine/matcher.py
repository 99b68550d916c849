"""Find the Contact and Lead an e-mail address belongs to, with few Salesforce reads.

Lookups are batched (one query per object for up to ``BATCH`` addresses) and remembered in a
bounded cache, because the same person appears in many tracking events. When several records
share an address, the most recently modified wins and the choice is recorded for the run's
maintenance message.

A converted Lead is no link of its own: it lives on as its Contact. The Lead query reads
converted Leads too (same query, no extra call), so an address whose only Contact is the one a
Lead was converted into (under another address) still links to that Contact.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sync.clients.salesforce import SalesforceClient

BATCH = 300
# The people an e-mail address can belong to, with the filter that keeps live records only
# (a converted Lead lives on as its Contact).
PEOPLE = (("Contact", ""), ("Lead", " AND IsConverted = false"))
CACHE_SIZE = 50_000


@dataclass(frozen=True)
class Link:
    contact_id: str | None = None
    lead_id: str | None = None


@dataclass
class DuplicateChoice:
    email: str
    sobject: str
    chosen_id: str
    candidate_ids: list[str] = field(default_factory=list)


def soql_string(value: str) -> str:
    """A SOQL string literal (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def soql_list(values: Iterable[str]) -> str:
    """A parenthesised SOQL list of string literals, for ``IN``."""
    return "(" + ", ".join(soql_string(v) for v in values) + ")"


class ContactMatcher:
    def __init__(self, sf: SalesforceClient) -> None:
        self.sf = sf
        self._cache: OrderedDict[str, Link] = OrderedDict()
        self.duplicates: list[DuplicateChoice] = []

    def links_for(self, emails: Iterable[str]) -> dict[str, Link]:
        wanted = {e for e in emails if e}
        missing = sorted(e for e in wanted if e not in self._cache)
        for start in range(0, len(missing), BATCH):
            self._load(missing[start : start + BATCH])
        return {email: self._cache.get(email, Link()) for email in wanted}

    def _load(self, emails: list[str]) -> None:
        contacts = self._best_by_email("Contact", self._rows("Contact", emails, ""))
        live_leads: list[dict] = []
        converted: dict[str, str] = {}
        lead_rows = self._rows("Lead", emails, ", IsConverted, ConvertedContactId")
        for row in lead_rows:
            if not row.get("IsConverted"):
                live_leads.append(row)
            elif row.get("ConvertedContactId"):
                converted.setdefault(_email_of(row), row["ConvertedContactId"])
        leads = self._best_by_email("Lead", live_leads)
        for email in emails:
            contact = contacts.get(email) or converted.get(email)
            self._remember(email, Link(contact, leads.get(email)))

    def _rows(self, sobject: str, emails: list[str], extra_fields: str) -> list[dict]:
        soql = (
            f"SELECT Id, Email, LastModifiedDate{extra_fields} FROM {sobject} "
            f"WHERE Email IN {soql_list(emails)} ORDER BY LastModifiedDate DESC"
        )
        return list(self.sf.query_iter(soql))

    def _best_by_email(self, sobject: str, rows: list[dict]) -> dict[str, str]:
        """The most recently modified record per address (rows come newest first)."""
        best: dict[str, str] = {}
        seen: dict[str, list[str]] = {}
        for row in rows:
            email = _email_of(row)
            seen.setdefault(email, []).append(row["Id"])
            best.setdefault(email, row["Id"])
        for email, ids in seen.items():
            if len(ids) > 1:
                self.duplicates.append(DuplicateChoice(email, sobject, best[email], ids))
        return best

    def _remember(self, email: str, link: Link) -> None:
        self._cache[email] = link
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)


def _email_of(row: dict) -> str:
    return (row.get("Email") or "").strip().lower()
