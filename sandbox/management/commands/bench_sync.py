"""Benchmark the primary sync against a freshly seeded sandbox and print one JSON line.

The benchmark re-runs itself in a child process with its own throw-away SQLite database, so it
never touches the console's data; the sandboxes run in another child process (``run_sandbox``),
so the peak RSS reported is the sync's own. Steps: full sync, then a sync with no changes in CM.

``--campaigns`` turns on auto-create Salesforce Campaigns and campaign member aggregates (through
the services the screens use) before the full sync, and reports the Campaign, CampaignMember and
CampaignMemberStatus writes of the full sync and of the no-change run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import resource
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns.services.settings import update_settings
from maintenance.services import command_actor
from sandbox import processes
from sync.models import Connection, RunKind, SyncCursor, SyncRun
from sync.services.runs import run_inline
from sync.services.storage import save_campaign_member_aggregates

# The Salesforce Campaigns objects whose writes --campaigns reports (SyncRun.records_written).
CAMPAIGN_OBJECTS = ("Campaign", "CampaignMember", "CampaignMemberStatus")


class Command(BaseCommand):
    help = "Seed a fresh sandbox, run a full sync and a no-change sync, print figures as JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--subscribers", type=int, default=2000)
        parser.add_argument("--events", type=int, default=20000)
        parser.add_argument("--random-seed", type=int, default=7)
        parser.add_argument("--bulk-threshold", type=int, default=settings.CMSYNC_BULK_THRESHOLD)
        parser.add_argument(
            "--bulk-poll-ms",
            type=int,
            default=250,
            help="first wait before polling a Bulk job (the sandbox finishes jobs at once)",
        )
        parser.add_argument(
            "--campaigns",
            action="store_true",
            help="turn on auto-create Salesforce Campaigns and campaign member aggregates first",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subscribers"] < 1 or options["events"] < 0:
            raise CommandError("--subscribers must be at least 1 and --events not negative")
        if not processes.in_child():
            arguments = [
                "--subscribers", str(options["subscribers"]), "--events", str(options["events"]),
                "--random-seed", str(options["random_seed"]),
                "--bulk-threshold", str(options["bulk_threshold"]),
                "--bulk-poll-ms", str(options["bulk_poll_ms"]),
            ]  # fmt: skip
            if options["campaigns"]:
                arguments.append("--campaigns")
            if processes.rerun_isolated("bench_sync", arguments):
                raise CommandError("the benchmark failed (see above)")
            return
        cm_port, sf_port = processes.free_port(), processes.free_port()
        seed = [
            "--seed", "demo",
            "--subscribers", str(options["subscribers"]), "--events", str(options["events"]),
            "--random-seed", str(options["random_seed"]),
        ]  # fmt: skip
        try:
            sandbox = processes.start_sandbox_process(cm_port, sf_port, seed, wait_seconds=300)
        except processes.DrillError as exc:
            raise CommandError(str(exc)) from exc
        connection = None
        try:
            settings.CMSYNC_BULK_THRESHOLD = options["bulk_threshold"]
            settings.CMSYNC_BULK_POLL_MS = options["bulk_poll_ms"]
            connection = processes.connect(cm_port, sf_port, "bench_sync")
            if options["campaigns"]:
                _turn_on_campaigns(connection)
            full, full_seconds = _timed(lambda: run_inline(connection, kind=RunKind.FULL))
            again, again_seconds = _timed(lambda: run_inline(connection))
            _make_rereads_due(connection)
            reread, reread_seconds = _timed(lambda: run_inline(connection))
            figures = _figures(options, full, full_seconds, again, again_seconds)
            figures["daily_reread_sync"] = _run_figures(reread, reread_seconds)
            if options["campaigns"]:
                figures["campaign_writes"] = {
                    "full_sync": _campaign_writes(full),
                    "no_change_sync": _campaign_writes(again),
                    "daily_reread_sync": _campaign_writes(reread),
                }
            self.stdout.write(json.dumps(figures))
        finally:
            if connection is not None:
                connection.delete()
            sandbox.terminate()
            sandbox.wait(timeout=20)


def _turn_on_campaigns(connection: Connection) -> None:
    """Auto-create Salesforce Campaigns and campaign member aggregates on, as an Admin would."""
    actor = command_actor("bench_sync")
    update_settings(connection, actor, auto_create=True)
    save_campaign_member_aggregates(connection, enabled=True, user=actor)


def _campaign_writes(run: SyncRun) -> dict[str, int]:
    """The run's rows written per Salesforce Campaigns object (0 when it wrote none)."""
    return {name: run.records_written.get(name, 0) for name in CAMPAIGN_OBJECTS}


def _make_rereads_due(connection: Connection) -> None:
    """As if a day had passed: the next run re-reads every list's active subscribers."""
    long_ago = timezone.now() - dt.timedelta(days=2)
    SyncCursor.objects.filter(
        cm_client__connection=connection, stream__startswith="reread:"
    ).update(position=long_ago)


def _run_figures(run: SyncRun, seconds: float) -> dict[str, Any]:
    """A run with nothing new in CM: what it cost."""
    return {
        "status": run.status,
        "seconds": round(seconds, 2),
        "cm_calls": run.cm_calls,
        "sf_calls": run.sf_calls,
        "sf_write_calls": run.sf_write_calls,
        "by_object": run.records_written,
    }


def _timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def _figures(
    options: dict[str, Any],
    full: SyncRun,
    full_seconds: float,
    again: SyncRun,
    again_seconds: float,
) -> dict[str, Any]:
    rows = full.total_written
    minimum_collection_calls = sum(math.ceil(n / 200) for n in full.records_written.values())
    return {
        "subscribers": options["subscribers"],
        "events": options["events"],
        "bulk_threshold": options["bulk_threshold"],
        "bulk_poll_ms": options["bulk_poll_ms"],
        "campaigns": options["campaigns"],
        "full_sync": {
            "status": full.status,
            "records": rows,
            "by_object": full.records_written,
            "seconds": round(full_seconds, 2),
            "records_per_second": round(rows / full_seconds, 1) if full_seconds else None,
            "cm_calls": full.cm_calls,
            "sf_calls": full.sf_calls,
            "sf_write_calls": full.sf_write_calls,
            "min_sf_write_calls_collections": minimum_collection_calls,
            "write_calls_vs_minimum": round(full.sf_write_calls / minimum_collection_calls, 3)
            if minimum_collection_calls
            else None,
        },
        "no_change_sync": _run_figures(again, again_seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
