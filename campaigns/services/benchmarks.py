"""Industry benchmarks on the Salesforce Campaigns screen and the campaign page.

The account has an industry; each CM client may have its own (else the account's). A change is
audited and reaches Salesforce with the next write of each campaign record (the benchmark fields
are part of the record, so a changed industry rewrites them at the next run).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from campaigns.engine.benchmarks import BenchmarkTable, Comparison, compare, industry_for, table
from campaigns.engine.benchmarks import campaign_rates as _campaign_rates
from campaigns.models import CampaignSettings, ClientIndustry, SyncedCampaign
from maintenance.services import record_changes
from sync.models import CMClient, Connection

AUDIT_AREA = "Salesforce Campaigns"
ACCOUNT_INDUSTRY = "Benchmark industry"
# "" on the form: the client follows the account's industry.
SAME_AS_ACCOUNT = "(the account's industry)"


def benchmark_table() -> BenchmarkTable:
    return table()


def industries() -> list[str]:
    return table().industries


@dataclass(frozen=True)
class ClientChoice:
    cm_client: CMClient
    industry: str  # "" = the account's


def benchmark_screen(connection: Connection) -> tuple[str, list[ClientChoice]]:
    """The account's industry and each selected client's own choice."""
    options = CampaignSettings.for_connection(connection)
    clients = list(connection.clients.filter(selected=True))
    chosen = dict(
        ClientIndustry.objects.filter(cm_client__in=clients).values_list("cm_client_id", "industry")
    )
    account = table().industry_or_default(options.benchmark_industry)
    return account, [ClientChoice(c, chosen.get(c.pk, "")) for c in clients]


def _client_setting(cm_client: CMClient) -> str:
    return f"Benchmark industry of {cm_client.name}"


def update_industries(
    connection: Connection, user, *, account: str, clients: dict[int, str]
) -> list[str]:
    """Set the account's industry and the clients' own ("" = the account's); returns the names
    of the settings that changed (one audit entry each). Unknown industries are a ValueError."""
    known = set(industries())
    if account not in known or any(v and v not in known for v in clients.values()):
        raise ValueError("not an industry of the benchmark table")
    changes: dict[str, tuple[str, str]] = {}
    with transaction.atomic():
        CampaignSettings.for_connection(connection)
        row = CampaignSettings.objects.select_for_update().get(connection=connection)
        if row.benchmark_industry != account:
            changes[ACCOUNT_INDUSTRY] = (row.benchmark_industry, account)
            row.benchmark_industry = account
            row.save(update_fields=["benchmark_industry", "updated_at"])
        selected = {c.pk: c for c in connection.clients.filter(pk__in=list(clients))}
        for pk, industry in clients.items():
            cm_client = selected.get(pk)
            if cm_client is None:
                continue
            current = ClientIndustry.objects.filter(cm_client=cm_client).first()
            before = current.industry if current else ""
            if before == industry:
                continue
            if industry:
                ClientIndustry.objects.update_or_create(
                    cm_client=cm_client, defaults={"industry": industry}
                )
            elif current:
                current.delete()
            changes[_client_setting(cm_client)] = (
                before or SAME_AS_ACCOUNT,
                industry or SAME_AS_ACCOUNT,
            )
        record_changes(user=user, area=AUDIT_AREA, changes=changes)
    return list(changes)


@dataclass(frozen=True)
class CampaignBenchmark:
    industry: str
    year: int
    source: str
    source_url: str
    rows: list[Comparison]


def campaign_benchmark(campaign: SyncedCampaign) -> CampaignBenchmark:
    """The campaign's rates against its industry's, as the sync writes them to Salesforce."""
    options = CampaignSettings.for_connection(campaign.connection)
    industry = industry_for(campaign.cm_client, options)
    rates = _campaign_rates(
        recipients=campaign.recipients,
        bounces=campaign.bounces,
        unique_opens=campaign.unique_opens,
        clicks=campaign.clicks,
        unsubscribes=campaign.unsubscribes,
    )
    data = table()
    return CampaignBenchmark(
        industry, data.year, data.source, data.source_url, compare(rates, industry)
    )


def open_rate_benchmarks(connection: Connection, campaigns: list[SyncedCampaign]) -> None:
    """Give each campaign of a list page ``open_benchmark``: its open rate against its
    industry's (one settings read and one industry query for the page)."""
    options = CampaignSettings.for_connection(connection)
    own = dict(
        ClientIndustry.objects.filter(
            cm_client_id__in={c.cm_client_id for c in campaigns if c.cm_client_id}
        ).values_list("cm_client_id", "industry")
    )
    for campaign in campaigns:
        industry = table().industry_or_default(
            own.get(campaign.cm_client_id) or options.benchmark_industry
        )
        rates = _campaign_rates(
            recipients=campaign.recipients,
            bounces=campaign.bounces,
            unique_opens=campaign.unique_opens,
            clicks=campaign.clicks,
            unsubscribes=campaign.unsubscribes,
        )
        campaign.open_benchmark = compare(rates, industry)[0]
