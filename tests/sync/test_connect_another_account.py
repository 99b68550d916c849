"""Disconnect, then connect Campaign Monitor again: the same account keeps its configuration; a
different account starts from a clean client selection, says so, and the earlier account's
clients stay listed (their records stay in Salesforce) as belonging to a disconnected account.

"Another account" is a second CM sandbox seeded differently (its clients have other ids, but
the same names: the names prove nothing, the ids do).
"""

from __future__ import annotations

import html
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from sync.forms.connect import ReconnectForm
from sync.forms.settings import ConfirmForm
from sync.models import CMClient, Connection, RunStatus, SyncCursor
from sync.services.connect import (
    connect_campaign_monitor,
    disconnect_campaign_monitor,
    reconnect_campaign_monitor,
)
from sync.services.runs import run_inline

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/sync/settings/"
DIFFERENT = "This is a different Campaign Monitor account from the one disconnected"


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def other_account(make_cm_sandbox, cm_sandbox):
    """A second Campaign Monitor account: an agency with three clients of its own."""
    other = make_cm_sandbox(
        seed="demo", subscribers=12, events=30, random_seed=2, cm_api_key="other-account-key"
    )
    assert other.ca_file == cm_sandbox.ca_file
    mine = {c["ClientID"] for c in cm_sandbox.call("GET", "/clients.json").json()}
    theirs = {c["ClientID"] for c in other.call("GET", "/clients.json").json()}
    assert mine and theirs and not mine & theirs
    return other


def text(response) -> str:
    return html.unescape(response.content.decode())


def checkbox_values(body: str, name: str = "clients") -> set[str]:
    return set(re.findall(rf'type="checkbox" name="{name}" value="([^"]+)"', body))


def disconnect(admin_client) -> None:
    response = admin_client.post(
        reverse("sync-settings-disconnect"), {"confirm": ConfirmForm.DISCONNECT}
    )
    assert response.status_code == 302


def connect_with_key(admin_client, settings, sandbox, key: str):
    settings.CM_API_BASE_URL = sandbox.api_base
    return admin_client.post(reverse("sync-connect-cm"), {"api_key": key}, follow=True)


def test_connecting_another_account_starts_from_a_clean_selection(
    admin_client, connection, settings, sf_sandbox, other_account
):
    first = run_inline(connection)
    assert first.status == RunStatus.SUCCEEDED
    old_ids = set(connection.clients.values_list("cm_client_id", flat=True))
    synced_before = {r["CM_Key__c"] for r in sf_sandbox.app.records("CMS_Client__c")}
    assert synced_before == old_ids

    disconnect(admin_client)
    response = connect_with_key(admin_client, settings, other_account, "other-account-key")
    body = text(response)
    assert DIFFERENT in body
    assert "no client is selected" in body
    assert response.redirect_chain[-1][0] == reverse("sync-connect-cm-clients")

    connection.refresh_from_db()
    new_ids = set(connection.current_clients().values_list("cm_client_id", flat=True))
    assert len(new_ids) == 3 and not new_ids & old_ids
    assert not connection.clients.filter(selected=True).exists()  # a clean selection
    former = CMClient.objects.filter(cm_client_id__in=old_ids)
    assert former.count() == 3
    assert all(c.disconnected_account_at and not c.selected for c in former)
    assert not any(c.connection_active for c in former)

    # Select Clients offers the new account's clients only.
    page = text(admin_client.get(reverse("sync-connect-cm-clients")))
    assert checkbox_values(page) == new_ids
    chosen = sorted(new_ids)[0]
    admin_client.post(reverse("sync-connect-cm-clients"), {"clients": [chosen]})
    assert set(connection.clients.filter(selected=True).values_list("cm_client_id", flat=True)) == {
        chosen
    }

    # A run syncs the new account's chosen client and nothing of the old one.
    run = run_inline(Connection.objects.get())
    assert run.status == RunStatus.SUCCEEDED, run.error_summary
    assert set(run.client_jobs.values_list("cm_client__cm_client_id", flat=True)) == {chosen}

    # The old account's records stay in Salesforce.
    synced_after = {r["CM_Key__c"] for r in sf_sandbox.app.records("CMS_Client__c")}
    assert synced_after == old_ids | {chosen}

    # Sync Settings lists the old clients as belonging to a disconnected account; Select
    # Clients (the dialog) offers the new account's only.
    page = text(admin_client.get(SETTINGS_URL))
    former_section = page.split('data-testid="disconnected-account-clients"')[1].split(
        "</section>"
    )[0]
    for client in former:
        assert client.name in former_section
    assert "stay in Salesforce" in former_section
    assert checkbox_values(page) == new_ids
    clients_table = page.split('data-testid="cm-clients"')[1].split("</table>")[0]
    assert f'data-testid="client-row-{chosen}"' in clients_table
    assert not any(f"client-row-{old}" in clients_table for old in old_ids)


def test_connecting_another_single_client_account_selects_its_client_and_says_so(
    admin_client, connection, settings, cm_empty_sandbox
):
    old_ids = set(connection.clients.values_list("cm_client_id", flat=True))
    disconnect(admin_client)
    body = text(
        connect_with_key(admin_client, settings, cm_empty_sandbox, cm_empty_sandbox.api_key)
    )
    assert DIFFERENT in body
    connection.refresh_from_db()
    assert list(connection.clients.filter(selected=True).values_list("name", flat=True)) == [
        "Sandbox Client"
    ]
    assert (
        set(
            connection.clients.exclude(disconnected_account_at=None).values_list(
                "cm_client_id", flat=True
            )
        )
        == old_ids
    )


def test_reconnecting_the_same_account_keeps_its_configuration(
    admin_client, connection, settings, cm_sandbox
):
    clients = list(connection.clients.order_by("name"))
    connection.clients.filter(pk=clients[0].pk).update(selected=False)
    CMClient.objects.filter(pk=clients[1].pk).update(
        security_owner_id="005000000000OWN", security_owner_name="Maria Lopez"
    )
    cursor = SyncCursor.objects.create(cm_client=clients[1], stream="lists", marker="m")
    disconnect(admin_client)

    body = text(connect_with_key(admin_client, settings, cm_sandbox, cm_sandbox.api_key))
    assert DIFFERENT not in body
    assert "Connected to Campaign Monitor" in body
    connection.refresh_from_db()
    assert not connection.clients.exclude(disconnected_account_at=None).exists()
    assert set(connection.clients.filter(selected=True)) == set(clients[1:])
    owner = CMClient.objects.get(pk=clients[1].pk)
    assert owner.security_owner_name == "Maria Lopez" and owner.connection_active
    assert SyncCursor.objects.filter(pk=cursor.pk).exists()


def test_switching_back_to_the_first_account_starts_clean_again(
    connection, settings, cm_sandbox, other_account
):
    old_ids = set(connection.clients.values_list("cm_client_id", flat=True))
    disconnect_campaign_monitor(connection, user=None)
    connect_campaign_monitor(
        connection, user=None, base_url=other_account.api_base, api_key="other-account-key"
    )
    new_ids = set(connection.current_clients().values_list("cm_client_id", flat=True))
    disconnect_campaign_monitor(connection, user=None)
    connect_campaign_monitor(
        connection, user=None, base_url=cm_sandbox.api_base, api_key=cm_sandbox.api_key
    )
    assert set(connection.current_clients().values_list("cm_client_id", flat=True)) == old_ids
    assert not connection.clients.filter(selected=True).exists()
    assert (
        set(
            connection.clients.exclude(disconnected_account_at=None).values_list(
                "cm_client_id", flat=True
            )
        )
        == new_ids
    )


def test_reconnect_form_ignores_the_disconnected_accounts_clients(
    connection, cm_sandbox, other_account
):
    """Reconnect (new credentials for the current account) asks about its clients only, and
    deleting a client left out never touches the disconnected account's."""
    old_ids = set(connection.clients.values_list("cm_client_id", flat=True))
    disconnect_campaign_monitor(connection, user=None)
    connect_campaign_monitor(
        connection,
        user=None,
        base_url=other_account.api_base,
        api_key="other-account-key",
        select="all",
    )
    new_ids = set(connection.current_clients().values_list("cm_client_id", flat=True))
    form = ReconnectForm(connection)
    assert {value for value, _ in form.fields["clients"].choices} == new_ids
    keep = sorted(new_ids)[:2]
    connection.cm_base_url = other_account.api_base
    reconnect_campaign_monitor(
        connection, api_key="other-account-key", keep_client_ids=keep, user=None
    )
    assert (
        set(
            CMClient.objects.filter(cm_client_id__in=old_ids).values_list("cm_client_id", flat=True)
        )
        == old_ids
    )


@pytest.mark.django_db(transaction=True)
def test_connect_command_says_it_connected_another_account(
    sandbox_settings, cm_sandbox, sf_sandbox, other_account
):
    args = {
        "sf_instance_url": sf_sandbox.url,
        "sf_username": sf_sandbox.username,
        "sf_password": sf_sandbox.password,
        "sf_client_id": sf_sandbox.client_id,
        "sf_client_secret": sf_sandbox.client_secret,
    }
    call_command("connect", cm_base_url=cm_sandbox.api_base, cm_api_key=cm_sandbox.api_key, **args)
    disconnect_campaign_monitor(Connection.objects.get(), user=None)
    out = StringIO()
    call_command(
        "connect",
        cm_base_url=other_account.api_base,
        cm_api_key="other-account-key",
        stdout=out,
        **args,
    )
    assert DIFFERENT in out.getvalue()
    assert "syncing none yet" in out.getvalue()
