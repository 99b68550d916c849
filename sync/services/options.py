"""General Options: save the switches of a connection and audit every change.

The switches themselves are read by the sync engine from :class:`~sync.models.SyncOptions`;
this module only changes them, so the screen, a management command or a test all leave the
same audit trail.
"""

from __future__ import annotations

from django.db import transaction

from maintenance.services import record_changes
from sync.models import Connection, SyncOptions

AUDIT_AREA = "General Options"

# The General Options switches (SyncOptions field → the name people see on the screen and in
# the audit log), in screen order.
GENERAL_OPTIONS: dict[str, str] = {
    "email_opt_sync": "Email opt in/out",
    "trigger_journeys": "Trigger journeys for subscribers added by cmsync",
    "account_trigger": "Account trigger",
    "disable_triggers": "Disable triggers",
    "suppression_sync": "Suppression list",
}


def option_label(name: str) -> str:
    return GENERAL_OPTIONS[name]


def current_options(connection: Connection) -> dict[str, bool]:
    """Each General Options switch of the connection, by field name."""
    options = SyncOptions.for_connection(connection)
    return {name: getattr(options, name) for name in GENERAL_OPTIONS}


def update_options(connection: Connection, user, **values: bool) -> list[str]:
    """Set the given switches; returns the names of those that changed (in screen order).

    Writes one audit entry per changed switch (area "General Options", before → after as
    on/off). Switches not passed keep their value. An unknown name is a programming error.
    """
    unknown = set(values) - set(GENERAL_OPTIONS)
    if unknown:
        raise TypeError(f"not a General Options switch: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        SyncOptions.for_connection(connection)
        options = SyncOptions.objects.select_for_update().get(connection=connection)
        changed = [
            name
            for name in GENERAL_OPTIONS
            if name in values and getattr(options, name) != bool(values[name])
        ]
        if not changed:
            return []
        audit = {
            option_label(name): (getattr(options, name), bool(values[name])) for name in changed
        }
        for name in changed:
            setattr(options, name, bool(values[name]))
        options.save(update_fields=[*changed, "updated_at"])
        record_changes(user=user, area=AUDIT_AREA, changes=audit)
    return changed
