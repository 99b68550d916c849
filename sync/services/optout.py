"""The opt-out batch job: Salesforce e-mail opt-outs become Campaign Monitor unsubscribes.

It reads Contacts and Leads whose ``HasOptedOutOfEmail`` is true and that changed since its
cursor, oldest first, ``batch_size_for("optout_batch")`` at a time. Only changes made by users
holding cmsync's permission set flow (as with the managed package's triggers). For every list of
the client where cmsync saw the address Active, it unsubscribes the address in CM, unless CM's
subscription is newer than the Salesforce change (the newer change wins). Turning the flag off
never resubscribes anyone. "Disable triggers" stops the job entirely.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from maintenance.models import Level
from maintenance.services import batch_size_for, record_message
from sync.clients.errors import ApiError, NotFound
from sync.clients.salesforce_schema import PERMISSION_SET_NAME, SUBSCRIBER_OBJECT
from sync.engine.consent import parse_sf_datetime, to_minute
from sync.engine.matcher import PEOPLE, soql_string
from sync.models import Connection, ConsentChange, ConsentSource, SyncOptions
from sync.services.api import campaign_monitor_client, salesforce_client

logger = logging.getLogger(__name__)


@dataclass
class OptOutReport:
    people: int = 0
    unsubscribed: int = 0
    skipped_newer_in_cm: int = 0
    skipped_no_permission: int = 0


def run_optout_batch(connection: Connection) -> OptOutReport | None:
    """One batch for one connection; None when the job is off for it."""
    options = SyncOptions.for_connection(connection)
    if not options.email_opt_sync or options.disable_triggers:
        return None
    if not connection.both_connected:
        return None
    report = OptOutReport()
    sf = salesforce_client(connection)
    cm = campaign_monitor_client(connection)
    try:
        allowed = _permitted_users(sf)
        people = _changed_people(sf, options.optout_cursor, batch_size_for("optout_batch"))
        client_ids = set(
            connection.clients.filter(selected=True).values_list("cm_client_id", flat=True)
        )
        for person in people:
            report.people += 1
            if person["LastModifiedById"] not in allowed:
                report.skipped_no_permission += 1
            else:
                _unsubscribe_everywhere(sf, cm, connection, client_ids, person, report)
            options.optout_cursor = person["changed_at"]
            options.save(update_fields=["optout_cursor", "updated_at"])
    except ApiError as exc:
        record_message(
            job="opt-out batch",
            message="The opt-out batch job stopped; it continues from the same place next time.",
            details=str(exc),
            support_code="CMS-230"
            if exc.endpoint.startswith(("query", "composite"))
            else "CMS-110",
        )
    finally:
        sf.close()
        cm.close()
    if report.unsubscribed:
        record_message(
            job="opt-out batch",
            level=Level.INFO,
            message=f"Unsubscribed {report.unsubscribed} list membership(s) in Campaign Monitor "
            f"for {report.people} Salesforce opt-out(s).",
        )
    return report


def _permitted_users(sf) -> set[str]:
    soql = (
        "SELECT AssigneeId FROM PermissionSetAssignment "
        f"WHERE PermissionSet.Name = {soql_string(PERMISSION_SET_NAME)}"
    )
    return {row["AssigneeId"] for row in sf.query_iter(soql)}


def _changed_people(sf, cursor: dt.datetime | None, limit: int) -> list[dict]:
    since = f" AND LastModifiedDate > {cursor.strftime('%Y-%m-%dT%H:%M:%SZ')}" if cursor else ""
    people = []
    for sobject, extra in PEOPLE:
        soql = (
            f"SELECT Id, Email, LastModifiedDate, LastModifiedById FROM {sobject} "
            f"WHERE HasOptedOutOfEmail = true AND Email != null{since}{extra} "
            f"ORDER BY LastModifiedDate ASC LIMIT {limit}"
        )
        for row in sf.query_iter(soql):
            row["sobject"] = sobject
            row["changed_at"] = parse_sf_datetime(row.get("LastModifiedDate"))
            people.append(row)
    people.sort(key=lambda row: row["changed_at"] or dt.datetime.min.replace(tzinfo=dt.UTC))
    return people[:limit]


def _unsubscribe_everywhere(sf, cm, connection, client_ids, person, report: OptOutReport) -> None:
    email = (person.get("Email") or "").strip().lower()
    soql = (
        f"SELECT CM_List_ID__c, CM_Client_ID__c, Joined_Date__c FROM {SUBSCRIBER_OBJECT} "
        f"WHERE Email__c = {soql_string(email)} AND State__c = 'Active'"
    )
    for membership in sf.query_iter(soql):
        if membership.get("CM_Client_ID__c") not in client_ids:
            continue
        joined = parse_sf_datetime(membership.get("Joined_Date__c"))
        if joined and person["changed_at"] and joined > to_minute(person["changed_at"]):
            report.skipped_newer_in_cm += 1  # subscribed in CM after the opt-out: newer wins
            continue
        try:
            cm.unsubscribe(membership["CM_List_ID__c"], email)
        except NotFound:
            continue  # no longer on that list
        report.unsubscribed += 1
        ConsentChange.objects.create(
            connection=connection,
            email=email,
            source=ConsentSource.SALESFORCE,
            action=f"Unsubscribed from list {membership['CM_List_ID__c']} "
            f"(opted out on {person['sobject']} {person['Id']})",
            who=person.get("LastModifiedById", ""),
            changed_at=person["changed_at"] or dt.datetime.now(dt.UTC),
        )
