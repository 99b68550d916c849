"""Injected faults for the sandbox servers, reproducible from a random seed.

A fault spec is a comma-separated list of rules ``KIND:HOW[@ENDPOINT]``:

- ``KIND`` is one of ``500``, ``503``, ``429``, ``slow``, ``drop``, ``timeout``, ``reject`` or
  ``invalid``. ``drop`` closes the connection before the call is handled; ``timeout`` handles the
  call (a write lands) and then holds the answer for ``timeout_seconds`` and closes the connection
  without one, as when a caller's read timeout fires on a call the service completed.
  ``reject`` is a record-level rejection that the Salesforce sandbox applies to single records in
  a write, drawn per record like the other kinds; ``invalid`` is a validation rule: it refuses the
  same records every time (those whose external id hashes under the rate), until it is removed.
- ``HOW`` is either a rate between 0 and 1 (``503:0.1``: one call in ten, drawn from the seeded
  generator) or ``xN`` (``503:x2``: exactly the next two matching calls).
- ``ENDPOINT`` is an optional glob over the endpoint name or path (``@subscribers.*``); without it
  the rule applies to every API call.

Examples: ``503:0.05,429:0.02,slow:0.01``; ``500:x1@lists.*``; ``drop:x1@/api/v3.3/clients.json``;
``invalid:0.005`` (``invalid`` takes a rate only).
The same rules can be sent as JSON to ``PUT /__sandbox__/faults``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("500", "503", "429", "slow", "drop", "timeout", "reject", "invalid")
# Kinds decided per call by the HTTP harness; reject and invalid are decided per record.
CALL_KINDS = ("500", "503", "429", "slow", "drop", "timeout")


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
    timeout_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": [asdict(rule) for rule in self.rules],
            "retry_after": self.retry_after,
            "slow_seconds": self.slow_seconds,
            "timeout_seconds": self.timeout_seconds,
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
        if kind == "invalid":
            raise FaultSpecError(f"fault rule {raw!r}: invalid takes a rate, not xN")
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
        settings.timeout_seconds = float(payload.get("timeout_seconds", settings.timeout_seconds))
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
        self._seed = random_seed
        self.settings = FaultSettings(rules=parse_fault_spec(spec))
        self._injected: Counter[str] = Counter()

    def injected(self) -> dict[str, int]:
        """How many times each kind struck since the sandbox started."""
        with self._lock:
            return dict(self._injected)

    def replace(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings

    def refuses(self, endpoint: str, path: str, key: Any) -> bool:
        """Whether an ``invalid`` rule refuses the record with this external id: the same
        answer for the same key every time (a validation rule, not bad luck)."""
        if key is None or key == "":
            return False
        with self._lock:
            rules = [r for r in self.settings.rules if r.kind == "invalid" and r.rate > 0]
        for rule in rules:
            if not rule.matches(endpoint, path):
                continue
            digest = hashlib.sha256(f"{self._seed}:{key}".encode()).hexdigest()
            if int(digest[:12], 16) / 16**12 < rule.rate:
                with self._lock:
                    self._injected["invalid"] += 1
                return True
        return False

    def pick(self, endpoint: str, path: str, kinds: tuple[str, ...] = FAULT_KINDS) -> str | None:
        """Return the fault kind to apply to this call, or None."""
        with self._lock:
            for rule in self.settings.rules:
                if rule.kind == "invalid":
                    continue  # decided per record by refuses()
                if rule.kind not in kinds or not rule.matches(endpoint, path):
                    continue
                if rule.remaining is not None:
                    if rule.remaining > 0:
                        rule.remaining -= 1
                        self._injected[rule.kind] += 1
                        return rule.kind
                    continue
                if rule.rate > 0 and self._random.random() < rule.rate:
                    self._injected[rule.kind] += 1
                    return rule.kind
        return None
