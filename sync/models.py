"""Connections to Campaign Monitor and Salesforce, the CM clients we sync, and sync runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from lib.fields import EncryptedTextField
from sync.clients.email_types import EmailType  # Django-free, so the API clients derive from it

CM_DEFAULT_BASE_URL = "https://api.createsend.com/api/v3.3"


class Frequency(models.IntegerChoices):
    """How often the primary sync runs, in minutes."""

    EVERY_15_MINUTES = 15, "Every 15 minutes"
    EVERY_30_MINUTES = 30, "Every 30 minutes"
    HOURLY = 60, "Hourly (recommended)"
    EVERY_4_HOURS = 240, "Every 4 hours"
    DAILY = 1440, "Daily"


class Plan(models.TextChoices):
    STANDARD = "standard", "Standard"
    ENTERPRISE = "enterprise", "Enterprise"


class CMAuthMethod(models.TextChoices):
    API_KEY = "api_key", "API key"
    OAUTH = "oauth", "OAuth"


class FullSyncState(models.TextChoices):
    NONE = "", "No full sync pending"
    DELETING = "deleting", "Removing cmsync's records from Salesforce"
    IMPORTING = "importing", "Re-importing everything from Campaign Monitor"


class Connection(models.Model):
    """One Campaign Monitor account synced into one Salesforce org."""

    name = models.CharField(max_length=100, default="Campaign Monitor ⇄ Salesforce")
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.ENTERPRISE)

    cm_base_url = models.URLField(default=CM_DEFAULT_BASE_URL)
    cm_auth_method = models.CharField(max_length=10, choices=CMAuthMethod.choices, blank=True)
    cm_api_key = EncryptedTextField()
    cm_access_token = EncryptedTextField()
    cm_refresh_token = EncryptedTextField()
    cm_connected_at = models.DateTimeField(null=True, blank=True)
    cm_needs_reconnect = models.BooleanField(default=False)
    cm_is_agency = models.BooleanField(default=False)
    # When Campaign Monitor was last disconnected: the disconnect cancelled the work active then.
    cm_disconnected_at = models.DateTimeField(null=True, blank=True)

    sf_instance_url = models.URLField(blank=True)
    # The org's id (from the OAuth identity URL): Change Sync User must sign in to this org.
    sf_org_id = models.CharField(max_length=18, blank=True)
    sf_login_url = models.URLField(blank=True)
    sf_access_token = EncryptedTextField()
    sf_refresh_token = EncryptedTextField()
    # Password flow (scripts, `manage.py connect`): it issues no refresh token, so an expired
    # session is renewed by logging in again with these.
    sf_username = models.CharField(max_length=255, blank=True)
    sf_password = EncryptedTextField()
    sf_connected_at = models.DateTimeField(null=True, blank=True)
    sf_needs_reconnect = models.BooleanField(default=False)
    sf_sync_user_id = models.CharField(max_length=18, blank=True)
    sf_sync_user_name = models.CharField(max_length=255, blank=True)
    sf_schema_ready_at = models.DateTimeField(null=True, blank=True)

    sync_enabled = models.BooleanField(default=True)
    frequency_minutes = models.PositiveIntegerField(
        choices=Frequency.choices, default=Frequency.HOURLY
    )
    full_sync_state = models.CharField(
        max_length=20, choices=FullSyncState.choices, default=FullSyncState.NONE, blank=True
    )
    # How far Contact and Lead changes (Salesforce's SystemModstamp) have been carried into the
    # Contact__c / Lead__c links of cmsync's records; None until the first change was read.
    people_cursor = models.DateTimeField(null=True, blank=True)
    # The people read just before it (id → SystemModstamp): already handled, skipped next time.
    people_cursor_seen = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    @property
    def cm_connected(self) -> bool:
        return bool(self.cm_connected_at and (self.cm_api_key or self.cm_access_token))

    @property
    def sf_connected(self) -> bool:
        return bool(self.sf_connected_at and self.sf_access_token and self.sf_instance_url)

    @property
    def both_connected(self) -> bool:
        """Campaign Monitor and Salesforce are both connected (the one place this is said)."""
        return self.cm_connected and self.sf_connected

    @property
    def ready_to_sync(self) -> bool:
        return self.both_connected and self.clients.filter(selected=True).exists()

    def current_clients(self) -> models.QuerySet[CMClient]:
        """The clients of the account connected (or last connected), without those of an
        account that was disconnected and replaced by another one."""
        return self.clients.filter(disconnected_account_at=None)

    @property
    def beat_task_name(self) -> str:
        return f"primary-sync-connection-{self.pk}"


class CMClient(models.Model):
    """A Campaign Monitor client (sub-account) of the connected account."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="clients")
    cm_client_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    selected = models.BooleanField(default=False)
    connection_active = models.BooleanField(default=True)
    security_owner_id = models.CharField(max_length=18, blank=True)
    security_owner_name = models.CharField(max_length=255, blank=True)
    # CM's TimeZone label of the client ("(GMT+10:00) Canberra, …"): its dates are that wall clock.
    cm_time_zone = models.CharField(max_length=100, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Set when its account was disconnected and a different account connected in its place:
    # cmsync no longer syncs it, and its records stay in Salesforce. Connecting its account
    # again clears it.
    disconnected_account_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "cm_client_id"], name="uniq_cm_client")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner_id(self) -> str:
        """Whose records cmsync creates for this client: its security owner, else the sync user."""
        return self.security_owner_id or self.connection.sf_sync_user_id


class SyncCursor(models.Model):
    """How far one stream of one client has been copied (CM local time, minute precision).

    ``marker`` holds a fingerprint for streams tracked by content rather than by date (the
    statistics of a campaign: unchanged statistics mean no new tracking events to read).
    """

    cm_client = models.ForeignKey(CMClient, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=200)
    position = models.DateTimeField(null=True, blank=True)
    marker = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cm_client", "stream"], name="uniq_cursor_stream")
        ]

    def __str__(self) -> str:
        return f"{self.cm_client_id}/{self.stream} @ {self.position or self.marker}"


class SyncedRecord(models.Model):
    """What cmsync last wrote to Salesforce for one record, so unchanged data is never re-sent."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    sobject = models.CharField(max_length=80)
    cm_key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=32)
    sf_id = models.CharField(max_length=18, blank=True)
    written_at = models.DateTimeField(default=timezone.now)
    # Rows linked to people (the objects with an e-mail): the address and the Contact / Lead
    # link last written, so a change of people finds its rows and rewrites only moved links.
    email = models.CharField(max_length=254, blank=True)
    contact_id = models.CharField(max_length=18, blank=True)
    lead_id = models.CharField(max_length=18, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "sobject", "cm_key"], name="uniq_synced_record"
            )
        ]
        indexes = [
            models.Index(fields=["connection", "email"], name="synced_record_email"),
            models.Index(fields=["connection", "contact_id"], name="synced_record_contact"),
            models.Index(fields=["connection", "lead_id"], name="synced_record_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.sobject} {self.cm_key}"


class RunKind(models.TextChoices):
    INCREMENTAL = "incremental", "Incremental"
    FULL = "full", "Full Campaign Monitor sync"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Sync now"
    CLI = "cli", "Command line"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTLY_FAILED = "partly_failed", "Partly failed"
    FAILED = "failed", "Failed"
    # Stopped on purpose, not by a fault: its connection was disconnected (the reason is in the
    # run's error summary, the client job's last error, the import's error).
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class SyncRun(models.Model):
    """One primary sync (incremental or full) of a connection, with what it did and spent."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=20, choices=RunKind.choices, default=RunKind.INCREMENTAL)
    trigger = models.CharField(
        max_length=20, choices=RunTrigger.choices, default=RunTrigger.SCHEDULE
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    only_client = models.ForeignKey(
        CMClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    stage = models.CharField(max_length=200, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    records_written = models.JSONField(default=dict, blank=True)
    rejected_count = models.PositiveIntegerField(default=0)
    cm_calls = models.PositiveIntegerField(default=0)
    sf_calls = models.PositiveIntegerField(default=0)
    sf_write_calls = models.PositiveIntegerField(default=0)
    error_summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["connection", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration(self) -> dt.timedelta | None:
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def total_written(self) -> int:
        return sum(self.records_written.values())


class ClientJob(models.Model):
    """The part of a run that syncs one CM client; runs as its own Celery task."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="client_jobs")
    cm_client = models.ForeignKey(CMClient, on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    stage = models.CharField(max_length=200, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    records_written = models.JSONField(default=dict, blank=True)
    rejected_count = models.PositiveIntegerField(default=0)
    cm_calls = models.PositiveIntegerField(default=0)
    sf_calls = models.PositiveIntegerField(default=0)
    sf_write_calls = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cm_client__name"]
        constraints = [models.UniqueConstraint(fields=["run", "cm_client"], name="uniq_client_job")]

    def __str__(self) -> str:
        return f"run {self.run_id} / {self.cm_client}"


class RecordRejection(models.Model):
    """A record Salesforce refused during a run; the rest of its batch still landed."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="rejections")
    cm_client = models.ForeignKey(CMClient, null=True, on_delete=models.SET_NULL, related_name="+")
    sobject = models.CharField(max_length=80)
    cm_key = models.CharField(max_length=255)
    error_code = models.CharField(max_length=80)
    message = models.TextField()
    # What cmsync tried to write, so the next run can try again (the CM cursor moved on).
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.sobject} {self.cm_key}: {self.error_code}"


def _all_email_types() -> list[str]:
    return list(EmailType.values)


class SyncOptions(models.Model):
    """What the primary sync stores and which side-effects it has (Storage, General Options)."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="options")
    # Tracking history: keep events of these types from the last N days (0 = store none).
    days_to_keep = models.PositiveIntegerField(default=180)
    email_types_to_keep = models.JSONField(default=_all_email_types)
    campaign_member_aggregates = models.BooleanField(default=False)
    # General options: off, except the first two (the guide's defaults for a new connection;
    # migration 0004 changed only the default, so existing connections keep their choices).
    email_opt_sync = models.BooleanField(default=False)
    trigger_journeys = models.BooleanField(default=True)
    account_trigger = models.BooleanField(default=True)
    disable_triggers = models.BooleanField(default=False)
    suppression_sync = models.BooleanField(default=False)
    # How far the SF → CM opt-out batch job has read Contact/Lead changes.
    optout_cursor = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"options of {self.connection}"

    @classmethod
    def for_connection(cls, connection: Connection) -> SyncOptions:
        options, _ = cls.objects.get_or_create(connection=connection)
        return options

    # The tracking-history setting: every rule about it is here, and only here ------------------
    def kept_types(self) -> list[str]:
        """The email types chosen to keep, in EmailType order (unknown values dropped)."""
        return EmailType.in_order(self.email_types_to_keep)

    @property
    def keeps_nothing(self) -> bool:
        """0 days, or no email type chosen: cmsync stores no tracking history at all."""
        return self.days_to_keep <= 0 or not self.kept_types()

    @property
    def keeps_every_type(self) -> bool:
        return len(self.kept_types()) == len(EmailType.values)

    @property
    def days_kept(self) -> int:
        """Days of tracking history stored: 0 when nothing is."""
        return 0 if self.keeps_nothing else self.days_to_keep

    def keeps_less_than(self, other: SyncOptions) -> bool:
        """Whether this setting stores less than ``other``: fewer days, or fewer email types."""

        def types(options: SyncOptions) -> set[str]:
            return set() if options.keeps_nothing else set(options.kept_types())

        return self.days_kept < other.days_kept or bool(types(other) - types(self))

    def types_dropped_by(self, proposed: SyncOptions) -> list[str]:
        """The email types this setting keeps and ``proposed`` no longer would, in EmailType
        order (none when ``proposed`` keeps nothing at all: every type goes then)."""
        if proposed.keeps_nothing:
            return []
        mine = set() if self.keeps_nothing else set(self.kept_types())
        return EmailType.in_order(mine - set(proposed.kept_types()))

    def keeps(self, event_type: str) -> bool:
        """Whether events of this type are stored (inside the window, see ``retention_cutoff``)."""
        return not self.keeps_nothing and event_type in self.kept_types()

    def retention_cutoff(self, now: dt.datetime | None = None) -> dt.datetime:
        """Events older than this are outside the window."""
        return (now or timezone.now()) - dt.timedelta(days=self.days_to_keep)

    def tracking_description(self) -> str:
        """The setting in words, e.g. "the last 90 days of Sent, Opened"."""
        if self.keeps_nothing:
            return "no tracking history"
        if self.keeps_every_type:
            what = "all email types"
        else:
            what = ", ".join(EmailType(value).label for value in self.kept_types())
        return f"the last {self.days_to_keep} days of {what}"

    def tracking_signature(self) -> str:
        """A short digest of the setting as saved: it changes whenever the setting does.

        The sync engine stores it in each campaign's marker (a change makes the next run read
        the campaign's reports again) and the Storage screen keys its cached figures on it.
        The digest is the one markers were written with before, so saved markers stay valid.
        """
        payload = json.dumps(
            {"days": self.days_to_keep, "types": sorted(self.email_types_to_keep or [])},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.md5(payload.encode("utf-8")).hexdigest()[:8]  # noqa: S324 - change detection


class ConsentSource(models.TextChoices):
    CAMPAIGN_MONITOR = "cm", "Campaign Monitor"
    SALESFORCE = "sf", "Salesforce"


class ConsentChange(models.Model):
    """One opt-in/opt-out change cmsync carried across, for the per-address consent log."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=254, db_index=True)
    source = models.CharField(max_length=2, choices=ConsentSource.choices)
    action = models.CharField(max_length=200)
    who = models.CharField(max_length=255, blank=True)
    changed_at = models.DateTimeField(help_text="when the change happened at its source")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email}: {self.action} ({self.get_source_display()})"


class ImportSourceKind(models.TextChoices):
    LIST_VIEW = "listview", "List view"
    REPORT = "report", "Report"


class ConsentToTrack(models.TextChoices):
    UNCHANGED = "Unchanged", "Unchanged (new subscribers: No)"
    YES = "Yes", "Yes"
    NO = "No", "No"


class StandingMapping(models.Model):
    """A list view kept in step with a CM list: people it gains or who change are re-sent.

    Made from an import with "keep in step" ticked; ``cursor`` is the newest Salesforce
    ``LastModifiedDate`` sent so far (None until the first import finished).
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    cm_client = models.ForeignKey(CMClient, on_delete=models.CASCADE, related_name="+")
    list_id = models.CharField(max_length=64)
    list_name = models.CharField(max_length=255)
    source_object = models.CharField(max_length=80)
    source_id = models.CharField(max_length=18)
    source_name = models.CharField(max_length=255)
    mapping = models.JSONField(default=dict)
    consent_to_track = models.CharField(
        max_length=10, choices=ConsentToTrack.choices, default=ConsentToTrack.UNCHANGED
    )
    active = models.BooleanField(default=True)
    # Why cmsync paused it (a person's pause leaves it empty); resuming clears it.
    paused_reason = models.CharField(max_length=500, blank=True)
    cursor = models.DateTimeField(null=True, blank=True)
    # Rows already sent whose stamp is the cursor's very second (the next check leaves them out).
    cursor_ids = models.JSONField(default=list, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["source_name", "list_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "source_id", "list_id"], name="uniq_standing_mapping"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_object} list view “{self.source_name}” → {self.list_name}"


class ImportJob(models.Model):
    """One run of the import wizard: a Salesforce list view or report into one CM list.

    ``mapping`` holds the wizard's choices: ``email`` and ``name`` (Salesforce field paths, or
    report column names) and ``custom_fields`` (CM field key → Salesforce field). The counters
    are what the detail page and its progress bar show while the Celery task works.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="imports")
    cm_client = models.ForeignKey(CMClient, on_delete=models.CASCADE, related_name="imports")
    list_id = models.CharField(max_length=64)
    list_name = models.CharField(max_length=255)
    source_kind = models.CharField(max_length=10, choices=ImportSourceKind.choices)
    source_object = models.CharField(max_length=80, blank=True)
    source_id = models.CharField(max_length=18)
    source_name = models.CharField(max_length=255)
    mapping = models.JSONField(default=dict)
    consent_to_track = models.CharField(
        max_length=10, choices=ConsentToTrack.choices, default=ConsentToTrack.UNCHANGED
    )
    trigger_journeys = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    new_subscribers = models.PositiveIntegerField(default=0)
    existing_subscribers = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped_opted_out = models.PositiveIntegerField(default=0)
    skipped_no_email = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    # The first refused addresses with the reason in words: [{"email": ..., "reason": ...}].
    failures = models.JSONField(default=list, blank=True)
    cm_calls = models.PositiveIntegerField(default=0)
    sf_calls = models.PositiveIntegerField(default=0)
    warning = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # Runs of a standing field mapping send only the rows changed since its cursor.
    standing = models.ForeignKey(
        StandingMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    changed_since = models.DateTimeField(null=True, blank=True)
    newest_change = models.DateTimeField(null=True, blank=True)
    newest_ids = models.JSONField(default=list, blank=True)  # rows stamped newest_change
    # Saved after every batch: a running import whose worker died stops moving it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"import {self.pk}: {self.source_name} → {self.list_name}"

    @classmethod
    def create_for(cls, connection: Connection, **fields: Any) -> ImportJob:
        """The one way an import job is made (the wizard, Run again, a standing mapping's run).

        It takes "Trigger journeys" from the General Options as they are now, so changing the
        option later does not change an import already started.
        """
        options = SyncOptions.for_connection(connection)
        return cls.objects.create(
            connection=connection, trigger_journeys=options.trigger_journeys, **fields
        )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def imported(self) -> int:
        return self.new_subscribers + self.existing_subscribers

    @property
    def percent(self) -> int:
        if self.status in (RunStatus.SUCCEEDED, RunStatus.PARTLY_FAILED):
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.rows_read * 100 // self.total_rows)


class BatchJobProgress:
    """``is_active`` and ``percent`` of a job row that counts ``done`` and ``failed`` of
    ``total`` (re-owning records, backfilling Salesforce Campaigns)."""

    status: str
    total: int
    done: int
    failed: int

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int:
        if self.status in (RunStatus.SUCCEEDED, RunStatus.PARTLY_FAILED):
            return 100
        if not self.total:
            return 0
        return min(99, (self.done + self.failed) * 100 // self.total)


class ReownJob(BatchJobProgress, models.Model):
    """Giving every cmsync record of one CM client in Salesforce a new owner (Bulk API 2.0).

    Started when a client's Security Owner changes. ``done`` / ``total`` are saved after every
    batch together with ``heartbeat_at``; a job whose heartbeat stops is queued again by the
    sweeper (or failed after ``attempts`` runs out). Running it again only touches records not
    yet owned by ``owner_id``.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    cm_client = models.ForeignKey(CMClient, on_delete=models.CASCADE, related_name="reown_jobs")
    owner_id = models.CharField(max_length=18)
    owner_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)  # None until counted
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    sf_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    support_code = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="reown_job_status")]

    def __str__(self) -> str:
        return f"re-own {self.cm_client_id} → {self.owner_name or self.owner_id}"

    @property
    def summary(self) -> str:
        """One line for the clients table of Sync Settings."""
        owner = self.owner_name or self.owner_id
        if self.status == RunStatus.QUEUED:
            return f"Re-owning existing records to {owner}: waiting for a worker"
        if self.status == RunStatus.RUNNING:
            if self.total is None:
                return f"Re-owning existing records to {owner}: counting"
            return f"Re-owning existing records to {owner}: {self.done} of {self.total}"
        if self.status == RunStatus.SUCCEEDED:
            return f"{self.done} existing record(s) re-owned to {owner}"
        if self.status == RunStatus.PARTLY_FAILED:
            return (
                f"{self.done} record(s) re-owned to {owner}; Salesforce refused {self.failed} "
                f"({self.support_code})"
            )
        code = f" ({self.support_code})" if self.support_code else ""
        return f"Re-owning records to {owner} stopped: {self.error}{code}"
