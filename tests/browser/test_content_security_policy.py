"""The console works under its Content-Security-Policy, and the tracking panel's embed works in
a Salesforce frame, in a real browser (issue 11, defect 9).

The Salesforce page is served by Playwright (``page.route``) at the org's Lightning origin; it
frames the live server's embed, which only the connected org's domains may do. Chromium's local
network access check refuses any public page framing localhost (whatever the policy says), so
those tests use a chromium started without that check.
"""

from __future__ import annotations

import json

import pytest

from conftest import PASSWORD
from sync.models import Connection, ImportJob, RunStatus
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_sync_settings import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIGHTNING = "https://acme.lightning.force.com"
ELSEWHERE = "https://elsewhere.example.com"
PAGES = ["/", "/sync/settings/", "/sync/runs/", "/sync/storage/", "/sync/options/"]
PAGES += ["/sync/tracking/", "/sync/import/", "/maintenance/"]


@pytest.fixture
def framing_context(browser, tmp_path):
    """A chromium profile that lets frames of other sites have their cookies (Chrome's default
    for a normal profile; this chromium's default profile blocks them, as Safari and Firefox
    do: see the embed's caveat in sync/views/tracking_panel.py), without the local network
    access check."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}})
    )
    context = browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"],
    )
    yield context
    context.close()


def csp_violations(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: found.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    return found


def test_console_pages_run_without_policy_violations(live_server, page, admin_user, connection):
    job = ImportJob.objects.create(
        connection=connection,
        cm_client=connection.clients.first(),
        list_id="L1",
        list_name="A list",
        source_kind="listview",
        source_object="Contact",
        source_id="00B000000000001",
        source_name="All Contacts",
        status=RunStatus.RUNNING,
        total_rows=10,
        rows_read=4,
    )
    violations = csp_violations(page)
    sign_in(page, live_server.url, admin_user)
    for path in PAGES:
        response = page.goto(live_server.url + path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
    page.goto(f"{live_server.url}/sync/import/{job.pk}/")
    # console.js (external, allowed) sizes the progress bar from its data-percent.
    bar = page.locator("[data-progress-bar]")
    page.wait_for_function("document.querySelector('[data-progress-bar]').style.width === '40%'")
    assert bar.get_attribute("style") == "width: 40%;"
    assert violations == []


def _salesforce_page(page, origin: str, embed_url: str) -> None:
    html = (
        "<!doctype html><title>Contact</title><h1>Contact</h1>"
        f'<iframe id="panel" src="{embed_url}" width="800" height="600"></iframe>'
    )
    page.route(
        origin + "/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=html),
    )


def test_the_embed_works_in_the_orgs_frame_after_signing_in_once(
    live_server, framing_context, admin_user
):
    Connection.objects.create(sf_instance_url="https://acme.my.salesforce.com")
    embed_url = live_server.url + "/sync/tracking/embed/?email=someone%40example.com"
    context = framing_context
    salesforce = context.new_page()
    salesforce.set_default_timeout(15_000)
    _salesforce_page(salesforce, LIGHTNING, embed_url)

    salesforce.goto(LIGHTNING + "/lightning/r/Contact/003000000000001/view")
    frame = salesforce.frame_locator("#panel")
    frame.locator("[data-testid=embed-signin-link]").wait_for()

    # The link opens cmsync in a new tab: sign in there, which sets the embed's cookie.
    with context.expect_page() as opened:
        frame.locator("[data-testid=embed-signin-link]").click()
    tab = opened.value
    tab.wait_for_url("**/accounts/login/**")
    tab.fill("#id_username", admin_user.username)
    tab.fill("#id_password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_selector("[data-testid=tracking-embed-ready]")
    cookie = next(c for c in context.cookies() if c["name"] == "cmsync_embed")
    assert cookie["sameSite"] == "None" and cookie["httpOnly"] and cookie["secure"]
    session = next(c for c in context.cookies() if c["name"] == "sessionid")
    assert session["sameSite"] == "Lax"

    # Back in Salesforce: the frame now shows the panel (its own cookie; the session cookie,
    # SameSite=Lax, does not travel in a cross-site frame).
    salesforce.reload()
    frame = salesforce.frame_locator("#panel")
    frame.locator("[data-testid=tracking-embed]").wait_for()
    assert "Connect Campaign Monitor first" in frame.locator("body").inner_text()


def test_another_site_cannot_frame_the_embed(live_server, framing_context, admin_user):
    Connection.objects.create(sf_instance_url="https://acme.my.salesforce.com")
    page = framing_context.new_page()
    violations = csp_violations(page)
    _salesforce_page(page, ELSEWHERE, live_server.url + "/sync/tracking/embed/")

    page.goto(ELSEWHERE + "/")
    page.wait_for_timeout(1500)

    frame = page.frame_locator("#panel")
    assert frame.locator("[data-testid=tracking-embed-signin]").count() == 0
    assert any("frame-ancestors" in text for text in violations), violations
