"""The ``requests.Session`` every Salesforce call goes through, simple-salesforce's included.

simple-salesforce takes a session but has no per-call timeout, retry or hook for response
headers, and its Bulk 2.0 handler talks to the session directly. Doing the cross-cutting work
here, at the one place every HTTP request passes, covers all of it at once:

- a default timeout on every request and the configured CA bundle;
- retries with back-off (lib.backoff) on connection errors, timeouts and 5xx, never on 4xx;
- one call counted per HTTP request (retries, token refreshes and bulk polls included);
- ``Sforce-Limit-Info`` read from every answer;
- 401 ``INVALID_SESSION_ID``: refresh the access token once and resend;
- a Bulk job state change whose answer was lost and whose resend is refused because the job has
  already moved on: the change happened, so the job's current state is the answer;
- 403 ``REQUEST_LIMIT_EXCEEDED``: raise at once and refuse every later request of this session,
  so not one more call is spent once the org's allowance is gone.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from lib.backoff import backoff_delay, parse_retry_after

from .counting import CallCounter
from .errors import RequestLimitExceeded, TransientError
from .salesforce_types import ApiUsage

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
RETRYABLE_EXCEPTIONS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
# Bulk 2.0 job states that show a requested state change already took place.
_STATES_AFTER = {
    "UploadComplete": ("UploadComplete", "InProgress", "JobComplete", "Failed"),
    "Aborted": ("Aborted",),
}
_API_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")
_DATA_PREFIX = re.compile(r"^/services/data/v[\d.]+/")

LIMIT_EXCEEDED_MESSAGE = (
    "Salesforce refused the call because the org's daily API request limit is used up "
    "(REQUEST_LIMIT_EXCEEDED). The sync stopped without spending more calls; it can continue "
    "once the rolling 24-hour allowance frees up, or after the limit is raised in Salesforce."
)


def endpoint_name(method: str, url: str) -> str:
    """A stable name for the kind of call, used to count calls per endpoint.

    The names are the SF sandbox's route names (``query``, ``composite.sobjects.upsert``,
    ``bulk2.ingest.upload``, ``tooling.query``, ``oauth.token``, ...) so a run's counts can be
    compared with the sandbox's own statistics.
    """
    path = urlsplit(url).path.rstrip("/")
    method = method.upper()
    if path.startswith("/services/oauth2/"):
        return "oauth." + path[len("/services/oauth2/") :].split("/")[0]
    if path.startswith("/id/"):
        return "oauth.identity"
    if path == "/services/data":
        return "versions"
    found = _DATA_PREFIX.match(path + "/")
    if not found:
        return "other"
    parts = [part for part in path[found.end() :].split("/") if part]
    if not parts:
        return "resources"
    head, tail = parts[0], parts[1:]
    if head in ("query", "queryAll", "limits", "composite") and (head != "composite" or not tail):
        return head
    if head == "composite" and tail[0] == "sobjects":
        return "composite.sobjects." + _collections_verb(method, tail[1:])
    if head == "sobjects":
        return "sobjects." + _sobject_verb(method, tail)
    if head == "tooling" and tail:
        if tail[0] == "sobjects":
            return "tooling.sobjects." + _tooling_verb(method, tail[1:])
        return "tooling." + tail[0]
    if head == "jobs" and tail:
        return f"bulk2.{tail[0]}." + _bulk2_verb(method, tail[1:])
    return head


def _collections_verb(method: str, tail: list[str]) -> str:
    if len(tail) >= 2:
        return "upsert"
    if tail:
        return "retrieve"
    return {"POST": "create", "PATCH": "update", "DELETE": "delete"}.get(method, "retrieve")


def _sobject_verb(method: str, tail: list[str]) -> str:
    if not tail:
        return "global"
    if len(tail) == 1:
        return "create" if method == "POST" else "metadata"
    if tail[1] == "describe":
        return "layouts" if len(tail) > 2 and tail[2] == "layouts" else "describe"
    if len(tail) == 2 and tail[1] in ("updated", "deleted"):
        return tail[1]
    if len(tail) >= 3:
        return {"GET": "get_by_external_id", "PATCH": "upsert"}.get(method, "delete")
    return {"GET": "get", "PATCH": "update", "DELETE": "delete"}.get(method, "get")


def _tooling_verb(method: str, tail: list[str]) -> str:
    if not tail:
        return "global"
    if len(tail) == 1:
        return "create"
    if tail[1] == "describe":
        return "describe"
    return "update" if method == "PATCH" else "get"


def _bulk2_verb(method: str, tail: list[str]) -> str:
    if not tail:
        return "create" if method == "POST" else "list"
    if len(tail) == 1:
        return {"PATCH": "state", "DELETE": "delete"}.get(method, "get")
    return "upload" if tail[1].lower() == "batches" else "results"


def salesforce_error_code(response: requests.Response) -> str | None:
    """The ``errorCode`` of a Salesforce error answer (a list of error dicts), if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0].get("errorCode") or body[0].get("statusCode")
    if isinstance(body, dict):
        return body.get("errorCode") or body.get("error")
    return None


def salesforce_error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("message") or "")
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or "")
    return ""


class SalesforceSession(requests.Session):
    """A session with Salesforce-aware timeouts, retries, counting and token refresh."""

    def __init__(
        self,
        *,
        ca_bundle: str | Path | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        calls: CallCounter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self.verify = str(ca_bundle) if ca_bundle else True
        self.default_timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.calls = calls if calls is not None else CallCounter()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.api_usage: ApiUsage | None = None
        self.limit_exceeded: RequestLimitExceeded | None = None
        self.last_retry_after: float | None = None  # from the last 429's Retry-After
        # The current access token; any Bearer header sent through here is rewritten to it, so
        # handlers that copied the headers earlier (simple-salesforce's bulk2) follow a refresh.
        self.access_token: str | None = None
        # Called with the token that was refused; must leave a fresh one in ``access_token``.
        self.refresher: Callable[[str], None] | None = None
        self._refresh_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SalesforceSession calls={self.calls.total}>"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if self.limit_exceeded is not None:
            raise RequestLimitExceeded(
                self.limit_exceeded.message,
                code="REQUEST_LIMIT_EXCEEDED",
                status=403,
                endpoint=endpoint_name(method, url),
            )
        kwargs.setdefault("timeout", self.default_timeout)
        # Passed per request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a
        # session-level ``verify``, which would silently ignore the configured CA bundle.
        kwargs.setdefault("verify", self.verify)
        endpoint = endpoint_name(method, url)
        refreshed = False
        failures = 0
        unanswered = False  # an earlier attempt may have been done without its answer arriving
        while True:
            sent_token = self._apply_token(kwargs)
            self.calls.add(endpoint)
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.exceptions.SSLError:
                raise
            except RETRYABLE_EXCEPTIONS as exc:
                unanswered = True
                failures += 1
                if failures > self.max_retries:
                    raise TransientError(
                        f"Salesforce did not answer ({type(exc).__name__}) after "
                        f"{failures} attempts",
                        endpoint=endpoint,
                    ) from exc
                self._pause(failures, None, endpoint, type(exc).__name__)
                continue
            self._read_limit_info(response)
            status = response.status_code
            if (status >= 500 or status == 429) and failures < self.max_retries:
                # Throttling and outages alike: back off (honouring Retry-After, capped) and retry.
                failures += 1
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                self._pause(failures, retry_after, endpoint, f"HTTP {status}")
                continue
            if status == 401 and not refreshed and self._can_refresh(response, sent_token):
                refreshed = True
                response.close()
                self._refresh(sent_token)
                continue
            if unanswered and endpoint == "bulk2.ingest.state" and 400 <= status < 500:
                done = self._state_already_set(url, kwargs)
                if done is not None:
                    response.close()
                    return done
            if status == 429:
                self.last_retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 403 and salesforce_error_code(response) == "REQUEST_LIMIT_EXCEEDED":
                self._latch_limit_exceeded(response, endpoint)
            return response

    # Helpers ---------------------------------------------------------------------------------
    def _state_already_set(self, url: str, kwargs: dict[str, Any]) -> requests.Response | None:
        """The job's info if it is already in (or past) the state the lost request asked for.

        Closing a Bulk job (UploadComplete) whose answer timed out, then closing it again, is
        refused ("cannot change job state from InProgress to UploadComplete") although the
        first close worked; without this check the whole batch would be counted as failed."""
        try:
            wanted = json.loads(kwargs.get("data") or "{}").get("state")
        except (TypeError, ValueError, AttributeError):
            return None
        if wanted not in _STATES_AFTER:
            return None
        try:  # through this session: the look itself may meet a fault and be retried
            current = self.request("GET", url, headers=kwargs.get("headers"))
        except (TransientError, *RETRYABLE_EXCEPTIONS):
            return None
        try:
            state = current.json().get("state") if current.ok else None
        except ValueError:
            state = None
        if state in _STATES_AFTER[wanted]:
            logger.info("Salesforce Bulk job already %s after a lost answer", state)
            return current
        current.close()
        return None

    def _apply_token(self, kwargs: dict[str, Any]) -> str | None:
        headers = kwargs.get("headers")
        if not headers or self.access_token is None:
            return None
        for name in list(headers):
            if name.lower() == "authorization" and str(headers[name]).startswith("Bearer "):
                headers = dict(headers)
                headers[name] = "Bearer " + self.access_token
                kwargs["headers"] = headers
                return self.access_token
        return None

    def _can_refresh(self, response: requests.Response, sent_token: str | None) -> bool:
        return (
            self.refresher is not None
            and sent_token is not None
            and salesforce_error_code(response) == "INVALID_SESSION_ID"
        )

    def _refresh(self, stale_token: str | None) -> None:
        with self._refresh_lock:
            if self.access_token != stale_token:
                return  # another thread refreshed while this one waited
            assert self.refresher is not None
            self.refresher(stale_token or "")

    def _pause(self, attempt: int, retry_after: float | None, endpoint: str, why: str) -> None:
        delay = backoff_delay(
            attempt,
            base=self.backoff_base,
            cap=self.backoff_cap,
            retry_after=retry_after,
            rng=self._rng,
        )
        logger.info("Salesforce %s: %s, retry %d in %.2fs", endpoint, why, attempt, delay)
        self._sleep(delay)

    def _read_limit_info(self, response: requests.Response) -> None:
        header = response.headers.get("Sforce-Limit-Info")
        if not header:
            return
        found = _API_USAGE.search(header)
        if found:
            self.api_usage = ApiUsage(int(found.group(1)), int(found.group(2)))

    def _latch_limit_exceeded(self, response: requests.Response, endpoint: str) -> None:
        detail = salesforce_error_message(response)
        usage = (
            f" Usage reported: {self.api_usage.used}/{self.api_usage.max}."
            if self.api_usage
            else ""
        )
        message = LIMIT_EXCEEDED_MESSAGE + (f" Salesforce said: {detail}" if detail else "") + usage
        self.limit_exceeded = RequestLimitExceeded(
            message, code="REQUEST_LIMIT_EXCEEDED", status=403, endpoint=endpoint
        )
        response.close()
        raise self.limit_exceeded
