"""Creating Salesforce Campaigns for sent CM campaigns (the auto-create option and the backfill).

A Campaign cmsync creates carries the CM campaign id in ``CMS_CM_Campaign_ID__c``, an external id,
and is written as an upsert on it: a retry after a lost answer, or a crash between Salesforce's
answer and the link being saved, finds the same Campaign instead of making a second one. An org
whose schema lacks that field (connected before the field existed) gets plain creates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from campaigns.models import CampaignLink, LinkSource, SyncedCampaign
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import CAMPAIGN_CM_ID
from sync.clients.salesforce_types import RecordResult

CAMPAIGN = "Campaign"
NAME_LENGTH = 80
# A sent campaign is over: "Completed" is one of Salesforce's default Campaign statuses.
SENT_STATUS = "Completed"


@dataclass
class Created:
    links: list[CampaignLink] = field(default_factory=list)
    refused: list[tuple[SyncedCampaign, RecordResult]] = field(default_factory=list)


def campaign_fields(campaign: SyncedCampaign, with_cm_id: bool) -> dict:
    fields: dict = {
        "Name": (campaign.name or campaign.cm_campaign_id)[:NAME_LENGTH],
        "Type": "Email",
        "Status": SENT_STATUS,
        "IsActive": True,
        "StartDate": campaign.sent_at.date().isoformat() if campaign.sent_at else None,
    }
    if with_cm_id:
        fields[CAMPAIGN_CM_ID] = campaign.cm_campaign_id
    return fields


def create_and_link(
    sf: SalesforceClient, campaigns: list[SyncedCampaign], writable: set[str]
) -> Created:
    """Create (upsert) one Campaign per CM campaign and link each at once."""
    outcome = Created()
    if not campaigns:
        return outcome
    with_cm_id = CAMPAIGN_CM_ID in writable
    rows = [campaign_fields(c, with_cm_id) for c in campaigns]
    if with_cm_id:
        results = sf.upsert_collections(CAMPAIGN, CAMPAIGN_CM_ID, rows)
    else:
        results = sf.create(CAMPAIGN, rows)
    for campaign, row, result in zip(campaigns, rows, results, strict=True):
        if not result.success or not result.sf_id:
            outcome.refused.append((campaign, result))
            continue
        outcome.links.append(_save_link(campaign, str(result.sf_id), row["Name"]))
    return outcome


@transaction.atomic
def _save_link(campaign: SyncedCampaign, sf_campaign_id: str, name: str) -> CampaignLink:
    link, _ = CampaignLink.objects.update_or_create(
        campaign=campaign,
        defaults={
            "sf_campaign_id": sf_campaign_id,
            "sf_campaign_name": name,
            "source": LinkSource.AUTO,
            "linked_by": None,
            "linked_at": timezone.now(),
            "unlinked_at": None,
            "broken_at": None,
            "broken_reported": False,
            "statistics_fingerprint": "",
        },
    )
    return link
