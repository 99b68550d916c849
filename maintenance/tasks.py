"""Housekeeping tasks."""

from __future__ import annotations

import socket
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from maintenance.services import HEARTBEAT_CACHE_KEY


@shared_task(name="maintenance.tasks.worker_heartbeat", ignore_result=False)
def worker_heartbeat() -> dict[str, Any]:
    """Note that a worker is alive (the dashboard shows when one last answered)."""
    beat = {"hostname": socket.gethostname(), "at": timezone.now().isoformat()}
    cache.set(HEARTBEAT_CACHE_KEY, beat, timeout=24 * 3600)
    return beat
