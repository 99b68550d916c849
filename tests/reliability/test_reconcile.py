"""The reconciliation of CM against SF: clean after a sync, and each kind of drift found."""

from __future__ import annotations

import pytest

from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
)
from sync.engine.reconcile import canonical
from sync.models import RecordRejection, RunStatus
from sync.services.reconcile import reconcile_connection
from sync.services.runs import run_inline
from tests.sync.conftest import set_options

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_synced_connection_reconciles_clean(connection, sf_sandbox):
    set_options(connection, suppression_sync=True)
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary

    result = reconcile_connection(connection)

    assert result.clean, result.render()
    assert len(result.clients) == 3
    for name, figures in result.objects.items():
        assert figures.expected == figures.in_salesforce, name
    assert result.objects[TRACKING_OBJECT].expected > 100
    assert result.objects[SUPPRESSION_OBJECT].expected > 0
    assert result.rejections == [] and result.not_reconciled == []
    assert result.cm_calls and result.sf_calls


def test_each_kind_of_drift_is_counted_and_shown(connection, sf_sandbox, monkeypatch):
    run_inline(connection)
    sf = sf_sandbox.salesforce()
    membership, campaign, event = (
        sf_sandbox.app.records(name)[0]
        for name in (SUBSCRIBER_OBJECT, CAMPAIGN_OBJECT, TRACKING_OBJECT)
    )
    sf.CMS_Subscriber__c.delete(membership["Id"])
    sf.CMS_Campaign__c.update(campaign["Id"], {"Subject__c": "edited in Salesforce"})
    extra = {"CM_Key__c": "not-from-cm", "Name": "x", "Event_Type__c": "Opened"}
    sf.CMS_Email_Tracking__c.create({**extra, "CM_Client_ID__c": event["CM_Client_ID__c"]})
    monkeypatch.setattr(sf_sandbox.app.store, "_check_unique", lambda *args: None)
    copy = sf.CMS_Email_Tracking__c.create(
        {k: event[k] for k in ("CM_Key__c", "Name", "CM_Client_ID__c", "Event_Type__c")}
    )

    result = reconcile_connection(connection, sample_size=5)

    totals = result.totals
    # The copy differs from CM too (it lacks most fields), so two keys differ.
    assert (totals.missing, totals.extra, totals.different, totals.duplicates) == (1, 1, 2, 1)
    assert not result.clean
    (missing,) = result.samples["missing"]
    assert (missing.sobject, missing.key) == (SUBSCRIBER_OBJECT, membership["CM_Key__c"])
    assert missing.expected["Email__c"] == membership["Email__c"] and missing.actual is None
    different = {f.sobject: f for f in result.samples["different"]}
    assert different[CAMPAIGN_OBJECT].fields == ["Subject__c"]
    assert different[CAMPAIGN_OBJECT].actual["Subject__c"] == "edited in Salesforce"
    (duplicate,) = result.samples["duplicates"]
    assert duplicate.key == event["CM_Key__c"]
    assert sorted(duplicate.sf_ids) == sorted([event["Id"], copy["id"]])
    assert result.samples["extra"][0].key == "not-from-cm"
    assert "missing 1, extra 1, different 2, duplicates 1" in result.render()


def test_parked_rejections_are_listed_apart_not_as_missing(connection, sf_sandbox):
    sf_sandbox.set_faults("reject:x2@composite.sobjects.upsert")
    run = run_inline(connection)
    assert run.rejected_count == 2

    result = reconcile_connection(connection)

    assert result.clean, result.render()
    assert result.totals.rejected == 2 and result.rejected_total == 2
    parked = {(r.sobject, r.cm_key) for r in RecordRejection.objects.all()}
    assert {(r.sobject, r.key) for r in result.rejections} == parked
    assert {r.support_code for r in result.rejections} == {"CMS-220"}
    assert {r.error_code for r in result.rejections} == {"FIELD_CUSTOM_VALIDATION_EXCEPTION"}
    assert not any(r.in_salesforce for r in result.rejections)


def test_tracking_the_settings_no_longer_keep_is_outside_the_window(connection, sf_sandbox):
    run_inline(connection)
    set_options(connection, email_types_to_keep=["Sent"])

    result = reconcile_connection(connection)

    assert result.clean, result.render()
    assert result.objects[TRACKING_OBJECT].outside_window > 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01T10:05:00.000+0000", "2024-03-01T10:05:00Z"),
        ("2024-03-01T12:05:00+02:00", "2024-03-01T10:05:00Z"),
        (12.0, 12),
        (2.5, 2.5),
        ("", None),
        (None, None),
        (True, True),
        ("Opened", "Opened"),
    ],
)
def test_values_compare_in_one_form(raw, expected):
    assert canonical(raw) == expected
