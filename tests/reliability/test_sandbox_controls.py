"""The sandbox controls the reliability suite relies on: timeouts after the work, stable
validation-rule rejections, and held calls."""

from __future__ import annotations

import threading

import pytest
import requests

from sandbox.core.faults import FaultInjector, FaultSpecError, parse_fault_spec


def _upsert(sf, key: str, name: str = "x") -> requests.Response:
    with sf.session() as session:
        return session.patch(
            f"{sf.url}/services/data/v59.0/sobjects/CMS_Client__c/CM_Key__c/{key}",
            json={"Name": name},
            headers={"Authorization": f"Bearer {sf.issue_token()[0]}"},
            timeout=5,
        )


def test_timeout_does_the_work_but_never_answers(sf_org):
    sf_org.set_faults("timeout:x1@sobjects.upsert", timeout_seconds=0.3)
    with pytest.raises(requests.ConnectionError):
        _upsert(sf_org, "k1")
    assert [r["CM_Key__c"] for r in sf_org.app.records("CMS_Client__c")] == ["k1"]
    assert _upsert(sf_org, "k1").status_code == 200  # the retry finds it


def test_a_timeout_longer_than_the_read_timeout_is_a_read_timeout(cm_sandbox):
    cm_sandbox._control("PUT", "faults", {"spec": "timeout:x1", "timeout_seconds": 1.0})
    with pytest.raises(requests.ReadTimeout):
        cm_sandbox.call("GET", "/clients.json", timeout=0.3)


def test_invalid_refuses_the_same_records_every_time():
    injector = FaultInjector("invalid:0.3", random_seed=4)
    keys = [f"key-{n}" for n in range(400)]
    first = {k for k in keys if injector.refuses("composite.sobjects.upsert", "/x", k)}
    again = {k for k in keys if injector.refuses("bulk2.ingest.process", "/y", k)}
    assert first == again
    assert 80 < len(first) < 160
    assert not injector.refuses("composite.sobjects.upsert", "/x", None)
    assert injector.pick("composite.sobjects.upsert", "/x") is None  # never a per-call fault


def test_invalid_takes_a_rate_only():
    with pytest.raises(FaultSpecError, match="invalid takes a rate"):
        parse_fault_spec("invalid:x2")


def test_invalid_rule_refuses_collection_rows_by_external_id(sf_org):
    sf_org.set_faults("invalid:0.5")
    refused = {n for n in range(20) if _upsert(sf_org, f"c{n}").status_code == 400}
    again = {n for n in range(20) if _upsert(sf_org, f"c{n}").status_code == 400}
    assert refused == again and 0 < len(refused) < 20


@pytest.mark.parametrize(("when", "landed_while_held"), [("before", False), ("after", True)])
def test_a_held_call_waits_for_release(sf_org, when, landed_while_held):
    app = sf_org.app
    app.holds.arm("sobjects.upsert", nth=2, when=when)
    assert _upsert(sf_org, "first").status_code in (200, 201)
    answers: list[int] = []
    caller = threading.Thread(target=lambda: answers.append(_upsert(sf_org, "second")))
    caller.start()
    assert app.holds.wait_reached(10)
    keys = {r["CM_Key__c"] for r in app.records("CMS_Client__c")}
    assert ("second" in keys) is landed_while_held
    assert not answers
    app.holds.release()
    caller.join(10)
    assert answers[0].status_code in (200, 201)
    assert app.holds.status()["armed"] is False


def test_holds_over_http(cm_sandbox):
    control = cm_sandbox._control
    status = control("PUT", "holds", {"endpoint": "account.clients", "nth": 1, "when": "before"})
    assert status == {
        "armed": True,
        "endpoint": "account.clients",
        "nth": 1,
        "when": "before",
        "seen": 0,
        "reached": False,
    }
    caller = threading.Thread(target=lambda: cm_sandbox.call("GET", "/clients.json"))
    caller.start()
    assert cm_sandbox.app.holds.wait_reached(10)
    assert control("GET", "holds")["reached"] is True
    assert control("DELETE", "holds")["armed"] is False
    caller.join(10)
    with pytest.raises(Exception, match="400"):
        control("PUT", "holds", {"endpoint": "x", "when": "later"})
