"""The fault soak: sync through injected faults, turn them off, settle, reconcile record by record.

``run_soak(connection, sandboxes, plan)`` drives a connected cmsync against running sandboxes:

1. injects the plan's faults into both sandboxes (default: Salesforce 503 5%, 429 2%, timeouts
   1%; Campaign Monitor 500 1%, timeouts 1%; a validation rule refusing 0.5% of records);
2. runs ``fault_runs`` syncs through them, the first a full sync, each followed by a round of
   changes in CM (new subscribers, opens and clicks, unsubscribes, bounces) so that every run
   has new data to carry through the faults;
3. turns the faults off (the validation rule stays: it belongs to the org, not to bad luck) and
   runs ``settle_runs`` more syncs;
4. reconciles CM against Salesforce (:mod:`sync.services.reconcile`). The expected outcome is
   0 missing / 0 extra / 0 different / 0 duplicates, with the refused records listed apart, each
   with its support code.

Controls go through the sandboxes' HTTP endpoints (``/__sandbox__/faults``, ``/events``), so
the sandboxes may run in this process (tests) or in another (``manage.py soak``).
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from django.utils import timezone

from sandbox.core.faults import parse_fault_spec
from sync.clients.campaign_monitor import CampaignMonitorClient, make_subscriber
from sync.engine.reconcile import Reconciliation
from sync.models import Connection, RunKind, RunStatus, SyncOptions, SyncRun
from sync.services.reconcile import reconcile_connection
from sync.services.runs import run_inline

DEFAULT_FAULTS = "sf=503:0.05,429:0.02,timeout:0.01,invalid:0.005;cm=500:0.01,timeout:0.01"
SIDES = ("cm", "sf")
# Rules that model the org's configuration rather than transport trouble: they stay on.
STANDING_KINDS = ("invalid",)
# Events are added to campaigns sent this recently (the sync re-reads their statistics).
CHURN_CAMPAIGN_DAYS = 25


def parse_faults(text: str) -> dict[str, str]:
    """``"sf=503:0.05,429:0.02;cm=500:0.01"`` → ``{"sf": "...", "cm": "..."}``; ``none`` → {}.

    Raises ValueError naming the bad part."""
    text = (text or "").strip()
    if text.lower() in ("", "none", "off"):
        return {}
    faults: dict[str, str] = {}
    for part in text.split(";"):
        side, sep, spec = part.strip().partition("=")
        side = side.strip().lower()
        if not sep or side not in SIDES:
            raise ValueError(f"{part.strip()!r}: write cm=SPEC or sf=SPEC, joined by ';'")
        parse_fault_spec(spec)
        faults[side] = spec.strip()
    return faults


def standing_rules(spec: str) -> str:
    """The rules of a spec that stay on when the faults are turned off."""
    kept = [rule for rule in spec.split(",") if rule.strip().split(":")[0] in STANDING_KINDS]
    return ",".join(rule.strip() for rule in kept)


@dataclass
class SoakPlan:
    faults: dict[str, str] = field(default_factory=lambda: parse_faults(DEFAULT_FAULTS))
    fault_runs: int = 4
    settle_runs: int = 2
    churn: bool = True
    random_seed: int = 7
    # How long a "timeout" fault holds the answer before dropping the connection; longer than
    # the sync's read timeout makes it a true read timeout, 0 drops it at once (same outcome).
    timeout_seconds: float = 0.0
    samples: int = 20


@dataclass
class Sandboxes:
    """Where the soak finds the running sandboxes."""

    cm_url: str
    sf_url: str
    ca_file: str
    cm_api_key: str

    def control(self, side: str, method: str, action: str, payload: Any = None) -> Any:
        base = self.cm_url if side == "cm" else self.sf_url
        with requests.Session() as session:
            session.trust_env = False
            url = f"{base}/__sandbox__/{action}"
            response = session.request(method, url, json=payload, verify=self.ca_file, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def set_faults(self, faults: dict[str, str], timeout_seconds: float) -> None:
        for side in SIDES:
            payload = {"spec": faults.get(side, ""), "timeout_seconds": timeout_seconds}
            self.control(side, "PUT", "faults", payload)

    def injected(self) -> dict[str, dict[str, int]]:
        return {side: self.control(side, "GET", "faults").get("injected", {}) for side in SIDES}

    def cm_client(self) -> CampaignMonitorClient:
        return CampaignMonitorClient(
            self.cm_api_key, base_url=f"{self.cm_url}/api/v3.3", ca_bundle=self.ca_file
        )


@dataclass
class RunFigures:
    phase: str
    run_id: int
    kind: str
    status: str
    seconds: float
    written: int
    rejected: int
    cm_calls: int
    sf_calls: int
    error: str = ""

    @classmethod
    def of(cls, phase: str, run: SyncRun, seconds: float) -> RunFigures:
        return cls(
            phase=phase,
            run_id=run.pk,
            kind=run.kind,
            status=run.status,
            seconds=round(seconds, 2),
            written=run.total_written,
            rejected=run.rejected_count,
            cm_calls=run.cm_calls,
            sf_calls=run.sf_calls,
            error=run.error_summary.splitlines()[0][:200] if run.error_summary else "",
        )


@dataclass
class SoakReport:
    plan: SoakPlan
    runs: list[RunFigures]
    churn: dict[str, int]
    injected: dict[str, dict[str, int]]
    reconciliation: Reconciliation
    seconds: float
    reconcile_seconds: float = 0.0
    peak_rss_mb: float = 0.0  # of this process: the sync runs and the reconciliation

    @property
    def passed(self) -> bool:
        """Reconciled clean, the settling runs did not fail, every rejection has a code."""
        settled = [run for run in self.runs if run.phase == "settle"]
        return (
            self.reconciliation.clean
            and all(run.status != RunStatus.FAILED for run in settled)
            and all(item.support_code for item in self.reconciliation.rejections)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "seconds": round(self.seconds, 1),
            "reconcile_seconds": round(self.reconcile_seconds, 1),
            "peak_rss_mb": self.peak_rss_mb,
            "plan": asdict(self.plan),
            "runs": [asdict(run) for run in self.runs],
            "churn": self.churn,
            "injected": self.injected,
            "reconciliation": self.reconciliation.as_dict(),
        }

    def render(self) -> str:
        lines = [
            f"{'phase':<8}{'run':>5} {'kind':<12}{'status':<15}{'s':>8}{'written':>9}"
            f"{'rejected':>9}{'CM calls':>9}{'SF calls':>9}  first error"
        ]
        for run in self.runs:
            lines.append(
                f"{run.phase:<8}{run.run_id:>5} {run.kind:<12}{run.status:<15}{run.seconds:>8}"
                f"{run.written:>9}{run.rejected:>9}{run.cm_calls:>9}{run.sf_calls:>9}  {run.error}"
            )
        for side in SIDES:
            counts = ", ".join(f"{k} ×{v}" for k, v in sorted(self.injected.get(side, {}).items()))
            lines.append(f"faults injected by the {side.upper()} sandbox: {counts or 'none'}")
        churned = ", ".join(f"{k} {v}" for k, v in self.churn.items())
        lines.append(f"changes made in CM between runs: {churned or 'none'}")
        lines.append("")
        lines.append(self.reconciliation.render())
        lines.append("")
        lines.append(
            f"reconciliation: {self.reconcile_seconds:.1f} s, {self.reconciliation.cm_calls} CM "
            f"calls, {self.reconciliation.sf_calls} SF calls; peak RSS {self.peak_rss_mb} MB"
        )
        lines.append(f"soak {'PASSED' if self.passed else 'FAILED'} in {self.seconds:.1f} s")
        return "\n".join(lines)


def run_soak(
    connection: Connection,
    sandboxes: Sandboxes,
    plan: SoakPlan,
    *,
    log: Callable[[str], None] = lambda line: None,
) -> SoakReport:
    started = time.monotonic()
    options = SyncOptions.for_connection(connection)
    options.suppression_sync = True  # the suppression list is reconciled too
    options.save(update_fields=["suppression_sync", "updated_at"])
    churn = Churn(sandboxes, random.Random(plan.random_seed))
    runs: list[RunFigures] = []
    sandboxes.set_faults(plan.faults, plan.timeout_seconds)
    log(f"faults on: {plan.faults or 'none'}")
    try:
        for index in range(plan.fault_runs):
            kind = RunKind.FULL if index == 0 else RunKind.INCREMENTAL
            runs.append(_run(connection, "faults", kind, log))
            if plan.churn:
                churn.round(index)
    finally:
        standing = {side: standing_rules(spec) for side, spec in plan.faults.items()}
        sandboxes.set_faults({k: v for k, v in standing.items() if v}, plan.timeout_seconds)
    log(f"faults off; rules kept: {standing or 'none'}")
    for _ in range(plan.settle_runs):
        runs.append(_run(connection, "settle", RunKind.INCREMENTAL, log))
    injected = sandboxes.injected()
    log("reconciling CM against Salesforce")
    reconciling = time.monotonic()
    reconciliation = reconcile_connection(connection, sample_size=plan.samples)
    finished = time.monotonic()
    return SoakReport(
        plan=plan,
        runs=runs,
        churn=dict(churn.made),
        injected=injected,
        reconciliation=reconciliation,
        seconds=finished - started,
        reconcile_seconds=finished - reconciling,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


def _run(connection: Connection, phase: str, kind: str, log: Callable[[str], None]) -> RunFigures:
    started = time.monotonic()
    run = run_inline(connection, kind=kind)
    figures = RunFigures.of(phase, run, time.monotonic() - started)
    log(
        f"{phase} run {run.pk} ({run.kind}): {run.status} in {figures.seconds} s, "
        f"{figures.written} written, {figures.rejected} rejected"
    )
    return figures


class Churn:
    """Changes in CM between runs, as its users make them: sign-ups, opens, clicks,
    unsubscribes and bounces on recent campaigns. Made through the CM API (new subscribers, so
    they meet the faults too) and the sandbox's event control."""

    def __init__(self, sandboxes: Sandboxes, rng: random.Random) -> None:
        self.sandboxes = sandboxes
        self.rng = rng
        self.made: Counter[str] = Counter()

    def round(self, number: int) -> None:
        cm = self.sandboxes.cm_client()
        try:
            for client in cm.get_clients():
                self._client(cm, client["ClientID"], number)
        finally:
            cm.close()

    def _client(self, cm: CampaignMonitorClient, client_id: str, number: int) -> None:
        lists = cm.get_lists(client_id)
        for cm_list in self.rng.sample(lists, k=min(2, len(lists))):
            for n in range(3):
                email = f"soak-{number}-{n}-{cm_list['ListID'][:6]}@example.com"
                subscriber = make_subscriber(email, f"Soak {number} {n}", consent_to_track="Yes")
                cm.add_subscriber(cm_list["ListID"], subscriber)
                self.made["new subscribers"] += 1
        recent = timezone.now() - dt.timedelta(days=CHURN_CAMPAIGN_DAYS)
        for campaign in cm.iter_sent_campaigns(client_id, sent_from=recent):
            self._events(cm, campaign["CampaignID"])

    def _events(self, cm: CampaignMonitorClient, campaign_id: str) -> None:
        recipients = [item["EmailAddress"] for item in cm.iter_campaign_recipients(campaign_id)]
        if not recipients:
            return
        picks = self.rng.sample(recipients, k=min(len(recipients), 12))
        plan = [
            ("open", picks[:6], None),
            ("click", picks[:3], "https://example.com/soak"),
            ("unsubscribe", picks[6:8], None),
            ("bounce", picks[8:9], None),
            ("spam", picks[9:10], None),
        ]
        for kind, emails, url in plan:
            if not emails:
                continue
            payload = {"campaign_id": campaign_id, "kind": kind, "emails": emails, "url": url}
            self.sandboxes.control("cm", "POST", "events", payload)
            self.made[kind] += len(emails)
