"""The CM sandbox as a whole: documented route names, concurrency, no tracebacks."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import sandbox.cm
import sandbox.cm.app
from sandbox.cm import CampaignMonitorApp, build_app
from sandbox.config import SandboxConfig

REQUIRED_NAMES = {
    "account.clients", "clients.details", "clients.lists", "lists.details", "lists.customfields",
    "lists.stats", "lists.active", "lists.unsubscribed", "lists.bounced", "lists.deleted",
    "lists.unconfirmed", "subscribers.get", "subscribers.add", "subscribers.update",
    "subscribers.import", "subscribers.unsubscribe", "subscribers.delete", "subscribers.history",
    "clients.campaigns", "clients.tags", "campaigns.summary", "campaigns.listsandsegments",
    "campaigns.recipients", "campaigns.opens", "campaigns.clicks", "campaigns.unsubscribes",
    "campaigns.spam", "campaigns.bounces", "clients.suppressionlist", "clients.suppress",
    "clients.unsuppress", "clients.journeys", "journeys.summary", "lists.webhooks.create",
    "lists.webhooks.list", "lists.webhooks.delete", "campaigns.create", "campaigns.send",
    "clients.create", "lists.create", "lists.customfields.create", "oauth.authorize",
    "oauth.token",
}  # fmt: skip


def test_every_route_is_named_and_documented():
    app = build_app(SandboxConfig(seed="empty"))
    names = {route.name for route in app.router.routes}
    assert names >= REQUIRED_NAMES
    documented = set(re.findall(r"``([a-z]+(?:\.[a-z]+)+)``", sandbox.cm.app.__doc__ or ""))
    assert names - {"webversion"} <= documented
    assert isinstance(app, CampaignMonitorApp) and sandbox.cm.build_app is build_app


def test_api_routes_live_under_the_versioned_prefix_with_a_json_suffix():
    app = build_app(SandboxConfig(seed="empty"))
    for route in app.router.routes:
        pattern = route.pattern.pattern
        if route.name.startswith(("oauth.", "webversion")):
            assert "api" not in pattern
        else:
            assert pattern.startswith("^/api/v3\\.3/") and pattern.endswith("\\.json$"), pattern


def test_concurrent_writes_are_all_kept(cm_empty_sandbox):
    cm = cm_empty_sandbox
    client_id = cm.call("GET", "/clients.json").json()[0]["ClientID"]
    list_id = cm.call("POST", f"/lists/{client_id}.json", json={"Title": "Busy"}).json()

    def add(number: int) -> int:
        body = {"EmailAddress": f"p{number}@example.com", "ConsentToTrack": "Yes"}
        return cm.call("POST", f"/subscribers/{list_id}.json", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(add, range(80)))
    assert statuses == [201] * 80
    page = cm.call("GET", f"/lists/{list_id}/active.json", params={"pagesize": 10}).json()
    assert page["TotalNumberOfRecords"] == 80
    assert cm.stats()["subscribers.add"] == 80


def test_a_sandbox_bug_answers_cms_500_without_a_traceback(cm_empty_sandbox, monkeypatch):
    cm = cm_empty_sandbox

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cm.app.state, "client_by_api_key", broken)
    client_key = "not-the-account-key"
    response = cm.call("GET", "/clients.json", auth=(client_key, "x"))
    assert response.status_code == 500
    assert response.json() == {"Code": 500, "Message": "Internal Server Error"}
    assert "boom" not in response.text and "Traceback" not in response.text


def test_pretty_true_indents_the_json(cm_sandbox):
    plain = cm_sandbox.call("GET", "/clients.json")
    pretty = cm_sandbox.call("GET", "/clients.json", params={"pretty": "true"})
    assert pretty.json() == plain.json()
    assert "\n  " in pretty.text and "\n" not in plain.text
