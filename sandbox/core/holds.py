"""Test control: park one chosen API call until released, so a test can kill its caller mid-call.

``Holds.arm(endpoint, nth=1, when="before")`` parks the ``nth`` call whose endpoint name or path
matches the glob (as in fault rules): ``before`` the sandbox handles it, or ``after`` it was
handled (a write has landed) and before the answer goes out. ``wait_reached(timeout)`` blocks
until the call is parked; ``release()`` lets it go on (its answer then goes to a caller that may
be gone). A parked call gives up by itself after ``max_hold_seconds``.

Over HTTP: ``PUT /__sandbox__/holds`` ``{"endpoint", "nth", "when"}`` arms one hold (replacing
any other), ``GET /__sandbox__/holds`` answers ``{"armed", "seen", "reached"}``, ``DELETE``
releases it.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

WHEN = ("before", "after")


@dataclass
class Hold:
    endpoint: str
    nth: int = 1
    when: str = "before"
    seen: int = 0
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def matches(self, endpoint: str, path: str) -> bool:
        pattern = self.endpoint.lower()
        return fnmatch.fnmatch(endpoint.lower(), pattern) or fnmatch.fnmatch(path.lower(), pattern)

    def to_json(self) -> dict[str, Any]:
        return {
            "armed": not self.released.is_set(),
            "endpoint": self.endpoint,
            "nth": self.nth,
            "when": self.when,
            "seen": self.seen,
            "reached": self.reached.is_set(),
        }


class Holds:
    """At most one armed hold per sandbox app; thread-safe."""

    def __init__(self, max_hold_seconds: float = 120.0) -> None:
        self._lock = threading.Lock()
        self._hold: Hold | None = None
        self.max_hold_seconds = max_hold_seconds

    def arm(self, endpoint: str, nth: int = 1, when: str = "before") -> Hold:
        if when not in WHEN:
            raise ValueError(f"when must be one of {', '.join(WHEN)}")
        if nth < 1:
            raise ValueError("nth must be at least 1")
        hold = Hold(endpoint=endpoint, nth=nth, when=when)
        with self._lock:
            previous, self._hold = self._hold, hold
        if previous is not None:
            previous.released.set()
        return hold

    def release(self) -> None:
        with self._lock:
            hold = self._hold
        if hold is not None:
            hold.released.set()

    def wait_reached(self, timeout: float) -> bool:
        with self._lock:
            hold = self._hold
        return hold is not None and hold.reached.wait(timeout)

    def status(self) -> dict[str, Any]:
        with self._lock:
            hold = self._hold
        return hold.to_json() if hold else {"armed": False, "seen": 0, "reached": False}

    def park(self, endpoint: str, path: str, when: str) -> None:
        """Called by the harness at each point; blocks if this call is the one held."""
        with self._lock:
            hold = self._hold
            if hold is None or hold.released.is_set() or hold.when != when:
                return
            if not hold.matches(endpoint, path):
                return
            hold.seen += 1
            if hold.seen != hold.nth:
                return
        hold.reached.set()
        hold.released.wait(self.max_hold_seconds)
