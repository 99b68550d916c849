"""A connection wired to both sandboxes over HTTPS, as `manage.py connect` would make it."""

from __future__ import annotations

import pytest

from maintenance.models import AuditEntry
from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.salesforce import password_grant
from sync.models import Connection, SyncOptions
from sync.services.connect import connect_campaign_monitor, connect_salesforce


@pytest.fixture
def sandbox_settings(settings, cm_sandbox, sf_sandbox):
    settings.CMSYNC_CA_BUNDLE = cm_sandbox.ca_file
    settings.SF_CLIENT_ID = sf_sandbox.client_id
    settings.SF_CLIENT_SECRET = sf_sandbox.client_secret
    settings.SF_LOGIN_URL = sf_sandbox.url
    settings.CM_API_BASE_URL = cm_sandbox.api_base
    settings.CMSYNC_BACKOFF_BASE_MS = 5
    settings.CMSYNC_BACKOFF_CAP_MS = 50
    settings.CMSYNC_BULK_POLL_MS = 50
    return settings


def connect_both(cm, sf, select="all") -> Connection:
    """Connect both sides through the services; being set-up, not a change under test, it
    leaves no audit entries behind."""
    earlier = list(AuditEntry.objects.values_list("pk", flat=True))
    connection = Connection.objects.create(cm_base_url=cm.api_base)
    connect_campaign_monitor(
        connection, user=None, base_url=cm.api_base, api_key=cm.api_key, select=select
    )
    tokens = password_grant(
        sf.url, sf.username, sf.password, sf.client_id, sf.client_secret, cm.ca_file
    )
    connect_salesforce(
        connection, tokens, user=None, login_url=sf.url, username=sf.username, password=sf.password
    )
    AuditEntry.objects.exclude(pk__in=earlier).delete()
    connection.refresh_from_db()
    return connection


@pytest.fixture
def connection(db, sandbox_settings, cm_sandbox, sf_sandbox) -> Connection:
    return connect_both(cm_sandbox, sf_sandbox)


def set_options(connection: Connection, **values) -> SyncOptions:
    """Set Storage / General Options fields of the connection directly (no audit)."""
    options = SyncOptions.for_connection(connection)
    for name, value in values.items():
        setattr(options, name, value)
    options.save()
    return options


def cm_client(cm_sandbox) -> CampaignMonitorClient:
    """The project's CM client on the demo account, for reading what landed in CM."""
    return CampaignMonitorClient(
        cm_sandbox.api_key, base_url=cm_sandbox.api_base, ca_bundle=cm_sandbox.ca_file
    )
