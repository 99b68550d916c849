"""Fuzz: the sandboxes refuse bad requests the way the vendors do, and never fail themselves.

Every route of both sandboxes gets requests hypothesis draws: path ids that exist and ids that
do not, query strings in the vendor's vocabulary with any values, bodies that are JSON in the
vendor's vocabulary (right keys, wrong kinds of values), CSV, or bytes that are not JSON at
all. A request is answered below 500, and a refusal (4xx) carries the vendor's error shape:
Campaign Monitor's ``{"Code": int, "Message": str}`` (OAuth's ``{"error", "error_description"}``
on its token endpoint), Salesforce's ``[{"errorCode": str, "message": str}]``. The SOQL parser
gets near-SOQL token soup and either parses or raises its own ``SoqlError``.

Requests go straight to each app's ``dispatch`` (the handler the HTTPS server calls, minus the
socket), so an exception is seen as itself rather than as the harness's catch-all 500.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sandbox.cm import build_app as build_cm
from sandbox.config import SandboxConfig
from sandbox.core.http import CaseInsensitiveDict, Request, Response, SandboxApp
from sandbox.sf import build_app as build_sf
from sandbox.sf.soql_ast import SoqlError
from sandbox.sf.soql_parser import parse as parse_soql
from tests.reliability.strategies import bodies, fuzz_settings, json_values

FUZZ = fuzz_settings(15)  # per route: about 120 routes
FUZZ_SOQL = fuzz_settings(200)

CONFIG = {"seed": "demo", "subscribers": 30, "events": 150, "random_seed": 3}
_GROUP = re.compile(r"\(\?P<(\w+)>\[\^/\]\+\?\)")

# Vocabularies ------------------------------------------------------------------------------
CM_QUERY_KEYS = [
    "page",
    "pagesize",
    "orderfield",
    "orderdirection",
    "date",
    "email",
    "includetrackingpreference",
    "includesmspreference",
    "sentfromdate",
    "senttodate",
    "tags",
    "pretty",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "type",
]
CM_BODY_KEYS = [
    "EmailAddress",
    "EmailAddresses",
    "Name",
    "CustomFields",
    "Key",
    "Value",
    "Clear",
    "ConsentToTrack",
    "ConsentToSendSms",
    "MobileNumber",
    "Resubscribe",
    "RestartSubscriptionBasedAutoresponders",
    "QueueSubscriptionBasedAutoresponders",
    "Subscribers",
    "Title",
    "UnsubscribePage",
    "UnsubscribeSetting",
    "ConfirmedOptIn",
    "FieldName",
    "DataType",
    "Options",
    "VisibleInPreferenceCenter",
    "Events",
    "Url",
    "PayloadFormat",
    "Subject",
    "FromName",
    "FromEmail",
    "ReplyTo",
    "HtmlUrl",
    "ListIDs",
    "SegmentIDs",
    "Tags",
    "SendDate",
    "ConfirmationEmail",
    "CompanyName",
    "Country",
    "TimeZone",
]
SF_QUERY_KEYS = [
    "q",
    "ids",
    "fields",
    "allOrNone",
    "includeDetails",
    "start",
    "end",
    "locator",
    "maxRecords",
    "token",
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
]
SF_BODY_KEYS = [
    "records",
    "allOrNone",
    "attributes",
    "type",
    "Id",
    "Name",
    "LastName",
    "Email",
    "CM_Key__c",
    "compositeRequest",
    "method",
    "url",
    "referenceId",
    "body",
    "object",
    "operation",
    "externalIdFieldName",
    "lineEnding",
    "columnDelimiter",
    "contentType",
    "state",
    "query",
    "FullName",
    "Metadata",
    "ids",
    "fields",
    "reportMetadata",
]
SOQL_WORDS = [
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDER BY",
    "ASC",
    "DESC",
    "NULLS FIRST",
    "NULLS LAST",
    "LIMIT",
    "OFFSET",
    "FOR VIEW",
    "COUNT()",
    "Id",
    "Name",
    "Email",
    "LastModifiedDate",
    "CreatedDate",
    "Account.Name",
    "Owner.Profile.Name",
    "CM_Key__c",
    "IsDeleted",
    "Contact",
    "Lead",
    "User",
    "CM_Subscriber__c",
    "CustomObject",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "(",
    ")",
    ",",
    "'a'",
    "'it\\'s'",
    "'%'",
    "'\\u'",
    "''",
    "'",
    "\\",
    "null",
    "true",
    "FALSE",
    "0",
    "-1",
    "3.5",
    "1e5",
    "99999999999999999999",
    "2024-01-31",
    "2024-13-45",
    "2024-01-31T10:00:00Z",
    "2024-01-31T25:61:00+0500",
    "TODAY",
    "LAST_N_DAYS:5",
    "LAST_N_DAYS:",
    "NEXT_N_WEEKS:-3",
    "THIS_FISCAL_YEAR",
    ":",
    ".",
    "..",
    "Contact.",
    "c",
    "WITH",
    "GROUP BY",
    "TYPEOF",
    "é",
]
soql_soup = st.lists(st.sampled_from(SOQL_WORDS), max_size=14).map(" ".join)
SOQL_FIELDS = ["Id", "Name", "Email", "LastName", "CreatedDate", "IsDeleted", "Account.Name"]
SOQL_FIELDS += ["HasOptedOutOfEmail", "NumberOfEmployees", "Birthdate", "Nope__c", "Owner.Name"]
soql_literals = st.one_of(
    st.sampled_from(["null", "true", "FALSE", "TODAY", "LAST_N_DAYS:3", "NEXT_N_DAYS:0"]),
    st.sampled_from(["2024-01-31", "2024-01-31T10:00:00Z", "2024-01-31T10:00:00.000+0530"]),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=10).map(
        lambda text: "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    ),
)


@st.composite
def soql_conditions(draw, depth: int = 0) -> str:
    field = draw(st.sampled_from(SOQL_FIELDS))
    kind = draw(
        st.sampled_from(["compare", "in", "like", "not", "group"] if depth < 2 else ["compare"])
    )
    if kind == "in":
        values = draw(st.lists(soql_literals, min_size=1, max_size=3))
        negate = draw(st.sampled_from(["", "NOT "]))
        return f"{field} {negate}IN ({', '.join(values)})"
    if kind == "like":
        return f"{field} LIKE {draw(soql_literals)}"
    if kind == "not":
        return f"NOT {draw(soql_conditions(depth + 1))}"
    if kind == "group":
        joiner = draw(st.sampled_from([" AND ", " OR "]))
        parts = draw(st.lists(soql_conditions(depth + 1), min_size=2, max_size=3))
        return "(" + joiner.join(parts) + ")"
    operator = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
    return f"{field} {operator} {draw(soql_literals)}"


@st.composite
def soql_queries(draw) -> str:
    """Mostly well-formed SELECTs, so the evaluator meets odd comparisons, not only the parser."""
    fields = draw(st.lists(st.sampled_from(SOQL_FIELDS), min_size=1, max_size=3))
    select = "COUNT()" if draw(st.booleans()) and len(fields) == 1 else ", ".join(fields)
    sobject = draw(st.sampled_from(["Contact", "Lead", "User", "Account", "Campaign"]))
    text = f"SELECT {select} FROM {sobject}"
    if draw(st.booleans()):
        text += " WHERE " + draw(soql_conditions())
    if draw(st.booleans()):
        order = draw(st.sampled_from(["", "ASC", "DESC NULLS LAST"]))
        text += f" ORDER BY {draw(st.sampled_from(SOQL_FIELDS))} {order}"
    for clause in ("LIMIT", "OFFSET"):
        if draw(st.booleans()):
            text += f" {clause} {draw(st.integers(min_value=-5, max_value=10**6))}"
    return text


soql_texts = st.one_of(
    soql_queries(),
    st.one_of(
        soql_soup,
        soql_soup.map(lambda rest: "SELECT " + rest),
        st.builds(
            lambda fields, obj, where: f"SELECT {fields} FROM {obj} {where}",
            st.sampled_from(["Id", "Id, Name", "COUNT()", "Account.Name", "Id,", "Email, Email"]),
            st.sampled_from(["Contact", "Lead", "User", "CM_Subscriber__c", "Nope", "Contact c"]),
            soql_soup,
        ),
        st.text(max_size=30),
    ),
)

segment_text = st.one_of(
    st.text(
        st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"), max_size=12
    ),
    st.text(max_size=8).map(lambda text: quote(text, safe="")),
)
query_values = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "1000", "1001", "true", "asc", "DESC", "2024-01-01"]),
    st.sampled_from(["2024-01-01 10:00", "a@example.com", "email", "date", "x" * 300, "\x00"]),
    st.text(max_size=16),
)


# The apps --------------------------------------------------------------------------------
def _cm_pools(app) -> dict[str, list[str]]:
    state = app.state
    clients = list(state.clients.values())
    lists = list(state.lists.values())
    journeys = [journey for client in clients for journey in client.journeys]
    campaigns = list(state.campaigns.values())
    return {
        "clientid": [c.client_id for c in clients],
        "listid": [item.list_id for item in lists],
        "campaignid": [c.campaign_id for c in campaigns],
        "journeyid": [j.journey_id for j in journeys],
        "emailid": [e.email_id for j in journeys for e in j.emails],
        "webhookid": [h.webhook_id for item in lists for h in item.webhooks] or ["none"],
        "key": [quote(f.key, safe="") for item in lists for f in item.fields] or ["[Phone]"],
        "code": [c.web_code for c in campaigns if c.web_code] or ["none"],
    }


def _sf_pools(app) -> dict[str, list[str]]:
    ids = [
        row["Id"]
        for sobject in ("Contact", "Lead", "User", "Campaign", "Account")
        for row in app.records(sobject)[:3]
    ]
    return {
        "version": ["v59.0", "v62.0", "v1.0", "59.0"],
        "sobject": ["Contact", "Lead", "User", "Campaign", "CampaignMember", "Nope__c"],
        "type": ["CustomObject", "CustomField", "PermissionSet", "Nope"],
        "id": ids,
        "field": ["Id", "Email", "CM_Key__c", "Name"],
        "value": ["k1", "a@example.com"],
        "kind": ["successfulResults", "failedResults", "unprocessedrecords", "x"],
        "locator": ["01gD0000002HU6KIAW-2000", "x"],
        "rtid": ["012000000000000AAA"],
        "org": [app.org_id],
        "user": [app.admin_user_id],
    }


@pytest.fixture
def cm_app():
    app = build_cm(SandboxConfig(**CONFIG))
    app.base_url = "https://127.0.0.1:8701"
    yield app
    app.close()


@pytest.fixture
def sf_app(tmp_path):
    app = build_sf(SandboxConfig(**CONFIG, state_dir=tmp_path))
    app.base_url = "https://127.0.0.1:8702"
    yield app
    app.bulk_jobs.wait_idle(10)


def _path(route, params: dict[str, str]) -> str:
    template = route.pattern.pattern.removeprefix("^").removesuffix("$")
    filled = _GROUP.sub(lambda match: params[match.group(1)], template)
    return re.sub(r"\\(.)", r"\1", filled)


def _request(method: str, path: str, query: dict[str, str], headers, body: bytes) -> Request:
    """The request the HTTPS handler would build from this line, headers and body."""
    return Request(
        method=method,
        path=path,
        query=CaseInsensitiveDict(dict(parse_qsl(urlencode(query), keep_blank_values=True))),
        headers=dict(headers),
        body=body,
        client_address="127.0.0.1",
    )


def _answer(app: SandboxApp, request: Request) -> Response:
    response = app.dispatch(request)
    assert response is not None, "the sandbox dropped the connection (no faults are set)"
    assert response.status < 500, (response.status, response.body[:300])
    return response


def _json(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        raise AssertionError(f"a refusal that is not JSON: {response.body[:200]!r}") from None


def _route_id(route) -> str:
    return f"{route.method} {route.name} {route.pattern.pattern}"


def _routes_and_pools(app_builder, pools) -> tuple[list[str], dict[str, list[str]]]:
    """Route ids and the ids of the seeded objects; drawn once, because the fuzzed requests
    change the state (a deleted list) and hypothesis needs the same choices on every replay.
    The seed's ids depend on its random seed only, so the tests' apps have the same ones."""
    app = app_builder(SandboxConfig(**CONFIG))
    try:
        return [_route_id(route) for route in app.router.routes], pools(app)
    finally:
        if hasattr(app, "close"):
            app.close()


CM_ROUTES, CM_POOLS = _routes_and_pools(build_cm, _cm_pools)
SF_ROUTES, SF_POOLS = _routes_and_pools(build_sf, _sf_pools)


def _route(app: SandboxApp, route_id: str):
    return app.router.routes[[_route_id(r) for r in app.router.routes].index(route_id)]


def _draw_request(data, route, pools, query_keys, body_keys) -> tuple[str, dict, bytes]:
    params = {
        name: data.draw(st.one_of(st.sampled_from(pools.get(name) or ["x"]), segment_text))
        for name in route.pattern.groupindex
    }
    query = data.draw(
        st.dictionaries(st.one_of(st.sampled_from(query_keys), st.text(max_size=6)), query_values)
    )
    body = b""
    if route.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = data.draw(
            st.one_of(
                bodies(body_keys),
                json_values(body_keys).map(lambda value: json.dumps([value]).encode()),
                st.sampled_from([b"Id\n001\n", b"LastName,Email\nx,a@b.c\n", b"a=1&b=%zz"]),
            )
        )
    return _path(route, params), query, body


# Campaign Monitor ---------------------------------------------------------------------------
def check_cm_refusal(route_name: str, response: Response) -> None:
    if response.status < 400:
        return
    if route_name == "webversion":
        return  # a browser page, not the API
    body = _json(response)
    assert isinstance(body, dict), body
    if route_name.startswith("oauth."):
        assert isinstance(body.get("error"), str) and isinstance(body.get("error_description"), str)
        return
    assert type(body.get("Code")) is int, body
    assert isinstance(body.get("Message"), str) and body["Message"], body


@pytest.mark.parametrize("route_id", CM_ROUTES)
@FUZZ
@given(data=st.data())
def test_campaign_monitor_sandbox_refuses_in_cms_words(cm_app, route_id, data):
    route = _route(cm_app, route_id)
    path, query, body = _draw_request(data, route, CM_POOLS, CM_QUERY_KEYS, CM_BODY_KEYS)
    auth = base64.b64encode(cm_app.config.cm_api_key.encode() + b":x").decode()
    headers = {"Authorization": "Basic " + auth}
    if route.method != "GET":
        headers["Content-Type"] = data.draw(
            st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/csv"])
        )
    response = _answer(cm_app, _request(route.method, path, query, headers, body))
    check_cm_refusal(route.name, response)


@FUZZ
@given(
    header=st.one_of(
        st.text(max_size=30),
        st.sampled_from(
            ["Basic", "Basic !!!", "Basic w6k=", "Bearer", "Bearer \x00", "Basic Og=="]
        ),
    )
)
def test_campaign_monitor_sandbox_reads_any_authorization_header(cm_app, header):
    request = _request("GET", "/api/v3.3/clients.json", {}, {"Authorization": header}, b"")
    response = _answer(cm_app, request)
    check_cm_refusal("account.clients", response)


# Salesforce ---------------------------------------------------------------------------------
def check_sf_refusal(route_name: str, response: Response) -> None:
    if response.status < 400:
        return
    if route_name == "oauth.authorize":
        return  # the login page a browser sees
    body = _json(response)
    if route_name in ("oauth.token", "oauth.revoke"):
        assert isinstance(body, dict), body
        assert isinstance(body.get("error"), str) and isinstance(body.get("error_description"), str)
        return
    assert isinstance(body, list) and body, body
    for item in body:
        assert isinstance(item, dict), body
        code = item.get("errorCode") or item.get("statusCode")
        assert isinstance(code, str) and code, body
        assert isinstance(item.get("message"), str), body


@pytest.mark.parametrize("route_id", SF_ROUTES)
@FUZZ
@given(data=st.data())
def test_salesforce_sandbox_refuses_in_salesforces_words(sf_app, route_id, data):
    route = _route(sf_app, route_id)
    path, query, body = _draw_request(data, route, SF_POOLS, SF_QUERY_KEYS, SF_BODY_KEYS)
    if route.name in ("query", "queryAll", "tooling.query") and data.draw(st.booleans()):
        query["q"] = data.draw(soql_texts)
    token, _refresh = sf_app.issue_token()
    headers = {"Authorization": f"Bearer {token}"}
    if route.method != "GET":
        headers["Content-Type"] = data.draw(
            st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/csv"])
        )
    response = _answer(sf_app, _request(route.method, path, query, headers, body))
    check_sf_refusal(route.name, response)


@FUZZ_SOQL
@given(text=soql_texts)
@example(text="SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:99999999999999999999")
@example(text="SELECT Id FROM Contact LIMIT 99999999999999999999")
@example(text="SELECT Id FROM Contact WHERE Name = '\\u12'")
@example(text="SELECT Id FROM Contact WHERE CreatedDate > 2024-02-30T00:00:00Z")
def test_soql_parser_parses_or_says_malformed(text):
    try:
        parse_soql(text)
    except SoqlError as exc:
        assert str(exc)


@FUZZ_SOQL
@given(text=soql_texts)
def test_soql_queries_are_answered_or_refused_as_malformed(sf_app, text):
    token, _refresh = sf_app.issue_token()
    request = _request(
        "GET",
        "/services/data/v59.0/query",
        {"q": text},
        {"Authorization": f"Bearer {token}"},
        b"",
    )
    response = _answer(sf_app, request)
    check_sf_refusal("query", response)
