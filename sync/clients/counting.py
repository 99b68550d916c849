"""Per-endpoint API call counts, so every sync run can report what it spent."""

from __future__ import annotations

import threading
from collections import Counter


class CallCounter:
    """A thread-safe tally of calls by endpoint name; one per client per run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, endpoint: str, n: int = 1) -> None:
        with self._lock:
            self._counts[endpoint] += n

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def by_endpoint(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> dict[str, int]:
        """Return the counts so far and start again from zero."""
        with self._lock:
            counts = dict(self._counts)
            self._counts.clear()
            return counts
