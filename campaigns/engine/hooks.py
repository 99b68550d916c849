"""The Salesforce Campaigns feature inside the sync: cmsync's campaign hooks.

Registered by :class:`campaigns.apps.CampaignsConfig` (see :mod:`sync.engine.extensions` for when
the engine calls each hook). Per client job:

- ``include_campaign``: the campaign filter (:mod:`campaigns.engine.filters`) decides; campaigns
  already synced always stay;
- ``before_campaigns``: the links of the campaigns about to be written are checked against
  Salesforce (a deleted Campaign is reported once, CMS-500, and written as no link);
- ``decorate_campaign_record``: the local copy of the campaign is refreshed and its link goes into
  ``Campaign__c``, so every write of the record, a full sync's included, carries it; the
  industry benchmark fields (:mod:`campaigns.engine.benchmarks`) go with it;
- ``after_campaigns``: with auto-create on, campaigns without a link get a Campaign, linked at once
  (their records are written again with the link); with statistics on, the linked Campaigns get
  CM's figures;
- ``after_campaign_members`` (after campaign member aggregates, which create the members they
  track with their statistics and status): the other recipients who are Contacts or Leads become
  CampaignMembers. Problems become
  maintenance messages and the sync goes on; state moves only after what it covers is written,
  so the next run tries again;
- ``member_statuses`` / ``member_status_version``: campaign member aggregates take each member's
  Status from the status map (:mod:`campaigns.engine.statuses`); labels a Campaign lacks are
  created with auto-create on, else reported (CMS-520) and left unused.
"""

from __future__ import annotations

from typing import Any

from campaigns.engine import (
    autocreate,
    benchmarks,
    filters,
    links,
    members,
    statistics,
    statuses,
)
from campaigns.models import (
    RESPONDED_ACTIVITIES,
    CampaignLink,
    CampaignSettings,
    MemberStatusSettings,
    SyncedCampaign,
)
from maintenance.models import Level
from maintenance.services import record_message
from sync.clients.errors import ApiError, AuthError, RequestLimitExceeded, TransientError
from sync.clients.salesforce_schema import CAMPAIGN_OBJECT
from sync.engine.extensions import CampaignHooks, CampaignStep, MemberStatusPolicy
from sync.engine.records import fingerprint
from sync.models import CMClient

JOB = "primary sync"
REFUSED_CODE = "CMS-510"
MISSING_STATUS_CODE = "CMS-520"


def needs_members(link: CampaignLink) -> bool:
    """Whether the link is due its first pass over the recipients (a new or moved link)."""
    return link.members_for != link.sf_campaign_id


def refresh_members(cm, sf, matcher, link: CampaignLink, start, on_page=None):
    """A link's pass over its recipients; the link remembers a complete pass. ``start`` is the
    newest change of Contacts and Leads before the pass: later changes are looked up after."""
    result = members.add_recipients(cm, sf, matcher, link, on_page)
    link.members_created += result.created
    fields = ["members_created"]
    if result.complete:
        link.members_for = link.sf_campaign_id
        link.members_checked_to = start
        link.members_unmatched = result.unmatched
        fields += ["members_for", "members_checked_to", "members_unmatched"]
    link.save(update_fields=fields)
    return result


class CampaignsHooks(CampaignHooks):
    def include_campaign(self, step: CampaignStep, campaign: dict[str, Any]) -> bool:
        if "filter" not in step.state:
            options = CampaignSettings.for_connection(step.cm_client.connection)
            step.state["filter"] = filters.CampaignFilter.of(options)
            step.state["synced_ids"] = filters.synced_ids(step.cm_client.connection)
        rule: filters.CampaignFilter = step.state["filter"]
        return filters.include_campaign(step.cm_client, campaign, rule, step.state["synced_ids"])

    def before_campaigns(self, step: CampaignStep, campaigns: list[dict[str, Any]]) -> None:
        connection = step.cm_client.connection
        links.adopt_existing(step.sf, step.cm_client)
        ids = [c["CampaignID"] for c in campaigns]
        # The links this job uses: those of the campaigns it writes, and those due a member pass.
        due = [link for link in self._client_links(step) if needs_members(link)]
        used = {link.pk: link for link in [*links.linked(connection, ids), *due]}
        links.check_links(step.sf, list(used.values()), step.run)
        step.state["links"] = links.working_links(connection, step.cm_client)
        step.state["records"] = {}

    def decorate_campaign_record(self, step: CampaignStep, record: dict[str, Any]) -> dict:
        links.remember_campaign(step.cm_client, record)
        cm_campaign_id = record["CM_Key__c"]
        step.state.setdefault("records", {})[cm_campaign_id] = record
        linked_to = step.state.get("links", {}).get(cm_campaign_id)
        return {**record, **self._benchmark(step, record), links.LINK_FIELD: linked_to}

    def after_campaigns(self, step: CampaignStep, campaign_ids: list[str]) -> None:
        connection = step.cm_client.connection
        options = CampaignSettings.for_connection(connection)
        if options.auto_create:
            self._guarded(step, "create Salesforce Campaigns", self._auto_create, campaign_ids)
        if options.update_statistics:
            self._guarded(step, "write statistics", self._statistics, campaign_ids)

    def after_campaign_members(self, step: CampaignStep) -> None:
        self._guarded(step, "add CampaignMembers", self._members)

    def linked_campaigns(self, cm_client: CMClient) -> dict[str, str]:
        return links.working_links(cm_client.connection, cm_client)

    def member_status_version(self, cm_client: CMClient) -> str:
        options = _status_settings(cm_client)
        if not options.update_statuses:
            # Only new members get a status then, and they come with new activity anyway.
            return ""
        value = {
            "update": options.update_statuses,
            "auto": options.auto_create_statuses,
            "map": options.status_map,
        }
        return fingerprint(value)[:12]

    def member_statuses(self, step: CampaignStep, sf_campaign_id: str) -> MemberStatusPolicy:
        options = step.state.get("member_status_settings")
        if options is None:
            options = step.state["member_status_settings"] = _status_settings(step.cm_client)
        precedence = options.precedence()
        try:
            check = statuses.ensure_statuses(
                step.sf,
                sf_campaign_id,
                precedence,
                options.auto_create_statuses,
                RESPONDED_ACTIVITIES,
            )
        except (AuthError, RequestLimitExceeded):
            raise
        except ApiError as exc:
            code = "CMS-230" if isinstance(exc, TransientError) else REFUSED_CODE
            record_message(
                job=JOB,
                message="cmsync could not read or create the member statuses of a Salesforce "
                "Campaign; its members' statuses were left as they are.",
                details=str(exc),
                level=Level.WARNING,
                support_code=code,
                client_name=step.cm_client.name,
                run=step.run,
            )
            return MemberStatusPolicy()
        _count(step, statuses.STATUS_OBJECT, len(check.created))
        name = _campaign_name(step, sf_campaign_id)
        if check.missing:
            labels = ", ".join(f'"{label}"' for label in check.missing)
            record_message(
                job=JOB,
                message=f"The Salesforce Campaign {name} has no member status {labels} that the "
                "status map uses, so members were not given it. Add the status to the Campaign "
                "or turn on Auto-create member statuses.",
                details=f"Campaign {sf_campaign_id}; missing: {labels}",
                level=Level.WARNING,
                support_code=MISSING_STATUS_CODE,
                client_name=step.cm_client.name,
                run=step.run,
            )
        if check.refused:
            record_message(
                job=JOB,
                message=f"Salesforce refused to create member statuses on the Campaign {name}; "
                "the next run tries again.",
                details="\n".join(check.refused[:20]),
                level=Level.WARNING,
                support_code=REFUSED_CODE,
                client_name=step.cm_client.name,
                run=step.run,
            )
        return statuses.MappedStatuses(precedence, check.available, options.update_statuses)

    # ------------------------------------------------------------------------------------------
    def _guarded(self, step: CampaignStep, what: str, work, *args) -> None:
        try:
            work(step, *args)
        except (AuthError, RequestLimitExceeded):
            raise  # the whole job stops on these, as for the engine's own writes
        except ApiError as exc:
            code = "CMS-230" if isinstance(exc, TransientError) else REFUSED_CODE
            record_message(
                job=JOB,
                message=f"cmsync could not {what}; the next run tries again.",
                details=str(exc),
                level=Level.WARNING,
                support_code=code,
                client_name=step.cm_client.name,
                run=step.run,
            )

    def _client_links(self, step: CampaignStep) -> list[CampaignLink]:
        """The client's links to a Campaign Salesforce still resolves."""
        return list(
            CampaignLink.objects.filter(
                campaign__connection=step.cm_client.connection,
                campaign__cm_client=step.cm_client,
                broken_at=None,
            )
            .exclude(sf_campaign_id="")
            .select_related("campaign")
        )

    def _benchmark(self, step: CampaignStep, record: dict[str, Any]) -> dict[str, Any]:
        """The benchmark fields of the record, those Salesforce has (``ensure_schema`` adds
        them when Salesforce is connected; an org connected before gets them on reconnect)."""
        if "benchmark" not in step.state:
            options = CampaignSettings.for_connection(step.cm_client.connection)
            try:
                described = step.sf.describe(CAMPAIGN_OBJECT)
            except (AuthError, RequestLimitExceeded):
                raise
            except ApiError:
                described = {}  # written without benchmarks this run; the next run tries again
            names = {str(f["name"]) for f in described.get("fields") or []}
            step.state["benchmark"] = (benchmarks.industry_for(step.cm_client, options), names)
        industry, names = step.state["benchmark"]
        fields = benchmarks.record_fields(record, industry)
        return {name: value for name, value in fields.items() if name in names}

    def _writable(self, step: CampaignStep) -> set[str]:
        if "writable" not in step.state:
            step.state["writable"] = statistics.updateable_fields(step.sf)
        return step.state["writable"]

    def _auto_create(self, step: CampaignStep, campaign_ids: list[str]) -> None:
        candidates = list(
            SyncedCampaign.objects.filter(
                connection=step.cm_client.connection,
                cm_campaign_id__in=campaign_ids,
                link__isnull=True,
                sent_at__isnull=False,
            )
        )
        if not candidates:
            return
        created = autocreate.create_and_link(step.sf, candidates, self._writable(step))
        _count(step, "Campaign", len(created.links))
        records = step.state.get("records", {})
        for link in created.links:
            record = records.get(link.campaign.cm_campaign_id)
            if record is not None:  # written again, now with its link: the same record as
                # decorate_campaign_record gives, or the next run would see a change and rewrite it
                decorated = {**record, **self._benchmark(step, record)}
                step.writer.add(
                    CAMPAIGN_OBJECT, {**decorated, links.LINK_FIELD: link.sf_campaign_id}
                )
        step.writer.flush(CAMPAIGN_OBJECT)
        report_refused(step.cm_client, step.run, "create Salesforce Campaigns", created.refused)

    def _members(self, step: CampaignStep) -> None:
        client_links = self._client_links(step)
        work = [link for link in client_links if needs_members(link)]
        failed: list[str] = []
        if work:
            start = members.newest_change(step.sf)
            for link in work:
                result = refresh_members(step.cm, step.sf, step.writer.matcher, link, start)
                _count(step, members.MEMBER, result.created)
                if result.failed:
                    failed.append(f"{link.campaign.name}: {result.failed} refused")
                    failed += result.reasons
        # People who became Contacts or Leads since the links' last look.
        waiting = [
            link
            for link in client_links
            if not needs_members(link) and link.members_unmatched and link.members_checked_to
        ]
        if waiting:
            since = min(link.members_checked_to for link in waiting)
            result, newest = members.add_changed_people(step.sf, waiting, since)
            _count(step, members.MEMBER, result.created)
            if result.failed:
                failed += result.reasons
            elif newest is not None:
                CampaignLink.objects.filter(
                    pk__in=[link.pk for link in waiting], members_checked_to__lt=newest
                ).update(members_checked_to=newest)
        if failed:
            record_message(
                job=JOB,
                message="Salesforce refused some CampaignMembers; the next run tries again.",
                details="\n".join(failed[:20]),
                level=Level.WARNING,
                support_code=REFUSED_CODE,
                client_name=step.cm_client.name,
                run=step.run,
            )

    def _statistics(self, step: CampaignStep, campaign_ids: list[str]) -> None:
        candidates = [
            link
            for link in self._client_links(step)
            if link.campaign.cm_campaign_id in campaign_ids or not link.statistics_fingerprint
        ]
        if not candidates:
            return
        written, refused = statistics.write_statistics(step.sf, candidates, self._writable(step))
        _count(step, "Campaign", written)
        report_refused(
            step.cm_client,
            step.run,
            "write statistics onto Campaigns",
            [(link.campaign, result) for link, result in refused],
        )


def _count(step: CampaignStep, sobject: str, written: int) -> None:
    """Add to the run's records written per object (shown in the run history)."""
    if written:
        step.writer.written[sobject] += written


def _status_settings(cm_client: CMClient) -> MemberStatusSettings:
    """The connection's status settings; the defaults (unsaved) when nobody set them."""
    connection = cm_client.connection
    found = MemberStatusSettings.objects.filter(connection=connection).first()
    return found or MemberStatusSettings(connection=connection)


def _campaign_name(step: CampaignStep, sf_campaign_id: str) -> str:
    link = (
        CampaignLink.objects.filter(
            campaign__connection=step.cm_client.connection, sf_campaign_id=sf_campaign_id
        )
        .select_related("campaign")
        .first()
    )
    if link is None:
        return sf_campaign_id
    return f"{link.sf_campaign_name or link.campaign.name} ({sf_campaign_id})"


def report_refused(cm_client: CMClient | None, run, what: str, refused: list) -> None:
    if not refused:
        return
    lines = [f"{campaign.name}: {result.error_text}" for campaign, result in refused[:20]]
    record_message(
        job=JOB,
        message=f"Salesforce refused to {what} for {len(refused)} campaign(s); the next run "
        "tries again.",
        details="\n".join(lines),
        level=Level.WARNING,
        support_code=REFUSED_CODE,
        client_name=cm_client.name if cm_client else "",
        run=run,
    )
