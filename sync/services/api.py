"""Build the Campaign Monitor and Salesforce API clients of a connection.

- A connection that no longer holds a side's credentials (Campaign Monitor was disconnected)
  gets no client: :class:`CredentialsGone`, never an ``AttributeError``. Jobs end as cancelled
  on it (:mod:`sync.services.cancellation`); screens show it like any permanent API error.
- Refreshed tokens are written back (encrypted) the moment a client obtains them, so a token
  rotated in the middle of a run is never lost; but never into a connection that was
  disconnected (or connected anew) since the client was built.
- Every Campaign Monitor call first runs the current job's checkpoint (:func:`job_checkpoint`):
  how a running job learns that it was cancelled. Outside a job it does nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from sync.clients.campaign_monitor import CampaignMonitorClient, OAuthTokens
from sync.clients.counting import CallCounter
from sync.clients.errors import PermanentError
from sync.clients.salesforce import SalesforceClient, SalesforceTokens, password_grant
from sync.models import CMAuthMethod, Connection

CAMPAIGN_MONITOR = "Campaign Monitor"
SALESFORCE = "Salesforce"


class CredentialsGone(PermanentError):
    """The connection holds no credentials for ``side`` any more: it was disconnected."""

    def __init__(self, side: str) -> None:
        super().__init__(
            f"{side} is not connected: cmsync no longer holds its credentials",
            endpoint="credentials",
        )
        self.side = side


# The check the running job wants made before each Campaign Monitor call (None: not in a job).
_job_check: ContextVar[Callable[[], None] | None] = ContextVar("cmsync_job_check", default=None)


@contextmanager
def job_checkpoint(check: Callable[[], None]) -> Iterator[None]:
    """Within the block, :func:`checkpoint` (and so every Campaign Monitor call) runs ``check``,
    which raises to stop the job."""
    token = _job_check.set(check)
    try:
        yield
    finally:
        _job_check.reset(token)


def checkpoint() -> None:
    """Let the current job stop here if it was cancelled (nothing outside a job)."""
    check = _job_check.get()
    if check is not None:
        check()


def check_credentials(connection: Connection) -> None:
    """Raise :class:`CredentialsGone` for a side whose credentials the connection lacks."""
    if not _holds_cm_credentials(connection):
        raise CredentialsGone(CAMPAIGN_MONITOR)
    if not connection.sf_access_token:
        raise CredentialsGone(SALESFORCE)


def _holds_cm_credentials(connection: Connection) -> bool:
    if connection.cm_auth_method == CMAuthMethod.OAUTH:
        return bool(connection.cm_access_token)
    return bool(connection.cm_api_key)


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
        "before_call": checkpoint,
        **_backoff(),
    }
    if not _holds_cm_credentials(connection):
        raise CredentialsGone(CAMPAIGN_MONITOR)
    if connection.cm_auth_method == CMAuthMethod.OAUTH:
        tokens = OAuthTokens(
            access_token=connection.cm_access_token.reveal(),
            refresh_token=connection.cm_refresh_token.reveal()
            if connection.cm_refresh_token
            else "",
        )
        connected_at = connection.cm_connected_at
        return CampaignMonitorClient(
            oauth_tokens=tokens,
            on_token_refresh=lambda new: _store_cm_tokens(connection.pk, connected_at, new),
            **common,
        )
    return CampaignMonitorClient(connection.cm_api_key.reveal(), **common)


def _store_cm_tokens(
    connection_pk: int, connected_at: dt.datetime | None, tokens: OAuthTokens
) -> None:
    """Keep refreshed tokens, unless the connection was disconnected or connected anew since
    the client was built (a disconnected account's tokens must not come back)."""
    row = Connection.objects.filter(pk=connection_pk, cm_connected_at=connected_at).first()
    if row is None or not row.cm_access_token:
        return
    row.cm_access_token = tokens.access_token
    if tokens.refresh_token:
        row.cm_refresh_token = tokens.refresh_token
    row.save(update_fields=["cm_access_token", "cm_refresh_token", "updated_at"])


def salesforce_client(connection: Connection, calls: CallCounter | None = None) -> SalesforceClient:
    if not connection.sf_access_token:
        raise CredentialsGone(SALESFORCE)
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
