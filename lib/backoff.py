"""Exponential back-off with full jitter, shared by the CM and SF API clients."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int,
    base: float = 0.5,
    cap: float = 30.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    A server's ``Retry-After`` wins when given (capped, so a hostile value cannot stall a run);
    otherwise a random delay in [0, min(cap, base * 2**(attempt-1))] ("full jitter"), which keeps
    many workers from retrying in lock-step.
    """
    if retry_after is not None and retry_after >= 0:
        return min(float(retry_after), cap)
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return (rng or random).uniform(0, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Read a ``Retry-After`` header given in seconds; HTTP dates are treated as absent."""
    if not value:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        return None
