"""Fixtures of the reliability tests: the sandbox-wired connection of tests/sync, and an empty
org with cmsync's objects."""

from __future__ import annotations

import pytest

from sync.clients.salesforce import SalesforceClient
from sync.clients.salesforce_schema import ensure_schema
from tests.sync.conftest import connection, sandbox_settings  # noqa: F401 (fixtures)


def sf_login(sandbox, **options) -> SalesforceClient:
    return SalesforceClient.password_login(
        sandbox.url,
        sandbox.username,
        sandbox.password,
        sandbox.client_id,
        sandbox.client_secret,
        ca_bundle=sandbox.ca_file,
        **options,
    )


@pytest.fixture
def sf_org(sf_empty_sandbox):
    """An empty org with cmsync's objects (as connecting makes them)."""
    client = sf_login(sf_empty_sandbox)
    ensure_schema(client)
    client.close()
    return sf_empty_sandbox
