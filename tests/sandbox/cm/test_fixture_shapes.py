"""The sandbox answers in exactly the shapes of CM's sample responses (tests/data/campaign_monitor).

For each fixture the product relies on, the sandbox's answer must have the same keys at every
level (objects inside ``Results`` and nested lists included) and the same JSON value types.
Every non-empty list in a fixture must be matched by a non-empty list in the answer, so a shape
is never "passed" by an empty page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

DATA = Path(__file__).resolve().parents[2] / "data" / "campaign_monitor"


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _walk(actual: Any, expected: Any, path: str, optional: set[str], covered: set[str]) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        missing = set(expected) - set(actual)
        extra = set(actual) - set(expected) - optional
        assert not missing, f"{path}: missing keys {sorted(missing)}"
        assert not extra, f"{path}: unexpected keys {sorted(extra)}"
        for key, value in expected.items():
            _walk(actual[key], value, f"{path}.{key}", optional, covered)
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if expected and actual:
            covered.add(path)
            for item in actual:
                _walk(item, expected[0], path + "[]", optional, covered)
    else:
        assert type(actual) is type(expected), (
            f"{path}: {type(actual).__name__} {actual!r}, fixture has "
            f"{type(expected).__name__} {expected!r}"
        )


def _non_empty_lists(expected: Any, path: str = "$") -> set[str]:
    found: set[str] = set()
    if isinstance(expected, dict):
        for key, value in expected.items():
            found |= _non_empty_lists(value, f"{path}.{key}")
    elif isinstance(expected, list) and expected:
        found.add(path)
        found |= _non_empty_lists(expected[0], path + "[]")
    return found


def assert_shape(
    actual: Any,
    name: str,
    *,
    optional: set[str] | frozenset[str] = frozenset(),
    may_be_empty: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Compare an answer with fixture ``name`` (key sets and value types, recursively)."""
    expected = fixture(name)
    covered: set[str] = set()
    _walk(actual, expected, "$", set(optional), covered)
    uncovered = _non_empty_lists(expected) - covered - set(may_be_empty)
    assert not uncovered, f"{name}: the sandbox answered empty lists at {sorted(uncovered)}"


def ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# --- the compare helper itself -------------------------------------------------------------------


def test_shape_check_rejects_a_missing_key_a_wrong_type_and_an_empty_page():
    good = fixture("list_details.json")
    assert_shape(dict(good), "list_details.json")
    with pytest.raises(AssertionError, match="missing keys"):
        assert_shape({k: v for k, v in good.items() if k != "Title"}, "list_details.json")
    with pytest.raises(AssertionError, match="ConfirmedOptIn"):
        assert_shape({**good, "ConfirmedOptIn": "false"}, "list_details.json")
    with pytest.raises(AssertionError, match="empty lists"):
        assert_shape({**fixture("campaign_opens.json"), "Results": []}, "campaign_opens.json")


# --- helpers that find demo data -----------------------------------------------------------------


def first_client(cm) -> str:
    return ok(cm.call("GET", "/clients.json"))[0]["ClientID"]


def first_list(cm, client_id: str) -> str:
    return ok(cm.call("GET", f"/clients/{client_id}/lists.json"))[0]["ListID"]


def latest_campaign(cm, client_id: str) -> str:
    page = ok(cm.call("GET", f"/clients/{client_id}/campaigns.json"))
    return page["Results"][0]["CampaignID"]


def recipients(cm, campaign_id: str) -> list[str]:
    page = ok(cm.call("GET", f"/campaigns/{campaign_id}/recipients.json"))
    return [row["EmailAddress"] for row in page["Results"]]


def active_member(cm, list_id: str, *, with_mobile: bool) -> str:
    page = ok(cm.call("GET", f"/lists/{list_id}/active.json", params={"includesmspreference": 1}))
    for row in page["Results"]:
        if ("MobileNumber" in row) == with_mobile and row["CustomFields"]:
            return row["EmailAddress"]
    raise AssertionError("the demo list has no suitable subscriber")


# --- account and clients -------------------------------------------------------------------------


def test_time_zones_are_cms_own_labels(cm_sandbox):
    assert ok(cm_sandbox.call("GET", "/timezones.json")) == fixture("timezones.json")


def test_account_and_client_reads_match_the_samples(cm_sandbox):
    cm = cm_sandbox
    assert_shape(ok(cm.call("GET", "/clients.json")), "clients.json")
    client_id = first_client(cm)
    assert_shape(ok(cm.call("GET", f"/clients/{client_id}.json")), "client_details.json")
    assert_shape(ok(cm.call("GET", f"/clients/{client_id}/lists.json")), "lists.json")
    assert_shape(ok(cm.call("GET", f"/clients/{client_id}/tags.json")), "tags.json")
    assert_shape(ok(cm.call("GET", f"/clients/{client_id}/journeys.json")), "client_journeys.json")
    assert_shape(ok(cm.call("GET", f"/clients/{client_id}/drafts.json")), "drafts.json")
    sent = ok(cm.call("GET", f"/clients/{client_id}/campaigns.json", params={"pagesize": 10}))
    assert_shape(sent, "campaigns.json")
    journey_id = ok(cm.call("GET", f"/clients/{client_id}/journeys.json"))[0]["JourneyID"]
    assert_shape(ok(cm.call("GET", f"/journeys/{journey_id}.json")), "journey_summary.json")


def test_suppression_list_and_lists_for_email_match_the_samples(cm_sandbox):
    cm = cm_sandbox
    client_id = first_client(cm)
    emails = ["first@example.com", "second@example.com"]
    assert cm.call("POST", f"/clients/{client_id}/suppress.json", json={"EmailAddresses": emails})
    page = ok(cm.call("GET", f"/clients/{client_id}/suppressionlist.json"))
    assert_shape(page, "suppressionlist.json")
    list_id = first_list(cm, client_id)
    email = active_member(cm, list_id, with_mobile=False)
    found = ok(cm.call("GET", f"/clients/{client_id}/listsforemail.json", params={"email": email}))
    assert_shape(found, "listsforemail.json")


def test_scheduled_campaigns_match_the_sample(cm_sandbox):
    cm = cm_sandbox
    client_id = first_client(cm)
    drafts = ok(cm.call("GET", f"/clients/{client_id}/drafts.json"))
    send = {"ConfirmationEmail": "ops@example.com", "SendDate": "2099-01-01 09:00"}
    response = cm.call("POST", f"/campaigns/{drafts[0]['CampaignID']}/send.json", json=send)
    assert response.status_code == 200, response.text
    assert_shape(
        ok(cm.call("GET", f"/clients/{client_id}/scheduled.json")), "scheduled_campaigns.json"
    )


def test_creating_a_client_answers_a_bare_id_like_the_sample(cm_empty_sandbox):
    body = {
        "CompanyName": "Acme",
        "Country": "Australia",
        "TimeZone": "(GMT+10:00) Canberra, Melbourne, Sydney",
    }
    created = ok(cm_empty_sandbox.call("POST", "/clients.json", json=body), 201)
    assert_shape(created, "create_client.json")


# --- lists ---------------------------------------------------------------------------------------


def test_list_reads_match_the_samples(cm_sandbox):
    cm = cm_sandbox
    list_id = first_list(cm, first_client(cm))
    assert_shape(ok(cm.call("GET", f"/lists/{list_id}.json")), "list_details.json")
    assert_shape(ok(cm.call("GET", f"/lists/{list_id}/stats.json")), "list_stats.json")
    assert_shape(ok(cm.call("GET", f"/lists/{list_id}/customfields.json")), "custom_fields.json")


def test_list_writes_answer_like_the_samples(cm_empty_sandbox):
    cm = cm_empty_sandbox
    client_id = first_client(cm)
    list_id = ok(cm.call("POST", f"/lists/{client_id}.json", json={"Title": "News"}), 201)
    assert_shape(list_id, "create_list.json")
    field = {"FieldName": "new date field", "DataType": "Date", "Options": []}
    key = ok(cm.call("POST", f"/lists/{list_id}/customfields.json", json=field), 201)
    assert_shape(key, "create_custom_field.json")
    renamed = cm.call(
        "PUT", f"/lists/{list_id}/customfields/{key}.json", json={"FieldName": "renamed field"}
    )
    assert_shape(ok(renamed), "update_custom_field.json")
    hook = {"Events": ["Deactivate"], "Url": "https://example.com/hook", "PayloadFormat": "json"}
    webhook_id = ok(cm.call("POST", f"/lists/{list_id}/webhooks.json", json=hook), 201)
    assert_shape(webhook_id, "create_list_webhook.json")
    assert_shape(ok(cm.call("GET", f"/lists/{list_id}/webhooks.json")), "list_webhooks.json")


def _make_everyone_appear(cm, list_id: str) -> None:
    """Give the list at least one subscriber in each state, with custom fields."""
    app = cm.app
    with app.state.lock:
        lst = app.state.lists[list_id]
        fields = [f.name for f in lst.fields]
        assert fields, "the demo list has custom fields"
    rows = [
        {
            "EmailAddress": f"{state}@example.com",
            "Name": state.title(),
            "ConsentToTrack": "Yes",
            "CustomFields": [{"Key": fields[0], "Value": "x"}],
        }
        for state in ("unsubscribed", "bounced", "deleted")
    ]
    ok(cm.call("POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": rows}), 201)
    unsubscribe = {"EmailAddress": rows[0]["EmailAddress"]}
    cm.call("POST", f"/subscribers/{list_id}/unsubscribe.json", json=unsubscribe)
    cm.call("DELETE", f"/subscribers/{list_id}.json", params={"email": rows[2]["EmailAddress"]})
    with app.state.lock:
        app.state.deactivate(app.state.lists[list_id].member(rows[1]["EmailAddress"]), "Bounced", 1)


@pytest.mark.parametrize(
    ("state", "params", "name", "optional"),
    [
        ("active", {}, "active_subscribers.json", set()),
        (
            "active",
            {"includetrackingpreference": "True"},
            "active_subscribers_with_tracking_preference.json",
            set(),
        ),
        ("unsubscribed", {}, "unsubscribed_subscribers.json", set()),
        ("bounced", {}, "bounced_subscribers.json", set()),
        ("deleted", {}, "deleted_subscribers.json", set()),
        (
            "active",
            {"includetrackingpreference": "true", "includesmspreference": "true"},
            "ruby/unconfirmed_subscribers.json",
            {"MobileNumber"},  # only for records that have one (the sample's have none)
        ),
    ],
)
def test_subscribers_by_state_match_the_samples(cm_sandbox, state, params, name, optional):
    cm = cm_sandbox
    list_id = first_list(cm, first_client(cm))
    _make_everyone_appear(cm, list_id)
    page = ok(cm.call("GET", f"/lists/{list_id}/{state}.json", params=params))
    assert_shape(page, name, optional=optional)


def test_unconfirmed_subscribers_match_the_sample(cm_empty_sandbox):
    cm = cm_empty_sandbox
    client_id = first_client(cm)
    body = {"Title": "Double opt-in", "ConfirmedOptIn": True}
    list_id = ok(cm.call("POST", f"/lists/{client_id}.json", json=body), 201)
    field = {"FieldName": "website", "DataType": "Text"}
    ok(cm.call("POST", f"/lists/{list_id}/customfields.json", json=field), 201)
    person = {
        "EmailAddress": "new@example.com",
        "Name": "New",
        "ConsentToTrack": "Yes",
        "CustomFields": [{"Key": "website", "Value": "https://example.com"}],
    }
    ok(cm.call("POST", f"/subscribers/{list_id}.json", json=person), 201)
    assert_shape(
        ok(cm.call("GET", f"/lists/{list_id}/unconfirmed.json")), "unconfirmed_subscribers.json"
    )


# --- subscribers ---------------------------------------------------------------------------------


def test_subscriber_reads_match_the_samples(cm_sandbox):
    cm = cm_sandbox
    list_id = first_list(cm, first_client(cm))
    plain = active_member(cm, list_id, with_mobile=False)
    mobile = active_member(cm, list_id, with_mobile=True)
    get = f"/subscribers/{list_id}.json"
    assert_shape(ok(cm.call("GET", get, params={"email": plain})), "subscriber_details.json")
    tracked = cm.call("GET", get, params={"email": plain, "includetrackingpreference": "true"})
    assert_shape(ok(tracked), "subscriber_details_with_tracking_preference.json")
    assert_shape(ok(cm.call("GET", get, params={"email": mobile})), "ruby/subscriber_details.json")
    both = {"email": mobile, "includetrackingpreference": "true", "includesmspreference": "true"}
    assert_shape(
        ok(cm.call("GET", get, params=both)), "ruby/subscriber_details_with_track_and_sms_pref.json"
    )


def test_subscriber_history_matches_the_sample(cm_sandbox):
    cm = cm_sandbox
    client_id = first_client(cm)
    campaign_id = latest_campaign(cm, client_id)
    email = recipients(cm, campaign_id)[0]
    cm.add_events(campaign_id, "open", [email])
    cm.add_events(campaign_id, "click", [email], url="https://example.com/post/1/")
    list_id = next(
        row["ListID"]
        for row in ok(cm.call("GET", f"/campaigns/{campaign_id}/recipients.json"))["Results"]
        if row["EmailAddress"] == email
    )
    history = ok(cm.call("GET", f"/subscribers/{list_id}/history.json", params={"email": email}))
    assert_shape(history, "subscriber_history.json")


def test_subscriber_writes_answer_like_the_samples(cm_sandbox):
    cm = cm_sandbox
    list_id = first_list(cm, first_client(cm))
    person = {"EmailAddress": "subscriber@example.com", "Name": "S", "ConsentToTrack": "Yes"}
    assert_shape(
        ok(cm.call("POST", f"/subscribers/{list_id}.json", json=person), 201), "add_subscriber.json"
    )
    rows = [{"EmailAddress": f"new{i}@example.com", "ConsentToTrack": "Yes"} for i in range(3)]
    imported = cm.call("POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": rows})
    assert_shape(ok(imported, 201), "import_subscribers.json")
    rows = [*rows[:2], {"EmailAddress": "example+1@example", "ConsentToTrack": "Yes"}]
    partial = cm.call("POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": rows})
    assert_shape(ok(partial, 400), "import_subscribers_partial_success.json")


# --- campaigns -----------------------------------------------------------------------------------


def test_campaign_reports_match_the_samples(cm_sandbox):
    cm = cm_sandbox
    campaign_id = latest_campaign(cm, first_client(cm))
    people = recipients(cm, campaign_id)
    assert len(people) >= 3
    cm.add_events(campaign_id, "open", people[:2])
    cm.add_events(campaign_id, "click", people[:2], url="https://example.com/a")
    cm.add_events(campaign_id, "bounce", people[2:3])
    cm.add_events(campaign_id, "unsubscribe", people[:1])
    cm.add_events(campaign_id, "spam", people[1:2])
    base = f"/campaigns/{campaign_id}"
    assert_shape(ok(cm.call("GET", f"{base}/summary.json")), "campaign_summary.json")
    assert_shape(
        ok(cm.call("GET", f"{base}/listsandsegments.json")),
        "campaign_listsandsegments.json",
        may_be_empty={"$.Segments"},  # the sandbox has no segments
    )
    for report in ("recipients", "opens", "clicks", "unsubscribes", "spam", "bounces"):
        name = "campaign_recipients.json" if report == "recipients" else f"campaign_{report}.json"
        assert_shape(ok(cm.call("GET", f"{base}/{report}.json", params={"pagesize": 10})), name)


def test_creating_a_campaign_answers_a_bare_id_like_the_sample(cm_sandbox):
    cm = cm_sandbox
    client_id = first_client(cm)
    body = {
        "Name": "Shape check",
        "Subject": "Hello",
        "FromName": "Us",
        "FromEmail": "us@example.com",
        "ReplyTo": "us@example.com",
        "HtmlUrl": "https://example.com/email.html",
        "ListIDs": [first_list(cm, client_id)],
    }
    assert_shape(
        ok(cm.call("POST", f"/campaigns/{client_id}.json", json=body), 201), "create_campaign.json"
    )


# --- errors and OAuth ----------------------------------------------------------------------------


def test_error_bodies_match_the_samples(cm_sandbox):
    cm = cm_sandbox
    assert_shape(ok(cm.call("GET", "/clients/nope.json"), 401), "custom_api_error.json")
    cm.set_faults("500:x1@account.clients")
    assert_shape(ok(cm.call("GET", "/clients.json"), 500), "sample_server_error.json")


def test_oauth_answers_match_the_samples(cm_sandbox):
    cm = cm_sandbox
    redirect = "http://127.0.0.1:9/callback"
    authorize = requests.get(
        cm.url + "/oauth",
        params={"client_id": cm.oauth_client_id, "redirect_uri": redirect, "scope": "ViewReports"},
        verify=cm.ca_file,
        allow_redirects=False,
    )
    code = authorize.headers["Location"].split("code=")[1].split("&")[0]
    form = {
        "grant_type": "authorization_code",
        "client_id": cm.oauth_client_id,
        "client_secret": cm.oauth_client_secret,
        "redirect_uri": redirect,
        "code": code,
    }
    tokens = ok(requests.post(cm.url + "/oauth/token", data=form, verify=cm.ca_file))
    assert_shape(tokens, "oauth_exchange_token.json")
    again = requests.post(cm.url + "/oauth/token", data=form, verify=cm.ca_file)
    assert_shape(ok(again, 400), "oauth_exchange_token_error.json")
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = ok(requests.post(cm.url + "/oauth/token", data=refresh, verify=cm.ca_file))
    assert_shape(refreshed, "refresh_oauth_token.json")
    bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    cm.expire_tokens()
    expired = cm.call("GET", "/clients.json", auth=None, headers=bearer)
    assert_shape(ok(expired, 401), "expired_oauth_token_api_error.json")
    assert ok(expired, 401) == fixture("expired_oauth_token_api_error.json")
    unknown = cm.call("GET", "/clients.json", auth=None, headers={"Authorization": "Bearer nope"})
    assert ok(unknown, 401) == fixture("ruby/invalid_oauth_token_api_error.json")


# --- journeys ------------------------------------------------------------------------------------


JOURNEY_REPORTS = ("recipients", "opens", "clicks", "unsubscribes", "bounces")


def _busiest_journey_email(cm) -> str:
    """The demo journey email with the most activity (the fixtures need non-empty pages)."""
    best, best_score = "", -1
    for client in ok(cm.call("GET", "/clients.json")):
        for journey in ok(cm.call("GET", f"/clients/{client['ClientID']}/journeys.json")):
            for email in ok(cm.call("GET", f"/journeys/{journey['JourneyID']}.json"))["Emails"]:
                score = min(email["Sent"], email["Opened"], email["Clicked"])
                if score > best_score:
                    best, best_score = email["EmailID"], score
    return best


def _give_journey_email_every_kind(cm, email_id: str) -> None:
    """Add the unsubscribe and bounce rows a small demo may lack (directly in the state)."""
    with cm.app.state.lock:
        email = next(
            e
            for client in cm.app.state.clients.values()
            for journey in client.journeys
            for e in journey.emails
            if e.email_id == email_id
        )
        minute = email.sent.minute[0]
        if not len(email.events["unsubscribe"]):
            email.events["unsubscribe"].add(0, minute + 5)
        if not len(email.events["bounce"]):
            email.events["bounce"].add(len(email.recipients) - 1, minute + 1, 0)


@pytest.mark.parametrize("report", JOURNEY_REPORTS)
@pytest.mark.parametrize("variant", ["no_params", "with_params"])
def test_journey_email_reports_match_the_samples(cm_sandbox, report, variant):
    cm = cm_sandbox
    email_id = _busiest_journey_email(cm)
    _give_journey_email_every_kind(cm, email_id)
    params = {}
    if variant == "with_params":
        params = {"date": "2019-01-01", "page": 1, "pagesize": 10, "orderdirection": "desc"}
    page = ok(cm.call("GET", f"/journeys/email/{email_id}/{report}.json", params=params))
    assert_shape(page, f"journey_email_{report}_{variant}.json")
    expected = fixture(f"journey_email_{report}_{variant}.json")
    assert (page["ResultsOrderedBy"], page["OrderDirection"]) == (
        expected["ResultsOrderedBy"],
        expected["OrderDirection"],
    )
