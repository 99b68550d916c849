"""Every Celery beat entry, in one place.

Static entries live in ``STATIC_SCHEDULE`` (django-celery-beat copies them into its database
tables at start). The per-connection primary sync is a database entry whose interval admins
change on the Sync Settings screen; its shape is defined here too, by ``primary_sync_entry``.
Each entry has an ``expires`` so a backlog built while workers were down is dropped instead of
running many times over.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

# Cadence notes: the heartbeat is cheap and shows on the dashboard whether a worker is alive;
# the stale-run sweeper frees locks of killed workers well before the next hourly run, and
# queues again the re-own jobs (new Security Owner) whose worker died.
STATIC_SCHEDULE: dict[str, dict[str, Any]] = {
    "worker-heartbeat": {
        "task": "maintenance.tasks.worker_heartbeat",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    # SF → CM opt-outs: frequent small batches keep consent changes flowing within minutes.
    "optout-batch": {
        "task": "sync.tasks.optout_batch",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 14 * 60},
    },
    # Standing field mappings: one COUNT() per mapping; an import starts only when rows changed.
    "keep-field-mappings-in-step": {
        "task": "sync.tasks.keep_mappings_in_step",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 14 * 60},
    },
    "sweep-stale-sync-runs": {
        "task": "sync.tasks.sweep_stale_runs",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    # A Salesforce Campaigns backfill whose worker died is failed with a message (its lease is
    # 10 minutes), so the screen stops showing it as running.
    "sweep-stale-campaign-backfills": {
        "task": "campaigns.tasks.sweep_stale_backfills",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    # Tracking-history retention: days-to-keep is counted in days, so once a day is enough; a
    # run missed while workers were down is dropped after 12 hours (the next day's run catches
    # up). Lowering the setting on the Storage screen also queues a run at once.
    "tracking-history-retention": {
        "task": "sync.tasks.retention_job",
        "schedule": timedelta(days=1),
        "options": {"expires": 12 * 60 * 60},
    },
}


def primary_sync_entry(connection_id: int, every_minutes: int) -> dict[str, Any]:
    """The beat entry that runs ``primary_sync`` for one connection every ``every_minutes``."""
    return {
        "name": f"primary-sync-connection-{connection_id}",
        "task": "sync.tasks.scheduled_primary_sync",
        "every_minutes": every_minutes,
        "args": [connection_id],
        # A run not started within its own interval is superseded by the next one.
        "expires_seconds": max(60, every_minutes * 60 - 30),
    }
