"""Playwright driving Debian's chromium (never a downloaded browser) against a live server."""

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


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is required at {CHROMIUM} (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


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
