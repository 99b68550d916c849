"""The Storage screen: storage figures read from Salesforce, the forecast, the settings forms."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.utils import timezone

from maintenance.models import AuditEntry
from sync.clients.salesforce_schema import OBJECT_NAMES, TRACKING_OBJECT
from sync.models import Connection, EmailType, SyncOptions
from sync.services import storage
from sync.services.runs import run_inline

pytestmark = pytest.mark.django_db

STORAGE_URL = "/sync/storage/"
TRACKING_URL = "/sync/storage/tracking-history/"
AGGREGATES_URL = "/sync/storage/aggregates/"


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Storage figures are cached; each test starts with an empty cache of its own."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def synced(connection: Connection) -> Connection:
    """The connection after one sync: the sandbox org holds cmsync's records."""
    run_inline(connection)
    return connection


def page(client, url: str = STORAGE_URL) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def shown_records(body: str) -> dict[str, int]:
    """Records per object (and "total") as the storage table shows them."""
    return {
        name: int(count)
        for name, count in re.findall(r'data-object="([^"]+)" data-records="(\d+)"', body)
    }


def sf_limits(sf_sandbox) -> dict:
    return sf_sandbox.salesforce().limits()["DataStorageMB"]


def event_date(record: dict) -> dt.datetime:
    return dt.datetime.strptime(record["Event_Date__c"], "%Y-%m-%dT%H:%M:%S.%f%z")


# Figures -----------------------------------------------------------------------------------------
def test_storage_figures_match_the_records_in_salesforce_and_the_org_limits(
    admin_client, synced, sf_sandbox
):
    body = page(admin_client)

    shown = shown_records(body)
    expected = {name: len(sf_sandbox.app.records(name)) for name in OBJECT_NAMES}
    assert expected[TRACKING_OBJECT] > 100  # the sync really wrote tracking history
    assert {name: shown[name] for name in OBJECT_NAMES} == expected
    assert shown["total"] == sum(expected.values())
    total_kb = sum(expected.values()) * 2
    assert f'data-testid="storage-total-size">{storage.format_kb(total_kb)}<' in body

    limits = sf_limits(sf_sandbox)
    assert f'data-testid="org-storage-max" data-mb="{limits["Max"]}"' in body
    assert f'data-testid="org-storage-remaining" data-mb="{limits["Remaining"]}"' in body


def test_figures_are_read_once_per_run_then_again_after_the_next_run(
    admin_client, synced, sf_sandbox
):
    page(admin_client)
    sf_sandbox.reset_stats()
    page(admin_client)
    assert sf_sandbox.stats().get("query", 0) == 0  # served from the cache

    run_inline(synced)
    sf_sandbox.reset_stats()
    page(admin_client)
    assert sf_sandbox.stats().get("query", 0) >= len(OBJECT_NAMES)

    sf_sandbox.reset_stats()
    page(admin_client, STORAGE_URL + "?refresh=1")  # "Read again from Salesforce"
    assert sf_sandbox.stats().get("query", 0) >= len(OBJECT_NAMES)


def test_rate_on_screen_is_kept_events_per_day_over_the_last_30_days(synced, sf_sandbox):
    options = SyncOptions.for_connection(synced)
    options.email_types_to_keep = [EmailType.SENT, EmailType.OPENED]
    options.save()
    today = timezone.now().astimezone(dt.UTC).date()
    since = dt.datetime.combine(today - dt.timedelta(days=30), dt.time(), tzinfo=dt.UTC)
    recent = [
        r
        for r in sf_sandbox.app.records(TRACKING_OBJECT)
        if r["Event_Type__c"] in ("Sent", "Opened") and event_date(r) >= since
    ]
    assert recent  # the demo data has recent events

    report = storage.storage_report(synced)

    assert report.error == ""
    assert report.rate_window_days == 30
    assert report.rate_per_day == pytest.approx(len(recent) / 30)


def test_chart_and_forecast_assumption_are_on_screen(admin_client, synced):
    body = page(admin_client)
    assert "rate of the last 30 days" in body
    assert "rate × 180 days to keep" in body
    assert "shown flat" in body
    svg = body[body.index("<svg", body.index('data-testid="storage-chart"')) :]
    svg = svg[: svg.index("</svg>")]
    for name in ("CM Email Tracking", "CM Subscribers", "CM Campaigns"):
        assert f">{name}</text>" in svg
    assert svg.count("<rect") == 4 + len(OBJECT_NAMES) * 4  # legend + now and 3 horizons each
    assert "<script" not in body.split("</head>")[1]  # no chart library
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")


# Forecast arithmetic ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("in_window", "rate", "days", "horizon", "expected"),
    [
        (600, 10.0, 90, 30, 700),  # 600 × 60/90 left + 10 × 30 new
        (600, 10.0, 90, 90, 900),  # levelled off at rate × days
        (600, 10.0, 90, 365, 900),
        (0, 2.5, 180, 30, 75),
        (5000, 10.0, 30, 30, 300),  # a shorter window shrinks to its steady state
        (600, 10.0, 0, 30, 0),  # keep none
    ],
)
def test_forecast_tracking(in_window, rate, days, horizon, expected):
    assert storage.forecast_tracking(in_window, rate, days, horizon) == expected


def test_report_forecasts_tracking_from_the_rate_and_keeps_other_objects_flat():
    options = SyncOptions(days_to_keep=180, email_types_to_keep=list(EmailType.values))
    counts = dict.fromkeys(OBJECT_NAMES, 0)
    counts.update({TRACKING_OBJECT: 1000, "CMS_Subscriber__c": 400, "CMS_Campaign__c": 20})
    figures = storage.SalesforceFigures(
        counts=counts,
        data_storage_max_mb=1024,
        data_storage_remaining_mb=1000,
        recent_events=300,
        rate_window_days=30,
        tracking_outside=100,
        read_at=timezone.now(),
    )

    report = storage.build_report(figures, options)

    rows = {row.name: row for row in report.rows}
    assert report.rate_per_day == 10
    # 900 inside the window age out over 180 days while 10 a day arrive; 1,800 from day 180.
    assert rows[TRACKING_OBJECT].forecast == [1050, 1350, 1800]
    assert rows["CMS_Subscriber__c"].forecast == [400, 400, 400]
    assert rows["CMS_Campaign__c"].forecast == [20, 20, 20]
    assert report.total.records == 1420
    assert report.total.forecast == [1470, 1770, 2220]
    assert report.total.kb == 2840
    assert report.data_storage_used_mb == 24
    assert not report.growth_exceeds_remaining


def test_report_warns_when_the_forecast_outgrows_the_remaining_storage():
    options = SyncOptions(days_to_keep=365, email_types_to_keep=list(EmailType.values))
    counts = dict.fromkeys(OBJECT_NAMES, 0)
    figures = storage.SalesforceFigures(
        counts=counts,
        data_storage_max_mb=1024,
        data_storage_remaining_mb=10,
        recent_events=30 * 100,  # 100 a day × 365 days × 2 KB ≈ 71 MB
        rate_window_days=30,
        tracking_outside=0,
        read_at=timezone.now(),
    )
    assert storage.build_report(figures, options).growth_exceeds_remaining


def test_short_window_measures_the_rate_over_the_days_it_keeps():
    options = SyncOptions(days_to_keep=7, email_types_to_keep=["Sent"])
    assert storage.rate_window_days(options) == 7
    assert storage.rate_window_days(SyncOptions(days_to_keep=0)) == 0
    assert storage.rate_window_days(SyncOptions(days_to_keep=90, email_types_to_keep=[])) == 0


# Not connected or unreachable ---------------------------------------------------------------------
def test_salesforce_unreachable_shows_a_message_instead_of_numbers(
    admin_client, connection, sf_sandbox
):
    sf_sandbox.set_faults("503:x100@query")
    body = page(admin_client)
    assert 'data-testid="storage-error"' in body
    assert "Salesforce could not be reached to read the storage figures" in body
    assert 'data-testid="storage-table"' not in body
    assert 'data-testid="tracking-form"' in body  # the settings stay usable


def test_salesforce_down_shows_a_message_instead_of_numbers(admin_client, connection, sf_sandbox):
    sf_sandbox.server.stop()
    body = page(admin_client)
    assert "Salesforce could not be reached to read the storage figures" in body
    assert 'data-testid="storage-table"' not in body


def test_rejected_credentials_say_reconnect(admin_client, connection):
    connection.sf_access_token = "revoked"
    connection.sf_refresh_token = ""
    connection.sf_password = ""
    connection.save()
    body = page(admin_client)
    assert "Reconnect Salesforce" in body
    assert 'data-testid="storage-table"' not in body


def test_not_connected_says_so(admin_client):
    body = page(admin_client)
    assert "Salesforce is not connected" in body
    assert 'data-testid="storage-not-set-up"' in body
    assert 'data-testid="storage-table"' not in body


def test_salesforce_not_connected_still_shows_the_settings(admin_client):
    Connection.objects.create()
    body = page(admin_client)
    assert "Salesforce is not connected" in body
    assert 'data-testid="tracking-form"' in body
    assert 'value="180"' in body


# The tracking-history form ------------------------------------------------------------------------
@pytest.mark.parametrize("days", ["-1", "3651", "abc", "", "12.5"])
def test_days_to_keep_must_be_a_whole_number_from_0_to_3650(admin_client, connection, days):
    response = admin_client.post(
        TRACKING_URL, {"days_to_keep": days, "email_types_to_keep": "Sent"}
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert 'data-testid="days-error"' in body
    assert "Enter a whole number of days from 0 to 3,650" in body
    assert SyncOptions.for_connection(connection).days_to_keep == 180
    assert not AuditEntry.objects.exists()


def test_no_email_type_with_days_is_refused(admin_client, connection):
    response = admin_client.post(TRACKING_URL, {"days_to_keep": "90"})
    body = html.unescape(response.content.decode())
    assert 'data-testid="types-error"' in body
    assert "Choose at least one email type to keep" in body
    options = SyncOptions.for_connection(connection)
    assert options.days_to_keep == 180
    assert options.email_types_to_keep == list(EmailType.values)


def test_form_normalises_days_and_types():
    from sync.forms.storage import TrackingHistoryForm

    form = TrackingHistoryForm(
        {"days_to_keep": " 0090 ", "email_types_to_keep": ["Clicked", "Sent", "Clicked"]}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["days_to_keep"] == 90
    assert form.cleaned_data["email_types_to_keep"] == ["Sent", "Clicked"]

    assert TrackingHistoryForm({"days_to_keep": "0"}).is_valid()  # keep none, no types needed
    assert not TrackingHistoryForm({"days_to_keep": "30", "email_types_to_keep": "Read"}).is_valid()


def test_widening_saves_at_once_with_audit_and_no_retention_job(
    admin_client, connection, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            TRACKING_URL,
            {"days_to_keep": "365", "email_types_to_keep": list(EmailType.values)},
            follow=True,
        )
    body = html.unescape(response.content.decode())
    assert response.redirect_chain[-1][0] == STORAGE_URL
    assert "Tracking history saved: cmsync keeps the last 365 days of all email types." in body
    assert callbacks == []
    assert SyncOptions.for_connection(connection).days_to_keep == 365
    entry = AuditEntry.objects.get(setting="Days to keep")
    assert (entry.area, entry.before, entry.after, entry.user) == (
        "Storage",
        "180",
        "365",
        admin_user,
    )
    assert not AuditEntry.objects.filter(setting="Email types to keep").exists()  # unchanged


# Campaign member aggregates -----------------------------------------------------------------------
def test_aggregates_toggle_is_saved_and_audited(admin_client, connection, admin_user):
    body = page(admin_client)
    assert "Only records cmsync stores count" in body

    admin_client.post(AGGREGATES_URL, {"campaign_member_aggregates": "on"})
    assert SyncOptions.for_connection(connection).campaign_member_aggregates is True
    admin_client.post(AGGREGATES_URL, {})
    assert SyncOptions.for_connection(connection).campaign_member_aggregates is False

    entries = AuditEntry.objects.filter(setting="Campaign member aggregates").order_by("pk")
    assert [(e.before, e.after, e.username) for e in entries] == [
        ("off", "on", admin_user.username),
        ("on", "off", admin_user.username),
    ]


# Support (read-only) ------------------------------------------------------------------------------
def test_support_sees_everything_but_cannot_change_it(support_client, connection):
    body = page(support_client)
    assert 'data-testid="storage-table"' in body
    assert 'data-testid="read-only-note"' in body
    assert body.count('<fieldset style="border: 0; padding: 0; margin: 0" disabled>') == 2

    for url, data in (
        (TRACKING_URL, {"days_to_keep": "0", "confirmed": "1"}),
        (AGGREGATES_URL, {"campaign_member_aggregates": "on"}),
    ):
        assert support_client.post(url, data).status_code == 403
    options = SyncOptions.for_connection(connection)
    assert (options.days_to_keep, options.campaign_member_aggregates) == (180, False)
    assert not AuditEntry.objects.exists()
