"""The campaign filter and the industry benchmarks, over both sandboxes: what is synced and
what is kept out (and counted), campaigns already in Salesforce kept, a future start date, a tag
gone from CM, and the benchmark values and differences in Salesforce and on the campaign page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.defaultfilters import floatformat
from django.utils import timezone

from campaigns.engine.benchmarks import campaign_rates, table
from campaigns.models import CampaignSettings, FilteredCampaign, SyncedCampaign
from campaigns.services.benchmarks import update_industries
from campaigns.services.filters import update_filter
from maintenance.models import AuditEntry
from sync.clients.salesforce_schema import CAMPAIGN_BENCHMARK_FIELDS, CAMPAIGN_OBJECT
from sync.models import RunKind, RunStatus
from sync.services.runs import run_inline
from tests.campaigns.helpers import cm_client, cms_campaign

pytestmark = pytest.mark.django_db(transaction=True)

TAG = "Wellness"  # one client's tag in the sandbox: the other clients' campaigns lack it


def _sent_campaigns(connection, cm_sandbox) -> list[dict]:
    cm = cm_client(cm_sandbox)
    return [
        campaign
        for client in connection.clients.filter(selected=True)
        for campaign in cm.iter_sent_campaigns(client.cm_client_id)
    ]


def _has_tag(campaign: dict, tag: str) -> bool:
    return tag.lower() in {t.lower() for t in campaign.get("Tags") or []}


def _in_salesforce(sf_sandbox) -> set[str]:
    return {r["CM_Key__c"] for r in sf_sandbox.app.records(CAMPAIGN_OBJECT)}


def _ok(run) -> None:
    assert run.status == RunStatus.SUCCEEDED, run.error_summary


def test_tag_filter_syncs_only_tagged_campaigns_and_counts_the_rest(
    connection, cm_sandbox, sf_sandbox, admin_user, admin_client
):
    sent = _sent_campaigns(connection, cm_sandbox)
    tagged = {c["CampaignID"] for c in sent if _has_tag(c, TAG)}
    others = {c["CampaignID"] for c in sent} - tagged
    assert tagged and others
    update_filter(connection, admin_user, active=True, start_date=None, tags=[TAG])

    _ok(run_inline(connection))
    assert _in_salesforce(sf_sandbox) == tagged
    assert set(FilteredCampaign.objects.values_list("cm_campaign_id", flat=True)) == others
    page = admin_client.get("/campaigns/").content.decode()
    assert f"The filter keeps <strong>{len(others)}</strong> campaign(s) out" in page

    # Turned off: the campaigns kept out before are synced by the next run.
    update_filter(connection, admin_user, active=False, start_date=None, tags=[TAG])
    _ok(run_inline(connection))
    assert _in_salesforce(sf_sandbox) == tagged | others
    assert not FilteredCampaign.objects.exists()


def test_start_date_filter_keeps_earlier_campaigns_out(
    connection, cm_sandbox, sf_sandbox, admin_user
):
    sent = _sent_campaigns(connection, cm_sandbox)
    days = sorted({c["SentDate"][:10] for c in sent})
    assert len(days) > 2
    start = dt.date.fromisoformat(days[len(days) // 2])
    later = {c["CampaignID"] for c in sent if c["SentDate"][:10] >= start.isoformat()}
    update_filter(connection, admin_user, active=True, start_date=start, tags=[])

    _ok(run_inline(connection))
    assert _in_salesforce(sf_sandbox) == later
    assert FilteredCampaign.objects.count() == len(sent) - len(later)


def test_campaigns_already_in_salesforce_stay_when_the_filter_changes(
    connection, cm_sandbox, sf_sandbox, admin_user, admin_client
):
    _ok(run_inline(connection))
    before = _in_salesforce(sf_sandbox)
    assert before
    update_filter(connection, admin_user, active=True, start_date=None, tags=[TAG])

    _ok(run_inline(connection))
    assert _in_salesforce(sf_sandbox) == before
    # A full sync deletes and rewrites cmsync's records: the filter does not drop any.
    _ok(run_inline(connection, kind=RunKind.FULL))
    assert _in_salesforce(sf_sandbox) == before
    page = admin_client.get("/campaigns/").content.decode()
    assert "The filter keeps <strong>0</strong> campaign(s) out" in page


def test_a_future_start_date_is_saved_with_a_warning(connection, sf_sandbox, admin_client):
    future = timezone.localdate() + dt.timedelta(days=30)
    response = admin_client.post(
        "/campaigns/filter/",
        {"filter_active": "on", "start_date": future.isoformat()},
        follow=True,
    )
    page = response.content.decode()
    assert "is in the future: no new campaign syncs until then" in page
    assert 'data-testid="filter-future-start"' in page
    assert CampaignSettings.objects.get().filter_start_date == future
    assert set(
        AuditEntry.objects.filter(area="Salesforce Campaigns").values_list(
            "setting", "before", "after"
        )
    ) == {
        ("Campaign filter", "off", "on"),
        ("Campaign filter: start date", "(none)", future.isoformat()),
    }
    _ok(run_inline(connection))
    assert _in_salesforce(sf_sandbox) == set()


def test_a_tag_gone_from_cm_is_dropped_with_a_message(connection, admin_client):
    options = CampaignSettings.for_connection(connection)
    options.filter_active, options.filter_tags = True, [TAG, "Spring Gala 2019"]
    options.save()
    page = admin_client.get("/campaigns/").content.decode()
    assert "Campaign Monitor no longer has them: Spring Gala 2019" in page
    assert CampaignSettings.objects.get().filter_tags == [TAG]
    entry = AuditEntry.objects.get(area="Salesforce Campaigns")
    assert (entry.setting, entry.before, entry.after) == (
        "Campaign filter: tags",
        f"{TAG}, Spring Gala 2019",
        TAG,
    )
    assert entry.user is None  # the system dropped it
    # The picker offers CM's tags.
    assert f'value="{TAG}"' in page and "Newsletter" in page


def test_support_may_not_change_the_filter_or_the_industries(connection, support_client):
    assert support_client.post("/campaigns/filter/", {"filter_active": "on"}).status_code == 403
    response = support_client.post("/campaigns/benchmarks/", {"account_industry": "Retail"})
    assert response.status_code == 403
    options = CampaignSettings.for_connection(connection)
    assert not options.filter_active and options.benchmark_industry == "All industries"


def _expected_benchmarks(record: dict, industry: str) -> dict[str, tuple[float, float | None]]:
    rates = campaign_rates(
        recipients=int(record["Recipients__c"] or 0),
        bounces=int(record["Bounces__c"] or 0),
        unique_opens=int(record["Unique_Opens__c"] or 0),
        clicks=int(record["Clicks__c"] or 0),
        unsubscribes=int(record["Unsubscribes__c"] or 0),
    )
    averages = table().averages[industry]
    return {
        metric: (
            averages[metric],
            None if rates[metric] is None else round(rates[metric] - averages[metric], 2),
        )
        for metric in CAMPAIGN_BENCHMARK_FIELDS
    }


def test_benchmarks_are_written_to_salesforce_and_shown_on_the_campaign_page(
    connection, sf_sandbox, admin_user, admin_client
):
    clients = list(connection.clients.filter(selected=True))
    own, others = clients[0], clients[1:]
    admin_client.post(
        "/campaigns/benchmarks/",
        {"account_industry": "Retail", f"client_{own.pk}": "Healthcare Services"},
    )
    assert set(
        AuditEntry.objects.filter(area="Salesforce Campaigns").values_list("setting", "after")
    ) == {
        ("Benchmark industry", "Retail"),
        (f"Benchmark industry of {own.name}", "Healthcare Services"),
    }
    _ok(run_inline(connection))

    checked = 0
    for campaign in SyncedCampaign.objects.filter(connection=connection, recipients__gt=0):
        industry = "Healthcare Services" if campaign.cm_client == own else "Retail"
        record = cms_campaign(sf_sandbox, campaign.cm_campaign_id)
        assert record["Benchmark_Industry__c"] == f"{industry} ({table().year})"
        for metric, (average, difference) in _expected_benchmarks(record, industry).items():
            average_field, difference_field = CAMPAIGN_BENCHMARK_FIELDS[metric]
            assert float(record[average_field]) == average
            if difference is None:
                assert record[difference_field] is None
            else:
                assert float(record[difference_field]) == pytest.approx(difference)
        checked += 1
    assert checked and others

    campaign = SyncedCampaign.objects.filter(cm_client=own, recipients__gt=0).first()
    record = cms_campaign(sf_sandbox, campaign.cm_campaign_id)
    open_difference = float(record["Open_Rate_Difference__c"])
    page = admin_client.get(f"/campaigns/c/{campaign.cm_campaign_id}/").content.decode()
    assert "Healthcare Services" in page
    side = "above" if open_difference > 0 else "below"
    assert f"{floatformat(abs(open_difference), 2)} points {side}" in page

    listing = admin_client.get("/campaigns/list/", {"q": campaign.name}).content.decode()
    assert "Open rate vs industry" in listing
    shown = floatformat(abs(open_difference), 1)
    assert f"{'+' if open_difference > 0 else '−'}{shown} pts" in listing

    # Another industry reaches Salesforce with the next run.
    update_industries(connection, admin_user, account="Retail", clients={own.pk: ""})
    _ok(run_inline(connection))
    record = cms_campaign(sf_sandbox, campaign.cm_campaign_id)
    assert record["Benchmark_Industry__c"] == f"Retail ({table().year})"
    assert float(record["Benchmark_Open_Rate__c"]) == table().averages["Retail"]["open_rate"]
