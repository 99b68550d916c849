"""Recording maintenance messages; every job reports problems through here."""

from __future__ import annotations

import logging

from .models import Level, MaintenanceMessage

logger = logging.getLogger(__name__)


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
