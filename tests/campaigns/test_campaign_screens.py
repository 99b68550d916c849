"""The Salesforce Campaigns screens: Support reads, Admin changes, forms say what went wrong."""

from __future__ import annotations

import pytest

from campaigns.models import BackfillJob, CampaignLink, CampaignSettings, SyncedCampaign
from maintenance.models import AuditEntry
from sync.models import RunStatus
from sync.services.runs import run_inline
from tests.campaigns.helpers import cms_campaign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def campaign(connection) -> SyncedCampaign:
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    return SyncedCampaign.objects.filter(connection=connection, recipients__gt=0).first()


def _pages(campaign):
    base = f"/campaigns/c/{campaign.cm_campaign_id}/"
    return ["/campaigns/", "/campaigns/list/", base, base + "unlink/"]


@pytest.mark.parametrize("persona", ["admin_client", "support_client"])
def test_every_page_renders_for_admin_and_support(request, persona, campaign):
    client = request.getfixturevalue(persona)
    for url in _pages(campaign):
        response = client.get(url)
        assert response.status_code == 200, url
    settings_page = client.get("/campaigns/").content.decode()
    assert "Salesforce Campaigns are optional" in settings_page
    assert "Tracking history" in settings_page
    assert 'href="/campaigns/"' in settings_page  # the menu entry
    listing = client.get("/campaigns/list/", {"q": campaign.name[:6]}).content.decode()
    assert campaign.name in listing and "Not linked" in listing


def test_support_may_not_change_anything(support_client, campaign, sf_sandbox):
    sf_campaign = sf_sandbox.salesforce().Campaign.create({"Name": "Nope"})["id"]
    base = f"/campaigns/c/{campaign.cm_campaign_id}/"
    for url, data in [
        ("/campaigns/", {"auto_create": "on"}),
        ("/campaigns/backfill/", {}),
        (base + "link/", {"sf_campaign_id": sf_campaign}),
        (base + "unlink/", {}),
    ]:
        assert support_client.post(url, data).status_code == 403, url
    assert not CampaignLink.objects.exists()
    assert not CampaignSettings.objects.filter(auto_create=True).exists()
    assert not BackfillJob.objects.exists()


def test_admin_saves_settings_with_an_audit_entry(admin_client, campaign):
    response = admin_client.post("/campaigns/", {"auto_create": "on", "update_statistics": "on"})
    assert response.status_code == 302
    saved = CampaignSettings.objects.get()
    assert saved.auto_create and saved.update_statistics and saved.auto_create_since
    assert AuditEntry.objects.filter(area="Salesforce Campaigns").count() == 2


def test_search_link_and_unlink_on_the_campaign_page(admin_client, campaign, sf_sandbox):
    sf_campaign = sf_sandbox.salesforce().Campaign.create({"Name": "Autumn 'sale' 50%"})["id"]
    base = f"/campaigns/c/{campaign.cm_campaign_id}/"
    found = admin_client.get(base, {"name": "'sale' 50%"}).content.decode()
    assert "Autumn" in found and sf_campaign in found

    response = admin_client.post(base + "link/", {"sf_campaign_id": sf_campaign})
    assert response.status_code == 302
    page = admin_client.get(base).content.decode()
    assert "Linked to" in page and "Autumn" in page
    assert cms_campaign(sf_sandbox, campaign.cm_campaign_id)["Campaign__c"] == sf_campaign

    confirm = admin_client.get(base + "unlink/").content.decode()
    assert "stay on that Campaign" in confirm
    done = admin_client.post(base + "unlink/", follow=True).content.decode()
    assert "nothing in Salesforce was deleted" in done
    assert CampaignLink.objects.get().sf_campaign_id == ""


def test_a_campaign_id_that_does_not_exist_gets_a_form_error(admin_client, campaign):
    base = f"/campaigns/c/{campaign.cm_campaign_id}/"
    response = admin_client.post(base + "link/", {"sf_campaign_id": "701000000000000AAA"})
    assert response.status_code == 400
    assert b"No Salesforce Campaign has the Id 701000000000000AAA" in response.content
    short = admin_client.post(base + "link/", {"sf_campaign_id": "701"})
    assert b"15 or 18 letters and digits" in short.content
    assert not CampaignLink.objects.exists()


def test_backfill_shows_the_count_first_and_starts_a_job(admin_client, campaign, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "campaigns.services.backfill.enqueue_on_commit", lambda name, *args: queued.append(args)
    )
    count = SyncedCampaign.objects.filter(sent_at__isnull=False).count()
    page = admin_client.get("/campaigns/").content.decode()
    assert f"<strong>{count}</strong> sent campaign(s)" in page
    response = admin_client.post("/campaigns/backfill/", follow=True)
    assert f"Backfill started for {count} campaign(s)" in response.content.decode()
    job = BackfillJob.objects.get()
    assert queued == [(job.pk,)]
    assert "Queued" in admin_client.get("/campaigns/").content.decode()


def test_a_backfill_whose_worker_died_is_failed_by_the_sweeper(admin_client, campaign, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    from campaigns.tasks import sweep_stale_backfills_task
    from maintenance.models import MaintenanceMessage

    monkeypatch.setattr("campaigns.services.backfill.enqueue_on_commit", lambda *args: None)
    admin_client.post("/campaigns/backfill/")
    job = BackfillJob.objects.get()
    assert sweep_stale_backfills_task() == 0  # still inside its lease

    BackfillJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(minutes=11)
    )
    assert sweep_stale_backfills_task() == 1
    job.refresh_from_db()
    assert job.status == RunStatus.FAILED and job.support_code == "CMS-300"
    [message] = MaintenanceMessage.objects.filter(job="campaign backfill")
    assert "Start it again" in message.message
    assert sweep_stale_backfills_task() == 0  # reported once
