"""Keep django-celery-beat's database schedule in step with each connection's settings.

The two settings changed here (import frequency, sync on/off) are audited here (area "Sync
Settings"), whichever screen or command changes them.
"""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from cmsync.beat import primary_sync_entry
from maintenance.services import record_changes
from sync.models import Connection, Frequency

AUDIT_AREA = "Sync Settings"


def apply_schedule(connection: Connection) -> PeriodicTask:
    """Create or update the connection's primary-sync beat entry (enabled only when it can run)."""
    entry = primary_sync_entry(connection.pk, connection.frequency_minutes)
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=entry["every_minutes"], period=IntervalSchedule.MINUTES
    )
    task, created = PeriodicTask.objects.get_or_create(
        name=entry["name"],
        defaults={"task": entry["task"], "interval": interval, "args": json.dumps(entry["args"])},
    )
    interval_changed = task.interval_id != interval.pk
    task.task = entry["task"]
    task.interval = interval
    task.args = json.dumps(entry["args"])
    task.expire_seconds = entry["expires_seconds"]
    task.enabled = connection.sync_enabled and connection.both_connected
    if created or task.start_time is None or (interval_changed and task.last_run_at is None):
        # django-celery-beat runs a never-run entry at its start time: the first scheduled run
        # comes one interval after connecting (Sync now is there for an immediate one).
        task.start_time = timezone.now() + dt.timedelta(minutes=entry["every_minutes"])
    task.save()
    return task


def set_frequency(connection: Connection, minutes: int, *, user) -> PeriodicTask:
    """Change how often the primary sync runs and reschedule it (audited)."""
    before = connection.get_frequency_minutes_display()
    connection.frequency_minutes = minutes
    connection.save(update_fields=["frequency_minutes", "updated_at"])
    changes = {"Import frequency": (before, Frequency(minutes).label)}
    record_changes(user=user, area=AUDIT_AREA, changes=changes)
    return apply_schedule(connection)


def set_sync_enabled(connection: Connection, enabled: bool, *, user) -> PeriodicTask:
    """Turn scheduled runs on or off (audited; a running run finishes, Sync now still works)."""
    before = connection.sync_enabled
    connection.sync_enabled = enabled
    connection.save(update_fields=["sync_enabled", "updated_at"])
    record_changes(user=user, area=AUDIT_AREA, changes={"Sync": (before, enabled)})
    return apply_schedule(connection)


def remove_schedule(connection: Connection) -> None:
    PeriodicTask.objects.filter(name=connection.beat_task_name).delete()


def next_run_at(connection: Connection) -> dt.datetime | None:
    """When beat will next start the primary sync, or None when it will not."""
    task = PeriodicTask.objects.filter(name=connection.beat_task_name, enabled=True).first()
    if task is None or task.interval is None:
        return None
    every = dt.timedelta(minutes=task.interval.every)
    # django-celery-beat counts an interval from the last run; before the first, it runs at the
    # entry's start time.
    first = task.start_time or timezone.now()
    upcoming = task.last_run_at + every if task.last_run_at else first
    now = timezone.now()
    if upcoming < now:
        # Beat checks its schedule continuously; an overdue entry starts at its next tick.
        return now
    return upcoming
