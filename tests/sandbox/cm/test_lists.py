"""Lists in the CM sandbox: CRUD, custom fields, stats, subscribers by state, paging, dates,
case-insensitive names and CM's error bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

DAY = 24 * 3600


def client_id(cm) -> str:
    return cm.call("GET", "/clients.json").json()[0]["ClientID"]


def new_list(cm, title: str = "Newsletter", **extra) -> str:
    response = cm.call("POST", f"/lists/{client_id(cm)}.json", json={"Title": title, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def add(cm, list_id: str, email: str, **extra) -> None:
    body = {"EmailAddress": email, "Name": email.split("@")[0], "ConsentToTrack": "Yes", **extra}
    response = cm.call("POST", f"/subscribers/{list_id}.json", json=body)
    assert response.status_code == 201, response.text


def import_many(cm, list_id: str, count: int, prefix: str = "person") -> None:
    rows = [
        {
            "EmailAddress": f"{prefix}{i:03d}@example.com",
            "Name": f"P {count - i:03d}",
            "ConsentToTrack": "Yes",
        }
        for i in range(count)
    ]
    response = cm.call("POST", f"/subscribers/{list_id}/import.json", json={"Subscribers": rows})
    assert response.status_code == 201, response.text


def error_of(response) -> tuple[int, int]:
    return response.status_code, response.json()["Code"]


# --- names and bodies ----------------------------------------------------------------------------


def test_paths_query_names_and_body_keys_match_in_any_case(cm_empty_sandbox):
    cm = cm_empty_sandbox
    clients = cm.call("GET", "/Clients.JSON")
    assert clients.status_code == 200
    cid = clients.json()[0]["ClientID"]
    created = cm.call(
        "POST", f"/LISTS/{cid}.json", json={"title": "Lower", "unsubscribeSETTING": "OnlyThisList"}
    )
    assert created.status_code == 201, created.text
    list_id = created.json()
    details = cm.call("GET", f"/lists/{list_id.upper()}.json").json()
    assert (details["Title"], details["UnsubscribeSetting"]) == ("Lower", "OnlyThisList")
    body = {"emailaddress": "a@example.com", "NAME": "A", "consenttotrack": "yes"}
    assert cm.call("POST", f"/Subscribers/{list_id}.json", json=body).status_code == 201
    page = cm.call(
        "GET", f"/lists/{list_id}/Active.json", params={"PageSize": 10, "OrderField": "NAME"}
    )
    assert page.status_code == 200
    assert (page.json()["PageSize"], page.json()["ResultsOrderedBy"]) == (10, "name")
    assert page.json()["Results"][0]["Name"] == "A"


@pytest.mark.parametrize("body", [b"{not json", b'{"Title": "x",}', b"\xff\xfe"])
def test_malformed_json_gets_cms_400_not_a_traceback(cm_empty_sandbox, body):
    cm = cm_empty_sandbox
    response = cm.call(
        "POST",
        f"/lists/{client_id(cm)}.json",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    data = response.json()
    assert data["Code"] == 400
    assert data["Message"].startswith("Failed to deserialize your request")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/lists/0123456789abcdef0123456789abcdef.json", 401, 101),
        ("/lists/0123456789abcdef0123456789abcdef/active.json", 401, 101),
        ("/clients/0123456789abcdef0123456789abcdef.json", 401, 102),
        ("/campaigns/0123456789abcdef0123456789abcdef/summary.json", 401, 301),
        ("/journeys/0123456789abcdef0123456789abcdef.json", 400, 3000),
    ],
)
def test_unknown_ids_get_cms_resource_codes(cm_sandbox, path, status, code):
    response = cm_sandbox.call("GET", path)
    assert error_of(response) == (status, code)
    assert set(response.json()) == {"Code", "Message"}


# --- list CRUD and custom fields -----------------------------------------------------------------


def test_list_create_update_delete(cm_empty_sandbox):
    cm = cm_empty_sandbox
    list_id = new_list(cm, "News", ConfirmedOptIn=True, UnsubscribePage="https://x.example/u")
    details = cm.call("GET", f"/lists/{list_id}.json").json()
    assert details == {
        "ConfirmedOptIn": True,
        "Title": "News",
        "UnsubscribePage": "https://x.example/u",
        "ListID": list_id,
        "ConfirmationSuccessPage": "",
        "UnsubscribeSetting": "AllClientLists",
    }
    update = {"Title": "Renamed", "UnsubscribeSetting": "OnlyThisList"}
    assert cm.call("PUT", f"/lists/{list_id}.json", json=update).status_code == 200
    assert cm.call("GET", f"/lists/{list_id}.json").json()["Title"] == "Renamed"
    lists = cm.call("GET", f"/clients/{client_id(cm)}/lists.json").json()
    assert lists == [{"ListID": list_id, "Name": "Renamed"}]
    assert cm.call("DELETE", f"/lists/{list_id}.json").status_code == 200
    assert cm.call("GET", f"/clients/{client_id(cm)}/lists.json").json() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Title": ""}, 251),
        ({"Title": "Taken"}, 250),
        ({"Title": "X", "UnsubscribeSetting": "Nope"}, 261),
    ],
)
def test_list_create_errors(cm_empty_sandbox, body, code):
    cm = cm_empty_sandbox
    new_list(cm, "Taken")
    assert error_of(cm.call("POST", f"/lists/{client_id(cm)}.json", json=body)) == (400, code)


def test_custom_fields_keys_types_and_errors(cm_empty_sandbox):
    cm = cm_empty_sandbox
    list_id = new_list(cm)
    path = f"/lists/{list_id}/customfields.json"
    created = cm.call("POST", path, json={"FieldName": "Favourite colour", "DataType": "Text"})
    assert (created.status_code, created.json()) == (201, "[Favouritecolour]")
    multi = {"FieldName": "Topics", "DataType": "MultiSelectMany", "Options": ["A", "B"]}
    assert cm.call("POST", path, json=multi).json() == "[Topics]"
    fields = cm.call("GET", path).json()
    assert [f["Key"] for f in fields] == ["[Favouritecolour]", "[Topics]"]
    assert fields[1]["FieldOptions"] == ["A", "B"]
    errors = [
        ({"FieldName": "", "DataType": "Text"}, 254),
        ({"FieldName": "favourite COLOUR", "DataType": "Text"}, 255),
        ({"FieldName": "Age", "DataType": "Integer"}, 259),
        ({"FieldName": "Age", "DataType": "Number", "Options": ["1"]}, 256),
        ({"FieldName": "Pick", "DataType": "MultiSelectOne", "Options": []}, 257),
    ]
    for body, code in errors:
        assert error_of(cm.call("POST", path, json=body)) == (400, code), body
    renamed = cm.call(
        "PUT", f"/lists/{list_id}/customfields/%5BTopics%5D.json", json={"FieldName": "Subjects"}
    )
    assert renamed.json() == "[Subjects]"
    bad_key = cm.call("DELETE", f"/lists/{list_id}/customfields/Subjects.json")
    assert error_of(bad_key) == (400, 253)
    assert cm.call("DELETE", f"/lists/{list_id}/customfields/[Subjects].json").status_code == 200
    assert [f["FieldName"] for f in cm.call("GET", path).json()] == ["Favourite colour"]


def test_subscriber_custom_fields_follow_cms_rules(cm_empty_sandbox):
    cm = cm_empty_sandbox
    list_id = new_list(cm)
    path = f"/lists/{list_id}/customfields.json"
    for field in (
        {"FieldName": "website", "DataType": "Text"},
        {"FieldName": "age", "DataType": "Number"},
        {"FieldName": "joined on", "DataType": "Date"},
        {"FieldName": "topics", "DataType": "MultiSelectMany", "Options": ["Tea", "Cake"]},
    ):
        assert cm.call("POST", path, json=field).status_code == 201
    values = [
        {"Key": "[website]", "Value": "https://a.example"},
        {"Key": "age", "Value": "not a number"},
        {"Key": "[joinedon]", "Value": "2021/03/09"},
        {"Key": "topics", "Value": "tea"},
        {"Key": "topics", "Value": "Cake"},
        {"Key": "unknown", "Value": "ignored"},
    ]
    add(cm, list_id, "a@example.com", CustomFields=values)
    get = f"/subscribers/{list_id}.json"
    record = cm.call("GET", get, params={"email": "a@example.com"}).json()
    assert record["CustomFields"] == [
        {"Key": "website", "Value": "https://a.example"},
        {"Key": "joined on", "Value": "2021-03-09"},
        {"Key": "topics", "Value": "Tea"},
        {"Key": "topics", "Value": "Cake"},
    ]
    update = [
        {"Key": "topics", "Value": "Tea", "Clear": True},
        {"Key": "website", "Value": "", "Clear": True},
    ]
    add(cm, list_id, "a@example.com", CustomFields=update)
    record = cm.call("GET", get, params={"email": "a@example.com"}).json()
    assert record["CustomFields"] == [
        {"Key": "joined on", "Value": "2021-03-09"},
        {"Key": "topics", "Value": "Cake"},
    ]


# --- subscribers by state, paging, ordering, dates -----------------------------------------------


def test_paging_walks_every_subscriber_once(cm_empty_sandbox):
    cm = cm_empty_sandbox
    list_id = new_list(cm)
    import_many(cm, list_id, 35)
    seen = []
    for page in (1, 2, 3, 4):
        data = cm.call(
            "GET", f"/lists/{list_id}/active.json", params={"page": page, "pagesize": 10}
        ).json()
        assert (data["PageNumber"], data["PageSize"]) == (page, 10)
        assert (data["TotalNumberOfRecords"], data["NumberOfPages"]) == (35, 4)
        assert data["RecordsOnThisPage"] == len(data["Results"]) == (5 if page == 4 else 10)
        seen += [row["EmailAddress"] for row in data["Results"]]
    assert seen == sorted(seen) and len(set(seen)) == 35
    beyond = cm.call("GET", f"/lists/{list_id}/active.json", params={"page": 9, "pagesize": 10})
    assert beyond.status_code == 200 and beyond.json()["Results"] == []
    desc = cm.call("GET", f"/lists/{list_id}/active.json", params={"orderdirection": "desc"}).json()
    assert [row["EmailAddress"] for row in desc["Results"]] == seen[::-1]
    assert (desc["OrderDirection"], desc["PageSize"]) == ("desc", 1000)
    by_name = cm.call("GET", f"/lists/{list_id}/active.json", params={"orderfield": "name"}).json()
    names = [row["Name"] for row in by_name["Results"]]
    assert names == sorted(names) and by_name["ResultsOrderedBy"] == "name"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"pagesize": 9}, 801),
        ({"pagesize": 1001}, 801),
        ({"pagesize": "ten"}, 801),
        ({"page": 0}, 800),
        ({"page": "first"}, 800),
        ({"orderfield": "colour"}, 802),
        ({"orderdirection": "up"}, 803),
    ],
)
def test_paging_parameters_are_validated(cm_sandbox, params, code):
    list_id = cm_sandbox.call("GET", f"/clients/{client_id(cm_sandbox)}/lists.json").json()[0][
        "ListID"
    ]
    response = cm_sandbox.call("GET", f"/lists/{list_id}/active.json", params=params)
    assert error_of(response) == (400, code)


@pytest.mark.parametrize("size", [10, 1000])
def test_page_size_bounds_are_inclusive(cm_sandbox, size):
    cid = client_id(cm_sandbox)
    list_id = cm_sandbox.call("GET", f"/clients/{cid}/lists.json").json()[0]["ListID"]
    response = cm_sandbox.call("GET", f"/lists/{list_id}/active.json", params={"pagesize": size})
    assert response.status_code == 200 and response.json()["PageSize"] == size


def test_date_filter_returns_subscribers_who_entered_the_state_since(cm_empty_sandbox):
    cm = cm_empty_sandbox
    list_id = new_list(cm)
    add(cm, list_id, "early@example.com")
    cm.shift_clock(3 * DAY)
    add(cm, list_id, "late@example.com")
    now = datetime.now(UTC) + timedelta(seconds=cm.app.clock.offset)
    active = f"/lists/{list_id}/active.json"

    def emails(date: str) -> list[str]:
        response = cm.call("GET", active, params={"date": date})
        assert response.status_code == 200, response.text
        return [row["EmailAddress"] for row in response.json()["Results"]]

    yesterday = now - timedelta(days=1)
    assert emails(yesterday.strftime("%Y-%m-%d")) == ["late@example.com"]
    assert emails(yesterday.strftime("%Y-%m-%d %H:%M")) == ["late@example.com"]
    assert emails((now - timedelta(days=5)).strftime("%Y-%m-%d")) == [
        "early@example.com",
        "late@example.com",
    ]
    assert emails((now + timedelta(days=1)).strftime("%Y-%m-%d")) == []
    late = cm.call("GET", f"/subscribers/{list_id}.json", params={"email": "late@example.com"})
    joined = datetime.strptime(late.json()["Date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert timedelta(0) <= now - joined < timedelta(minutes=2)  # the shifted clock, in UTC
    bad = cm.call("GET", active, params={"date": "25/10/2010"})
    assert error_of(bad) == (400, 5)


def test_each_state_has_its_own_endpoint_and_stats_count_them(cm_empty_sandbox):
    cm = cm_empty_sandbox
    list_id = new_list(cm, UnsubscribeSetting="OnlyThisList")
    for name in ("stay", "leave", "gone", "bounce"):
        add(cm, list_id, f"{name}@example.com")
    cm.call(
        "POST",
        f"/subscribers/{list_id}/unsubscribe.json",
        json={"EmailAddress": "leave@example.com"},
    )
    cm.call("DELETE", f"/subscribers/{list_id}.json", params={"email": "gone@example.com"})
    with cm.app.state.lock:
        member = cm.app.state.lists[list_id].member("bounce@example.com")
        cm.app.state.deactivate(member, "Bounced", cm.app.clock.now_minute())
    expected = {
        "active": ["stay@example.com"],
        "unsubscribed": ["leave@example.com"],
        "deleted": ["gone@example.com"],
        "bounced": ["bounce@example.com"],
        "unconfirmed": [],
    }
    for state, emails in expected.items():
        data = cm.call("GET", f"/lists/{list_id}/{state}.json").json()
        assert [row["EmailAddress"] for row in data["Results"]] == emails, state
        assert all(row["State"] == state.title() for row in data["Results"])
    stats = cm.call("GET", f"/lists/{list_id}/stats.json").json()
    assert (stats["TotalActiveSubscribers"], stats["NewActiveSubscribersToday"]) == (1, 1)
    assert (stats["TotalUnsubscribes"], stats["UnsubscribesToday"]) == (1, 1)
    assert (stats["TotalDeleted"], stats["TotalBounces"]) == (1, 1)
    assert stats["NewActiveSubscribersYesterday"] == 0


def test_tracking_and_sms_preferences_appear_only_when_asked(cm_empty_sandbox):
    cm = cm_empty_sandbox
    list_id = new_list(cm)
    add(cm, list_id, "m@example.com", MobileNumber="+61491570156", ConsentToSendSms="Yes")
    add(cm, list_id, "n@example.com", ConsentToTrack="No")
    active = f"/lists/{list_id}/active.json"
    plain = cm.call("GET", active).json()["Results"]
    assert not {"ConsentToTrack", "MobileNumber", "ConsentToSendSms"} & set(plain[0])
    params = {"includetrackingpreference": "True", "includesmspreference": "true"}
    rows = {
        row["EmailAddress"]: row for row in cm.call("GET", active, params=params).json()["Results"]
    }
    assert rows["m@example.com"]["MobileNumber"] == "+61491570156"
    assert rows["m@example.com"]["ConsentToSendSms"] == "Yes"
    assert "MobileNumber" not in rows["n@example.com"]
    assert rows["n@example.com"]["ConsentToTrack"] == "No"
