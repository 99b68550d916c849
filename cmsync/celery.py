"""The Celery app; tasks are discovered in each Django app's ``tasks.py``."""

from __future__ import annotations

from celery import Celery

from cmsync.startup import load_settings_or_exit

load_settings_or_exit()

app = Celery("cmsync")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
