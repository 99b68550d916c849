"""The primary sync's beat entry follows the connection's settings, and Next run is true to it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from sync.models import Connection
from sync.services.schedule import apply_schedule, next_run_at, remove_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected() -> Connection:
    now = timezone.now()
    return Connection.objects.create(
        cm_api_key="k",
        cm_connected_at=now,
        sf_access_token="t",
        sf_instance_url="https://x.example",
        sf_connected_at=now,
    )


def test_first_scheduled_run_comes_one_interval_after_connecting(connected):
    before = timezone.now()
    task = apply_schedule(connected)
    assert task.enabled and task.interval.every == 60 and task.expire_seconds > 0
    upcoming = next_run_at(connected)
    assert before + dt.timedelta(minutes=59) < upcoming <= timezone.now() + dt.timedelta(minutes=60)


def test_after_a_run_the_next_is_one_interval_later(connected):
    task = apply_schedule(connected)
    ran = timezone.now() - dt.timedelta(minutes=10)
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=ran)
    assert next_run_at(connected) == ran + dt.timedelta(minutes=60)


def test_off_or_not_connected_means_no_next_run(connected):
    apply_schedule(connected)
    connected.sync_enabled = False
    apply_schedule(connected)
    assert next_run_at(connected) is None
    assert PeriodicTask.objects.get(name=connected.beat_task_name).enabled is False
    remove_schedule(connected)
    assert next_run_at(connected) is None
