"""Contract test: ``get_lists_for_email`` against the CM sandbox over real HTTPS."""

from __future__ import annotations

import pytest

from sync.clients.campaign_monitor import make_subscriber
from sync.clients.errors import NotFound, PermanentError

LISTS_FOR_EMAIL_KEYS = {"ListID", "ListName", "SubscriberState", "DateSubscriberAdded"}


@pytest.fixture
def coffee(cm) -> dict:
    client = cm.get_clients()[0]
    return {"client_id": client["ClientID"], "lists": cm.get_lists(client["ClientID"])}


def test_lists_for_email_names_each_list_with_state_and_date(cm, cm_sandbox, coffee):
    newsletter, wholesale = coffee["lists"][0], coffee["lists"][1]
    email = "lists-for-email@example.com"
    cm.add_subscriber(newsletter["ListID"], make_subscriber(email, consent_to_track="Yes"))
    cm.add_subscriber(wholesale["ListID"], make_subscriber(email, consent_to_track="Yes"))
    cm.unsubscribe(wholesale["ListID"], email)
    cm_sandbox.reset_stats()

    found = cm.get_lists_for_email(coffee["client_id"], email)

    assert cm_sandbox.stats() == {"clients.listsforemail": 1}
    assert all(set(item) == LISTS_FOR_EMAIL_KEYS for item in found)
    states = {item["ListName"]: item["SubscriberState"] for item in found}
    assert states == {"Coffee Club Newsletter": "Active", "Wholesale Customers": "Unsubscribed"}
    assert {item["ListID"] for item in found} == {newsletter["ListID"], wholesale["ListID"]}
    assert len(found[0]["DateSubscriberAdded"]) == len("2012-08-20 22:32:00")


def test_lists_for_email_is_empty_for_an_address_on_no_list(cm, coffee):
    assert cm.get_lists_for_email(coffee["client_id"], "nobody-here@example.com") == []


def test_lists_for_email_refuses_a_malformed_address(cm, coffee):
    with pytest.raises(PermanentError) as refused:
        cm.get_lists_for_email(coffee["client_id"], "not-an-address")
    assert refused.value.code == 1
    assert refused.value.endpoint == "clients.listsforemail"


def test_lists_for_email_of_an_unknown_client_is_not_found(cm):
    with pytest.raises(NotFound):
        cm.get_lists_for_email("0" * 32, "someone@example.com")
