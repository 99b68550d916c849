"""Pure helpers of the Salesforce client: no network needed."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from sync.clients.salesforce import SalesforceClient, authorize_url, strip_attributes
from sync.clients.salesforce_bulk import csv_value, parse_bulk_error
from sync.clients.salesforce_http import endpoint_name
from sync.clients.salesforce_schema import (
    EXTERNAL_ID,
    OBJECT_NAMES,
    OBJECTS,
    subscriber_key,
    suppression_key,
)
from sync.clients.salesforce_types import RecordError, SalesforceTokens

BASE = "https://acme.my.salesforce.com/services/data/v62.0/"


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("PATCH", "composite/sobjects/CMS_List__c/CM_Key__c", "composite.sobjects.upsert"),
        ("POST", "composite/sobjects", "composite.sobjects.create"),
        ("PATCH", "composite/sobjects", "composite.sobjects.update"),
        ("DELETE", "composite/sobjects?ids=a,b", "composite.sobjects.delete"),
        ("GET", "query/?q=SELECT+Id+FROM+Contact", "query"),
        ("GET", "query/01gXX-2000", "query"),
        ("GET", "queryAll/?q=x", "queryAll"),
        ("POST", "jobs/ingest", "bulk2.ingest.create"),
        ("PUT", "jobs/ingest/750X/batches", "bulk2.ingest.upload"),
        ("GET", "jobs/ingest/750X", "bulk2.ingest.get"),
        ("GET", "jobs/ingest/750X/failedResults", "bulk2.ingest.results"),
        ("POST", "tooling/sobjects/CustomField/", "tooling.sobjects.create"),
        ("GET", "tooling/query/?q=x", "tooling.query"),
        ("GET", "limits/", "limits"),
        ("GET", "sobjects", "sobjects.global"),
        ("GET", "sobjects/Contact/describe", "sobjects.describe"),
        ("GET", "sobjects/Contact/003000000000001AAA", "sobjects.get"),
        ("PATCH", "sobjects/Contact/Ext__c/abc", "sobjects.upsert"),
        ("GET", "sobjects/Contact/Ext__c/abc", "sobjects.get_by_external_id"),
        ("GET", "tooling/sobjects/CustomField/00N000000000001AAA", "tooling.sobjects.get"),
        ("GET", "", "resources"),
    ],
)
def test_endpoint_names_group_calls_by_kind(method, path, name):
    assert endpoint_name(method, BASE + path) == name


def test_token_endpoint_is_named_apart_from_data_calls():
    assert endpoint_name("POST", "https://login.salesforce.com/services/oauth2/token") == (
        "oauth.token"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
            RecordError(
                "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"]
            ),
        ),
        (
            "INVALID_EMAIL_ADDRESS:Email: invalid email address: bad",
            RecordError("INVALID_EMAIL_ADDRESS", "Email: invalid email address: bad", []),
        ),
        ("something odd happened", RecordError("UNKNOWN_ERROR", "something odd happened", [])),
    ],
)
def test_bulk_error_cells_are_split_into_code_message_and_fields(text, expected):
    assert parse_bulk_error(text) == [expected]


def test_csv_cells_use_bulk_conventions():
    assert csv_value(None) == "#N/A"
    assert csv_value(True) == "true"
    assert csv_value(dt.datetime(2024, 5, 1, 12, 0)) == "2024-05-01T12:00:00+00:00"
    assert csv_value({"a": 1}) == '{"a": 1}'


def test_authorize_url_carries_the_web_server_flow_parameters():
    url = authorize_url("https://login.salesforce.com/", "cid", "https://app/cb", "xyz")
    parts = urlsplit(url)
    assert parts.path == "/services/oauth2/authorize"
    query = parse_qs(parts.query)
    assert query == {
        "response_type": ["code"],
        "client_id": ["cid"],
        "redirect_uri": ["https://app/cb"],
        "state": ["xyz"],
        "scope": ["api refresh_token"],
    }


def test_tokens_know_the_user_and_hide_secrets():
    tokens = SalesforceTokens(
        access_token="00Dsecret!token",
        instance_url="https://acme.my.salesforce.com",
        refresh_token="5Aep-refresh-secret",
        id_url="https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA",
    )
    assert tokens.user_id == "005000000000001AAA"
    assert tokens.org_id == "00D000000000001EAA"
    for text in (repr(tokens), str(tokens)):
        assert "secret" not in text


def test_client_repr_hides_tokens():
    client = SalesforceClient(
        "https://acme.my.salesforce.com",
        "00Dsecret!token",
        refresh_token="refresh-secret",
        client_secret="consumer-secret",
    )
    assert "secret" not in repr(client)
    assert "secret" not in str(client)
    client.close()


def test_strip_attributes_reaches_nested_records():
    row = {
        "attributes": {"type": "Contact"},
        "Id": "003",
        "Account": {"attributes": {"type": "Account"}, "Name": "Acme"},
    }
    assert strip_attributes(row) == {"Id": "003", "Account": {"Name": "Acme"}}


def test_schema_constants_name_every_object_with_the_shared_external_id():
    assert EXTERNAL_ID == "CM_Key__c"
    assert OBJECT_NAMES == (
        "CMS_Client__c",
        "CMS_List__c",
        "CMS_Subscriber__c",
        "CMS_Campaign__c",
        "CMS_Email_Tracking__c",
        "CMS_Suppression__c",
    )
    for spec in OBJECTS:
        key = spec.fields[0]
        assert (key.name, key.external_id, key.unique) == (EXTERNAL_ID, True, True)


def test_membership_keys_lowercase_the_address():
    assert subscriber_key("list1", " Ann@Example.COM ") == "list1:ann@example.com"
    assert suppression_key("client1", "Bob@X.org") == "client1:bob@x.org"
