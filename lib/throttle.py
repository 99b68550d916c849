"""Brief caching and a per-caller rate limit, on Django's cache (Redis in production).

Pages that read a remote API live use both: an answer is kept for a short time, so reloading a
page asks the API nothing, and each caller may make only so many fresh reads a window, so a
burst of different questions cannot spend an account's API allowance.

- :func:`cached` returns the cached answer, or computes it once: callers asking the same
  question at the same time wait for the first one's answer instead of asking again.
- :func:`spend` counts one use of a fixed window and raises :class:`LimitExceeded` past the
  limit, with the seconds until the window ends.

Counters and locks live in the cache, so they hold across processes on a shared cache (Redis,
the file cache) and per process on the local-memory cache.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")

_MISSING = object()
# The clock of the rate limit's windows (tests freeze it).
clock = time.time
# How long a computing caller holds the "computing" mark; a crashed one frees it by expiry.
COMPUTE_LOCK_SECONDS = 60
WAIT_POLL_SECONDS = 0.05


class LimitExceeded(Exception):
    """Too many uses in the current window; ``retry_after`` is seconds until the next one."""

    def __init__(self, limit: int, window: int, retry_after: int) -> None:
        super().__init__(f"more than {limit} uses in {window} seconds")
        self.limit = limit
        self.window = window
        self.retry_after = max(1, retry_after)


def cache_key(prefix: str, *parts: object) -> str:
    """A short cache key safe on every backend (parts may hold e-mail addresses, spaces...)."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return f"{prefix}:{digest[:40]}"


def spend(scope: str, who: str, *, limit: int, window: int, now: float | None = None) -> None:
    """Count one use of ``scope`` by ``who``; raise :class:`LimitExceeded` past ``limit`` uses
    in the current ``window`` seconds (fixed windows aligned to the epoch)."""
    moment = int(clock() if now is None else now)
    start = moment - moment % window
    key = cache_key("throttle", scope, who, start)
    cache.add(key, 0, timeout=window + 5)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        used = 1
    if used > limit:
        raise LimitExceeded(limit, window, start + window - moment)


def cached(
    key: str,
    compute: Callable[[], T],
    *,
    ttl: int,
    before_compute: Callable[[], None] | None = None,
    keep: Callable[[T], bool] | None = None,
    wait: float = 15.0,
) -> T:
    """The answer cached under ``key``, or ``compute()`` kept for ``ttl`` seconds.

    ``before_compute`` runs only when the API is about to be asked (a rate limit's
    :func:`spend`); ``keep`` says whether an answer may be cached (an outage should not be).
    While another caller computes the same key, this one waits up to ``wait`` seconds for its
    answer before computing itself.
    """
    value = cache.get(key, _MISSING)
    if value is not _MISSING:
        return value
    computing = f"{key}:computing"
    owner = cache.add(computing, 1, timeout=COMPUTE_LOCK_SECONDS)
    if not owner:
        value = _wait_for(key, computing, wait)
        if value is not _MISSING:
            return value
    try:
        if before_compute is not None:
            before_compute()
        value = compute()
        if ttl > 0 and (keep is None or keep(value)):
            cache.set(key, value, timeout=ttl)
        return value
    finally:
        if owner:
            cache.delete(computing)


def _wait_for(key: str, computing: str, wait: float):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(WAIT_POLL_SECONDS)
        value = cache.get(key, _MISSING)
        if value is not _MISSING or cache.get(computing) is None:
            return value  # the answer, or _MISSING when the other caller kept none
    return _MISSING
