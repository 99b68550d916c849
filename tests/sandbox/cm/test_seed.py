"""The CM sandbox's seeds: a believable, reproducible demo agency, and an empty account."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import requests

from sandbox.cm import build_app
from sandbox.cm.serialize import summary_json
from sandbox.config import SandboxConfig

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CLIENTS = ["Harbour Lane Coffee", "Northwind Outdoor Co.", "Bluegum Health Clinics"]
LISTS = {
    "Harbour Lane Coffee": ["Coffee Club Newsletter", "Wholesale Customers", "Barista Workshops"],
    "Northwind Outdoor Co.": ["Trail News", "Members"],
    "Bluegum Health Clinics": ["Patient Updates", "Wellness Tips", "Practitioner Bulletin"],
}


def fingerprint(app) -> dict:
    """Everything about a demo that should depend on the random seed only (not on dates)."""
    state = app.state
    return {
        "clients": [(c.client_id, c.name, c.api_key) for c in state.clients.values()],
        "lists": [(lst.list_id, lst.title) for lst in state.lists.values()],
        "members": sorted(
            (m.list_id, m.email, m.name, m.state, m.mobile, tuple(m.custom))
            for lst in state.lists.values()
            for m in lst.members.values()
        ),
        "campaigns": [
            (c.campaign_id, tuple(c.tags), len(c.recipients))  # names hold the (moving) month
            for c in state.campaigns.values()
        ],
        "events": [
            (c.campaign_id, kind, list(columns.recipient), list(columns.detail))
            for c in state.campaigns.values()
            for kind, columns in c.events.items()
        ],
    }


def all_members(app):
    return [m for lst in app.state.lists.values() for m in lst.members.values()]


def total_events(app) -> int:
    return sum(len(cols) for c in app.state.campaigns.values() for cols in c.events.values())


def test_demo_names_are_fixed_whatever_the_seed():
    for seed in (1, 2):
        app = build_app(SandboxConfig(subscribers=30, events=50, random_seed=seed))
        clients = list(app.state.clients.values())
        assert [c.name for c in clients] == CLIENTS
        for client in clients:
            titles = [app.state.lists[list_id].title for list_id in client.list_ids]
            assert titles == LISTS[client.name]
            assert [j.name for j in client.journeys] == ["Welcome series", "Win-back"]
            assert all(
                any(f.name == "Phone" for f in app.state.lists[i].fields) for i in client.list_ids
            )


def test_the_same_random_seed_gives_the_same_demo_and_another_seed_does_not():
    config = {"subscribers": 80, "events": 600}
    first = fingerprint(build_app(SandboxConfig(random_seed=5, **config)))
    again = fingerprint(build_app(SandboxConfig(random_seed=5, **config)))
    other = fingerprint(build_app(SandboxConfig(random_seed=6, **config)))
    assert first == again
    assert first["clients"] != other["clients"]
    assert first["members"] != other["members"]


def test_demo_has_the_configured_people_and_events():
    app = build_app(SandboxConfig(subscribers=120, events=900, random_seed=3))
    assert len({m.email for m in all_members(app)}) == 120
    assert total_events(app) == 900
    states = Counter(m.state for m in all_members(app))
    assert states["Active"] > len(all_members(app)) / 2
    for state in ("Unsubscribed", "Bounced", "Deleted", "Unconfirmed"):
        assert states[state] > 0, state


def test_demo_phone_numbers_are_national_and_mobile_numbers_are_e164():
    app = build_app(SandboxConfig(subscribers=200, events=0, random_seed=4))
    members = all_members(app)
    mobiles = [m.mobile for m in members if m.mobile]
    phones = [value for m in members for key, value in m.custom if key == "Phone"]
    assert mobiles and all(E164.match(mobile) for mobile in mobiles)
    national = [phone for phone in phones if not E164.match(phone)]
    assert len(national) > len(phones) / 2
    assert any(phone.startswith("(") for phone in national)  # "(555) 555-0134", "(02) 5550 1234"
    assert any(" " in phone for phone in national)


def test_demo_campaigns_are_sent_over_the_last_200_days_with_tags():
    app = build_app(SandboxConfig(subscribers=60, events=100, random_seed=1))
    now = app.clock.now_minute()
    sent = [c for c in app.state.campaigns.values() if c.sent]
    drafts = [c for c in app.state.campaigns.values() if not c.sent]
    assert len(drafts) == 3
    assert len(sent) >= 12
    assert all(now - 200 * 24 * 60 <= c.sent_minute <= now for c in sent)
    assert all(c.tags for c in sent)
    assert all(c.recipients for c in sent)
    spread = max(c.sent_minute for c in sent) - min(c.sent_minute for c in sent)
    assert spread > 100 * 24 * 60


def check_events_consistent(app) -> None:
    """Summaries come from the events, and events agree with recipients and list state."""
    for campaign in app.state.campaigns.values():
        summary = summary_json("https://sandbox", campaign)
        events = campaign.events
        assert summary["TotalOpened"] == len(events["open"])
        assert summary["UniqueOpened"] == len(set(events["open"].recipient))
        assert summary["Clicks"] == len(events["click"])
        assert summary["Bounced"] == len(events["bounce"])
        assert summary["Unsubscribed"] == len(events["unsubscribe"])
        assert summary["SpamComplaints"] == len(events["spam"])
        assert summary["UniqueOpened"] <= summary["Recipients"]
        for kind, columns in events.items():
            assert list(columns.minute) == sorted(columns.minute), kind
            assert all(m >= campaign.sent_minute for m in columns.minute), kind
            assert all(r < len(campaign.recipients) for r in columns.recipient), kind
        for position in events["unsubscribe"].recipient:
            assert campaign.recipients[position].state == "Unsubscribed"
        assert len(set(events["unsubscribe"].recipient)) == len(events["unsubscribe"])
        assert not set(events["bounce"].recipient) & set(events["open"].recipient)


def test_demo_events_agree_with_summaries_and_subscriber_state():
    check_events_consistent(build_app(SandboxConfig(subscribers=300, events=3000, random_seed=2)))


def test_demo_summaries_over_http_match_the_reports(cm_sandbox):
    cm = cm_sandbox
    for client in cm.call("GET", "/clients.json").json():
        campaigns = cm.call("GET", f"/clients/{client['ClientID']}/campaigns.json").json()
        for campaign in campaigns["Results"]:
            base = f"/campaigns/{campaign['CampaignID']}"
            summary = cm.call("GET", f"{base}/summary.json").json()
            totals = {
                name: cm.call("GET", f"{base}/{name}.json", params={"pagesize": 10}).json()[
                    "TotalNumberOfRecords"
                ]
                for name in ("recipients", "opens", "clicks", "unsubscribes", "spam", "bounces")
            }
            assert totals == {
                "recipients": summary["Recipients"],
                "opens": summary["TotalOpened"],
                "clicks": summary["Clicks"],
                "unsubscribes": summary["Unsubscribed"],
                "spam": summary["SpamComplaints"],
                "bounces": summary["Bounced"],
            }
            assert summary["Recipients"] == campaign["TotalRecipients"]


def test_a_large_demo_keeps_every_event_and_stays_consistent():
    app = build_app(SandboxConfig(subscribers=2000, events=200_000, random_seed=9))
    assert total_events(app) == 200_000
    check_events_consistent(app)


def test_empty_seed_has_one_client_and_nothing_else(cm_empty_sandbox):
    cm = cm_empty_sandbox
    clients = cm.call("GET", "/clients.json").json()
    assert [c["Name"] for c in clients] == ["Sandbox Client"]
    client_id = clients[0]["ClientID"]
    for path in ("lists", "drafts", "journeys", "tags"):
        assert cm.call("GET", f"/clients/{client_id}/{path}.json").json() == [], path
    assert cm.call("GET", f"/clients/{client_id}/campaigns.json").json()["Results"] == []


def test_sandbox_info_and_clock_endpoints(cm_sandbox):
    cm = cm_sandbox
    info = requests.get(cm.url + "/__sandbox__/info", verify=cm.ca_file).json()
    assert [c["Name"] for c in info["clients"]] == CLIENTS
    assert [lst["Name"] for lst in info["clients"][1]["Lists"]] == LISTS["Northwind Outdoor Co."]
    shifted = requests.post(
        cm.url + "/__sandbox__/clock", json={"shift_seconds": 86400}, verify=cm.ca_file
    ).json()
    now = datetime.strptime(shifted["now"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs(now - (datetime.now(UTC) + timedelta(days=1))) < timedelta(minutes=1)
    assert shifted["offset_seconds"] == 86400
    reset = requests.post(
        cm.url + "/__sandbox__/clock", json={"offset_seconds": 0}, verify=cm.ca_file
    )
    assert reset.json()["offset_seconds"] == 0
    assert requests.get(cm.url + "/__sandbox__/nothing", verify=cm.ca_file).status_code == 404
