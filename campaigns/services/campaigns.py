"""The campaigns list and a campaign's page: what cmsync synced, with statistics and links."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Q

from campaigns.models import CampaignLink, SyncedCampaign
from campaigns.services.benchmarks import open_rate_benchmarks
from sync.models import Connection

PAGE_SIZE = 25


def campaign_page(connection: Connection, query: str = "", page: str | int | None = 1) -> Page:
    """One page of the synced campaigns, newest sent first, filtered by name, subject or client."""
    campaigns = SyncedCampaign.objects.filter(connection=connection).select_related(
        "cm_client", "link"
    )
    text = (query or "").strip()
    if text:
        campaigns = campaigns.filter(
            Q(name__icontains=text)
            | Q(subject__icontains=text)
            | Q(cm_client__name__icontains=text)
        )
    result = Paginator(campaigns, PAGE_SIZE).get_page(page)
    result.object_list = list(result.object_list)
    open_rate_benchmarks(connection, result.object_list)
    return result


def campaign_detail(connection: Connection, cm_campaign_id: str) -> SyncedCampaign | None:
    return (
        SyncedCampaign.objects.filter(connection=connection, cm_campaign_id=cm_campaign_id)
        .select_related("cm_client", "link", "link__linked_by")
        .first()
    )


def link_of(campaign: SyncedCampaign) -> CampaignLink | None:
    try:
        return campaign.link
    except CampaignLink.DoesNotExist:
        return None
