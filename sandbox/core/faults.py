"""Injected faults for the sandbox servers, reproducible from a random seed.

A fault spec is a comma-separated list of rules ``KIND:HOW[@ENDPOINT]``:

- ``KIND`` is one of ``500``, ``503``, ``429``, ``slow``, ``drop`` or ``reject`` (``reject`` is a
  record-level rejection that the Salesforce sandbox applies to single records in a write).
- ``HOW`` is either a rate between 0 and 1 (``503:0.1``: one call in ten, drawn from the seeded
  generator) or ``xN`` (``503:x2``: exactly the next two matching calls).
- ``ENDPOINT`` is an optional glob over the endpoint name or path (``@subscribers.*``); without it
  the rule applies to every API call.

Examples: ``503:0.05,429:0.02,slow:0.01``; ``500:x1@lists.*``; ``drop:x1@/api/v3.3/clients.json``.
The same rules can be sent as JSON to ``PUT /__sandbox__/faults``.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("500", "503", "429", "slow", "drop", "reject")


class FaultSpecError(ValueError):
    """A fault spec that cannot be parsed; the message names the bad rule."""


@dataclass
class FaultRule:
    kind: str
    rate: float = 0.0
    remaining: int | None = None
    endpoint: str = "*"

    def matches(self, endpoint: str, path: str) -> bool:
        pattern = self.endpoint.lower()
        return fnmatch.fnmatch(endpoint.lower(), pattern) or fnmatch.fnmatch(path.lower(), pattern)


@dataclass
class FaultSettings:
    rules: list[FaultRule] = field(default_factory=list)
    retry_after: int = 1
    slow_seconds: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": [asdict(rule) for rule in self.rules],
            "retry_after": self.retry_after,
            "slow_seconds": self.slow_seconds,
        }


def parse_fault_spec(spec: str | None) -> list[FaultRule]:
    """Parse the CLI form of a fault spec into rules."""
    rules: list[FaultRule] = []
    for raw in (spec or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        head, _, endpoint = raw.partition("@")
        kind, sep, how = head.partition(":")
        if not sep:
            raise FaultSpecError(f"fault rule {raw!r} needs KIND:RATE or KIND:xN")
        rules.append(_rule_from(kind.strip(), how.strip(), endpoint.strip() or "*", raw))
    return rules


def _rule_from(kind: str, how: str, endpoint: str, raw: str) -> FaultRule:
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"fault rule {raw!r}: kind must be one of {', '.join(FAULT_KINDS)}")
    if how.startswith("x"):
        try:
            times = int(how[1:])
        except ValueError:
            raise FaultSpecError(f"fault rule {raw!r}: xN needs a whole number") from None
        if times < 0:
            raise FaultSpecError(f"fault rule {raw!r}: xN must not be negative")
        return FaultRule(kind=kind, rate=1.0, remaining=times, endpoint=endpoint)
    try:
        rate = float(how)
    except ValueError:
        raise FaultSpecError(f"fault rule {raw!r}: rate must be a number from 0 to 1") from None
    if not 0.0 <= rate <= 1.0:
        raise FaultSpecError(f"fault rule {raw!r}: rate must be a number from 0 to 1")
    return FaultRule(kind=kind, rate=rate, endpoint=endpoint)


def rules_from_json(payload: Any) -> FaultSettings:
    """Build settings from the JSON body of ``PUT /__sandbox__/faults``."""
    if isinstance(payload, dict) and isinstance(payload.get("spec"), str):
        settings = FaultSettings(rules=parse_fault_spec(payload["spec"]))
    elif isinstance(payload, dict) and isinstance(payload.get("rules", []), list):
        settings = FaultSettings(rules=[_rule_from_dict(item) for item in payload.get("rules", [])])
    else:
        raise FaultSpecError('body must be {"spec": "..."} or {"rules": [...]}')
    if isinstance(payload, dict):
        settings.retry_after = int(payload.get("retry_after", settings.retry_after))
        settings.slow_seconds = float(payload.get("slow_seconds", settings.slow_seconds))
    return settings


def _rule_from_dict(item: Any) -> FaultRule:
    if not isinstance(item, dict) or "kind" not in item:
        raise FaultSpecError("each rule needs a kind")
    times = item.get("remaining", item.get("times"))
    how = f"x{times}" if times is not None else str(item.get("rate", 0))
    return _rule_from(str(item["kind"]), how, str(item.get("endpoint", "*")), repr(item))


class FaultInjector:
    """Decides, per API call, which fault (if any) to apply; thread-safe and seeded."""

    def __init__(self, spec: str | None = None, random_seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(random_seed)
        self.settings = FaultSettings(rules=parse_fault_spec(spec))

    def replace(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings

    def pick(self, endpoint: str, path: str, kinds: tuple[str, ...] = FAULT_KINDS) -> str | None:
        """Return the fault kind to apply to this call, or None."""
        with self._lock:
            for rule in self.settings.rules:
                if rule.kind not in kinds or not rule.matches(endpoint, path):
                    continue
                if rule.remaining is not None:
                    if rule.remaining > 0:
                        rule.remaining -= 1
                        return rule.kind
                    continue
                if rule.rate > 0 and self._random.random() < rule.rate:
                    return rule.kind
        return None
