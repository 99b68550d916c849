"""A person signs in, sees the dashboard, and signs out, in a real browser."""

from __future__ import annotations

import pytest

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_see_dashboard_sign_out(live_server, page, admin_user):
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "not the password")
    page.click("button[type=submit]")
    assert "Please enter a correct username and password" in page.inner_text("body")

    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    assert page.inner_text("h1.page-title") == "Dashboard"
    assert "Not connected" in page.inner_text("[data-testid=cm-status]")
    assert admin_user.username in page.inner_text("[data-testid=whoami]")
    # The stylesheet is served locally: the sidebar is styled.
    assert page.eval_on_selector(".sidebar", "el => getComputedStyle(el).width") == "220px"

    page.click("text=Log out")
    page.wait_for_url("**/accounts/login/")
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
