"""Time for the Campaign Monitor sandbox: a shiftable clock and CM's date strings.

CM writes dates as local wall-clock strings in the client's time zone ("2010-10-25 10:28:00").
The sandbox writes them in UTC for every client, and its demo clients report the UTC zone so
the two agree; a client created through the API with another zone label still gets UTC dates
(a known difference from CM).
Internally a moment is a whole number of minutes (or seconds) since the Unix epoch, which keeps
millions of tracking events cheap to store and compare.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime

_DAY_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MINUTE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


class Clock:
    """Real UTC time plus an offset that tests may shift (``POST /__sandbox__/clock``)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the sandbox sees it."""
        with self._lock:
            return time.time() + self._offset

    def now_minute(self) -> int:
        return int(self.now() // 60)

    def shift(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = seconds

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset


def format_minute(minute: int) -> str:
    """``"2010-10-25 10:28:00"``: CM's minute-precision date string."""
    return datetime.fromtimestamp(minute * 60, tz=UTC).strftime("%Y-%m-%d %H:%M:00")


def format_second(second: float) -> str:
    """``"2010-10-26 10:55:31"``: the second-precision form (suppression list dates)."""
    return datetime.fromtimestamp(int(second), tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_filter_minute(text: str) -> int:
    """Parse a ``date`` filter ("YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS]") into epoch minutes.

    Raises ValueError when the text is not one of those forms or not a real date.
    """
    text = text.strip()
    day = _DAY_RE.match(text)
    if day:
        moment = datetime(int(day[1]), int(day[2]), int(day[3]), tzinfo=UTC)
        return int(moment.timestamp() // 60)
    found = _MINUTE_RE.match(text)
    if found:
        moment = datetime(
            int(found[1]), int(found[2]), int(found[3]), int(found[4]), int(found[5]), tzinfo=UTC
        )
        return int(moment.timestamp() // 60)
    raise ValueError(f"not a CM date: {text!r}")


def parse_day_minute(text: str) -> int:
    """Parse a day-only filter ("YYYY-MM-DD"); raises ValueError otherwise."""
    found = _DAY_RE.match(text.strip())
    if not found:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    moment = datetime(int(found[1]), int(found[2]), int(found[3]), tzinfo=UTC)
    return int(moment.timestamp() // 60)


def day_start_minute(minute: int) -> int:
    """The first minute of the (UTC) day that holds ``minute``."""
    return minute - minute % (24 * 60)
