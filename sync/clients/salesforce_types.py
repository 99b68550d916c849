"""Value types of the Salesforce client: per-record results, tokens, API usage.

Kept apart from the HTTP code so the sync engine can import them without pulling in requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RecordError:
    """One reason Salesforce refused a record (``statusCode`` / ``errorCode`` in its answers)."""

    code: str
    message: str
    fields: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, item: Any) -> RecordError:
        """One entry of a result's ``errors``; an entry that is not an object is its message."""
        if not isinstance(item, dict):
            return cls(code="UNKNOWN_ERROR", message=str(item))
        code = item.get("statusCode") or item.get("errorCode") or "UNKNOWN_ERROR"
        fields = item.get("fields")
        return cls(
            code=str(code),
            message=str(item.get("message") or ""),
            fields=[str(name) for name in fields] if isinstance(fields, list) else [],
        )


@dataclass(frozen=True)
class RecordResult:
    """What happened to one input row of a write, in the caller's input order.

    ``key`` is the external id value for upserts, the record id for updates and deletes, or the
    caller's own key for creates, so the engine can mark its own rows without guessing.
    ``created`` is True for an insert, False for an update (and for failures and deletes).
    """

    key: str | None
    sf_id: str | None
    success: bool
    created: bool = False
    errors: list[RecordError] = field(default_factory=list)

    @property
    def error_text(self) -> str:
        """The errors as one line for a maintenance message ("CODE: message [fields]; ...")."""
        parts = []
        for error in self.errors:
            fields = f" [{', '.join(error.fields)}]" if error.fields else ""
            parts.append(f"{error.code}: {error.message}{fields}")
        return "; ".join(parts)


class ApiUsage(NamedTuple):
    """The org's rolling 24-hour API usage as Salesforce last reported it (Sforce-Limit-Info)."""

    used: int
    max: int


@dataclass(frozen=True)
class SalesforceTokens:
    """OAuth tokens for one org connection. Secrets are kept out of repr()."""

    access_token: str = field(repr=False)
    instance_url: str
    refresh_token: str | None = field(default=None, repr=False)
    id_url: str = ""
    issued_at: str = ""

    @property
    def user_id(self) -> str:
        """The connected user's id, from the identity URL ``https://host/id/<org id>/<user id>``."""
        return self._id_url_parts()[1]

    @property
    def org_id(self) -> str:
        return self._id_url_parts()[0]

    def _id_url_parts(self) -> tuple[str, str]:
        parts = [part for part in urlsplit(self.id_url).path.split("/") if part]
        if len(parts) >= 3 and parts[-3] == "id":
            return parts[-2], parts[-1]
        return "", ""

    def __str__(self) -> str:
        return f"SalesforceTokens(instance_url={self.instance_url!r}, user_id={self.user_id!r})"

    @classmethod
    def from_token_response(
        cls, data: dict[str, Any], refresh_token: str | None = None
    ) -> SalesforceTokens:
        """Build tokens from a ``/services/oauth2/token`` answer (ValueError without a token).

        A refresh grant usually answers without a new refresh token (no rotation), so the one the
        caller already holds is carried over.
        """
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("no access_token in the token response")
        refresh = data.get("refresh_token")
        return cls(
            access_token=access,
            instance_url=_text(data.get("instance_url")).rstrip("/"),
            refresh_token=refresh if isinstance(refresh, str) and refresh else refresh_token,
            id_url=_text(data.get("id")),
            issued_at=_text(data.get("issued_at")),
        )


def _text(value: Any) -> str:
    """A string field of an answer; anything else (a number, a list, null) reads as empty."""
    return value if isinstance(value, str) else ""
