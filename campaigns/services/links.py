"""Linking a synced CM campaign to a Salesforce Campaign by hand, and unlinking it.

A link is checked against Salesforce before it is saved (a Campaign Id that does not exist is a
:class:`LinkError` with words for the form), audited, and written at once to the campaign's
``CMS_Campaign__c`` record; the next sync run adds the recipients as CampaignMembers (and the
statistics, when that option is on). Unlinking keeps the members already created: Salesforce
data is never deleted by a setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from campaigns.engine.links import write_link_now
from campaigns.models import CampaignLink, LinkSource, SyncedCampaign
from maintenance.services import record_changes
from sync.clients.errors import ApiError, NotFound
from sync.engine.matcher import soql_string
from sync.models import Connection
from sync.services.api import salesforce_client

AUDIT_AREA = "Salesforce Campaigns"
SEARCH_LIMIT = 20
SF_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


class LinkError(Exception):
    """The link cannot be made; the message is for the person who tried."""


@dataclass(frozen=True)
class SalesforceCampaign:
    id: str
    name: str
    status: str = ""
    start_date: str = ""


def synced_campaign(connection: Connection, cm_campaign_id: str) -> SyncedCampaign:
    campaign = SyncedCampaign.objects.filter(
        connection=connection, cm_campaign_id=cm_campaign_id
    ).first()
    if campaign is None:
        raise LinkError("cmsync has not synced a Campaign Monitor campaign with that id.")
    return campaign


def _describe_link(link: CampaignLink | None) -> str:
    if link is None or not link.sf_campaign_id:
        return "(not linked)"
    return f"{link.sf_campaign_name} ({link.sf_campaign_id})"


def link_campaign(
    connection: Connection, cm_campaign_id: str, sf_campaign_id: str, user
) -> CampaignLink:
    """Link the campaign to an existing Salesforce Campaign (replacing any earlier link)."""
    campaign = synced_campaign(connection, cm_campaign_id)
    wanted = (sf_campaign_id or "").strip()
    if not SF_ID.match(wanted):
        raise LinkError(f"'{wanted}' is not a Salesforce Id (15 or 18 letters and digits).")
    sf = salesforce_client(connection)
    try:
        try:
            found = sf.get("Campaign", wanted, fields=["Id", "Name"])
        except NotFound:
            raise LinkError(f"No Salesforce Campaign has the Id {wanted}.") from None
        except ApiError as exc:
            if exc.status in (400, 404):
                raise LinkError(f"No Salesforce Campaign has the Id {wanted}.") from None
            raise LinkError(f"Salesforce could not be asked: {exc.message}") from None
        with transaction.atomic():
            before = CampaignLink.objects.filter(campaign=campaign).first()
            before_text = _describe_link(before)
            link, _ = CampaignLink.objects.update_or_create(
                campaign=campaign,
                defaults={
                    "sf_campaign_id": str(found["Id"]),
                    "sf_campaign_name": str(found.get("Name") or "")[:255],
                    "source": LinkSource.HAND,
                    "linked_by": user if getattr(user, "is_authenticated", False) else None,
                    "linked_at": timezone.now(),
                    "unlinked_at": None,
                    "broken_at": None,
                    "broken_reported": False,
                    "statistics_fingerprint": "",
                },
            )
            record_changes(
                user=user,
                area=AUDIT_AREA,
                changes={f"Link of '{campaign.name}'": (before_text, _describe_link(link))},
            )
        _write_now(sf, cm_campaign_id, link.sf_campaign_id)
    finally:
        sf.close()
    return link


def unlink_campaign(connection: Connection, cm_campaign_id: str, user) -> int:
    """Remove the link; returns how many members cmsync had created (they stay)."""
    campaign = synced_campaign(connection, cm_campaign_id)
    link = CampaignLink.objects.filter(campaign=campaign).exclude(sf_campaign_id="").first()
    if link is None:
        raise LinkError("This campaign is not linked to a Salesforce Campaign.")
    with transaction.atomic():
        before_text = _describe_link(link)
        link.sf_campaign_id = ""
        link.unlinked_at = timezone.now()
        link.broken_at = None
        link.broken_reported = False
        link.statistics_fingerprint = ""
        link.save()
        record_changes(
            user=user,
            area=AUDIT_AREA,
            changes={f"Link of '{campaign.name}'": (before_text, "(not linked)")},
        )
    sf = salesforce_client(connection)
    try:
        _write_now(sf, cm_campaign_id, None)
    finally:
        sf.close()
    return link.members_created


def _write_now(sf, cm_campaign_id: str, sf_campaign_id: str | None) -> None:
    """Best effort: the next write of the record carries the link anyway."""
    try:
        write_link_now(sf, cm_campaign_id, sf_campaign_id)
    except ApiError:
        pass


def search_salesforce_campaigns(connection: Connection, name: str) -> list[SalesforceCampaign]:
    """Salesforce Campaigns whose name contains ``name`` (at most ``SEARCH_LIMIT``)."""
    text = (name or "").strip()
    if not text:
        return []
    # A LIKE literal: quotes and backslashes escaped as in any string, then the wildcards.
    escaped = soql_string(text)[1:-1].replace("%", "\\%").replace("_", "\\_")
    soql = (
        "SELECT Id, Name, Status, StartDate FROM Campaign "
        f"WHERE Name LIKE '%{escaped}%' ORDER BY Name LIMIT {SEARCH_LIMIT}"
    )
    sf = salesforce_client(connection)
    try:
        rows = list(sf.query_iter(soql))
    except ApiError as exc:
        raise LinkError(f"Salesforce could not be searched: {exc.message}") from None
    finally:
        sf.close()
    return [
        SalesforceCampaign(
            id=str(row["Id"]),
            name=str(row.get("Name") or ""),
            status=str(row.get("Status") or ""),
            start_date=str(row.get("StartDate") or ""),
        )
        for row in rows
    ]
