"""Maintenance messages: every problem a job meets, with a support code that says what to do."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Level(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class MaintenanceMessage(models.Model):
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.ERROR)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    client_name = models.CharField(max_length=255, blank=True)
    job = models.CharField(max_length=80)
    message = models.CharField(max_length=500)
    details = models.TextField(blank=True)
    support_code = models.CharField(max_length=20, blank=True)
    run = models.ForeignKey(
        "sync.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    read = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"[{self.level}] {self.job}: {self.message}"


class AuditEntry(models.Model):
    """A change of a setting: who, when, what, before → after."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    area = models.CharField(max_length=80)
    setting = models.CharField(max_length=120)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.username or 'system'} changed {self.area} / {self.setting}"


class GovernorLimit(models.Model):
    """Internal limits per job (batch sizes), tunable by admins behind the Maintenance cog."""

    job = models.CharField(max_length=80, unique=True)
    batch_size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.job}: {self.batch_size}"
