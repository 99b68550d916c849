"""The live tracking panel reads Campaign Monitor (never Salesforce) and fails in words."""

from __future__ import annotations

import html

import pytest

from sync.services.api import campaign_monitor_client
from sync.services.tracking_panel import (
    NOT_SUBSCRIBER,
    RECONNECT,
    UNREACHABLE,
    PanelError,
    tracking_panel,
)

pytestmark = pytest.mark.django_db

PANEL_URL = "/sync/tracking/"
EMBED_URL = "/sync/tracking/embed/"
CLICKED_URL = "https://example.com/tracking-panel-test"


@pytest.fixture
def opener(connection, cm_sandbox) -> dict:
    """A demo subscriber who received and opened a sent campaign, plus a click we add."""
    client = connection.clients.filter(selected=True).order_by("name").first()
    with campaign_monitor_client(connection) as cm:
        campaign = next(cm.iter_sent_campaigns(client.cm_client_id))
        opened = next(cm.iter_campaign_events(campaign["CampaignID"], "opens"))
        lists = {item["ListID"]: item["Name"] for item in cm.get_lists(client.cm_client_id)}
    email = opened["EmailAddress"]
    cm_sandbox.add_events(campaign["CampaignID"], "click", [email], url=CLICKED_URL)
    return {
        "email": email,
        "campaign": campaign["Name"],
        "list_name": lists[opened["ListID"]],
        "selected_clients": connection.clients.filter(selected=True).count(),
    }


def text_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_panel_shows_lists_and_actions_read_live_from_cm_not_sf(
    admin_client, opener, cm_sandbox, sf_sandbox
):
    cm_sandbox.reset_stats()
    sf_before = sf_sandbox.stats()

    text = text_of(admin_client.get(PANEL_URL, {"email": opener["email"]}))

    assert 'data-testid="panel-lists"' in text
    assert opener["list_name"] in text
    assert opener["campaign"] in text
    assert "<td>Open</td>" in text and "<td>Click</td>" in text
    assert f'href="{CLICKED_URL}"' in text
    calls = cm_sandbox.stats()
    assert calls["clients.listsforemail"] == opener["selected_clients"]
    assert calls["subscribers.history"] >= 1
    assert sf_sandbox.stats().get("query", 0) == sf_before.get("query", 0)
    assert sf_sandbox.stats() == sf_before


def test_panel_merges_history_newest_first(connection, opener):
    panel = tracking_panel(connection, opener["email"])

    assert panel.ok and panel.memberships
    assert {m.state for m in panel.memberships} <= {
        "Active",
        "Unsubscribed",
        "Bounced",
        "Deleted",
        "Unconfirmed",
    }
    dates = [action.when for action in panel.actions]
    assert None not in dates and dates == sorted(dates, reverse=True)
    clicks = [a for a in panel.actions if a.event == "Click" and a.detail == CLICKED_URL]
    assert clicks and clicks[0].source_name == opener["campaign"]
    assert clicks[0].detail_is_url


def test_address_on_no_list_is_not_a_subscriber(admin_client, connection):
    text = text_of(admin_client.get(PANEL_URL, {"email": "nobody-at-all@example.com"}))
    assert NOT_SUBSCRIBER in text
    assert "not a subscriber of any synced list" in text
    assert 'data-testid="panel-lists"' not in text


def test_malformed_address_is_a_form_error_and_asks_cm_nothing(
    admin_client, connection, cm_sandbox
):
    cm_sandbox.reset_stats()
    text = text_of(admin_client.get(PANEL_URL, {"email": "someone@@example"}))
    assert 'data-testid="email-error"' in text
    assert "Enter a valid email address" in text
    assert cm_sandbox.stats() == {}


def test_cm_failing_with_503s_is_reported_in_words(admin_client, opener, cm_sandbox):
    cm_sandbox.set_faults("503:x100")
    response = admin_client.get(PANEL_URL, {"email": opener["email"]})
    text = text_of(response)
    assert UNREACHABLE in text
    assert "Campaign Monitor could not be reached; try again in a minute" in text
    assert 'data-kind="unreachable"' in text


def test_cm_not_answering_at_all_is_reported_in_words(admin_client, connection):
    connection.cm_base_url = "https://127.0.0.1:9/api/v3.3"  # the discard port: nothing listens
    connection.save(update_fields=["cm_base_url"])
    text = text_of(admin_client.get(PANEL_URL, {"email": "someone@example.com"}))
    assert UNREACHABLE in text


def test_rejected_credentials_say_reconnect_needed(admin_client, connection):
    connection.cm_api_key = "not-the-right-key"
    connection.save(update_fields=["cm_api_key"])
    text = text_of(admin_client.get(PANEL_URL, {"email": "someone@example.com"}))
    assert RECONNECT in text
    assert "reconnect needed" in text
    assert 'href="/sync/settings/reconnect/"' in text


def test_panel_without_a_connection_says_connect_first(admin_client):
    panel_text = text_of(admin_client.get(PANEL_URL, {"email": "someone@example.com"}))
    assert 'data-kind="not_connected"' in panel_text
    assert tracking_panel(None, "someone@example.com").error_kind == PanelError.NOT_CONNECTED


def test_embed_may_be_framed_by_the_connected_org_only(admin_client, opener, connection):
    response = admin_client.get(EMBED_URL, {"email": opener["email"]})

    text = text_of(response)
    assert opener["campaign"] in text
    assert 'class="sidebar"' not in text
    assert "X-Frame-Options" not in response
    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    # The sandbox org has no My Domain: its own origin, nothing else (no *.force.com).
    assert directives["frame-ancestors"] == connection.sf_instance_url.rstrip("/")
    # The console's own pages still refuse every frame.
    panel = admin_client.get(PANEL_URL)
    assert panel["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in panel["Content-Security-Policy"]


def test_embed_form_reports_a_bad_address(admin_client, connection):
    response = admin_client.get(EMBED_URL, {"email": "nope"})
    assert "Enter a valid email address" in text_of(response)
    assert "frame-ancestors" in response["Content-Security-Policy"]


def test_embed_and_panel_need_a_signed_in_user(client):
    response = client.get(PANEL_URL, {"email": "someone@example.com"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    # The embed cannot send a frame to the login page: it offers a sign-in in a new tab.
    embed = text_of(client.get(EMBED_URL, {"email": "someone@example.com"}))
    assert 'data-testid="tracking-embed-signin"' in embed
    assert 'href="/sync/tracking/embed-sign-in/" target="_blank"' in embed
    assert 'data-testid="panel-' not in embed


def test_support_may_use_the_panel(support_client, opener):
    assert opener["campaign"] in text_of(support_client.get(PANEL_URL, {"email": opener["email"]}))
    assert support_client.post(PANEL_URL, {"email": opener["email"]}).status_code == 403
