"""Copy one Campaign Monitor client into Salesforce: lists, memberships, campaigns, tracking.

Every stream has a cursor (``SyncCursor``). Streams are read in date order from the cursor minus
``OVERLAP`` (CM dates are minute-precision local times, so the last minute is read again), and
the cursor moves only after the rows it covers are written: after each flushed batch to the
date of the last written row, and at the end of the stream. A killed worker therefore resumes at
the last batch, and the overlap re-reads are dropped by the writer's fingerprints, so a run
without changes in CM makes no Salesforce write at all.

Feature apps take part in the campaigns stream through :mod:`sync.engine.extensions` (a filter,
a decoration of each campaign record, work after the stream and after member aggregates); this
module never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.utils import timezone

from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.errors import ApiError
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT_OBJECT,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    TRACKING_OBJECT,
)
from sync.engine import records
from sync.engine.aggregates import update_campaign_members
from sync.engine.consent import carry_cm_optouts
from sync.engine.extensions import CampaignStep, campaign_hooks
from sync.engine.suppression import mirror_suppression_list
from sync.engine.writer import SalesforceFailure, SalesforceWriter
from sync.models import CMClient, EmailType, SyncCursor, SyncOptions

OVERLAP = dt.timedelta(minutes=5)
# Campaign statistics keep changing after a send; summaries are re-read for this long.
STATS_WINDOW = dt.timedelta(days=30)
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

Progress = Callable[[str, int], None]


class ClientSync:
    """One CM client's streams, written through one :class:`SalesforceWriter`."""

    def __init__(
        self,
        cm: CampaignMonitorClient,
        writer: SalesforceWriter,
        cm_client: CMClient,
        progress: Progress,
        *,
        options: SyncOptions | None = None,
        now: Callable[[], dt.datetime] = timezone.now,
    ) -> None:
        self.cm = cm
        self.writer = writer
        self.cm_client = cm_client
        self.client_id = cm_client.cm_client_id
        self.progress = progress
        self.now = now
        self.options = options or SyncOptions.for_connection(cm_client.connection)
        self.cutoff = self.options.retention_cutoff(now())
        # Which tracking history is kept; part of each campaign's marker, so a change of the
        # Storage settings makes the next run read that campaign's reports again.
        self.tracking_signature = self.options.tracking_signature()
        # Addresses seen unsubscribed or deleted this run, with when (for the opt-out rule).
        self.unsubscribed_emails: dict[str, dt.datetime | None] = {}
        # Campaigns whose reports were read this run (their member statistics may change).
        self.changed_campaigns: set[str] = set()
        # Campaigns written this run, for the feature apps' hooks (sync.engine.extensions).
        self.synced_campaigns: list[str] = []
        self.hooks = campaign_hooks()
        self.step = CampaignStep(cm, writer, cm_client)
        self.tz = records.zone_from_cm(cm_client.cm_time_zone)

    def run(self) -> None:
        self.progress("Reading client and lists", 2)
        if not self.cm_client.cm_time_zone:
            self._learn_time_zone()
        self.writer.retry_parked()
        self.writer.add(CLIENT_OBJECT, records.client_record(self.client_id, self.cm_client.name))
        lists = self.cm.get_lists(self.client_id)
        for cm_list in lists:
            self.writer.add(LIST_OBJECT, records.list_record(self.client_id, cm_list))
        for index, cm_list in enumerate(lists):
            self.progress(
                f"Subscribers of list {cm_list.get('Name', '')}",
                5 + 40 * index // max(len(lists), 1),
            )
            self._sync_memberships(cm_list["ListID"])
        self._sync_campaigns()
        self.writer.flush()
        self.progress("Salesforce Campaigns", 95)
        try:
            self.hooks.after_campaigns(self.step, self.synced_campaigns)
        except ApiError as exc:
            raise SalesforceFailure(exc) from exc
        self.writer.flush()
        if self.options.suppression_sync:
            self.progress("Suppression list", 96)
            mirror_suppression_list(self.cm, self.writer, self.cm_client, self.tz)
        if self.options.campaign_member_aggregates:
            self.progress("Campaign member statistics", 97)
            try:
                update_campaign_members(
                    self.writer, self.cm_client, self.changed_campaigns, step=self.step
                )
            except ApiError as exc:
                raise SalesforceFailure(exc) from exc
        try:
            self.hooks.after_campaign_members(self.step)
        except ApiError as exc:
            raise SalesforceFailure(exc) from exc
        self.writer.flush()
        if self.options.email_opt_sync and self.unsubscribed_emails:
            self.progress("Email opt-outs", 98)
            carry_cm_optouts(self.writer, self.cm_client, self.unsubscribed_emails)
        self.progress("Done", 100)

    def _learn_time_zone(self) -> None:
        """CM dates are the client's wall clock: read its zone once (reconnecting reads again)."""
        details = self.cm.get_client(self.client_id)
        label = (details.get("BasicDetails") or {}).get("TimeZone") or "(GMT)"
        self.cm_client.cm_time_zone = label[:100]
        self.cm_client.save(update_fields=["cm_time_zone"])
        self.tz = records.zone_from_cm(label)

    # Memberships -----------------------------------------------------------------------------
    def _sync_memberships(self, list_id: str) -> None:
        reread_active = self._reread_due(list_id)
        for state in records.SUBSCRIBER_STATE_REPORTS:
            stream = f"subscribers:{list_id}:{state}"
            since = None if state == "active" and reread_active else self._since(stream)
            rows = self.cm.iter_subscribers(
                list_id,
                state,
                date=since,
                include_tracking_preference=True,
                include_sms_preference=True,
                order_field="date",
                order_direction="asc",
            )
            if state in ("unsubscribed", "deleted"):
                rows = self._noting_unsubscribes(rows)
            self._consume(
                stream,
                SUBSCRIBER_OBJECT,
                rows,
                lambda item, lid=list_id: records.membership_record(
                    self.client_id, lid, item, self.tz
                ),
                lambda item: item.get("Date"),
            )
        if reread_active:
            stream, started = f"reread:{list_id}:active", self.now()
            self.writer.checkpoint(
                stream, lambda: self._save_cursor(stream, started), SUBSCRIBER_OBJECT
            )

    def _reread_due(self, list_id: str) -> bool:
        """Whether this run reads all active subscribers of the list, not only new ones.

        CM's date filter is the subscribe date, so an edited name or custom field of someone
        subscribed long ago never shows up in an incremental read. Every
        ``CMSYNC_RESYNC_ACTIVE_HOURS`` the active report is read from the start; the writer's
        fingerprints drop the unchanged rows, so only edits reach Salesforce. A list read for the
        first time is read whole anyway, and that counts as its re-read.
        """
        hours = settings.CMSYNC_RESYNC_ACTIVE_HOURS
        if not hours:
            return False
        last = self._cursor(f"reread:{list_id}:active")
        if last is None:
            if self._cursor(f"subscribers:{list_id}:active") is None:
                self._save_cursor(f"reread:{list_id}:active", self.now())
                return False
            return True
        return self.now() - last >= dt.timedelta(hours=hours)

    def _noting_unsubscribes(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in rows:
            email = records.normalise_email(item.get("EmailAddress", ""))
            self.unsubscribed_emails[email] = records.parse_cm_date(item.get("Date"), self.tz)
            yield item

    # Campaigns and tracking ------------------------------------------------------------------
    def _sync_campaigns(self) -> None:
        stream = "campaigns"
        cursor = self._cursor(stream)
        window_start = self.now() - STATS_WINDOW
        read_from = min(cursor, window_start) if cursor else None
        campaigns = list(
            self.cm.iter_sent_campaigns(
                self.client_id,
                sent_from=read_from.astimezone(self.tz) if read_from else None,
                order_direction="asc",
            )
        )
        newest = cursor
        # A campaign left out by a feature's filter still moves the cursor past it.
        kept = {c["CampaignID"] for c in campaigns if self.hooks.include_campaign(self.step, c)}
        try:
            self.hooks.before_campaigns(
                self.step, [c for c in campaigns if c["CampaignID"] in kept]
            )
        except ApiError as exc:
            raise SalesforceFailure(exc) from exc
        for index, campaign in enumerate(campaigns):
            self.progress(
                f"Campaign {campaign.get('Name', '')}", 45 + 50 * index // max(len(campaigns), 1)
            )
            if campaign["CampaignID"] in kept:
                self._sync_campaign(campaign)
            sent = records.parse_cm_date(campaign.get("SentDate"), self.tz)
            if sent and (newest is None or sent > newest):
                newest = sent
        if newest:
            self.writer.checkpoint(stream, lambda: self._save_cursor(stream, newest))

    def _sync_campaign(self, campaign: dict[str, Any]) -> None:
        campaign_id = campaign["CampaignID"]
        summary = self.cm.get_campaign_summary(campaign_id)
        record = records.campaign_record(self.client_id, campaign, summary, self.tz)
        # The marker covers CM's data only: a new link is written without re-reading reports.
        summary_stream = f"summary:{campaign_id}"
        marker = f"{records.fingerprint(record)}|{self.tracking_signature}"
        self.writer.add(CAMPAIGN_OBJECT, self.hooks.decorate_campaign_record(self.step, record))
        self.synced_campaigns.append(campaign_id)
        previous = self._marker(summary_stream)
        if previous == marker:
            return  # same counts and settings as last run: no new opens, clicks, bounces, ...
        self.changed_campaigns.add(campaign_id)
        # Storage settings changed since this campaign was read: read its reports from the start.
        from_start = bool(previous) and previous.partition("|")[2] != self.tracking_signature
        if self.options.keeps(EmailType.SENT):
            self._sync_recipients(campaign, from_start)
        for report, event_type in records.EVENT_REPORTS.items():
            if not self.options.keeps(event_type):
                continue
            stream = f"events:{campaign_id}:{report}"
            rows = self.cm.iter_campaign_events(
                campaign_id,
                report,
                date=None if from_start else self._since(stream),
                order_field="date",
                order_direction="asc",
            )
            self._consume(
                stream,
                TRACKING_OBJECT,
                rows,
                lambda item, et=event_type: records.tracking_record(
                    self.client_id, campaign_id, et, item, item.get("Date"), self.tz
                ),
                lambda item: item.get("Date"),
                keep=self._inside_window,
            )
        self.writer.checkpoint(
            summary_stream, lambda: self._save_marker(summary_stream, marker), TRACKING_OBJECT
        )

    def _inside_window(self, item: dict[str, Any]) -> bool:
        moment = records.parse_cm_date(item.get("Date"), self.tz)
        return moment is None or moment >= self.cutoff

    def _sync_recipients(self, campaign: dict[str, Any], from_start: bool = False) -> None:
        """'Sent' events: the recipients report, read once per campaign (it has no date filter)."""
        campaign_id = campaign["CampaignID"]
        stream = f"recipients:{campaign_id}"
        if self._cursor(stream) and not from_start:
            return
        sent_date = campaign.get("SentDate")
        sent_at = records.parse_cm_date(sent_date, self.tz)
        if sent_at and sent_at < self.cutoff:
            return  # sent before the window: no Sent records to keep
        for item in self.cm.iter_campaign_recipients(campaign_id):
            self.writer.add(
                TRACKING_OBJECT,
                records.tracking_record(
                    self.client_id, campaign_id, EmailType.SENT.value, item, sent_date, self.tz
                ),
            )
        position = records.parse_cm_date(sent_date, self.tz) or EPOCH
        self.writer.checkpoint(stream, lambda: self._save_cursor(stream, position), TRACKING_OBJECT)

    # Streams and cursors ---------------------------------------------------------------------
    def _consume(
        self,
        stream: str,
        sobject: str,
        rows: Iterable[dict[str, Any]],
        to_record: Callable[[dict[str, Any]], dict[str, Any]],
        date_of: Callable[[dict[str, Any]], str | None],
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Write a date-ordered stream; its cursor moves whenever the rows it covers are written
        (after each flushed batch, so a stopped run resumes at the last batch)."""
        newest: dt.datetime | None = None
        for item in rows:
            moment = records.parse_cm_date(date_of(item), self.tz)
            if moment and (newest is None or moment > newest):
                newest = moment
                self.writer.checkpoint(
                    stream, lambda at=newest: self._save_cursor(stream, at), sobject
                )
            if keep is None or keep(item):
                self.writer.add(sobject, to_record(item))

    def _since(self, stream: str) -> dt.datetime | None:
        """The date filter for a stream: its cursor less the overlap, as the client's wall clock."""
        cursor = self._cursor(stream)
        return (cursor - OVERLAP).astimezone(self.tz) if cursor else None

    def _cursor(self, stream: str) -> dt.datetime | None:
        row = SyncCursor.objects.filter(cm_client=self.cm_client, stream=stream).first()
        return row.position if row else None

    def _save_cursor(self, stream: str, position: dt.datetime) -> None:
        SyncCursor.objects.update_or_create(
            cm_client=self.cm_client, stream=stream, defaults={"position": position}
        )

    def _marker(self, stream: str) -> str:
        row = SyncCursor.objects.filter(cm_client=self.cm_client, stream=stream).first()
        return row.marker if row else ""

    def _save_marker(self, stream: str, value: str) -> None:
        SyncCursor.objects.update_or_create(
            cm_client=self.cm_client, stream=stream, defaults={"marker": value, "position": None}
        )
