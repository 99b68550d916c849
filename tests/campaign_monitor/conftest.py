"""The project's Campaign Monitor client pointed at the in-process CM sandbox."""

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
