"""Journeys in the CM sandbox: summaries agree with the per-email reports, which page and filter
by date like CM's."""

from __future__ import annotations

import pytest

REPORT_TOTALS = {
    "recipients": "Sent",
    "opens": "Opened",
    "clicks": "Clicked",
    "unsubscribes": "Unsubscribed",
    "bounces": "Bounced",
}


def journeys(cm) -> list[dict]:
    found = []
    for client in cm.call("GET", "/clients.json").json():
        found += cm.call("GET", f"/clients/{client['ClientID']}/journeys.json").json()
    return found


def test_every_demo_client_has_its_two_journeys(cm_sandbox):
    names = [(j["Name"], j["Status"]) for j in journeys(cm_sandbox)]
    assert names == [("Welcome series", "Active"), ("Win-back", "Paused")] * 3


def test_journey_summaries_match_the_email_reports(cm_sandbox):
    cm = cm_sandbox
    checked = 0
    for journey in journeys(cm):
        summary = cm.call("GET", f"/journeys/{journey['JourneyID']}.json").json()
        assert summary["JourneyID"] == journey["JourneyID"]
        for email in summary["Emails"]:
            for report, key in REPORT_TOTALS.items():
                page = cm.call("GET", f"/journeys/email/{email['EmailID']}/{report}.json").json()
                assert page["TotalNumberOfRecords"] == email[key], (report, email)
            opens = cm.call("GET", f"/journeys/email/{email['EmailID']}/opens.json").json()
            unique = {row["EmailAddress"] for row in opens["Results"]}
            assert len(unique) == email["UniqueOpened"]
            checked += 1
    assert checked == 12  # three clients, 3 + 1 emails each


def test_journey_email_reports_page_by_date_both_ways(cm_sandbox):
    cm = cm_sandbox
    welcome = next(j for j in journeys(cm) if j["Name"] == "Welcome series")
    email_id = cm.call("GET", f"/journeys/{welcome['JourneyID']}.json").json()["Emails"][0][
        "EmailID"
    ]
    path = f"/journeys/email/{email_id}/recipients.json"
    everything = cm.call("GET", path).json()
    dates = [row["SentDate"] for row in everything["Results"]]
    assert len(dates) > 10 and dates == sorted(dates)
    first = cm.call("GET", path, params={"pagesize": 10, "orderdirection": "desc"}).json()
    assert (first["OrderDirection"], first["ResultsOrderedBy"]) == ("DESC", "SentDate")
    assert [row["SentDate"] for row in first["Results"]] == dates[::-1][:10]
    since = dates[len(dates) // 2][:16]
    recent = cm.call("GET", path, params={"date": since}).json()["Results"]
    assert recent and all(row["SentDate"][:16] >= since for row in recent)
    assert len(recent) == sum(1 for d in dates if d[:16] >= since)


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/journeys/0123456789abcdef0123456789abcdef.json", 3000),
        ("/journeys/email/0123456789abcdef0123456789abcdef/opens.json", 3002),
    ],
)
def test_unknown_journeys_and_emails_are_400(cm_sandbox, path, code):
    response = cm_sandbox.call("GET", path)
    assert (response.status_code, response.json()["Code"]) == (400, code)
