"""Salesforce-shaped record ids: a 3-character key prefix, 12 more characters, and the
3-character case checksum that turns a case-sensitive 15-character id into an 18-character one.
"""

from __future__ import annotations

import itertools
import re
import threading

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


def checksum(id15: str) -> str:
    """The three characters Salesforce appends: one per 5-character chunk, encoding its capitals."""
    suffix = ""
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SUFFIX[bits]
    return suffix


def normalize_id(value: object) -> str | None:
    """The canonical 18-character form of a 15- or 18-character id, or None if not id-shaped.

    An 18-character id is case-insensitive: its suffix says which letters are capitals.
    """
    if not isinstance(value, str) or not _ID_SHAPE.match(value):
        return None
    if len(value) == 15:
        return value + checksum(value)
    suffix = value[15:].upper()
    if any(char not in _SUFFIX for char in suffix):
        return None
    chars = list(value[:15])
    for chunk, code in enumerate(suffix):
        bits = _SUFFIX.index(code)
        for position in range(5):
            index = chunk * 5 + position
            if chars[index].isalpha():
                upper = bool(bits & (1 << position))
                chars[index] = chars[index].upper() if upper else chars[index].lower()
    id15 = "".join(chars)
    return id15 + checksum(id15)


def base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


class IdGenerator:
    """Hands out unique ids per key prefix; ``counter`` is persisted so restarts never reuse one."""

    def __init__(self, counter: int = 0) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count(counter + 1)
        self.last = counter

    def new(self, prefix: str) -> str:
        with self._lock:
            self.last = next(self._counter)
        id15 = f"{prefix}5g{base62(self.last, 10)}"
        return id15 + checksum(id15)


def prefix_of(record_id: str) -> str:
    return record_id[:3]
