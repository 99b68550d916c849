"""The fault soak against freshly seeded sandboxes; prints the runs and the reconciliation.

Like ``bench_sync``, it re-runs itself in a child process with a throw-away database and starts
the sandboxes in another process. The steps are :mod:`sandbox.soak`'s.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox import processes
from sandbox.config import SandboxConfig
from sandbox.core.faults import FaultSpecError
from sandbox.soak import DEFAULT_FAULTS, Sandboxes, SoakPlan, parse_faults, run_soak


class Command(BaseCommand):
    help = (
        "Seed fresh sandboxes, sync through injected faults, turn them off, sync twice more and "
        "reconcile CM against SF record by record. Exit status 1 unless it reconciles clean."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--subscribers", type=int, default=1000)
        parser.add_argument("--events", type=int, default=10_000)
        parser.add_argument(
            "--faults",
            default=DEFAULT_FAULTS,
            help=f"'sf=SPEC;cm=SPEC' (sandbox fault specs) or 'none'; default {DEFAULT_FAULTS}",
        )
        parser.add_argument("--fault-runs", type=int, default=4, help="runs while faults are on")
        parser.add_argument("--settle-runs", type=int, default=2, help="runs after they stop")
        parser.add_argument("--no-churn", action="store_true", help="no CM changes between runs")
        parser.add_argument("--random-seed", type=int, default=7)
        parser.add_argument(
            "--read-timeout",
            type=int,
            default=5,
            help="the sync's HTTP timeout (s); a timeout fault holds its answer 0.5 s longer",
        )
        parser.add_argument("--samples", type=int, default=20, help="rows shown of each kind")
        parser.add_argument("--json", action="store_true", help="also print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subscribers"] < 1 or options["events"] < 0:
            raise CommandError("--subscribers must be at least 1 and --events not negative")
        if options["fault_runs"] < 1 or options["settle_runs"] < 1:
            raise CommandError("--fault-runs and --settle-runs must be at least 1")
        try:
            faults = parse_faults(options["faults"])
        except (ValueError, FaultSpecError) as exc:
            raise CommandError(f"--faults: {exc}") from None
        if not processes.in_child():
            code = processes.rerun_isolated("soak", _arguments(options))
            if code:
                raise SystemExit(code)
            return
        if options["verbosity"] < 2:  # -v 2 shows every retry and maintenance message
            logging.getLogger("sync").setLevel(logging.WARNING)
            logging.getLogger("maintenance").setLevel(logging.WARNING)
        cm_port, sf_port = processes.free_port(), processes.free_port()
        sandbox = processes.start_sandbox_process(
            cm_port,
            sf_port,
            [
                "--seed", "demo",
                "--subscribers", str(options["subscribers"]),
                "--events", str(options["events"]),
                "--random-seed", str(options["random_seed"]),
                "--sf-daily-api-limit", "10000000",
            ],
        )  # fmt: skip
        try:
            settings.CMSYNC_HTTP_TIMEOUT = options["read_timeout"]
            connection = processes.connect(cm_port, sf_port, "soak")
            plan = SoakPlan(
                faults=faults,
                fault_runs=options["fault_runs"],
                settle_runs=options["settle_runs"],
                churn=not options["no_churn"],
                random_seed=options["random_seed"],
                timeout_seconds=options["read_timeout"] + 0.5,
                samples=options["samples"],
            )
            sandboxes = Sandboxes(
                cm_url=f"https://127.0.0.1:{cm_port}",
                sf_url=f"https://127.0.0.1:{sf_port}",
                ca_file=processes.ca_file(),
                cm_api_key=SandboxConfig().cm_api_key,
            )
            report = run_soak(connection, sandboxes, plan, log=self._log)
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)
        self.stdout.write(report.render())
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict()))
        if not report.passed:
            raise SystemExit(1)

    def _log(self, line: str) -> None:
        self.stderr.write(line)
        self.stderr.flush()


def _arguments(options: dict[str, Any]) -> list[str]:
    """The command line that repeats these options in the child."""
    arguments = [
        "--subscribers", str(options["subscribers"]), "--events", str(options["events"]),
        "--faults", options["faults"], "--fault-runs", str(options["fault_runs"]),
        "--settle-runs", str(options["settle_runs"]), "--random-seed", str(options["random_seed"]),
        "--read-timeout", str(options["read_timeout"]), "--samples", str(options["samples"]),
    ]  # fmt: skip
    arguments += ["--verbosity", str(options["verbosity"])]
    if options["no_churn"]:
        arguments.append("--no-churn")
    if options["json"]:
        arguments.append("--json")
    return arguments
