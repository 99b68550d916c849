"""Contract tests: the CM client's write endpoints against the sandbox over real HTTPS."""

from __future__ import annotations

import pytest

from sync.clients.campaign_monitor import IMPORT_BATCH_LIMIT, make_subscriber
from sync.clients.errors import NotFound, PermanentError


@pytest.fixture
def client_id(cm) -> str:
    return cm.get_clients()[0]["ClientID"]


@pytest.fixture
def list_id(cm, client_id) -> str:
    return cm.create_list(client_id, "Client contract tests")


def people(count: int, prefix: str = "person"):
    for i in range(count):
        yield make_subscriber(f"{prefix}{i:04d}@example.com", f"P {i}", consent_to_track="Yes")


def test_create_client_and_list(cm):
    new_client = cm.create_client(
        "Acme Pty Ltd", "Australia", "(GMT+10:00) Canberra, Melbourne, Sydney"
    )
    assert len(new_client) == 32
    assert cm.get_client(new_client)["BasicDetails"]["CompanyName"] == "Acme Pty Ltd"
    new_list = cm.create_list(new_client, "Acme news", unsubscribe_setting="OnlyThisList")
    assert cm.get_lists(new_client) == [{"ListID": new_list, "Name": "Acme news"}]
    assert cm.get_list(new_list)["UnsubscribeSetting"] == "OnlyThisList"
    with pytest.raises(PermanentError) as caught:
        cm.create_list(new_client, "Acme news")
    assert caught.value.code == 250


def test_create_custom_field(cm, list_id):
    key = cm.create_custom_field(
        list_id, "Favourite Colour", "MultiSelectOne", options=["Red", "Green"]
    )
    assert key == "[FavouriteColour]"
    field = next(f for f in cm.get_custom_fields(list_id) if f["Key"] == key)
    assert field["DataType"] == "MultiSelectOne"
    assert field["FieldOptions"] == ["Red", "Green"]


def test_subscriber_lifecycle(cm, list_id):
    email = "ada@example.com"
    cm.create_custom_field(list_id, "Phone", "Text")
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

    cm.update_subscriber(
        list_id, email, make_subscriber("ada.l@example.com", "Ada L", consent_to_track="Unchanged")
    )
    assert cm.get_subscriber(list_id, "ada.l@example.com")["Name"] == "Ada L"
    with pytest.raises(NotFound) as caught:
        cm.get_subscriber(list_id, email)
    assert caught.value.code == 203

    cm.unsubscribe(list_id, "ada.l@example.com")
    assert cm.get_subscriber(list_id, "ada.l@example.com")["State"] == "Unsubscribed"
    cm.delete_subscriber(list_id, "ada.l@example.com")
    assert cm.get_subscriber(list_id, "ada.l@example.com")["State"] == "Deleted"
    assert isinstance(cm.get_subscriber_history(list_id, "ada.l@example.com"), list)


def test_add_is_an_upsert(cm, list_id):
    cm.add_subscriber(list_id, make_subscriber("bo@example.com", "Bo", consent_to_track="Yes"))
    cm.add_subscriber(list_id, make_subscriber("bo@example.com", "Bo B", consent_to_track="Yes"))
    active = list(cm.iter_active_subscribers(list_id))
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


def test_import_in_batches_chunks_at_1000(cm, cm_sandbox, list_id):
    cm_sandbox.reset_stats()
    seen: list[int] = []
    total = cm.import_in_batches(
        list_id,
        people(2 * IMPORT_BATCH_LIMIT + 5),
        on_batch=lambda r: seen.append(r.total_new_subscribers),
    )
    assert seen == [1000, 1000, 5]
    assert total.batches == 3
    assert total.total_new_subscribers == 2005
    assert total.ok
    assert cm_sandbox.stats()["subscribers.import"] == 3
    assert cm.get_list_stats(list_id)["TotalActiveSubscribers"] == 2005


def test_import_in_batches_collects_failures_from_every_batch(cm, list_id):
    rows = list(people(12)) + [make_subscriber("broken@", consent_to_track="Yes")]
    rows.insert(3, make_subscriber("also broken", consent_to_track="Yes"))
    total = cm.import_in_batches(list_id, rows, batch_size=10)
    assert total.batches == 2
    assert sorted(total.failed_emails) == ["also broken", "broken@"]
    assert total.total_new_subscribers == 12


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


def test_create_and_send_campaign(cm, cm_sandbox, client_id, list_id):
    cm.import_subscribers(list_id, list(people(4, "reader")))
    campaign_id = cm.create_campaign(
        client_id,
        name="Client contract test",
        subject="Hello",
        from_name="Harbour Lane",
        from_email="news@harbourlane.example",
        reply_to="hello@harbourlane.example",
        html_url="https://www.harbourlane.example/email.html",
        list_ids=[list_id],
    )
    cm.send_campaign(campaign_id, "owner@harbourlane.example")
    sent = {c["CampaignID"]: c for c in cm.iter_sent_campaigns(client_id)}
    assert sent[campaign_id]["TotalRecipients"] == 4
    assert len(list(cm.iter_campaign_recipients(campaign_id))) == 4

    cm_sandbox.reset_stats()
    with pytest.raises(PermanentError) as caught:
        cm.send_campaign(campaign_id, "owner@harbourlane.example")
    assert caught.value.code == 331
    assert cm_sandbox.stats()["campaigns.send"] == 1
