"""Campaign tags in the CM sandbox: campaigns carry ``Tags`` (sent, scheduled and draft lists),
``GET /clients/{id}/tags.json`` lists them as ``[{"Name", "NumberOfCampaigns"}]`` (the shape of
createsend-python's tags.json fixture), and the sent list filters by them.

Reads go through the product's CM client where it has the call (``get_tags``,
``iter_sent_campaigns``); drafts, scheduled campaigns and campaign creation are raw HTTP.
"""

from __future__ import annotations

from collections import Counter

from tests.conftest import create_list, send_campaign


def _client_ids(cm_sandbox) -> list[str]:
    return [c["ClientID"] for c in cm_sandbox.call("GET", "/clients.json").json()]


def _draft(cm_sandbox, client_id, list_id, name, tags) -> str:
    body = {
        "Name": name,
        "Subject": name,
        "FromName": "Sender",
        "FromEmail": "sender@example.com",
        "ReplyTo": "sender@example.com",
        "HtmlUrl": "https://example.com/email.html",
        "ListIDs": [list_id],
        "Tags": tags,
    }
    response = cm_sandbox.call("POST", f"/campaigns/{client_id}.json", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _all_campaigns(cm, cm_sandbox, client_id) -> list[dict]:
    sent = list(cm.iter_sent_campaigns(client_id))
    drafts = cm_sandbox.call("GET", f"/clients/{client_id}/drafts.json").json()
    scheduled = cm_sandbox.call("GET", f"/clients/{client_id}/scheduled.json").json()
    return sent + drafts + scheduled


def test_demo_campaigns_carry_tags_and_tags_json_counts_them(cm, cm_sandbox):
    for client_id in _client_ids(cm_sandbox):
        campaigns = _all_campaigns(cm, cm_sandbox, client_id)
        assert campaigns and all(c["Tags"] for c in campaigns)
        assert all(isinstance(tag, str) for c in campaigns for tag in c["Tags"])
        expected = Counter(tag for c in campaigns for tag in c["Tags"])

        tags = cm.get_tags(client_id)

        assert [set(t) for t in tags] == [{"Name", "NumberOfCampaigns"}] * len(tags)
        assert {t["Name"]: t["NumberOfCampaigns"] for t in tags} == dict(expected)
        assert [t["Name"] for t in tags] == sorted(expected, key=str.lower)


def _counts(cm, client_id) -> dict[str, int]:
    return {t["Name"].lower(): t["NumberOfCampaigns"] for t in cm.get_tags(client_id)}


def test_tags_are_per_client_and_the_sent_list_filters_by_them(cm, cm_sandbox):
    first, second = _client_ids(cm_sandbox)[:2]
    first_before, second_before = _counts(cm, first), _counts(cm, second)
    tag = cm.get_tags(first)[0]["Name"]
    list_id = cm_sandbox.call("GET", f"/clients/{second}/lists.json").json()[0]["ListID"]
    send_campaign(cm_sandbox, second, [list_id], "Borrowed tag", Tags=[tag.upper()])

    tagged = list(cm.iter_sent_campaigns(second, tags=[tag]))

    assert "Borrowed tag" in [c["Name"] for c in tagged]
    assert all(tag.lower() in {t.lower() for t in c["Tags"]} for c in tagged)
    assert _counts(cm, first) == first_before
    key = tag.lower()
    assert _counts(cm, second) == {**second_before, key: second_before.get(key, 0) + 1}


def test_a_campaign_counts_once_per_tag_and_tags_compare_case_insensitively(cm, cm_empty_sandbox):
    (client_id,) = _client_ids(cm_empty_sandbox)
    list_id = create_list(cm_empty_sandbox, client_id, "Readers")
    _draft(cm_empty_sandbox, client_id, list_id, "One", [" Promo ", "promo", "", "Sale"])
    _draft(cm_empty_sandbox, client_id, list_id, "Two", ["PROMO"])
    _draft(cm_empty_sandbox, client_id, list_id, "Three", [])

    drafts = cm_empty_sandbox.call("GET", f"/clients/{client_id}/drafts.json").json()
    tags = cm_empty_sandbox.call("GET", f"/clients/{client_id}/tags.json").json()

    assert {d["Name"]: d["Tags"] for d in drafts} == {
        "One": ["Promo", "Sale"],
        "Two": ["PROMO"],
        "Three": [],
    }
    assert tags == [
        {"Name": "Promo", "NumberOfCampaigns": 2},
        {"Name": "Sale", "NumberOfCampaigns": 1},
    ]


def test_a_client_without_campaigns_has_no_tags(cm_empty_sandbox):
    (client_id,) = _client_ids(cm_empty_sandbox)

    response = cm_empty_sandbox.call("GET", f"/clients/{client_id}/tags.json")

    assert response.status_code == 200 and response.json() == []
