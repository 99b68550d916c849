"""Fixtures and helpers shared by the test tree (personas and sandboxes: the root conftest.py).

``cm`` is the project's Campaign Monitor client on the in-process CM sandbox: the client's
contract tests (tests/campaign_monitor) use it, and so do sandbox tests that look at the
sandbox through it (tests/sandbox/cm). Modules that want raw HTTP define their own ``cm``.

The helpers below set up CM state for a test with plain API calls to the sandbox: the product's
client has only the calls the product makes, and cmsync never creates lists, fields or campaigns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from sandbox.cm.testing import CMSandbox
from sync.clients.campaign_monitor import CampaignMonitorClient


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: screens keep live answers and rate-limit counts
    there, and one test's answers must not show up in the next (ids repeat across tests)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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


def _answer(cm_sandbox: CMSandbox, method: str, path: str, **kwargs: Any) -> Any:
    response = cm_sandbox.call(method, path, **kwargs)
    assert response.ok, (method, path, response.status_code, response.text)
    return response.json() if response.content else None


def create_list(cm_sandbox: CMSandbox, client_id: str, title: str, **settings: Any) -> str:
    """A new list of the client (``settings`` in CM's spelling, e.g. UnsubscribeSetting)."""
    return _answer(
        cm_sandbox, "POST", f"/lists/{client_id}.json", json={"Title": title, **settings}
    )


def create_custom_field(
    cm_sandbox: CMSandbox,
    list_id: str,
    name: str,
    data_type: str = "Text",
    options: Sequence[str] = (),
) -> str:
    """A new custom field of the list; returns its bracketed key, e.g. ``"[Phone]"``."""
    body = {"FieldName": name, "DataType": data_type, "Options": list(options)}
    return _answer(cm_sandbox, "POST", f"/lists/{list_id}/customfields.json", json=body)


def send_campaign(
    cm_sandbox: CMSandbox, client_id: str, list_ids: Sequence[str], name: str, **fields: str
) -> str:
    """Create a campaign to the lists and send it now; returns its id."""
    body = {
        "Name": name,
        "Subject": name,
        "FromName": "Sender",
        "FromEmail": "sender@example.com",
        "ReplyTo": "sender@example.com",
        "HtmlUrl": "https://example.com/email.html",
        "ListIDs": list(list_ids),
        **fields,
    }
    campaign_id = _answer(cm_sandbox, "POST", f"/campaigns/{client_id}.json", json=body)
    send = {"ConfirmationEmail": "ops@example.com", "SendDate": "Immediately"}
    _answer(cm_sandbox, "POST", f"/campaigns/{campaign_id}/send.json", json=send)
    return campaign_id
