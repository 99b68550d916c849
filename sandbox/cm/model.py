"""The in-memory records of the Campaign Monitor sandbox.

Subscribers belong to one list each (CM keeps per-list state): a :class:`Member` is one address
on one list. Tracking events are stored column-wise per campaign and per kind
(:class:`EventColumns`: recipient index, minute, detail index, each an ``array``) so a demo with
a million events stays small; JSON is built only for the page a caller asks for.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field

STATES = ("Active", "Unconfirmed", "Unsubscribed", "Bounced", "Deleted")
EVENT_KINDS = ("open", "click", "unsubscribe", "spam", "bounce")
DATA_TYPES = ("Text", "Number", "MultiSelectOne", "MultiSelectMany", "Date", "Country", "USState")

#: ``(BounceType, Reason)``; a bounce event's detail is an index into this table.
BOUNCE_REASONS: tuple[tuple[str, str], ...] = (
    ("Hard", "Hard Bounce"),
    ("Soft", "Soft Bounce - General"),
    ("Soft", "Soft Bounce - Dns Failure"),
    ("Soft", "Soft Bounce - Mailbox Full"),
    ("Soft", "Bounce - But No Email Address Returned "),
)

#: Where opens and clicks "come from"; picked per recipient from a stable hash of the address.
LOCATIONS: tuple[tuple[float, float, str, str, str, str], ...] = (
    (-33.8683, 151.2086, "Sydney", "New South Wales", "AU", "Australia"),
    (-37.8136, 144.9631, "Melbourne", "Victoria", "AU", "Australia"),
    (51.5074, -0.1278, "London", "England", "GB", "United Kingdom"),
    (40.7128, -74.006, "New York", "New York", "US", "United States of America"),
    (37.7749, -122.4194, "San Francisco", "California", "US", "United States of America"),
    (-36.8485, 174.7633, "Auckland", "Auckland", "NZ", "New Zealand"),
    (43.6532, -79.3832, "Toronto", "Ontario", "CA", "Canada"),
    (52.52, 13.405, "Berlin", "Berlin", "DE", "Germany"),
)


@dataclass
class CustomField:
    name: str
    key: str  # "[fieldname]"
    data_type: str
    options: list[str] = field(default_factory=list)
    visible: bool = True


@dataclass(slots=True)
class Member:
    """One email address on one list, in one state."""

    email: str
    list_id: str
    name: str = ""
    state: str = "Active"
    state_minute: int = 0  # when it entered ``state`` (the "Date" CM shows)
    joined_minute: int = 0  # "ListJoinedDate"
    custom: list[tuple[str, str]] = field(default_factory=list)  # (field name, value)
    consent_to_track: str = "Yes"
    consent_to_send_sms: str = "No"
    mobile: str = ""
    reads_email_with: str = ""

    def active_at(self, minute: int) -> bool:
        """Whether the member could receive a campaign sent at ``minute``."""
        if self.joined_minute > minute:
            return False
        if self.state == "Active":
            return True
        if self.state == "Unconfirmed":
            return False
        # Deactivated later than ``minute``: it was still active then.
        return self.state_minute > minute


@dataclass
class Webhook:
    webhook_id: str
    events: list[str]
    url: str
    payload_format: str  # "Json" or "Xml"
    status: str = "Active"


@dataclass
class MailingList:
    list_id: str
    client_id: str
    title: str
    unsubscribe_page: str = ""
    confirmed_opt_in: bool = False
    confirmation_success_page: str = ""
    unsubscribe_setting: str = "AllClientLists"
    add_unsubscribes_to_supp_list: bool = False  # only matters for OnlyThisList lists
    scrub_active_with_supp_list: bool = True
    fields: list[CustomField] = field(default_factory=list)
    members: dict[str, Member] = field(default_factory=dict)  # lower-case email -> member
    webhooks: list[Webhook] = field(default_factory=list)

    def field_for(self, key: str) -> CustomField | None:
        """Find a field by its name or key, with or without brackets, in any case."""
        wanted = key.strip()
        if wanted.startswith("[") and wanted.endswith("]"):
            wanted = wanted[1:-1]
        lowered = wanted.lower()
        for candidate in self.fields:
            if candidate.name.lower() == lowered or candidate.key[1:-1].lower() == lowered:
                return candidate
        return None

    def member(self, email: str) -> Member | None:
        return self.members.get(email.strip().lower())


@dataclass
class Suppression:
    email: str
    reason: str
    second: int


@dataclass
class Journey:
    journey_id: str
    list_id: str
    name: str
    status: str
    trigger_type: str
    emails: list[JourneyEmail] = field(default_factory=list)


@dataclass
class Client:
    client_id: str
    name: str
    api_key: str
    contact_name: str = ""
    email: str = ""
    country: str = "Australia"
    timezone: str = "(GMT) Coordinated Universal Time"
    list_ids: list[str] = field(default_factory=list)
    campaign_ids: list[str] = field(default_factory=list)
    suppression: dict[str, Suppression] = field(default_factory=dict)  # lower-case email ->
    journeys: list[Journey] = field(default_factory=list)
    credits: int = 500


class EventColumns:
    """The events of one kind for one campaign, kept sorted by minute (ties: arrival order)."""

    __slots__ = ("recipient", "minute", "detail")

    def __init__(self) -> None:
        self.recipient = array("I")
        self.minute = array("I")
        self.detail = array("H")

    def __len__(self) -> int:
        return len(self.minute)

    def add(self, recipient: int, minute: int, detail: int = 0) -> None:
        at = bisect.bisect_right(self.minute, minute)
        if at == len(self.minute):
            self.recipient.append(recipient)
            self.minute.append(minute)
            self.detail.append(detail)
        else:
            self.recipient.insert(at, recipient)
            self.minute.insert(at, minute)
            self.detail.insert(at, detail)

    def extend_sorted(self, rows: list[tuple[int, int, int]]) -> None:
        """Bulk load ``(minute, recipient, detail)`` rows (the demo seed), keeping minute order."""
        if len(self.minute):
            rows = [*zip(self.minute, self.recipient, self.detail, strict=True), *rows]
            self.recipient, self.minute, self.detail = array("I"), array("I"), array("H")
        rows.sort(key=lambda row: row[0])
        self.minute.extend(row[0] for row in rows)
        self.recipient.extend(row[1] for row in rows)
        self.detail.extend(row[2] for row in rows)

    def first_index_from(self, minute: int) -> int:
        return bisect.bisect_left(self.minute, minute)


class JourneyEmail:
    """One email of a journey: who got it when (sorted by minute) and what they did."""

    JOURNEY_EVENT_KINDS = ("open", "click", "unsubscribe", "bounce")

    def __init__(self, email_id: str, name: str) -> None:
        self.email_id = email_id
        self.name = name
        self.recipients: list[Member] = []
        self.sent = EventColumns()  # recipient index + minute, in sending order
        self.events = {kind: EventColumns() for kind in self.JOURNEY_EVENT_KINDS}
        self.urls: list[str] = []


@dataclass
class Campaign:
    campaign_id: str
    client_id: str
    name: str
    subject: str
    from_name: str
    from_email: str
    reply_to: str
    html_url: str = ""
    text_url: str = ""
    list_ids: list[str] = field(default_factory=list)
    segment_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    created_minute: int = 0
    scheduled_minute: int | None = None
    sent_minute: int | None = None
    web_code: str = ""
    confirmation_email: str = ""
    recipients: list[Member] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    events: dict[str, EventColumns] = field(
        default_factory=lambda: {kind: EventColumns() for kind in EVENT_KINDS}
    )
    mentions: int = 0
    forwards: int = 0
    likes: int = 0
    _recipient_index: dict[tuple[str, str], int] | None = None

    @property
    def sent(self) -> bool:
        return self.sent_minute is not None

    def recipient_index(self, list_id: str, email: str) -> int | None:
        """Position of (list, address) among the recipients, or None."""
        if self._recipient_index is None or len(self._recipient_index) != len(self.recipients):
            self._recipient_index = {
                (member.list_id, member.email.lower()): position
                for position, member in enumerate(self.recipients)
            }
        return self._recipient_index.get((list_id, email.lower()))

    def recipient_for_email(self, email: str) -> int | None:
        lowered = email.strip().lower()
        for list_id in self.list_ids:
            found = self.recipient_index(list_id, lowered)
            if found is not None:
                return found
        return None

    def url_index(self, url: str) -> int:
        try:
            return self.urls.index(url)
        except ValueError:
            self.urls.append(url)
            return len(self.urls) - 1
