"""Salesforce Campaigns: the campaigns cmsync synced, their links to Salesforce Campaigns, the
settings of the feature, and the backfill job.

The link is cmsync's: it lives here (who made it, when, by hand or automatically) and is written
to ``CMS_Campaign__c.Campaign__c`` with every write of that record, so a Full Campaign Monitor Sync,
which deletes and rewrites ``CMS_Campaign__c``, restores it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from sync.models import BatchJobProgress, CMClient, Connection, EmailType, RunStatus


class CampaignSettings(models.Model):
    """The options of the Salesforce Campaigns screen, one row per connection."""

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="campaign_settings"
    )
    auto_create = models.BooleanField(default=False)
    # When auto-create was last turned on: campaigns synced from then on get a Campaign.
    auto_create_since = models.DateTimeField(null=True, blank=True)
    update_statistics = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Campaign filter (campaigns.engine.filters): sync only campaigns sent on or after the start
    # date and/or carrying any of the tags. Campaigns already synced stay in the sync.
    filter_active = models.BooleanField(default=False)
    filter_start_date = models.DateField(null=True, blank=True)
    filter_tags = models.JSONField(default=list, blank=True)
    # Industry benchmarks (campaigns.engine.benchmarks): the account's industry; a client may
    # have its own (ClientIndustry).
    benchmark_industry = models.CharField(max_length=100, default="All industries")

    def __str__(self) -> str:
        return f"campaign settings of {self.connection_id}"

    @classmethod
    def for_connection(cls, connection: Connection) -> CampaignSettings:
        return cls.objects.get_or_create(connection=connection)[0]


def _rate(part: int | None, whole: int | None) -> float | None:
    if not whole or part is None:
        return None
    return round(part * 100 / whole, 2)


class SyncedCampaign(models.Model):
    """A sent Campaign Monitor campaign as the sync last wrote it (for the list and the page)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    cm_client = models.ForeignKey(
        CMClient, null=True, on_delete=models.SET_NULL, related_name="synced_campaigns"
    )
    cm_campaign_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    subject = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    tags = models.CharField(max_length=255, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    unique_opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    bounces = models.PositiveIntegerField(default=0)
    unsubscribes = models.PositiveIntegerField(default=0)
    spam_complaints = models.PositiveIntegerField(default=0)
    web_version_url = models.URLField(max_length=500, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "cm_campaign_id"], name="synced_campaign_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def open_rate(self) -> float | None:
        return _rate(self.unique_opens, self.recipients)

    @property
    def click_rate(self) -> float | None:
        return _rate(self.clicks, self.recipients)

    @property
    def bounce_rate(self) -> float | None:
        return _rate(self.bounces, self.recipients)

    @property
    def unsubscribe_rate(self) -> float | None:
        return _rate(self.unsubscribes, self.recipients)

    @property
    def spam_rate(self) -> float | None:
        return _rate(self.spam_complaints, self.recipients)

    def statistics(self) -> dict[str, float | int | None]:
        """The figures written to a linked Campaign, by statistic name."""
        return {
            "recipients": self.recipients,
            "unique_opens": self.unique_opens,
            "clicks": self.clicks,
            "bounces": self.bounces,
            "unsubscribes": self.unsubscribes,
            "spam_complaints": self.spam_complaints,
            "open_rate": self.open_rate,
            "click_rate": self.click_rate,
            "bounce_rate": self.bounce_rate,
            "unsubscribe_rate": self.unsubscribe_rate,
            "spam_rate": self.spam_rate,
        }


class LinkSource(models.TextChoices):
    HAND = "hand", "By hand"
    AUTO = "auto", "Created by cmsync"


class CampaignLink(models.Model):
    """A CM campaign ↔ Salesforce Campaign link. An unlinked campaign keeps its row (with an
    empty ``sf_campaign_id``) so that auto-create and the backfill leave it alone."""

    campaign = models.OneToOneField(SyncedCampaign, on_delete=models.CASCADE, related_name="link")
    sf_campaign_id = models.CharField(max_length=18, blank=True)
    sf_campaign_name = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=10, choices=LinkSource.choices)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)
    unlinked_at = models.DateTimeField(null=True, blank=True)
    # Salesforce no longer resolves the Campaign (deleted): since when, and whether the
    # maintenance message about it was recorded (once per broken link).
    broken_at = models.DateTimeField(null=True, blank=True)
    broken_reported = models.BooleanField(default=False)
    # CampaignMembers: the Campaign the last complete pass over the recipients was for, how many
    # recipients matched nobody (kept as UnmatchedRecipient), up to which Salesforce stamp the
    # Contacts and Leads changed since were looked up among them, and how many members cmsync
    # created in all.
    members_for = models.CharField(max_length=18, blank=True)
    members_unmatched = models.PositiveIntegerField(default=0)
    members_checked_to = models.DateTimeField(null=True, blank=True)
    members_created = models.PositiveIntegerField(default=0)
    # What the statistics last written to the Campaign were (only a change is written).
    statistics_fingerprint = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"{self.campaign.cm_campaign_id} → {self.sf_campaign_id or '(unlinked)'}"

    @property
    def is_linked(self) -> bool:
        return bool(self.sf_campaign_id)

    @property
    def is_working(self) -> bool:
        """Linked to a Campaign Salesforce still resolves."""
        return self.is_linked and self.broken_at is None


class UnmatchedRecipient(models.Model):
    """A recipient of a linked campaign who matched no Contact or Lead at the last look: when a
    Contact or Lead with the address appears, they become a member."""

    link = models.ForeignKey(CampaignLink, on_delete=models.CASCADE, related_name="unmatched")
    email = models.CharField(max_length=254)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "email"], name="unmatched_recipient_unique")
        ]
        indexes = [models.Index(fields=["email"], name="unmatched_recipient_email")]

    def __str__(self) -> str:
        return self.email


class BackfillJob(BatchJobProgress, models.Model):
    """Auto-create and link Salesforce Campaigns for the campaigns synced before the option was
    on. ``done`` / ``failed`` of ``total`` are saved after every campaign; running it again only
    touches campaigns still without a link."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    total = models.PositiveIntegerField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    members_created = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    support_code = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"campaign backfill {self.pk}"


# Campaign member statuses ---------------------------------------------------------------------
# The CM activities a member status can follow, in EmailType order: (activity, shown as).
MEMBER_ACTIVITIES: tuple[tuple[str, str], ...] = (
    (EmailType.SENT.value, "Sent"),
    (EmailType.OPENED.value, "Opened"),
    (EmailType.CLICKED.value, "Clicked"),
    (EmailType.BOUNCED.value, "Bounced"),
    (EmailType.UNSUBSCRIBED.value, "Unsubscribed"),
    (EmailType.SPAM_COMPLAINT.value, "Marked as spam"),
)
# Activities whose status counts as a response (HasResponded on an auto-created status).
RESPONDED_ACTIVITIES = frozenset({EmailType.OPENED.value, EmailType.CLICKED.value})


def default_status_map() -> list[dict[str, str]]:
    """Most advanced first: clicked > opened > sent, on the labels every new Salesforce Campaign
    has ("Sent", "Responded"), so the default needs no status created."""
    return [
        {"activity": EmailType.CLICKED.value, "label": "Responded"},
        {"activity": EmailType.OPENED.value, "label": "Responded"},
        {"activity": EmailType.SENT.value, "label": "Sent"},
    ]


class MemberStatusSettings(models.Model):
    """How CampaignMember ``Status`` follows the CM activities, one row per connection.

    ``status_map`` lists the mapped activities most advanced first (the precedence), each with
    its status label; an activity left out sets no status.
    """

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="member_status_settings"
    )
    update_statuses = models.BooleanField(default=False)
    auto_create_statuses = models.BooleanField(default=False)
    status_map = models.JSONField(default=default_status_map)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"member status settings of {self.connection_id}"

    @classmethod
    def for_connection(cls, connection: Connection) -> MemberStatusSettings:
        return cls.objects.get_or_create(connection=connection)[0]

    def precedence(self) -> list[tuple[str, str]]:
        """(activity, label) pairs, most advanced first."""
        return [(str(row["activity"]), str(row["label"])) for row in self.status_map]


class FilteredCampaign(models.Model):
    """A sent CM campaign the campaign filter kept out of the sync (never written to
    Salesforce), as the last run saw it: the screen counts those the filter still keeps out."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    cm_client = models.ForeignKey(CMClient, on_delete=models.CASCADE, related_name="+")
    cm_campaign_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    sent_on = models.DateField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "cm_campaign_id"], name="filtered_campaign_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.cm_campaign_id


class ClientIndustry(models.Model):
    """The industry a CM client's campaigns are compared with (else the account's)."""

    cm_client = models.OneToOneField(CMClient, on_delete=models.CASCADE, related_name="+")
    industry = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.cm_client_id}: {self.industry}"
