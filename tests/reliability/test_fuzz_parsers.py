"""Fuzz: the Campaign Monitor and Salesforce clients read any answer a server could give.

Every public call of both clients is made against a fake transport that answers with what
hypothesis draws: any status, a JSON body in the vendor's own vocabulary (right keys, wrong
kinds of values), bytes that are not JSON, odd ``Retry-After`` and ``Sforce-Limit-Info``
headers, and, once the drawn answers run out, a dropped connection. A call either returns a
value of the kind it promises or raises the clients' own typed error (``ApiError`` and its
kinds); a ``KeyError``, ``TypeError``, ``AttributeError`` or ``ValueError`` escaping a client is a
parser bug. No HTTP leaves the process.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from sync.clients import salesforce_auth
from sync.clients.campaign_monitor import CampaignMonitorClient, make_subscriber
from sync.clients.campaign_monitor_transport import OAuthTokenEndpoint, request_tokens
from sync.clients.campaign_monitor_types import ImportResult, OAuthTokens
from sync.clients.errors import ApiError
from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_bulk import _read_results, parse_bulk_error
from sync.clients.salesforce_errors import first_error
from sync.clients.salesforce_http import SalesforceSession
from sync.clients.salesforce_types import RecordError, RecordResult, SalesforceTokens
from tests.reliability.strategies import bodies, fuzz_settings

FUZZ = fuzz_settings(40)  # per client call: about 50 calls are fuzzed
FUZZ_PURE = fuzz_settings(200)  # pure functions, no transport
CM_ID = "0123456789abcdef0123456789abcdef"
TAKE = 40  # items read from a paged iterator (a fuzzed "next page" could go on for ever)

CM_KEYS = [
    "Code",
    "Message",
    "ResultData",
    "Results",
    "NumberOfPages",
    "PageNumber",
    "ResultsOrderedBy",
    "TotalNumberOfRecords",
    "access_token",
    "refresh_token",
    "expires_in",
    "error",
    "error_description",
    "TotalUniqueEmailsSubmitted",
    "TotalExistingSubscribers",
    "TotalNewSubscribers",
    "DuplicateEmailsInSubmission",
    "FailureDetails",
    "EmailAddress",
    "ClientID",
    "ListID",
    "Name",
]
SF_KEYS = [
    "access_token",
    "instance_url",
    "refresh_token",
    "id",
    "issued_at",
    "error",
    "error_description",
    "errorCode",
    "statusCode",
    "message",
    "fields",
    "errors",
    "success",
    "created",
    "records",
    "totalSize",
    "done",
    "nextRecordsUrl",
    "attributes",
    "listviews",
    "Id",
    "Name",
    "Username",
    "IsActive",
]
STATUSES = st.one_of(
    st.sampled_from([200, 201, 204, 300, 400, 401, 403, 404, 429, 500, 503]),
    st.integers(min_value=200, max_value=599),
)
HEADER_VALUES = st.one_of(
    st.sampled_from(["1", "0", "-1", "nan", "inf", "1e400", "Wed, 21 Oct 2015 07:28:00 GMT"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
)


def answers(keys: list[str]) -> st.SearchStrategy[list[tuple[int, bytes, dict[str, str]]]]:
    headers = st.dictionaries(
        st.sampled_from(["Retry-After", "Sforce-Limit-Info", "Content-Type"]),
        st.one_of(HEADER_VALUES, st.just("api-usage=12/15000")),
        max_size=2,
    )
    return st.lists(st.tuples(STATUSES, bodies(keys), headers), min_size=1, max_size=4)


class CannedAdapter(BaseAdapter):
    """Answers each request with the next drawn answer; then the connection drops."""

    def __init__(self, canned: list[tuple[int, bytes, dict[str, str]]]) -> None:
        super().__init__()
        self.canned = list(canned)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        if not self.canned:
            raise requests.ConnectionError("no more canned answers")
        status, body, headers = self.canned.pop(0)
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers = CaseInsensitiveDict(headers)
        response.url = request.url
        response.request = request
        response.reason = "Canned"
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def mount(session: requests.Session, canned) -> None:
    adapter = CannedAdapter(canned)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def expect_value_or_api_error(call: Callable[[], Any]) -> Any:
    """The call's value, or None when it raised the clients' typed error."""
    try:
        return call()
    except ApiError as exc:
        assert isinstance(exc.message, str) and str(exc)
        assert exc.code is None or type(exc.code) in (str, int), exc.code  # shown and compared
        return None


# Campaign Monitor ---------------------------------------------------------------------------
def _take(iterator) -> list:
    return list(itertools.islice(iterator, TAKE))


CM_CALLS: dict[str, Callable[[CampaignMonitorClient], Any]] = {
    "get_clients": lambda c: c.get_clients(),
    "get_client": lambda c: c.get_client(CM_ID),
    "get_lists": lambda c: c.get_lists(CM_ID),
    "get_lists_for_email": lambda c: c.get_lists_for_email(CM_ID, "a@example.com"),
    "get_tags": lambda c: c.get_tags(CM_ID),
    "iter_sent_campaigns": lambda c: _take(c.iter_sent_campaigns(CM_ID, sent_from="2024-01-01")),
    "iter_suppression_list": lambda c: _take(c.iter_suppression_list(CM_ID)),
    "suppress": lambda c: c.suppress(CM_ID, ["a@example.com"]),
    "unsuppress": lambda c: c.unsuppress(CM_ID, "a@example.com"),
    "get_list": lambda c: c.get_list(CM_ID),
    "get_list_stats": lambda c: c.get_list_stats(CM_ID),
    "get_custom_fields": lambda c: c.get_custom_fields(CM_ID),
    "iter_subscribers": lambda c: _take(
        c.iter_subscribers(CM_ID, "active", date="2024-01-01", include_tracking_preference=True)
    ),
    "get_webhooks": lambda c: c.get_webhooks(CM_ID),
    "create_webhook": lambda c: c.create_webhook(CM_ID, ["Subscribe"], "https://x.test/h"),
    "delete_webhook": lambda c: c.delete_webhook(CM_ID, CM_ID),
    "get_subscriber": lambda c: c.get_subscriber(CM_ID, "a@example.com"),
    "add_subscriber": lambda c: c.add_subscriber(
        CM_ID, make_subscriber("a@example.com", consent_to_track="Yes")
    ),
    "import_subscribers": lambda c: c.import_subscribers(
        CM_ID, [make_subscriber("a@example.com", "A", consent_to_track="Unchanged")]
    ),
    "unsubscribe": lambda c: c.unsubscribe(CM_ID, "a@example.com"),
    "get_subscriber_history": lambda c: c.get_subscriber_history(CM_ID, "a@example.com"),
    "get_campaign_summary": lambda c: c.get_campaign_summary(CM_ID),
    "get_campaign_lists_and_segments": lambda c: c.get_campaign_lists_and_segments(CM_ID),
    "iter_campaign_recipients": lambda c: _take(c.iter_campaign_recipients(CM_ID)),
    "iter_campaign_events": lambda c: _take(c.iter_campaign_events(CM_ID, "opens")),
    "get_journeys": lambda c: c.get_journeys(CM_ID),
    "get_journey_summary": lambda c: c.get_journey_summary(CM_ID),
    "iter_journey_email_report": lambda c: _take(c.iter_journey_email_report(CM_ID, "opens")),
    "refresh_tokens": lambda c: c.refresh_tokens(),
}


def cm_client(oauth: bool) -> CampaignMonitorClient:
    options: dict[str, Any] = {
        "base_url": "https://cm.invalid/api/v3.3",
        "max_retries": 1,
        "sleep": lambda seconds: None,
    }
    if oauth:
        return CampaignMonitorClient(oauth_tokens=OAuthTokens("access", "refresh"), **options)
    return CampaignMonitorClient(api_key="key", **options)


def check_cm_value(name: str, value: Any) -> None:
    if name == "import_subscribers" and value is not None:
        assert isinstance(value, ImportResult)
        for number in (
            value.total_unique_emails_submitted,
            value.total_existing_subscribers,
            value.total_new_subscribers,
        ):
            assert type(number) is int
        assert all(isinstance(email, str) for email in value.duplicate_emails)
        for failure in value.failures:
            assert isinstance(failure.email, str) and isinstance(failure.message, str)
            assert failure.code is None or type(failure.code) is int
    if name == "refresh_tokens" and value is not None:
        check_oauth_tokens(value)
    if name.startswith("iter_") and value is not None:
        assert all(isinstance(item, dict) for item in value), "a page item is not a record"


def check_oauth_tokens(tokens: Any) -> None:
    assert isinstance(tokens, OAuthTokens)
    assert isinstance(tokens.access_token, str) and tokens.access_token
    assert isinstance(tokens.refresh_token, str)
    assert tokens.expires_in is None or type(tokens.expires_in) is int


@pytest.mark.parametrize("name", sorted(CM_CALLS))
@FUZZ
@given(canned=answers(CM_KEYS), oauth=st.booleans())
@example(canned=[(200, b'{"Results": 5, "NumberOfPages": 2}', {})], oauth=False)
@example(canned=[(200, b'{"Results": [1, "x"], "NumberOfPages": "many"}', {})], oauth=False)
@example(canned=[(400, b'{"Code": 210, "ResultData": {"FailureDetails": [7]}}', {})], oauth=False)
@example(canned=[(200, b'{"TotalNewSubscribers": "lots"}', {})], oauth=False)
@example(canned=[(401, b'{"Code": [121], "Message": "x"}', {})], oauth=True)
@example(canned=[(400, b'{"Code": Infinity}', {})], oauth=False)
@example(canned=[(401, b'{"Code": 121}', {}), (200, b'{"access_token": []}', {})], oauth=True)
@example(
    canned=[(401, b'{"Code": 121}', {}), (200, b'{"access_token": "a", "expires_in": "x"}', {})],
    oauth=True,
)
def test_campaign_monitor_client_reads_any_answer(name, canned, oauth):
    client = cm_client(oauth or name == "refresh_tokens")
    mount(client.session, canned)
    with client:
        value = expect_value_or_api_error(lambda: CM_CALLS[name](client))
    check_cm_value(name, value)


@FUZZ
@given(canned=answers(CM_KEYS))
@example(canned=[(200, b'{"access_token": {"a": 1}, "expires_in": [1]}', {})])
@example(canned=[(400, b'{"error": ["x"], "error_description": 5}', {})])
def test_campaign_monitor_code_exchange_reads_any_answer(canned):
    transport = OAuthTokenEndpoint(
        base_url="https://cm.invalid", max_retries=1, sleep=lambda seconds: None
    )
    mount(transport.session, canned)
    form = {"grant_type": "authorization_code", "code": "c"}
    with transport:
        tokens = expect_value_or_api_error(lambda: request_tokens(transport, form))
    if tokens is not None:
        check_oauth_tokens(tokens)


# Salesforce ---------------------------------------------------------------------------------
ROWS = [{"CM_Key__c": "k1", "Name": "One"}, {"CM_Key__c": "k2", "Name": "Two"}]
SF_CALLS: dict[str, Callable[[SalesforceClient], Any]] = {
    "upsert_collections": lambda c: c.upsert_collections("Contact", "CM_Key__c", ROWS),
    "create": lambda c: c.create("Contact", ROWS, key_field="CM_Key__c"),
    "update": lambda c: c.update("Contact", [{"Id": "003A", "Name": "x"}]),
    "delete_collections": lambda c: c.delete_collections(["003A", "003B"]),
    "query_iter": lambda c: _take(c.query_iter("SELECT Id FROM Contact")),
    "query_count": lambda c: c.query_count("SELECT COUNT() FROM Contact"),
    "get": lambda c: c.get("Contact", "003A", ["Id"]),
    "describe": lambda c: c.describe("Contact"),
    "describe_global": lambda c: c.describe_global(),
    "limits": lambda c: c.limits(),
    "users": lambda c: c.users(),
    "list_views": lambda c: c.list_views("Contact"),
    "describe_list_view": lambda c: c.describe_list_view("Contact", "00B1"),
    "describe_report": lambda c: c.describe_report("00O1"),
    "run_report": lambda c: c.run_report("00O1"),
    "tooling_query": lambda c: c.tooling_query("SELECT Id FROM CustomObject"),
    "tooling_create": lambda c: c.tooling_create("CustomField", {"FullName": "X"}),
    "upsert_bulk": lambda c: c.upsert_bulk("Contact", "CM_Key__c", ROWS),
    "hard_delete": lambda c: c.hard_delete("Contact", ["003A", "003B"]),
}
RESULT_LISTS = {
    "upsert_collections": 2,
    "create": 2,
    "update": 1,
    "delete_collections": 2,
    "upsert_bulk": 2,
    "hard_delete": 2,
}


def sf_client(refresh: bool) -> SalesforceClient:
    return SalesforceClient(
        "https://sf.invalid",
        "access",
        refresh_token="refresh" if refresh else None,
        login_url="https://login.invalid",
        client_id="id",
        max_retries=0,
        bulk_poll_seconds=0.001,
    )


def check_sf_value(name: str, value: Any) -> None:
    if value is None:
        return
    if name in RESULT_LISTS:
        assert len(value) == RESULT_LISTS[name]  # one result per input row, in order
        for result in value:
            check_record_result(result)
    elif name == "query_count":
        assert type(value) is int
    elif name in ("list_views", "users", "tooling_query", "query_iter"):
        assert isinstance(value, list) and all(isinstance(item, dict) for item in value)
    elif name == "tooling_create":
        assert isinstance(value, str)


def check_record_result(result: Any) -> None:
    assert isinstance(result, RecordResult)
    assert result.key is None or isinstance(result.key, str)
    assert result.sf_id is None or isinstance(result.sf_id, str)
    assert isinstance(result.success, bool) and isinstance(result.created, bool)
    for error in result.errors:
        assert isinstance(error, RecordError)
        assert isinstance(error.code, str) and isinstance(error.message, str)
        assert all(isinstance(name, str) for name in error.fields)
    assert isinstance(result.error_text, str)


@pytest.mark.parametrize("name", sorted(SF_CALLS))
@FUZZ
@given(canned=answers(SF_KEYS), refresh=st.booleans())
@example(canned=[(200, b"[1, 2]", {})], refresh=False)
@example(canned=[(200, b'[{"success": true, "errors": [5]}, {"errors": "E"}]', {})], refresh=False)
@example(canned=[(200, b'{"totalSize": "many", "records": [], "done": true}', {})], refresh=False)
@example(canned=[(200, b'[{"listviews": 1}]', {})], refresh=False)
@example(canned=[(400, b'[{"errorCode": ["X"], "message": "no"}]', {})], refresh=False)
@example(canned=[(200, b'{"records": [1], "done": true, "totalSize": 1}', {})], refresh=False)
@example(
    canned=[
        (401, b'[{"errorCode": "INVALID_SESSION_ID"}]', {}),
        (200, b'{"access_token": "a", "refresh_token": 5}', {}),
    ],
    refresh=True,
)
def test_salesforce_client_reads_any_answer(name, canned, refresh):
    client = sf_client(refresh)
    mount(client._session, canned)
    with client:
        value = expect_value_or_api_error(lambda: SF_CALLS[name](client))
    check_sf_value(name, value)


SF_GRANTS: dict[str, Callable[[requests.Session], SalesforceTokens]] = {
    "exchange_code": lambda s: salesforce_auth.exchange_code(
        "https://login.invalid", "code", "id", "secret", "https://cb.test/", session=s
    ),
    "refresh_access_token": lambda s: salesforce_auth.refresh_access_token(
        "https://login.invalid", "refresh", "id", session=s
    ),
    "password_grant": lambda s: salesforce_auth.password_grant(
        "https://login.invalid", "user", "password", "id", "secret", session=s
    ),
}


@pytest.mark.parametrize("grant", sorted(SF_GRANTS))
@FUZZ
@given(canned=answers(SF_KEYS))
@example(canned=[(200, b'{"access_token": "a", "refresh_token": 5, "id": ["x"]}', {})])
@example(canned=[(400, b'{"error": {"x": 1}, "error_description": []}', {})])
def test_salesforce_token_grants_read_any_answer(grant, canned):
    session = SalesforceSession(max_retries=0)
    mount(session, canned)
    with session:
        tokens = expect_value_or_api_error(lambda: SF_GRANTS[grant](session))
    if tokens is None:
        return
    assert isinstance(tokens, SalesforceTokens)
    for value in (tokens.access_token, tokens.instance_url, tokens.id_url, tokens.issued_at):
        assert isinstance(value, str)
    assert tokens.refresh_token is None or isinstance(tokens.refresh_token, str)
    assert isinstance(tokens.user_id, str) and isinstance(tokens.org_id, str)
    assert "access" not in repr(tokens) or tokens.access_token == "access"


@FUZZ_PURE
@given(content=st.one_of(st.binary(max_size=40), st.text(max_size=40), st.none(), st.integers()))
def test_salesforce_error_bodies_always_give_a_code_and_words(content):
    code, message = first_error(content)
    assert isinstance(message, str)


@FUZZ_PURE
@given(text=st.text(max_size=80))
@example(text="CODE:")
@example(text="A:b:c --")
@example(text=":--")
def test_bulk_error_cells_always_parse(text):
    [error] = parse_bulk_error(text)
    assert isinstance(error.code, str) and error.code
    assert isinstance(error.message, str)
    assert all(isinstance(name, str) for name in error.fields)


@FUZZ_PURE
@given(
    kind=st.sampled_from(["ok", "failed", "unprocessed"]),
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(["CM_Key__c", "Id", "sf__Id", "sf__Created", "sf__Error", "x"]),
            st.text(st.characters(exclude_categories=("Cs",)), max_size=15),
            max_size=5,
        ),
        max_size=5,
    ),
    raw=st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",)), max_size=60)),
    upsert=st.booleans(),
)
def test_bulk_result_files_always_parse(tmp_path_factory, kind, rows, raw, upsert):
    path = Path(tmp_path_factory.mktemp("bulk")) / "results.csv"
    if raw is not None:
        path.write_text(raw, encoding="utf-8")
    else:
        out = io.StringIO()
        columns = sorted({name for row in rows for name in row}) or ["CM_Key__c"]
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    for result in _read_results(path, kind, "CM_Key__c", upsert):
        check_record_result(result)
