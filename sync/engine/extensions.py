"""Extension points of the sync engine for feature apps (Salesforce Campaigns today).

``sync`` never imports a feature app: an app that adds to the campaigns stream subclasses
:class:`CampaignHooks` and registers it from its ``AppConfig.ready()``. Without a registration the
engine runs the no-op defaults below, so the sync works on its own.

The engine calls the hooks of one client job in this order:

1. ``include_campaign`` for every sent campaign read (a filter: False leaves it out of this run);
2. ``before_campaigns`` once with the campaigns kept (e.g. check links still resolve);
3. ``decorate_campaign_record`` for each ``CMS_Campaign__c`` record before it is buffered: what it
   adds (``Campaign__c``, later benchmark fields) is written with every write of that record;
4. ``after_campaigns`` once, after the writer flushed the campaigns stream (create Campaigns,
   statistics), before campaign member aggregates, so a Campaign made here is aggregated at once;
5. ``after_campaign_members`` once, after the aggregates (which create the members they track
   with their statistics): the rest of the recipients become CampaignMembers.

What the hooks write counts in ``writer.written`` like the engine's own (the run history).

``linked_campaigns`` tells campaign member aggregates which Salesforce Campaign each CM campaign is
linked to; None means "read ``CMS_Campaign__c.Campaign__c`` from Salesforce".

``member_statuses`` tells campaign member aggregates which ``Status`` to give the members of one
Campaign (a :class:`MemberStatusPolicy`, asked once per Campaign aggregated);
``member_status_version`` names the status settings, so a change of them aggregates the linked
campaigns again. The default policy writes no Status: a new member gets its Campaign's default
status, an existing member keeps its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.clients.campaign_monitor import CampaignMonitorClient
    from sync.clients.salesforce import SalesforceClient
    from sync.engine.writer import SalesforceWriter
    from sync.models import CMClient, SyncRun


@dataclass
class CampaignStep:
    """What a hook may use during one client job: the API clients, the writer, the client."""

    cm: CampaignMonitorClient
    writer: SalesforceWriter
    cm_client: CMClient
    # Scratch space for the hooks during this job (what before_campaigns learnt, ...).
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def sf(self) -> SalesforceClient:
        return self.writer.sf

    @property
    def run(self) -> SyncRun:
        return self.writer.run


class MemberStatusPolicy:
    """Which ``Status`` campaign member aggregates write on the members of one Campaign.

    ``activities`` are the email types (``EmailType`` values) a member's stored tracking records
    show. The default writes none.
    """

    def target(self, activities: frozenset[str]) -> str | None:
        """The status the activities call for (part of the member's fingerprint)."""
        return None

    def status(self, activities: frozenset[str], current: str | None) -> str | None:
        """The Status to write; ``current`` is None for a new member. None writes no Status."""
        return None


class CampaignHooks:
    """The no-op defaults; a feature app overrides what it needs."""

    def include_campaign(self, step: CampaignStep, campaign: dict[str, Any]) -> bool:
        return True

    def before_campaigns(self, step: CampaignStep, campaigns: list[dict[str, Any]]) -> None:
        return None

    def decorate_campaign_record(self, step: CampaignStep, record: dict[str, Any]) -> dict:
        return record

    def after_campaigns(self, step: CampaignStep, campaign_ids: list[str]) -> None:
        return None

    def after_campaign_members(self, step: CampaignStep) -> None:
        return None

    def linked_campaigns(self, cm_client: CMClient) -> dict[str, str] | None:
        return None

    def member_statuses(self, step: CampaignStep, sf_campaign_id: str) -> MemberStatusPolicy:
        return MemberStatusPolicy()

    def member_status_version(self, cm_client: CMClient) -> str:
        return ""


_registered: CampaignHooks = CampaignHooks()


def register_campaign_hooks(hooks: CampaignHooks) -> None:
    """Install the campaign hooks (one set: the last registration wins)."""
    global _registered  # noqa: PLW0603 - a registry of one, set once at app start
    _registered = hooks


def campaign_hooks() -> CampaignHooks:
    return _registered
