"""Carry e-mail opt-outs from Campaign Monitor to Salesforce (the primary sync's side).

A subscriber unsubscribed (or deleted) on **all** of a client's lists they are on opts out of
e-mail: ``HasOptedOutOfEmail`` is set on the Contacts and Leads with that address. When the
Salesforce record changed after the CM unsubscribe, the newer change (Salesforce's) wins.
Turning the flag back off never happens here: cmsync does not opt anyone back in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sync.clients.salesforce_schema import SUBSCRIBER_OBJECT
from sync.engine.matcher import PEOPLE, soql_list, soql_string
from sync.engine.writer import SalesforceWriter
from sync.models import CMClient, ConsentChange, ConsentSource

BATCH = 200
OPTED_OUT_STATES = {"Unsubscribed", "Deleted"}


def parse_sf_datetime(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def to_minute(moment: dt.datetime) -> dt.datetime:
    """CM's dates have minute precision; compare Salesforce's at the same precision."""
    return moment.replace(second=0, microsecond=0)


def carry_cm_optouts(
    writer: SalesforceWriter, cm_client: CMClient, unsubscribed: dict[str, dt.datetime | None]
) -> int:
    """Opt out the people whose every membership of this client is unsubscribed or deleted."""
    emails = sorted(e for e in unsubscribed if e)
    changed = 0
    for start in range(0, len(emails), BATCH):
        batch = emails[start : start + BATCH]
        fully_out = _fully_unsubscribed(writer, cm_client.cm_client_id, batch)
        for sobject, extra in PEOPLE:
            changed += _opt_out(writer, cm_client, sobject, extra, fully_out, unsubscribed)
    return changed


def _fully_unsubscribed(writer: SalesforceWriter, client_id: str, emails: list[str]) -> set[str]:
    states: dict[str, set[str]] = defaultdict(set)
    soql = (
        f"SELECT Email__c, State__c FROM {SUBSCRIBER_OBJECT} "
        f"WHERE CM_Client_ID__c = {soql_string(client_id)} "
        f"AND Email__c IN {soql_list(emails)}"
    )
    for row in writer.sf.query_iter(soql):
        states[(row.get("Email__c") or "").lower()].add(row.get("State__c") or "")
    return {email for email, seen in states.items() if seen and seen <= OPTED_OUT_STATES}


def _opt_out(
    writer: SalesforceWriter,
    cm_client: CMClient,
    sobject: str,
    extra: str,
    fully_out: set[str],
    unsubscribed_at: dict[str, dt.datetime | None],
) -> int:
    if not fully_out:
        return 0
    soql = (
        f"SELECT Id, Email, LastModifiedDate FROM {sobject} WHERE HasOptedOutOfEmail = false"
        f" AND Email IN {soql_list(sorted(fully_out))}{extra}"
    )
    updates, log = [], []
    for row in writer.sf.query_iter(soql):
        email = (row.get("Email") or "").lower()
        cm_time = unsubscribed_at.get(email)
        sf_time = parse_sf_datetime(row.get("LastModifiedDate"))
        if cm_time and sf_time and to_minute(sf_time) > cm_time:
            continue  # changed in Salesforce after the unsubscribe: the newer change wins
        updates.append({"Id": row["Id"], "HasOptedOutOfEmail": True})
        log.append(
            ConsentChange(
                connection=cm_client.connection,
                email=email,
                source=ConsentSource.CAMPAIGN_MONITOR,
                action=f"Opted out of e-mail on {sobject} {row['Id']} (unsubscribed from every "
                f"list of {cm_client.name})",
                who="Campaign Monitor",
                changed_at=cm_time or writer.run.created_at,
            )
        )
    if not updates:
        return 0
    results = writer.sf.update(sobject, updates)
    done = {r.key for r in results if r.success}
    ConsentChange.objects.bulk_create(
        [entry for entry, update in zip(log, updates, strict=True) if update["Id"] in done]
    )
    return len(done)
