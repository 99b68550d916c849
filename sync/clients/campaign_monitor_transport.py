"""HTTP transport for the Campaign Monitor client: session, auth, retries, error mapping, paging.

:class:`CMTransport` is the base of :class:`sync.clients.campaign_monitor.CampaignMonitorClient`;
it knows nothing about individual endpoints. Retry policy, in one place:

- Retried with exponential back-off and full jitter (``lib.backoff``): connection errors,
  timeouts, HTTP 429 (honouring ``Retry-After``) and 5xx. Never other 4xx.
- Every HTTP attempt is counted in ``calls`` under the endpoint's name, retries and token
  refreshes included, because each one spends the account's API budget.
- Calls marked ``retry_ambiguous=False`` (creates, OAuth token grants) are only
  retried when CM surely did not act: the connection was never established, or CM answered
  429/503. After a dropped connection, a read timeout or a 500 such a call raises
  :class:`TransientError` saying the outcome is unknown, so nothing is created or sent twice.
  Subscriber add/import, unsubscribe and suppress are upserts keyed by email address, so
  repeating them is harmless and they retry on everything transient.
- An OAuth access token that CM reports expired (401 Code 121) is refreshed once per call, the
  new tokens go to ``on_token_refresh`` and the call is repeated.
"""

from __future__ import annotations

import json
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from lib.backoff import backoff_delay, parse_retry_after

from .campaign_monitor_types import OAuthTokens, whole_number
from .counting import CallCounter
from .errors import (
    ApiError,
    AuthError,
    MalformedCredentials,
    NotFound,
    PermanentError,
    RateLimited,
    TransientError,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.createsend.com/api/v3.3"
DEFAULT_OAUTH_BASE = "https://api.createsend.com"
API_VERSION_PATH = "/api/v3.3"
DEFAULT_USER_AGENT = "cmsync/0.1 (+https://github.com/cmsync)"
#: (connect, read) seconds; a 1000-row report page can take a while to render on CM's side.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)
DEFAULT_PAGE_SIZE = 1000
MIN_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000

#: 401 codes that mean "these credentials do not work" (reconnect needed): invalid API key,
#: missing OAuth permission, invalid / expired / revoked OAuth token.
AUTH_FAILURE_CODES = frozenset({60, 100, 120, 121, 122})
EXPIRED_TOKEN_CODE = 121
#: Any other 401 code names an ID the caller does not own or that does not exist (101 Invalid
#: ListID, 102 Invalid ClientID, 4001 Invalid TemplateID ...): that is a NotFound, not a login
#: problem. These 400 codes also say "no such thing":
NOT_FOUND_400_CODES = frozenset({203, 271, 3000, 3002})
IMPORT_PARTIAL_FAILURE_CODE = 210

Timeout = float | tuple[float, float]


class CMTransport:
    """Authenticated, retrying, counting HTTP to one CM account. One instance per thread.

    ``requires_credentials = False`` (see ``OAuthTokenEndpoint``) allows a credential-less
    instance, good only for unauthenticated calls such as the OAuth token grant.
    """

    requires_credentials = True

    def __init__(
        self,
        api_key: str | None = None,
        *,
        oauth_tokens: OAuthTokens | None = None,
        on_token_refresh: Callable[[OAuthTokens], None] | None = None,
        base_url: str = DEFAULT_API_BASE,
        ca_bundle: str | os.PathLike[str] | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        calls: CallCounter | None = None,
        rng: random.Random | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        pool_maxsize: int = 10,
        before_call: Callable[[], None] | None = None,
    ) -> None:
        if self.requires_credentials and (api_key is None) == (oauth_tokens is None):
            raise ValueError("give exactly one of api_key or oauth_tokens")
        if api_key is not None and oauth_tokens is not None:
            raise ValueError("give api_key or oauth_tokens, not both")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        check_sendable(api_key, oauth_tokens)
        self._api_key = api_key
        self._tokens = oauth_tokens
        self._on_token_refresh = on_token_refresh
        self._refresh_lock = threading.Lock()
        self.base_url = base_url.rstrip("/")
        self.oauth_base_url = oauth_base_from_api_base(self.base_url)
        self.ca_bundle = str(ca_bundle) if ca_bundle else None
        self._verify: str | bool = self.ca_bundle or system_ca_bundle()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self._rng = rng
        self.calls = calls if calls is not None else CallCounter()
        self.session = _make_session(user_agent, pool_maxsize)
        # Runs before every call (retries excluded): the caller's chance to stop work that was
        # cancelled meanwhile, by raising.
        self._before_call = before_call

    # Identity --------------------------------------------------------------------------------
    @property
    def auth_kind(self) -> str:
        if self._api_key is not None:
            return "api_key"
        return "oauth" if self._tokens is not None else "none"

    @property
    def oauth_tokens(self) -> OAuthTokens | None:
        """The current OAuth tokens (after any refresh), or None for API-key auth."""
        return self._tokens

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self.auth_kind!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # OAuth -----------------------------------------------------------------------------------
    def refresh_tokens(self) -> OAuthTokens:
        """Trade the refresh token for new tokens, store them and hand them to the callback."""
        if self._tokens is None or not self._tokens.refresh_token:
            raise AuthError("No OAuth refresh token; reconnect needed", endpoint="oauth.token")
        with self._refresh_lock:
            tokens = request_tokens(
                self,
                {"grant_type": "refresh_token", "refresh_token": self._tokens.refresh_token},
            )
            self._tokens = tokens
        logger.info("Campaign Monitor OAuth token refreshed")
        if self._on_token_refresh is not None:
            self._on_token_refresh(tokens)
        return tokens

    # Requests --------------------------------------------------------------------------------
    def path(self, template: str, *ids: str) -> str:
        """Fill ``{}`` slots of a path template with percent-encoded IDs."""
        return template.format(*(quote(str(value), safe="") for value in ids))

    def call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry_ambiguous: bool = True,
    ) -> Any:
        """Make one API call (with retries) and return the decoded JSON (None for no body)."""
        response = self.send(
            method,
            path,
            endpoint=endpoint,
            params=params,
            body=body,
            retry_ambiguous=retry_ambiguous,
        )
        if not response.ok:
            raise error_for_response(response, endpoint, retry_ambiguous=retry_ambiguous)
        return decode_body(response, endpoint)

    def send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        url: str | None = None,
        authenticated: bool = True,
        retry_ambiguous: bool = True,
    ) -> requests.Response:
        """Send with retries; return the final response, which may be an error response.

        Raises TransientError only when the last attempt got no response at all.
        """
        if self._before_call is not None:
            self._before_call()
        target = url or f"{self.base_url}{path}"
        query = _clean_params(params)
        refreshed = False
        failures = 0
        while True:
            self.calls.add(endpoint)
            response: requests.Response | None = None
            failure: TransientError | None = None
            retry_after: float | None = None
            try:
                response = self._attempt(method, target, query, body, form, authenticated)
            except requests.exceptions.SSLError:
                raise PermanentError(
                    "TLS handshake or certificate verification failed", endpoint=endpoint
                ) from None
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                failure = _transport_failure(exc, endpoint, retry_ambiguous)
                if not (retry_ambiguous or _never_sent(exc)):
                    raise failure from None
            else:
                if self._should_refresh(response, authenticated, refreshed):
                    self.refresh_tokens()
                    refreshed = True
                    continue
                if not _retryable_status(response.status_code, retry_ambiguous):
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            failures += 1
            if failures > self.max_retries:
                if response is not None:
                    return response
                assert failure is not None
                raise failure from None
            delay = backoff_delay(
                failures, self.backoff_base, self.backoff_cap, retry_after, self._rng
            )
            logger.info(
                "Campaign Monitor %s failed (%s); retry %d/%d in %.2fs",
                endpoint,
                response.status_code if response is not None else "no response",
                failures,
                self.max_retries,
                delay,
            )
            self._sleep(delay)

    def _attempt(
        self,
        method: str,
        url: str,
        query: dict[str, str],
        body: Any,
        form: Mapping[str, str] | None,
        authenticated: bool,
    ) -> requests.Response:
        headers: dict[str, str] = {"Accept": "application/json"}
        data: Any = None
        if form is not None:
            data = dict(form)
        elif body is not None:
            data = _json_bytes(body)
            headers["Content-Type"] = "application/json; charset=utf-8"
        auth: tuple[str, str] | None = None
        if authenticated and self._api_key is not None:
            auth = (self._api_key, "x")  # CM reads the key as the Basic user name; password unused
        elif authenticated and self._tokens is not None:
            headers["Authorization"] = f"Bearer {self._tokens.access_token}"
        return self.session.request(
            method,
            url,
            params=query,
            data=data,
            headers=headers,
            auth=auth,
            timeout=self.timeout,
            verify=self._verify,
            allow_redirects=False,
        )

    def _should_refresh(self, response: requests.Response, authenticated: bool, done: bool) -> bool:
        return (
            authenticated
            and not done
            and response.status_code == 401
            and self._tokens is not None
            and cm_error_body(response)[0] == EXPIRED_TOKEN_CODE
        )

    # Paging ----------------------------------------------------------------------------------
    def paged(
        self,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        pagesize: int = DEFAULT_PAGE_SIZE,
        start_page: int = 1,
    ) -> Iterator[dict[str, Any]]:
        """Lazily yield every ``Results`` item of a paged endpoint, one page in memory at a time.

        Validates eagerly (so bad arguments fail at the call site) but fetches page N+1 only when
        the caller has consumed page N.
        """
        check_pagesize(pagesize)
        if start_page < 1:
            raise ValueError("start_page must be >= 1")
        return self._pages(path, endpoint, dict(params or {}), pagesize, start_page)

    def _pages(
        self, path: str, endpoint: str, params: dict[str, Any], pagesize: int, page: int
    ) -> Iterator[dict[str, Any]]:
        while True:
            envelope = self.call(
                "GET",
                path,
                endpoint=endpoint,
                params={**params, "page": page, "pagesize": pagesize},
            )
            results, pages = _page_of(envelope, endpoint)
            yield from results
            if not results or page >= pages:
                return
            page += 1


class OAuthTokenEndpoint(CMTransport):
    """A credential-less transport for ``POST /oauth/token`` (the code exchange)."""

    requires_credentials = False


def sendable(credential: str) -> bool:
    """Whether a key or token can be what CM issues: printable ASCII, no spaces.

    Headers carry Latin-1 at most (requests raises UnicodeEncodeError beyond it), and CM's keys
    and tokens are plain ASCII, so anything else is refused before it is sent.
    """
    return all("!" <= char <= "~" for char in credential)


def check_sendable(api_key: str | None, tokens: OAuthTokens | None) -> None:
    """Raise :class:`MalformedCredentials` for a key or token that is not :func:`sendable`
    (the message never quotes the credential)."""
    if api_key is not None and not sendable(api_key):
        raise MalformedCredentials(
            "A Campaign Monitor API key has only ASCII letters, digits and punctuation; this "
            "one has other characters",
            endpoint="auth",
        )
    if tokens is not None and not (
        sendable(tokens.access_token) and sendable(tokens.refresh_token or "")
    ):
        raise MalformedCredentials(
            "The Campaign Monitor OAuth tokens have characters no token has; authorise again",
            endpoint="auth",
        )


def oauth_base_from_api_base(api_base: str) -> str:
    """``https://host/api/v3.3`` -> ``https://host``, where ``/oauth`` and ``/oauth/token`` live."""
    base = api_base.rstrip("/")
    if base.lower().endswith(API_VERSION_PATH):
        base = base[: -len(API_VERSION_PATH)]
    return base


def request_tokens(transport: CMTransport, form: Mapping[str, str]) -> OAuthTokens:
    """POST a grant to ``{oauth base}/oauth/token`` and parse the tokens.

    Grants are single-use (a code, or a refresh token that CM may rotate), so they are not
    retried when the outcome is ambiguous. OAuth errors (``{"error": ...}``) become AuthError.
    """
    endpoint = "oauth.token"
    response = transport.send(
        "POST",
        "",
        endpoint=endpoint,
        form=form,
        url=f"{transport.oauth_base_url}/oauth/token",
        authenticated=False,
        retry_ambiguous=False,
    )
    if response.status_code in (400, 401, 403):
        code, message = cm_error_body(response)
        status = response.status_code
        raise AuthError(
            message or "OAuth grant refused", code=code, status=status, endpoint=endpoint
        )
    if not response.ok:
        raise error_for_response(response, endpoint, retry_ambiguous=False)
    data = decode_body(response, endpoint)
    try:
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return OAuthTokens.from_response(data, obtained_at=datetime.now(UTC))
    except ValueError:
        raise PermanentError(
            "OAuth token response had no access_token",
            status=response.status_code,
            endpoint=endpoint,
        ) from None


def _page_of(envelope: Any, endpoint: str) -> tuple[list[dict[str, Any]], int]:
    """(records, number of pages) of one page; a malformed envelope is a PermanentError."""
    if not isinstance(envelope, dict):
        raise PermanentError("Paged response without a Results envelope", endpoint=endpoint)
    results = envelope.get("Results") or []
    pages = envelope.get("NumberOfPages") or 0
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        raise PermanentError("Paged response whose Results are not records", endpoint=endpoint)
    if isinstance(pages, bool) or not isinstance(pages, int):
        raise PermanentError("Paged response without a page count", endpoint=endpoint)
    return results, pages


def system_ca_bundle() -> str | bool:
    """The operating system's CA file (``SSL_CERT_FILE`` wins), else requests' own bundle."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    return True


def check_pagesize(pagesize: int) -> None:
    if not MIN_PAGE_SIZE <= pagesize <= MAX_PAGE_SIZE:
        raise ValueError(f"pagesize must be between {MIN_PAGE_SIZE} and {MAX_PAGE_SIZE}")


# Responses -----------------------------------------------------------------------------------
def cm_error_body(response: requests.Response) -> tuple[int | str | None, str]:
    """(Code, Message) from CM's ``{"Code", "Message"}`` or OAuth's ``{"error", ...}`` body."""
    try:
        data = response.json()
    except ValueError:
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    if "Code" in data:
        return _error_code(data.get("Code")), str(data.get("Message") or "")
    if "error" in data:
        return str(data["error"]), str(data.get("error_description") or data["error"])
    return None, str(data.get("Message") or data.get("message") or "")


def _error_code(value: Any) -> int | str | None:
    """CM's ``Code`` as an int (also when sent as text); other text as it is; else no code
    (a list or an object would not even compare with the codes cmsync knows)."""
    number = whole_number(value)
    if number is not None:
        return number
    return value if isinstance(value, str) else None


def error_for_response(
    response: requests.Response, endpoint: str, *, retry_ambiguous: bool = True
) -> ApiError:
    """The typed error for a non-2xx answer (after retries were spent or not allowed)."""
    status = response.status_code
    code, message = cm_error_body(response)
    message = message or response.reason or f"HTTP {status}"
    details = {"code": code, "status": status, "endpoint": endpoint}
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimited(message, retry_after=retry_after, **details)
    if status >= 500:
        if not retry_ambiguous:
            message = f"{message} (outcome unknown: check before repeating)"
        return TransientError(message, **details)
    if status == 401:
        if code is None or code in AUTH_FAILURE_CODES:
            return AuthError(message, **details)
        return NotFound(message, **details)
    if status == 404 or (status == 400 and code in NOT_FOUND_400_CODES):
        return NotFound(message, **details)
    return PermanentError(message, **details)


def decode_body(response: requests.Response, endpoint: str) -> Any:
    """JSON body of a success; None for CM's empty-bodied writes."""
    if not response.content or not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        raise TransientError(
            "Unreadable (non-JSON) response body", status=response.status_code, endpoint=endpoint
        ) from None


# Internals ------------------------------------------------------------------------------------
def _make_session(user_agent: str, pool_maxsize: int) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    session.trust_env = False  # no ~/.netrc credentials or proxy surprises; CA is explicit
    # Retries are ours (counted, jittered); urllib3 must not retry behind our back.
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Drop None values and spell booleans as CM's wrappers do (``true`` / ``false``)."""
    cleaned: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        cleaned[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return cleaned


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _retryable_status(status: int, retry_ambiguous: bool) -> bool:
    if status in (429, 503):
        return True  # CM refused before doing any work
    return retry_ambiguous and status >= 500


def _never_sent(exc: Exception) -> bool:
    """True when the request surely never reached CM (so even a create is safe to repeat)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    name = type(inner).__name__
    return name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError")


def _transport_failure(exc: Exception, endpoint: str, retry_ambiguous: bool) -> TransientError:
    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
    message = f"Campaign Monitor request {kind} ({type(exc).__name__})"
    if not retry_ambiguous and not _never_sent(exc):
        message += "; outcome unknown: check before repeating"
    return TransientError(message, endpoint=endpoint)
