"""Run the primary sync now: queue it for the workers, or run it here with --inline."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sync.models import ClientJob, RunKind, RunTrigger, SyncRun
from sync.services import runs
from sync.services.status import get_connection


class Command(BaseCommand):
    help = "Start a sync run (incremental, or --full); --wait prints one JSON line when it ends."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="full Campaign Monitor sync")
        parser.add_argument("--client", help="only this CM client id (must be selected)")
        parser.add_argument("--wait", action="store_true", help="wait and print the result")
        parser.add_argument(
            "--inline", action="store_true", help="run in this process instead of on a worker"
        )
        parser.add_argument("--timeout", type=int, default=3600)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = get_connection()
        if connection is None:
            raise CommandError("Not connected: run `manage.py connect` first.")
        if (
            options["client"]
            and not connection.clients.filter(
                cm_client_id=options["client"], selected=True
            ).exists()
        ):
            raise CommandError(f"Client {options['client']} is not a selected client.")
        kind = RunKind.FULL if options["full"] else RunKind.INCREMENTAL
        started = time.monotonic()
        try:
            if options["inline"]:
                run = runs.run_inline(
                    connection, kind=kind, trigger=RunTrigger.CLI, only_client=options["client"]
                )
                created = True
            else:
                run, created = runs.request_run(
                    connection, kind=kind, trigger=RunTrigger.CLI, only_client=options["client"]
                )
        except runs.SyncNotReady as exc:
            raise CommandError(str(exc)) from None
        if not created:
            self.stderr.write(f"Run {run.pk} is already running; not starting another.")
        if options["wait"] or options["inline"]:
            run = self._wait(run, options["timeout"])
            self.stdout.write(json.dumps(summary(run, time.monotonic() - started)))
        else:
            self.stdout.write(f"Queued run {run.pk}.")

    def _wait(self, run: SyncRun, timeout: int) -> SyncRun:
        deadline = time.monotonic() + timeout
        while run.is_active:
            if time.monotonic() > deadline:
                raise CommandError(f"Run {run.pk} still running after {timeout} s.")
            time.sleep(1)
            run.refresh_from_db()
        return run


def summary(run: SyncRun, seconds: float) -> dict[str, Any]:
    return {
        "run": run.pk,
        "status": run.status,
        "kind": run.kind,
        "written": run.records_written,
        "rejected": run.rejected_count,
        "cm_calls": run.cm_calls,
        "sf_calls": run.sf_calls,
        "sf_write_calls": run.sf_write_calls,
        "seconds": round(seconds, 2),
        "clients": list(
            ClientJob.objects.filter(run=run).values_list("cm_client__name", flat=True)
        ),
    }
