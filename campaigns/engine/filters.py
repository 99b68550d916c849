"""The campaign filter: which sent CM campaigns the sync writes to Salesforce.

Rules this module owns (the screen, the sync and the count all ask :class:`CampaignFilter`):

- with the filter off, every sent campaign is synced;
- with it on, a campaign is synced when it was sent on or after the start date (the day in the
  CM client's own time zone, as CM shows it) and carries any of the selected tags (compared
  case-insensitively, as CM does); a criterion left empty does not restrict;
- a campaign already synced (cmsync has its record) stays in the sync whatever the filter says:
  nothing already in Salesforce is deleted or left to go stale by a filter change, and a full
  sync writes it again;
- a campaign kept out is remembered as a :class:`FilteredCampaign`, so the screen can say how
  many the filter keeps out; one the filter lets in later is forgotten when it is synced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from campaigns.models import CampaignSettings, FilteredCampaign, SyncedCampaign
from sync.models import CMClient, Connection, SyncCursor


def _day(value: str | None) -> dt.date | None:
    """The day of a CM date ('2026-01-05 10:00:00', wall clock in the client's zone)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class CampaignFilter:
    active: bool = False
    start_date: dt.date | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, options: CampaignSettings) -> CampaignFilter:
        return cls(
            active=options.filter_active,
            start_date=options.filter_start_date,
            tags=tuple(options.filter_tags or ()),
        )

    @property
    def restricts(self) -> bool:
        return self.active and (self.start_date is not None or bool(self.tags))

    def keeps(self, sent_on: dt.date | None, tags: Iterable[str]) -> bool:
        """Whether a campaign sent that day with those tags is synced."""
        if not self.restricts:
            return True
        if self.start_date is not None and (sent_on is None or sent_on < self.start_date):
            return False
        if self.tags:
            wanted = {tag.lower() for tag in self.tags}
            if not wanted & {str(tag).lower() for tag in tags}:
                return False
        return True

    def waits_for_start(self, today: dt.date | None = None) -> bool:
        """A start date in the future: nothing new is synced until then."""
        today = today or timezone.localdate()
        return self.active and self.start_date is not None and self.start_date > today


def include_campaign(
    cm_client: CMClient, campaign: dict[str, Any], rule: CampaignFilter, synced: set[str]
) -> bool:
    """The sync's decision for one sent campaign, remembered for the screen's count."""
    campaign_id = str(campaign["CampaignID"])
    tags = list(campaign.get("Tags") or [])
    sent_on = _day(campaign.get("SentDate"))
    if campaign_id in synced or rule.keeps(sent_on, tags):
        FilteredCampaign.objects.filter(
            connection=cm_client.connection, cm_campaign_id=campaign_id
        ).delete()
        return True
    FilteredCampaign.objects.update_or_create(
        connection=cm_client.connection,
        cm_campaign_id=campaign_id,
        defaults={
            "cm_client": cm_client,
            "name": str(campaign.get("Name") or "")[:255],
            "sent_on": sent_on,
            "tags": tags,
            "seen_at": timezone.now(),
        },
    )
    return False


def synced_ids(connection: Connection) -> set[str]:
    return set(
        SyncedCampaign.objects.filter(connection=connection).values_list(
            "cm_campaign_id", flat=True
        )
    )


def kept_out_count(connection: Connection, rule: CampaignFilter) -> int:
    """How many campaigns seen by the sync the filter (as it is now) keeps out of Salesforce."""
    if not rule.restricts:
        return 0
    synced = synced_ids(connection)
    return sum(
        1
        for row in FilteredCampaign.objects.filter(connection=connection)
        if row.cm_campaign_id not in synced and not rule.keeps(row.sent_on, row.tags)
    )


# The sync's cursor over a client's sent campaigns (sync.engine.client_sync): a campaign the
# filter kept out was read and passed; when a new filter lets it in, the cursor goes back to it.
CAMPAIGNS_STREAM = "campaigns"


def reread_let_in(connection: Connection, rule: CampaignFilter) -> int:
    """Move each client's campaigns cursor back to the earliest campaign kept out before that
    ``rule`` lets in, so the next run syncs it; returns how many campaigns that concerns."""
    earliest: dict[int, dt.date | None] = {}
    for row in FilteredCampaign.objects.filter(connection=connection):
        if not rule.keeps(row.sent_on, row.tags):
            continue
        known = earliest.get(row.cm_client_id, row.sent_on)
        if row.sent_on is None or known is None:
            earliest[row.cm_client_id] = None
        else:
            earliest[row.cm_client_id] = min(known, row.sent_on)
    for cm_client_id, day in earliest.items():
        cursors = SyncCursor.objects.filter(cm_client_id=cm_client_id, stream=CAMPAIGNS_STREAM)
        if day is None:
            cursors.delete()
            continue
        # A day early: the cursor is a moment and the day is in the client's own time zone.
        back_to = dt.datetime.combine(day - dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        cursors.filter(position__gt=back_to).update(position=back_to)
    return sum(
        1
        for row in FilteredCampaign.objects.filter(connection=connection)
        if rule.keeps(row.sent_on, row.tags)
    )
