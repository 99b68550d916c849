"""Read-only screens do not spend the API allowance (issue 11, defect 10).

The tracking panel and the import wizard ask Campaign Monitor and Salesforce on a GET: answers
are kept for a minute, so a burst of reloads asks once per distinct question, and each person
may make only so many fresh reads a minute; past that the screen answers 429 in words. Calls
are counted at the sandboxes.
"""

from __future__ import annotations

import html

import pytest
from django.test import Client

from lib import throttle
from sync.models import ImportJob
from sync.services import imports
from sync.services.api import campaign_monitor_client

pytestmark = pytest.mark.django_db

PANEL_URL = "/sync/tracking/"
EMBED_URL = "/sync/tracking/embed/"
START_URL = "/sync/import/"
RELOADS = 12
LIMITED = "the most cmsync allows one person"


@pytest.fixture(autouse=True)
def frozen_window(monkeypatch):
    """The rate limit's clock stands still mid-window (no test straddles a minute)."""
    monkeypatch.setattr(throttle, "clock", lambda: 1_700_000_010.0)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def subscribers(connection) -> list[str]:
    client = connection.clients.filter(selected=True).order_by("name").first()
    with campaign_monitor_client(connection) as cm:
        list_id = cm.get_lists(client.cm_client_id)[0]["ListID"]
        return [row["EmailAddress"] for row in cm.iter_subscribers(list_id, "active")]


def test_reloading_the_tracking_panel_asks_cm_once_per_address(
    connection, admin_client, support_client, cm_sandbox
):
    first, second = subscribers(connection)[:2]
    cm_sandbox.reset_stats()

    admin_client.get(PANEL_URL, {"email": first})
    once = cm_sandbox.stats()
    assert once["clients.listsforemail"] == connection.clients.filter(selected=True).count()
    for _ in range(RELOADS):
        assert first in text_of(admin_client.get(PANEL_URL, {"email": first}))
    assert support_client.get(EMBED_URL, {"email": first}).status_code == 200
    assert cm_sandbox.stats() == once

    admin_client.get(PANEL_URL, {"email": second})
    twice = cm_sandbox.stats()
    assert twice["clients.listsforemail"] == 2 * once["clients.listsforemail"]
    for _ in range(RELOADS):
        admin_client.get(PANEL_URL, {"email": second})
    assert cm_sandbox.stats() == twice


def test_an_outage_is_not_kept_but_answers_are(connection, admin_client, cm_sandbox):
    email = subscribers(connection)[0]
    cm_sandbox.set_faults("503:x100")
    assert "could not be reached" in text_of(admin_client.get(PANEL_URL, {"email": email}))
    cm_sandbox.set_faults("")
    text = text_of(admin_client.get(PANEL_URL, {"email": email}))
    assert 'data-testid="panel-lists"' in text


def test_reloading_the_import_page_asks_each_side_once(
    connection, admin_client, cm_sandbox, sf_sandbox
):
    cm_sandbox.reset_stats()
    sf_sandbox.reset_stats()
    assert admin_client.get(START_URL).status_code == 200
    cm_once, sf_once = cm_sandbox.stats(), sf_sandbox.stats()
    assert cm_once and sf_once

    for _ in range(RELOADS):
        assert 'data-testid="import-start-form"' in text_of(admin_client.get(START_URL))

    assert cm_sandbox.stats() == cm_once
    assert sf_sandbox.stats() == sf_once


def test_reloading_the_mapping_page_asks_nothing_after_the_first(
    connection, admin_client, cm_sandbox, sf_sandbox
):
    choices = admin_client.get(START_URL)  # lists the choices (asked once)
    assert choices.status_code == 200
    with campaign_monitor_client(connection) as cm:
        destination = imports.destination_lists(connection, cm)[0]
    source_key = "report:" + sf_sandbox.app.records("Report")[0]["Id"]
    url = f"/sync/import/new/?source={source_key}&list={destination.key}"
    assert admin_client.get(url).status_code == 200
    cm_once, sf_once = cm_sandbox.stats(), sf_sandbox.stats()

    for _ in range(RELOADS):
        assert 'data-testid="import-preview"' in text_of(admin_client.get(url))

    assert cm_sandbox.stats() == cm_once
    assert sf_sandbox.stats() == sf_once


def test_too_many_fresh_lookups_are_refused_in_words_per_person(
    connection, admin_client, support_user, cm_sandbox, settings
):
    settings.CMSYNC_LIVE_READS_PER_MINUTE = 3
    addresses = subscribers(connection)[:5]
    for email in addresses[:3]:
        assert admin_client.get(PANEL_URL, {"email": email}).status_code == 200
    cm_sandbox.reset_stats()

    refused = admin_client.get(PANEL_URL, {"email": addresses[3]})

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    text = text_of(refused)
    assert LIMITED in text and "Try again in" in text
    assert 'data-testid="panel-limited"' in text
    assert cm_sandbox.stats() == {}
    embed = admin_client.get(EMBED_URL, {"email": addresses[4]})
    assert embed.status_code == 429 and LIMITED in text_of(embed)
    page = admin_client.get(START_URL)
    assert page.status_code == 429 and LIMITED in text_of(page)
    # What was asked already is still shown; someone else has their own allowance.
    assert admin_client.get(PANEL_URL, {"email": addresses[0]}).status_code == 200
    other = Client()
    other.force_login(support_user)
    assert other.get(PANEL_URL, {"email": addresses[3]}).status_code == 200
    assert cm_sandbox.stats()["clients.listsforemail"] > 0


def test_run_again_past_the_limit_says_so_and_starts_nothing(
    connection, admin_client, sf_sandbox, settings
):
    with campaign_monitor_client(connection) as cm:
        destination = imports.destination_lists(connection, cm)[0]
    report = sf_sandbox.app.records("Report")[0]
    source = imports.ImportSource("report", report["Id"], report["Name"])
    plan = imports.ImportPlan(source, destination, "EMAIL", (), {}, "Yes")
    job = imports.start_import(connection, None, plan, enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(status="succeeded")
    settings.CMSYNC_LIVE_READS_PER_MINUTE = 1
    throttle.spend("live-read", f"user:{admin_client.session['_auth_user_id']}", limit=1, window=60)

    response = admin_client.post(f"/sync/import/{job.pk}/run-again/", follow=True)

    assert LIMITED in text_of(response)
    assert ImportJob.objects.count() == 1
