"""Deterministic demo people, so the Salesforce demo org shares e-mail addresses with the
Campaign Monitor demo subscribers.

Scheme (documented so the Campaign Monitor sandbox can match it): person ``i`` (0-based) of a
seed gets first name ``FIRST_NAMES[(i + seed) % 40]``, last name ``LAST_NAMES[(i * 7 + seed) %
40]``, company ``COMPANIES[i % 12]`` and the address ``first.last.{i}@example.com`` (lower
case).

If the Campaign Monitor sandbox publishes ``sandbox.cm.seed.demo_people(count, random_seed)``
(items with ``email`` and ``name`` or ``first_name``/``last_name``), that generator is used
instead, so both demos hold the same people; nothing else of the CM sandbox is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = [
    "Alice",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Isla",
    "Jack",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olivia",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xena",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bella",
    "Carlos",
    "Dana",
    "Elena",
    "Finn",
    "Gemma",
    "Henry",
    "Ivy",
    "Jonas",
    "Keira",
    "Leo",
    "Mila",
    "Nora",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Walker",
    "White",
    "Green",
    "Hall",
    "Wood",
    "Martin",
    "Harris",
    "Cooper",
    "King",
    "Clarke",
    "Baker",
    "Turner",
    "Hill",
    "Scott",
    "Moore",
    "Young",
    "Allen",
    "Mitchell",
    "Khan",
    "Lopez",
    "Garcia",
    "Muller",
    "Rossi",
    "Dubois",
    "Novak",
    "Berg",
    "Silva",
    "Costa",
    "Ito",
    "Kim",
]
COMPANIES = [
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Ltd",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Imports",
    "Wonka Foods",
    "Tyrell Systems",
    "Cyberdyne",
    "Soylent Co",
]


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    company: str


def demo_person(index: int, seed: int = 0) -> Person:
    first = FIRST_NAMES[(index + seed) % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 7 + seed) % len(LAST_NAMES)]
    email = f"{first}.{last}.{index}@example.com".lower()
    return Person(first, last, email, COMPANIES[index % len(COMPANIES)])


def demo_people(count: int, seed: int = 0) -> list[Person]:
    shared = _campaign_monitor_people(count, seed)
    if shared is not None:
        return shared
    return [demo_person(index, seed) for index in range(count)]


def _campaign_monitor_people(count: int, seed: int) -> list[Person] | None:
    try:
        from sandbox.cm.seed import demo_people as cm_demo_people  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        items = list(cm_demo_people(count, seed))
    except (TypeError, ValueError):
        return None  # a generator with another signature: keep the documented scheme
    people = []
    for index, item in enumerate(items):
        first = getattr(item, "first_name", None)
        last = getattr(item, "last_name", None)
        if first is None or last is None:
            first, _, last = str(getattr(item, "name", "") or "").partition(" ")
        company = getattr(item, "company", None) or COMPANIES[index % len(COMPANIES)]
        people.append(Person(first or "", last or "Unknown", str(item.email), company))
    return people
