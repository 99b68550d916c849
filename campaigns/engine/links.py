"""The campaigns cmsync synced and their links, as the sync engine sees them.

- Every ``CMS_Campaign__c`` record the sync writes is kept as a :class:`SyncedCampaign` (the
  screens' list) and carries the campaign's link in ``Campaign__c``: the linked Campaign's Id, or
  null when there is none, so the link in Salesforce is always cmsync's.
- Before a client's campaigns are written, their links are checked against Salesforce (one query
  per 200 links). A Campaign that no longer resolves breaks the link: it is written as null,
  reported once as a maintenance message (CMS-500), and shown on the campaign page; the sync goes
  on. A Campaign that resolves again (restored from the recycle bin) mends it.
- Once per client, the campaigns synced before this feature existed are taken over from
  Salesforce, with any link someone made by editing ``Campaign__c`` there; from then on the
  link is cmsync's, and an edit of the field in Salesforce is overwritten by the next write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from campaigns.models import CampaignLink, LinkSource, SyncedCampaign
from maintenance.models import Level
from maintenance.services import record_message
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import CAMPAIGN_OBJECT, EXTERNAL_ID
from sync.engine.matcher import soql_list, soql_string
from sync.models import CMClient, Connection, SyncCursor, SyncRun

LINK_FIELD = "Campaign__c"
ID_CHUNK = 200
BROKEN_CODE = "CMS-500"


def _count(value: Any) -> int:
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def remember_campaign(cm_client: CMClient, record: dict[str, Any]) -> SyncedCampaign:
    """Keep (or refresh) the local copy of a ``CMS_Campaign__c`` record the sync writes."""
    sent = record.get("Sent_Date__c")
    campaign, _ = SyncedCampaign.objects.update_or_create(
        connection=cm_client.connection,
        cm_campaign_id=record[EXTERNAL_ID],
        defaults={
            "cm_client": cm_client,
            "name": (record.get("Name") or "")[:255],
            "subject": (record.get("Subject__c") or "")[:255],
            "sent_at": parse_datetime(sent) if sent else None,
            "tags": (record.get("Tags__c") or "")[:255],
            "recipients": _count(record.get("Recipients__c")),
            "unique_opens": _count(record.get("Unique_Opens__c")),
            "clicks": _count(record.get("Clicks__c")),
            "bounces": _count(record.get("Bounces__c")),
            "unsubscribes": _count(record.get("Unsubscribes__c")),
            "spam_complaints": _count(record.get("Spam_Complaints__c")),
            "web_version_url": (record.get("Web_Version_URL__c") or "")[:500],
            "synced_at": timezone.now(),
        },
    )
    return campaign


# The fields of a CMS_Campaign__c record the local copy keeps (as the sync writes them).
RECORD_FIELDS = (
    EXTERNAL_ID,
    "Name",
    "Subject__c",
    "Sent_Date__c",
    "Tags__c",
    "Recipients__c",
    "Unique_Opens__c",
    "Clicks__c",
    "Unsubscribes__c",
    "Bounces__c",
    "Spam_Complaints__c",
    "Web_Version_URL__c",
    LINK_FIELD,
)
ADOPTED_STREAM = "campaigns:adopted"


def adopt_existing(sf: SalesforceClient, cm_client: CMClient) -> int:
    """Once per client: take over the campaigns synced before this feature existed, with the
    links people made by editing ``Campaign__c`` in Salesforce (from then on the link is
    cmsync's); returns how many links were adopted. Done again only after a full sync, which
    has removed the records anyway."""
    if SyncCursor.objects.filter(cm_client=cm_client, stream=ADOPTED_STREAM).exists():
        return 0
    soql = (
        f"SELECT {', '.join(RECORD_FIELDS)} FROM {CAMPAIGN_OBJECT} "
        f"WHERE CM_Client_ID__c = {soql_string(cm_client.cm_client_id)}"
    )
    adopted = 0
    for row in sf.query_iter(soql):
        known = SyncedCampaign.objects.filter(
            connection=cm_client.connection, cm_campaign_id=row[EXTERNAL_ID]
        ).exists()
        campaign = remember_campaign(cm_client, row)
        if known or not row.get(LINK_FIELD):
            continue
        _, made = CampaignLink.objects.get_or_create(
            campaign=campaign,
            defaults={"sf_campaign_id": str(row[LINK_FIELD]), "source": LinkSource.HAND},
        )
        adopted += made
    SyncCursor.objects.create(cm_client=cm_client, stream=ADOPTED_STREAM, marker="done")
    return adopted


def linked(connection: Connection, cm_campaign_ids: Iterable[str]) -> list[CampaignLink]:
    """The links (to a Campaign) of these CM campaigns, broken ones included."""
    return list(
        CampaignLink.objects.filter(
            campaign__connection=connection, campaign__cm_campaign_id__in=list(cm_campaign_ids)
        )
        .exclude(sf_campaign_id="")
        .select_related("campaign")
    )


def working_links(connection: Connection, cm_client: CMClient | None = None) -> dict[str, str]:
    """CM campaign id → Salesforce Campaign Id, for links Salesforce still resolves."""
    links = CampaignLink.objects.filter(campaign__connection=connection, broken_at=None).exclude(
        sf_campaign_id=""
    )
    if cm_client is not None:
        links = links.filter(campaign__cm_client=cm_client)
    return dict(links.values_list("campaign__cm_campaign_id", "sf_campaign_id"))


def existing_campaign_ids(sf: SalesforceClient, ids: list[str]) -> set[str]:
    """Which of these Campaign Ids Salesforce resolves (deleted ones are not returned)."""
    found: set[str] = set()
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        soql = f"SELECT Id FROM Campaign WHERE Id IN {soql_list(chunk)}"
        found.update(str(row["Id"]) for row in sf.query_iter(soql))
    return found


def check_links(sf: SalesforceClient, links: list[CampaignLink], run: SyncRun | None) -> None:
    """Mark links whose Campaign is gone as broken (reported once) and mend those back."""
    if not links:
        return
    there = existing_campaign_ids(sf, sorted({link.sf_campaign_id for link in links}))
    there_15 = {sf_id[:15] for sf_id in there}
    for link in links:
        resolves = link.sf_campaign_id[:15] in there_15
        if resolves and link.broken_at is not None:
            link.broken_at, link.broken_reported = None, False
            link.save(update_fields=["broken_at", "broken_reported"])
        elif not resolves and link.broken_at is None:
            link.broken_at = timezone.now()
            link.save(update_fields=["broken_at"])
        if link.broken_at is not None and not link.broken_reported:
            _report_broken(link, run)


def _report_broken(link: CampaignLink, run: SyncRun | None) -> None:
    campaign = link.campaign
    record_message(
        job="primary sync",
        message=f"The Salesforce Campaign linked to '{campaign.name}' no longer exists; the "
        "campaign is synced without it until it is linked again.",
        details=f"CM campaign {campaign.cm_campaign_id}, Salesforce Campaign "
        f"{link.sf_campaign_id} ({link.sf_campaign_name or 'no name known'})",
        level=Level.WARNING,
        support_code=BROKEN_CODE,
        client_name=campaign.cm_client.name if campaign.cm_client else "",
        run=run,
    )
    link.broken_reported = True
    link.save(update_fields=["broken_reported"])


def write_link_now(sf: SalesforceClient, cm_campaign_id: str, sf_campaign_id: str | None) -> bool:
    """Set ``Campaign__c`` on the campaign's record in Salesforce at once (a link made on the
    screen); False when the record is not there (yet): the next write of it carries the link."""
    soql = f"SELECT Id FROM {CAMPAIGN_OBJECT} WHERE {EXTERNAL_ID} = {soql_string(cm_campaign_id)}"
    rows = list(sf.query_iter(soql))
    if not rows:
        return False
    [result] = sf.update(CAMPAIGN_OBJECT, [{"Id": rows[0]["Id"], LINK_FIELD: sf_campaign_id}])
    return result.success
