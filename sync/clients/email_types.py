"""The kinds of e-mail tracking history cmsync copies: defined here once, derived everywhere.

Each :class:`EmailType` is one value of the Salesforce picklist ``CMS_Email_Tracking__c.
Event_Type__c`` (its value), the word people see (its ``label``) and the Campaign Monitor
campaign report its events come from (its ``cm_report``; Sent has none: its events are the
campaign's recipients, a report without a date filter). The Salesforce schema, the Campaign
Monitor client, the sync engine, the Storage settings and their form derive their lists from it.

It lives with the API clients, which know nothing of Django, so they can derive from it too;
:mod:`sync.models` re-exports it. ``values`` and ``choices`` behave as on Django's
``TextChoices``, so forms take ``EmailType.choices`` as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import EnumType, StrEnum


class _ChoicesType(EnumType):
    """``values``, ``labels`` and ``choices`` on the class, as Django's choices enums have."""

    @property
    def values(cls) -> list[str]:
        return [member.value for member in cls]

    @property
    def labels(cls) -> list[str]:
        return [member.label for member in cls]

    @property
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


class EmailType(StrEnum, metaclass=_ChoicesType):
    """A kind of tracking event: (picklist value, label, Campaign Monitor report)."""

    label: str
    cm_report: str

    SENT = "Sent", "Sent", ""
    OPENED = "Opened", "Opened", "opens"
    CLICKED = "Clicked", "Clicked", "clicks"
    BOUNCED = "Bounced", "Bounced", "bounces"
    UNSUBSCRIBED = "Unsubscribed", "Unsubscribed", "unsubscribes"
    SPAM_COMPLAINT = "Spam Complaint", "Spam complaint", "spam"

    def __new__(cls, value: str, label: str, cm_report: str) -> EmailType:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.cm_report = cm_report
        return member

    @classmethod
    def in_order(cls, values: Iterable[str] | None) -> list[str]:
        """The given values that are email types, each once, in this enum's order."""
        chosen = set(values or [])
        return [member.value for member in cls if member.value in chosen]

    @classmethod
    def by_cm_report(cls) -> dict[str, EmailType]:
        """Campaign Monitor's dated campaign report → the email type of its events."""
        return {member.cm_report: member for member in cls if member.cm_report}
