"""Destructive actions (Full sync, Disconnect, Reconnect that drops clients) need the value their
own dialog sends; a checkbox's truthiness ("0", "off", "no" all count as ticked to Django's
BooleanField) is not a confirmation."""

from __future__ import annotations

import html
import re
from unittest import mock

import pytest
from django.urls import reverse

from sync.forms.connect import ReconnectForm
from sync.forms.settings import ConfirmForm
from sync.models import SyncRun

pytestmark = pytest.mark.django_db

SETTINGS_URL = "/sync/settings/"

# Every value a person, a script or a forged form could send that must not confirm anything.
NOT_A_CONFIRMATION = [
    "",
    " ",
    "0",
    "00",
    "off",
    "OFF",
    "no",
    "No",
    "n",
    "false",
    "False",
    "FALSE",
    "none",
    "None",
    "null",
    "undefined",
    "[]",
    # Truthy, but not what the dialog sends: a stray checkbox or "?confirm=1" is no consent.
    "on",
    "1",
    "yes",
    "true",
    "confirm",
]


@pytest.fixture(autouse=True)
def private_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def body(response) -> str:
    return html.unescape(response.content.decode())


def dialog_token(page: str, action: str) -> str:
    """The confirmation value the dialog posting to ``action`` sends."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', page, re.S)
    assert form, action
    token = re.search(r'<input type="hidden" name="confirm" value="([^"]*)">', form.group(1))
    assert token, form.group(1)
    return token.group(1)


@pytest.mark.parametrize("value", NOT_A_CONFIRMATION)
def test_full_sync_is_not_started_by_a_false_looking_confirmation(admin_client, connection, value):
    with mock.patch("sync.tasks.primary_sync.delay") as delay:
        response = admin_client.post(
            reverse("sync-settings-full-sync"), {"confirm": value}, follow=True
        )
    assert "Confirm the full sync in its dialog first" in body(response)
    assert not SyncRun.objects.exists()
    delay.assert_not_called()


@pytest.mark.parametrize("value", NOT_A_CONFIRMATION)
def test_disconnect_is_not_done_by_a_false_looking_confirmation(admin_client, connection, value):
    response = admin_client.post(
        reverse("sync-settings-disconnect"), {"confirm": value}, follow=True
    )
    assert "Confirm the disconnect in its dialog first" in body(response)
    connection.refresh_from_db()
    assert connection.cm_connected


def test_each_dialog_sends_its_own_token_and_only_that_confirms(
    admin_client, connection, django_capture_on_commit_callbacks
):
    page = body(admin_client.get(SETTINGS_URL))
    full_sync = dialog_token(page, reverse("sync-settings-full-sync"))
    disconnect = dialog_token(page, reverse("sync-settings-disconnect"))
    assert full_sync and disconnect and full_sync != disconnect

    # One dialog's token does not confirm the other action.
    response = admin_client.post(reverse("sync-settings-disconnect"), {"confirm": full_sync})
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.cm_connected

    with (
        mock.patch("sync.tasks.primary_sync.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(
            reverse("sync-settings-full-sync"), {"confirm": full_sync}, follow=True
        )
    assert "Full Campaign Monitor Sync started" in body(response)
    delay.assert_called_once()

    SyncRun.objects.all().delete()
    response = admin_client.post(
        reverse("sync-settings-disconnect"), {"confirm": disconnect}, follow=True
    )
    assert "Disconnected from Campaign Monitor" in body(response)
    connection.refresh_from_db()
    assert not connection.cm_connected


@pytest.mark.parametrize("value", NOT_A_CONFIRMATION)
def test_confirm_form_refuses_every_false_looking_value(value):
    form = ConfirmForm({"confirm": value}, token=ConfirmForm.DISCONNECT)
    assert not form.is_valid()
    assert ConfirmForm({"confirm": ConfirmForm.DISCONNECT}, token=ConfirmForm.DISCONNECT).is_valid()


@pytest.mark.parametrize("value", NOT_A_CONFIRMATION)
def test_reconnect_that_drops_a_client_needs_the_boxs_own_value(connection, value):
    """Leaving a selected client out deletes its configuration: "confirm_loss=0" is no yes."""
    keep = connection.clients.order_by("name").first().cm_client_id
    data = {"api_key": "some-key", "clients": [keep], "confirm_loss": value}
    form = ReconnectForm(connection, data)
    assert not form.is_valid()
    assert "confirm_loss" in form.errors
    rendered = form["confirm_loss"].as_widget()
    token = re.search(r'value="([^"]+)"', rendered).group(1)
    assert ReconnectForm(connection, {**data, "confirm_loss": token}).is_valid()
