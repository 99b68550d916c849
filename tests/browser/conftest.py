"""Playwright driving Debian's chromium (never a downloaded browser) against a live server.

`scripts/ensure_chromium` installs chromium before `make test` runs pytest. Where it could not, the
browser tests skip with the one line it printed (CMSYNC_BROWSER_SKIP) and the summary repeats it.
Only a missing binary skips: a chromium that is there and does not start is an error.
"""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import PASSWORD
from sync.models import Connection
from tests.sync.conftest import connect_both

CHROMIUM = os.environ.get("CMSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


SKIP_REASON = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def browser(request):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        reason = os.environ.get("CMSYNC_BROWSER_SKIP") or (
            f"browser tests skipped: chromium missing at {CHROMIUM}; fix: scripts/ensure_chromium"
        )
        request.config.stash[SKIP_REASON] = reason
        pytest.skip(reason)
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    reason = config.stash.get(SKIP_REASON, None)
    if reason:
        terminalreporter.write_line(reason, yellow=True, bold=True)


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def admin_user(transactional_db, django_user_model):
    """The Admin persona, recreating its group: an earlier transactional test flushed the
    groups the data migration made."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="alice-admin", password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="Admin")[0])
    return user


@pytest.fixture
def connection(transactional_db, settings, cm_sandbox, sf_sandbox) -> Connection:
    """Both sandboxes connected; the settings reach the live server's thread too."""
    settings.CMSYNC_CA_BUNDLE = cm_sandbox.ca_file
    settings.SF_CLIENT_ID = sf_sandbox.client_id
    settings.SF_CLIENT_SECRET = sf_sandbox.client_secret
    settings.SF_LOGIN_URL = sf_sandbox.url
    settings.CM_API_BASE_URL = cm_sandbox.api_base
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return connect_both(cm_sandbox, sf_sandbox)
