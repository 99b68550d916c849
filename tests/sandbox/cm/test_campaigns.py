"""Campaigns in the CM sandbox: create and send (fan-out to recipients), scheduling, tracking
events added through the sandbox endpoint, paged reports with date filters, sent-campaign
filters and tags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

DAY = 24 * 3600


def error_of(response) -> tuple[int, int]:
    return response.status_code, response.json()["Code"]


def client_id(cm) -> str:
    return cm.call("GET", "/clients.json").json()[0]["ClientID"]


def new_list(cm, title: str, **extra) -> str:
    response = cm.call("POST", f"/lists/{client_id(cm)}.json", json={"Title": title, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def add(cm, list_id: str, *emails: str) -> None:
    for email in emails:
        body = {"EmailAddress": email, "Name": email.split("@")[0], "ConsentToTrack": "Yes"}
        assert cm.call("POST", f"/subscribers/{list_id}.json", json=body).status_code == 201


def campaign_body(list_ids: list[str], name: str = "Spring news", **extra) -> dict:
    return {
        "Name": name,
        "Subject": "What's new this spring",
        "FromName": "Sandbox Co",
        "FromEmail": "news@example.com",
        "ReplyTo": "reply@example.com",
        "HtmlUrl": "https://example.com/spring.html",
        "TextUrl": "https://example.com/spring.txt",
        "ListIDs": list_ids,
        **extra,
    }


def create(cm, list_ids: list[str], **extra) -> str:
    response = cm.call(
        "POST", f"/campaigns/{client_id(cm)}.json", json=campaign_body(list_ids, **extra)
    )
    assert response.status_code == 201, response.text
    return response.json()


def send(cm, campaign_id: str, send_date: str = "Immediately") -> requests.Response:
    body = {"ConfirmationEmail": "ops@example.com", "SendDate": send_date}
    return cm.call("POST", f"/campaigns/{campaign_id}/send.json", json=body)


def report(cm, campaign_id: str, name: str, **params) -> dict:
    response = cm.call("GET", f"/campaigns/{campaign_id}/{name}.json", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def summary(cm, campaign_id: str) -> dict:
    return cm.call("GET", f"/campaigns/{campaign_id}/summary.json").json()


def events(cm, campaign_id: str, kind: str, emails: list[str], **extra) -> requests.Response:
    body = {"campaign_id": campaign_id, "kind": kind, "emails": emails, **extra}
    return requests.post(cm.url + "/__sandbox__/events", json=body, verify=cm.ca_file, timeout=10)


def state_of(cm, list_id: str, email: str) -> str:
    return cm.call("GET", f"/subscribers/{list_id}.json", params={"email": email}).json()["State"]


@pytest.fixture
def cm(cm_empty_sandbox):
    return cm_empty_sandbox


@pytest.fixture
def sent(cm) -> dict:
    """A campaign sent to two lists with overlap, an unsubscriber and a suppressed address."""
    first, second = new_list(cm, "First"), new_list(cm, "Second", UnsubscribeSetting="OnlyThisList")
    add(cm, first, "ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com")
    add(cm, second, "bob@example.com", "eve@example.com", "fay@example.com")
    cm.call(
        "POST", f"/subscribers/{first}/unsubscribe.json", json={"EmailAddress": "dan@example.com"}
    )
    suppress = {"EmailAddresses": ["fay@example.com"]}
    cm.call("POST", f"/clients/{client_id(cm)}/suppress.json", json=suppress)
    campaign_id = create(cm, [first, second])
    response = send(cm, campaign_id)
    assert (response.status_code, response.text) == (200, "")
    return {"campaign": campaign_id, "first": first, "second": second}


# --- create and send ------------------------------------------------------------------------------


def test_sending_fans_out_to_active_unsuppressed_members_once_each(cm, sent):
    rows = report(cm, sent["campaign"], "recipients")["Results"]
    assert [(row["EmailAddress"], row["ListID"]) for row in rows] == [
        ("ann@example.com", sent["first"]),
        ("bob@example.com", sent["first"]),
        ("cat@example.com", sent["first"]),
        ("eve@example.com", sent["second"]),
    ]
    totals = summary(cm, sent["campaign"])
    assert totals["Recipients"] == 4 and totals["Name"] == "Spring news"
    assert (totals["TotalOpened"], totals["Clicks"], totals["Bounced"]) == (0, 0, 0)
    listed = cm.call("GET", f"/clients/{client_id(cm)}/campaigns.json").json()
    assert [(c["CampaignID"], c["TotalRecipients"]) for c in listed["Results"]] == [
        (sent["campaign"], 4)
    ]
    lists = cm.call("GET", f"/campaigns/{sent['campaign']}/listsandsegments.json").json()
    assert lists == {
        "Lists": [
            {"ListID": sent["first"], "Name": "First"},
            {"ListID": sent["second"], "Name": "Second"},
        ],
        "Segments": [],
    }


def test_a_campaign_is_sent_once(cm, sent):
    assert error_of(send(cm, sent["campaign"])) == (400, 331)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Name": ""}, 319),
        ({"Name": "Taken"}, 303),
        ({"Subject": ""}, 304),
        ({"FromName": ""}, 305),
        ({"FromEmail": "nope"}, 307),
        ({"ReplyTo": ""}, 308),
        ({"ReplyTo": "nope"}, 309),
        ({"HtmlUrl": ""}, 310),
        ({"TextUrl": "not a url"}, 312),
        ({"ListIDs": ["0123456789abcdef0123456789abcdef"]}, 313),
        ({"ListIDs": []}, 315),
    ],
)
def test_create_validates_like_cm(cm, change, code):
    list_id = new_list(cm, "List")
    create(cm, [list_id], name="Taken")
    body = {**campaign_body([list_id]), **change}
    response = cm.call("POST", f"/campaigns/{client_id(cm)}.json", json=body)
    assert error_of(response) == (400, code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"SendDate": "Immediately"}, 338),
        ({"ConfirmationEmail": "nope", "SendDate": "Immediately"}, 339),
        ({"ConfirmationEmail": "a@example.com", "SendDate": "next tuesday"}, 5),
        ({"ConfirmationEmail": "a@example.com", "SendDate": "2001-01-01 10:00"}, 337),
    ],
)
def test_send_validates_like_cm(cm, body, code):
    list_id = new_list(cm, "List")
    add(cm, list_id, "a@example.com")
    campaign_id = create(cm, [list_id])
    response = cm.call("POST", f"/campaigns/{campaign_id}/send.json", json=body)
    assert error_of(response) == (400, code)


def test_sending_to_empty_lists_is_refused_and_the_draft_stays(cm):
    campaign_id = create(cm, [new_list(cm, "Empty")])
    assert error_of(send(cm, campaign_id)) == (400, 340)
    drafts = cm.call("GET", f"/clients/{client_id(cm)}/drafts.json").json()
    assert [d["CampaignID"] for d in drafts] == [campaign_id]


def test_a_scheduled_campaign_is_sent_when_its_time_comes(cm):
    list_id = new_list(cm, "List")
    add(cm, list_id, "a@example.com")
    campaign_id = create(cm, [list_id])
    when = datetime.now(UTC) + timedelta(days=2)
    assert send(cm, campaign_id, when.strftime("%Y-%m-%d %H:%M")).status_code == 200
    cid = client_id(cm)
    scheduled = cm.call("GET", f"/clients/{cid}/scheduled.json").json()
    assert [s["CampaignID"] for s in scheduled] == [campaign_id]
    assert cm.call("GET", f"/clients/{cid}/campaigns.json").json()["Results"] == []
    cm.shift_clock(3 * DAY)
    sent = cm.call("GET", f"/clients/{cid}/campaigns.json").json()["Results"]
    assert [(s["CampaignID"], s["SentDate"]) for s in sent] == [
        (campaign_id, when.strftime("%Y-%m-%d %H:%M:00"))
    ]
    assert cm.call("GET", f"/clients/{cid}/scheduled.json").json() == []


# --- tracking events ------------------------------------------------------------------------------


def test_events_show_in_reports_and_summary(cm, sent):
    campaign_id = sent["campaign"]
    assert events(
        cm, campaign_id, "open", ["ann@example.com", "ann@example.com", "bob@example.com"]
    ).json() == {"added": 3}
    events(cm, campaign_id, "click", ["ann@example.com"], url="https://example.com/a")
    events(cm, campaign_id, "bounce", ["cat@example.com"], bounce_type="Soft")
    events(cm, campaign_id, "unsubscribe", ["bob@example.com"])
    events(cm, campaign_id, "spam", ["eve@example.com"])
    totals = summary(cm, campaign_id)
    assert {
        key: totals[key]
        for key in (
            "TotalOpened",
            "UniqueOpened",
            "Clicks",
            "Bounced",
            "Unsubscribed",
            "SpamComplaints",
        )
    } == {
        "TotalOpened": 3,
        "UniqueOpened": 2,
        "Clicks": 1,
        "Bounced": 1,
        "Unsubscribed": 1,
        "SpamComplaints": 1,
    }
    clicks = report(cm, campaign_id, "clicks")["Results"]
    assert [(c["EmailAddress"], c["URL"], c["ListID"]) for c in clicks] == [
        ("ann@example.com", "https://example.com/a", sent["first"])
    ]
    bounce = report(cm, campaign_id, "bounces")["Results"][0]
    assert (bounce["BounceType"], bounce["Reason"]) == ("Soft", "Soft Bounce - General")
    assert [r["EmailAddress"] for r in report(cm, campaign_id, "spam")["Results"]] == [
        "eve@example.com"
    ]


def test_unsubscribes_spam_and_hard_bounces_change_list_state(cm, sent):
    campaign_id, first, second = sent["campaign"], sent["first"], sent["second"]
    events(cm, campaign_id, "unsubscribe", ["ann@example.com"])
    events(cm, campaign_id, "bounce", ["cat@example.com"])
    events(cm, campaign_id, "spam", ["eve@example.com"])
    events(cm, campaign_id, "bounce", ["bob@example.com"], bounce_type="Soft")
    assert state_of(cm, first, "ann@example.com") == "Unsubscribed"
    assert state_of(cm, first, "cat@example.com") == "Bounced"
    assert state_of(cm, second, "eve@example.com") == "Unsubscribed"
    assert state_of(cm, first, "bob@example.com") == "Active"
    unsubscribed = cm.call("GET", f"/lists/{first}/unsubscribed.json").json()["Results"]
    assert {row["EmailAddress"] for row in unsubscribed} == {"ann@example.com", "dan@example.com"}


def test_the_fixture_helper_adds_events_like_the_endpoint(cm, sent):
    assert cm.add_events(sent["campaign"], "opens", ["ann@example.com"]) == 1
    assert summary(cm, sent["campaign"])["TotalOpened"] == 1
    with pytest.raises(ValueError, match="not recipients"):
        cm.add_events(sent["campaign"], "open", ["dan@example.com"])


@pytest.mark.parametrize(
    ("kind", "emails", "extra", "message"),
    [
        ("open", ["dan@example.com"], {}, "not recipients"),
        ("click", ["ann@example.com"], {}, "url"),
        ("wink", ["ann@example.com"], {}, "kind"),
        ("open", ["ann@example.com"], {"date": "yesterday"}, "date"),
    ],
)
def test_bad_event_requests_are_refused(cm, sent, kind, emails, extra, message):
    response = events(cm, sent["campaign"], kind, emails, **extra)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert summary(cm, sent["campaign"])["TotalOpened"] == 0


def test_events_need_a_sent_campaign(cm):
    campaign_id = create(cm, [new_list(cm, "List")])
    assert events(cm, campaign_id, "open", ["a@example.com"]).status_code == 400


def test_subscriber_history_lists_the_actions_newest_first(cm, sent):
    campaign_id = sent["campaign"]
    events(cm, campaign_id, "open", ["ann@example.com"], date="2099-01-01 10:00")
    events(
        cm,
        campaign_id,
        "click",
        ["ann@example.com"],
        url="https://x.example/p",
        date="2099-01-01 10:05",
    )
    history = cm.call(
        "GET", f"/subscribers/{sent['first']}/history.json", params={"email": "ann@example.com"}
    ).json()
    assert [(h["ID"], h["Type"], h["Name"]) for h in history] == [
        (campaign_id, "Campaign", "Spring news")
    ]
    assert [(a["Event"], a["Date"], a["Detail"]) for a in history[0]["Actions"]] == [
        ("Click", "2099-01-01 10:05:00", "https://x.example/p"),
        ("Open", "2099-01-01 10:00:00", ""),
    ]


def test_reports_page_and_filter_by_date(cm, sent):
    campaign_id = sent["campaign"]
    people = ["ann@example.com", "bob@example.com", "cat@example.com", "eve@example.com"]
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
    for hour in range(25):
        moment = (start + timedelta(hours=hour)).strftime("%Y-%m-%d %H:%M")
        events(cm, campaign_id, "open", [people[hour % 4]], date=moment)
    pages = [report(cm, campaign_id, "opens", page=page, pagesize=10) for page in (1, 2, 3)]
    dates = [row["Date"] for page in pages for row in page["Results"]]
    assert [p["RecordsOnThisPage"] for p in pages] == [10, 10, 5]
    assert {(p["TotalNumberOfRecords"], p["NumberOfPages"]) for p in pages} == {(25, 3)}
    assert dates == sorted(dates) and len(dates) == 25
    since = (start + timedelta(hours=20)).strftime("%Y-%m-%d %H:%M")
    recent = report(cm, campaign_id, "opens", date=since)
    assert [row["Date"][:16] for row in recent["Results"]] == [d[:16] for d in dates[20:]]
    newest_first = report(cm, campaign_id, "opens", orderdirection="desc", pagesize=10)
    assert [row["Date"] for row in newest_first["Results"]] == dates[::-1][:10]
    by_email = report(cm, campaign_id, "opens", orderfield="email")["Results"]
    assert [row["EmailAddress"] for row in by_email] == sorted(people[i % 4] for i in range(25))
    assert error_of(
        cm.call("GET", f"/campaigns/{campaign_id}/opens.json", params={"date": "soon"})
    ) == (400, 5)


# --- sent campaigns and tags ----------------------------------------------------------------------


def test_sent_campaigns_are_paged_newest_first_and_filter_by_date_and_tags(cm):
    cm.shift_clock(-15 * DAY)
    list_id = new_list(cm, "List")
    add(cm, list_id, "a@example.com")
    ids = []
    for number in range(12):
        tags = ["Even"] if number % 2 == 0 else ["Odd", "Promo"]
        campaign_id = create(cm, [list_id], name=f"Issue {number}", Tags=tags)
        assert send(cm, campaign_id).status_code == 200
        ids.append(campaign_id)
        cm.shift_clock(DAY)
    cid = client_id(cm)
    path = f"/clients/{cid}/campaigns.json"
    first = cm.call("GET", path, params={"pagesize": 10}).json()
    second = cm.call("GET", path, params={"pagesize": 10, "page": 2}).json()
    assert (first["ResultsOrderedBy"], first["OrderDirection"]) == ("SentDate", "desc")
    assert (first["TotalNumberOfRecords"], first["NumberOfPages"]) == (12, 2)
    assert [c["CampaignID"] for c in first["Results"] + second["Results"]] == ids[::-1]
    oldest = cm.call("GET", path, params={"orderdirection": "asc"}).json()["Results"]
    assert [c["CampaignID"] for c in oldest] == ids
    odd = cm.call("GET", path, params={"tags": "promo"}).json()["Results"]
    assert [c["Name"] for c in odd] == [f"Issue {n}" for n in (11, 9, 7, 5, 3, 1)]
    days = sorted({c["SentDate"][:10] for c in oldest})
    window = cm.call("GET", path, params={"sentfromdate": days[2], "senttodate": days[4]}).json()
    assert sorted(c["SentDate"][:10] for c in window["Results"]) == days[2:5]
    for params, code in (
        ({"sentfromdate": "2024-13-45x"}, 920),
        ({"senttodate": "01/02/2024"}, 922),
        ({"sentfromdate": "2024-02-02", "senttodate": "2024-02-01"}, 927),
    ):
        assert error_of(cm.call("GET", path, params=params)) == (400, code)
    tags = cm.call("GET", f"/clients/{cid}/tags.json").json()
    assert tags == [
        {"Name": "Even", "NumberOfCampaigns": 6},
        {"Name": "Odd", "NumberOfCampaigns": 6},
        {"Name": "Promo", "NumberOfCampaigns": 6},
    ]


def test_deleting_a_draft_removes_it(cm):
    campaign_id = create(cm, [new_list(cm, "List")])
    assert cm.call("DELETE", f"/campaigns/{campaign_id}.json").status_code == 200
    assert cm.call("GET", f"/clients/{client_id(cm)}/drafts.json").json() == []
    assert error_of(cm.call("GET", f"/campaigns/{campaign_id}/summary.json")) == (401, 301)


def test_the_web_version_url_serves_a_page_without_auth(cm, sent):
    url = summary(cm, sent["campaign"])["WebVersionURL"]
    assert url.startswith(cm.url + "/t/r-")
    page = requests.get(url, verify=cm.ca_file, timeout=10)
    assert page.status_code == 200 and "Spring news" in page.text
