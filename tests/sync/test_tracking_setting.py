"""The tracking-history setting's rules live on SyncOptions; the email types on EmailType."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.clients.campaign_monitor_types import CAMPAIGN_EVENT_REPORTS
from sync.clients.salesforce_schema import EVENT_TYPES, TRACKING
from sync.engine import records
from sync.forms.storage import TrackingHistoryForm
from sync.models import EmailType, SyncOptions

ALL = list(EmailType.values)


def test_email_types_are_the_picklist_and_name_their_campaign_monitor_report():
    assert ALL == ["Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Spam Complaint"]
    assert EmailType.SPAM_COMPLAINT.label == "Spam complaint"
    picklist = next(f for f in TRACKING.fields if f.name == "Event_Type__c")
    assert list(picklist.values) == list(EVENT_TYPES) == ALL
    assert records.EVENT_REPORTS == {
        "opens": "Opened",
        "clicks": "Clicked",
        "bounces": "Bounced",
        "unsubscribes": "Unsubscribed",
        "spam": "Spam Complaint",
    }
    assert set(CAMPAIGN_EVENT_REPORTS) == set(records.EVENT_REPORTS)
    assert EmailType.SENT.cm_report == ""  # Sent events are the campaign's recipients


@pytest.mark.parametrize(
    ("days", "types", "kept", "nothing", "words"),
    [
        (180, ALL, ALL, False, "the last 180 days of all email types"),
        (
            90,
            ["Clicked", "Sent", "Retweeted"],
            ["Sent", "Clicked"],
            False,
            "the last 90 days of Sent, Clicked",
        ),
        (30, ["Spam Complaint"], ["Spam Complaint"], False, "the last 30 days of Spam complaint"),
        (0, ALL, ALL, True, "no tracking history"),
        (365, [], [], True, "no tracking history"),
    ],
)
def test_what_is_kept_and_in_words(days, types, kept, nothing, words):
    options = SyncOptions(days_to_keep=days, email_types_to_keep=types)
    assert options.kept_types() == kept
    assert options.keeps_nothing is nothing
    assert options.days_kept == (0 if nothing else days)
    assert options.tracking_description() == words
    assert options.keeps("Sent") is (not nothing and "Sent" in kept)


def test_keeping_less_is_fewer_days_or_fewer_types():
    def setting(days, types=ALL):
        return SyncOptions(days_to_keep=days, email_types_to_keep=types)

    assert setting(90).keeps_less_than(setting(180))
    assert setting(180, ["Sent"]).keeps_less_than(setting(180))
    assert setting(0).keeps_less_than(setting(7, ["Opened"]))
    assert not setting(180).keeps_less_than(setting(180, ["Opened"]))
    assert not setting(0).keeps_less_than(setting(30, []))  # both keep nothing


def test_signature_changes_with_the_setting_and_matches_saved_markers():
    options = SyncOptions(days_to_keep=90, email_types_to_keep=["Opened", "Sent"])
    # The digest campaign markers were written with before it moved here: still the same.
    assert (
        options.tracking_signature()
        == records.fingerprint({"days": 90, "types": ["Opened", "Sent"]})[:8]
    )
    reordered = SyncOptions(days_to_keep=90, email_types_to_keep=["Sent", "Opened"])
    longer = SyncOptions(days_to_keep=91, email_types_to_keep=["Sent", "Opened"])
    assert reordered.tracking_signature() == options.tracking_signature()
    assert longer.tracking_signature() != options.tracking_signature()


def test_retention_cutoff_is_days_to_keep_before_now():
    now = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert SyncOptions(days_to_keep=30).retention_cutoff(now) == dt.datetime(
        2024, 4, 1, tzinfo=dt.UTC
    )


def test_form_starts_from_the_kept_types_and_cleans_to_email_type_order():
    options = SyncOptions(days_to_keep=30, email_types_to_keep=["Clicked", "Gone", "Sent"])
    assert TrackingHistoryForm.for_options(options).initial["email_types_to_keep"] == [
        "Sent",
        "Clicked",
    ]
    form = TrackingHistoryForm({"days_to_keep": "30", "email_types_to_keep": ["Bounced", "Sent"]})
    assert form.is_valid()
    assert form.cleaned_data["email_types_to_keep"] == ["Sent", "Bounced"]


@pytest.mark.parametrize(
    ("current", "proposed", "dropped"),
    [
        (
            (180, ALL),
            (180, ["Sent", "Opened"]),
            ["Clicked", "Bounced", "Unsubscribed", "Spam Complaint"],
        ),
        ((180, ["Opened", "Sent"]), (30, ["Sent", "Opened", "Clicked"]), []),
        ((180, ALL), (0, ALL), []),  # keeping nothing drops everything: no per-type list
        ((0, ALL), (90, ["Sent"]), []),  # it kept nothing before
    ],
)
def test_types_dropped_by_a_new_setting(current, proposed, dropped):
    before = SyncOptions(days_to_keep=current[0], email_types_to_keep=current[1])
    after = SyncOptions(days_to_keep=proposed[0], email_types_to_keep=proposed[1])
    assert before.types_dropped_by(after) == dropped
