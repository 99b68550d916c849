"""Fixtures shared by the test tree (the personas and the sandboxes are in the root conftest.py).

``cm`` is the project's Campaign Monitor client on the in-process CM sandbox: the client's
contract tests (tests/campaign_monitor) use it, and so do sandbox tests that look at the
sandbox through it (tests/sandbox/cm). Modules that want raw HTTP define their own ``cm``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync.clients.campaign_monitor import CampaignMonitorClient


@pytest.fixture
def cm(cm_sandbox) -> Iterator[CampaignMonitorClient]:
    """API-key client of the demo account; retries do not sleep."""
    client = CampaignMonitorClient(
        api_key=cm_sandbox.api_key,
        base_url=cm_sandbox.api_base,
        ca_bundle=cm_sandbox.ca_file,
        sleep=lambda seconds: None,
    )
    yield client
    client.close()
