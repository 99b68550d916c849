"""The Campaign Monitor sandbox's state and the rules that change it.

Everything lives in memory behind one re-entrant lock (:attr:`CMState.lock`); the app holds it
for the whole of each API call, so handlers may read and write freely. Changes a list webhook
would report are collected in an outbox and handed to the webhook dispatcher after the call.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from lib.cm_time_zones import zone_from_cm

from .dates import Clock, format_minute, use_zone
from .errors import (
    CONSENT_INVALID,
    CONSENT_MISSING,
    IN_SUPPRESSION_LIST,
    INVALID_EMAIL,
    INVALID_EMAIL_AND_MOBILE,
    INVALID_MOBILE,
    SMS_CONSENT_INVALID,
    error,
    invalid_campaign,
    invalid_client,
    invalid_list,
)
from .model import (
    BOUNCE_REASONS,
    Campaign,
    Client,
    CustomField,
    Journey,
    MailingList,
    Member,
    Suppression,
)

#: E.164: a plus, a non-zero country digit, 7 to 15 digits in all.
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL_RE = re.compile(
    r"^[^@\s\"(),:;<>\[\]\\]+@"  # local part: no spaces or specials
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"  # first domain label
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"  # more labels, a TLD
)
_DATE_VALUE_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
INACTIVE_STATES = ("Unsubscribed", "Bounced", "Deleted")


def valid_email(text: str) -> bool:
    return bool(EMAIL_RE.match(text or "")) and len(text) <= 254


def valid_mobile(text: str) -> bool:
    return bool(E164_RE.match(text or ""))


def truthy(value: Any) -> bool:
    """CM accepts booleans as true/True/1 (and real JSON booleans)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return str(value or "").strip().lower() in {"true", "1", "yes"}


def _consent(value: Any, missing: tuple[int, str] | None, invalid: tuple[int, str]) -> str | None:
    if value is None or value == "":
        if missing is not None:
            raise error(missing)
        return None
    text = str(value).strip().lower()
    for allowed in ("Yes", "No", "Unchanged"):
        if text == allowed.lower():
            return allowed
    raise error(invalid)


@dataclass
class SubscriberInput:
    """A validated subscriber body (add, update or one import row)."""

    email: str
    name: str | None = None
    mobile: str | None = None  # None: key absent (leave alone); "": clear
    consent_to_track: str | None = None
    consent_to_send_sms: str | None = None
    custom_fields: list[Any] = field(default_factory=list)


def parse_subscriber(data: Any, *, email_error: tuple[int, str] = INVALID_EMAIL) -> SubscriberInput:
    """Validate a subscriber body in CM's order: address and mobile, then consent."""
    if not hasattr(data, "get"):
        raise error(INVALID_EMAIL)
    email = str(data.get("EmailAddress") or "").strip()
    mobile_given = "MobileNumber" in data
    mobile = data.get("MobileNumber") if mobile_given else None
    mobile = "" if mobile_given and mobile is None else mobile
    mobile_ok = mobile is None or mobile == "" or valid_mobile(str(mobile).strip())
    if not valid_email(email):
        raise error(email_error if mobile_ok else INVALID_EMAIL_AND_MOBILE)
    if not mobile_ok:
        raise error(INVALID_MOBILE)
    consent = _consent(data.get("ConsentToTrack"), CONSENT_MISSING, CONSENT_INVALID)
    sms = _consent(data.get("ConsentToSendSms"), None, SMS_CONSENT_INVALID)
    custom = data.get("CustomFields") or []
    name = data.get("Name")
    return SubscriberInput(
        email=email,
        name=None if name is None else str(name),
        mobile=None if mobile is None else str(mobile).strip(),
        consent_to_track=consent,
        consent_to_send_sms=sms,
        custom_fields=list(custom) if isinstance(custom, list) else [],
    )


def normalise_field_value(field_def: CustomField, value: str) -> str | None:
    """The stored form of a custom-field value, or None when CM would ignore it."""
    value = value.strip()
    if field_def.data_type == "Number":
        try:
            float(value)
        except ValueError:
            return None
        return value
    if field_def.data_type == "Date":
        found = _DATE_VALUE_RE.match(value)
        if not found:
            return None
        year, month, day = int(found[1]), int(found[2]), int(found[3])
        if not (1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2076):
            return None
        return f"{year:04d}-{month:02d}-{day:02d}"
    if field_def.data_type in ("MultiSelectOne", "MultiSelectMany"):
        for option in field_def.options:
            if option.lower() == value.lower():
                return option
        return None
    return value[:250]


def apply_custom_fields(lst: MailingList, member: Member, items: list[Any]) -> None:
    """Apply CM's custom-field update rules (``Clear``, multi-select options) to ``member``."""
    for item in items:
        if not hasattr(item, "get"):
            continue
        field_def = lst.field_for(str(item.get("Key") or ""))
        if field_def is None:
            continue
        raw = item.get("Value")
        value = "" if raw is None else str(raw)
        clear = truthy(item.get("Clear"))
        name = field_def.name
        if field_def.data_type == "MultiSelectMany":
            if clear:
                member.custom = [
                    (key, old)
                    for key, old in member.custom
                    if key != name or (value and old.lower() != value.lower())
                ]
                continue
            stored = normalise_field_value(field_def, value) if value else None
            if stored is not None and (name, stored) not in member.custom:
                member.custom.append((name, stored))
            continue
        if clear or (field_def.data_type == "Date" and value.strip() == "0000-00-00"):
            member.custom = [(key, old) for key, old in member.custom if key != name]
            continue
        if value == "":
            continue
        stored = normalise_field_value(field_def, value)
        if stored is None:
            continue
        member.custom = [(key, old) for key, old in member.custom if key != name]
        member.custom.append((name, stored))
    order = {field_def.name: position for position, field_def in enumerate(lst.fields)}
    member.custom.sort(key=lambda pair: order.get(pair[0], len(order)))


class CMState:
    """Clients, lists, subscribers, campaigns and their events for one sandbox."""

    def __init__(self, clock: Clock | None = None, random_seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.clock = clock or Clock()
        self.ids = random.Random(f"cm-ids-{random_seed}")
        self.clients: dict[str, Client] = {}
        self.lists: dict[str, MailingList] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.client_creations: list[float] = []
        self.outbox: list[tuple[str, dict[str, Any]]] = []  # (list id, webhook event)
        self.on_flush: Callable[[list[tuple[str, dict[str, Any]]]], None] | None = None

    # Identifiers -------------------------------------------------------------------------------
    def new_id(self, length: int = 32) -> str:
        return "".join(self.ids.choice("0123456789abcdef") for _ in range(length))

    # Lookups (raise CM's errors) ---------------------------------------------------------------
    def client(self, client_id: str, scope: str | None = None) -> Client:
        found = self.clients.get(client_id.lower())
        if found is None or (scope is not None and scope != found.client_id):
            raise invalid_client()
        use_zone(found.timezone)
        return found

    def mailing_list(self, list_id: str, scope: str | None = None) -> MailingList:
        found = self.lists.get(list_id.lower())
        if found is None or (scope is not None and scope != found.client_id):
            raise invalid_list()
        use_zone(self.clients[found.client_id].timezone)
        return found

    def campaign(self, campaign_id: str, scope: str | None = None) -> Campaign:
        self.release_due_campaigns()
        found = self.campaigns.get(campaign_id.lower())
        if found is None or (scope is not None and scope != found.client_id):
            raise invalid_campaign()
        use_zone(self.clients[found.client_id].timezone)
        return found

    def client_by_api_key(self, api_key: str) -> Client | None:
        for candidate in self.clients.values():
            if candidate.api_key == api_key:
                return candidate
        return None

    # Creation ----------------------------------------------------------------------------------
    def add_client(self, name: str, **details: Any) -> Client:
        client = Client(client_id=self.new_id(), name=name, api_key=self.new_id(48), **details)
        self.clients[client.client_id] = client
        return client

    def add_list(self, client: Client, title: str, **details: Any) -> MailingList:
        lst = MailingList(list_id=self.new_id(), client_id=client.client_id, title=title, **details)
        self.lists[lst.list_id] = lst
        client.list_ids.append(lst.list_id)
        return lst

    def add_campaign(self, client: Client, **details: Any) -> Campaign:
        campaign = Campaign(
            campaign_id=self.new_id(),
            client_id=client.client_id,
            web_code=self.new_id(16).upper(),
            **details,
        )
        self.campaigns[campaign.campaign_id] = campaign
        client.campaign_ids.append(campaign.campaign_id)
        return campaign

    # Subscribers -------------------------------------------------------------------------------
    def upsert_subscriber(
        self, lst: MailingList, data: SubscriberInput, resubscribe: bool, minute: int
    ) -> str:
        """Add or update an address as CM's add/import do.

        Returns "new", "resubscribed" (an Unsubscribed / Bounced / Deleted address made Active
        again) or "existing" (anything else: an update, or an inactive address left alone).
        """
        client = self.clients[lst.client_id]
        key = data.email.lower()
        suppressed = key in client.suppression
        member = lst.members.get(key)
        if suppressed and not resubscribe and member is None:
            raise error(IN_SUPPRESSION_LIST)
        if suppressed and resubscribe:
            del client.suppression[key]
        if member is None:
            member = Member(
                email=data.email,
                list_id=lst.list_id,
                state="Unconfirmed" if lst.confirmed_opt_in else "Active",
                state_minute=minute,
                joined_minute=minute,
                consent_to_track="No",
            )
            self.apply_details(lst, member, data)
            lst.members[key] = member
            if member.state == "Active":
                self.emit_subscribe(lst, member, minute)
            return "new"
        if member.state in INACTIVE_STATES and not resubscribe:
            return "existing"
        before = self.snapshot(member)
        self.apply_details(lst, member, data)
        if member.state in INACTIVE_STATES:
            member.state = "Active"
            member.state_minute = minute
            self.emit_subscribe(lst, member, minute)
            return "resubscribed"
        if self.snapshot(member) != before:
            self.emit_update(lst, member, member.email, minute)
        return "existing"

    def start_subscription_journeys(self, lst: MailingList, email: str, minute: int) -> None:
        """Send the first email of each Active "On Subscription" journey on ``lst`` to ``email``.

        Only the first email goes out now: later ones wait for day offsets the sandbox does not
        model. An address that is not Active (e.g. Unconfirmed) does not enter journeys.
        """
        member = lst.member(email)
        if member is None or member.state != "Active":
            return
        for journey in self.clients[lst.client_id].journeys:
            if not _starts_on_subscription(journey, lst) or not journey.emails:
                continue
            first = journey.emails[0]
            first.recipients.append(member)
            first.sent.add(len(first.recipients) - 1, minute)

    @staticmethod
    def snapshot(member: Member) -> tuple[Any, ...]:
        return (
            member.email,
            member.name,
            tuple(member.custom),
            member.mobile,
            member.consent_to_track,
            member.consent_to_send_sms,
        )

    @staticmethod
    def apply_details(lst: MailingList, member: Member, data: SubscriberInput) -> None:
        if data.name is not None:
            member.name = data.name
        if data.mobile is not None:
            member.mobile = data.mobile
        if data.consent_to_track in ("Yes", "No"):
            member.consent_to_track = data.consent_to_track
        if data.consent_to_send_sms in ("Yes", "No"):
            member.consent_to_send_sms = data.consent_to_send_sms
        apply_custom_fields(lst, member, data.custom_fields)

    def deactivate(self, member: Member, state: str, minute: int) -> bool:
        """Move a member to Unsubscribed / Bounced / Deleted; returns whether it changed."""
        if member.state == state:
            return False
        if member.state in INACTIVE_STATES and state != "Deleted":
            return False
        member.state = state
        member.state_minute = minute
        self.emit_deactivate(self.lists[member.list_id], member, minute)
        return True

    def unsubscribe(self, lst: MailingList, member: Member, minute: int) -> None:
        """Unsubscribe as CM does: per the list's UnsubscribeSetting, maybe client-wide."""
        self.deactivate(member, "Unsubscribed", minute)
        client = self.clients[lst.client_id]
        if lst.unsubscribe_setting == "AllClientLists":
            for other_id in client.list_ids:
                other = self.lists[other_id]
                sibling = other.member(member.email)
                if other is not lst and sibling is not None and sibling.state == "Active":
                    self.deactivate(sibling, "Unsubscribed", minute)
        if lst.unsubscribe_setting == "AllClientLists" or lst.add_unsubscribes_to_supp_list:
            self.suppress(client, member.email, "Unsubscribed", minute * 60)

    @staticmethod
    def suppress(client: Client, email: str, reason: str, second: float) -> None:
        key = email.lower()
        if key not in client.suppression:
            client.suppression[key] = Suppression(email=email, reason=reason, second=int(second))

    # Campaigns and tracking --------------------------------------------------------------------
    def send_campaign(self, campaign: Campaign, minute: int) -> None:
        """Fan the campaign out to the active, unsuppressed members of its lists (deduplicated)."""
        client = self.clients[campaign.client_id]
        seen: set[str] = set()
        recipients: list[Member] = []
        for list_id in campaign.list_ids:
            lst = self.lists.get(list_id)
            if lst is None:
                continue
            for key, member in lst.members.items():
                if key in seen or key in client.suppression or not member.active_at(minute):
                    continue
                seen.add(key)
                recipients.append(member)
        campaign.recipients = recipients
        campaign.sent_minute = minute
        campaign.scheduled_minute = None

    def release_due_campaigns(self) -> None:
        """Send scheduled campaigns whose time has come (checked lazily on reads)."""
        now = self.clock.now_minute()
        for campaign in self.campaigns.values():
            if campaign.scheduled_minute is not None and campaign.scheduled_minute <= now:
                self.send_campaign(campaign, campaign.scheduled_minute)

    def record_event(
        self,
        campaign: Campaign,
        kind: str,
        recipient: int,
        minute: int,
        detail: int = 0,
        *,
        apply_state: bool = True,
    ) -> None:
        """Store one tracking event; unsubscribes, spam and hard bounces change list state."""
        campaign.events[kind].add(recipient, minute, detail)
        if not apply_state:
            return
        member = campaign.recipients[recipient]
        lst = self.lists.get(member.list_id)
        if lst is None:
            return
        if kind in ("unsubscribe", "spam"):
            self.unsubscribe(lst, member, minute)
        elif kind == "bounce" and BOUNCE_REASONS[detail][0] == "Hard":
            self.deactivate(member, "Bounced", minute)

    # Webhook outbox ----------------------------------------------------------------------------
    def emit_subscribe(self, lst: MailingList, member: Member, minute: int) -> None:
        self._emit(
            lst,
            {
                "Type": "Subscribe",
                "Date": format_minute(minute, self.zone_of(lst)),
                "EmailAddress": member.email,
                "Name": member.name,
                "CustomFields": custom_fields_json(member),
                "SignupIPAddress": "TypeManual",
            },
        )

    def emit_update(self, lst: MailingList, member: Member, old_email: str, minute: int) -> None:
        self._emit(
            lst,
            {
                "Type": "Update",
                "Date": format_minute(minute, self.zone_of(lst)),
                "OldEmailAddress": old_email,
                "EmailAddress": member.email,
                "Name": member.name,
                "State": member.state,
                "CustomFields": custom_fields_json(member),
            },
        )

    def emit_deactivate(self, lst: MailingList, member: Member, minute: int) -> None:
        self._emit(
            lst,
            {
                "Type": "Deactivate",
                "Date": format_minute(minute, self.zone_of(lst)),
                "EmailAddress": member.email,
                "Name": member.name,
                "State": member.state,
                "CustomFields": custom_fields_json(member),
            },
        )

    def zone_of(self, lst: MailingList) -> tzinfo:
        """The zone the list's client writes its dates in."""
        return zone_from_cm(self.clients[lst.client_id].timezone)

    def _emit(self, lst: MailingList, event: dict[str, Any]) -> None:
        if any(hook.status == "Active" for hook in lst.webhooks):
            self.outbox.append((lst.list_id, event))

    def flush_outbox(self) -> None:
        pending, self.outbox = self.outbox, []
        if pending and self.on_flush is not None:
            self.on_flush(pending)


def _starts_on_subscription(journey: Journey, lst: MailingList) -> bool:
    return (
        journey.list_id == lst.list_id
        and journey.status == "Active"
        and journey.trigger_type == "On Subscription"
    )


def custom_fields_json(member: Member) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in member.custom]
