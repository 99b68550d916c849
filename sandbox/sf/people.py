"""Deterministic demo people for the Salesforce demo org, sharing addresses with the Campaign
Monitor demo subscribers.

Both sandboxes are built from the same ``SandboxConfig``; ``demo_people(config.subscribers,
config.random_seed)`` returns ``count`` people and person ``i`` is one of:

- Campaign Monitor demo person ``i`` (``sandbox.cm.seed.demo_people(count, seed)[i]``: the same
  name and address, i.e. a CM demo subscriber): ``SHARED_CONTACT_SHARE`` (40%) of the indexes
  as a Contact, ``SHARED_LEAD_SHARE`` (15%) as a Lead. One in ``DUPLICATE_EVERY`` of those
  Contacts (at least one) is ``duplicated``: the org holds it twice, as real orgs do;
- otherwise a person of our own: first name ``FIRST_NAMES[(i + seed) % 40]``, last name
  ``LAST_NAMES[(i * 7 + seed) % 40]``, address ``first.last.{i}@example.com`` (lower case; no CM
  demo address has a dot before its number, so none is shared); three in four are Contacts.

Everybody's company is ``COMPANIES[i % 12]``. Which indexes are shared is drawn from a random
stream of this module's own, seeded from ``seed`` alone (exact counts, random positions), so the
other CM subscribers are simply not in Salesforce.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from sandbox.cm.seed import demo_people as cm_demo_people

SHARED_CONTACT_SHARE = 0.40
SHARED_LEAD_SHARE = 0.15
DUPLICATE_EVERY = 12  # of the shared Contacts

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
    sobject: str = "Contact"  # what the demo org holds them as: "Contact" or "Lead"
    shared: bool = False  # the address is also a Campaign Monitor demo subscriber's
    duplicated: bool = False  # held as two Contacts with this address


def demo_person(index: int, seed: int = 0) -> Person:
    """Person ``index`` of the own scheme (not shared with Campaign Monitor)."""
    first = FIRST_NAMES[(index + seed) % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 7 + seed) % len(LAST_NAMES)]
    email = f"{first}.{last}.{index}@example.com".lower()
    sobject = "Lead" if index % 4 == 3 else "Contact"
    return Person(first, last, email, COMPANIES[index % len(COMPANIES)], sobject)


def demo_people(count: int, seed: int = 0) -> list[Person]:
    """The demo org's ``count`` people for ``seed`` (see the module docstring). O(count)."""
    count = max(0, count)
    order = list(range(count))
    random.Random(f"sf-demo-people:{seed}").shuffle(order)
    contacts = round(count * SHARED_CONTACT_SHARE)
    leads = round(count * SHARED_LEAD_SHARE)
    roles = dict.fromkeys(order[:contacts], "Contact")
    roles.update(dict.fromkeys(order[contacts : contacts + leads], "Lead"))
    duplicated = set(order[: max(1, contacts // DUPLICATE_EVERY)]) if contacts else set()
    shared_people = cm_demo_people(count, seed)
    people = []
    for index in range(count):
        own = demo_person(index, seed)
        if index not in roles:
            people.append(own)
            continue
        shared = shared_people[index]
        people.append(
            replace(
                own,
                first_name=shared.first_name,
                last_name=shared.last_name,
                email=shared.email,
                sobject=roles[index],
                shared=True,
                duplicated=index in duplicated,
            )
        )
    return people
