"""What the dashboard and settings screens say about the connection and the sync."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from sync.models import Connection, RunKind, SyncRun


def get_connection() -> Connection | None:
    """The installation's connection (cmsync syncs one CM account into one SF org)."""
    return Connection.objects.order_by("pk").first()


@dataclass
class SyncState:
    label: str
    css: str
    explanation: str


def describe_sync_state(connection: Connection | None, last_run: SyncRun | None) -> SyncState:
    if connection is None or not connection.both_connected:
        return SyncState("Not set up", "none", "Connect Campaign Monitor and Salesforce first.")
    if not connection.clients.filter(selected=True).exists():
        return SyncState(
            "No clients selected", "warn", "Pick the Campaign Monitor clients to sync."
        )
    if connection.cm_needs_reconnect or connection.sf_needs_reconnect:
        side = "Campaign Monitor" if connection.cm_needs_reconnect else "Salesforce"
        return SyncState("Reconnect needed", "bad", f"{side} rejected cmsync's credentials.")
    if not connection.sync_enabled:
        return SyncState("Off", "off", "Sync is turned off: scheduled runs are skipped.")
    if last_run and last_run.is_active:
        what = "Full sync" if last_run.kind == RunKind.FULL else "Sync"
        return SyncState(
            "Running", "running", f"{what} in progress: {last_run.stage or 'starting'}."
        )
    return SyncState("On", "ok", "Scheduled runs copy Campaign Monitor data into Salesforce.")


def last_run_for(connection: Connection | None) -> SyncRun | None:
    if connection is None:
        return None
    return connection.runs.order_by("-created_at", "-pk").first()


def ago(moment: dt.datetime | None) -> str:
    if moment is None:
        return "never"
    seconds = int((timezone.now() - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"
