"""The campaign filter of the Salesforce Campaigns screen: read it, change it (audited), and
the tags to pick from, read from Campaign Monitor.

- The tags offered are those of the selected CM clients (``clients/{id}/tags.json``).
- A selected tag that no longer exists in CM is dropped from the filter (audited, as the system)
  and the screen says so; when CM cannot be read, nothing is dropped.
- A start date in the future is allowed: the screen warns that nothing new syncs until then.
- Changing the filter deletes nothing in Salesforce: campaigns already synced stay (and keep
  syncing); campaigns kept out before that the new filter lets in are synced by the next run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction

from campaigns.engine.filters import CampaignFilter, kept_out_count, reread_let_in
from campaigns.models import CampaignSettings
from maintenance.services import record_changes
from sync.clients.errors import ApiError
from sync.models import Connection
from sync.services.api import CredentialsGone, campaign_monitor_client

AUDIT_AREA = "Salesforce Campaigns"
ACTIVE = "Campaign filter"
START_DATE = "Campaign filter: start date"
TAGS = "Campaign filter: tags"


@dataclass
class FilterScreen:
    """What the screen shows of the filter."""

    options: CampaignSettings
    rule: CampaignFilter
    tags: list[str]  # to pick from: CM's tags, and the selected ones when CM cannot be read
    tags_error: str = ""
    dropped: list[str] = field(default_factory=list)
    kept_out: int = 0

    @property
    def waits_for_start(self) -> bool:
        return self.rule.waits_for_start()


def cm_tags(connection: Connection) -> list[str]:
    """The tags of the selected CM clients' campaigns, as CM spells them, sorted."""
    cm = campaign_monitor_client(connection)
    names: dict[str, str] = {}
    for cm_client in connection.clients.filter(selected=True):
        for row in cm.get_tags(cm_client.cm_client_id) or []:
            name = str(row.get("Name") or "").strip()
            if name:
                names.setdefault(name.lower(), name)
    return sorted(names.values(), key=str.lower)


def drop_vanished_tags(connection: Connection, available: list[str]) -> list[str]:
    """Remove selected tags CM no longer has; returns those dropped (audited as the system)."""
    known = {tag.lower() for tag in available}
    with transaction.atomic():
        CampaignSettings.for_connection(connection)
        row = CampaignSettings.objects.select_for_update().get(connection=connection)
        before = list(row.filter_tags or [])
        kept = [tag for tag in before if tag.lower() in known]
        if kept == before:
            return []
        row.filter_tags = kept
        row.save(update_fields=["filter_tags", "updated_at"])
        record_changes(user=None, area=AUDIT_AREA, changes={TAGS: (before, kept)})
    return [tag for tag in before if tag not in kept]


def filter_screen(connection: Connection) -> FilterScreen:
    """The filter as the screen shows it; reads CM's tags and drops those gone from CM."""
    tags_error, dropped = "", []
    try:
        available = cm_tags(connection)
    except (ApiError, CredentialsGone) as exc:
        available, tags_error = [], f"The tags could not be read from Campaign Monitor: {exc}"
    if not tags_error:
        dropped = drop_vanished_tags(connection, available)
    options = CampaignSettings.for_connection(connection)
    rule = CampaignFilter.of(options)
    offered = {tag.lower(): tag for tag in [*available, *rule.tags]}
    return FilterScreen(
        options=options,
        rule=rule,
        tags=sorted(offered.values(), key=str.lower),
        tags_error=tags_error,
        dropped=dropped,
        kept_out=kept_out_count(connection, rule),
    )


def update_filter(
    connection: Connection,
    user,
    *,
    active: bool,
    start_date: dt.date | None,
    tags: list[str],
) -> list[str]:
    """Set the filter; returns the names of the settings that changed (one audit entry each)."""
    with transaction.atomic():
        CampaignSettings.for_connection(connection)
        row = CampaignSettings.objects.select_for_update().get(connection=connection)
        before = {
            ACTIVE: row.filter_active,
            START_DATE: row.filter_start_date,
            TAGS: list(row.filter_tags or []),
        }
        after = {ACTIVE: bool(active), START_DATE: start_date, TAGS: list(tags)}
        changes = {name: (before[name], after[name]) for name in before}
        changed = [name for name, (old, new) in changes.items() if old != new]
        if not changed:
            return []
        row.filter_active, row.filter_start_date, row.filter_tags = (
            after[ACTIVE],
            after[START_DATE],
            after[TAGS],
        )
        row.save(update_fields=["filter_active", "filter_start_date", "filter_tags", "updated_at"])
        record_changes(
            user=user,
            area=AUDIT_AREA,
            changes={
                name: (_shown(changes[name][0]), _shown(changes[name][1])) for name in changed
            },
        )
        reread_let_in(connection, CampaignFilter.of(row))
    return changed


def _shown(value: object) -> object:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "(none)"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
