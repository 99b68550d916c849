"""Campaign member statuses: read and change their settings, every change audited.

The map lists the mapped CM activities most advanced first, each with the CampaignMember status
label it leads to (:mod:`campaigns.engine.statuses` applies it during the sync). A map with an
empty label, an unknown or repeated activity, or no activity at all is refused. Nothing already in
Salesforce is deleted by these settings: turning an option off or dropping an activity from the
map leaves statuses and members as they are.
"""

from __future__ import annotations

from django.db import transaction

from campaigns.models import MEMBER_ACTIVITIES, MemberStatusSettings
from campaigns.services.settings import AUDIT_AREA
from maintenance.services import record_changes
from sync.models import Connection

# MemberStatusSettings field → the name people see on the screen and in the audit log.
OPTIONS: dict[str, str] = {
    "update_statuses": "Update campaign member status on every primary sync",
    "auto_create_statuses": "Auto-create member statuses",
}
MAP_SETTING = "Member status map"
ACTIVITY_NAMES: dict[str, str] = dict(MEMBER_ACTIVITIES)
# Salesforce's CampaignMemberStatus.Label is at most 765 characters; the picklist value 255.
LABEL_MAX = 255


class StatusMapError(ValueError):
    """A status map that cannot be saved; the message says why, in words."""


def current_statuses(connection: Connection) -> MemberStatusSettings:
    return MemberStatusSettings.for_connection(connection)


def clean_status_map(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """(activity, label) pairs, most advanced first, as stored; raises :class:`StatusMapError`."""
    if not pairs:
        raise StatusMapError("Map at least one activity to a member status.")
    seen: set[str] = set()
    rows = []
    for activity, label in pairs:
        if activity not in ACTIVITY_NAMES:
            raise StatusMapError(f"{activity!r} is not a Campaign Monitor activity.")
        if activity in seen:
            raise StatusMapError(f"{ACTIVITY_NAMES[activity]} is mapped twice.")
        seen.add(activity)
        label = (label or "").strip()
        if not label:
            raise StatusMapError(
                f"The status label for {ACTIVITY_NAMES[activity]} is empty: give it a label "
                "or leave the activity out of the map."
            )
        if len(label) > LABEL_MAX:
            raise StatusMapError(
                f"The status label for {ACTIVITY_NAMES[activity]} is longer than {LABEL_MAX} "
                "characters."
            )
        rows.append({"activity": activity, "label": label})
    return rows


def describe_map(status_map: list[dict[str, str]]) -> str:
    """The map in words, most advanced first (the audit log's before and after)."""
    return " > ".join(
        f"{ACTIVITY_NAMES.get(row['activity'], row['activity'])} → {row['label']}"
        for row in status_map
    )


def update_statuses(
    connection: Connection,
    user,
    *,
    status_map: list[tuple[str, str]] | None = None,
    **values: bool,
) -> list[str]:
    """Set the given options and map; returns the names of what changed (audited one by one).

    Raises :class:`StatusMapError` for a map that cannot be saved; nothing is saved then.
    """
    unknown = set(values) - set(OPTIONS)
    if unknown:
        raise TypeError(f"not a member status option: {', '.join(sorted(unknown))}")
    new_map = clean_status_map(status_map) if status_map is not None else None
    with transaction.atomic():
        MemberStatusSettings.for_connection(connection)
        row = MemberStatusSettings.objects.select_for_update().get(connection=connection)
        changed = [n for n in OPTIONS if n in values and getattr(row, n) != bool(values[n])]
        audit: dict[str, tuple[object, object]] = {
            OPTIONS[n]: (getattr(row, n), bool(values[n])) for n in changed
        }
        for name in changed:
            setattr(row, name, bool(values[name]))
        fields = list(changed)
        if new_map is not None and new_map != row.status_map:
            audit[MAP_SETTING] = (describe_map(row.status_map), describe_map(new_map))
            row.status_map = new_map
            changed.append("status_map")
            fields.append("status_map")
        if not changed:
            return []
        row.save(update_fields=[*fields, "updated_at"])
        record_changes(user=user, area=AUDIT_AREA, changes=audit)
    return changed
