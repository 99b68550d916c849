"""Cookies and headers (issue 11, defect 9).

- Every page carries a Content-Security-Policy: own files only, no inline script, no frames.
- The console's cookies are SameSite=Lax, also with DEBUG=0; only the tracking panel's embed
  works in a Salesforce frame, through its own short-lived, read-only, signed cookie.
- The embed may be framed by the connected org's own domains (and configured extras) only,
  and no origin can inject anything into the header.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from lib.env import env_origins
from lib.origins import https_origin
from sync.models import Connection
from sync.services import tracking_panel
from sync.views.tracking_panel import EMBED_COOKIE
from tests.test_access import ALL_URLS

ROOT = Path(__file__).resolve().parent.parent
EMBED_URL = "/sync/tracking/embed/"
SIGNIN_URL = "/sync/tracking/embed-sign-in/"
CONSOLE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
}


def directives(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.wsgi_request.path}"
    pairs = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return dict(pairs)


def assert_console_policy(policy: dict[str, str]) -> None:
    for name, value in CONSOLE_POLICY.items():
        assert policy.get(name) == value, (name, policy)
    assert "unsafe-inline" not in policy["script-src"]
    assert "form-action" not in policy  # the OAuth starts POST, then redirect to CM and SF


# Every page -------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), ALL_URLS)
def test_every_page_carries_the_policy_and_refuses_frames(support_client, name, url):
    """Signed in and not; the embed too refuses frames while no org is connected."""
    for who in (support_client, Client()):
        policy = directives(who.get(url))
        assert_console_policy(policy)
        assert policy["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_errors_and_refusals_carry_it_too(support_client):
    assert_console_policy(directives(support_client.get("/no/such/page/")))
    assert_console_policy(directives(support_client.post("/sync/settings/turn-off/")))


def test_templates_hold_no_inline_script():
    """The policy refuses inline script: no <script> with a body, no on…= handlers and no
    javascript: URLs in any template (the browser tests run with the policy on, too)."""
    import re

    offenders = []
    for template in ROOT.glob("*/templates/**/*.html"):
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"javascript:"):
            if re.search(pattern, text, re.I):
                offenders.append(f"{template.relative_to(ROOT)}: {pattern}")
    assert not offenders, offenders


# The embed's frame-ancestors --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("instance_url", "expected"),
    [
        (
            "https://acme.my.salesforce.com",
            [
                "https://acme.my.salesforce.com",
                "https://acme.lightning.force.com",
                "https://acme--c.vf.force.com",
            ],
        ),
        (
            "https://Acme--Dev.sandbox.my.salesforce.com/",
            [
                "https://acme--dev.sandbox.my.salesforce.com",
                "https://acme--dev.sandbox.lightning.force.com",
                "https://acme--dev--c.sandbox.vf.force.com",
            ],
        ),
        (
            "https://acme-dev-ed.develop.my.salesforce.com",
            [
                "https://acme-dev-ed.develop.my.salesforce.com",
                "https://acme-dev-ed.develop.lightning.force.com",
                "https://acme-dev-ed--c.develop.vf.force.com",
            ],
        ),
        ("https://na139.salesforce.com", ["https://na139.salesforce.com"]),  # no My Domain
        ("https://127.0.0.1:8702", ["https://127.0.0.1:8702"]),  # the sandbox
        ("", []),
        ("http://acme.my.salesforce.com", []),
        ("https://acme.my.salesforce.com/path", []),
        ("https://acme.my.salesforce.com; script-src *", []),
        ("https://acme.my.salesforce.com 'unsafe-inline'", []),
        ("https://acme.my.salesforce.com\r\nSet-Cookie: x=1", []),
        ("https://user@acme.my.salesforce.com", []),
        ("https://*.salesforce.com", []),
        ("https://acme.my.salesforce.com,https://evil.example", []),
    ],
)
def test_frame_ancestors_come_from_the_instance_url(instance_url, expected):
    assert tracking_panel.salesforce_origins(instance_url) == expected


@pytest.mark.django_db
def test_the_embed_lists_only_the_orgs_origins_and_configured_ones(admin_client, settings):
    Connection.objects.create(sf_instance_url="https://acme.my.salesforce.com")
    policy = directives(admin_client.get(EMBED_URL))
    assert policy["frame-ancestors"] == (
        "https://acme.my.salesforce.com https://acme.lightning.force.com "
        "https://acme--c.vf.force.com"
    )
    assert_console_policy(policy)

    settings.CMSYNC_EMBED_FRAME_ANCESTORS = ["https://acme--c.na1.visual.force.com"]
    policy = directives(admin_client.get(EMBED_URL))
    assert policy["frame-ancestors"].split() == [
        "https://acme.my.salesforce.com",
        "https://acme.lightning.force.com",
        "https://acme--c.vf.force.com",
        "https://acme--c.na1.visual.force.com",
    ]
    # The page that tells admins how to embed it lists them too; it may not be framed itself.
    page = admin_client.get("/sync/tracking/")
    assert "https://acme--c.vf.force.com" in page.content.decode()
    assert directives(page)["frame-ancestors"] == "'none'"


def test_extra_frame_ancestors_are_checked_strictly():
    env = {"X": " https://acme--c.na1.visual.force.com , https://*.example.com,https://h:8443/"}
    assert env_origins("X", [], env) == [
        "https://acme--c.na1.visual.force.com",
        "https://*.example.com",
        "https://h:8443",
    ]
    for bad in (
        "http://acme.example.com",
        "https://acme.example.com/frame",
        "https://acme.example.com; script-src *",
        "https://acme.example.com 'unsafe-eval'",
        "'self'",
        "*",
        "https://*",
        "https://a.*.example.com",
        "https://acme.example.com:99999",
    ):
        with pytest.raises(ImproperlyConfigured, match="X must be comma-separated origins"):
            env_origins("X", [], {"X": bad})
    with pytest.raises(ValueError):
        https_origin("https://*.example.com")  # wildcards only where allowed


# Cookies ----------------------------------------------------------------------------------------
def _production_settings(tmp_path, **env) -> dict:
    """Settings as a DEBUG=0 process loads them (a fresh interpreter)."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'CMSYNC_EMBED_FRAME_ANCESTORS')}))"
    )
    dropped = {"DATABASE_URL", "REDIS_URL", "DEBUG", "CMSYNC_SANDBOX", "DJANGO_SETTINGS_MODULE"}
    environ = {k: v for k, v in os.environ.items() if k not in dropped}
    environ.update(
        DJANGO_SETTINGS_MODULE="cmsync.settings",
        DEBUG="0",
        SECRET_KEY="s" * 20 + "-production-like-secret-key-for-the-test-" + "k" * 10,
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        CMSYNC_VAR_DIR=str(tmp_path),
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_cookies_are_lax_and_secure(tmp_path):
    loaded = _production_settings(
        tmp_path, CMSYNC_EMBED_FRAME_ANCESTORS="https://acme--c.na1.visual.force.com"
    )
    assert loaded["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert loaded["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["CMSYNC_EMBED_FRAME_ANCESTORS"] == ["https://acme--c.na1.visual.force.com"]


def test_a_bad_extra_origin_stops_the_process_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "CMSYNC_VAR_DIR": str(tmp_path), "CMSYNC_EMBED_FRAME_ANCESTORS": "*"},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "CMSYNC_EMBED_FRAME_ANCESTORS must be comma-separated origins" in done.stderr


@pytest.mark.django_db
def test_signing_in_sets_a_lax_session_cookie(client, admin_user, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client.get("/accounts/login/")
    assert client.cookies["csrftoken"]["samesite"] == "Lax"
    response = client.post(
        "/accounts/login/",
        {"username": admin_user.username, "password": "correct horse battery staple"},
    )
    session = response.cookies["sessionid"]
    assert session["samesite"] == "Lax"
    assert session["secure"] and session["httponly"]


# The embed's own cookie -------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_embed_cookie_is_narrow_and_opens_only_the_embed(support_client, support_user):
    response = support_client.get(SIGNIN_URL)
    assert response.status_code == 200
    assert "Go back to the Salesforce tab and reload the panel" in response.content.decode()
    cookie = response.cookies[EMBED_COOKIE]
    assert cookie["samesite"] == "None"
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["path"] == EMBED_URL
    assert 0 < int(cookie["max-age"]) <= 24 * 3600
    assert directives(response)["frame-ancestors"] == "'none'"  # a top-level page

    framed = Client()  # a Salesforce frame: no session cookie, only the embed's
    framed.cookies[EMBED_COOKIE] = cookie.value
    embed = framed.get(EMBED_URL, {"email": "someone@example.com"})
    assert 'data-testid="tracking-embed"' in embed.content.decode()
    # It opens nothing else, and changes nothing.
    assert framed.get("/sync/tracking/").status_code == 302
    assert framed.get("/").status_code == 302
    assert framed.post(EMBED_URL, {"email": "someone@example.com"}).status_code == 403


@pytest.mark.django_db
def test_a_forged_expired_or_outdated_embed_cookie_is_a_sign_in_prompt(
    support_user, admin_user, monkeypatch
):
    genuine = tracking_panel.embed_token(support_user)
    forged = signing.dumps(
        {"user": admin_user.pk, "auth": "x"}, salt=tracking_panel.EMBED_TOKEN_SALT
    )
    other_key = signing.dumps({"user": admin_user.pk}, key="not-the-secret-key-" * 3)

    def prompt_for(token: str) -> bool:
        framed = Client()
        framed.cookies[EMBED_COOKIE] = token
        return "tracking-embed-signin" in framed.get(EMBED_URL).content.decode()

    assert not prompt_for(genuine)
    assert prompt_for(forged)
    assert prompt_for(other_key)
    assert prompt_for(genuine[:-2] + "xx")
    assert prompt_for("")

    monkeypatch.setattr(tracking_panel, "embed_token_max_age", lambda: -1)
    assert prompt_for(genuine)  # expired
    monkeypatch.undo()

    support_user.set_password("a new password for sam")
    support_user.save()
    assert prompt_for(genuine)  # issued before the password changed
    support_user.is_active = False
    support_user.save()
    assert prompt_for(tracking_panel.embed_token(support_user))
