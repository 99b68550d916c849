"""Recording maintenance messages; every job reports problems through here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache

from .models import Level, MaintenanceMessage

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "cmsync:worker-heartbeat"


def record_message(
    *,
    job: str,
    message: str,
    level: str = Level.ERROR,
    details: str = "",
    support_code: str = "",
    client_name: str = "",
    run=None,
) -> MaintenanceMessage:
    """Store a maintenance message (and log it without details, which may hold record data)."""
    entry = MaintenanceMessage.objects.create(
        level=level,
        job=job,
        message=message[:500],
        details=details,
        support_code=support_code,
        client_name=client_name[:255],
        run=run,
    )
    logger.log(
        logging.ERROR if level == Level.ERROR else logging.INFO,
        "maintenance %s [%s] %s: %s",
        support_code or "-",
        job,
        client_name or "-",
        message,
    )
    return entry


def unread_count() -> int:
    return MaintenanceMessage.objects.filter(
        read=False, level__in=[Level.WARNING, Level.ERROR]
    ).count()


@dataclass(frozen=True)
class Actor:
    """Who changed a setting when no signed-in person did: a management command, by name."""

    username: str
    is_authenticated: bool = False


def command_actor(name: str) -> Actor:
    """The audit log's "who" for ``manage.py <name>`` run without a console user."""
    return Actor(username=f"manage.py {name}")


def record_changes(*, user, area: str, changes: dict[str, tuple[object, object]]) -> int:
    """Write one audit entry per setting whose value changed; returns how many.

    ``user`` is the signed-in person, an :class:`Actor` (a command), or None (the system).
    """
    from .models import AuditEntry

    entries = [
        AuditEntry(
            user=user if getattr(user, "is_authenticated", False) else None,
            username=getattr(user, "username", "") or "",
            area=area,
            setting=setting,
            before=_display(before),
            after=_display(after),
        )
        for setting, (before, after) in changes.items()
        if before != after
    ]
    AuditEntry.objects.bulk_create(entries)
    return len(entries)


def _display(value: object) -> str:
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value) or "(none)"
    if isinstance(value, bool):
        return "on" if value else "off"
    return "" if value is None else str(value)


# Batch sizes per job when nobody changed them (Salesforce's collections cap is 200).
DEFAULT_BATCH_SIZES = {
    "primary_sync": 200,
    "full_sync": 10_000,
    "retention": 2_000,
    "optout_batch": 200,
}


def batch_size_for(job: str) -> int:
    from .models import GovernorLimit

    limit = GovernorLimit.objects.filter(job=job).first()
    return limit.batch_size if limit else DEFAULT_BATCH_SIZES[job]


def last_heartbeat() -> dict[str, Any] | None:
    """The last worker heartbeat, with ``at`` as a datetime (so pages can say how long ago)."""
    beat = cache.get(HEARTBEAT_CACHE_KEY)
    if not beat:
        return None
    return {**beat, "at": datetime.fromisoformat(beat["at"])}
