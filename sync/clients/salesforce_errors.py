"""Turn simple-salesforce's exceptions into the project's typed API errors.

The engine only decides "retry later" (TransientError) or "tell a person" (PermanentError and
its kinds); Salesforce's own ``errorCode`` and message ride along. simple-salesforce's messages
contain the request URL and raw body, never the session id, but we rebuild the text anyway so
every error reads the same.
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceOperationError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from .errors import (
    ApiError,
    AuthError,
    NotFound,
    PermanentError,
    RateLimited,
    RequestLimitExceeded,
    TransientError,
)
from .salesforce_http import LIMIT_EXCEEDED_MESSAGE


def first_error(content: Any) -> tuple[str | None, str]:
    """(errorCode, message) from an error body: a list of dicts, one dict, or plain text."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        item = content[0]
        code = item.get("errorCode") or item.get("statusCode")
        return _code(code), str(item.get("message") or "")
    if isinstance(content, dict):
        code = content.get("errorCode") or content.get("error")
        return _code(code), str(content.get("message") or content.get("error_description") or "")
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return None, str(content or "")[:500]


def _code(value: Any) -> str | None:
    """An error code is a word; anything else in its place (a list, a number) is no code."""
    return value if isinstance(value, str) and value else None


def map_salesforce_error(exc: BaseException, endpoint: str) -> ApiError:
    """The typed error for an exception raised while calling Salesforce."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, SalesforceAuthenticationFailed):
        return AuthError(
            f"Salesforce authentication failed: {exc.auth_message}",
            code=exc.code,
            status=401,
            endpoint=endpoint,
        )
    if isinstance(exc, SalesforceError):
        return _from_status_error(exc, endpoint)
    if isinstance(exc, SalesforceOperationError):
        return PermanentError(f"Salesforce Bulk API job failed: {exc}", endpoint=endpoint)
    if isinstance(exc, requests.exceptions.SSLError):
        return PermanentError(
            "TLS verification of Salesforce failed (check the CA bundle)", endpoint=endpoint
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return TransientError(
            f"Salesforce did not answer ({type(exc).__name__})", endpoint=endpoint
        )
    return PermanentError(
        f"Unexpected answer from Salesforce ({type(exc).__name__})", endpoint=endpoint
    )


def _from_status_error(exc: SalesforceError, endpoint: str) -> ApiError:
    code, message = first_error(exc.content)
    status = exc.status
    text = message or f"HTTP {status}"
    kwargs = {"code": code, "status": status, "endpoint": endpoint}
    if isinstance(exc, SalesforceExpiredSession):
        return AuthError(f"Salesforce session refused: {text}", **kwargs)
    if isinstance(exc, SalesforceRefusedRequest):
        if code == "REQUEST_LIMIT_EXCEEDED":
            return RequestLimitExceeded(
                f"{LIMIT_EXCEEDED_MESSAGE} Salesforce said: {text}", **kwargs
            )
        return PermanentError(f"Salesforce refused the request: {text}", **kwargs)
    if isinstance(exc, SalesforceResourceNotFound):
        return NotFound(f"Salesforce has no such resource: {text}", **kwargs)
    if isinstance(exc, SalesforceMoreThanOneRecord):
        return PermanentError(
            "More than one Salesforce record has this external id",
            **{**kwargs, "code": code or "MULTIPLE_RECORDS"},
        )
    if isinstance(exc, SalesforceMalformedRequest):
        return PermanentError(f"Salesforce rejected the request: {text}", **kwargs)
    if isinstance(exc, SalesforceGeneralError) and status == 429:
        return RateLimited(f"Salesforce is throttling: {text}", **kwargs)
    if status >= 500:
        return TransientError(f"Salesforce server error: {text}", **kwargs)
    return PermanentError(f"Salesforce error: {text}", **kwargs)
