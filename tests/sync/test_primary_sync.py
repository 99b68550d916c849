"""The primary sync over HTTPS against both sandboxes: exactly once, incremental, resumable."""

from __future__ import annotations

import pytest

from sync.models import RunKind, RunStatus
from sync.services.runs import run_inline

pytestmark = pytest.mark.django_db(transaction=True)


def _sf_count(sf_sandbox, sobject):
    return len(sf_sandbox.app.records(sobject))


def test_first_sync_lands_everything_once_and_second_writes_nothing(connection, cm_sandbox, sf_sandbox):
    run = run_inline(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    counts = {name: _sf_count(sf_sandbox, name) for name in run.records_written}
    print(run.records_written, counts, run.cm_calls, run.sf_calls, run.sf_write_calls)
    assert counts == run.records_written
    second = run_inline(connection)
    assert second.status == RunStatus.SUCCEEDED
    assert second.sf_write_calls == 0
    assert second.records_written == {}
