"""Campaign Monitor statistics written onto the linked Salesforce Campaign (an option).

Recipients go to the standard ``NumberSent``; unique opens, clicks, bounces, unsubscribes, spam
complaints and their rates (percent of recipients) go to cmsync's fields on Campaign, which
``ensure_schema`` adds. Only fields the org's describe shows as updateable are written (an org
connected before the fields existed, or one that hides ``NumberSent``, still gets the rest), and
only when the values changed since the last write to that Campaign.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import CampaignLink
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import CAMPAIGN_STATISTICS_FIELDS
from sync.clients.salesforce_types import RecordResult
from sync.engine.records import fingerprint

CAMPAIGN = "Campaign"
STANDARD_FIELDS = {"recipients": "NumberSent"}


def updateable_fields(sf: SalesforceClient) -> set[str]:
    """The Campaign fields this user may write (one describe call)."""
    described = sf.describe(CAMPAIGN)
    return {
        str(f["name"]) for f in described.get("fields") or [] if f.get("updateable", True) is True
    }


def statistics_fields(link: CampaignLink, writable: set[str]) -> dict[str, Any]:
    values = link.campaign.statistics()
    names = {**STANDARD_FIELDS, **CAMPAIGN_STATISTICS_FIELDS}
    return {names[key]: value for key, value in values.items() if names[key] in writable}


def write_statistics(
    sf: SalesforceClient, links: list[CampaignLink], writable: set[str]
) -> tuple[int, list[tuple[CampaignLink, RecordResult]]]:
    """Update the linked Campaigns whose figures changed; returns (written, refused)."""
    pending: list[tuple[CampaignLink, dict[str, Any], str]] = []
    for link in links:
        fields = statistics_fields(link, writable)
        if not fields:
            continue
        print_ = fingerprint({"Id": link.sf_campaign_id, **fields})
        if print_ != link.statistics_fingerprint:
            pending.append((link, {"Id": link.sf_campaign_id, **fields}, print_))
    if not pending:
        return 0, []
    results = sf.update(CAMPAIGN, [row for _, row, _ in pending])
    written, refused = 0, []
    for (link, _row, print_), result in zip(pending, results, strict=True):
        if result.success:
            written += 1
            link.statistics_fingerprint = print_
            link.save(update_fields=["statistics_fingerprint"])
        else:
            refused.append((link, result))
    return written, refused
