"""Celery tasks of Salesforce Campaigns: thin wrappers that take ids and call the services.

Services queue them by name through :func:`sync.services.jobs.enqueue_on_commit`.
"""

from __future__ import annotations

from celery import shared_task

from campaigns.services.backfill import execute_backfill, sweep_stale_backfills


@shared_task(name="campaigns.tasks.backfill_campaigns", acks_late=True, reject_on_worker_lost=True)
def backfill_campaigns(job_id: int) -> str:
    """Create and link Salesforce Campaigns for campaigns synced before (a ``BackfillJob``)."""
    return execute_backfill(job_id).status


@shared_task(name="campaigns.tasks.sweep_stale_backfills")
def sweep_stale_backfills_task() -> int:
    """Fail the backfills whose worker died, so the screen stops waiting (beat)."""
    return sweep_stale_backfills()
