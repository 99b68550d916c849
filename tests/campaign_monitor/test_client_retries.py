"""Contract tests: retries, back-off, timeouts and call counting against injected sandbox faults.

Sleeps are recorded instead of slept, so the suite does not wait; the recorded delays show the
back-off the client would have used.
"""

from __future__ import annotations

import pytest
import requests

from sync.clients.campaign_monitor import CampaignMonitorClient, make_subscriber
from sync.clients.counting import CallCounter
from sync.clients.errors import PermanentError, RateLimited, TransientError


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(sandbox, sleeps: Sleeps | None = None, **options) -> CampaignMonitorClient:
    defaults = {
        "base_url": sandbox.api_base,
        "ca_bundle": sandbox.ca_file,
        "backoff_base": 0.01,
        "backoff_cap": 30.0,
        "sleep": sleeps if sleeps is not None else Sleeps(),
    }
    return CampaignMonitorClient(api_key=sandbox.api_key, **{**defaults, **options})


def put_faults(sandbox, payload: dict) -> None:
    """``PUT /__sandbox__/faults`` with the full JSON form (slow_seconds, retry_after)."""
    answer = requests.put(
        f"{sandbox.url}/__sandbox__/faults", json=payload, verify=sandbox.ca_file, timeout=10
    )
    answer.raise_for_status()


@pytest.fixture
def setup(cm_sandbox):
    """The first demo client's id and list, looked up before any fault is armed."""
    probe = make_client(cm_sandbox)
    client_id = probe.get_clients()[0]["ClientID"]
    list_id = probe.get_lists(client_id)[0]["ListID"]
    cm_sandbox.reset_stats()
    return {"client_id": client_id, "list_id": list_id}


@pytest.mark.parametrize("kind", ["500", "503", "drop"])
def test_server_errors_and_dropped_connections_are_retried(cm_sandbox, setup, kind):
    cm_sandbox.set_faults(f"{kind}:x2@lists.details")
    sleeps = Sleeps()
    client = make_client(cm_sandbox, sleeps)

    details = client.get_list(setup["list_id"])

    assert details["ListID"] == setup["list_id"]
    assert cm_sandbox.stats() == {"lists.details": 3}
    assert client.calls.by_endpoint() == {"lists.details": 3}
    assert len(sleeps) == 2
    assert all(0 <= delay <= 0.01 * 2 ** (i) for i, delay in enumerate(sleeps))


def test_429_honours_retry_after(cm_sandbox, setup):
    cm_sandbox.set_faults("429:x1@lists.active", retry_after=3)
    sleeps = Sleeps()
    client = make_client(cm_sandbox, sleeps)

    subscribers = list(client.iter_subscribers(setup["list_id"], "active"))

    assert subscribers
    assert sleeps == [3.0]
    assert cm_sandbox.stats() == {"lists.active": 2}


def test_retry_after_is_capped(cm_sandbox, setup):
    cm_sandbox.set_faults("429:x1@lists.stats", retry_after=600)
    sleeps = Sleeps()
    client = make_client(cm_sandbox, sleeps, backoff_cap=5.0)
    client.get_list_stats(setup["list_id"])
    assert sleeps == [5.0]


def test_slow_answer_times_out_and_is_retried(cm_sandbox, setup):
    put_faults(cm_sandbox, {"spec": "slow:x1@clients.tags", "slow_seconds": 2.0})
    sleeps = Sleeps()
    client = make_client(cm_sandbox, sleeps, timeout=(5.0, 0.5))

    tags = client.get_tags(setup["client_id"])

    assert tags
    # The slow attempt timed out and was repeated (a loaded machine may need one more).
    assert cm_sandbox.stats()["clients.tags"] >= 2
    assert client.calls.by_endpoint() == cm_sandbox.stats()
    assert len(sleeps) == cm_sandbox.stats()["clients.tags"] - 1


def test_fault_midway_through_paging_is_retried_without_losing_rows(cm_sandbox, setup):
    client = make_client(cm_sandbox)
    expected = [s["EmailAddress"] for s in client.iter_subscribers(setup["list_id"], "active")]
    assert len(expected) > 10
    cm_sandbox.reset_stats()
    walk = client.iter_subscribers(setup["list_id"], "active", pagesize=10)
    first = next(walk)
    cm_sandbox.set_faults("503:x1@lists.active,drop:x1@lists.active")
    rows = [first["EmailAddress"]] + [s["EmailAddress"] for s in walk]
    assert rows == expected
    pages = -(-len(expected) // 10)
    assert cm_sandbox.stats() == {"lists.active": pages + 2}


def test_permanent_4xx_is_not_retried(cm_sandbox, setup):
    sleeps = Sleeps()
    client = make_client(cm_sandbox, sleeps)
    with pytest.raises(PermanentError) as caught:
        client.unsuppress(setup["client_id"], "never-suppressed@example.com")
    assert (caught.value.code, caught.value.status) == (176, 400)
    assert caught.value.endpoint == "clients.unsuppress"
    assert cm_sandbox.stats() == {"clients.unsuppress": 1}
    assert sleeps == []


def test_bad_order_field_is_a_permanent_error_after_one_call(cm_sandbox, setup):
    client = make_client(cm_sandbox)
    with pytest.raises(PermanentError) as caught:
        list(client.iter_subscribers(setup["list_id"], "active", order_field="shoe-size"))
    assert caught.value.code == 802
    assert cm_sandbox.stats() == {"lists.active": 1}


def test_exhausted_retries_raise_transient_error(cm_sandbox, setup):
    cm_sandbox.set_faults("503:x10@lists.details")
    client = make_client(cm_sandbox, max_retries=2)
    with pytest.raises(TransientError) as caught:
        client.get_list(setup["list_id"])
    assert not isinstance(caught.value, RateLimited)
    assert (caught.value.code, caught.value.status) == (503, 503)
    assert cm_sandbox.stats() == {"lists.details": 3}


def test_exhausted_retries_on_dropped_connections_raise_transient_error(cm_sandbox, setup):
    cm_sandbox.set_faults("drop:x10@lists.details")
    client = make_client(cm_sandbox, max_retries=3)
    with pytest.raises(TransientError) as caught:
        client.get_list(setup["list_id"])
    assert caught.value.status is None
    assert client.calls.by_endpoint() == {"lists.details": 4}
    assert cm_sandbox.stats() == {"lists.details": 4}


def test_exhausted_429_raises_rate_limited_with_retry_after(cm_sandbox, setup):
    cm_sandbox.set_faults("429:x10@subscribers.add", retry_after=2)
    client = make_client(cm_sandbox, max_retries=1)
    with pytest.raises(RateLimited) as caught:
        client.add_subscriber(
            setup["list_id"], make_subscriber("busy@example.com", consent_to_track="Yes")
        )
    assert caught.value.retry_after == 2.0
    assert caught.value.code == 429
    assert cm_sandbox.stats() == {"subscribers.add": 2}


def test_upserts_are_retried_after_a_drop(cm_sandbox, setup):
    cm_sandbox.set_faults("drop:x1@subscribers.import")
    client = make_client(cm_sandbox)
    rows = [make_subscriber(f"retry{i}@example.com", consent_to_track="Yes") for i in range(3)]
    result = client.import_subscribers(setup["list_id"], rows)
    assert result.ok
    assert cm_sandbox.stats() == {"subscribers.import": 2}


HOOK_URL = "https://127.0.0.1:9/hooks/cm"


def test_creates_are_not_repeated_after_an_ambiguous_drop(cm_sandbox, setup):
    cm_sandbox.set_faults("drop:x1@lists.webhooks.create")
    client = make_client(cm_sandbox)
    with pytest.raises(TransientError) as caught:
        client.create_webhook(setup["list_id"], ["Subscribe"], HOOK_URL)
    assert "outcome unknown" in str(caught.value)
    assert cm_sandbox.stats() == {"lists.webhooks.create": 1}


def test_creates_are_not_repeated_after_a_500(cm_sandbox, setup):
    cm_sandbox.set_faults("500:x1@lists.webhooks.create")
    client = make_client(cm_sandbox)
    with pytest.raises(TransientError) as caught:
        client.create_webhook(setup["list_id"], ["Subscribe"], HOOK_URL)
    assert caught.value.status == 500
    assert "outcome unknown" in str(caught.value)
    assert cm_sandbox.stats() == {"lists.webhooks.create": 1}


def test_creates_are_retried_when_cm_surely_did_nothing(cm_sandbox, setup):
    cm_sandbox.set_faults("503:x1@lists.webhooks.create,429:x1@lists.webhooks.create")
    client = make_client(cm_sandbox, backoff_cap=0.05)
    hook_id = client.create_webhook(setup["list_id"], ["Subscribe"], HOOK_URL)
    assert [h["WebhookID"] for h in client.get_webhooks(setup["list_id"])] == [hook_id]
    assert cm_sandbox.stats()["lists.webhooks.create"] == 3


def test_call_counts_match_the_sandbox_per_endpoint(cm_sandbox, setup):
    shared = CallCounter()
    cm_sandbox.set_faults("503:x1@lists.active,500:x2@clients.*,drop:x1@campaigns.opens")
    client = make_client(cm_sandbox, calls=shared)
    other = make_client(cm_sandbox, calls=shared)

    client.get_clients()
    client.get_lists(setup["client_id"])
    list(client.iter_subscribers(setup["list_id"], "active", pagesize=10))
    campaign = next(other.iter_sent_campaigns(setup["client_id"]))
    list(other.iter_campaign_events(campaign["CampaignID"], "opens", pagesize=10))
    with pytest.raises(PermanentError):
        other.unsuppress(setup["client_id"], "nobody@example.com")

    sandbox_counts = cm_sandbox.stats()
    assert shared.by_endpoint() == sandbox_counts
    assert shared.total == sum(sandbox_counts.values())
    assert sandbox_counts["clients.lists"] == 3  # two 500s, then success
    assert client.calls is other.calls is shared
