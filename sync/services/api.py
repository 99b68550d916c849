"""Build the Campaign Monitor and Salesforce API clients of a connection.

Refreshed tokens are written back (encrypted) the moment a client obtains them, so a token
rotated in the middle of a run is never lost.
"""

from __future__ import annotations

from django.conf import settings

from sync.clients.campaign_monitor import CampaignMonitorClient, OAuthTokens
from sync.clients.counting import CallCounter
from sync.clients.salesforce import SalesforceClient, SalesforceTokens, password_grant
from sync.models import CMAuthMethod, Connection


def ca_bundle() -> str | None:
    return settings.CMSYNC_CA_BUNDLE or None


def _backoff() -> dict[str, float]:
    return {
        "backoff_base": settings.CMSYNC_BACKOFF_BASE_MS / 1000,
        "backoff_cap": settings.CMSYNC_BACKOFF_CAP_MS / 1000,
    }


def campaign_monitor_client(
    connection: Connection, calls: CallCounter | None = None
) -> CampaignMonitorClient:
    common = {
        "base_url": connection.cm_base_url,
        "ca_bundle": ca_bundle(),
        "timeout": settings.CMSYNC_HTTP_TIMEOUT,
        "calls": calls,
        **_backoff(),
    }
    if connection.cm_auth_method == CMAuthMethod.OAUTH:
        tokens = OAuthTokens(
            access_token=connection.cm_access_token.reveal(),
            refresh_token=connection.cm_refresh_token.reveal()
            if connection.cm_refresh_token
            else "",
        )
        return CampaignMonitorClient(
            oauth_tokens=tokens,
            on_token_refresh=lambda new: _store_cm_tokens(connection.pk, new),
            **common,
        )
    return CampaignMonitorClient(connection.cm_api_key.reveal(), **common)


def _store_cm_tokens(connection_pk: int, tokens: OAuthTokens) -> None:
    row = Connection.objects.get(pk=connection_pk)
    row.cm_access_token = tokens.access_token
    if tokens.refresh_token:
        row.cm_refresh_token = tokens.refresh_token
    row.save(update_fields=["cm_access_token", "cm_refresh_token", "updated_at"])


def salesforce_client(connection: Connection, calls: CallCounter | None = None) -> SalesforceClient:
    login_url = connection.sf_login_url or settings.SF_LOGIN_URL
    reauthenticate = None
    if connection.sf_username and connection.sf_password:
        username, password = connection.sf_username, connection.sf_password.reveal()

        def reauthenticate(session):
            return password_grant(
                login_url,
                username,
                password,
                settings.SF_CLIENT_ID,
                settings.SF_CLIENT_SECRET,
                session=session,
            )

    return SalesforceClient(
        connection.sf_instance_url,
        connection.sf_access_token.reveal(),
        refresh_token=connection.sf_refresh_token.reveal() if connection.sf_refresh_token else None,
        login_url=login_url,
        client_id=settings.SF_CLIENT_ID,
        client_secret=settings.SF_CLIENT_SECRET,
        on_token_refresh=lambda new: store_sf_tokens(connection.pk, new),
        ca_bundle=ca_bundle(),
        timeout=settings.CMSYNC_HTTP_TIMEOUT,
        bulk_threshold=settings.CMSYNC_BULK_THRESHOLD,
        bulk_poll_seconds=settings.CMSYNC_BULK_POLL_MS / 1000,
        calls=calls,
        reauthenticate=reauthenticate,
        **_backoff(),
    )


def store_sf_tokens(connection_pk: int, tokens: SalesforceTokens) -> None:
    row = Connection.objects.get(pk=connection_pk)
    row.sf_access_token = tokens.access_token
    fields = ["sf_access_token", "updated_at"]
    if tokens.refresh_token:
        row.sf_refresh_token = tokens.refresh_token
        fields.append("sf_refresh_token")
    if tokens.instance_url:
        row.sf_instance_url = tokens.instance_url
        fields.append("sf_instance_url")
    row.save(update_fields=fields)
