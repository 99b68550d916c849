"""Injected faults in the CM sandbox answer in CM's shape; call counts are kept per route name."""

from __future__ import annotations

import pytest
import requests


def put_faults(cm, payload: dict) -> requests.Response:
    return requests.put(cm.url + "/__sandbox__/faults", json=payload, verify=cm.ca_file)


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("500", 500, {"Code": 500, "Message": "Internal Server Error"}),
        ("503", 503, {"Code": 503, "Message": "Service Unavailable"}),
        ("429", 429, {"Code": 429, "Message": "Rate limit exceeded"}),
    ],
)
def test_status_faults_answer_in_cms_shape_then_clear(cm_sandbox, kind, status, body):
    cm_sandbox.set_faults(f"{kind}:x1@account.clients")
    faulted = cm_sandbox.call("GET", "/clients.json")
    assert (faulted.status_code, faulted.json()) == (status, body)
    assert cm_sandbox.call("GET", "/clients.json").status_code == 200


def test_429_carries_the_configured_retry_after(cm_sandbox):
    assert put_faults(cm_sandbox, {"spec": "429:x2", "retry_after": 7}).status_code == 200
    response = cm_sandbox.call("GET", "/clients.json")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    cm_sandbox.set_faults("429:x1")
    assert cm_sandbox.call("GET", "/clients.json").headers["Retry-After"] == "1"


def test_drop_closes_the_connection_without_an_answer(cm_sandbox):
    cm_sandbox.set_faults("drop:x1@account.clients")
    with pytest.raises(requests.ConnectionError):
        cm_sandbox.call("GET", "/clients.json")
    assert cm_sandbox.call("GET", "/clients.json").status_code == 200


def test_slow_delays_the_answer(cm_sandbox):
    assert put_faults(cm_sandbox, {"spec": "slow:x1", "slow_seconds": 1.0}).status_code == 200
    with pytest.raises(requests.ReadTimeout):
        cm_sandbox.call("GET", "/clients.json", timeout=0.2)
    assert cm_sandbox.call("GET", "/clients.json").status_code == 200


def test_rules_target_route_names_by_glob_and_count_down(cm_sandbox):
    cm = cm_sandbox
    client_id = cm.call("GET", "/clients.json").json()[0]["ClientID"]
    list_id = cm.call("GET", f"/clients/{client_id}/lists.json").json()[0]["ListID"]
    cm.set_faults("503:x2@lists.*")
    assert cm.call("GET", f"/clients/{client_id}/lists.json").status_code == 200
    assert cm.call("GET", f"/lists/{list_id}.json").status_code == 503
    assert cm.call("GET", f"/lists/{list_id}/active.json").status_code == 503
    assert cm.call("GET", f"/lists/{list_id}/active.json").status_code == 200


def test_faults_can_target_a_path_glob(cm_sandbox):
    cm_sandbox.set_faults("500:x1@/api/v3.3/clients.json")
    assert cm_sandbox.call("GET", "/clients.json").status_code == 500


def test_faults_come_before_auth(cm_sandbox):
    cm_sandbox.set_faults("503:x1")
    assert cm_sandbox.call("GET", "/clients.json", auth=None).status_code == 503
    assert cm_sandbox.call("GET", "/clients.json", auth=None).status_code == 401


def test_faults_from_the_config_apply_from_the_start(make_cm_sandbox):
    cm = make_cm_sandbox(seed="empty", faults="500:x1@account.clients")
    assert cm.call("GET", "/clients.json").status_code == 500
    assert cm.call("GET", "/clients.json").status_code == 200


def test_stats_count_calls_per_route_name_and_reset(cm_sandbox):
    cm = cm_sandbox
    cm.reset_stats()
    client_id = cm.call("GET", "/clients.json").json()[0]["ClientID"]
    list_id = cm.call("GET", f"/clients/{client_id}/lists.json").json()[0]["ListID"]
    for state in ("active", "bounced", "active"):
        cm.call("GET", f"/lists/{list_id}/{state}.json")
    cm.call("GET", "/clients.json", auth=None)  # refused calls count too
    assert cm.stats() == {
        "account.clients": 2,
        "clients.lists": 1,
        "lists.active": 2,
        "lists.bounced": 1,
    }
    cm.reset_stats()
    assert cm.stats() == {}
