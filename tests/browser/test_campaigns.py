"""An Admin uses Salesforce Campaigns in a real browser: changes a setting, finds a synced
campaign, links it to a Salesforce Campaign found by name and sees the link on its page."""

from __future__ import annotations

import pytest

from campaigns.models import CampaignLink, CampaignSettings, LinkSource, SyncedCampaign
from sync.models import RunStatus
from sync.services.runs import run_inline
from tests.browser.test_sync_settings import flash, sign_in
from tests.campaigns.helpers import cms_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign(connection) -> SyncedCampaign:
    """A first sync has run (inline), so cmsync knows the sandbox's campaigns."""
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    return SyncedCampaign.objects.filter(connection=connection, recipients__gt=0).first()


@pytest.fixture
def csp_violations(page) -> list[str]:
    """What the browser refused under the Content-Security-Policy (inline scripts or styles)."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: seen.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    return seen


def test_admin_changes_a_setting_and_links_a_campaign_found_by_name(
    live_server, page, admin_user, connection, campaign, sf_sandbox, csp_violations
):
    sf = sf_sandbox.salesforce()
    wanted = sf.Campaign.create({"Name": "Browser autumn newsletter"})["id"]
    sf.Campaign.create({"Name": "Unrelated spring promo"})

    sign_in(page, live_server.url, admin_user)
    page.click("nav >> text=Salesforce Campaigns")
    page.wait_for_url(live_server.url + "/campaigns/")
    assert "Salesforce Campaigns are optional" in page.inner_text(
        "[data-testid=campaigns-optional]"
    )
    statistics = page.locator("#id_update_statistics")
    assert not statistics.is_checked()

    statistics.check()
    page.click("[data-testid=campaign-settings-form] button[type=submit]")
    page.wait_for_selector("ul.flash")
    assert (
        "Saved: Update the linked Salesforce Campaign with Campaign Monitor statistics on."
        in flash(page)
    )
    page.reload()
    assert page.locator("#id_update_statistics").is_checked()
    assert not page.locator("#id_auto_create").is_checked()
    assert CampaignSettings.objects.get(connection=connection).update_statistics

    page.click("text=Show synced campaigns")
    page.wait_for_selector("[data-testid=campaign-list]")
    page.fill("[data-testid=campaign-search] input[name=q]", campaign.name)
    page.click("[data-testid=campaign-search] button[type=submit]")
    page.wait_for_selector(f"[data-testid=campaign-list] a:text-is('{campaign.name}')")
    page.click(f"[data-testid=campaign-list] a:text-is('{campaign.name}')")
    page.wait_for_url(f"{live_server.url}/campaigns/c/{campaign.cm_campaign_id}/")
    assert "Not linked" in page.inner_text("[data-testid=campaign-link]")

    page.fill("[data-testid=sf-campaign-search] input[name=name]", "autumn")
    page.click("[data-testid=sf-campaign-search] button[type=submit]")
    results = page.locator("[data-testid=sf-campaign-results]")
    results.wait_for()
    assert "Browser autumn newsletter" in results.inner_text()
    assert "Unrelated spring promo" not in results.inner_text()
    results.locator("tr:has-text('Browser autumn newsletter') button:has-text('Link')").click()

    page.wait_for_selector("[data-testid=linked-to]")
    assert "Linked to the Salesforce Campaign Browser autumn newsletter" in flash(page)
    linked = page.inner_text("[data-testid=linked-to]")
    assert "Browser autumn newsletter" in linked and wanted in linked
    link = CampaignLink.objects.get(campaign=campaign)
    assert link.sf_campaign_id == wanted and link.source == LinkSource.HAND
    assert cms_campaign(sf_sandbox, campaign.cm_campaign_id)["Campaign__c"] == wanted

    page.reload()  # still there when the page is opened again
    assert "Browser autumn newsletter" in page.inner_text("[data-testid=linked-to]")
    assert csp_violations == []
