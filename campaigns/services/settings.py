"""Salesforce Campaigns settings: read and change them, every change audited.

Salesforce Campaigns are optional: tracking history reaches Salesforce without them. Turning
auto-create on applies to campaigns synced from then on; the backfill handles those synced
before (:mod:`campaigns.services.backfill`). Turning an option off deletes nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from campaigns.models import CampaignSettings
from maintenance.services import record_changes
from sync.models import Connection

AUDIT_AREA = "Salesforce Campaigns"

# CampaignSettings field → the name people see on the screen and in the audit log.
OPTIONS: dict[str, str] = {
    "auto_create": "Auto-create Salesforce Campaigns",
    "update_statistics": "Update the linked Salesforce Campaign with Campaign Monitor statistics",
}


def current_settings(connection: Connection) -> CampaignSettings:
    return CampaignSettings.for_connection(connection)


def update_settings(connection: Connection, user, **values: bool) -> list[str]:
    """Set the given options; returns the names of those that changed (audited one by one)."""
    unknown = set(values) - set(OPTIONS)
    if unknown:
        raise TypeError(f"not a Salesforce Campaigns option: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        CampaignSettings.for_connection(connection)
        row = CampaignSettings.objects.select_for_update().get(connection=connection)
        changed = [n for n in OPTIONS if n in values and getattr(row, n) != bool(values[n])]
        if not changed:
            return []
        audit = {OPTIONS[n]: (getattr(row, n), bool(values[n])) for n in changed}
        for name in changed:
            setattr(row, name, bool(values[name]))
        fields = [*changed, "updated_at"]
        if "auto_create" in changed and row.auto_create:
            row.auto_create_since = timezone.now()
            fields.append("auto_create_since")
        row.save(update_fields=fields)
        record_changes(user=user, area=AUDIT_AREA, changes=audit)
    return changed
