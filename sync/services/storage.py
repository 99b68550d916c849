"""What cmsync's records cost in Salesforce storage, what the settings will cost, and saving the
Storage screen's settings.

Salesforce bills data storage at about 2 KB a record for most records, whatever their fields, so
the estimate is a record count × 2 KB. Counts come from ``SELECT COUNT()`` queries, one per
object cmsync owns; they are cached under a key that changes when a sync run finishes or the
retention job runs (the only things that change those counts), so the screen costs Salesforce
API calls once per run rather than once per page view.

The forecast is deliberately simple and said on screen: tracking events of the kept types keep
arriving at the rate of the last 30 days, and the retention job removes what ages out, so the
stored tracking history moves in a straight line from what is inside the window now to
rate × days-to-keep, reached after days-to-keep days and flat after that. Clients, lists,
memberships, campaigns and suppressions follow the size of the Campaign Monitor account, not
time, so they are taken as flat.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from maintenance.models import MaintenanceMessage
from maintenance.services import record_changes
from sync.clients.errors import ApiError, AuthError, PermanentError
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import OBJECT_NAMES, OBJECTS_BY_NAME, TRACKING_OBJECT
from sync.models import Connection, EmailType, SyncOptions
from sync.services import retention
from sync.services.api import salesforce_client
from sync.services.jobs import RETENTION_JOB, enqueue_on_commit

logger = logging.getLogger(__name__)

RECORD_KB = 2
FORECAST_HORIZONS = (30, 90, 365)
RATE_WINDOW_DAYS = 30
CACHE_SECONDS = 60 * 60
AUDIT_AREA = "Storage"


# Reading Salesforce ---------------------------------------------------------------------------
@dataclass
class SalesforceFigures:
    """What the Storage screen reads from Salesforce (cached as a whole)."""

    counts: dict[str, int]
    data_storage_max_mb: int | None
    data_storage_remaining_mb: int | None
    recent_events: int  # tracking events of the kept types in the rate window
    rate_window_days: int
    tracking_outside: int  # tracking records outside the setting (the retention job's work)
    read_at: dt.datetime


def read_figures(sf: SalesforceClient, options: SyncOptions) -> SalesforceFigures:
    """Record counts per object, the org's data storage and the recent tracking-event rate."""
    counts = {name: _count(sf, f"SELECT COUNT() FROM {name}") for name in OBJECT_NAMES}
    storage = (sf.limits() or {}).get("DataStorageMB") or {}
    window = rate_window_days(options)
    recent = 0
    outside = counts[TRACKING_OBJECT]
    if window:
        recent = _count(
            sf,
            sf.soql(
                f"SELECT COUNT() FROM {TRACKING_OBJECT} "
                f"WHERE Event_Date__c = LAST_N_DAYS:{window} AND Event_Type__c IN {{}}",
                options.kept_types(),
            ),
        )
        condition = retention.outside_window_condition(sf, options)
        outside = _count(sf, f"SELECT COUNT() FROM {TRACKING_OBJECT} WHERE {condition}")
    return SalesforceFigures(
        counts=counts,
        data_storage_max_mb=_int_or_none(storage.get("Max")),
        data_storage_remaining_mb=_int_or_none(storage.get("Remaining")),
        recent_events=recent,
        rate_window_days=window,
        tracking_outside=outside,
        read_at=timezone.now(),
    )


def rate_window_days(options: SyncOptions) -> int:
    """Days of stored history the event rate is measured over (0: nothing is stored).

    A window shorter than 30 days keeps fewer than 30 days of events, so the rate is measured
    over the days actually kept rather than diluted over 30.
    """
    return min(RATE_WINDOW_DAYS, options.days_kept)


def _count(sf: SalesforceClient, soql: str) -> int:
    try:
        return sf.query_count(soql)
    except AuthError:
        raise
    except PermanentError as exc:
        # The object does not exist until cmsync's first connect creates it: nothing stored.
        if str(exc.code).upper() == "INVALID_TYPE":
            return 0
        raise


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def figures_cache_key(connection: Connection, options: SyncOptions) -> str:
    """Changes whenever the counts can have changed: a finished run, a retention run (each
    records a maintenance message), another org, or other settings (rate and outside count)."""
    last_run = connection.runs.filter(finished_at__isnull=False).aggregate(m=Max("pk"))["m"]
    last_retention = MaintenanceMessage.objects.filter(job=retention.JOB).aggregate(m=Max("pk"))[
        "m"
    ]
    org = f"{connection.sf_instance_url}:{connection.sf_connected_at}"
    digest = hashlib.sha256(f"{org}|{options.tracking_signature()}".encode()).hexdigest()[:16]
    return f"cmsync:storage:{connection.pk}:{last_run or 0}:{last_retention or 0}:{digest}"


def cached_figures(
    connection: Connection, options: SyncOptions, *, refresh: bool = False
) -> SalesforceFigures:
    key = figures_cache_key(connection, options)
    figures = None if refresh else cache.get(key)
    if figures is not None:
        return figures
    sf = salesforce_client(connection)
    try:
        figures = read_figures(sf, options)
    finally:
        sf.close()
    cache.set(key, figures, CACHE_SECONDS)
    return figures


# Forecast -------------------------------------------------------------------------------------
def forecast_tracking(
    in_window_now: int, rate_per_day: float, days_to_keep: int, horizon_days: int
) -> int:
    """Tracking records stored ``horizon_days`` from now under the setting.

    Steady state is rate × days_to_keep; before reaching it the volume moves in a straight line
    from what is inside the window today (old events age out as new ones arrive).
    """
    if days_to_keep <= 0:
        return 0
    steady = rate_per_day * days_to_keep
    if horizon_days >= days_to_keep:
        return round(steady)
    share_left = (days_to_keep - horizon_days) / days_to_keep
    return round(in_window_now * share_left + rate_per_day * horizon_days)


@dataclass
class ObjectRow:
    name: str
    label: str
    records: int
    forecast: list[int]  # one per FORECAST_HORIZONS

    @property
    def kb(self) -> int:
        return self.records * RECORD_KB

    @property
    def size(self) -> str:
        return format_kb(self.kb)

    @property
    def records_text(self) -> str:
        return f"{self.records:,}"

    @property
    def forecast_cells(self) -> list[dict[str, str]]:
        """(records, size) per horizon, formatted for the table."""
        return [
            {"records": f"{records:,}", "size": format_kb(records * RECORD_KB)}
            for records in self.forecast
        ]


@dataclass
class StorageReport:
    """Everything the Storage screen shows about storage; ``error`` replaces the numbers."""

    error: str = ""
    rows: list[ObjectRow] = field(default_factory=list)
    total: ObjectRow | None = None
    horizons: tuple[int, ...] = FORECAST_HORIZONS
    rate_per_day: float = 0.0
    rate_window_days: int = 0
    days_to_keep: int = 0
    kept_types: list[str] = field(default_factory=list)
    tracking_outside: int = 0
    data_storage_max_mb: int | None = None
    data_storage_remaining_mb: int | None = None
    read_at: dt.datetime | None = None

    @property
    def rate_text(self) -> str:
        return f"{self.rate_per_day:,.1f}"

    @property
    def steady_state_text(self) -> str:
        """Where the stored tracking history levels off: rate × days to keep."""
        return f"{round(self.rate_per_day * self.days_to_keep):,}"

    @property
    def data_storage_used_mb(self) -> int | None:
        if self.data_storage_max_mb is None or self.data_storage_remaining_mb is None:
            return None
        return self.data_storage_max_mb - self.data_storage_remaining_mb

    @property
    def share_of_org(self) -> str:
        """cmsync's estimated share of the org's data storage allowance."""
        if not self.total or not self.data_storage_max_mb:
            return ""
        return f"{100 * self.total.kb / (self.data_storage_max_mb * 1024):.1f}%"

    @property
    def growth_exceeds_remaining(self) -> bool:
        """Whether the year's forecast growth would not fit in the org's remaining storage."""
        if not self.total or self.data_storage_remaining_mb is None:
            return False
        growth_kb = (self.total.forecast[-1] - self.total.records) * RECORD_KB
        return growth_kb > self.data_storage_remaining_mb * 1024


def build_report(figures: SalesforceFigures, options: SyncOptions) -> StorageReport:
    """Rows per object now and at each horizon, from figures read earlier (pure arithmetic)."""
    window = figures.rate_window_days
    rate = figures.recent_events / window if window else 0.0
    days = options.days_kept
    tracking_now = figures.counts.get(TRACKING_OBJECT, 0)
    in_window = max(0, tracking_now - figures.tracking_outside)
    rows = []
    for name in OBJECT_NAMES:
        records = figures.counts.get(name, 0)
        if name == TRACKING_OBJECT:
            forecast = [forecast_tracking(in_window, rate, days, h) for h in FORECAST_HORIZONS]
        else:
            forecast = [records for _ in FORECAST_HORIZONS]
        rows.append(ObjectRow(name, _label(name), records, forecast))
    total = ObjectRow(
        "",
        "Total",
        sum(row.records for row in rows),
        [sum(row.forecast[i] for row in rows) for i in range(len(FORECAST_HORIZONS))],
    )
    return StorageReport(
        rows=rows,
        total=total,
        rate_per_day=rate,
        rate_window_days=window,
        days_to_keep=days,
        kept_types=options.kept_types(),
        tracking_outside=figures.tracking_outside,
        data_storage_max_mb=figures.data_storage_max_mb,
        data_storage_remaining_mb=figures.data_storage_remaining_mb,
        read_at=figures.read_at,
    )


def _label(name: str) -> str:
    spec = OBJECTS_BY_NAME.get(name)
    return spec.plural_label if spec else name


def storage_report(connection: Connection | None, *, refresh: bool = False) -> StorageReport:
    """The report for the screen; never raises for Salesforce trouble (says it instead)."""
    if connection is None or not connection.sf_connected:
        return StorageReport(
            error="Salesforce is not connected, so there are no storage figures to show. "
            "Connect Salesforce on the Sync Settings screen."
        )
    options = SyncOptions.for_connection(connection)
    try:
        figures = cached_figures(connection, options, refresh=refresh)
    except AuthError:
        return StorageReport(
            error="Salesforce rejected cmsync's credentials, so the storage figures could not "
            "be read. Reconnect Salesforce on the Sync Settings screen (support code CMS-200)."
        )
    except ApiError as exc:
        logger.warning("Storage figures could not be read: %s", exc)
        return StorageReport(
            error="Salesforce could not be reached to read the storage figures "
            f"({exc.message}). Nothing is wrong with your data; try again in a few minutes."
        )
    return build_report(figures, options)


def format_kb(kb: float) -> str:
    if kb < 1024:
        return f"{kb:,.0f} KB"
    if kb < 1024 * 1024:
        return f"{kb / 1024:,.1f} MB"
    return f"{kb / (1024 * 1024):,.2f} GB"


# Saving the settings --------------------------------------------------------------------------
def proposed_options(
    options: SyncOptions, days_to_keep: int, email_types: list[str]
) -> SyncOptions:
    """An unsaved copy of ``options`` with a new tracking-history setting (for counting)."""
    return SyncOptions(
        connection=options.connection,
        days_to_keep=days_to_keep,
        email_types_to_keep=list(email_types),
        campaign_member_aggregates=options.campaign_member_aggregates,
    )


def narrows(current: SyncOptions, proposed: SyncOptions) -> bool:
    """Whether ``proposed`` keeps less than ``current`` (saving it runs the retention job)."""
    return proposed.keeps_less_than(current)


def count_to_delete(connection: Connection, proposed: SyncOptions) -> int | None:
    """How many tracking records ``proposed`` would delete; None when Salesforce cannot say."""
    if not connection.sf_connected:
        return None
    try:
        return retention.count_outside_window(connection, proposed)
    except ApiError as exc:
        logger.warning("Counting tracking records outside the new setting failed: %s", exc)
        return None


def type_labels(values: Iterable[str]) -> list[str]:
    """The labels of the given email types, in EmailType order."""
    return [EmailType(value).label for value in EmailType.in_order(values)]


def save_tracking_history(
    connection: Connection, *, days_to_keep: int, email_types: list[str], user
) -> bool:
    """Save the setting, audit it, and (when it keeps less) run the retention job after commit.

    Returns whether the retention job was queued.
    """
    with transaction.atomic():
        options = SyncOptions.objects.select_for_update().get(
            pk=SyncOptions.for_connection(connection).pk
        )
        proposed = proposed_options(options, days_to_keep, email_types)
        shrinking = narrows(options, proposed)
        changes = {
            "Days to keep": (options.days_to_keep, days_to_keep),
            "Email types to keep": (
                type_labels(options.email_types_to_keep),
                type_labels(email_types),
            ),
        }
        options.days_to_keep = days_to_keep
        options.email_types_to_keep = list(email_types)
        options.save(update_fields=["days_to_keep", "email_types_to_keep", "updated_at"])
        record_changes(user=user, area=AUDIT_AREA, changes=changes)
        if shrinking:
            enqueue_on_commit(RETENTION_JOB, connection.pk)
    return shrinking


def save_campaign_member_aggregates(connection: Connection, *, enabled: bool, user) -> bool:
    """Turn campaign-member aggregates on or off (audited); returns whether it changed."""
    with transaction.atomic():
        options = SyncOptions.objects.select_for_update().get(
            pk=SyncOptions.for_connection(connection).pk
        )
        before = options.campaign_member_aggregates
        options.campaign_member_aggregates = enabled
        options.save(update_fields=["campaign_member_aggregates", "updated_at"])
        record_changes(
            user=user, area=AUDIT_AREA, changes={"Campaign member aggregates": (before, enabled)}
        )
    return before != enabled
