"""Mirror a CM client's suppression list into cmsync's suppression object in Salesforce."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce_schema import EXTERNAL_ID, SUPPRESSION_OBJECT
from sync.engine import records
from sync.engine.writer import SalesforceWriter
from sync.models import CMClient, SyncedRecord


def suppression_record(
    client_id: str, item: dict[str, Any], tz: dt.tzinfo = dt.UTC
) -> dict[str, Any]:
    email = records.normalise_email(item.get("EmailAddress", ""))
    return {
        EXTERNAL_ID: records.bounded_key(client_id, email),
        "Name": (email or "(no address)")[: records.MAX_NAME_LENGTH],
        "Email__c": email,
        "CM_Client_ID__c": client_id,
        "Reason__c": (item.get("SuppressionReason") or "")[:255] or None,
        "Suppressed_Date__c": records.sf_datetime(records.parse_cm_date(item.get("Date"), tz)),
    }


def mirror_suppression_list(
    cm: CampaignMonitorClient, writer: SalesforceWriter, cm_client: CMClient, tz: dt.tzinfo
) -> None:
    """One record per suppressed address; records of unsuppressed addresses are deleted."""
    client_id = cm_client.cm_client_id
    current: set[str] = set()
    for item in cm.iter_suppression_list(client_id):
        record = suppression_record(client_id, item, tz)
        current.add(record[EXTERNAL_ID])
        writer.add(SUPPRESSION_OBJECT, record)
    writer.flush(SUPPRESSION_OBJECT)
    known = SyncedRecord.objects.filter(
        connection=cm_client.connection,
        sobject=SUPPRESSION_OBJECT,
        cm_key__startswith=f"{client_id}:",
    ).values_list("cm_key", "sf_id")
    gone = {key: sf_id for key, sf_id in known.iterator() if key not in current}
    if gone:
        writer.delete(SUPPRESSION_OBJECT, gone)
