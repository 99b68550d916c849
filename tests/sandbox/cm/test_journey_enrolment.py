"""Journeys in the CM sandbox start when a subscriber joins, as CM's do: an add or a queued
import sends the first email of the list's Active "On Subscription" journeys, seen through the
journey report API with the project's client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest

from lib.cm_time_zones import zone_from_cm
from sync.clients.campaign_monitor import make_subscriber


@pytest.fixture
def coffee(cm) -> dict:
    """The first demo client's journeys: the Active "On Subscription" one and the Paused one."""
    client_id = cm.get_clients()[0]["ClientID"]
    found = {"client_id": client_id, "lists": [item["ListID"] for item in cm.get_lists(client_id)]}
    for journey in cm.get_journeys(client_id):
        summary = cm.get_journey_summary(journey["JourneyID"])
        if (summary["Status"], summary["TriggerType"]) == ("Active", "On Subscription"):
            found["welcome"] = {**journey, "emails": [e["EmailID"] for e in summary["Emails"]]}
        elif summary["Status"] == "Paused":
            found["paused"] = journey
    assert found["welcome"]["ListID"] == found["lists"][0]
    assert found["paused"]["ListID"] == found["lists"][0]  # same list: only its status differs
    return found


def person(email: str, name: str = "Pat") -> dict:
    return make_subscriber(email, name, consent_to_track="Yes")


def recipients(cm, email_id: str) -> list[str]:
    return [row["EmailAddress"] for row in cm.iter_journey_email_report(email_id, "recipients")]


def times_sent(cm, email_id: str, address: str) -> int:
    return recipients(cm, email_id).count(address)


def sent_counts(cm, journey_id: str) -> list[int]:
    return [email["Sent"] for email in cm.get_journey_summary(journey_id)["Emails"]]


def state_of(cm, list_id: str, address: str) -> str:
    return cm.get_subscriber(list_id, address)["State"]


def import_people(cm, list_id: str, addresses: Iterable[str], **flags: bool) -> None:
    result = cm.import_subscribers(list_id, [person(a) for a in addresses], **flags)
    assert not result.failures


def queued_import(cm, list_id: str, addresses: Iterable[str], **flags: bool) -> None:
    import_people(cm, list_id, addresses, queue_subscription_based_autoresponders=True, **flags)


def test_queued_import_sends_the_first_journey_email_to_new_addresses(cm, cm_sandbox, coffee):
    welcome = coffee["welcome"]
    first = welcome["emails"][0]
    before = sent_counts(cm, welcome["JourneyID"])
    start = cm_sandbox.info()["now"]
    new = [f"queued{i}@example.com" for i in range(3)]
    queued_import(cm, welcome["ListID"], new)
    end = cm_sandbox.info()["now"]

    after = sent_counts(cm, welcome["JourneyID"])
    assert after == [before[0] + 3, *before[1:]]  # later emails wait for their day offsets
    report = cm.iter_journey_email_report(first, "recipients")
    rows = [row for row in report if row["EmailAddress"] in new]
    assert sorted(row["EmailAddress"] for row in rows) == new
    zone = zone_from_cm(cm.get_client(coffee["client_id"])["BasicDetails"]["TimeZone"])
    assert all(start <= as_utc(r["SentDate"], zone) <= end for r in rows)


def as_utc(cm_date: str, zone) -> str:
    """A client's wall-clock CM date as the sandbox clock's UTC string."""
    moment = dt.datetime.strptime(cm_date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_import_without_the_queue_flag_starts_no_journey(cm, coffee):
    welcome = coffee["welcome"]
    before = sent_counts(cm, welcome["JourneyID"])
    new = ["quiet0@example.com", "quiet1@example.com"]
    import_people(
        cm,
        welcome["ListID"],
        new,
        queue_subscription_based_autoresponders=False,
        restart_subscription_based_autoresponders=True,
    )
    assert [state_of(cm, welcome["ListID"], a) for a in new] == ["Active", "Active"]
    assert sent_counts(cm, welcome["JourneyID"]) == before
    assert not set(new) & set(recipients(cm, welcome["emails"][0]))


def test_adding_a_new_address_sends_the_first_journey_email(cm, coffee):
    welcome = coffee["welcome"]
    before = sent_counts(cm, welcome["JourneyID"])
    cm.add_subscriber(welcome["ListID"], person("single@example.com"))
    assert sent_counts(cm, welcome["JourneyID"]) == [before[0] + 1, *before[1:]]
    assert times_sent(cm, welcome["emails"][0], "single@example.com") == 1


def resubscribe_by_add(cm, list_id: str, address: str, restart: bool) -> None:
    cm.add_subscriber(
        list_id,
        person(address),
        resubscribe=True,
        restart_subscription_based_autoresponders=restart,
    )


def resubscribe_by_import(cm, list_id: str, address: str, restart: bool) -> None:
    queued_import(
        cm, list_id, [address], resubscribe=True, restart_subscription_based_autoresponders=restart
    )


def leave_by_unsubscribe(cm_sandbox, list_id: str, address: str) -> None:
    body = {"EmailAddress": address}
    assert cm_sandbox.call("POST", f"/subscribers/{list_id}/unsubscribe.json", json=body).ok


def leave_by_delete(cm_sandbox, list_id: str, address: str) -> None:
    params = {"email": address}
    assert cm_sandbox.call("DELETE", f"/subscribers/{list_id}.json", params=params).ok


@pytest.mark.parametrize("resubscribe", [resubscribe_by_add, resubscribe_by_import])
@pytest.mark.parametrize("leave", [leave_by_unsubscribe, leave_by_delete])
def test_a_resubscribe_restarts_journeys_only_when_asked(
    cm, cm_sandbox, coffee, resubscribe, leave
):
    welcome = coffee["welcome"]
    list_id, first, address = welcome["ListID"], welcome["emails"][0], "again@example.com"
    cm.add_subscriber(list_id, person(address))
    assert times_sent(cm, first, address) == 1

    leave(cm_sandbox, list_id, address)
    resubscribe(cm, list_id, address, restart=False)
    assert state_of(cm, list_id, address) == "Active"
    assert times_sent(cm, first, address) == 1

    leave(cm_sandbox, list_id, address)
    resubscribe(cm, list_id, address, restart=True)
    assert state_of(cm, list_id, address) == "Active"
    assert times_sent(cm, first, address) == 2


def test_a_restart_without_the_queue_flag_starts_nothing_on_import(cm, coffee):
    welcome = coffee["welcome"]
    list_id, first, address = welcome["ListID"], welcome["emails"][0], "restart@example.com"
    cm.add_subscriber(list_id, person(address))
    cm.unsubscribe(list_id, address)
    import_people(
        cm,
        list_id,
        [address],
        resubscribe=True,
        queue_subscription_based_autoresponders=False,
        restart_subscription_based_autoresponders=True,
    )
    assert state_of(cm, list_id, address) == "Active"
    assert times_sent(cm, first, address) == 1


def test_updating_an_active_subscriber_never_restarts_journeys(cm, coffee):
    welcome = coffee["welcome"]
    list_id, first, address = welcome["ListID"], welcome["emails"][0], "update@example.com"
    cm.add_subscriber(list_id, person(address))
    cm.add_subscriber(
        list_id, person(address, "Renamed"), restart_subscription_based_autoresponders=True
    )
    queued_import(cm, list_id, [address], restart_subscription_based_autoresponders=True)
    assert cm.get_subscriber(list_id, address)["Name"] == "Pat"
    assert times_sent(cm, first, address) == 1


def test_an_unconfirmed_subscriber_starts_no_journey(cm, cm_sandbox, coffee):
    welcome = coffee["welcome"]
    list_id, first = welcome["ListID"], welcome["emails"][0]
    details = cm.get_list(list_id)
    response = cm_sandbox.call(
        "PUT",
        f"/lists/{list_id}.json",
        json={
            "Title": details["Title"],
            "UnsubscribeSetting": details["UnsubscribeSetting"],
            "ConfirmedOptIn": True,
        },
    )
    assert response.status_code == 200, response.text
    cm.add_subscriber(list_id, person("pending@example.com"))
    queued_import(cm, list_id, ["pending2@example.com"])
    assert state_of(cm, list_id, "pending@example.com") == "Unconfirmed"
    assert state_of(cm, list_id, "pending2@example.com") == "Unconfirmed"
    assert not {"pending@example.com", "pending2@example.com"} & set(recipients(cm, first))


def test_the_paused_journey_never_gains_recipients(cm, coffee):
    welcome, paused = coffee["welcome"], coffee["paused"]
    list_id, address = welcome["ListID"], "paused@example.com"
    before = sent_counts(cm, paused["JourneyID"])
    cm.add_subscriber(list_id, person(address))
    cm.unsubscribe(list_id, address)
    resubscribe_by_add(cm, list_id, address, restart=True)
    queued_import(
        cm, list_id, ["paused2@example.com"], restart_subscription_based_autoresponders=True
    )
    assert times_sent(cm, welcome["emails"][0], address) == 2  # the Active journey did start
    assert sent_counts(cm, paused["JourneyID"]) == before


def test_a_paused_on_subscription_journey_starts_nobody(cm, cm_sandbox, coffee):
    welcome = coffee["welcome"]
    with cm_sandbox.app.state.lock:
        journey = next(
            j
            for client in cm_sandbox.app.state.clients.values()
            for j in client.journeys
            if j.journey_id == welcome["JourneyID"]
        )
        journey.status = "Paused"
    before = sent_counts(cm, welcome["JourneyID"])
    cm.add_subscriber(welcome["ListID"], person("held@example.com"))
    queued_import(cm, welcome["ListID"], ["held2@example.com"])
    assert sent_counts(cm, welcome["JourneyID"]) == before


def test_adding_to_another_list_starts_no_journey(cm, coffee):
    welcome = coffee["welcome"]
    other = coffee["lists"][1]
    before = sent_counts(cm, welcome["JourneyID"])
    cm.add_subscriber(other, person("elsewhere@example.com"))
    queued_import(cm, other, ["elsewhere2@example.com"])
    assert state_of(cm, other, "elsewhere@example.com") == "Active"
    assert sent_counts(cm, welcome["JourneyID"]) == before
