"""Connecting, reconnecting and disconnecting Campaign Monitor and Salesforce.

Which Campaign Monitor account credentials belong to is told by client ids: CM's API names no
account, but a client id (32 hex digits) belongs to exactly one account, and the account's
credentials list its clients (a client-level key lists its own). Credentials that reach any
client of the account connected before are that account: connecting it again after a
disconnect keeps its configuration (clients to sync, security owners, cursors). Credentials
that reach none of them are a different account: it starts from a clean client selection, and
the earlier account's clients stay as records of a disconnected account
(``CMClient.disconnected_account_at``; their data stays in Salesforce, cmsync no longer syncs
them) until that account is connected again. Reconnect is for new credentials of the same
account only.

Every public function that changes the connection writes its one audit entry (area "Sync
Settings", who, before → after) through :func:`maintenance.services.record_changes`, so the
connect pages, Sync Settings and ``manage.py connect`` leave the same trail; callers never
audit. ``user`` is the signed-in person, a command's :class:`~maintenance.services.Actor`, or
None. A choice saved again unchanged writes nothing; connecting, reconnecting and signing in
again always store new credentials, so they are written even when the visible state reads the
same ("reconnected by ...", "... (signed in again)").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from maintenance.services import record_changes
from sync.clients.campaign_monitor import CampaignMonitorClient, OAuthTokens
from sync.clients.errors import ApiError, AuthError, MalformedCredentials, PermanentError
from sync.clients.salesforce import SalesforceClient, SalesforceTokens
from sync.clients.salesforce_schema import ensure_schema
from sync.models import CMAuthMethod, CMClient, Connection, Plan
from sync.services import schedule
from sync.services.api import ca_bundle, salesforce_client
from sync.services.cancellation import Cancelled, cancel_connection_work
from sync.services.reown import start_reown
from sync.services.status import get_connection

AUDIT_AREA = "Sync Settings"
SF_USERS_CACHE_SECONDS = 5 * 60


class ConnectError(Exception):
    """A connection attempt failed; the message says what is wrong and what to do."""


@dataclass
class ClientChoice:
    cm_client_id: str
    name: str


def get_or_create_connection() -> Connection:
    return get_connection() or Connection.objects.create(cm_base_url=settings.CM_API_BASE_URL)


def _audit(user, setting: str, before: object, after: object) -> None:
    record_changes(user=user, area=AUDIT_AREA, changes={setting: (before, after)})


def _selected_names(connection: Connection) -> list[str]:
    return list(connection.clients.filter(selected=True).values_list("name", flat=True))


def _cm_state(connection: Connection, verb: str = "connected") -> str:
    """The Campaign Monitor side in words, for the audit log (never a credential)."""
    if not connection.cm_connected:
        return "not connected"
    method = "OAuth" if connection.cm_auth_method == CMAuthMethod.OAUTH else "API key"
    clients = ", ".join(_selected_names(connection)) or "none chosen yet"
    return f"{verb} by {method}; clients to sync: {clients}"


def _sf_state(connection: Connection, verb: str = "connected") -> str:
    """The Salesforce side in words, for the audit log (never a credential)."""
    if not connection.sf_connected:
        return "not connected"
    return f"{verb} to {connection.sf_instance_url} as {connection.sf_sync_user_name}"


# Campaign Monitor -----------------------------------------------------------------------------
def _cm_client(
    base_url: str, api_key: str | None, tokens: OAuthTokens | None
) -> CampaignMonitorClient:
    return CampaignMonitorClient(
        api_key,
        oauth_tokens=tokens,
        base_url=base_url,
        ca_bundle=ca_bundle(),
        timeout=settings.CMSYNC_HTTP_TIMEOUT,
        max_retries=2,
    )


def read_cm_clients(
    base_url: str, *, api_key: str | None = None, tokens: OAuthTokens | None = None
) -> list[ClientChoice]:
    """The clients the credentials reach; raises ConnectError with a plain explanation."""
    try:
        client = _cm_client(base_url, api_key, tokens)
    except MalformedCredentials as exc:
        where = "Account settings → API keys" if api_key is not None else "authorise again"
        raise ConnectError(
            f"{exc.message}. Copy it again from Campaign Monitor ({where})."
        ) from None
    try:
        rows = client.get_clients()
    except AuthError as exc:
        what = "API key" if api_key else "authorisation"
        raise ConnectError(
            f"Campaign Monitor rejected the {what} (code {exc.code}: {exc.message}). "
            "Use an account-level API key (Account settings → API keys) or authorise again."
        ) from None
    except ApiError as exc:
        raise ConnectError(
            f"Campaign Monitor could not be reached at {base_url}: {exc.message}."
        ) from None
    finally:
        client.close()
    if not rows:
        raise ConnectError("These credentials reach no Campaign Monitor client.")
    return [ClientChoice(row["ClientID"], row["Name"]) for row in rows]


@transaction.atomic
def connect_campaign_monitor(
    connection: Connection,
    *,
    user,
    base_url: str,
    api_key: str | None = None,
    tokens: OAuthTokens | None = None,
    select: str | Iterable[str] | None = None,
) -> list[CMClient]:
    """Store working CM credentials and the account's clients (audited).

    ``select``: "all", a list of client ids, or None (a single-client account selects its
    client; an agency account waits for the admin to pick; the same account connected again
    keeps its selection). A different account than the one connected before starts from a
    clean selection: :func:`replaced_account_clients` then names the earlier account's clients.
    """
    before = _cm_state(connection)
    verb = "reconnected" if connection.cm_connected else "connected"
    choices = read_cm_clients(base_url, api_key=api_key, tokens=tokens)
    now = timezone.now()
    if not _same_account(connection, choices):
        # Work still going for the earlier account stops (nothing, after a disconnect).
        cancel_connection_work(connection, user=user)
        connection.current_clients().update(
            selected=False, connection_active=False, disconnected_account_at=now
        )
    clients = _connect_cm(
        connection,
        choices,
        base_url=base_url,
        api_key=api_key,
        tokens=tokens,
        select=select,
        connected_at=now,
    )
    _audit(user, "Campaign Monitor connection", before, _cm_state(connection, verb))
    return clients


def _same_account(connection: Connection, choices: list[ClientChoice]) -> bool:
    """Whether the credentials reach the account connected before (or none was)."""
    known = set(connection.current_clients().values_list("cm_client_id", flat=True))
    return not known or bool(known & {c.cm_client_id for c in choices})


def replaced_account_clients(connection: Connection) -> list[CMClient]:
    """The clients of the account that the connected one replaced when it was connected (empty
    when it is the same account as before, or a first connection)."""
    if connection.cm_connected_at is None:
        return []
    return list(connection.clients.filter(disconnected_account_at=connection.cm_connected_at))


def disconnected_account_clients(connection: Connection) -> list[CMClient]:
    """Clients of Campaign Monitor accounts that were disconnected and replaced: their records
    stay in Salesforce; cmsync no longer syncs them."""
    return list(connection.clients.exclude(disconnected_account_at=None))


def _connect_cm(
    connection: Connection,
    choices: list[ClientChoice],
    *,
    base_url: str,
    api_key: str | None,
    tokens: OAuthTokens | None,
    select: str | Iterable[str] | None,
    connected_at: dt.datetime,
) -> list[CMClient]:
    connection.cm_base_url = base_url
    if tokens is not None:
        connection.cm_auth_method = CMAuthMethod.OAUTH
        connection.cm_access_token = tokens.access_token
        connection.cm_refresh_token = tokens.refresh_token
        connection.cm_api_key = ""
    else:
        connection.cm_auth_method = CMAuthMethod.API_KEY
        connection.cm_api_key = api_key or ""
        connection.cm_access_token = ""
        connection.cm_refresh_token = ""
    connection.cm_connected_at = connected_at
    connection.cm_needs_reconnect = False
    connection.cm_is_agency = len(choices) > 1
    connection.save()
    clients = _store_clients(connection, choices)
    if select is not None:
        wanted = [c.cm_client_id for c in choices] if select == "all" else list(select)
        _select_clients(connection, wanted)
    elif len(choices) == 1:
        _select_clients(connection, [choices[0].cm_client_id])
    schedule.apply_schedule(connection)
    return clients


def _store_clients(connection: Connection, choices: list[ClientChoice]) -> list[CMClient]:
    stored = []
    for choice in choices:
        client, _ = CMClient.objects.update_or_create(
            connection=connection,
            cm_client_id=choice.cm_client_id,
            # The zone is read again on the next sync (the account may have changed it).
            defaults={
                "name": choice.name,
                "connection_active": True,
                "cm_time_zone": "",
                "disconnected_account_at": None,  # its account is connected (again)
            },
        )
        stored.append(client)
    return stored


def select_clients(connection: Connection, client_ids: Iterable[str], *, user) -> list[CMClient]:
    """Choose the clients to sync (audited); more than one needs the Enterprise plan."""
    before = _selected_names(connection)
    chosen = _select_clients(connection, client_ids)
    _audit(user, "Clients to sync", before, [c.name for c in chosen])
    return chosen


def _select_clients(connection: Connection, client_ids: Iterable[str]) -> list[CMClient]:
    wanted = set(client_ids)
    known = set(connection.current_clients().values_list("cm_client_id", flat=True))
    unknown = wanted - known
    if unknown:
        raise ConnectError(f"Unknown Campaign Monitor client id(s): {', '.join(sorted(unknown))}.")
    if not wanted:
        raise ConnectError("Select at least one client.")
    if len(wanted) > 1 and connection.plan != Plan.ENTERPRISE:
        raise ConnectError(
            "Syncing several clients of an agency account needs the Enterprise plan."
        )
    connection.clients.filter(cm_client_id__in=wanted).update(selected=True)
    connection.clients.exclude(cm_client_id__in=wanted).update(selected=False)
    _default_security_owners(connection)
    return list(connection.clients.filter(selected=True))


def clients_losing_configuration(connection: Connection, keep_ids: Iterable[str]) -> list[CMClient]:
    """Clients a reconnect would drop: their cursors, jobs and settings go with them."""
    return list(connection.clients.filter(selected=True).exclude(cm_client_id__in=set(keep_ids)))


@transaction.atomic
def reconnect_campaign_monitor(
    connection: Connection,
    *,
    api_key: str | None = None,
    tokens: OAuthTokens | None = None,
    keep_client_ids: Iterable[str],
    user,
) -> list[CMClient]:
    """New credentials for the same account (audited); clients not kept lose their cmsync
    configuration."""
    before = _cm_state(connection)
    keep = set(keep_client_ids)
    choices = read_cm_clients(connection.cm_base_url, api_key=api_key, tokens=tokens)
    reachable = {c.cm_client_id for c in choices}
    if not _same_account(connection, choices):
        raise ConnectError(
            "These credentials belong to a different Campaign Monitor account. Reconnect only "
            "changes the credentials of the same account; disconnect first to switch accounts."
        )
    if not keep:
        raise ConnectError("Select every client to keep syncing (at least one).")
    if keep - reachable:
        raise ConnectError("Some selected clients are not reachable with these credentials.")
    connection.current_clients().exclude(cm_client_id__in=keep).delete()
    clients = _connect_cm(
        connection,
        choices,
        base_url=connection.cm_base_url,
        api_key=api_key,
        tokens=tokens,
        select=keep,
        connected_at=timezone.now(),
    )
    _audit(user, "Campaign Monitor connection", before, _cm_state(connection, "reconnected"))
    return [c for c in clients if c.cm_client_id in keep]


@transaction.atomic
def disconnect_campaign_monitor(connection: Connection, *, user) -> Cancelled:
    """Stop syncing and forget CM credentials (audited); data already in Salesforce stays.

    First the connection's queued and running runs and imports are cancelled and its standing
    mappings paused, each saying why (:func:`~sync.services.cancellation.cancel_connection_work`);
    returns what was.
    """
    before = _cm_state(connection)
    cancelled = cancel_connection_work(connection, user=user)
    connection.cm_disconnected_at = timezone.now()
    connection.cm_api_key = ""
    connection.cm_access_token = ""
    connection.cm_refresh_token = ""
    connection.cm_auth_method = ""
    connection.cm_connected_at = None
    connection.cm_needs_reconnect = False
    connection.save()
    connection.clients.update(connection_active=False)
    schedule.apply_schedule(connection)
    _audit(user, "Campaign Monitor connection", before, "disconnected")
    return cancelled


# Salesforce -----------------------------------------------------------------------------------
def connect_salesforce(
    connection: Connection,
    tokens: SalesforceTokens,
    *,
    user,
    login_url: str,
    username: str = "",
    password: str = "",
) -> Connection:
    """Store the org's tokens, make the connecting user the sync user, prepare the schema
    (audited)."""
    before = _sf_state(connection)
    verb = "reconnected" if connection.sf_connected else "connected"
    _connect_sf(connection, tokens, login_url=login_url, username=username, password=password)
    _audit(user, "Salesforce connection", before, _sf_state(connection, verb))
    return connection


def _connect_sf(
    connection: Connection,
    tokens: SalesforceTokens,
    *,
    login_url: str,
    username: str = "",
    password: str = "",
) -> Connection:
    if tokens.org_id:
        connection.sf_org_id = tokens.org_id
    connection.sf_instance_url = tokens.instance_url
    connection.sf_login_url = login_url
    connection.sf_access_token = tokens.access_token
    connection.sf_refresh_token = tokens.refresh_token or ""
    connection.sf_username = username
    connection.sf_password = password
    sf = salesforce_client(connection)
    try:
        sf_user = _identify_user(sf, tokens, username)
        report = ensure_schema(sf, assignee_id=sf_user.get("Id"))
    except AuthError as exc:
        raise ConnectError(f"Salesforce rejected the login: {exc.message}.") from None
    except PermanentError as exc:
        raise ConnectError(
            f"cmsync could not prepare its objects in Salesforce ({exc.code}: {exc.message}). "
            "The connecting user needs 'Customize Application' and 'Modify All Data' "
            "(a System Administrator profile has both); grant them and connect again."
        ) from None
    except ApiError as exc:
        raise ConnectError(f"Salesforce could not be reached: {exc.message}.") from None
    finally:
        sf.close()
    connection.sf_sync_user_id = sf_user.get("Id", "")
    connection.sf_sync_user_name = sf_user.get("Name", "") or sf_user.get("Username", "")
    connection.sf_connected_at = timezone.now()
    connection.sf_schema_ready_at = timezone.now()
    connection.sf_needs_reconnect = False
    connection.save()
    _default_security_owners(connection)
    schedule.apply_schedule(connection)
    connection.schema_report = report  # for the caller's message
    return connection


def _identify_user(sf: SalesforceClient, tokens: SalesforceTokens, username: str) -> dict:
    user_id = tokens.user_id if tokens.id_url else ""
    if user_id:
        rows = list(sf.query_iter(f"SELECT Id, Name, Username FROM User WHERE Id = '{user_id}'"))
    else:
        safe = username.replace("\\", "\\\\").replace("'", "\\'")
        rows = list(sf.query_iter(f"SELECT Id, Name, Username FROM User WHERE Username = '{safe}'"))
    if not rows:
        raise ConnectError("Salesforce did not say which user connected; connect again.")
    return rows[0]


def change_sync_user(connection: Connection, tokens: SalesforceTokens, *, user) -> Connection:
    """The signed-in person authorised Salesforce as themselves: they become the sync user
    (audited; signing in again as the sync user already set is noted as such).

    They must have signed in to the org cmsync is connected to: a user of another org would
    point every later write at that org, next to records synced into this one.
    """
    if connection.sf_org_id and tokens.org_id and tokens.org_id != connection.sf_org_id:
        raise ConnectError(
            "You signed in to a different Salesforce org than the one cmsync syncs with. Sign in "
            "to the connected org to become its Sync User; to switch orgs, disconnect first."
        )
    before = connection.sf_sync_user_name
    _connect_sf(connection, tokens, login_url=connection.sf_login_url or settings.SF_LOGIN_URL)
    after = connection.sf_sync_user_name
    if after == before:
        after = f"{after} (signed in again)"
    _audit(user, "Salesforce Sync User", before, after)
    return connection


def salesforce_users(connection: Connection) -> tuple[list[dict], str]:
    """Active Salesforce users for the owner picker (cached a few minutes), and an error text."""
    key = f"cmsync:sf-users:{connection.pk}:{connection.sf_instance_url}"
    users = cache.get(key)
    if users is not None:
        return users, ""
    sf = salesforce_client(connection)
    try:
        users = sf.users(active_only=True)
    except ApiError as exc:
        return [], (
            f"Salesforce users could not be loaded ({exc.message}). The current owners stay; "
            "try again in a few minutes, or reconnect Salesforce if this persists."
        )
    finally:
        sf.close()
    cache.set(key, users, SF_USERS_CACHE_SECONDS)
    return users, ""


def set_security_owner(cm_client: CMClient, owner_id: str, users: list[dict], *, user) -> CMClient:
    """Make an active Salesforce user the owner of the records cmsync creates for a client
    (audited), and queue the job that re-owns the client's records already in Salesforce."""
    match = next((u for u in users if u.get("Id") == owner_id and u.get("IsActive", True)), None)
    if match is None:
        raise ConnectError("Choose an active Salesforce user.")
    before = cm_client.security_owner_name
    before_id = cm_client.security_owner_id
    cm_client.security_owner_id = match["Id"]
    cm_client.security_owner_name = match.get("Name", "")
    cm_client.save(update_fields=["security_owner_id", "security_owner_name"])
    _audit(
        user,
        f"Salesforce Security Owner of {cm_client.name}",
        before,
        cm_client.security_owner_name,
    )
    if before_id != cm_client.security_owner_id:
        start_reown(cm_client, cm_client.security_owner_id, user)
    return cm_client


def _default_security_owners(connection: Connection) -> None:
    if connection.sf_sync_user_id:
        connection.clients.filter(security_owner_id="").update(
            security_owner_id=connection.sf_sync_user_id,
            security_owner_name=connection.sf_sync_user_name,
        )
