"""Time for the Campaign Monitor sandbox: a shiftable clock and CM's date strings.

CM writes dates as local wall-clock strings in the client's time zone ("2010-10-25 10:28:00"),
and reads date filters the same way. So does the sandbox: resolving a client, list, campaign or
journey for a request makes that client's zone (from its ``TimeZone`` label, daylight saving
included) the one every date of the answer is written and read in (:func:`use_zone`).
Account-level answers and the sandbox's own control endpoints use UTC.
Internally a moment is a whole number of minutes (or seconds) since the Unix epoch, which keeps
millions of tracking events cheap to store and compare.
"""

from __future__ import annotations

import re
import threading
import time
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo

from lib.cm_time_zones import zone_from_cm

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


_ZONE: ContextVar[tzinfo] = ContextVar("cm_client_zone", default=UTC)


def use_zone(label: str | None) -> None:
    """Write and read this request's dates in the zone of a client's ``TimeZone`` label."""
    _ZONE.set(zone_from_cm(label))


def use_utc() -> None:
    _ZONE.set(UTC)


def current_zone() -> tzinfo:
    return _ZONE.get()


def format_minute(minute: int, tz: tzinfo | None = None) -> str:
    """``"2010-10-25 10:28:00"``: CM's minute-precision date string, in the client's zone."""
    moment = datetime.fromtimestamp(minute * 60, tz=tz or _ZONE.get())
    return moment.strftime("%Y-%m-%d %H:%M:00")


def format_second(second: float, tz: tzinfo | None = None) -> str:
    """``"2010-10-26 10:55:31"``: the second-precision form (suppression list dates)."""
    return datetime.fromtimestamp(int(second), tz=tz or _ZONE.get()).strftime("%Y-%m-%d %H:%M:%S")


def _wall_clock_minute(*parts: int) -> int:
    """Epoch minutes of a wall-clock time in the current zone."""
    moment = datetime(*parts, tzinfo=_ZONE.get())  # type: ignore[misc]
    return int(moment.timestamp() // 60)


def parse_filter_minute(text: str) -> int:
    """Parse a ``date`` filter ("YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS]") into epoch minutes.

    Raises ValueError when the text is not one of those forms or not a real date.
    """
    text = text.strip()
    day = _DAY_RE.match(text)
    if day:
        return _wall_clock_minute(int(day[1]), int(day[2]), int(day[3]))
    found = _MINUTE_RE.match(text)
    if found:
        parts = (int(found[1]), int(found[2]), int(found[3]), int(found[4]), int(found[5]))
        return _wall_clock_minute(*parts)
    raise ValueError(f"not a CM date: {text!r}")


def parse_day_minute(text: str) -> int:
    """Parse a day-only filter ("YYYY-MM-DD"); raises ValueError otherwise."""
    found = _DAY_RE.match(text.strip())
    if not found:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return _wall_clock_minute(int(found[1]), int(found[2]), int(found[3]))
