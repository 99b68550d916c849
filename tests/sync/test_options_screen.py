"""The General Options screen: hints, warnings, saving with audit entries, the consent log."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.utils import timezone

from maintenance.models import AuditEntry
from sync.models import Connection, ConsentChange, ConsentSource, SyncOptions
from sync.services.options import GENERAL_OPTIONS, update_options

pytestmark = pytest.mark.django_db

OPTIONS_URL = "/sync/options/"
CONSENT_URL = "/sync/consent/"
ALL_OFF = dict.fromkeys(GENERAL_OPTIONS, False)


@pytest.fixture
def connected() -> Connection:
    """A connection that counts as connected to both sides (no API is called here), with every
    General Options switch off (a new connection has the first two on: test_option_defaults)."""
    now = timezone.now()
    connection = Connection.objects.create(
        cm_auth_method="api_key",
        cm_api_key="cm-key",
        cm_connected_at=now,
        sf_instance_url="https://example.my.salesforce.com",
        sf_access_token="sf-token",
        sf_connected_at=now,
    )
    SyncOptions.objects.create(connection=connection, **ALL_OFF)
    return connection


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def hints(text: str) -> dict[str, str]:
    """The help hint next to each option's checkbox, by option field name."""
    found = {}
    for name in GENERAL_OPTIONS:
        match = re.search(
            rf'data-testid="option-{name}".*?<input[^>]*name="{name}".*?'
            r'class="hint" tabindex="0"[^>]*data-hint="([^"]+)"',
            text,
            re.S,
        )
        if match:
            found[name] = match.group(1)
    return found


def post_options(client, **on: bool):
    """Submit the form as a browser does: only ticked boxes are sent."""
    data = {name: "on" for name, value in on.items() if value}
    return client.post(OPTIONS_URL, data, follow=True)


def test_every_option_has_a_checkbox_and_a_help_hint(admin_client, connected):
    text = page_text(admin_client.get(OPTIONS_URL))
    found = hints(text)
    assert set(found) == set(GENERAL_OPTIONS)
    assert all(len(hint) > 60 for hint in found.values())
    email_hint = found["email_opt_sync"]
    for words in ("HasOptedOutOfEmail", "unsubscribed", "never resubscribes", "newer", "consent"):
        assert words in email_hint
    assert "restart-autoresponders" in found["trigger_journeys"]
    assert "Account" in found["account_trigger"]
    assert "Stops every Salesforce → Campaign Monitor change" in found["disable_triggers"]
    assert "one record per suppressed address" in found["suppression_sync"]


def test_screen_explains_permission_set_and_account_trigger(admin_client, connected):
    text = page_text(admin_client.get(OPTIONS_URL))
    assert "cmsync_Integration" in text
    assert "takes full effect when subscriber rules are available" in text
    assert 'href="/sync/consent/"' in text


def test_saving_changes_options_and_writes_one_audit_entry_each(
    admin_client, admin_user, connected
):
    response = post_options(
        admin_client, **{**ALL_OFF, "email_opt_sync": True, "suppression_sync": True}
    )

    text = page_text(response)
    assert "Saved: Email opt in/out on, Suppression list on." in text
    options = SyncOptions.for_connection(connected)
    assert options.email_opt_sync and options.suppression_sync
    assert not (options.trigger_journeys or options.account_trigger or options.disable_triggers)
    entries = list(
        AuditEntry.objects.order_by("setting").values(
            "area", "setting", "before", "after", "username"
        )
    )
    assert entries == [
        {
            "area": "General Options",
            "setting": "Email opt in/out",
            "before": "off",
            "after": "on",
            "username": admin_user.username,
        },
        {
            "area": "General Options",
            "setting": "Suppression list",
            "before": "off",
            "after": "on",
            "username": admin_user.username,
        },
    ]

    post_options(admin_client, **{**ALL_OFF, "suppression_sync": True})

    options.refresh_from_db()
    assert not options.email_opt_sync and options.suppression_sync
    latest = AuditEntry.objects.order_by("-pk").first()
    assert (latest.setting, latest.before, latest.after) == ("Email opt in/out", "on", "off")
    assert AuditEntry.objects.count() == 3


def test_saving_without_changes_writes_no_audit_entry(admin_client, connected):
    text = page_text(post_options(admin_client, **ALL_OFF))
    assert "Nothing changed." in text
    assert AuditEntry.objects.count() == 0


def test_checkboxes_show_the_saved_state(admin_client, connected):
    update_options(connected, None, trigger_journeys=True)
    text = page_text(admin_client.get(OPTIONS_URL))
    assert re.search(r'<input[^>]*name="trigger_journeys"[^>]*checked', text)
    assert not re.search(r'<input[^>]*name="account_trigger"[^>]*checked', text)


def test_disable_triggers_warns_that_sf_to_cm_sync_is_stopped(admin_client, connected):
    warning = "Salesforce → Campaign Monitor sync is effectively stopped"
    assert warning not in page_text(admin_client.get(OPTIONS_URL))

    text = page_text(post_options(admin_client, **{**ALL_OFF, "disable_triggers": True}))

    assert re.search(r'role="alert" data-testid="disable-triggers-warning"', text)
    assert warning in text


def test_update_options_returns_changed_names_and_refuses_unknown_ones(connected, admin_user):
    assert update_options(connected, admin_user, account_trigger=True, email_opt_sync=False) == [
        "account_trigger"
    ]
    assert update_options(connected, admin_user, account_trigger=True) == []
    with pytest.raises(TypeError):
        update_options(connected, admin_user, days_to_keep=0)
    assert AuditEntry.objects.count() == 1


def test_not_connected_screen_says_connect_first_and_saves_nothing(admin_client):
    text = page_text(admin_client.get(OPTIONS_URL))
    assert "Connect first." in text
    assert "Save options" not in text
    assert len(hints(text)) == len(GENERAL_OPTIONS)  # still explains every option

    text = page_text(post_options(admin_client, email_opt_sync=True))
    assert "Connect Campaign Monitor and Salesforce first." in text
    assert not SyncOptions.objects.exists()
    assert not AuditEntry.objects.exists()


def test_support_reads_the_screen_but_cannot_save(support_client, connected):
    text = page_text(support_client.get(OPTIONS_URL))
    assert "may read these options but not change them" in text
    assert re.search(r'<input[^>]*name="email_opt_sync"[^>]*disabled', text)
    assert "Save options" not in text

    response = support_client.post(OPTIONS_URL, {"email_opt_sync": "on"})
    assert response.status_code == 403
    assert not SyncOptions.for_connection(connected).email_opt_sync
    assert not AuditEntry.objects.exists()


# Consent log ---------------------------------------------------------------------------------
def _consent(connection, email, action, minutes_ago, source=ConsentSource.CAMPAIGN_MONITOR, who=""):
    return ConsentChange.objects.create(
        connection=connection,
        email=email,
        source=source,
        action=action,
        who=who,
        changed_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


def test_consent_log_lists_only_the_address_asked_for_newest_first(admin_client, connected):
    _consent(connected, "ana@example.com", "Unsubscribed from all lists", 30)
    _consent(
        connected,
        "ana@example.com",
        "HasOptedOutOfEmail set on Contact",
        10,
        source=ConsentSource.SALESFORCE,
        who="Jo Admin",
    )
    _consent(connected, "ben@example.com", "Ben's own change", 5)

    text = page_text(admin_client.get(CONSENT_URL, {"email": "Ana@Example.com"}))

    assert "Ben's own change" not in text
    assert "2 changes for Ana@Example.com" in text
    first, second = text.index("HasOptedOutOfEmail set"), text.index("Unsubscribed from all")
    assert first < second
    assert "Salesforce" in text and "Jo Admin" in text


def test_consent_log_rejects_a_malformed_address(admin_client, connected):
    _consent(connected, "ana@example.com", "Unsubscribed from all lists", 30)
    text = page_text(admin_client.get(CONSENT_URL, {"email": "ana@@example"}))
    assert "Enter a valid email address" in text
    assert 'data-testid="consent-changes"' not in text


def test_consent_log_without_an_address_shows_just_the_form(admin_client):
    text = page_text(admin_client.get(CONSENT_URL))
    assert 'data-testid="consent-form"' in text
    assert 'data-testid="email-error"' not in text
    assert 'data-testid="consent-changes"' not in text


def test_consent_log_pages_keep_the_address(admin_client, connected):
    for minute in range(55):
        _consent(connected, "many@example.com", f"change {minute:02d}", minute)

    first = page_text(admin_client.get(CONSENT_URL, {"email": "many@example.com"}))
    assert "Page 1 of 2" in first
    assert 'href="?email=many%40example.com&page=2"' in first
    second = page_text(admin_client.get(CONSENT_URL, {"email": "many@example.com", "page": 2}))
    assert second.count("<tr>") - 1 == 5  # header row + five changes
