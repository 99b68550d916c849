"""The sandbox's SOQL subset: what a simple-salesforce caller sees from `query/?q=`."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from sandbox.sf.soql import (
    MAX_OFFSET,
    Query,
    SoqlError,
    date_literal_range,
    execute,
    invalid_type_error,
    parse,
)

# Wednesday; THIS_WEEK (Sunday start) is 2024-05-12 .. 2024-05-18.
NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)

C1, C2, C3, C4 = (
    "003000000000001AAA",
    "003000000000002AAA",
    "003000000000003AAA",
    "003000000000004AAA",
)

CONTACT_FIELDS = [
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "AccountId",
    "OwnerId",
    "HasOptedOutOfEmail",
    "LastModifiedDate",
    "Birthdate",
    "Score__c",
    "CM_Key__c",
    "Partner__c",
]

CONTACTS = [
    {
        "Id": C1,
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "Email": "ada@example.com",
        "AccountId": "001A",
        "OwnerId": "005A",
        "HasOptedOutOfEmail": False,
        "LastModifiedDate": "2024-05-15T08:00:00.000+0000",  # today
        "Birthdate": "1815-12-10",
        "Score__c": 10,
        "CM_Key__c": "k1",
        "Partner__c": "001B",
    },
    {
        "Id": C2,
        "FirstName": "Grace",
        "LastName": "Hopper",
        "Email": "GRACE@Example.com",
        "AccountId": "001B",
        "OwnerId": "005A",
        "HasOptedOutOfEmail": True,
        "LastModifiedDate": "2024-05-14T23:59:59.000+0000",  # yesterday, last second
        "Birthdate": "1906-12-09",
        "Score__c": 25.5,
        "CM_Key__c": "k_2",
        "Partner__c": None,
    },
    {
        "Id": C3,
        "FirstName": "Alan",
        "LastName": "Turing",
        "Email": None,
        "AccountId": None,
        "OwnerId": None,
        "HasOptedOutOfEmail": False,
        "LastModifiedDate": "2024-04-30T00:00:00.000+0000",  # last month
        "Birthdate": None,
        "Score__c": None,
        "CM_Key__c": "k%3",
        "Partner__c": None,
    },
    {  # sparse record: no Email / Phone / Partner__c keys at all
        "Id": C4,
        "FirstName": "Pat",
        "LastName": "O'Brien",
        "AccountId": "001Z",  # dangling reference
        "HasOptedOutOfEmail": False,
        "LastModifiedDate": "2024-05-16T00:00:00.000+0000",  # tomorrow, first second
        "Birthdate": "2024-05-15",
        "Score__c": 0,
        "CM_Key__c": None,
    },
]

ACCOUNTS = {
    "001A": {"Id": "001A", "Name": "Acme", "OwnerId": "005A"},
    "001B": {"Id": "001B", "Name": "Globex", "OwnerId": None},
}
USERS = {"005A": {"Id": "005A", "Email": "owner@acme.test", "Name": "Olive"}}
REFERENCES = {  # relationship -> (reference field, target table)
    "Account": ("AccountId", ACCOUNTS),
    "Partner__r": ("Partner__c", ACCOUNTS),
    "Owner": ("OwnerId", USERS),
}


def get_parent(record: dict, relationship: str) -> dict | None:
    field, table = REFERENCES[relationship]
    return table.get(record.get(field))


def run(soql: str, records=None, **kwargs):
    kwargs.setdefault("field_names", CONTACT_FIELDS)
    kwargs.setdefault("get_parent", get_parent)
    kwargs.setdefault("now", NOW)
    return execute(parse(soql), CONTACTS if records is None else records, **kwargs)


def ids(soql: str, **kwargs) -> list[str]:
    return [row["Id"] for row in run(soql, **kwargs)]


def where(condition: str) -> list[str]:
    """Ids matching a WHERE clause, in stored order."""
    return ids(f"SELECT Id FROM Contact WHERE {condition}")


def error_of(soql: str, **kwargs) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        run(soql, **kwargs)
    return caught.value


# -- operators and values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Score__c = 10", [C1]),
        ("Score__c = 10.0", [C1]),
        ("Score__c != 10", [C2, C3, C4]),  # null counts as "not 10" in SOQL
        ("Score__c <> 10", [C2, C3, C4]),
        ("Score__c < 25.5", [C1, C4]),
        ("Score__c <= 25.5", [C1, C2, C4]),
        ("Score__c > 0", [C1, C2]),
        ("Score__c >= 0", [C1, C2, C4]),
        ("Score__c > -1.5", [C1, C2, C4]),
        ("Score__c = null", [C3]),
        ("Score__c != null", [C1, C2, C4]),
        ("Score__c < null", []),
        ("LastName = 'hopper'", [C2]),
        ("LastName != 'HOPPER'", [C1, C3, C4]),
        ("LastName > 'm'", [C3, C4]),
        ("LastName <= 'Lovelace'", [C1, C2]),
        ("LastName = 'O\\'Brien'", [C4]),
        ("Email = 'grace@example.com'", [C2]),
        ("Email = null", [C3, C4]),  # a missing key is null too
        ("Email != null", [C1, C2]),
        ("HasOptedOutOfEmail = TRUE", [C2]),
        ("HasOptedOutOfEmail = false", [C1, C3, C4]),
        ("HasOptedOutOfEmail != true", [C1, C3, C4]),
        ("Id = '003000000000003AAA'", [C3]),
        ("Phone = null", [C1, C2, C3, C4]),
    ],
)
def test_comparison_operators(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Email IN ('ada@example.com', 'grace@example.com')", [C1, C2]),
        ("Email IN ('nobody@example.com')", []),
        ("Email NOT IN ('ada@example.com')", [C2, C3, C4]),  # nulls are "not in"
        ("Email NOT IN ('ada@example.com', null)", [C2]),
        ("Email IN (null)", [C3, C4]),
        ("Email IN ('ada@example.com', NULL)", [C1, C3, C4]),
        ("Score__c IN (10, 0)", [C1, C4]),
        ("Score__c NOT IN (10, 0)", [C2, C3]),
        ("NOT Score__c IN (10, 0)", [C2, C3]),
        ("HasOptedOutOfEmail IN (true)", [C2]),
        ("LastModifiedDate IN (TODAY, YESTERDAY)", [C1, C2]),
    ],
)
def test_in_and_not_in(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Email LIKE '%@EXAMPLE.com'", [C1, C2]),
        ("Email LIKE '%'", [C1, C2]),  # null never matches LIKE
        ("FirstName LIKE 'A%'", [C1, C3]),
        ("FirstName LIKE 'a_a'", [C1]),
        ("FirstName LIKE '_'", []),
        ("FirstName LIKE 'ad'", []),  # LIKE matches the whole value
        ("LastName LIKE '%o%'", [C1, C2, C4]),
        ("CM_Key__c LIKE 'k_%'", [C1, C2, C3]),
        ("CM_Key__c LIKE 'k\\_%'", [C2]),  # escaped underscore is literal
        ("CM_Key__c LIKE 'k\\%3'", [C3]),  # escaped percent is literal
        ("LastName LIKE 'O\\'%'", [C4]),
        ("FirstName LIKE '.*'", []),  # regex characters are plain text
        ("NOT FirstName LIKE 'A%'", [C2, C4]),
    ],
)
def test_like_patterns(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # NOT binds to the condition right after it
        ("NOT Score__c = 10 AND HasOptedOutOfEmail = false", [C3, C4]),
        ("NOT (Score__c = 10 AND HasOptedOutOfEmail = false)", [C2, C3, C4]),
        ("NOT NOT Score__c = 10", [C1]),
        ("Score__c = 10 AND NOT Email = null", [C1]),
        ("Score__c = 10 OR Score__c = 0 OR Email = null", [C1, C3, C4]),
        ("Score__c >= 0 AND Email != null AND HasOptedOutOfEmail = false", [C1]),
        ("(Score__c = 10 OR HasOptedOutOfEmail = true) AND Email != null", [C1, C2]),
        ("Score__c = 0 OR (HasOptedOutOfEmail = true AND Email != null)", [C2, C4]),
        ("HasOptedOutOfEmail = false AND (LastName = 'Turing' OR LastName = 'Lovelace')", [C1, C3]),
        ("((Score__c = 10))", [C1]),
        ("(Score__c = 10 OR Score__c = 0) AND (FirstName LIKE 'P%' OR Email != null)", [C1, C4]),
    ],
)
def test_logical_operators_and_precedence(condition, expected):
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "bad_token"),
    [
        ("Score__c = 10 AND Email = null OR Score__c = 0", "OR"),
        ("Score__c = 10 OR Email = null AND Score__c = 0", "AND"),
        ("NOT Score__c = 10 or Email = null and Score__c = 0", "and"),
    ],
)
def test_mixing_and_or_without_parentheses_is_rejected_like_salesforce(condition, bad_token):
    error = error_of(f"SELECT Id FROM Contact WHERE {condition}")
    assert error.error_code == "MALFORMED_QUERY"
    assert error.detail == f"unexpected token: '{bad_token}'"


# -- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("LastModifiedDate = TODAY", [C1]),
        ("LastModifiedDate = YESTERDAY", [C2]),
        ("LastModifiedDate = TOMORROW", [C4]),
        ("LastModifiedDate != TODAY", [C2, C3, C4]),
        ("LastModifiedDate > TODAY", [C4]),
        ("LastModifiedDate >= TODAY", [C1, C4]),
        ("LastModifiedDate < TODAY", [C2, C3]),
        ("LastModifiedDate <= TODAY", [C1, C2, C3]),
        ("LastModifiedDate = LAST_N_DAYS:1", [C1, C2]),  # includes today, like Salesforce
        ("LastModifiedDate = LAST_N_DAYS:15", [C1, C2, C3]),
        ("LastModifiedDate = LAST_N_DAYS:14", [C1, C2]),
        ("LastModifiedDate = NEXT_N_DAYS:1", [C4]),  # starts tomorrow
        ("LastModifiedDate = N_DAYS_AGO:15", [C3]),
        ("LastModifiedDate = THIS_WEEK", [C1, C2, C4]),
        ("LastModifiedDate = LAST_WEEK", []),
        ("LastModifiedDate = THIS_MONTH", [C1, C2, C4]),
        ("LastModifiedDate = LAST_MONTH", [C3]),
        ("LastModifiedDate < THIS_MONTH", [C3]),
        ("LastModifiedDate = this_year", [C1, C2, C3, C4]),
        # a date literal on a datetime field covers the whole UTC day
        ("LastModifiedDate = 2024-05-14", [C2]),
        ("LastModifiedDate > 2024-05-14", [C1, C4]),
        ("LastModifiedDate <= 2024-05-14", [C2, C3]),
        ("LastModifiedDate >= 2024-05-16", [C4]),
        # datetime literals, with offsets and fractions
        ("LastModifiedDate > 2024-05-15T07:59:59Z", [C1, C4]),
        ("LastModifiedDate = 2024-05-15T08:00:00Z", [C1]),
        ("LastModifiedDate < 2024-05-15T10:00:00+02:00", [C2, C3]),
        ("LastModifiedDate <= 2024-05-15T10:00:00.000+0200", [C1, C2, C3]),
        ("LastModifiedDate >= 2024-05-14T19:59:59-04:00", [C1, C2, C4]),
        ("LastModifiedDate = 2024-05-14T23:59:59.000Z", [C2]),
        # date fields
        ("Birthdate = TODAY", [C4]),
        ("Birthdate < 1900-01-01", [C1]),
        ("Birthdate = 1906-12-09", [C2]),
        ("Birthdate != 1906-12-09", [C1, C3, C4]),
        ("Birthdate = LAST_N_DAYS:30", [C4]),
        ("Birthdate = null", [C3]),
        ("Birthdate > YESTERDAY", [C4]),
    ],
)
def test_dates_against_fixed_now(condition, expected):
    assert where(condition) == expected


def test_naive_now_is_taken_as_utc():
    rows = run("SELECT Id FROM Contact WHERE LastModifiedDate = TODAY", now=datetime(2024, 5, 15))
    assert [row["Id"] for row in rows] == [C1]


def test_aware_now_is_converted_to_utc_days():
    tokyo_morning = datetime.fromisoformat("2024-05-16T02:00:00+09:00")  # 2024-05-15 17:00 UTC
    rows = run("SELECT Id FROM Contact WHERE LastModifiedDate = TODAY", now=tokyo_morning)
    assert [row["Id"] for row in rows] == [C1]


@pytest.mark.parametrize(
    ("name", "amount", "expected"),
    [
        ("TODAY", None, (date(2024, 5, 15), date(2024, 5, 16))),
        ("YESTERDAY", None, (date(2024, 5, 14), date(2024, 5, 15))),
        ("TOMORROW", None, (date(2024, 5, 16), date(2024, 5, 17))),
        ("THIS_WEEK", None, (date(2024, 5, 12), date(2024, 5, 19))),
        ("LAST_WEEK", None, (date(2024, 5, 5), date(2024, 5, 12))),
        ("NEXT_WEEK", None, (date(2024, 5, 19), date(2024, 5, 26))),
        ("THIS_MONTH", None, (date(2024, 5, 1), date(2024, 6, 1))),
        ("LAST_MONTH", None, (date(2024, 4, 1), date(2024, 5, 1))),
        ("NEXT_MONTH", None, (date(2024, 6, 1), date(2024, 7, 1))),
        ("THIS_QUARTER", None, (date(2024, 4, 1), date(2024, 7, 1))),
        ("LAST_QUARTER", None, (date(2024, 1, 1), date(2024, 4, 1))),
        ("NEXT_QUARTER", None, (date(2024, 7, 1), date(2024, 10, 1))),
        ("THIS_YEAR", None, (date(2024, 1, 1), date(2025, 1, 1))),
        ("LAST_YEAR", None, (date(2023, 1, 1), date(2024, 1, 1))),
        ("NEXT_YEAR", None, (date(2025, 1, 1), date(2026, 1, 1))),
        ("LAST_90_DAYS", None, (date(2024, 2, 15), date(2024, 5, 16))),
        ("NEXT_90_DAYS", None, (date(2024, 5, 16), date(2024, 8, 14))),
        ("LAST_N_DAYS", 7, (date(2024, 5, 8), date(2024, 5, 16))),
        ("NEXT_N_DAYS", 7, (date(2024, 5, 16), date(2024, 5, 23))),
        ("N_DAYS_AGO", 3, (date(2024, 5, 12), date(2024, 5, 13))),
        ("LAST_N_WEEKS", 2, (date(2024, 4, 28), date(2024, 5, 12))),
        ("NEXT_N_WEEKS", 2, (date(2024, 5, 19), date(2024, 6, 2))),
        ("LAST_N_MONTHS", 2, (date(2024, 3, 1), date(2024, 5, 1))),
        ("NEXT_N_MONTHS", 2, (date(2024, 6, 1), date(2024, 8, 1))),
    ],
)
def test_date_literal_ranges(name, amount, expected):
    assert date_literal_range(name, amount, date(2024, 5, 15)) == expected


def test_week_literals_on_a_sunday_start_that_day():
    assert date_literal_range("THIS_WEEK", None, date(2024, 5, 12)) == (
        date(2024, 5, 12),
        date(2024, 5, 19),
    )


# -- projection, parents, canonical keys ---------------------------------------------------


def test_rows_have_selected_fields_in_order_without_attributes():
    rows = run("SELECT LastName, Id, Score__c FROM Contact WHERE Id = '003000000000001AAA'")
    assert rows == [{"LastName": "Lovelace", "Id": C1, "Score__c": 10}]
    assert list(rows[0]) == ["LastName", "Id", "Score__c"]


def test_field_names_and_keywords_are_case_insensitive_and_output_is_canonical():
    rows = run(
        "select ID, EMAIL, lastname, cm_key__C from CONTACT "
        "where LASTNAME = 'Hopper' and hasoptedoutofemail = True order by EMAIL desc limit 5"
    )
    assert rows == [
        {"Id": C2, "Email": "GRACE@Example.com", "LastName": "Hopper", "CM_Key__c": "k_2"}
    ]


def test_canonical_keys_come_from_records_when_fields_are_not_declared():
    rows = run(
        "SELECT email, LASTNAME FROM Contact WHERE id = '003000000000002AAA'", field_names=None
    )
    assert rows == [{"Email": "GRACE@Example.com", "LastName": "Hopper"}]


def test_declared_field_missing_from_a_record_comes_back_null_with_declared_spelling():
    rows = run("SELECT Id, phone, email FROM Contact WHERE LastName = 'O\\'Brien'")
    assert rows == [{"Id": C4, "Phone": None, "Email": None}]


def test_undeclared_unknown_field_is_null_when_no_field_list_is_given():
    rows = run("SELECT Id, Nickname__c FROM Contact LIMIT 1", field_names=None)
    assert rows == [{"Id": C1, "Nickname__c": None}]


def test_id_is_always_allowed_even_if_not_declared():
    assert run("SELECT id FROM Contact LIMIT 1", field_names=["Email"]) == [{"Id": C1}]


def test_rows_are_copies_not_the_stored_records():
    rows = run("SELECT Id, Email FROM Contact LIMIT 1")
    rows[0]["Email"] = "changed@example.com"
    assert CONTACTS[0]["Email"] == "ada@example.com"


def test_parent_fields_come_back_nested_and_null_without_parent():
    rows = run("SELECT Id, Account.Name FROM Contact")
    assert rows == [
        {"Id": C1, "Account": {"Name": "Acme"}},
        {"Id": C2, "Account": {"Name": "Globex"}},
        {"Id": C3, "Account": None},
        {"Id": C4, "Account": None},  # dangling reference
    ]


def test_parent_fields_of_one_relationship_merge_into_one_object():
    rows = run("SELECT account.name, Email, ACCOUNT.id FROM Contact WHERE Score__c = 10")
    assert rows == [{"Account": {"Name": "Acme", "Id": "001A"}, "Email": "ada@example.com"}]
    assert list(rows[0]) == ["Account", "Email"]


def test_two_level_parent_fields():
    rows = run("SELECT Id, Account.Owner.Email, Owner.Name FROM Contact WHERE Email != null")
    assert rows == [
        {"Id": C1, "Account": {"Owner": {"Email": "owner@acme.test"}}, "Owner": {"Name": "Olive"}},
        {"Id": C2, "Account": {"Owner": None}, "Owner": {"Name": "Olive"}},
    ]


def test_custom_relationship_uses_r_suffix():
    rows = run("SELECT Id, Partner__r.Name FROM Contact WHERE Partner__r.Name != null")
    assert rows == [{"Id": C1, "Partner__r": {"Name": "Globex"}}]


def test_get_parent_receives_canonical_relationship_names():
    seen = []

    def recording_get_parent(record, relationship):
        seen.append(relationship)
        return get_parent(record, relationship)

    run("SELECT account.NAME FROM Contact LIMIT 1", get_parent=recording_get_parent)
    assert seen == ["Account"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Account.Name = 'acme'", [C1]),
        ("Account.Name = null", [C3, C4]),
        ("Account.Name LIKE 'G%'", [C2]),
        ("Account.Owner.Email = 'owner@acme.test'", [C1]),
        ("Owner.Name IN ('Olive')", [C1, C2]),
    ],
)
def test_parent_fields_in_where(condition, expected):
    assert where(condition) == expected


def test_object_name_or_alias_may_qualify_fields():
    assert run("SELECT Contact.Email FROM Contact WHERE Contact.Score__c = 10") == [
        {"Email": "ada@example.com"}
    ]
    assert run("SELECT c.Email, c.Account.Name FROM Contact c WHERE c.Score__c = 10") == [
        {"Email": "ada@example.com", "Account": {"Name": "Acme"}}
    ]


# -- COUNT(), ORDER BY, LIMIT/OFFSET -------------------------------------------------------


@pytest.mark.parametrize(
    ("soql", "expected"),
    [
        ("SELECT COUNT() FROM Contact", 4),
        ("select count ( ) from contact", 4),
        ("SELECT COUNT() FROM Contact WHERE Email = null", 2),
        ("SELECT COUNT() FROM Contact WHERE Email = 'nobody@example.com'", 0),
        ("SELECT COUNT() FROM Contact LIMIT 3", 3),
        ("SELECT COUNT() FROM Contact LIMIT 10 OFFSET 3", 1),
    ],
)
def test_count(soql, expected):
    query = parse(soql)
    assert query.is_count and query.fields == []
    assert run(soql) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("Score__c", [C3, C4, C1, C2]),  # ASC NULLS FIRST by default
        ("Score__c ASC", [C3, C4, C1, C2]),
        ("Score__c DESC", [C2, C1, C4, C3]),  # DESC NULLS LAST by default
        ("Score__c ASC NULLS LAST", [C4, C1, C2, C3]),
        ("Score__c DESC NULLS FIRST", [C3, C2, C1, C4]),
        ("Email", [C3, C4, C1, C2]),  # text sorts case-insensitively
        ("LastName", [C2, C1, C4, C3]),
        ("LastModifiedDate DESC", [C4, C1, C2, C3]),
        ("Birthdate NULLS LAST", [C1, C2, C4, C3]),
        ("HasOptedOutOfEmail, LastName DESC", [C3, C4, C1, C2]),
        ("HasOptedOutOfEmail DESC, Score__c DESC NULLS FIRST", [C2, C3, C1, C4]),
        ("Account.Name DESC NULLS LAST, LastName", [C2, C1, C4, C3]),
        ("Account.Name NULLS FIRST, LastName DESC", [C3, C4, C1, C2]),
    ],
)
def test_order_by(order_by, expected):
    assert ids(f"SELECT Id FROM Contact ORDER BY {order_by}") == expected


def test_order_by_compares_datetimes_across_offsets():
    records = [
        {"Id": "a", "LastModifiedDate": "2024-01-01T09:00:00.000+0000"},
        {"Id": "b", "LastModifiedDate": "2024-01-01T10:00:00.000+0200"},  # 08:00 UTC
    ]
    rows = run("SELECT Id FROM Contact ORDER BY LastModifiedDate", records=records)
    assert [row["Id"] for row in rows] == ["b", "a"]


def test_order_by_keeps_stored_order_for_ties():
    records = [{"Id": str(i), "LastName": "Same"} for i in range(5)]
    rows = run("SELECT Id FROM Contact ORDER BY LastName DESC", records=records)
    assert [row["Id"] for row in rows] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("LIMIT 2", [C2, C1]),
        ("LIMIT 2 OFFSET 1", [C1, C4]),
        ("OFFSET 3", [C3]),
        ("LIMIT 0", []),
        ("LIMIT 100", [C2, C1, C4, C3]),
        ("OFFSET 10", []),
        (f"OFFSET {MAX_OFFSET}", []),
    ],
)
def test_limit_and_offset(clause, expected):
    assert ids(f"SELECT Id FROM Contact ORDER BY LastName {clause}") == expected


def test_offset_above_2000_is_number_outside_valid_range():
    error = error_of("SELECT Id FROM Contact OFFSET 2001")
    assert error.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert error.detail == "Maximum SOQL offset allowed is 2000"


def test_records_are_streamed_without_order_by():
    def endless_contacts():
        for n in itertools.count():
            yield {"Id": f"003{n:015d}", "Score__c": n}

    rows = run("SELECT Id FROM Contact WHERE Score__c > 5 LIMIT 3 OFFSET 1", endless_contacts())
    assert [row["Id"] for row in rows] == [f"003{n:015d}" for n in (7, 8, 9)]


def test_records_can_be_any_iterable():
    assert run("SELECT COUNT() FROM Contact", records=iter(CONTACTS)) == 4


def test_parsed_query_exposes_its_parts():
    query = parse(
        "SELECT Id, Account.Name FROM Contact WHERE Email != null "
        "ORDER BY LastName DESC NULLS FIRST LIMIT 10 OFFSET 5"
    )
    assert isinstance(query, Query)
    assert query.sobject == "Contact"
    assert [ref.path for ref in query.fields] == [("Id",), ("Account", "Name")]
    assert query.where is not None
    assert [(key.field.text, key.descending, key.nulls_first) for key in query.order_by] == [
        ("LastName", True, True)
    ]
    assert (query.limit, query.offset, query.is_count) == (10, 5, False)


def test_for_view_and_for_reference_are_accepted():
    assert ids("SELECT Id FROM Contact WHERE Score__c = 10 FOR VIEW") == [C1]
    assert ids("SELECT Id FROM Contact LIMIT 1 for reference") == [C1]


def test_string_escapes_decode():
    records = [{"Id": "x", "LastName": 'a\nb\\c"d\te'}, {"Id": "y", "LastName": "é"}]
    rows = run("SELECT Id FROM Contact WHERE LastName = 'a\\nb\\\\c\\\"d\\te'", records=records)
    assert rows == [{"Id": "x"}]
    assert run("SELECT Id FROM Contact WHERE LastName = '\\u00e9'", records=records) == [
        {"Id": "y"}
    ]


def test_whitespace_and_newlines_between_tokens_are_free():
    soql = "SELECT\n  Id,\n  Email\nFROM\tContact\nWHERE Score__c=10"
    assert run(soql) == [{"Id": C1, "Email": "ada@example.com"}]


# -- malformed queries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("soql", "detail"),
    [
        # clause structure
        ("", "unexpected token: <EOF>"),
        ("Id FROM Contact", "unexpected token: 'Id'"),
        ("SELECT Id", "unexpected token: <EOF>"),
        ("SELECT Id Contact", "unexpected token: 'Contact'"),
        ("SELECT Id FORM Contact", "unexpected token: 'FORM'"),
        ("SELECT FROM Contact", "unexpected token: 'FROM'"),
        ("SELECT Id, FROM Contact", "unexpected token: 'FROM'"),
        ("SELECT Id,, Email FROM Contact", "unexpected token: ','"),
        ("SELECT Id FROM", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact.Account", "unexpected token: 'Contact.Account'"),
        ("SELECT Id FROM Contact WHERE", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE Email", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE Email =", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact ORDER Email", "unexpected token: 'Email'"),
        ("SELECT Id FROM Contact ORDER BY", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact ORDER BY Email NULLS", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact ORDER BY Email NULLS MIDDLE", "unexpected token: 'MIDDLE'"),
        ("SELECT Id FROM Contact OFFSET 1 LIMIT 1", "unexpected token: 'LIMIT'"),
        ("SELECT Id FROM Contact LIMIT 1 WHERE Email = null", "unexpected token: 'WHERE'"),
        ("SELECT Id FROM Contact WHERE AND = 1", "unexpected token: 'AND'"),
        # trailing garbage
        ("SELECT Id FROM Contact LIMIT 5 garbage", "unexpected token: 'garbage'"),
        ("SELECT Id FROM Contact WHERE Email = 'a' 'b'", "unexpected token: ''b''"),
        ("SELECT Id FROM Contact;", "line 1:22 no viable alternative at character ';'"),
        # parentheses
        ("SELECT Id FROM Contact WHERE (Email = 'a'", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE ((Email = 'a')", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE Email = 'a')", "unexpected token: ')'"),
        ("SELECT Id FROM Contact WHERE ()", "unexpected token: ')'"),
        ("SELECT Id FROM Contact WHERE Email IN ()", "unexpected token: ')'"),
        ("SELECT Id FROM Contact WHERE Email IN ('a'", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE Email IN 'a'", "unexpected token: ''a''"),
        # operators
        ("SELECT Id FROM Contact WHERE Email == 'a'", "unexpected token: '='"),
        ("SELECT Id FROM Contact WHERE Email CONTAINS 'a'", "unexpected token: 'CONTAINS'"),
        (
            "SELECT Id FROM Contact WHERE Email ~ 'a'",
            "line 1:35 no viable alternative at character '~'",
        ),
        ("SELECT Id FROM Contact WHERE Email NOT 'a'", "unexpected token: ''a''"),
        ("SELECT Id FROM Contact WHERE Email LIKE 5", "unexpected token: '5'"),
        ("SELECT Id FROM Contact WHERE Email LIKE null", "unexpected token: 'null'"),
        # literals
        ("SELECT Id FROM Contact WHERE Email = foo", "unexpected token: 'foo'"),
        (
            'SELECT Id FROM Contact WHERE Email = "a"',
            "line 1:37 no viable alternative at character '\"'",
        ),
        (
            "SELECT Id FROM Contact WHERE Email = 'a",
            "line 1:39 mismatched character '<EOF>' expecting '''",
        ),
        ("SELECT Id FROM Contact WHERE Birthdate = 2024-13-01", "Invalid date: 2024-13-01"),
        ("SELECT Id FROM Contact WHERE Birthdate = 2024-02-30", "Invalid date: 2024-02-30"),
        (
            "SELECT Id FROM Contact WHERE LastModifiedDate > 2024-01-31T25:00:00Z",
            "Invalid datetime: 2024-01-31T25:00:00Z",
        ),
        (
            "SELECT Id FROM Contact WHERE LastModifiedDate > 2024-01-31T10:00:00",
            "line 1:67 no viable alternative at character '<EOF>'",
        ),
        (
            "SELECT Id FROM Contact WHERE LastModifiedDate = LAST_N_DAYS",
            "unexpected token: 'LAST_N_DAYS'",
        ),
        ("SELECT Id FROM Contact WHERE LastModifiedDate = TODAY:3", "unexpected token: 'TODAY:3'"),
        (
            "SELECT Id FROM Contact WHERE LastModifiedDate = LAST_FORTNIGHT",
            "unexpected token: 'LAST_FORTNIGHT'",
        ),
        ("SELECT Id FROM Contact WHERE Email = :email", "Bind variables only allowed in Apex code"),
        ("SELECT Id FROM Contact LIMIT -1", "unexpected token: '-1'"),
        ("SELECT Id FROM Contact LIMIT 1.5", "unexpected token: '1.5'"),
        ("SELECT Id FROM Contact LIMIT 'ten'", "unexpected token: ''ten''"),
        ("SELECT Id FROM Contact OFFSET many", "unexpected token: 'many'"),
        # select list
        ("SELECT Id, id FROM Contact", "duplicate field selected: id"),
        ("SELECT Id, COUNT() FROM Contact", "COUNT() must be the only item in the SELECT list"),
        ("SELECT COUNT(), Id FROM Contact", "unexpected token: ','"),
    ],
)
def test_malformed_queries(soql, detail):
    with pytest.raises(SoqlError) as caught:
        parse(soql)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert caught.value.detail == detail
    assert str(caught.value).endswith("\n" + detail)


def test_invalid_escape_in_string_literal():
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id FROM Contact WHERE Email = 'a\\qb'")
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "Illegal character sequence '\\q' in string literal" in caught.value.detail


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT COUNT(Id) FROM Contact",
        "SELECT Id, (SELECT Id FROM Cases) FROM Account",
        "SELECT Id FROM Contact WHERE AccountId IN (SELECT Id FROM Account)",
        "SELECT Id FROM Contact WHERE Interests__c INCLUDES ('a')",
        "SELECT toLabel(Status) FROM Lead",
    ],
)
def test_unsupported_soql_is_rejected_with_a_clear_message(soql):
    with pytest.raises(SoqlError) as caught:
        parse(soql)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "not supported by the sandbox" in caught.value.detail


def test_malformed_message_points_at_the_token_like_salesforce():
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id FORM Contact")
    assert str(caught.value) == (
        "\nSELECT Id FORM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'"
    )


def test_error_position_counts_rows_and_columns_on_multiline_queries():
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id\nFROM Contact\nWHERE Email = 'a' AND Score__c = 1 OR Score__c = 2")
    lines = str(caught.value).split("\n")
    assert lines[1] == "WHERE Email = 'a' AND Score__c = 1 OR Score__c = 2"
    assert lines[2] == " " * 35 + "^"
    assert lines[3] == "ERROR at Row:3:Column:36"


def test_long_query_snippet_is_a_window_around_the_error():
    soql = "SELECT Id FROM Contact WHERE " + " AND ".join(f"Score__c != {n}" for n in range(20))
    with pytest.raises(SoqlError) as caught:
        parse(soql + " OR Email = null")
    _, snippet, caret, _, _ = str(caught.value).split("\n")
    assert caret == " " * 40 + "^"
    assert snippet[40:42] == "OR"


def test_overlong_query_is_malformed():
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id FROM Contact WHERE Email = '" + "x" * 100_000 + "'")
    assert caught.value.error_code == "MALFORMED_QUERY"


# -- invalid fields and types --------------------------------------------------------------


@pytest.mark.parametrize(
    ("soql", "column"),
    [
        ("SELECT Id, Foo FROM Contact", 12),
        ("SELECT Id FROM Contact WHERE Foo = 1", 30),
        ("SELECT Id FROM Contact WHERE Email = null AND NOT Foo IN (1)", 51),
        ("SELECT Id FROM Contact ORDER BY Foo", 33),
        ("SELECT COUNT() FROM Contact WHERE Foo = null", 35),
    ],
)
def test_unknown_field_is_invalid_field(soql, column):
    error = error_of(soql, records=[])
    assert error.error_code == "INVALID_FIELD"
    assert error.detail.startswith(
        "No such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, "
        "be sure to append the '__c' after the custom field name."
    )
    assert f"ERROR at Row:1:Column:{column}\n" in str(error)


def test_unknown_relationship_is_invalid_field():
    error = error_of("SELECT Id, Acount.Name FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert error.detail.startswith("Didn't understand relationship 'Acount' in field path.")


def test_unknown_object_error_for_the_server():
    error = invalid_type_error(parse("SELECT Id FROM Contactz WHERE Email = null"))
    assert error.error_code == "INVALID_TYPE"
    assert error.detail.startswith("sObject type 'Contactz' is not supported.")
    assert "ERROR at Row:1:Column:16\n" in str(error)


def test_no_field_validation_without_declared_fields():
    assert run("SELECT Id FROM Contact WHERE Foo = 1", field_names=None) == []


CONTACT_TYPES = {
    "Id": "id",
    "Email": "email",
    "LastName": "string",
    "HasOptedOutOfEmail": "boolean",
    "LastModifiedDate": "datetime",
    "Birthdate": "date",
    "Score__c": "double",
}


@pytest.mark.parametrize(
    ("condition", "detail"),
    [
        (
            "LastModifiedDate > 2024-05-01",
            "value of filter criterion for field 'LastModifiedDate' must be of type dateTime "
            "and should not be enclosed in quotes",
        ),
        (
            "LastModifiedDate > '2024-05-01T00:00:00Z'",
            "value of filter criterion for field 'LastModifiedDate' must be of type dateTime "
            "and should not be enclosed in quotes",
        ),
        (
            "Birthdate = 2024-05-01T00:00:00Z",
            "value of filter criterion for field 'Birthdate' must be of type date "
            "and should not be enclosed in quotes",
        ),
        (
            "Email IN ('a@example.com', 5)",
            "value of filter criterion for field 'Email' must be of type string "
            "and should be enclosed in quotes",
        ),
        (
            "HasOptedOutOfEmail = 'true'",
            "value of filter criterion for field 'HasOptedOutOfEmail' must be of type boolean "
            "and should not be enclosed in quotes",
        ),
        (
            "Score__c = '10'",
            "value of filter criterion for field 'Score__c' must be of type double "
            "and should not be enclosed in quotes",
        ),
        (
            "LastName = TODAY",
            "value of filter criterion for field 'LastName' must be of type string "
            "and should be enclosed in quotes",
        ),
    ],
)
def test_literal_of_wrong_type_is_invalid_field_when_types_are_known(condition, detail):
    error = error_of(f"SELECT Id FROM Contact WHERE {condition}", field_types=CONTACT_TYPES)
    assert error.error_code == "INVALID_FIELD"
    assert error.detail == detail


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("LastModifiedDate = TODAY", [C1]),
        ("LastModifiedDate > 2024-05-15T07:59:59Z", [C1, C4]),
        ("Birthdate = 1906-12-09", [C2]),
        ("Email = null", [C3, C4]),
        ("HasOptedOutOfEmail = true", [C2]),
        ("Score__c IN (10, 25.5)", [C1, C2]),
        ("Id = '003000000000004AAA'", [C4]),
    ],
)
def test_literals_of_the_right_type_pass_type_checks(condition, expected):
    rows = run(f"SELECT Id FROM Contact WHERE {condition}", field_types=CONTACT_TYPES)
    assert [row["Id"] for row in rows] == expected


def test_order_is_a_valid_object_and_relationship_name():
    query = parse("SELECT Id, Order.OrderNumber FROM OrderItem WHERE Order.Status = 'Draft'")
    assert [ref.path for ref in query.fields] == [("Id",), ("Order", "OrderNumber")]
    assert parse("SELECT Id FROM Order ORDER BY OrderNumber").sobject == "Order"
