"""Contract tests: the CM client's write endpoints against the sandbox over real HTTPS."""

from __future__ import annotations

import pytest

from sync.clients.campaign_monitor import IMPORT_BATCH_LIMIT, make_subscriber
from sync.clients.errors import NotFound, PermanentError
from tests.conftest import create_custom_field, create_list


@pytest.fixture
def client_id(cm) -> str:
    return cm.get_clients()[0]["ClientID"]


@pytest.fixture
def list_id(cm_sandbox, client_id) -> str:
    return create_list(cm_sandbox, client_id, "Client contract tests")


def people(count: int, prefix: str = "person"):
    for i in range(count):
        yield make_subscriber(f"{prefix}{i:04d}@example.com", f"P {i}", consent_to_track="Yes")


def test_subscriber_lifecycle(cm, cm_sandbox, list_id):
    email = "ada@example.com"
    create_custom_field(cm_sandbox, list_id, "Phone", "Text")
    returned = cm.add_subscriber(
        list_id,
        make_subscriber(
            email, "Ada", consent_to_track="Yes", custom_fields={"Phone": "0400 000 000"}
        ),
    )
    assert returned == email
    subscriber = cm.get_subscriber(list_id, email)
    assert subscriber["Name"] == "Ada"
    assert subscriber["State"] == "Active"
    assert {"Key": "Phone", "Value": "0400 000 000"} in subscriber["CustomFields"]

    with pytest.raises(NotFound) as caught:
        cm.get_subscriber(list_id, "somebody.else@example.com")
    assert caught.value.code == 203

    cm.unsubscribe(list_id, email)
    assert cm.get_subscriber(list_id, email)["State"] == "Unsubscribed"
    assert isinstance(cm.get_subscriber_history(list_id, email), list)


def test_add_is_an_upsert(cm, list_id):
    cm.add_subscriber(list_id, make_subscriber("bo@example.com", "Bo", consent_to_track="Yes"))
    cm.add_subscriber(list_id, make_subscriber("bo@example.com", "Bo B", consent_to_track="Yes"))
    active = list(cm.iter_subscribers(list_id, "active"))
    assert [(s["EmailAddress"], s["Name"]) for s in active] == [("bo@example.com", "Bo B")]


def test_import_full_success(cm, list_id):
    result = cm.import_subscribers(list_id, list(people(3)))
    assert result.ok
    assert (result.total_unique_emails_submitted, result.total_new_subscribers) == (3, 3)
    again = cm.import_subscribers(list_id, list(people(3)))
    assert (again.total_existing_subscribers, again.total_new_subscribers) == (3, 0)


def test_import_partial_failure_returns_per_address_results(cm, list_id):
    rows = list(people(2)) + [make_subscriber("example+1@example", consent_to_track="Yes")]
    result = cm.import_subscribers(list_id, rows)  # CM answers 400 / Code 210: not an exception
    assert not result.ok
    assert result.total_new_subscribers == 2
    assert result.failed_emails == ["example+1@example"]
    assert result.failures[0].code == 1
    assert result.failures[0].message == "Invalid Email Address"


def test_import_limit_is_enforced_by_the_client(cm, cm_sandbox, list_id):
    cm_sandbox.reset_stats()
    with pytest.raises(ValueError):
        cm.import_subscribers(list_id, list(people(IMPORT_BATCH_LIMIT + 1)))
    assert cm_sandbox.stats().get("subscribers.import", 0) == 0


def test_suppression_list_suppress_and_unsuppress(cm, client_id):
    emails = [f"stop{i:02d}@example.com" for i in range(15)]
    cm.suppress(client_id, emails)
    cm.suppress(client_id, emails[:1])  # repeating is harmless
    suppressed = [s["EmailAddress"] for s in cm.iter_suppression_list(client_id, pagesize=10)]
    assert set(emails) <= set(suppressed)
    cm.unsuppress(client_id, emails[0])
    remaining = {s["EmailAddress"] for s in cm.iter_suppression_list(client_id)}
    assert emails[0] not in remaining
    assert emails[1] in remaining
    with pytest.raises(PermanentError) as caught:
        cm.unsuppress(client_id, emails[0])
    assert caught.value.code == 176


def test_webhooks_create_list_delete(cm, list_id):
    hook_id = cm.create_webhook(
        list_id, ["Subscribe", "Deactivate"], "https://127.0.0.1:9/hooks/cm"
    )
    hooks = cm.get_webhooks(list_id)
    assert [h["WebhookID"] for h in hooks] == [hook_id]
    assert hooks[0]["Events"] == ["Subscribe", "Deactivate"]
    assert hooks[0]["PayloadFormat"] == "Json"
    cm.delete_webhook(list_id, hook_id)
    assert cm.get_webhooks(list_id) == []
    with pytest.raises(PermanentError) as caught:
        cm.create_webhook(list_id, ["Explode"], "https://127.0.0.1:9/hooks/cm")
    assert caught.value.code == 603
