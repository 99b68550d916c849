"""The live tracking panel: one address's lists and tracking history, read from Campaign Monitor.

Nothing here reads Salesforce or cmsync's stored tracking history: the panel is for orgs that
keep few (or no) days of history in Salesforce, so it asks Campaign Monitor. Failures
come back as words in :attr:`TrackingPanel.error` (the page never fails with a 500).

Answers are kept briefly and fresh look-ups are limited per person
(:mod:`sync.services.live_reads`): reloading the panel asks Campaign Monitor nothing.

The embeddable frame lives in Salesforce pages, another site, where the console's session
cookie (SameSite=Lax) is not sent. This module owns the two rules that make it work there:

- who may frame it (:func:`embed_frame_ancestors`): the connected org's own domains, derived
  from its instance URL, plus ``CMSYNC_EMBED_FRAME_ANCESTORS``; nobody else;
- who is looking (:func:`embed_token`, :func:`embed_token_user`): a token signed with the
  secret key (``django.core.signing``, which stamps the issue time) naming the user and tied to
  their password, valid ``CMSYNC_EMBED_TOKEN_HOURS``. The embed's views keep it in a cookie of
  its own that grants reading the embed and nothing else.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from lib.origins import origin_or_none
from sync.clients.campaign_monitor import CampaignMonitorClient
from sync.clients.errors import ApiError, AuthError, NotFound, RateLimited, TransientError
from sync.models import CMClient, Connection
from sync.services.api import campaign_monitor_client
from sync.services.live_reads import live_read

logger = logging.getLogger(__name__)

CM_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
# An interactive page should answer within seconds, not sit through a sync run's retries.
PANEL_MAX_RETRIES = 2

UNREACHABLE = "Campaign Monitor could not be reached; try again in a minute."
RECONNECT = "Campaign Monitor rejected cmsync's credentials: reconnect needed."
NOT_SUBSCRIBER = "This address is not a subscriber of any synced list."
NOT_CONNECTED = "Connect Campaign Monitor first: the panel reads tracking history live from it."
NO_CLIENTS = "No Campaign Monitor clients are selected for sync, so there are no lists to search."


class PanelError:
    """What went wrong, as a short key the templates and tests can switch on."""

    UNREACHABLE = "unreachable"
    RECONNECT = "reconnect"
    NOT_SUBSCRIBER = "not_subscriber"
    NOT_CONNECTED = "not_connected"
    NO_CLIENTS = "no_clients"
    REFUSED = "refused"


@dataclass
class ListMembership:
    """One list of one client that holds the address, in whatever state."""

    client_name: str
    list_id: str
    list_name: str
    state: str
    added: dt.datetime | None


@dataclass
class TrackingAction:
    """One thing the subscriber did with one campaign or journey email."""

    when: dt.datetime | None
    event: str
    detail: str
    ip_address: str
    source_type: str
    source_name: str
    client_name: str
    list_name: str

    @property
    def detail_is_url(self) -> bool:
        return self.detail.startswith(("http://", "https://"))


@dataclass
class TrackingPanel:
    """Everything the panel shows for one address."""

    email: str
    memberships: list[ListMembership] = field(default_factory=list)
    actions: list[TrackingAction] = field(default_factory=list)
    clients_searched: list[str] = field(default_factory=list)
    error: str = ""
    error_kind: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def parse_cm_date(value: str | None) -> dt.datetime | None:
    """CM's ``YYYY-MM-DD HH:MM[:SS]`` (the account's local time) as a naive datetime."""
    for pattern in CM_DATE_FORMATS:
        try:
            return dt.datetime.strptime(str(value or "").strip(), pattern)
        except ValueError:
            continue
    return None


def tracking_panel(connection: Connection | None, email: str, user=None) -> TrackingPanel:
    """The address's lists and history for every selected client, read live from CM (or kept
    from a read in the last minute); raises ``TooManyLiveReads`` past ``user``'s limit."""
    panel = TrackingPanel(email=email)
    if connection is None or not connection.cm_connected:
        return _failed(panel, PanelError.NOT_CONNECTED, NOT_CONNECTED)
    clients = list(connection.clients.filter(selected=True).order_by("name"))
    if not clients:
        return _failed(panel, PanelError.NO_CLIENTS, NO_CLIENTS)
    return live_read(
        connection,
        user,
        "tracking-panel",
        (email,),
        lambda: _read_live(connection, clients, email),
        keep=_worth_keeping,
    )


def _worth_keeping(panel: TrackingPanel) -> bool:
    """Answers are kept; failures to get one (outage, credentials) are not."""
    return panel.ok or panel.error_kind == PanelError.NOT_SUBSCRIBER


def _read_live(connection: Connection, clients: list[CMClient], email: str) -> TrackingPanel:
    panel = TrackingPanel(email=email)
    try:
        with campaign_monitor_client(connection) as cm:
            cm.max_retries = PANEL_MAX_RETRIES
            for client in clients:
                panel.clients_searched.append(client.name)
                _read_client(cm, client, panel)
    except AuthError:
        return _failed(panel, PanelError.RECONNECT, RECONNECT)
    except (TransientError, RateLimited, OSError) as exc:
        # requests' connection errors are OSErrors; the client wraps most of them already.
        logger.info("tracking panel: Campaign Monitor unreachable (%s)", type(exc).__name__)
        return _failed(panel, PanelError.UNREACHABLE, UNREACHABLE)
    except ApiError as exc:
        return _failed(panel, PanelError.REFUSED, f"Campaign Monitor refused the lookup: {exc}")
    if not panel.memberships:
        return _failed(panel, PanelError.NOT_SUBSCRIBER, NOT_SUBSCRIBER)
    panel.actions = _newest_first(_unique(panel.actions))
    return panel


def _failed(panel: TrackingPanel, kind: str, words: str) -> TrackingPanel:
    panel.error_kind = kind
    panel.error = words
    panel.memberships = []
    panel.actions = []
    return panel


def _read_client(cm: CampaignMonitorClient, client: CMClient, panel: TrackingPanel) -> None:
    try:
        found = cm.get_lists_for_email(client.cm_client_id, panel.email)
    except NotFound:
        # The client was removed in CM since it was selected; the others still count.
        logger.info("tracking panel: CM client %s not found", client.cm_client_id)
        return
    for item in found:
        membership = ListMembership(
            client_name=client.name,
            list_id=str(item.get("ListID") or ""),
            list_name=str(item.get("ListName") or ""),
            state=str(item.get("SubscriberState") or ""),
            added=parse_cm_date(item.get("DateSubscriberAdded")),
        )
        panel.memberships.append(membership)
        panel.actions.extend(_history(cm, membership, panel.email))


def _history(cm: CampaignMonitorClient, membership: ListMembership, email: str):
    try:
        history = cm.get_subscriber_history(membership.list_id, email)
    except NotFound:
        return []  # removed from the list between the two calls
    return [
        TrackingAction(
            when=parse_cm_date(action.get("Date")),
            event=str(action.get("Event") or ""),
            detail=str(action.get("Detail") or ""),
            ip_address=str(action.get("IPAddress") or ""),
            source_type=str(entry.get("Type") or "Campaign"),
            source_name=str(entry.get("Name") or ""),
            client_name=membership.client_name,
            list_name=membership.list_name,
        )
        for entry in history or []
        for action in entry.get("Actions") or []
    ]


def _unique(actions: list[TrackingAction]) -> list[TrackingAction]:
    """One row per action: a campaign sent to two of the address's lists reports it twice."""
    seen: set[tuple] = set()
    kept = []
    for action in actions:
        key = (action.source_type, action.source_name, action.event, action.when, action.detail)
        if key not in seen:
            seen.add(key)
            kept.append(action)
    return kept


def _newest_first(actions: list[TrackingAction]) -> list[TrackingAction]:
    return sorted(actions, key=lambda a: a.when or dt.datetime.min, reverse=True)


# The embed: who may frame it ---------------------------------------------------------------
# A My Domain host: NAME.my.salesforce.com, or NAME.KIND.my.salesforce.com for sandboxes,
# Developer Editions, scratch orgs and the like (enhanced domains). NAME may hold "--" (sandboxes).
MY_DOMAIN = re.compile(
    r"^(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\."
    r"(?:(?P<kind>sandbox|develop|scratch|patch|trailblaze|demo)\.)?my\.salesforce\.com$"
)


def salesforce_origins(instance_url: str) -> list[str]:
    """The origins of a Salesforce org's pages, from its instance URL.

    A My Domain (``https://acme.my.salesforce.com``) gives its Classic, Lightning and
    Visualforce origins (``https://acme.my.salesforce.com``, ``https://acme.lightning.force.com``,
    ``https://acme--c.vf.force.com``); a sandbox's ``acme--dev.sandbox.my.salesforce.com`` gives
    ``…sandbox.lightning.force.com`` and ``acme--dev--c.sandbox.vf.force.com``. Any other
    instance (no My Domain) gives its own origin only, and a URL that is not a plain https
    origin gives none.
    """
    origin = origin_or_none(instance_url)
    if origin is None:
        return []
    parts = urlsplit(origin)
    match = MY_DOMAIN.match(parts.hostname or "")
    if match is None or parts.port:
        return [origin]
    name, kind = match["name"], match["kind"]
    dotted = f"{kind}." if kind else ""
    return [
        origin,
        f"https://{name}.{dotted}lightning.force.com",
        f"https://{name}--c.{dotted}vf.force.com",
    ]


def embed_frame_ancestors(connection: Connection | None) -> list[str]:
    """Who may frame the embed: the connected org's origins and the configured extra ones
    (``CMSYNC_EMBED_FRAME_ANCESTORS``, checked when settings load); empty means nobody."""
    derived = salesforce_origins(connection.sf_instance_url if connection else "")
    return list(dict.fromkeys([*derived, *settings.CMSYNC_EMBED_FRAME_ANCESTORS]))


# The embed: who is looking -----------------------------------------------------------------
EMBED_TOKEN_SALT = "cmsync.tracking-embed"


def embed_token_max_age() -> int:
    """Seconds an embed token (and its cookie) lasts."""
    return settings.CMSYNC_EMBED_TOKEN_HOURS * 3600


def embed_token(user) -> str:
    """A signed token naming ``user``, stamped with the time it was issued."""
    return signing.dumps({"user": user.pk, "auth": _auth_check(user)}, salt=EMBED_TOKEN_SALT)


def embed_token_user(token: str):
    """The active user a token names, if it is genuine, younger than the maximum age and
    issued since their password last changed; otherwise None."""
    if not token:
        return None
    try:
        claims = signing.loads(token, salt=EMBED_TOKEN_SALT, max_age=embed_token_max_age())
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(claims, dict):
        return None
    user = get_user_model().objects.filter(pk=claims.get("user"), is_active=True).first()
    if user is None or not constant_time_compare(str(claims.get("auth")), _auth_check(user)):
        return None
    return user


def _auth_check(user) -> str:
    """Changes when the password does (as sessions are ended then); not the hash itself."""
    return salted_hmac(EMBED_TOKEN_SALT, user.get_session_auth_hash()).hexdigest()[:24]
