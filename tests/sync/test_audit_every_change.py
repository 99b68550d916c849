"""Every settings-changing path writes its audit entry: one per setting it changes.

Each path below is what a person (or a script) does: a form posted on a screen, a connect,
reconnect or disconnect (by API key, or through the sandboxes' OAuth pages), a standing
field mapping changed, the ``connect`` command. The walk checks the entries written from the
moment the change is made (set-up before it is not counted): area, setting, before → after,
and who.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from campaigns.models import SyncedCampaign
from campaigns.services.links import link_campaign
from cmsync.roles import ACCESS_ATTRIBUTE, Access
from maintenance.models import AuditEntry
from sync.forms.settings import ConfirmForm
from sync.models import CMClient, Connection, EmailType, StandingMapping
from sync.services import import_wizard
from sync.services.api import salesforce_client
from tests.sync.conftest import connect_both

pytestmark = pytest.mark.django_db

SANDBOX_ADMIN = "Sandbox Admin"
AGENCY_CLIENTS = ("Bluegum Health Clinics", "Harbour Lane Coffee", "Northwind Outdoor Co.")
ALL_CLIENTS = ", ".join(AGENCY_CLIENTS)


@dataclass
class World:
    """The admin's browser, the sandboxes, and where the change under test starts."""

    client: object
    admin_username: str
    cm: object
    sf: object
    who: str = ""
    first_pk: int = field(default=0)
    _connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = connect_both(self.cm, self.sf)
        self._connection.refresh_from_db()
        return self._connection

    def change_starts_here(self) -> None:
        """Entries written from now on belong to the change under test."""
        last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.first_pk = (last or 0) + 1

    def new_entries(self) -> list[AuditEntry]:
        return list(AuditEntry.objects.filter(pk__gte=self.first_pk).order_by("pk"))

    def post(self, name: str, data: dict | None = None, **kwargs):
        response = self.client.post(reverse(name, kwargs=kwargs or None), data or {})
        assert response.status_code == 302, response.content.decode()[:500]
        return response

    def oauth_round_trip(self, start_name: str, data: dict | None = None) -> None:
        """Start cmsync's OAuth flow, let the sandbox approve it, call cmsync's callback."""
        start = self.post(start_name, data)
        answer = requests.get(
            start["Location"], verify=self.cm.ca_file, allow_redirects=False, timeout=10
        )
        assert answer.status_code == 302, answer.text
        back = urlsplit(answer.headers["Location"])
        response = self.client.get(f"{back.path}?{back.query}")
        assert response.status_code == 302

    def client_id(self, name: str) -> str:
        return CMClient.objects.get(connection=self.connection, name=name).cm_client_id


Expected = tuple[str, str, str, str]  # area, setting, before, after
Path = Callable[[World], list[Expected]]


def cm_connection(before: str, after: str) -> Expected:
    return ("Sync Settings", "Campaign Monitor connection", before, after)


# Campaign Monitor: connect, choose clients, reconnect, disconnect -----------------------------
def connect_cm_with_an_api_key(world: World) -> list[Expected]:
    world.change_starts_here()
    world.post("sync-connect-cm", {"api_key": world.cm.api_key})
    after = "connected by API key; clients to sync: none chosen yet"
    return [cm_connection("not connected", after)]


def connect_cm_with_oauth(world: World) -> list[Expected]:
    world.change_starts_here()
    world.oauth_round_trip("sync-connect-cm-oauth")
    after = "connected by OAuth; clients to sync: none chosen yet"
    return [cm_connection("not connected", after)]


def choose_clients_on_the_connect_page(world: World) -> list[Expected]:
    world.post("sync-connect-cm", {"api_key": world.cm.api_key})  # an agency account
    world.change_starts_here()
    coffee = world.client_id("Harbour Lane Coffee")
    world.post("sync-connect-cm-clients", {"clients": [coffee]})
    return [("Sync Settings", "Clients to sync", "(none)", "Harbour Lane Coffee")]


def reconnect_cm_with_an_api_key(world: World) -> list[Expected]:
    everyone = [world.client_id(name) for name in AGENCY_CLIENTS]
    world.change_starts_here()
    world.post("sync-settings-reconnect", {"api_key": world.cm.api_key, "clients": everyone})
    return [
        cm_connection(
            f"connected by API key; clients to sync: {ALL_CLIENTS}",
            f"reconnected by API key; clients to sync: {ALL_CLIENTS}",
        )
    ]


def reconnect_cm_with_oauth(world: World) -> list[Expected]:
    everyone = [world.client_id(name) for name in AGENCY_CLIENTS]
    world.change_starts_here()
    world.oauth_round_trip("sync-connect-cm-oauth", {"purpose": "reconnect"})
    assert world.new_entries() == []  # authorised; nothing changes before the clients are kept
    world.post("sync-settings-reconnect", {"clients": everyone})
    return [
        cm_connection(
            f"connected by API key; clients to sync: {ALL_CLIENTS}",
            f"reconnected by OAuth; clients to sync: {ALL_CLIENTS}",
        )
    ]


def disconnect_cm(world: World) -> list[Expected]:
    assert world.connection.cm_connected
    world.change_starts_here()
    world.post("sync-settings-disconnect", {"confirm": ConfirmForm.DISCONNECT})
    return [cm_connection(f"connected by API key; clients to sync: {ALL_CLIENTS}", "disconnected")]


# Salesforce: connect, change the sync user ----------------------------------------------------
def connect_sf_with_oauth(world: World) -> list[Expected]:
    world.change_starts_here()
    world.oauth_round_trip("sync-connect-sf")
    instance = Connection.objects.get().sf_instance_url
    after = f"connected to {instance} as {SANDBOX_ADMIN}"
    return [("Sync Settings", "Salesforce connection", "not connected", after)]


def change_the_sf_sync_user(world: World) -> list[Expected]:
    assert world.connection.sf_sync_user_name == SANDBOX_ADMIN
    world.change_starts_here()
    world.oauth_round_trip("sync-settings-change-sync-user")
    after = f"{SANDBOX_ADMIN} (signed in again)"
    return [("Sync Settings", "Salesforce Sync User", SANDBOX_ADMIN, after)]


# Sync Settings ------------------------------------------------------------------------------
def change_the_frequency(world: World) -> list[Expected]:
    assert world.connection
    world.change_starts_here()
    world.post("sync-settings-frequency", {"frequency": "240"})
    return [("Sync Settings", "Import frequency", "Hourly (recommended)", "Every 4 hours")]


def turn_sync_off(world: World) -> list[Expected]:
    assert world.connection.sync_enabled
    world.change_starts_here()
    world.post("sync-settings-turn-off")
    return [("Sync Settings", "Sync", "on", "off")]


def turn_sync_on(world: World) -> list[Expected]:
    Connection.objects.filter(pk=world.connection.pk).update(sync_enabled=False)
    world.change_starts_here()
    world.post("sync-settings-turn-on")
    return [("Sync Settings", "Sync", "off", "on")]


def change_a_security_owner(world: World) -> list[Expected]:
    coffee = CMClient.objects.get(connection=world.connection, name="Harbour Lane Coffee")
    assert coffee.security_owner_name == SANDBOX_ADMIN
    with salesforce_client(world.connection) as sf:
        maria = next(u for u in sf.users(active_only=True) if u["Name"] == "Maria Lopez")
    world.change_starts_here()
    world.post("sync-settings-security-owner", {"owner": maria["Id"]}, client_id=coffee.pk)
    setting = "Salesforce Security Owner of Harbour Lane Coffee"
    return [("Sync Settings", setting, SANDBOX_ADMIN, "Maria Lopez")]


def select_clients_on_sync_settings(world: World) -> list[Expected]:
    two = AGENCY_CLIENTS[1:]
    ids = [world.client_id(name) for name in two]
    world.change_starts_here()
    world.post("sync-settings-select-clients", {"clients": ids})
    return [("Sync Settings", "Clients to sync", ALL_CLIENTS, ", ".join(two))]


# General Options and Storage ------------------------------------------------------------------
def save_general_options(world: World) -> list[Expected]:
    assert world.connection
    world.change_starts_here()
    # The first two options are on for a new connection; they stay on.
    world.post(
        "sync-options", {"email_opt_sync": "on", "trigger_journeys": "on", "account_trigger": "on"}
    )
    return [("General Options", "Email opt in/out", "off", "on")]


def save_tracking_history(world: World) -> list[Expected]:
    assert world.connection
    world.change_starts_here()
    world.post(
        "sync-storage-tracking", {"days_to_keep": "365", "email_types_to_keep": EmailType.values}
    )
    return [("Storage", "Days to keep", "180", "365")]


def turn_campaign_member_aggregates_on(world: World) -> list[Expected]:
    assert world.connection
    world.change_starts_here()
    world.post("sync-storage-aggregates", {"campaign_member_aggregates": "on"})
    return [("Storage", "Campaign member aggregates", "off", "on")]


# Field mappings -----------------------------------------------------------------------------
def import_kept_in_step(world: World) -> list[Expected]:
    available = import_wizard.choices(world.connection)
    source = next(s for s in available.sources if s.label == "All Open Leads")
    destination = available.destinations[0]
    url = (
        reverse("sync-import-map")
        + "?"
        + urlencode({"source": source.key, "list": destination.key})
    )
    world.change_starts_here()
    data = {"email": "Email", "name": "Name", "consent_to_track": "Yes", "keep_in_step": "on"}
    response = world.client.post(url, data)
    assert response.status_code == 302  # the import waits for the commit that never comes here
    mapping = StandingMapping.objects.get()
    return [("Field mappings", str(mapping), "—", "kept in step")]


def _standing_mapping(world: World, *, active: bool) -> StandingMapping:
    """A standing mapping made directly (as set-up, without an audit entry)."""
    return StandingMapping.objects.create(
        connection=world.connection,
        cm_client=world.connection.clients.get(name="Harbour Lane Coffee"),
        list_id="list-1",
        list_name="Newsletter",
        source_object="Contact",
        source_id="00B000000000001",
        source_name="All Contacts",
        active=active,
    )


def pause_a_standing_mapping(world: World) -> list[Expected]:
    mapping = _standing_mapping(world, active=True)
    world.change_starts_here()
    world.post("sync-standing-mapping", mapping_id=mapping.pk, action="pause")
    return [("Field mappings", str(mapping), "kept in step", "paused")]


def resume_a_standing_mapping(world: World) -> list[Expected]:
    mapping = _standing_mapping(world, active=False)
    world.change_starts_here()
    world.post("sync-standing-mapping", mapping_id=mapping.pk, action="resume")
    return [("Field mappings", str(mapping), "paused", "kept in step")]


def delete_a_standing_mapping(world: World) -> list[Expected]:
    mapping = _standing_mapping(world, active=True)
    world.change_starts_here()
    world.post("sync-standing-mapping", mapping_id=mapping.pk, action="delete")
    return [("Field mappings", str(mapping), "kept in step", "deleted")]


# Salesforce Campaigns -------------------------------------------------------------------------
def _synced_campaign(world: World):
    """A campaign as a sync leaves it in cmsync (set-up, no audit entry)."""
    return SyncedCampaign.objects.create(
        connection=world.connection,
        cm_client=world.connection.clients.first(),
        cm_campaign_id="cm-campaign-1",
        name="Spring",
        sent_at=timezone.now(),
        recipients=10,
    )


def save_campaign_settings(world: World) -> list[Expected]:
    assert world.connection
    world.change_starts_here()
    world.post("campaigns-settings", {"auto_create": "on"})
    return [("Salesforce Campaigns", "Auto-create Salesforce Campaigns", "off", "on")]


def save_member_statuses(world: World) -> list[Expected]:
    assert world.connection
    world.change_starts_here()
    world.post(
        "campaigns-statuses",
        {
            "auto_create_statuses": "on",
            "use_clicked": "on",
            "label_clicked": "Clicked",
            "rank_clicked": "1",
            "use_opened": "on",
            "label_opened": "Opened",
            "rank_opened": "2",
            "use_sent": "on",
            "label_sent": "Sent",
            "rank_sent": "3",
        },
    )
    return [
        ("Salesforce Campaigns", "Auto-create member statuses", "off", "on"),
        (
            "Salesforce Campaigns",
            "Member status map",
            "Clicked → Responded > Opened → Responded > Sent → Sent",
            "Clicked → Clicked > Opened → Opened > Sent → Sent",
        ),
    ]


def link_a_campaign_by_hand(world: World) -> list[Expected]:
    campaign = _synced_campaign(world)
    sf_campaign = world.sf.salesforce().Campaign.create({"Name": "Spring newsletter"})["id"]
    world.change_starts_here()
    world.post(
        "campaigns-link", {"sf_campaign_id": sf_campaign}, cm_campaign_id=campaign.cm_campaign_id
    )
    return [
        (
            "Salesforce Campaigns",
            "Link of 'Spring'",
            "(not linked)",
            f"Spring newsletter ({sf_campaign})",
        )
    ]


def unlink_a_campaign(world: World) -> list[Expected]:
    campaign = _synced_campaign(world)
    sf_campaign = world.sf.salesforce().Campaign.create({"Name": "Spring newsletter"})["id"]
    link_campaign(world.connection, campaign.cm_campaign_id, sf_campaign, None)
    world.change_starts_here()
    world.post("campaigns-unlink", cm_campaign_id=campaign.cm_campaign_id)
    return [
        (
            "Salesforce Campaigns",
            "Link of 'Spring'",
            f"Spring newsletter ({sf_campaign})",
            "(not linked)",
        )
    ]


def start_the_campaign_backfill(world: World) -> list[Expected]:
    _synced_campaign(world)
    world.change_starts_here()
    world.post("campaigns-backfill")
    return [
        (
            "Salesforce Campaigns",
            "Backfill of Salesforce Campaigns",
            "",
            "started for 1 campaign(s)",
        )
    ]


def save_the_campaign_filter(world: World) -> list[Expected]:
    assert world.connection
    world.change_starts_here()
    world.post(
        "campaigns-filter", {"filter_active": "on", "start_date": "2026-01-01", "tags": "Sale"}
    )
    return [
        ("Salesforce Campaigns", "Campaign filter", "off", "on"),
        ("Salesforce Campaigns", "Campaign filter: start date", "(none)", "2026-01-01"),
        ("Salesforce Campaigns", "Campaign filter: tags", "(none)", "Sale"),
    ]


def choose_benchmark_industries(world: World) -> list[Expected]:
    cm_client = world.connection.clients.filter(selected=True).first()
    world.change_starts_here()
    world.post(
        "campaigns-benchmarks",
        {"account_industry": "Retail", f"client_{cm_client.pk}": "Nonprofit"},
    )
    return [
        ("Salesforce Campaigns", "Benchmark industry", "All industries", "Retail"),
        (
            "Salesforce Campaigns",
            f"Benchmark industry of {cm_client.name}",
            "(the account's industry)",
            "Nonprofit",
        ),
    ]


# Commands -----------------------------------------------------------------------------------
def connect_command(world: World) -> list[Expected]:
    """One command, two changes (each side's connection): one entry for each."""
    cm, sf = world.cm, world.sf
    world.change_starts_here()
    call_command(
        "connect",
        cm_base_url=cm.api_base,
        cm_api_key=cm.api_key,
        sf_instance_url=sf.url,
        sf_username=sf.username,
        sf_password=sf.password,
        sf_client_id=sf.client_id,
        sf_client_secret=sf.client_secret,
        clients="all",
        stdout=StringIO(),
    )
    world.who = "manage.py connect"
    instance = Connection.objects.get().sf_instance_url
    return [
        cm_connection("not connected", f"connected by API key; clients to sync: {ALL_CLIENTS}"),
        (
            "Sync Settings",
            "Salesforce connection",
            "not connected",
            f"connected to {instance} as {SANDBOX_ADMIN}",
        ),
    ]


PATHS: list[Path] = [
    connect_cm_with_an_api_key,
    connect_cm_with_oauth,
    choose_clients_on_the_connect_page,
    reconnect_cm_with_an_api_key,
    reconnect_cm_with_oauth,
    disconnect_cm,
    connect_sf_with_oauth,
    change_the_sf_sync_user,
    change_the_frequency,
    turn_sync_off,
    turn_sync_on,
    change_a_security_owner,
    select_clients_on_sync_settings,
    save_general_options,
    save_tracking_history,
    turn_campaign_member_aggregates_on,
    import_kept_in_step,
    pause_a_standing_mapping,
    resume_a_standing_mapping,
    delete_a_standing_mapping,
    save_campaign_settings,
    save_member_statuses,
    link_a_campaign_by_hand,
    unlink_a_campaign,
    start_the_campaign_backfill,
    save_the_campaign_filter,
    choose_benchmark_industries,
    connect_command,
]


@pytest.fixture
def world(settings, sandbox_settings, cm_sandbox, sf_sandbox, admin_client, admin_user) -> World:
    settings.CM_OAUTH_CLIENT_ID = cm_sandbox.oauth_client_id
    settings.CM_OAUTH_CLIENT_SECRET = cm_sandbox.oauth_client_secret
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return World(admin_client, admin_user.username, cm_sandbox, sf_sandbox)


@pytest.mark.parametrize("path", PATHS, ids=[path.__name__ for path in PATHS])
def test_each_settings_change_writes_one_audit_entry_per_setting(world, path):
    expected = path(world)
    entries = world.new_entries()
    assert [(e.area, e.setting, e.before, e.after) for e in entries] == expected
    who = world.who or world.admin_username
    assert {e.username for e in entries} == {who}
    if who == world.admin_username:
        assert all(e.user is not None for e in entries)
    else:
        assert all(e.user is None for e in entries)  # a command: named, no console user


def test_the_walk_covers_every_change_view():
    """A new view that changes things needs a path above, or a reason to be left out."""
    walked = {
        "sync-connect-cm",
        "sync-connect-cm-oauth",
        "sync-connect-cm-callback",
        "sync-connect-cm-clients",
        "sync-settings-reconnect",
        "sync-settings-disconnect",
        "sync-connect-sf",
        "sync-connect-sf-callback",
        "sync-settings-change-sync-user",
        "sync-settings-frequency",
        "sync-settings-turn-off",
        "sync-settings-turn-on",
        "sync-settings-security-owner",
        "sync-settings-select-clients",
        "sync-options",
        "sync-storage-tracking",
        "sync-storage-aggregates",
        "sync-import-map",
        "sync-standing-mapping",
        "campaigns-settings",
        "campaigns-statuses",
        "campaigns-link",
        "campaigns-unlink",
        "campaigns-backfill",
        "campaigns-filter",
        "campaigns-benchmarks",
    }
    # Changes no setting: starts a sync run or an import.
    not_settings = {"sync-settings-sync-now", "sync-settings-full-sync", "sync-import-run-again"}
    changing = {
        name
        for name, view in _views(get_resolver().url_patterns)
        if getattr(view, ACCESS_ATTRIBUTE, None) == Access.CHANGE
    }
    assert changing - walked - not_settings == set()


def _views(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver) and entry.namespace != "admin":
            yield from _views(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield entry.name, entry.callback
