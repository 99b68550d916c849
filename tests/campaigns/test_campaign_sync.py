"""Salesforce Campaigns in the sync, over both sandboxes: links by hand and automatic, members
without duplicates, statistics, the backfill, a full sync, and a deleted Campaign."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from campaigns.models import (
    BackfillJob,
    CampaignLink,
    LinkSource,
    SyncedCampaign,
    UnmatchedRecipient,
)
from campaigns.services.backfill import backfill_count, execute_backfill, request_backfill
from campaigns.services.links import LinkError, link_campaign, unlink_campaign
from campaigns.services.settings import update_settings
from maintenance.models import AuditEntry, MaintenanceMessage
from sync.models import RunKind, RunStatus, SyncCursor
from sync.services.runs import run_inline
from tests.campaigns.helpers import (
    cm_client,
    cms_campaign,
    matched_recipients,
    member_people,
    members,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def synced(connection):
    """The connection after a first sync: its campaigns are known to cmsync."""
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    assert SyncedCampaign.objects.filter(connection=connection).exists()
    return connection


def _first_campaign(connection) -> SyncedCampaign:
    return SyncedCampaign.objects.filter(connection=connection, recipients__gt=0).first()


def _new_sf_campaign(sf_sandbox, name="Spring newsletter") -> str:
    return sf_sandbox.salesforce().Campaign.create({"Name": name})["id"]


def test_link_by_hand_writes_the_link_and_adds_members_once(
    synced, cm_sandbox, sf_sandbox, admin_user
):
    campaign = _first_campaign(synced)
    sf_campaign = _new_sf_campaign(sf_sandbox)
    link = link_campaign(synced, campaign.cm_campaign_id, sf_campaign, admin_user)
    assert link.source == LinkSource.HAND and link.linked_by == admin_user
    # Written to cmsync's record in Salesforce at once, not only at the next sync.
    assert cms_campaign(sf_sandbox, campaign.cm_campaign_id)["Campaign__c"] == sf_campaign
    assert AuditEntry.objects.filter(area="Salesforce Campaigns").count() == 1

    run = run_inline(synced)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    expected = matched_recipients(cm_sandbox, sf_sandbox, campaign.cm_campaign_id)
    people = member_people(sf_sandbox, sf_campaign)
    assert expected and len(people) == len(expected)
    assert set(people.values()) == {1}
    assert run.records_written["CampaignMember"] == len(expected)

    again = run_inline(synced)
    assert "CampaignMember" not in again.records_written
    assert member_people(sf_sandbox, sf_campaign) == people


def test_unlink_keeps_members_and_clears_the_link(synced, sf_sandbox, admin_user):
    campaign = _first_campaign(synced)
    sf_campaign = _new_sf_campaign(sf_sandbox)
    link_campaign(synced, campaign.cm_campaign_id, sf_campaign, admin_user)
    run_inline(synced)
    created = len(members(sf_sandbox, sf_campaign))
    assert created

    kept = unlink_campaign(synced, campaign.cm_campaign_id, admin_user)
    assert kept == created
    assert len(members(sf_sandbox, sf_campaign)) == created
    assert cms_campaign(sf_sandbox, campaign.cm_campaign_id)["Campaign__c"] is None
    link = CampaignLink.objects.get(campaign=campaign)
    assert link.sf_campaign_id == "" and link.unlinked_at is not None
    assert AuditEntry.objects.filter(area="Salesforce Campaigns").count() == 2
    # Auto-create leaves a campaign unlinked by hand alone.
    update_settings(synced, admin_user, auto_create=True)
    run_inline(synced)
    assert CampaignLink.objects.get(campaign=campaign).sf_campaign_id == ""


def test_a_campaign_id_that_does_not_exist_is_refused(synced, admin_user):
    campaign = _first_campaign(synced)
    with pytest.raises(LinkError, match="No Salesforce Campaign has the Id"):
        link_campaign(synced, campaign.cm_campaign_id, "701000000000000AAA", admin_user)
    with pytest.raises(LinkError, match="not a Salesforce Id"):
        link_campaign(synced, campaign.cm_campaign_id, "nope", admin_user)
    assert not CampaignLink.objects.exists()
    assert not AuditEntry.objects.filter(area="Salesforce Campaigns").exists()


def _auto_campaigns(sf_sandbox) -> list[dict]:
    return [c for c in sf_sandbox.app.records("Campaign") if c.get("CMS_CM_Campaign_ID__c")]


def test_auto_create_links_members_and_survives_runs_and_a_full_sync(
    connection, cm_sandbox, sf_sandbox, admin_user
):
    update_settings(connection, admin_user, auto_create=True)
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    links = list(CampaignLink.objects.select_related("campaign"))
    sent = SyncedCampaign.objects.filter(connection=connection, sent_at__isnull=False)
    assert links and len(links) == sent.count()
    created = {c["CMS_CM_Campaign_ID__c"]: c for c in _auto_campaigns(sf_sandbox)}
    assert len(created) == len(links)
    assert run.records_written["Campaign"] == len(links)
    for link in links:
        assert link.source == LinkSource.AUTO
        sf_campaign = created[link.campaign.cm_campaign_id]
        assert sf_campaign["Id"] == link.sf_campaign_id
        assert sf_campaign["Type"] == "Email" and sf_campaign["IsActive"] is True
        assert sf_campaign["StartDate"] == link.campaign.sent_at.date().isoformat()
        assert sf_campaign["Name"] == link.campaign.name[:80]
        assert cms_campaign(sf_sandbox, link.campaign.cm_campaign_id)["Campaign__c"] == (
            link.sf_campaign_id
        )
    before = {link.sf_campaign_id: member_people(sf_sandbox, link.sf_campaign_id) for link in links}
    assert sum(len(p) for p in before.values()) == run.records_written["CampaignMember"]
    assert all(set(p.values()) <= {1} for p in before.values())

    quiet = run_inline(connection)
    assert "Campaign" not in quiet.records_written
    assert "CampaignMember" not in quiet.records_written
    # The record written again with its new link is the one the next run computes (benchmark
    # fields included), so a quiet run rewrites no campaign record either.
    assert "CMS_Campaign__c" not in quiet.records_written

    full = run_inline(connection, kind=RunKind.FULL)
    assert full.status == RunStatus.SUCCEEDED, full.error_summary
    assert len(_auto_campaigns(sf_sandbox)) == len(links)  # no second Campaign
    for link in links:
        # The full sync deleted and rewrote cmsync's campaign records: the links came back.
        assert cms_campaign(sf_sandbox, link.campaign.cm_campaign_id)["Campaign__c"] == (
            link.sf_campaign_id
        )
        assert member_people(sf_sandbox, link.sf_campaign_id) == before[link.sf_campaign_id]


def test_a_person_who_becomes_a_contact_later_is_added(connection, cm_sandbox, sf_sandbox):
    update_settings(connection, None, auto_create=True)
    run_inline(connection)
    link = CampaignLink.objects.select_related("campaign").filter(members_unmatched__gt=0).first()
    assert link is not None, "every recipient already matched someone"
    known = {(m.get("Email") or "").lower() for m in sf_sandbox.app.records("Contact")} | {
        (m.get("Email") or "").lower() for m in sf_sandbox.app.records("Lead")
    }
    stranger = next(
        r["EmailAddress"].lower()
        for r in cm_client(cm_sandbox).iter_campaign_recipients(link.campaign.cm_campaign_id)
        if r["EmailAddress"].lower() not in known
    )
    waiting = UnmatchedRecipient.objects.filter(email=stranger).count()  # one per campaign
    assert waiting >= 1
    contact = sf_sandbox.salesforce().Contact.create({"LastName": "Later", "Email": stranger})
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    people = member_people(sf_sandbox, link.sf_campaign_id)
    assert people[contact["id"]] == 1
    assert set(people.values()) == {1}
    # Found through the changed people, not by reading the recipients again.
    assert not UnmatchedRecipient.objects.filter(email=stranger).exists()
    assert run.records_written["CampaignMember"] == waiting


def test_backfill_creates_and_links_campaigns_synced_before(
    synced, sf_sandbox, admin_user, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "campaigns.services.backfill.enqueue_on_commit", lambda name, *args: queued.append(args)
    )
    count = backfill_count(synced)
    assert count == SyncedCampaign.objects.filter(connection=synced, sent_at__isnull=False).count()
    job = request_backfill(synced, admin_user)
    assert queued == [(job.pk,)] and job.total == count
    job = execute_backfill(job.pk)
    assert job.status == RunStatus.SUCCEEDED, job.error
    assert job.done == count and job.members_created > 0
    assert CampaignLink.objects.filter(source=LinkSource.AUTO).count() == count
    assert backfill_count(synced) == 0
    for link in CampaignLink.objects.select_related("campaign"):
        assert cms_campaign(sf_sandbox, link.campaign.cm_campaign_id)["Campaign__c"] == (
            link.sf_campaign_id
        )
    # The next sync finds every member there already: no duplicates.
    run = run_inline(synced)
    assert "CampaignMember" not in run.records_written
    assert BackfillJob.objects.count() == 1


def test_statistics_are_written_to_the_linked_campaign(synced, cm_sandbox, sf_sandbox, admin_user):
    campaign = _first_campaign(synced)
    sf_campaign = _new_sf_campaign(sf_sandbox)
    link_campaign(synced, campaign.cm_campaign_id, sf_campaign, admin_user)
    update_settings(synced, admin_user, update_statistics=True)
    run = run_inline(synced)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    campaign.refresh_from_db()
    [written] = [c for c in sf_sandbox.app.records("Campaign") if c["Id"] == sf_campaign]
    assert written["CMS_Unique_Opens__c"] == campaign.unique_opens
    assert written["CMS_Clicks__c"] == campaign.clicks
    assert written["CMS_Bounces__c"] == campaign.bounces
    assert written["CMS_Unsubscribes__c"] == campaign.unsubscribes
    assert written["CMS_Spam_Complaints__c"] == campaign.spam_complaints
    assert float(written["CMS_Open_Rate__c"]) == pytest.approx(campaign.open_rate)
    if "NumberSent" in written:  # the standard field, where the org has it
        assert written["NumberSent"] == campaign.recipients
    assert run.records_written["Campaign"] == 1

    quiet = run_inline(synced)
    assert "Campaign" not in quiet.records_written

    before = campaign.statistics()
    cm_sandbox.add_events(campaign.cm_campaign_id, "opens", [_a_recipient(cm_sandbox, campaign)])
    changed = run_inline(synced)
    campaign.refresh_from_db()
    [written] = [c for c in sf_sandbox.app.records("Campaign") if c["Id"] == sf_campaign]
    assert written["CMS_Unique_Opens__c"] == campaign.unique_opens
    assert changed.records_written.get("Campaign") == (
        1 if campaign.statistics() != before else None
    )


def _a_recipient(cm_sandbox, campaign) -> str:
    recipients = cm_client(cm_sandbox).iter_campaign_recipients(campaign.cm_campaign_id)
    return next(iter(recipients))["EmailAddress"]


def _delete_campaign(sf_sandbox, sf_campaign_id: str) -> None:
    """Delete a Campaign as someone in Salesforce would (to the recycle bin)."""
    try:
        sf_sandbox.salesforce().Campaign.delete(sf_campaign_id)
    except SalesforceMalformedRequest:
        # The sandbox's cascade to the default CampaignMemberStatus may refuse the delete while
        # its Campaign rules are being finished; mark the Campaign deleted in its store instead.
        store = sf_sandbox.app.store
        with store.lock:
            record = store.get("Campaign", sf_campaign_id, include_deleted=True)
            store._put("Campaign", {**record, "IsDeleted": True})
    assert not [c for c in sf_sandbox.app.records("Campaign") if c["Id"] == sf_campaign_id]


def test_a_deleted_campaign_is_reported_once_and_the_sync_goes_on(
    synced, sf_sandbox, admin_user, admin_client
):
    campaign = _first_campaign(synced)
    sf_campaign = _new_sf_campaign(sf_sandbox, "Doomed")
    link_campaign(synced, campaign.cm_campaign_id, sf_campaign, admin_user)
    run_inline(synced)
    _delete_campaign(sf_sandbox, sf_campaign)

    first = run_inline(synced)
    second = run_inline(synced)
    assert first.status == RunStatus.SUCCEEDED, first.error_summary
    assert second.status == RunStatus.SUCCEEDED, second.error_summary
    messages = MaintenanceMessage.objects.filter(support_code="CMS-500")
    assert messages.count() == 1
    assert campaign.name in messages.get().message
    assert CampaignLink.objects.get(campaign=campaign).broken_at is not None
    assert cms_campaign(sf_sandbox, campaign.cm_campaign_id)["Campaign__c"] is None
    page = admin_client.get(f"/campaigns/c/{campaign.cm_campaign_id}/")
    assert b"no longer exists in Salesforce" in page.content


def test_links_made_in_salesforce_before_the_feature_are_adopted_once(synced, sf_sandbox):
    """An org upgraded from a version without Salesforce Campaigns keeps its hand-made links."""
    campaign = _first_campaign(synced)
    sf_campaign = _new_sf_campaign(sf_sandbox, "Made in Salesforce")
    record = cms_campaign(sf_sandbox, campaign.cm_campaign_id)
    sf_sandbox.salesforce().__getattr__("CMS_Campaign__c").update(
        record["Id"], {"Campaign__c": sf_campaign}
    )
    # As before the upgrade: cmsync knows none of the campaigns yet.
    SyncedCampaign.objects.all().delete()
    SyncCursor.objects.filter(stream="campaigns:adopted").delete()

    run = run_inline(synced)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    link = CampaignLink.objects.get(campaign__cm_campaign_id=campaign.cm_campaign_id)
    assert link.sf_campaign_id == sf_campaign and link.source == LinkSource.HAND
    assert CampaignLink.objects.count() == 1
    assert SyncedCampaign.objects.filter(connection=synced).count() >= 1
    assert cms_campaign(sf_sandbox, campaign.cm_campaign_id)["Campaign__c"] == sf_campaign
    assert member_people(sf_sandbox, sf_campaign)  # its recipients became members

    # From now on the link is cmsync's: an edit in Salesforce is not adopted again.
    other = _new_sf_campaign(sf_sandbox, "Edited later")
    sf_sandbox.salesforce().__getattr__("CMS_Campaign__c").update(
        record["Id"], {"Campaign__c": other}
    )
    run_inline(synced)
    assert CampaignLink.objects.get().sf_campaign_id == sf_campaign
