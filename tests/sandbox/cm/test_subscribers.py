"""Subscribers in the CM sandbox: add / update / import / unsubscribe / delete, the E.164 rule,
resubscribing, suppression, and list webhooks delivered to a local receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def client_id(cm) -> str:
    return cm.call("GET", "/clients.json").json()[0]["ClientID"]


def new_list(cm, title: str = "Newsletter", **extra) -> str:
    response = cm.call("POST", f"/lists/{client_id(cm)}.json", json={"Title": title, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def person(email: str, **extra) -> dict:
    return {"EmailAddress": email, "Name": "Pat", "ConsentToTrack": "Yes", **extra}


def add(cm, list_id: str, body: dict):
    return cm.call("POST", f"/subscribers/{list_id}.json", json=body)


def get(cm, list_id: str, email: str, **params) -> dict:
    response = cm.call("GET", f"/subscribers/{list_id}.json", params={"email": email, **params})
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response) -> tuple[int, int]:
    return response.status_code, response.json()["Code"]


@pytest.fixture
def cm(cm_empty_sandbox):
    return cm_empty_sandbox


@pytest.fixture
def list_id(cm) -> str:
    return new_list(cm)


# --- add and get ----------------------------------------------------------------------------------


def test_add_answers_201_with_the_address_as_a_json_string(cm, list_id):
    response = add(cm, list_id, person("new@example.com"))
    assert response.status_code == 201
    assert response.json() == "new@example.com"
    record = get(cm, list_id, "NEW@example.com")
    assert (record["EmailAddress"], record["State"], record["Name"]) == (
        "new@example.com",
        "Active",
        "Pat",
    )
    assert record["Date"] == record["ListJoinedDate"]


def test_add_is_an_upsert_that_leaves_unsent_values_alone(cm, list_id):
    add(cm, list_id, person("a@example.com", MobileNumber="+447700900123"))
    add(cm, list_id, {"EmailAddress": "a@example.com", "Name": "Renamed", "ConsentToTrack": "No"})
    record = get(cm, list_id, "a@example.com", includetrackingpreference="true")
    assert (record["Name"], record["ConsentToTrack"]) == ("Renamed", "No")
    assert record["MobileNumber"] == "+447700900123"
    add(cm, list_id, person("a@example.com", MobileNumber=""))
    assert "MobileNumber" not in get(cm, list_id, "a@example.com")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"EmailAddress": "a@example.com", "Name": "A"}, 214),
        ({"EmailAddress": "a@example.com", "ConsentToTrack": "Maybe"}, 215),
        ({"EmailAddress": "not-an-address", "ConsentToTrack": "Yes"}, 1),
        ({"EmailAddress": "a@example", "ConsentToTrack": "Yes"}, 1),
        ({"EmailAddress": "a@example.com", "ConsentToTrack": "Yes", "MobileNumber": "x"}, 220),
        ({"EmailAddress": "bad", "ConsentToTrack": "Yes", "MobileNumber": "0412 345 678"}, 221),
    ],
)
def test_add_validates_like_cm(cm, list_id, body, code):
    assert error_of(add(cm, list_id, body)) == (400, code)
    assert cm.call("GET", f"/lists/{list_id}/active.json").json()["TotalNumberOfRecords"] == 0


@pytest.mark.parametrize(
    ("mobile", "valid"),
    [
        ("+61491570156", True),
        ("+14155550123", True),
        ("+1234567", True),  # 7 digits: the shortest E.164 we accept
        ("+123456789012345", True),  # 15 digits: the longest
        ("+1234567890123456", False),
        ("+123456", False),
        ("+0491570156", False),
        ("61491570156", False),
        ("0491 570 156", False),
        ("+61 491 570 156", False),
        ("(555) 555-1234", False),
        ("+44-7700-900123", False),
    ],
)
def test_mobile_numbers_must_be_strict_e164(cm, list_id, mobile, valid):
    response = add(cm, list_id, person("m@example.com", MobileNumber=mobile))
    if valid:
        assert response.status_code == 201
        assert get(cm, list_id, "m@example.com")["MobileNumber"] == mobile
    else:
        assert error_of(response) == (400, 220)


def test_get_of_an_address_not_in_the_list_is_code_203(cm, list_id):
    response = cm.call("GET", f"/subscribers/{list_id}.json", params={"email": "x@example.com"})
    assert error_of(response) == (400, 203)


def test_sms_consent_shows_with_includesmspreference(cm, list_id):
    add(cm, list_id, person("m@example.com", MobileNumber="+61491570156", ConsentToSendSms="Yes"))
    plain = get(cm, list_id, "m@example.com")
    assert plain["MobileNumber"] == "+61491570156" and "ConsentToSendSms" not in plain
    assert get(cm, list_id, "m@example.com", includesmspreference="true")["ConsentToSendSms"] == (
        "Yes"
    )


# --- update ---------------------------------------------------------------------------------------


def test_update_can_change_the_address(cm, list_id):
    add(cm, list_id, person("old@example.com"))
    body = person("new@example.com", Name="New Name")
    response = cm.call(
        "PUT", f"/subscribers/{list_id}.json", params={"email": "old@example.com"}, json=body
    )
    assert (response.status_code, response.text) == (200, "")
    assert get(cm, list_id, "new@example.com")["Name"] == "New Name"
    gone = cm.call("GET", f"/subscribers/{list_id}.json", params={"email": "old@example.com"})
    assert error_of(gone) == (400, 203)


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("missing@example.com", "x@example.com", 203),
        ("a@example.com", "b@example.com", 201),
        ("a@example.com", "not-an-address", 211),
    ],
)
def test_update_errors(cm, list_id, old, new, code):
    add(cm, list_id, person("a@example.com"))
    add(cm, list_id, person("b@example.com"))
    response = cm.call(
        "PUT", f"/subscribers/{list_id}.json", params={"email": old}, json=person(new)
    )
    assert error_of(response) == (400, code)


# --- unsubscribe, delete, resubscribe, suppression ------------------------------------------------


def test_unsubscribe_from_an_all_client_lists_list_reaches_every_list_and_suppresses(cm):
    first, second = new_list(cm, "One"), new_list(cm, "Two", UnsubscribeSetting="OnlyThisList")
    for target in (first, second):
        add(cm, target, person("u@example.com"))
    response = cm.call(
        "POST", f"/subscribers/{first}/unsubscribe.json", json={"EmailAddress": "u@example.com"}
    )
    assert (response.status_code, response.text) == (200, "")
    assert get(cm, first, "u@example.com")["State"] == "Unsubscribed"
    assert get(cm, second, "u@example.com")["State"] == "Unsubscribed"
    suppressed = cm.call("GET", f"/clients/{client_id(cm)}/suppressionlist.json").json()
    assert [(row["EmailAddress"], row["SuppressionReason"]) for row in suppressed["Results"]] == [
        ("u@example.com", "Unsubscribed")
    ]


def test_unsubscribe_from_an_only_this_list_list_stays_there(cm):
    first, second = new_list(cm, "One", UnsubscribeSetting="OnlyThisList"), new_list(cm, "Two")
    for target in (first, second):
        add(cm, target, person("u@example.com"))
    cm.call(
        "POST", f"/subscribers/{first}/unsubscribe.json", json={"EmailAddress": "u@example.com"}
    )
    assert get(cm, first, "u@example.com")["State"] == "Unsubscribed"
    assert get(cm, second, "u@example.com")["State"] == "Active"
    assert cm.call("GET", f"/clients/{client_id(cm)}/suppressionlist.json").json()["Results"] == []


def test_adding_an_unsubscribed_address_needs_resubscribe(cm, list_id):
    add(cm, list_id, person("u@example.com"))
    cm.call(
        "POST", f"/subscribers/{list_id}/unsubscribe.json", json={"EmailAddress": "u@example.com"}
    )
    assert add(cm, list_id, person("u@example.com")).status_code == 201
    assert get(cm, list_id, "u@example.com")["State"] == "Unsubscribed"
    assert add(cm, list_id, person("u@example.com", Resubscribe=True)).status_code == 201
    assert get(cm, list_id, "u@example.com")["State"] == "Active"
    assert cm.call("GET", f"/clients/{client_id(cm)}/suppressionlist.json").json()["Results"] == []


def test_suppressed_addresses_are_refused_unless_resubscribed(cm, list_id):
    cid = client_id(cm)
    body = {"EmailAddresses": ["s@example.com", "t@example.com"]}
    assert cm.call("POST", f"/clients/{cid}/suppress.json", json=body).status_code == 200
    assert error_of(add(cm, list_id, person("s@example.com"))) == (400, 204)
    assert add(cm, list_id, person("s@example.com", Resubscribe=True)).status_code == 201
    emails = [
        row["EmailAddress"]
        for row in cm.call("GET", f"/clients/{cid}/suppressionlist.json").json()["Results"]
    ]
    assert emails == ["t@example.com"]
    unsuppress = cm.call(
        "PUT", f"/clients/{cid}/unsuppress.json", params={"email": "t@example.com"}
    )
    assert unsuppress.status_code == 200
    again = cm.call("PUT", f"/clients/{cid}/unsuppress.json", params={"email": "t@example.com"})
    assert error_of(again) == (400, 176)


def test_delete_moves_the_subscriber_to_deleted(cm, list_id):
    add(cm, list_id, person("d@example.com"))
    response = cm.call("DELETE", f"/subscribers/{list_id}.json", params={"email": "d@example.com"})
    assert (response.status_code, response.text) == (200, "")
    assert get(cm, list_id, "d@example.com")["State"] == "Deleted"
    deleted = cm.call("GET", f"/lists/{list_id}/deleted.json").json()["Results"]
    assert [row["EmailAddress"] for row in deleted] == ["d@example.com"]


# --- import ---------------------------------------------------------------------------------------


def rows(count: int, prefix: str = "p") -> list[dict]:
    return [person(f"{prefix}{i}@example.com") for i in range(count)]


def test_import_of_1000_succeeds_and_counts_new_and_existing(cm, list_id):
    add(cm, list_id, person("p0@example.com"))
    response = cm.call(
        "POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": rows(1000)}
    )
    assert response.status_code == 201
    assert response.json() == {
        "FailureDetails": [],
        "TotalUniqueEmailsSubmitted": 1000,
        "TotalExistingSubscribers": 1,
        "TotalNewSubscribers": 999,
        "DuplicateEmailsInSubmission": [],
    }
    page = cm.call("GET", f"/lists/{list_id}/active.json", params={"pagesize": 10}).json()
    assert page["TotalNumberOfRecords"] == 1000


def test_import_of_more_than_1000_is_refused_whole(cm, list_id):
    response = cm.call(
        "POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": rows(1001)}
    )
    assert error_of(response) == (400, 209)
    assert cm.call("GET", f"/lists/{list_id}/active.json").json()["TotalNumberOfRecords"] == 0


def test_empty_import_is_code_212(cm, list_id):
    response = cm.call("POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": []})
    assert error_of(response) == (400, 212)


def test_import_partial_failure_reports_each_address_and_keeps_the_rest(cm, list_id):
    add(cm, list_id, person("old@example.com"))
    batch = [
        person("old@example.com"),
        person("fresh@example.com"),
        person("fresh@example.com"),
        person("example+1@example"),
        person("phone@example.com", MobileNumber="0412 345 678"),
        {"EmailAddress": "noconsent@example.com"},
    ]
    response = cm.call("POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": batch})
    assert response.status_code == 400
    assert response.json() == {
        "ResultData": {
            "TotalUniqueEmailsSubmitted": 5,
            "TotalExistingSubscribers": 1,
            "TotalNewSubscribers": 1,
            "DuplicateEmailsInSubmission": ["fresh@example.com"],
            "FailureDetails": [
                {
                    "EmailAddress": "example+1@example",
                    "Code": 1,
                    "Message": "Invalid Email Address",
                },
                {
                    "EmailAddress": "phone@example.com",
                    "Code": 220,
                    "Message": "Invalid mobile number",
                },
                {
                    "EmailAddress": "noconsent@example.com",
                    "Code": 214,
                    "Message": "Please provide a consent to track value",
                },
            ],
        },
        "Code": 210,
        "Message": "Subscriber Import had some failures",
    }
    active = cm.call("GET", f"/lists/{list_id}/active.json").json()["Results"]
    assert [row["EmailAddress"] for row in active] == ["fresh@example.com", "old@example.com"]


# --- webhooks -------------------------------------------------------------------------------------


class Receiver:
    """A plain-HTTP webhook receiver on 127.0.0.1 that records every POSTed JSON body."""

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        received = self.payloads

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def events(self) -> list[dict]:
        return [event for payload in self.payloads for event in payload["Events"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def hook(cm, list_id: str, url: str, events: list[str]) -> str:
    body = {"Events": events, "Url": url, "PayloadFormat": "json"}
    response = cm.call("POST", f"/lists/{list_id}/webhooks.json", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_webhooks_deliver_subscribe_update_and_deactivate(cm, list_id, receiver):
    hook(cm, list_id, receiver.url, ["Subscribe", "Update", "Deactivate"])
    add(cm, list_id, person("w@example.com", Name="Wendy"))
    add(cm, list_id, person("w@example.com", Name="Wendy W"))
    cm.call(
        "POST", f"/subscribers/{list_id}/unsubscribe.json", json={"EmailAddress": "w@example.com"}
    )
    cm.wait_for_webhooks()
    assert {payload["ListID"] for payload in receiver.payloads} == {list_id}
    events = receiver.events()
    assert [(e["Type"], e["EmailAddress"]) for e in events] == [
        ("Subscribe", "w@example.com"),
        ("Update", "w@example.com"),
        ("Deactivate", "w@example.com"),
    ]
    subscribe, update, deactivate = events
    assert set(subscribe) == {
        "Type",
        "Date",
        "EmailAddress",
        "Name",
        "CustomFields",
        "SignupIPAddress",
    }
    assert (update["OldEmailAddress"], update["Name"], update["State"]) == (
        "w@example.com",
        "Wendy W",
        "Active",
    )
    assert (deactivate["State"], deactivate["Name"]) == ("Unsubscribed", "Wendy W")


def test_webhooks_only_get_their_events_and_batch_an_import(cm, list_id, receiver):
    hook(cm, list_id, receiver.url, ["Subscribe"])
    cm.call("POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": rows(3)})
    cm.call("DELETE", f"/subscribers/{list_id}.json", params={"email": "p0@example.com"})
    cm.wait_for_webhooks()
    assert len(receiver.payloads) == 1
    assert [e["EmailAddress"] for e in receiver.events()] == [
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    ]


def test_deleted_or_deactivated_webhooks_get_nothing(cm, list_id, receiver):
    first = hook(cm, list_id, receiver.url, ["Subscribe"])
    second = hook(cm, list_id, receiver.url + "/2", ["Subscribe"])
    assert cm.call("DELETE", f"/lists/{list_id}/webhooks/{first}.json").status_code == 200
    assert cm.call("PUT", f"/lists/{list_id}/webhooks/{second}/deactivate.json").status_code == 200
    listed = cm.call("GET", f"/lists/{list_id}/webhooks.json").json()
    assert [(h["WebhookID"], h["Status"]) for h in listed] == [(second, "Unsubscribed")]
    add(cm, list_id, person("quiet@example.com"))
    cm.wait_for_webhooks()
    assert receiver.payloads == []


def test_an_unreachable_receiver_does_not_break_the_api(cm, list_id, receiver):
    url = receiver.url
    receiver.close()
    hook(cm, list_id, url, ["Subscribe"])
    assert add(cm, list_id, person("a@example.com")).status_code == 201
    cm.wait_for_webhooks()
    assert cm.app.webhooks.failed >= 1
    assert add(cm, list_id, person("b@example.com")).status_code == 201


def test_webhook_test_endpoint_posts_a_sample_or_reports_610(cm, list_id, receiver):
    good = hook(cm, list_id, receiver.url, ["Subscribe"])
    assert cm.call("GET", f"/lists/{list_id}/webhooks/{good}/test.json").status_code == 200
    assert receiver.events()[0]["EmailAddress"] == "test@example.org"
    bad = hook(cm, list_id, "http://127.0.0.1:9/nothing-listens", ["Subscribe"])
    response = cm.call("GET", f"/lists/{list_id}/webhooks/{bad}/test.json")
    assert error_of(response) == (400, 610)
    assert "ResultData" in response.json()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Events": ["Subscribe"], "Url": "ftp://x.example", "PayloadFormat": "json"}, 601),
        ({"Events": ["Subscribe"], "Url": "https://x.example", "PayloadFormat": "yaml"}, 602),
        ({"Events": ["Bounce"], "Url": "https://x.example", "PayloadFormat": "json"}, 603),
        ({"Events": [], "Url": "https://x.example", "PayloadFormat": "json"}, 603),
    ],
)
def test_webhook_create_errors(cm, list_id, body, code):
    response = cm.call("POST", f"/lists/{list_id}/webhooks.json", json=body)
    assert error_of(response) == (400, code)


def test_webhook_list_echoes_events_and_capitalised_format(cm, list_id):
    body = {"Events": ["deactivate"], "Url": "https://x.example/h", "PayloadFormat": "XML"}
    webhook_id = cm.call("POST", f"/lists/{list_id}/webhooks.json", json=body).json()
    assert cm.call("GET", f"/lists/{list_id}/webhooks.json").json() == [
        {
            "WebhookID": webhook_id,
            "Events": ["Deactivate"],
            "Url": "https://x.example/h",
            "Status": "Active",
            "PayloadFormat": "Xml",
        }
    ]
