"""The short fault soak (1k subscribers / 10k events): faults on, off, settle, reconcile clean."""

from __future__ import annotations

import pytest

from sandbox.soak import DEFAULT_FAULTS, Sandboxes, SoakPlan, parse_faults, run_soak
from sync.models import RecordRejection
from tests.sync.conftest import connect_both

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def soak_sandboxes(settings, make_cm_sandbox, make_sf_sandbox):
    seed = {"seed": "demo", "subscribers": 1000, "random_seed": 7}
    cm = make_cm_sandbox(**seed, events=10_000)
    sf = make_sf_sandbox(**seed, sf_daily_api_limit=1_000_000)
    settings.CMSYNC_CA_BUNDLE = cm.ca_file
    settings.SF_CLIENT_ID, settings.SF_CLIENT_SECRET = sf.client_id, sf.client_secret
    settings.SF_LOGIN_URL, settings.CM_API_BASE_URL = sf.url, cm.api_base
    settings.CMSYNC_BACKOFF_BASE_MS, settings.CMSYNC_BACKOFF_CAP_MS = 5, 50
    settings.CMSYNC_BULK_POLL_MS = 50
    return cm, sf


def test_short_soak_reconciles_clean_except_the_reported_rejections(soak_sandboxes):
    cm, sf = soak_sandboxes
    connection = connect_both(cm, sf)
    plan = SoakPlan(faults=parse_faults(DEFAULT_FAULTS), fault_runs=3, settle_runs=2)

    report = run_soak(connection, Sandboxes(cm.url, sf.url, cm.ca_file, cm.api_key), plan)

    result = report.reconciliation
    assert report.passed, report.render()
    assert (result.totals.missing, result.totals.extra) == (0, 0)
    assert (result.totals.different, result.totals.duplicates) == (0, 0)
    # The faults did strike (how often depends on how many calls the sync makes).
    transport = ("500", "503", "429", "timeout")
    assert sum(report.injected["sf"].get(kind, 0) for kind in transport) >= 4
    assert sum(report.injected["cm"].get(kind, 0) for kind in transport) >= 4
    assert report.injected["sf"]["invalid"] > 0
    # The validation rule's refusals are the only records not in Salesforce, each reported.
    open_rejections = RecordRejection.objects.filter(resolved_at=None)
    assert result.rejected_total == open_rejections.values("sobject", "cm_key").distinct().count()
    assert result.rejected_total > 0
    assert {r.support_code for r in result.rejections} == {"CMS-220"}
    assert report.runs[-1].written == 0  # the last run found nothing left to do
