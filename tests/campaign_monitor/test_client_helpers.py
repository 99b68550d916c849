"""Offline checks of the CM client: argument validation, helpers, error mapping, secrecy.

Nothing here opens a socket; the contract tests against the sandbox are the other test_client_*.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sync.clients.campaign_monitor import (
    IMPORT_BATCH_LIMIT,
    CampaignMonitorClient,
    ImportResult,
    OAuthTokens,
    authorize_url,
    format_cm_date,
    make_subscriber,
)
from sync.clients.campaign_monitor_transport import error_for_response
from sync.clients.errors import AuthError, NotFound, PermanentError, RateLimited, TransientError

SECRET_KEY = "super-secret-api-key-1234"
UNREACHABLE = "https://127.0.0.1:9/api/v3.3"  # discard port: nothing listens


def offline_client(**options) -> CampaignMonitorClient:
    return CampaignMonitorClient(api_key=SECRET_KEY, base_url=UNREACHABLE, **options)


def fake_response(status: int, body: object, headers: dict[str, str] | None = None):
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    response.headers.update(headers or {})
    return response


def test_client_needs_exactly_one_credential():
    with pytest.raises(ValueError):
        CampaignMonitorClient()
    with pytest.raises(ValueError):
        CampaignMonitorClient(api_key="k", oauth_tokens=OAuthTokens("a", "r"))


def test_repr_hides_api_key_and_tokens():
    assert SECRET_KEY not in repr(offline_client())
    tokens = OAuthTokens(access_token="access-secret", refresh_token="refresh-secret", expires_in=5)
    client = CampaignMonitorClient(oauth_tokens=tokens, base_url=UNREACHABLE)
    for text in (repr(client), repr(tokens), str(tokens)):
        assert "access-secret" not in text
        assert "refresh-secret" not in text


def test_oauth_base_is_api_base_without_version():
    assert offline_client().oauth_base_url == "https://127.0.0.1:9"
    assert CampaignMonitorClient(api_key="k").oauth_base_url == "https://api.createsend.com"


def test_import_over_limit_raises_before_any_call():
    client = offline_client()
    rows = [
        make_subscriber(f"p{i}@example.com", consent_to_track="Yes")
        for i in range(IMPORT_BATCH_LIMIT + 1)
    ]
    with pytest.raises(ValueError, match="1000"):
        client.import_subscribers("list", rows)
    assert client.calls.total == 0


@pytest.mark.parametrize("pagesize", [0, 9, 1001])
def test_paged_methods_reject_bad_pagesize_at_call_time(pagesize):
    client = offline_client()
    with pytest.raises(ValueError, match="pagesize"):
        client.iter_subscribers("list", "active", pagesize=pagesize)
    assert client.calls.total == 0


def test_paged_methods_are_lazy():
    client = offline_client()
    client.iter_campaign_events("campaign", "opens", date=date(2024, 1, 1))
    client.iter_sent_campaigns("client", sent_from="2024-01-01")
    assert client.calls.total == 0


def test_unknown_subscriber_state_and_report_kind_rejected():
    client = offline_client()
    with pytest.raises(ValueError):
        client.iter_subscribers("list", "pending")
    with pytest.raises(ValueError):
        client.iter_campaign_events("campaign", "forwards")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 3, 5), "2024-03-05"),
        (datetime(2024, 3, 5, 7, 8, 59), "2024-03-05 07:08"),
        ("2024-03-05", "2024-03-05"),
        ("2024-03-05 07:08", "2024-03-05 07:08"),
        (None, None),
    ],
)
def test_date_filters_are_formatted_as_cm_reads_them(value, expected):
    assert format_cm_date(value) == expected


def test_malformed_date_string_rejected():
    with pytest.raises(ValueError):
        format_cm_date("05/03/2024")
    with pytest.raises(ValueError):
        offline_client().iter_sent_campaigns("client", sent_from="2024-03-05 10:00")


def test_make_subscriber_builds_cm_shape():
    record = make_subscriber(
        "a@example.com",
        "A",
        consent_to_track="yes",
        custom_fields={"website": "https://a.example", "interests": ["x", "y"], "age": None},
        mobile_number="+61491570006",
    )
    assert record == {
        "EmailAddress": "a@example.com",
        "Name": "A",
        "ConsentToTrack": "Yes",
        "MobileNumber": "+61491570006",
        "ConsentToSendSms": "Unchanged",
        "CustomFields": [
            {"Key": "website", "Value": "https://a.example"},
            {"Key": "interests", "Value": "x"},
            {"Key": "interests", "Value": "y"},
            {"Key": "age", "Value": "", "Clear": True},
        ],
    }
    with pytest.raises(ValueError):
        make_subscriber("a@example.com", consent_to_track="maybe")


def test_import_result_parses_partial_failure():
    first = ImportResult.from_response(
        {
            "TotalUniqueEmailsSubmitted": 3,
            "TotalExistingSubscribers": 2,
            "TotalNewSubscribers": 0,
            "DuplicateEmailsInSubmission": [],
            "FailureDetails": [
                {"EmailAddress": "example+1@example", "Code": 1, "Message": "Invalid Email Address"}
            ],
        }
    )
    assert not first.ok
    assert first.failed_emails == ["example+1@example"]
    assert first.failures[0].code == 1
    assert (first.total_unique_emails_submitted, first.total_existing_subscribers) == (3, 2)


def test_authorize_url_carries_the_web_flow_parameters():
    url = authorize_url(
        "cid", "https://console.example/cb", ["ViewReports", "ManageLists"], "xyz",
        base_url="https://127.0.0.1:8443/api/v3.3",
    )  # fmt: skip
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://127.0.0.1:8443/oauth"
    assert parse_qs(parts.query) == {
        "type": ["web_server"],
        "client_id": ["cid"],
        "redirect_uri": ["https://console.example/cb"],
        "scope": ["ViewReports,ManageLists"],
        "state": ["xyz"],
    }


@pytest.mark.parametrize(
    ("status", "body", "error_type", "code"),
    [
        (401, {"Code": 100, "Message": "Invalid API Key"}, AuthError, 100),
        (401, {"Code": 122, "Message": "Revoked OAuth Token"}, AuthError, 122),
        (401, {"Code": 101, "Message": "Invalid ListID"}, NotFound, 101),
        (404, None, NotFound, None),
        (400, {"Code": 203, "Message": "Subscriber not in list"}, NotFound, 203),
        (400, {"Code": 250, "Message": "Duplicate list title"}, PermanentError, 250),
        (418, {"Code": 418, "Message": " I'm a teapot"}, PermanentError, 418),
        (500, {"Code": 500, "Message": "Internal Server Error"}, TransientError, 500),
        (429, {"Code": 429, "Message": "Rate limit exceeded"}, RateLimited, 429),
    ],
)
def test_error_mapping_keeps_cm_code_and_message(status, body, error_type, code):
    error = error_for_response(fake_response(status, body), "lists.details")
    assert type(error) is error_type
    assert error.code == code
    assert error.status == status
    assert error.endpoint == "lists.details"
    if body:
        assert body["Message"] in str(error)


def test_rate_limited_carries_retry_after():
    error = error_for_response(
        fake_response(429, {"Code": 429, "Message": "slow down"}, {"Retry-After": "7"}), "x"
    )
    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0


def test_session_names_cmsync_and_pools_connections():
    client = offline_client()
    assert client.session.headers["User-Agent"].startswith("cmsync/")
    adapter = client.session.get_adapter("https://api.createsend.com/")
    assert adapter.max_retries.total == 0  # our retries, counted; none hidden in urllib3
    assert client.timeout == (10.0, 60.0)


def test_oauth_tokens_parse_cm_token_response():
    tokens = OAuthTokens.from_response(
        {
            "access_token": "SlAV32hkKG",
            "expires_in": 1209600,
            "refresh_token": "tGzv3JOkF0XG5Qx2TlKWIA",
        }
    )
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_in) == (
        "SlAV32hkKG",
        "tGzv3JOkF0XG5Qx2TlKWIA",
        1209600,
    )
