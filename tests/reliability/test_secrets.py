"""Secrets: connect through every flow, then find no key, token or password in plain text.

One test connects cmsync to both sandboxes the ways a person can, in a row:

1. Campaign Monitor by API key (the web form), then choosing its clients;
2. Salesforce by the OAuth web flow;
3. Reconnect to Campaign Monitor with the API key, then with OAuth (tokens held in the
   session while the clients are chosen);
4. both sandboxes expire every access token and the console reads live from each, so both
   clients refresh their tokens;
5. Disconnect, and Campaign Monitor by OAuth;
6. Change Salesforce Sync User (the OAuth web flow again);
7. ``manage.py connect``: Campaign Monitor by API key and Salesforce by the password flow.

Then it renders every page of the console and collects every secret the flows used or the
sandboxes issued (the API keys of the account and of each client, the OAuth client secrets,
every access and refresh token and authorisation code, the Salesforce password), and looks
for each in: every page's HTML, the database (``manage.py dumpdata``, every column of every
table read with raw SQL, the decoded sessions), every file under ``var/``, what the command
printed, and every log record of every logger at DEBUG (urllib3, requests and the SQL the
database was sent included). Encrypted values do not match; plain ones would.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection as db
from django.urls import URLPattern, URLResolver, get_resolver

from sync.forms.settings import ConfirmForm
from sync.models import Connection, ImportJob, SyncRun

pytestmark = pytest.mark.django_db

LOGGERS = ("", "urllib3", "requests", "simple_salesforce", "django", "sync", "sandbox", "celery")


def _secret(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


@pytest.fixture
def boxes(make_cm_sandbox, make_sf_sandbox):
    cm = make_cm_sandbox(
        seed="demo",
        subscribers=30,
        events=120,
        random_seed=2,
        cm_api_key=_secret("cmkey"),
        cm_oauth_client_secret=_secret("cmoauth"),
    )
    sf = make_sf_sandbox(
        seed="demo",
        random_seed=1,
        sf_password=_secret("sfpass"),
        sf_client_secret=_secret("sfapp"),
    )
    return cm, sf


@pytest.fixture
def wired(settings, boxes):
    cm, sf = boxes
    settings.CMSYNC_CA_BUNDLE = cm.ca_file
    settings.CM_API_BASE_URL = cm.api_base
    settings.CM_OAUTH_CLIENT_ID = cm.oauth_client_id
    settings.CM_OAUTH_CLIENT_SECRET = cm.oauth_client_secret
    settings.SF_LOGIN_URL = sf.url
    settings.SF_CLIENT_ID = sf.client_id
    settings.SF_CLIENT_SECRET = sf.client_secret
    settings.CMSYNC_BACKOFF_BASE_MS = 5
    settings.CMSYNC_BACKOFF_CAP_MS = 50
    return settings


@pytest.fixture
def every_log(caplog):
    """Every record of every logger at DEBUG, the SQL sent to the database included."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    db.force_debug_cursor = True
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    yield caplog
    db.force_debug_cursor = False


class Flows:
    """The console as an admin's browser drives it; remembers the codes it saw."""

    def __init__(self, client, cm, sf) -> None:
        self.client, self.cm, self.sf = client, cm, sf
        self.codes: list[str] = []

    def follow(self, response):
        while response.status_code in (301, 302, 303):
            location = response["Location"]
            if urlsplit(location).netloc not in ("", "testserver"):
                return response
            response = self.client.get(location)
        assert response.status_code < 500
        return response

    def post(self, url: str, data: dict | None = None):
        return self.follow(self.client.post(url, data or {}))

    def authorize(self, start_url: str, data: dict | None = None) -> str:
        """Start a sign-in, let the sandbox approve it; returns the callback URL."""
        start = self.client.post(start_url, data or {})
        assert start.status_code == 302, start.status_code
        answer = requests.get(
            start["Location"], verify=self.cm.ca_file, allow_redirects=False, timeout=10
        )
        back = urlsplit(answer.headers["Location"])
        self.codes.append(dict(parse_qsl(back.query))["code"])
        return f"{back.path}?{back.query}"

    def all_clients(self) -> list[str]:
        return [client.client_id for client in self.cm.app.state.clients.values()]


def _connect_through_every_flow(flows: Flows, cm, sf, member: str) -> str:
    client = flows.client
    # 1. Campaign Monitor by API key, then its clients (an agency account).
    flows.post("/sync/connect/campaign-monitor/", {"api_key": cm.api_key})
    flows.post("/sync/connect/campaign-monitor/clients/", {"clients": flows.all_clients()})
    # 2. Salesforce by the OAuth web flow.
    flows.follow(client.get(flows.authorize("/sync/connect/salesforce/")))
    connection = Connection.objects.get()
    assert connection.both_connected, "the web flows did not connect both sides"
    # 3. Reconnect by API key, then by OAuth.
    flows.post("/sync/settings/reconnect/", {"api_key": cm.api_key, "clients": flows.all_clients()})
    callback = flows.authorize("/sync/connect/campaign-monitor/oauth/", {"purpose": "reconnect"})
    flows.follow(client.get(callback))
    flows.post("/sync/settings/reconnect/", {"clients": flows.all_clients()})
    connection.refresh_from_db()
    assert connection.cm_auth_method == "oauth" and connection.cm_refresh_token
    # 4. Every access token expires; live reads refresh both sides' tokens.
    issued = len(cm.app.oauth.tokens), len(sf.app.tokens.dump()["access"])
    cm.expire_tokens()
    sf.expire_tokens()
    assert client.get("/sync/tracking/", {"email": member}).status_code == 200
    assert client.get("/sync/import/").status_code == 200
    refreshed = len(cm.app.oauth.tokens), len(sf.app.tokens.dump()["access"])
    assert refreshed[0] > issued[0] and refreshed[1] > issued[1], "no token was refreshed"
    # 5. Disconnect; Campaign Monitor by OAuth.
    flows.post("/sync/settings/disconnect/", {"confirm": ConfirmForm.DISCONNECT})
    flows.follow(client.get(flows.authorize("/sync/connect/campaign-monitor/oauth/")))
    flows.post("/sync/connect/campaign-monitor/clients/", {"clients": flows.all_clients()})
    # 6. Change Salesforce Sync User (OAuth as oneself).
    flows.follow(client.get(flows.authorize("/sync/settings/change-sync-user/")))
    # A run and an import exist, so their pages render with real rows.
    flows.post("/sync/settings/sync-now/")
    # 7. manage.py connect: CM by API key, Salesforce by the password flow.
    printed = io.StringIO()
    call_command(
        "connect",
        cm_base_url=cm.api_base,
        cm_api_key=cm.api_key,
        sf_instance_url=sf.url,
        sf_username=sf.username,
        sf_password=sf.password,
        sf_client_id=sf.client_id,
        sf_client_secret=sf.client_secret,
        clients="all",
        stdout=printed,
        stderr=printed,
    )
    connection.refresh_from_db()
    assert connection.both_connected and connection.sf_username == sf.username
    return printed.getvalue()


def issued_secrets(cm, sf, flows: Flows) -> dict[str, str]:
    """Every secret of the flows, named for the failure message."""
    found = {
        "CM API key": cm.api_key,
        "CM OAuth client secret": cm.oauth_client_secret,
        "SF password": sf.password,
        "SF client secret": sf.client_secret,
    }
    for client in cm.app.state.clients.values():
        found[f"CM client API key of {client.name}"] = client.api_key
    for index, token in enumerate(cm.app.oauth.tokens):
        found[f"CM access token #{index}"] = token
    for index, token in enumerate(cm.app.oauth.refresh_tokens):
        found[f"CM refresh token #{index}"] = token
    dumped = sf.app.tokens.dump()
    for index, token in enumerate(dumped["access"]):
        found[f"SF access token #{index}"] = token
    for index, token in enumerate(dumped["refresh"]):
        found[f"SF refresh token #{index}"] = token
    for index, code in enumerate(flows.codes):
        found[f"authorisation code #{index}"] = code
    return found


# Where secrets could leak ----------------------------------------------------------------------
def _pages(client, member: str) -> dict[str, str]:
    """Every GET page of the console (URL parameters filled with real rows where there are),
    and the tracking panel of a subscriber."""
    rows = {
        "run_id": SyncRun.objects.values_list("pk", flat=True).first() or 1,
        "job_id": ImportJob.objects.values_list("pk", flat=True).first() or 1,
        "client_id": Connection.objects.get().clients.values_list("pk", flat=True).first(),
        "mapping_id": 1,
        "action": "pause",
        "code": "CMS-100",
    }
    pages = {}
    for route in _routes(get_resolver().url_patterns):
        url = "/" + route
        for name, value in rows.items():
            url = url.replace(f"<int:{name}>", str(value)).replace(f"<slug:{name}>", str(value))
            url = url.replace(f"<str:{name}>", str(value))
        if "<" in url or url.startswith("/admin/"):
            continue
        response = client.get(url)
        assert response.status_code < 500, url
        pages[url] = response.content.decode()
    for url in ("/sync/tracking/", "/sync/tracking/embed/"):
        pages[f"{url}?email={member}"] = client.get(url, {"email": member}).content.decode()
    return pages


def _routes(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def database_text() -> dict[str, str]:
    """The database as a dump, as raw rows of every table, and the decoded sessions."""
    dumped = io.StringIO()
    call_command("dumpdata", stdout=dumped)
    where = {"manage.py dumpdata": dumped.getvalue()}
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")
            where[f"table {table}"] = "\n".join(repr(row) for row in cursor.fetchall())
    sessions = [session.get_decoded() for session in Session.objects.all()]
    where["decoded sessions"] = json.dumps(sessions, default=str)
    return where


def var_files() -> dict[str, str]:
    """Every file under var/ (settings.VAR_DIR), read as text."""
    found = {}
    for root, _dirs, files in os.walk(django_settings.VAR_DIR):
        for name in files:
            path = Path(root) / name
            try:
                found[f"var file {path}"] = path.read_bytes().decode("utf-8", "replace")
            except OSError:  # a file another process removed while we walked
                continue
    return found


def leaks(secrets_by_name: dict[str, str], places: dict[str, str]) -> list[str]:
    return [
        f"{secret_name} in {place}"
        for secret_name, secret in secrets_by_name.items()
        for place, text in places.items()
        if secret and secret in text
    ]


# The test --------------------------------------------------------------------------------------
def test_no_secret_in_pages_database_files_or_logs(admin_client, wired, boxes, every_log):
    cm, sf = boxes
    member = next(m.email for lst in cm.app.state.lists.values() for m in lst.members.values())
    flows = Flows(admin_client, cm, sf)
    printed = _connect_through_every_flow(flows, cm, sf, member)
    pages = _pages(admin_client, member)

    found = issued_secrets(cm, sf, flows)
    assert len(found) >= 12, found.keys()  # keys, several tokens of each side, codes
    places = {f"page {url}": text for url, text in pages.items()}
    places |= database_text()
    places |= var_files()
    places["manage.py connect output"] = printed
    places["log records"] = "\n".join(
        f"{record.name} {record.getMessage()} {record.args!r}" for record in every_log.records
    )
    assert len(every_log.records) > 50  # the capture really saw the flows (SQL, urllib3 ...)
    assert leaks(found, places) == []
