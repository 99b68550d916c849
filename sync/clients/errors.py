"""Typed errors shared by the Campaign Monitor and Salesforce clients.

The split between transient (retry later) and permanent (tell a person) is what the sync engine
acts on; the vendor's own code and message ride along for the maintenance log.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base of every error an API client raises. Never carries credentials."""

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        status: int | None = None,
        endpoint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.endpoint = endpoint

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.endpoint:
            parts.append(self.endpoint)
        return " | ".join(parts)


class TransientError(ApiError):
    """Worth retrying later: timeouts, dropped connections, 5xx, throttling."""


class RateLimited(TransientError):
    """429 (or the vendor's equivalent); ``retry_after`` is in seconds when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class PermanentError(ApiError):
    """Retrying will not help: bad input, missing permission, invalid record."""


class AuthError(PermanentError):
    """Credentials are wrong, revoked or expired beyond refresh: the console says "reconnect"."""


class NotFound(PermanentError):
    """The addressed object does not exist."""


class RequestLimitExceeded(PermanentError):
    """The org's daily API allowance is spent (Salesforce REQUEST_LIMIT_EXCEEDED): stop the run."""


class MalformedCredentials(AuthError):
    """The credentials cannot even be sent (an API key with characters no key has): refused
    before any call. The message names what is wrong, never the credential itself."""
