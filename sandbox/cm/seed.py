"""Seed data for the Campaign Monitor sandbox.

``seed_empty``: one client ("Sandbox Client"), nothing else.

``seed_demo``: a believable agency with three clients, two or three lists each (with custom
fields), ``config.subscribers`` people spread over them, sent campaigns with tags across the last
200 days and ``config.events`` tracking events. Everything comes from ``config.random_seed``;
only absolute dates move with the real clock (they are relative to "now").

Fixed regardless of the random seed: the client names, list titles, custom fields, tag pools and
journey names below (see ``CLIENT_PLANS``). Ids, people, campaign dates and events vary with it.

The people are :func:`demo_people` ``(config.subscribers, config.random_seed)``: subscriber ``i``
is ``demo_people(...)[i]`` (name and address), so the Salesforce sandbox's demo org, built from the
same config, can hold some of the very same addresses as Contacts and Leads. ``demo_people`` has
its own random stream: it depends on nothing but its two arguments (not on events or lists).

Phone numbers are written as real lists hold them: a "Phone" custom field in national formats
("(555) 555-0134", "020 7946 0958", "0491 570 156", "+61 4 9157 0156"); ``MobileNumber`` is set
only for some mobiles, and then in valid E.164 form.

Scale: events are stored compactly (see :class:`sandbox.cm.model.EventColumns`); rough benchmark
on a laptop-class core, to re-run by hand::

    .venv/bin/python -c "import time; from sandbox.config import SandboxConfig; \
from sandbox.cm import build_app; t=time.perf_counter(); \
build_app(SandboxConfig(subscribers=20000, events=1_000_000)); print(time.perf_counter()-t)"

(about 5 s and 75 MB peak RSS for 20,000 subscribers and a million events).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.config import SandboxConfig

from .dates import format_minute
from .model import (
    BOUNCE_REASONS,
    Campaign,
    Client,
    CustomField,
    Journey,
    JourneyEmail,
    Member,
)
from .state import CMState

# Each demo client lives in its own zone, as real accounts do: CM writes and reads every date
# of a client as wall-clock time there (daylight saving included; see sandbox/cm/dates.py).
SYDNEY = "(GMT+10:00) Canberra, Melbourne, Sydney"
LONDON = "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London"
NEW_YORK = "(GMT-05:00) Eastern Time (US & Canada)"

DAY = 24 * 60


@dataclass(frozen=True)
class ListPlan:
    title: str
    fields: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, data type, options)
    unsubscribe_setting: str = "AllClientLists"
    confirmed_opt_in: bool = False


@dataclass(frozen=True)
class ClientPlan:
    name: str
    country: str
    timezone: str
    contact: str
    domain: str
    phone_style: str  # "AU", "GB" or "US"
    lists: tuple[ListPlan, ...]
    tags: tuple[str, ...]
    themes: tuple[str, ...]
    paths: tuple[str, ...]
    weight: float


_PHONE = ("Phone", "Text", ())
_CITY = ("City", "Text", ())

CLIENT_PLANS: tuple[ClientPlan, ...] = (
    ClientPlan(
        name="Harbour Lane Coffee",
        country="Australia",
        timezone=SYDNEY,
        contact="Maya Chen",
        domain="harbourlane.example",
        phone_style="AU",
        lists=(
            ListPlan(
                "Coffee Club Newsletter",
                (
                    _PHONE,
                    _CITY,
                    ("Favourite Blend", "MultiSelectOne", ("Espresso", "Filter", "Cold Brew")),
                    ("Member Since", "Date", ()),
                ),
            ),
            ListPlan(
                "Wholesale Customers",
                (_PHONE, ("Company", "Text", ()), ("Monthly Kilos", "Number", ())),
                unsubscribe_setting="OnlyThisList",
            ),
            ListPlan(
                "Barista Workshops",
                (_PHONE, ("Interests", "MultiSelectMany", ("Latte Art", "Roasting", "Brewing"))),
                confirmed_opt_in=True,
            ),
        ),
        tags=("Newsletter", "Promotion", "Events", "Wholesale"),
        themes=("Bean of the Month", "Winter Warmers", "Roastery Open Day", "Loyalty Rewards"),
        paths=("shop", "beans/single-origin", "events", "rewards", "wholesale/price-list"),
        weight=0.4,
    ),
    ClientPlan(
        name="Northwind Outdoor Co.",
        country="United Kingdom",
        timezone=LONDON,
        contact="Oliver Hughes",
        domain="northwind-outdoor.example",
        phone_style="GB",
        lists=(
            ListPlan(
                "Trail News",
                (
                    _PHONE,
                    _CITY,
                    ("Activities", "MultiSelectMany", ("Hiking", "Climbing", "Cycling")),
                ),
            ),
            ListPlan(
                "Members",
                (
                    _PHONE,
                    ("Membership Tier", "MultiSelectOne", ("Bronze", "Silver", "Gold")),
                    ("Joined Club", "Date", ()),
                ),
                unsubscribe_setting="OnlyThisList",
            ),
        ),
        tags=("Newsletter", "Sale", "Guides", "Members"),
        themes=("Trail Guide", "Kit Sale", "Members Evening", "Summit Stories"),
        paths=("sale", "guides/peak-district", "kit/tents", "members", "stores"),
        weight=0.35,
    ),
    ClientPlan(
        name="Bluegum Health Clinics",
        country="United States of America",
        timezone=NEW_YORK,
        contact="Priya Raman",
        domain="bluegumhealth.example",
        phone_style="US",
        lists=(
            ListPlan(
                "Patient Updates",
                (
                    _PHONE,
                    ("Clinic", "MultiSelectOne", ("Downtown", "Riverside", "Northgate")),
                    ("Date of Last Visit", "Date", ()),
                ),
            ),
            ListPlan("Wellness Tips", (_PHONE, _CITY)),
            ListPlan(
                "Practitioner Bulletin",
                (_PHONE, ("Specialty", "Text", ()), ("Years in Practice", "Number", ())),
                unsubscribe_setting="OnlyThisList",
            ),
        ),
        tags=("Newsletter", "Wellness", "Clinic News", "Practitioners"),
        themes=("Wellness Tips", "Flu Season", "Clinic Hours Update", "Healthy Habits"),
        paths=("book", "wellness/sleep", "clinics", "flu-shots", "practitioners"),
        weight=0.25,
    ),
)

FIRST_NAMES = (
    "Olivia", "Liam", "Charlotte", "Noah", "Amelia", "Jack", "Isla", "William", "Mia", "Oscar",
    "Ava", "Leo", "Grace", "Lucas", "Chloe", "Henry", "Zoe", "Thomas", "Ruby", "James", "Aisha",
    "Mateo", "Hana", "Ravi", "Sofia", "Kai", "Elena", "Tariq", "Mei", "Finn",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Martin", "Kelly",
    "Anderson", "Patel", "Singh", "Walker", "Harris", "Clarke", "Lee", "Young", "King", "Wright",
    "Scott", "Green", "Baker", "Adams", "Campbell", "O'Brien", "Kowalski", "Rossi", "Müller",
)  # fmt: skip
MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")
READS_WITH = ("Gmail", "Gmail", "Apple Mail", "Outlook", "iPhone", "Yahoo! Mail", "")
CITIES = {
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth", "Hobart"),
    "GB": ("London", "Manchester", "Leeds", "Bristol", "Edinburgh"),
    "US": ("Boston", "Chicago", "Austin", "Denver", "Seattle"),
}
# Per recipient of a campaign; opens and clicks make up the rest of the events.
BOUNCE_RATE = 0.03
UNSUBSCRIBE_RATE = 0.02
SPAM_RATE = 0.004
CLICK_SHARE = 0.3  # of the engagement events
HARD_BOUNCES = [i for i, (kind, _) in enumerate(BOUNCE_REASONS) if kind == "Hard"]
SOFT_BOUNCES = [i for i, (kind, _) in enumerate(BOUNCE_REASONS) if kind == "Soft"]


def seed_empty(state: CMState, config: SandboxConfig) -> None:
    state.add_client(
        "Sandbox Client",
        contact_name="Sandbox Admin",
        email="admin@sandbox.example",
    )


def phone_numbers(rng: random.Random, style: str) -> tuple[str, str]:
    """A phone number as people type it (national format) and its E.164 form if a mobile."""
    if style == "AU":
        tail = rng.randint(100, 999)
        if rng.random() < 0.75:
            e164 = f"+61491570{tail}"
            local = rng.choice((f"0491 570 {tail}", f"+61 4 9157 0{tail}", f"0491570{tail}"))
            return local, e164
        return f"(02) 5550 {rng.randint(1000, 9999)}", ""
    if style == "GB":
        tail = rng.randint(100, 999)
        if rng.random() < 0.75:
            e164 = f"+447700900{tail}"
            local = rng.choice((f"07700 900{tail}", f"+44 7700 900{tail}", f"07700-900-{tail}"))
            return local, e164
        return f"020 7946 0{tail}", ""
    tail = rng.randint(100, 199)
    local = rng.choice(
        (f"(555) 555-0{tail}", f"555-555-0{tail}", f"555.555.0{tail}", f"+1 555 555 0{tail}")
    )
    return local, f"+1555555{tail:04d}"


@dataclass(frozen=True, slots=True)
class Person:
    """One demo person: who they are and their address (the same in both sandboxes' demos)."""

    first_name: str
    last_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def demo_people(count: int, random_seed: int) -> list[Person]:
    """The demo's ``count`` people for ``random_seed``, in subscriber order.

    Deterministic and O(count): drawn from a random stream of their own (seeded from
    ``random_seed`` alone), so the list does not change with events, lists or clients, and
    ``demo_people(n, s)`` is the first ``n`` of ``demo_people(m, s)`` for ``m >= n``.
    Addresses are unique: ``first.last{i}@domain`` with ``i`` counted from 1.
    """
    rng = random.Random(f"cm-demo-people:{random_seed}")
    people = []
    for index in range(1, max(0, count) + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "").replace("ü", "u")
        people.append(Person(first, last, f"{local}{index}@{rng.choice(MAIL_DOMAINS)}"))
    return people


@dataclass
class Subscriber:
    """A demo person as one client holds them: the person plus phone, city and habits."""

    email: str
    name: str
    phone: str
    mobile: str
    city: str
    reads_with: str
    consent: str


def _subscriber(rng: random.Random, person: Person, plan: ClientPlan) -> Subscriber:
    phone, mobile = ("", "")
    if rng.random() < 0.6:
        phone, e164 = phone_numbers(rng, plan.phone_style)
        mobile = e164 if e164 and rng.random() < 0.5 else ""
    return Subscriber(
        email=person.email,
        name=person.name,
        phone=phone,
        mobile=mobile,
        city=rng.choice(CITIES[plan.phone_style]),
        reads_with=rng.choice(READS_WITH),
        consent="Yes" if rng.random() < 0.85 else "No",
    )


def _field_value(
    rng: random.Random, field_def: CustomField, person: Subscriber, now: int
) -> list[str]:
    if field_def.name == "Phone":
        return [person.phone] if person.phone else []
    if field_def.name == "City":
        return [person.city]
    if rng.random() < 0.25:
        return []
    if field_def.data_type == "MultiSelectOne":
        return [rng.choice(field_def.options)]
    if field_def.data_type == "MultiSelectMany":
        return rng.sample(field_def.options, rng.randint(1, len(field_def.options)))
    if field_def.data_type == "Number":
        return [str(rng.randint(1, 40))]
    if field_def.data_type == "Date":
        day = now - rng.randint(30, 2000) * DAY
        return [format_minute(day)[:10]]
    if field_def.name == "Company":
        return [f"{person.name.split()[1]} {rng.choice(('Cafe', 'Deli', 'Bakery', 'Foods'))}"]
    return [rng.choice(("General Practice", "Physiotherapy", "Dietetics", "Nursing"))]


def _member(
    rng: random.Random,
    lst_fields: list[CustomField],
    person: Subscriber,
    list_id: str,
    now: int,
    confirmed_opt_in: bool,
) -> Member:
    joined = now - int(rng.triangular(0, 400, 120) * DAY) - rng.randint(0, DAY - 1)
    member = Member(
        email=person.email,
        list_id=list_id,
        name=person.name,
        state="Active",
        state_minute=joined,
        joined_minute=joined,
        consent_to_track=person.consent,
        consent_to_send_sms="Yes" if person.mobile and rng.random() < 0.6 else "No",
        mobile=person.mobile,
        reads_email_with=person.reads_with,
    )
    for field_def in lst_fields:
        for value in _field_value(rng, field_def, person, now):
            member.custom.append((field_def.name, value))
    roll = rng.random()
    later = joined + rng.randint(1, max(2, now - joined - 1))
    if confirmed_opt_in and roll < 0.12 or roll < 0.03:
        member.state = "Unconfirmed"
    elif roll < 0.07:
        member.state, member.state_minute = "Deleted", later
    elif roll < 0.11:
        member.state, member.state_minute = "Unsubscribed", later
    elif roll < 0.13:
        member.state, member.state_minute = "Bounced", later
    return member


def seed_demo(state: CMState, config: SandboxConfig) -> None:
    rng = random.Random(config.random_seed)
    now = config.seed_epoch_minute or state.clock.now_minute()
    clients = [_make_client(state, plan) for plan in CLIENT_PLANS]
    people = demo_people(config.subscribers, config.random_seed)
    _make_subscribers(state, rng, clients, people, now)
    campaigns = _make_campaigns(state, rng, clients, now)
    _send_and_track(state, rng, campaigns, max(0, config.events), now)
    for client, plan in zip(clients, CLIENT_PLANS, strict=True):
        _make_journeys(state, rng, client, plan, now)


def _make_client(state: CMState, plan: ClientPlan) -> Client:
    first, _, last = plan.contact.partition(" ")
    client = state.add_client(
        plan.name,
        contact_name=plan.contact,
        email=f"{first.lower()}@{plan.domain}",
        country=plan.country,
        timezone=plan.timezone,
    )
    for list_plan in plan.lists:
        lst = state.add_list(
            client,
            list_plan.title,
            unsubscribe_setting=list_plan.unsubscribe_setting,
            confirmed_opt_in=list_plan.confirmed_opt_in,
            add_unsubscribes_to_supp_list=False,
        )
        for name, data_type, options in list_plan.fields:
            key = "[" + "".join(ch for ch in name if ch.isalnum()) + "]"
            visible = name not in ("Phone", "Monthly Kilos")
            lst.fields.append(CustomField(name, key, data_type, list(options), visible))
    return client


def _make_subscribers(
    state: CMState, rng: random.Random, clients: list[Client], people: list[Person], now: int
) -> None:
    weights = [plan.weight for plan in CLIENT_PLANS]
    for person in people:
        which = rng.choices(range(len(clients)), weights)[0]
        client, plan = clients[which], CLIENT_PLANS[which]
        subscriber = _subscriber(rng, person, plan)
        list_ids = [
            list_id
            for position, list_id in enumerate(client.list_ids)
            if rng.random() < (0.8 if position == 0 else 0.35)
        ]
        if not list_ids:
            list_ids = [rng.choice(client.list_ids)]
        for list_id in list_ids:
            lst = state.lists[list_id]
            member = _member(rng, lst.fields, subscriber, list_id, now, lst.confirmed_opt_in)
            lst.members[subscriber.email.lower()] = member
    _ensure_every_state(state, rng, now)


def _ensure_every_state(state: CMState, rng: random.Random, now: int) -> None:
    """Small demos still show every state: move one active member into any state nobody is in."""
    members = [member for lst in state.lists.values() for member in lst.members.values()]
    if len(members) < 20:
        return
    present = {member.state for member in members}
    for wanted in ("Unconfirmed", "Unsubscribed", "Bounced", "Deleted"):
        candidates = [
            m
            for m in members
            if m.state == "Active"
            and (wanted != "Unconfirmed" or state.lists[m.list_id].confirmed_opt_in)
        ]
        if wanted in present or not candidates:
            continue
        member = rng.choice(candidates)
        member.state = wanted
        if wanted != "Unconfirmed":
            member.state_minute = rng.randint(
                member.joined_minute + 1, max(member.joined_minute + 1, now)
            )


def _make_campaigns(
    state: CMState, rng: random.Random, clients: list[Client], now: int
) -> list[Campaign]:
    planned: list[Campaign] = []
    for client, plan in zip(clients, CLIENT_PLANS, strict=True):
        count = rng.randint(6, 10)
        for number in range(count):
            days_ago = 200 - (number + rng.uniform(0.1, 0.9)) * 200 / count
            sent = now - int(days_ago * DAY)
            theme = plan.themes[number % len(plan.themes)]
            month = datetime.fromtimestamp(sent * 60, tz=UTC).strftime("%B %Y")
            lists = [client.list_ids[0]]
            extra = client.list_ids[1:]
            if extra and rng.random() < 0.4:
                lists.append(rng.choice(extra))
            campaign = state.add_campaign(
                client,
                name=f"{theme}, {month} (#{number + 1})",
                subject=f"{theme}: what's new at {plan.name}",
                from_name=plan.name,
                from_email=f"news@{plan.domain}",
                reply_to=f"hello@{plan.domain}",
                html_url=f"https://www.{plan.domain}/email/{number + 1}.html",
                list_ids=lists,
                tags=rng.sample(plan.tags, rng.randint(1, 2)),
                created_minute=sent - rng.randint(DAY, 5 * DAY),
                urls=[f"https://www.{plan.domain}/{path}" for path in plan.paths],
            )
            campaign.sent_minute = sent  # marks it for _send_and_track
            planned.append(campaign)
        state.add_campaign(
            client,
            name=f"{plan.themes[0]} (draft)",
            subject=f"Coming soon from {plan.name}",
            from_name=plan.name,
            from_email=f"news@{plan.domain}",
            reply_to=f"hello@{plan.domain}",
            html_url=f"https://www.{plan.domain}/email/draft.html",
            list_ids=[client.list_ids[0]],
            tags=[plan.tags[0]],
            created_minute=now - rng.randint(1, 3) * DAY,
        )
    planned.sort(key=lambda item: item.sent_minute or 0)
    return planned


def _send_and_track(
    state: CMState, rng: random.Random, campaigns: list[Campaign], events: int, now: int
) -> None:
    """Send in date order, each followed by its events, so people who left miss later sends.

    Events are shared out in proportion to each campaign's audience before anything is sent;
    a campaign that ends up with nobody passes its share on to the next one.
    """
    for campaign in campaigns:
        state.send_campaign(campaign, campaign.sent_minute or now)
    weights = [len(campaign.recipients) for campaign in campaigns]
    shares: Counter[int] = Counter()
    if events > 0 and any(weights):
        shares = Counter(rng.choices(range(len(campaigns)), weights, k=events))
    carry = 0
    last_sent: Campaign | None = None
    for position, campaign in enumerate(campaigns):
        state.send_campaign(campaign, campaign.sent_minute or now)
        if not campaign.recipients:
            carry += shares.get(position, 0)
            state.clients[campaign.client_id].campaign_ids.remove(campaign.campaign_id)
            del state.campaigns[campaign.campaign_id]
            continue
        _track(state, rng, campaign, shares.get(position, 0) + carry, now)
        carry = 0
        last_sent = campaign
    if carry and last_sent is not None:
        _track(state, rng, last_sent, carry, now)


def _departures(rng: random.Random, audience: int, rate: float, room: int) -> int:
    """How many of ``audience`` do something rare (bounce, unsubscribe): ~``rate`` of them."""
    return max(0, min(room, int(audience * rate + rng.random())))


def _track(state: CMState, rng: random.Random, campaign: Campaign, count: int, now: int) -> None:
    """Make ``count`` events: a few bounces, unsubscribes and complaints (at realistic rates
    per recipient), the rest opens and clicks."""
    if count <= 0:
        return
    total = len(campaign.recipients)
    kinds: Counter[str] = Counter()
    kinds["bounce"] = _departures(rng, total, BOUNCE_RATE, count)
    kinds["unsubscribe"] = _departures(rng, total, UNSUBSCRIBE_RATE, count - kinds.total())
    kinds["spam"] = _departures(rng, total, SPAM_RATE, count - kinds.total())
    engaged = count - kinds.total()
    kinds["click"] = sum(1 for _ in range(engaged) if rng.random() < CLICK_SHARE)
    kinds["open"] = engaged - kinds["click"]
    sent = campaign.sent_minute or now
    people = campaign.recipients

    def later(start: int, mean_minutes: float) -> int:
        return min(now, start + 1 + int(rng.expovariate(1 / mean_minutes)))

    # Bounces first: a bounced address opens nothing.
    reachable = [i for i in range(total) if people[i].state == "Active"]
    bounce_count = min(kinds["bounce"], len(reachable) // 3)
    bounced = set(rng.sample(reachable, bounce_count)) if bounce_count else set()
    bounce_rows = []
    for recipient in sorted(bounced):
        detail = rng.choice(HARD_BOUNCES) if rng.random() < 0.4 else rng.choice(SOFT_BOUNCES)
        bounce_rows.append((min(now, sent + rng.randint(1, 120)), recipient, detail))
    pool = [i for i in range(total) if i not in bounced] or list(range(total))
    open_count = kinds["open"] + (count - sum(kinds.values()))
    unsub_count, spam_count = kinds["unsubscribe"], kinds["spam"]
    click_count = kinds["click"]
    if open_count == 0 and click_count:
        open_count, click_count = click_count, 0
    openers = rng.choices(pool, k=open_count)
    open_rows = [(later(sent, 1440), recipient, 0) for recipient in openers]
    click_rows = []
    for _ in range(click_count):
        minute, recipient, _detail = open_rows[rng.randrange(len(open_rows))]
        click_rows.append(
            (min(now, minute + rng.randint(0, 30)), recipient, rng.randrange(len(campaign.urls)))
        )
    still_active = [i for i in dict.fromkeys(openers) if people[i].state == "Active"]
    rng.shuffle(still_active)
    unsub_count = min(unsub_count, len(still_active))
    leaving = still_active[:unsub_count]
    others = still_active[unsub_count:]
    spam_count = min(spam_count, len(others))
    complaining = others[:spam_count]
    spare = (
        kinds["unsubscribe"]
        - unsub_count
        + kinds["spam"]
        - spam_count
        + kinds["bounce"]
        - bounce_count
    )
    first_open = {}
    for minute, recipient, _detail in open_rows:
        first_open[recipient] = min(minute, first_open.get(recipient, minute))
    unsub_rows = [(later(first_open[r], 60), r, 0) for r in leaving]
    spam_rows = [(later(first_open[r], 120), r, 0) for r in complaining]
    for _ in range(spare):  # capacity for unsubscribes / bounces ran out: extra opens
        open_rows.append((later(sent, 1440), rng.choice(pool), 0))
    for kind, rows in (
        ("open", open_rows),
        ("click", click_rows),
        ("bounce", bounce_rows),
        ("unsubscribe", unsub_rows),
        ("spam", spam_rows),
    ):
        campaign.events[kind].extend_sorted(rows)
    _apply_departures(state, campaign, bounce_rows, unsub_rows + spam_rows)


def _apply_departures(
    state: CMState,
    campaign: Campaign,
    bounces: list[tuple[int, int, int]],
    unsubscribes: list[tuple[int, int, int]],
) -> None:
    for minute, recipient, detail in bounces:
        if BOUNCE_REASONS[detail][0] == "Hard":
            state.deactivate(campaign.recipients[recipient], "Bounced", minute)
    for minute, recipient, _detail in unsubscribes:
        member = campaign.recipients[recipient]
        state.unsubscribe(state.lists[member.list_id], member, minute)


JOURNEYS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Welcome series", "Active", "On Subscription", ("Welcome", "Getting started", "A gift")),
    ("Win-back", "Paused", "Enters Segment", ("We miss you",)),
)
JOURNEY_OPEN_RATE = 0.45
JOURNEY_CLICK_RATE = 0.15


def _make_journeys(
    state: CMState, rng: random.Random, client: Client, plan: ClientPlan, now: int
) -> None:
    """Two journeys on the client's first list with per-recipient sends and events.

    "Welcome series" mails everyone who joined (day 0, 3, 7 after joining); "Win-back" mailed a
    fifth of the list once. Journey unsubscribes and bounces are taken from members who really
    are Unsubscribed or Bounced (dated when that happened), so list state and reports agree.
    """
    lst = state.lists[client.list_ids[0]]
    members = sorted(lst.members.values(), key=lambda m: (m.joined_minute, m.email))
    members = [m for m in members if m.state != "Unconfirmed"]
    for name, status, trigger, emails in JOURNEYS:
        journey = Journey(state.new_id(), lst.list_id, name, status, trigger)
        if trigger == "On Subscription":
            audience = members
            delays = [day * DAY for day in (0, 3, 7)]
        else:
            audience = [m for m in members if rng.random() < 0.2]
            delays = [rng.randint(30, 60) * DAY]
        for position, email_name in enumerate(emails):
            email = JourneyEmail(state.new_id(), email_name)
            email.urls = [f"https://www.{plan.domain}/{path}" for path in plan.paths[:3]]
            delay = delays[position % len(delays)]
            _journey_sends(rng, email, audience, delay, now)
            journey.emails.append(email)
        client.journeys.append(journey)


def _journey_sends(
    rng: random.Random, email: JourneyEmail, audience: list[Member], delay: int, now: int
) -> None:
    rows = []
    for member in audience:
        sent = member.joined_minute + delay + rng.randint(0, 120)
        departed = member.state in ("Unsubscribed", "Bounced", "Deleted")
        if sent > now or (departed and member.state_minute < sent):
            continue
        email.recipients.append(member)
        rows.append((sent, len(email.recipients) - 1, 0))
    email.sent.extend_sorted(rows)
    opens, clicks, unsubscribes, bounces = [], [], [], []
    for sent, index, _detail in rows:
        member = email.recipients[index]
        if member.state == "Bounced" and member.state_minute <= sent + 240:
            bounces.append((max(sent, member.state_minute), index, HARD_BOUNCES[0]))
            continue
        if rng.random() < JOURNEY_OPEN_RATE:
            opened = min(now, sent + 1 + int(rng.expovariate(1 / 720)))
            opens.append((opened, index, 0))
            if rng.random() < 0.3:
                opens.append((min(now, opened + rng.randint(5, 600)), index, 0))
            if rng.random() < JOURNEY_CLICK_RATE / JOURNEY_OPEN_RATE:
                clicked = min(now, opened + rng.randint(0, 30))
                clicks.append((clicked, index, rng.randrange(len(email.urls))))
        if member.state == "Unsubscribed" and sent <= member.state_minute < sent + 3 * DAY:
            unsubscribes.append((member.state_minute, index, 0))
    for kind, found in (
        ("open", opens),
        ("click", clicks),
        ("unsubscribe", unsubscribes),
        ("bounce", bounces),
    ):
        email.events[kind].extend_sorted(found)


def describe(state: CMState) -> dict[str, Any]:
    """Counts per client (used by the benchmark note and tests)."""
    return {
        client.name: {
            "lists": len(client.list_ids),
            "campaigns": len(client.campaign_ids),
            "events": sum(
                len(columns)
                for campaign_id in client.campaign_ids
                for columns in state.campaigns[campaign_id].events.values()
            ),
        }
        for client in state.clients.values()
    }
