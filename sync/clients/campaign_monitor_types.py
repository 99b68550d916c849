"""Small value types and pure helpers for the Campaign Monitor client.

Kept apart from the HTTP code so callers (forms, the sync engine, tests) can import them without
pulling in ``requests``. See :mod:`sync.clients.campaign_monitor` for the public interface.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .email_types import EmailType

#: The most subscribers CM accepts in one import call (error 209 above it).
IMPORT_BATCH_LIMIT = 1000

#: Subscriber states that have a paged ``/lists/{listid}/{state}.json`` endpoint.
SUBSCRIBER_STATES = ("active", "unconfirmed", "unsubscribed", "bounced", "deleted")

#: Per-email reports of a sent campaign that are paged and take a ``date`` filter.
CAMPAIGN_EVENT_REPORTS = tuple(EmailType.by_cm_report())

#: Journey email reports (``/journeys/email/{emailid}/{report}.json``).
JOURNEY_EMAIL_REPORTS = ("recipients", "opens", "clicks", "unsubscribes", "bounces")

CONSENT_VALUES = ("Yes", "No", "Unchanged")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$")


@dataclass(frozen=True)
class OAuthTokens:
    """What ``POST /oauth/token`` returns. Tokens are hidden from ``repr`` (they are credentials).

    ``expires_in`` is seconds from ``obtained_at`` (CM's samples use 14 days).
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int | None = None
    obtained_at: datetime | None = None

    @classmethod
    def from_response(cls, data: Mapping[str, Any], obtained_at: datetime | None = None):
        """Tokens from the token endpoint's JSON; ValueError when it holds no access token.

        A refresh token or lifetime of the wrong kind is read as absent rather than trusted.
        """
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("no access_token in the token response")
        refresh = data.get("refresh_token")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) else "",
            expires_in=whole_number(data.get("expires_in")),
            obtained_at=obtained_at,
        )


@dataclass(frozen=True)
class ImportFailure:
    """One address CM refused in an import (``FailureDetails`` item)."""

    email: str
    code: int | None
    message: str

    @classmethod
    def from_item(cls, item: Any) -> ImportFailure:
        if not isinstance(item, Mapping):
            return cls(email="", code=None, message=str(item))
        return cls(
            email=str(item.get("EmailAddress") or ""),
            code=whole_number(item.get("Code")),
            message=str(item.get("Message") or ""),
        )


@dataclass
class ImportResult:
    """Outcome of one import call.

    A partial failure (CM answers HTTP 400 with Code 210) is still a result, not an exception:
    ``failures`` lists each refused address with CM's own code and message.
    """

    total_unique_emails_submitted: int = 0
    total_existing_subscribers: int = 0
    total_new_subscribers: int = 0
    duplicate_emails: list[str] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when CM accepted every address."""
        return not self.failures

    @property
    def failed_emails(self) -> list[str]:
        return [failure.email for failure in self.failures]

    @classmethod
    def from_response(cls, data: Mapping[str, Any]) -> ImportResult:
        """Parse the 201 body, or the ``ResultData`` of a 210 partial failure.

        Counters are informative only: one that is not a number reads as 0. A failure entry
        that is not an object still counts as a failure (its text is the message), so a
        refused address is never reported as imported.
        """
        duplicates = data.get("DuplicateEmailsInSubmission")
        failures = data.get("FailureDetails")
        return cls(
            total_unique_emails_submitted=whole_number(data.get("TotalUniqueEmailsSubmitted")) or 0,
            total_existing_subscribers=whole_number(data.get("TotalExistingSubscribers")) or 0,
            total_new_subscribers=whole_number(data.get("TotalNewSubscribers")) or 0,
            duplicate_emails=[str(email) for email in _as_list(duplicates)],
            failures=[ImportFailure.from_item(item) for item in _as_list(failures)],
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def whole_number(value: Any) -> int | None:
    """``value`` as an int when it is one (or a string of one), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.isascii():
        return int(value)
    return None


def format_cm_date(value: date | datetime | str | None) -> str | None:
    """Format a ``date`` filter the way CM reads it: ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM``.

    CM interprets these in the client's time zone, not UTC, so a datetime is formatted as the
    wall-clock time it carries (convert to the client's zone first). Strings must already be in
    one of those forms (seconds allowed); anything else raises ValueError before a call is spent.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    if _DATE_RE.match(text) or _DATETIME_RE.match(text):
        return text
    raise ValueError("date filter must be YYYY-MM-DD or YYYY-MM-DD HH:MM")


def format_cm_day(value: date | datetime | str | None) -> str | None:
    """Format a day-only filter (``sentfromdate`` / ``senttodate`` accept only ``YYYY-MM-DD``)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    if _DATE_RE.match(text):
        return text
    raise ValueError("sent date filters must be YYYY-MM-DD")


CustomFieldValue = str | Sequence[str] | None


def custom_field_entries(
    custom_fields: Mapping[str, CustomFieldValue] | Iterable[Mapping[str, Any]] | None,
) -> list[dict[str, Any]]:
    """CM's ``CustomFields`` list from a ``{key: value}`` mapping (or pass a CM list through).

    A list/tuple value becomes one entry per option (MultiSelectMany); ``None`` clears the field
    (``{"Value": "", "Clear": true}``). Keys may be given with or without brackets.
    """
    if custom_fields is None:
        return []
    if not isinstance(custom_fields, Mapping):
        return [dict(entry) for entry in custom_fields]
    entries: list[dict[str, Any]] = []
    for key, value in custom_fields.items():
        if value is None:
            entries.append({"Key": key, "Value": "", "Clear": True})
        elif isinstance(value, str):
            entries.append({"Key": key, "Value": value})
        else:
            entries.extend({"Key": key, "Value": str(option)} for option in value)
    return entries


def make_subscriber(
    email: str,
    name: str = "",
    *,
    consent_to_track: str,
    custom_fields: Mapping[str, CustomFieldValue] | Iterable[Mapping[str, Any]] | None = None,
    mobile_number: str | None = None,
    consent_to_send_sms: str | None = None,
) -> dict[str, Any]:
    """A subscriber body for add / update / import, keys spelled as CM spells them.

    ``consent_to_track`` is mandatory in v3.3 (``Yes`` / ``No`` / ``Unchanged``); it is not
    defaulted because consent is a legal decision the caller must make. ``mobile_number`` (E.164)
    and ``consent_to_send_sms`` are only sent when given: an omitted key leaves CM's value alone,
    an empty ``mobile_number`` clears it.
    """
    record: dict[str, Any] = {
        "EmailAddress": email,
        "Name": name,
        "CustomFields": custom_field_entries(custom_fields),
        "ConsentToTrack": _consent(consent_to_track, "consent_to_track"),
    }
    if mobile_number is not None:
        record["MobileNumber"] = mobile_number
        record["ConsentToSendSms"] = _consent(
            consent_to_send_sms or "Unchanged", "consent_to_send_sms"
        )
    elif consent_to_send_sms is not None:
        record["ConsentToSendSms"] = _consent(consent_to_send_sms, "consent_to_send_sms")
    return record


def _consent(value: str, what: str) -> str:
    for allowed in CONSENT_VALUES:
        if value.lower() == allowed.lower():
            return allowed
    raise ValueError(f"{what} must be one of {', '.join(CONSENT_VALUES)}")
