"""The Salesforce client of cmsync: HTTP only, built on simple-salesforce.

One :class:`SalesforceClient` per org connection per run. It owns a :class:`SalesforceSession`
(timeouts, retries, call counting, ``Sforce-Limit-Info``, token refresh, the daily-limit stop)
and a simple-salesforce ``Salesforce`` object in "direct" mode on top of it.

Writes return one :class:`RecordResult` per input row, in input order: sObject Collections
(200 rows a call) below ``bulk_threshold`` rows, Bulk API 2.0 at or above it. Reads stream.
Every failure surfaces as one of the typed errors in :mod:`sync.clients.errors`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sized
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from simple_salesforce import Salesforce
from simple_salesforce.format import format_soql

from .counting import CallCounter
from .errors import ApiError, AuthError, PermanentError, RateLimited
from .salesforce_auth import (
    DEFAULT_SCOPE,
    authorize_url,
    exchange_code,
    password_grant,
    refresh_access_token,
)
from .salesforce_bulk import BulkWriter
from .salesforce_errors import map_salesforce_error
from .salesforce_http import DEFAULT_TIMEOUT, SalesforceSession
from .salesforce_types import ApiUsage, RecordError, RecordResult, SalesforceTokens

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_LOGIN_URL",
    "DEFAULT_SCOPE",
    "COLLECTION_LIMIT",
    "ApiUsage",
    "RecordError",
    "RecordResult",
    "SalesforceClient",
    "SalesforceTokens",
    "authorize_url",
    "exchange_code",
    "password_grant",
    "refresh_access_token",
]

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "62.0"
DEFAULT_LOGIN_URL = "https://login.salesforce.com"
COLLECTION_LIMIT = 200  # records per sObject Collections call
DEFAULT_BULK_THRESHOLD = 2000  # Salesforce's own advice: Bulk 2.0 above ~2,000 rows

T = TypeVar("T")
Reauthenticate = Callable[[requests.Session], SalesforceTokens]


class SalesforceClient:
    """A Salesforce org connection for one sync run. Secrets never appear in repr/str/errors."""

    def __init__(
        self,
        instance_url: str,
        access_token: str,
        *,
        refresh_token: str | None = None,
        login_url: str = DEFAULT_LOGIN_URL,
        client_id: str = "",
        client_secret: str = "",
        on_token_refresh: Callable[[SalesforceTokens], None] | None = None,
        ca_bundle: str | Path | None = None,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        bulk_threshold: int = DEFAULT_BULK_THRESHOLD,
        bulk_poll_seconds: float = 2.0,
        bulk_job_rows: int | None = 100_000,
        calls: CallCounter | None = None,
        id_url: str = "",
        reauthenticate: Reauthenticate | None = None,
    ) -> None:
        self.login_url = login_url.rstrip("/")
        self.api_version = api_version.lstrip("vV")
        self.bulk_threshold = bulk_threshold
        self.on_token_refresh = on_token_refresh
        self._client_id = client_id
        self._client_secret = client_secret
        self._reauthenticate = reauthenticate
        self._session = SalesforceSession(
            ca_bundle=ca_bundle,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            calls=calls,
        )
        self._session.refresher = self._refresh_after_401
        self._tokens = SalesforceTokens(
            access_token=access_token,
            instance_url=instance_url.rstrip("/"),
            refresh_token=refresh_token,
            id_url=id_url,
        )
        self._sf = self._build_sf(self._tokens)
        self._bulk = BulkWriter(
            lambda: self._sf, poll_seconds=bulk_poll_seconds, job_rows=bulk_job_rows
        )

    # Construction ----------------------------------------------------------------------------
    @classmethod
    def from_tokens(cls, tokens: SalesforceTokens, **kwargs: Any) -> SalesforceClient:
        return cls(
            tokens.instance_url,
            tokens.access_token,
            refresh_token=tokens.refresh_token,
            id_url=tokens.id_url,
            **kwargs,
        )

    @classmethod
    def password_login(
        cls,
        login_url: str,
        username: str,
        password: str,
        client_id: str,
        client_secret: str,
        ca_bundle: str | Path | None = None,
        **kwargs: Any,
    ) -> SalesforceClient:
        """Log in with the username-password flow. That flow gives no refresh token, so an
        expired session is renewed by logging in again the same way."""

        def login_again(session: requests.Session) -> SalesforceTokens:
            return password_grant(
                login_url, username, password, client_id, client_secret, session=session
            )

        calls = kwargs.pop("calls", None)
        session = SalesforceSession(ca_bundle=ca_bundle, calls=calls)
        try:
            tokens = login_again(session)
        finally:
            session.close()
        return cls.from_tokens(
            tokens,
            login_url=login_url,
            client_id=client_id,
            client_secret=client_secret,
            ca_bundle=ca_bundle,
            calls=session.calls,
            reauthenticate=login_again,
            **kwargs,
        )

    def _build_sf(self, tokens: SalesforceTokens) -> Salesforce:
        self._session.access_token = tokens.access_token
        return Salesforce(
            instance_url=tokens.instance_url,
            session_id=tokens.access_token,
            session=self._session,
            version=self.api_version,
            object_pairs_hook=dict,
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<SalesforceClient {self._tokens.instance_url} v{self.api_version} "
            f"calls={self.calls.total}>"
        )

    __str__ = __repr__

    # State -----------------------------------------------------------------------------------
    @property
    def calls(self) -> CallCounter:
        """HTTP requests made by this client, per endpoint (retries, refreshes, polls included)."""
        return self._session.calls

    @property
    def api_usage(self) -> ApiUsage | None:
        """(used, max) of the org's daily API requests, from the last Sforce-Limit-Info header."""
        return self._session.api_usage

    @property
    def tokens(self) -> SalesforceTokens:
        """The tokens in use now (they change after a refresh)."""
        return self._tokens

    @property
    def instance_url(self) -> str:
        return self._tokens.instance_url

    @property
    def user_id(self) -> str:
        return self._tokens.user_id

    @property
    def sf(self) -> Salesforce:
        """The underlying simple-salesforce object, for calls this class does not wrap."""
        return self._sf

    # Token refresh ---------------------------------------------------------------------------
    def _refresh_after_401(self, stale_token: str) -> None:
        """Called by the session on 401 INVALID_SESSION_ID; installs fresh tokens or raises."""
        if self._tokens.refresh_token:
            tokens = refresh_access_token(
                self.login_url,
                self._tokens.refresh_token,
                self._client_id,
                self._client_secret,
                session=self._session,
            )
        elif self._reauthenticate is not None:
            tokens = self._reauthenticate(self._session)
        else:
            raise AuthError(
                "The Salesforce session expired and no refresh token is stored: reconnect "
                "Salesforce",
                code="INVALID_SESSION_ID",
                status=401,
            )
        self._install_tokens(tokens)
        if self.on_token_refresh is None:
            return
        try:
            self.on_token_refresh(tokens)
        except Exception:  # the call itself can still go on with the new token
            logger.exception("Storing the refreshed Salesforce tokens failed")

    def _install_tokens(self, tokens: SalesforceTokens) -> None:
        if not tokens.id_url and self._tokens.id_url:
            tokens = SalesforceTokens(
                access_token=tokens.access_token,
                instance_url=tokens.instance_url,
                refresh_token=tokens.refresh_token,
                id_url=self._tokens.id_url,
                issued_at=tokens.issued_at,
            )
        instance_changed = tokens.instance_url and tokens.instance_url != self._tokens.instance_url
        self._tokens = tokens
        if instance_changed:
            self._sf = self._build_sf(tokens)
            return
        self._session.access_token = tokens.access_token
        self._sf.session_id = tokens.access_token
        self._sf.headers["Authorization"] = "Bearer " + tokens.access_token

    # Calling simple-salesforce ---------------------------------------------------------------
    def _call(self, endpoint: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return func(*args, **kwargs)
        except ApiError:
            raise
        except Exception as exc:  # simple-salesforce / requests errors, mapped to typed ones
            raise self._mapped(exc, endpoint) from exc

    def _mapped(self, exc: BaseException, endpoint: str) -> ApiError:
        error = map_salesforce_error(exc, endpoint)
        if isinstance(error, RateLimited) and error.retry_after is None:
            error.retry_after = self._session.last_retry_after
        return error

    def _restful(self, endpoint: str, path: str, method: str, body: Any = None, **kw: Any) -> Any:
        if body is not None:
            kw["data"] = json.dumps(body, default=_json_default)
        return self._call(endpoint, self._sf.restful, path, method=method, **kw)

    # Writes ----------------------------------------------------------------------------------
    def upsert(
        self, sobject: str, external_id_field: str, records: Iterable[dict[str, Any]]
    ) -> list[RecordResult]:
        """Upsert by external id: Collections below ``bulk_threshold`` rows, Bulk 2.0 from it."""
        small, rows = self._below_threshold(records)
        if small:
            return self.upsert_collections(sobject, external_id_field, rows)
        return self.upsert_bulk(sobject, external_id_field, rows)

    def upsert_collections(
        self, sobject: str, external_id_field: str, records: Iterable[dict[str, Any]]
    ) -> list[RecordResult]:
        """PATCH composite/sobjects/{sobject}/{external_id_field}, 200 rows a call."""
        path = f"composite/sobjects/{sobject}/{external_id_field}"
        results: list[RecordResult] = []
        for chunk in _chunks(records, COLLECTION_LIMIT):
            body = {"allOrNone": False, "records": [_with_type(sobject, r) for r in chunk]}
            answer = self._restful("composite.sobjects.upsert", path, "PATCH", body)
            keys = [_key(r.get(external_id_field)) for r in chunk]
            results.extend(_collection_results(answer, keys, "composite.sobjects.upsert"))
        return results

    def upsert_bulk(
        self, sobject: str, external_id_field: str, records: Iterable[dict[str, Any]]
    ) -> list[RecordResult]:
        """Upsert through Bulk API 2.0 jobs and read each row's result back."""
        return self._call("bulk2.ingest", self._bulk.upsert, sobject, external_id_field, records)

    def create(
        self, sobject: str, records: Iterable[dict[str, Any]], key_field: str | None = None
    ) -> list[RecordResult]:
        """Insert rows (POST composite/sobjects). Results are keyed by ``record[key_field]``, or
        by the row's position ("0", "1", ...) when no key field is given."""
        results: list[RecordResult] = []
        position = 0
        for chunk in _chunks(records, COLLECTION_LIMIT):
            body = {"allOrNone": False, "records": [_with_type(sobject, r) for r in chunk]}
            answer = self._restful("composite.sobjects.create", "composite/sobjects", "POST", body)
            if key_field:
                keys = [_key(r.get(key_field)) for r in chunk]
            else:
                keys = [str(position + i) for i in range(len(chunk))]
            position += len(chunk)
            results.extend(
                _collection_results(answer, keys, "composite.sobjects.create", created=True)
            )
        return results

    def update(
        self, sobject: str, records: Iterable[dict[str, Any]], key_field: str = "Id"
    ) -> list[RecordResult]:
        """Update rows by ``Id`` (PATCH composite/sobjects); results keyed by ``key_field``."""
        results: list[RecordResult] = []
        for chunk in _chunks(records, COLLECTION_LIMIT):
            body = {"allOrNone": False, "records": [_with_type(sobject, r) for r in chunk]}
            answer = self._restful("composite.sobjects.update", "composite/sobjects", "PATCH", body)
            keys = [_key(r.get(key_field)) for r in chunk]
            results.extend(_collection_results(answer, keys, "composite.sobjects.update"))
        return results

    def delete(self, sobject: str, ids: Iterable[str]) -> list[RecordResult]:
        """Delete (to the recycle bin): Collections below ``bulk_threshold`` ids, else Bulk 2.0."""
        small, rows = self._below_threshold(ids)
        if small:
            return self.delete_collections(rows)
        return self._call("bulk2.ingest", self._bulk.delete, sobject, rows, hard=False)

    def delete_collections(self, ids: Iterable[str]) -> list[RecordResult]:
        """DELETE composite/sobjects?ids=...&allOrNone=false, 200 ids a call (any object types)."""
        results: list[RecordResult] = []
        for chunk in _chunks(ids, COLLECTION_LIMIT):
            params = {"ids": ",".join(chunk), "allOrNone": "false"}
            answer = self._restful(
                "composite.sobjects.delete", "composite/sobjects", "DELETE", params=params
            )
            results.extend(_collection_results(answer, list(chunk), "composite.sobjects.delete"))
        return results

    def hard_delete(self, sobject: str, ids: Iterable[str]) -> list[RecordResult]:
        """Delete for good, bypassing the recycle bin. Only Bulk API 2.0 can do this
        (``hardDelete``), whatever the row count; the user needs "Bulk API Hard Delete"."""
        return self._call("bulk2.ingest", self._bulk.delete, sobject, ids, hard=True)

    def _below_threshold(self, rows: Iterable[T]) -> tuple[bool, Iterable[T]]:
        """Whether there are fewer rows than ``bulk_threshold``, without reading them all."""
        if isinstance(rows, Sized):
            return len(rows) < self.bulk_threshold, rows
        iterator = iter(rows)
        head = list(itertools.islice(iterator, self.bulk_threshold))
        if len(head) < self.bulk_threshold:
            return True, head
        return False, itertools.chain(head, iterator)

    # Reads -----------------------------------------------------------------------------------
    def query_iter(self, soql: str, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Yield the rows of a SOQL query page by page, without "attributes"."""
        endpoint = "queryAll" if include_deleted else "query"
        rows = self._sf.query_all_iter(soql, include_deleted=include_deleted)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except ApiError:
                raise
            except Exception as exc:
                raise self._mapped(exc, endpoint) from exc
            if not isinstance(row, dict):
                raise PermanentError(
                    f"Unexpected row from Salesforce: {row!r:.100}", endpoint=endpoint
                )
            yield strip_attributes(row)

    def query_count(self, soql: str) -> int:
        """The ``totalSize`` of a ``SELECT COUNT() FROM ...`` query."""
        answer = self._call("query", self._sf.query, soql)
        total = answer.get("totalSize") if isinstance(answer, dict) else None
        if isinstance(total, bool) or not isinstance(total, int):
            raise PermanentError(
                f"Unexpected answer from Salesforce: {answer!r:.300}", endpoint="query"
            )
        return total

    def get(
        self, sobject: str, record_id: str, fields: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """One record by id (NotFound if it does not exist)."""
        handler = getattr(self._sf, sobject)
        kwargs = {"params": {"fields": ",".join(fields)}} if fields else {}
        return strip_attributes(self._call("sobjects.get", handler.get, record_id, **kwargs))

    def describe(self, sobject: str) -> dict[str, Any]:
        return self._call("sobjects.describe", getattr(self._sf, sobject).describe)

    def describe_global(self) -> dict[str, Any]:
        return self._call("sobjects.global", self._sf.describe) or {}

    def limits(self) -> dict[str, Any]:
        return self._call("limits", self._sf.limits)

    def users(self, active_only: bool = True) -> list[dict[str, Any]]:
        """Users for the "security owner" picker: Id, Name, Username, Email, IsActive."""
        soql = "SELECT Id, Name, Username, Email, IsActive FROM User"
        if active_only:
            soql += " WHERE IsActive = true"
        soql += " ORDER BY Name"
        fields = ("Id", "Name", "Username", "Email", "IsActive")
        return [{name: row.get(name) for name in fields} for row in self.query_iter(soql)]

    # List views and reports (the import wizard's sources) --------------------------------------
    def list_views(self, sobject: str) -> list[dict[str, Any]]:
        """The object's list views (``id``, ``label``, ``soqlCompatible``, ...), first page."""
        path = f"sobjects/{quote(sobject)}/listviews"
        answer = self._restful("listviews.list", path, "GET") or {}
        views = answer.get("listviews") if isinstance(answer, dict) else None
        if views is None:
            views = []
        if not isinstance(views, list) or not all(isinstance(view, dict) for view in views):
            raise PermanentError(
                f"Unexpected answer from Salesforce: {answer!r:.300}", endpoint="listviews.list"
            )
        return views

    def describe_list_view(self, sobject: str, view_id: str) -> dict[str, Any]:
        """A list view's columns and the SOQL ``query`` behind it."""
        path = f"sobjects/{quote(sobject)}/listviews/{quote(view_id)}/describe"
        return self._restful("listviews.describe", path, "GET") or {}

    def describe_report(self, report_id: str) -> dict[str, Any]:
        path = f"analytics/reports/{quote(report_id)}/describe"
        return self._restful("analytics.reports.describe", path, "GET") or {}

    def run_report(self, report_id: str) -> dict[str, Any]:
        """Run a report synchronously with its detail rows (Salesforce caps them at 2,000)."""
        path = f"analytics/reports/{quote(report_id)}"
        params = {"includeDetails": "true"}
        return self._restful("analytics.reports.run", path, "GET", params=params) or {}

    # Tooling API (used by salesforce_schema) --------------------------------------------------
    def tooling_query(self, soql: str) -> list[dict[str, Any]]:
        """All rows of a Tooling API query, without "attributes"."""
        answer = self._call("tooling.query", self._sf.toolingexecute, "query/", params={"q": soql})
        rows = [strip_attributes(row) for row in _records_of(answer, "tooling.query")]
        while not answer.get("done", True):
            next_url = answer.get("nextRecordsUrl")
            if not isinstance(next_url, str) or not next_url:
                raise PermanentError(
                    "Salesforce said more rows follow but gave no nextRecordsUrl",
                    endpoint="tooling.query",
                )
            answer = self._call(
                "tooling.query", self._sf.query_more, next_url, identifier_is_url=True
            )
            rows.extend(strip_attributes(row) for row in _records_of(answer, "tooling.query"))
        return rows

    def tooling_create(self, sobject: str, body: dict[str, Any]) -> str:
        """Create a Tooling API record (CustomObject, CustomField, ...); returns its id."""
        answer = self._call(
            "tooling.sobjects.create",
            self._sf.toolingexecute,
            f"sobjects/{sobject}/",
            method="POST",
            data=body,
        )
        if not isinstance(answer, dict) or not answer.get("success", "id" in answer):
            raise PermanentError(
                f"Salesforce did not create the {sobject}: {answer!r:.300}",
                endpoint="tooling.sobjects.create",
            )
        return str(answer.get("id") or "")

    def soql(self, template: str, *args: Any, **kwargs: Any) -> str:
        """A SOQL string with values quoted safely (simple-salesforce's ``format_soql``)."""
        return format_soql(template, *args, **kwargs)


# Helpers -------------------------------------------------------------------------------------
def strip_attributes(value: Any) -> Any:
    """Drop Salesforce's "attributes" from a record, nested parent records included."""
    if isinstance(value, dict):
        return {k: strip_attributes(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [strip_attributes(v) for v in value]
    return value


def _records_of(answer: Any, endpoint: str) -> list[dict[str, Any]]:
    records = answer.get("records") if isinstance(answer, dict) else None
    if not isinstance(records, list) or not all(isinstance(row, dict) for row in records):
        raise PermanentError(
            f"Unexpected answer from Salesforce: {answer!r:.300}", endpoint=endpoint
        )
    return answer["records"]


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _with_type(sobject: str, record: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in record.items() if k != "attributes"}
    return {"attributes": {"type": sobject}, **body}


def _key(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _collection_results(
    answer: Any, keys: list[str | None], endpoint: str, created: bool = False
) -> list[RecordResult]:
    """Map an sObject Collections answer (a list in request order) onto the rows' keys."""
    if not isinstance(answer, list) or len(answer) != len(keys):
        raise PermanentError(
            f"Salesforce answered {len(answer) if isinstance(answer, list) else 'no'} results "
            f"for {len(keys)} records",
            endpoint=endpoint,
        )
    if not all(isinstance(item, dict) for item in answer):
        raise PermanentError(
            f"Unexpected answer from Salesforce: {answer!r:.300}", endpoint=endpoint
        )
    results = []
    for key, item in zip(keys, answer, strict=True):
        success = item.get("success") is True
        was_created = item.get("created", created and success) is True and success
        errors = item.get("errors")
        errors = [RecordError.from_json(e) for e in errors] if isinstance(errors, list) else []
        sf_id = item.get("id")
        sf_id = sf_id if isinstance(sf_id, str) and sf_id else None
        results.append(RecordResult(key, sf_id, success, was_created, errors))
    return results
