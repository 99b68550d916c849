"""Campaign Monitor data → the Salesforce records of cmsync's own objects (pure functions).

Every record carries ``CM_Key__c``, the external id cmsync upserts on, so writing the same CM
data twice changes nothing. CM's dates are minute-precision local times without a zone; they are
kept as given (as UTC-labelled datetimes) so cursors compare like with like.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from typing import Any

from lib.cm_time_zones import zone_from_cm  # noqa: F401 (re-exported for the engine)
from sync.clients.email_types import EmailType
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT_OBJECT,
    EXTERNAL_ID,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
)

MAX_KEY_LENGTH = 255
MAX_NAME_LENGTH = 80

# CM's dated campaign report → the email type of its events (Sent comes from the recipients).
EVENT_REPORTS: dict[str, str] = {
    report: email_type.value for report, email_type in EmailType.by_cm_report().items()
}
SUBSCRIBER_STATE_REPORTS = ("active", "unconfirmed", "unsubscribed", "bounced", "deleted")


def parse_cm_date(value: str | None, tz: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """'2010-10-25 10:28:00' / '2010-10-25 10:28' / '2010-10-25', wall clock in ``tz`` → aware."""
    if not value:
        return None
    return _parse_cm_date(value, tz)


@lru_cache(maxsize=8192)
def _parse_cm_date(value: str, tz: dt.tzinfo) -> dt.datetime | None:
    # Cached: a report's rows share few distinct minutes, and strptime is slow.
    text = value.strip().replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=tz)
        except ValueError:
            continue
    return None


def sf_datetime(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def bounded_key(*parts: str) -> str:
    """Join key parts with ':'; a key too long for the external id keeps its start and a hash."""
    key = ":".join(parts)
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()  # noqa: S324 - an identifier, not security
    return f"{key[: MAX_KEY_LENGTH - 41]}:{digest}"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def fingerprint(record: dict[str, Any]) -> str:
    """A short digest of what cmsync writes for a record, to skip unchanged rows."""
    payload = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.md5(payload.encode("utf-8")).hexdigest()  # noqa: S324 - change detection only


def _name(text: str) -> str:
    return (text or "")[:MAX_NAME_LENGTH] or "(no name)"


def client_record(client_id: str, name: str) -> dict[str, Any]:
    return {EXTERNAL_ID: client_id, "Name": _name(name)}


def list_record(client_id: str, cm_list: dict[str, Any]) -> dict[str, Any]:
    return {
        EXTERNAL_ID: cm_list["ListID"],
        "Name": _name(cm_list.get("Name", "")),
        "CM_Client_ID__c": client_id,
    }


def _consent(value: Any) -> str | None:
    return value if value in ("Yes", "No", "Unchanged") else None


def membership_record(
    client_id: str, list_id: str, subscriber: dict[str, Any], tz: dt.tzinfo = dt.UTC
) -> dict[str, Any]:
    email = normalise_email(subscriber.get("EmailAddress", ""))
    custom = [
        {"Key": item.get("Key"), "Value": item.get("Value")}
        for item in subscriber.get("CustomFields") or []
    ]
    joined = parse_cm_date(subscriber.get("ListJoinedDate") or subscriber.get("Date"), tz)
    return {
        EXTERNAL_ID: bounded_key(list_id, email),
        "Name": _name(email),
        "Email__c": email,
        "CM_List_ID__c": list_id,
        "CM_Client_ID__c": client_id,
        "State__c": subscriber.get("State") or "Active",
        "Subscriber_Name__c": (subscriber.get("Name") or "")[:255] or None,
        "Mobile_Number__c": subscriber.get("MobileNumber") or None,
        "Consent_To_Track__c": _consent(subscriber.get("ConsentToTrack")),
        "SMS_Consent__c": _consent(subscriber.get("ConsentToSendSms")),
        "Joined_Date__c": sf_datetime(joined),
        "Custom_Fields__c": json.dumps(custom, ensure_ascii=False)[:32768] if custom else None,
    }


def campaign_record(
    client_id: str, campaign: dict[str, Any], summary: dict[str, Any], tz: dt.tzinfo = dt.UTC
) -> dict[str, Any]:
    tags = campaign.get("Tags") or []
    return {
        EXTERNAL_ID: campaign["CampaignID"],
        "Name": _name(campaign.get("Name", "")),
        "CM_Client_ID__c": client_id,
        "Subject__c": (campaign.get("Subject") or "")[:255] or None,
        "Sent_Date__c": sf_datetime(parse_cm_date(campaign.get("SentDate"), tz)),
        "Tags__c": ", ".join(tags)[:255] or None,
        "Recipients__c": summary.get("Recipients", campaign.get("TotalRecipients")),
        "Unique_Opens__c": summary.get("UniqueOpened"),
        "Total_Opens__c": summary.get("TotalOpened"),
        "Clicks__c": summary.get("Clicks"),
        "Unsubscribes__c": summary.get("Unsubscribed"),
        "Bounces__c": summary.get("Bounced"),
        "Spam_Complaints__c": summary.get("SpamComplaints"),
        "Web_Version_URL__c": summary.get("WebVersionURL") or campaign.get("WebVersionURL") or None,
    }


def tracking_record(
    client_id: str,
    campaign_id: str,
    event_type: str,
    event: dict[str, Any],
    when: str | None,
    tz: dt.tzinfo = dt.UTC,
) -> dict[str, Any]:
    """One tracking event; ``when`` is CM's date string (the campaign's sent date for Sent)."""
    email = normalise_email(event.get("EmailAddress", ""))
    moment = parse_cm_date(when, tz)
    # The key uses CM's own wall-clock minute, so it never depends on the zone reading.
    stamp = moment.strftime("%Y%m%d%H%M") if moment else "0"
    url = event.get("URL") or ""
    parts = [campaign_id, event_type.replace(" ", ""), email, stamp]
    if url:
        parts.append(hashlib.md5(url.encode("utf-8")).hexdigest()[:10])  # noqa: S324
    detail = " ".join(p for p in (event.get("BounceType"), event.get("Reason")) if p).strip()
    return {
        EXTERNAL_ID: bounded_key(*parts),
        "Name": _name(f"{event_type}: {email}"),
        "CM_Campaign_ID__c": campaign_id,
        "CM_Client_ID__c": client_id,
        "Email__c": email,
        "Event_Type__c": event_type,
        "Event_Date__c": sf_datetime(moment),
        "URL__c": url[:1024] or None,
        "Detail__c": detail[:255] or None,
    }


OBJECTS_WITH_EMAIL = {SUBSCRIBER_OBJECT, TRACKING_OBJECT, SUPPRESSION_OBJECT}
ALL_OBJECTS = (CLIENT_OBJECT, LIST_OBJECT, SUBSCRIBER_OBJECT, CAMPAIGN_OBJECT, TRACKING_OBJECT)
