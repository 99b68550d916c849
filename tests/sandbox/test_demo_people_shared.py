"""The two sandboxes' demos, built from one config, hold the same people (as real orgs do)."""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox.cm import build_app as build_cm_app
from sandbox.cm.seed import demo_people
from sandbox.config import SandboxConfig


def cm_active_emails(cm_sandbox) -> set[str]:
    """Every address with an Active subscription to some demo list, over the CM API."""
    emails: set[str] = set()
    for client in cm_sandbox.call("GET", "/clients.json").json():
        for lst in cm_sandbox.call("GET", f"/clients/{client['ClientID']}/lists.json").json():
            page = cm_sandbox.call(
                "GET", f"/lists/{lst['ListID']}/active.json", params={"pagesize": 1000}
            ).json()
            assert page["NumberOfPages"] <= 1
            emails.update(row["EmailAddress"].lower() for row in page["Results"])
    return emails


def sf_emails(sf_sandbox, sobject: str) -> list[dict]:
    sf = sf_sandbox.salesforce()
    return sf.query_all(f"SELECT Email, LastModifiedDate FROM {sobject}")["records"]


def cm_people_by_email(app) -> dict[str, str]:
    return {
        member.email: member.name
        for lst in app.state.lists.values()
        for member in lst.members.values()
    }


def test_both_fixtures_are_built_from_the_same_people(cm_sandbox, sf_sandbox):
    assert cm_sandbox.config.subscribers == sf_sandbox.config.subscribers
    assert cm_sandbox.config.random_seed == sf_sandbox.config.random_seed


def test_about_40_percent_of_active_cm_subscribers_are_sf_contacts(cm_sandbox, sf_sandbox):
    active = cm_active_emails(cm_sandbox)
    contacts = {r["Email"].lower() for r in sf_emails(sf_sandbox, "Contact")}
    leads = {r["Email"].lower() for r in sf_emails(sf_sandbox, "Lead")}

    assert len(active) > cm_sandbox.config.subscribers / 2
    assert 0.3 <= len(active & contacts) / len(active) <= 0.5
    assert 0.05 <= len(active & leads) / len(active) <= 0.25
    assert not contacts & leads  # a shared person is either a Contact or a Lead


def test_the_other_sf_people_keep_addresses_of_their_own(cm_sandbox, sf_sandbox):
    cm_emails = {email.lower() for email in cm_people_by_email(cm_sandbox.app)}
    sf_people = {
        r["Email"].lower()
        for sobject in ("Contact", "Lead")
        for r in sf_emails(sf_sandbox, sobject)
    }

    own = sf_people - cm_emails
    assert len(sf_people) == sf_sandbox.config.subscribers
    assert 0.35 <= len(own) / len(sf_people) <= 0.55
    assert 0.35 <= len(cm_emails - sf_people) / len(cm_emails) <= 0.55  # not in Salesforce


def test_some_shared_address_is_two_contacts_modified_at_different_times(cm_sandbox, sf_sandbox):
    cm_emails = {email.lower() for email in cm_people_by_email(cm_sandbox.app)}
    contacts = sf_emails(sf_sandbox, "Contact")
    twice = [
        email
        for email, count in Counter(r["Email"].lower() for r in contacts).items()
        if count == 2 and email in cm_emails
    ]

    assert twice
    for email in twice:
        stamps = {r["LastModifiedDate"] for r in contacts if r["Email"].lower() == email}
        assert len(stamps) == 2, email


def test_cm_demo_subscribers_are_the_demo_people(cm_sandbox):
    config = cm_sandbox.config
    people = demo_people(config.subscribers, config.random_seed)

    assert cm_people_by_email(cm_sandbox.app) == {p.email.lower(): p.name for p in people}


def test_demo_people_depend_only_on_count_and_seed():
    people = demo_people(50, 7)

    assert people == demo_people(50, 7)
    assert people == demo_people(80, 7)[:50]
    assert [p.email for p in people] != [p.email for p in demo_people(50, 8)]
    assert len({p.email for p in people}) == 50
    assert demo_people(0, 7) == []


@pytest.mark.slow
def test_a_million_event_demo_still_builds_with_the_same_people():
    busy = build_cm_app(SandboxConfig(subscribers=200, events=1_000_000, random_seed=1))
    quiet = build_cm_app(SandboxConfig(subscribers=200, events=0, random_seed=1))

    events = sum(len(cols) for c in busy.state.campaigns.values() for cols in c.events.values())
    assert events == 1_000_000
    assert cm_people_by_email(busy) == cm_people_by_email(quiet)
    assert set(cm_people_by_email(busy)) == {p.email for p in demo_people(200, 1)}


def test_a_persisted_demo_keeps_its_dates_across_restarts():
    """The same seed epoch gives the same CM history (no shifted copies after a restart)."""
    from sandbox.cm import build_app
    from sandbox.config import SandboxConfig

    def campaign_dates(app):
        return sorted(
            (c.name, c.sent_minute) for c in app.state.campaigns.values() if c.sent_minute
        )

    config = SandboxConfig(
        seed="demo", subscribers=30, events=100, random_seed=3, seed_epoch_minute=29_000_000
    )
    first, second = build_app(config), build_app(config)
    try:
        assert campaign_dates(first) == campaign_dates(second)
        assert all(minute <= 29_000_000 for _, minute in campaign_dates(first))
    finally:
        first.close()
        second.close()
