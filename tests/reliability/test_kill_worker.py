"""kill -9 of a real worker during a full sync; a new worker finishes it, nothing lost or doubled.

At each point a sandbox holds one chosen call, so the kill lands exactly there: mid-purge (the
hard delete of the second object not yet sent), mid-import of memberships and mid-tracking (a
write Salesforce applied whose answer the worker never read). A new worker then takes over the
way production does: the lease runs out (simulated), beat sends the sweeper and the scheduled
sync, and the full sync resumes where it stopped. The same reconciliation as the soak must come
out 0/0/0/0.
"""

from __future__ import annotations

import pytest

from tests.reliability.workers import ACTIVE, WorkerDrill

pytestmark = pytest.mark.slow

SUBSCRIBERS, TRACKING = "CMS_Subscriber__c", "CMS_Email_Tracking__c"


def purged_first_object_only(now, synced):
    return now[TRACKING] == 0 and now[SUBSCRIBERS] == synced[SUBSCRIBERS]


def partly_written(sobject):
    return lambda now, synced: 0 < now[sobject] < synced[sobject]


KILL_POINTS = {
    # (endpoint or path glob of the Salesforce call held, nth such call, held before or after
    # it is handled, what Salesforce holds when the worker dies: {object: count} against the
    # counts before the full sync)
    "mid-purge": ("bulk2.ingest.create", 2, "before", purged_first_object_only),
    "mid-memberships": (
        f"*/composite/sobjects/{SUBSCRIBERS}/*",
        2,
        "after",
        partly_written(SUBSCRIBERS),
    ),
    "mid-tracking": (f"*/composite/sobjects/{TRACKING}/*", 3, "after", partly_written(TRACKING)),
}


@pytest.fixture
def drill(tmp_path, make_cm_sandbox, make_sf_sandbox):
    seed = {"seed": "demo", "subscribers": 200, "random_seed": 3}
    cm = make_cm_sandbox(**seed, events=2000)
    sf = make_sf_sandbox(**seed)
    drill = WorkerDrill(tmp_path, cm, sf)
    yield drill
    drill.stop_workers()


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_worker_loses_and_doubles_nothing(drill, point):
    endpoint, nth, when, state_at_kill = KILL_POINTS[point]
    drill.prepare()
    (first, full) = drill.runs()
    assert (first["status"], full["kind"], full["status"]) == ("succeeded", "full", "queued")
    holds = drill.sf.app.holds
    landed = lambda: {name: len(drill.sf.app.records(name)) for name in (SUBSCRIBERS, TRACKING)}  # noqa: E731
    synced = landed()
    holds.arm(endpoint, nth=nth, when=when)

    doomed = drill.start_worker()
    assert holds.wait_reached(60), drill.worker_logs()
    drill.kill(doomed)
    assert state_at_kill(landed(), synced), landed()
    holds.release()

    drill.start_worker()
    # Jobs the dead worker had fanned out but not begun run on the new worker first.
    drill.wait_until(
        "the orphaned client jobs",
        lambda: sum(s in ACTIVE for s in drill.jobs(full["id"])) <= 1,
    )
    drill.step("lease_passes_then_beat_ticks")
    drill.wait_until(
        "the resumed full sync",
        lambda: len(drill.runs()) == 3 and drill.runs()[-1]["status"] not in ACTIVE,
    )

    killed, resumed = drill.runs()[1:]
    assert killed["status"] == "failed"
    assert "The worker stopped without finishing." in killed["error_summary"]
    assert (resumed["kind"], resumed["status"]) == ("full", "succeeded"), resumed
    assert drill.rows("SELECT full_sync_state FROM sync_connection") == [("",)]
    assert drill.rows(
        "SELECT COUNT(*) FROM maintenance_maintenancemessage WHERE support_code = 'CMS-300'"
    ) == [(1,)]
    result = drill.reconcile()
    totals = result["totals"]
    assert result["clean"], result
    assert (totals["missing"], totals["duplicates"], totals["extra"], totals["different"]) == (
        0,
        0,
        0,
        0,
    )
    assert totals["expected"] == totals["in_salesforce"] > 1000
    assert landed() == synced
