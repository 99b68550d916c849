"""The Connect flows: Campaign Monitor (API key, OAuth, clients, reconnect, disconnect) and
Salesforce (OAuth web flow, change sync user).
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cmsync.roles import admin_required, can_change
from lib.fields import decrypt, encrypt
from sync.clients import campaign_monitor as cm_api
from sync.clients import salesforce as sf_api
from sync.clients.errors import ApiError
from sync.forms.connect import ApiKeyForm, ReconnectForm
from sync.forms.settings import ConfirmForm, SelectClientsForm
from sync.models import Plan
from sync.services.api import ca_bundle
from sync.services.connect import (
    ConnectError,
    change_sync_user,
    connect_campaign_monitor,
    connect_salesforce,
    disconnect_campaign_monitor,
    get_or_create_connection,
    reconnect_campaign_monitor,
    select_clients,
)
from sync.services.status import get_connection
from sync.views.common import audit, posted, settings_redirect

CM_OAUTH_SCOPE = (
    "ViewReports",
    "ManageLists",
    "ImportSubscribers",
    "ViewSubscribersInReports",
    "AdministerAccount",
)
SESSION_CM_OAUTH = "cmsync.cm_oauth"
SESSION_SF_OAUTH = "cmsync.sf_oauth"
SESSION_CM_RECONNECT_TOKENS = "cmsync.cm_reconnect_tokens"
PURPOSE_CONNECT = "connect"
PURPOSE_RECONNECT = "reconnect"
PURPOSE_CHANGE_SYNC_USER = "change_sync_user"


# Campaign Monitor: connect with an API key or OAuth, pick clients, reconnect ---------------------
def connect_cm(request: HttpRequest) -> HttpResponse:
    """GET: the API key form (and OAuth button); POST: connect with the key."""
    connection = get_connection()
    if connection is not None and connection.cm_connected:
        messages.info(
            request,
            "Campaign Monitor is already connected. To change its credentials use "
            "Reconnect to Campaign Monitor.",
        )
        return settings_redirect()
    form = ApiKeyForm(posted(request))
    if request.method == "POST":
        if not can_change(request.user):
            raise PermissionDenied("Your role may read this console but not change it.")
        if form.is_valid():
            try:
                return _connect_cm_with(request, api_key=form.cleaned_data["api_key"])
            except ConnectError as exc:
                form.add_error("api_key", str(exc))
    context = {
        "page_title": "Connect Campaign Monitor",
        "api_key_form": form,
        "cm_oauth_enabled": bool(settings.CM_OAUTH_CLIENT_ID),
        "can_change": can_change(request.user),
    }
    return render(request, "sync/connect_cm.html", context)


def _connect_cm_with(
    request: HttpRequest, *, api_key: str | None = None, tokens: cm_api.OAuthTokens | None = None
) -> HttpResponse:
    connection = get_or_create_connection()
    clients = connect_campaign_monitor(
        connection, base_url=settings.CM_API_BASE_URL, api_key=api_key, tokens=tokens
    )
    names = ", ".join(c.name for c in clients)
    messages.success(request, f"Connected to Campaign Monitor: {names}.")
    if not connection.clients.filter(selected=True).exists():
        return redirect("sync-connect-cm-clients")
    if not connection.sf_connected:
        messages.info(request, "Next step: connect Salesforce.")
    return settings_redirect()


@require_POST
@admin_required
def connect_cm_oauth(request: HttpRequest) -> HttpResponse:
    """Send the browser to Campaign Monitor to grant access (connect, or reconnect)."""
    if not settings.CM_OAUTH_CLIENT_ID:
        messages.error(
            request,
            "OAuth is not set up: set CM_OAUTH_CLIENT_ID and CM_OAUTH_CLIENT_SECRET (an OAuth "
            "app registered at Campaign Monitor), or connect with an API key.",
        )
        return settings_redirect()
    connection = get_connection()
    reconnecting = request.POST.get("purpose") == PURPOSE_RECONNECT
    if reconnecting and (connection is None or not connection.clients.exists()):
        reconnecting = False
    if not reconnecting and connection is not None and connection.cm_connected:
        messages.info(
            request,
            "Campaign Monitor is already connected. To change its credentials use "
            "Reconnect to Campaign Monitor.",
        )
        return settings_redirect()
    base_url = connection.cm_base_url if reconnecting else settings.CM_API_BASE_URL
    state = secrets.token_urlsafe(32)
    request.session[SESSION_CM_OAUTH] = {
        "state": state,
        "purpose": PURPOSE_RECONNECT if reconnecting else PURPOSE_CONNECT,
        "base_url": base_url,
    }
    url = cm_api.authorize_url(
        settings.CM_OAUTH_CLIENT_ID,
        _cm_redirect_uri(request),
        list(CM_OAUTH_SCOPE),
        state,
        base_url=base_url,
    )
    return redirect(url)


def _cm_redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sync-connect-cm-callback"))


def _state_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given and secrets.compare_digest(expected, given))


@require_GET
@admin_required
def connect_cm_callback(request: HttpRequest) -> HttpResponse:
    """Campaign Monitor sends the browser back here with ``code`` and ``state``."""
    pending = request.session.pop(SESSION_CM_OAUTH, None) or {}
    if not _state_matches(pending.get("state"), request.GET.get("state")):
        messages.error(
            request,
            "The Campaign Monitor authorisation could not be verified (its state does not match "
            "this browser session); nothing was changed. Start again with Connect with OAuth.",
        )
        return settings_redirect()
    if request.GET.get("error"):
        messages.error(
            request,
            f"Campaign Monitor did not grant access ({request.GET['error']}). Nothing was "
            "changed; try again and approve the request, or connect with an API key.",
        )
        return settings_redirect()
    try:
        tokens = cm_api.exchange_code(
            settings.CM_OAUTH_CLIENT_ID,
            settings.CM_OAUTH_CLIENT_SECRET,
            _cm_redirect_uri(request),
            request.GET.get("code", ""),
            base_url=pending.get("base_url") or settings.CM_API_BASE_URL,
            ca_bundle=ca_bundle(),
            timeout=settings.CMSYNC_HTTP_TIMEOUT,
            max_retries=2,
        )
    except ApiError as exc:
        messages.error(
            request,
            f"Campaign Monitor refused the authorisation code ({exc.message}). Start again with "
            "Connect with OAuth; if it keeps failing, check CM_OAUTH_CLIENT_ID and "
            "CM_OAUTH_CLIENT_SECRET.",
        )
        return settings_redirect()
    if pending.get("purpose") == PURPOSE_RECONNECT:
        request.session[SESSION_CM_RECONNECT_TOKENS] = encrypt(
            json.dumps({"access_token": tokens.access_token, "refresh_token": tokens.refresh_token})
        )
        messages.info(request, "Campaign Monitor authorised. Now select the clients to keep.")
        return redirect("sync-settings-reconnect")
    try:
        return _connect_cm_with(request, tokens=tokens)
    except ConnectError as exc:
        messages.error(request, str(exc))
        return settings_redirect()


def connect_cm_clients(request: HttpRequest) -> HttpResponse:
    """After connecting an agency account: choose the clients to sync (one on Standard)."""
    connection = get_connection()
    if connection is None or not connection.cm_connected:
        messages.error(request, "Connect Campaign Monitor first.")
        return settings_redirect()
    single = connection.plan != Plan.ENTERPRISE
    form = SelectClientsForm(connection, posted(request), single=single)
    if request.method == "POST":
        if not can_change(request.user):
            raise PermissionDenied("Your role may read this console but not change it.")
        if form.is_valid():
            try:
                chosen = select_clients(connection, form.cleaned_data["clients"])
            except ConnectError as exc:
                form.add_error("clients", str(exc))
            else:
                names = ", ".join(c.name for c in chosen)
                messages.success(request, f"Clients to sync saved: {names}.")
                if not connection.sf_connected:
                    messages.info(request, "Next step: connect Salesforce.")
                return settings_redirect()
    context = {
        "page_title": "Choose Campaign Monitor clients",
        "form": form,
        "single": single,
        "plan_label": connection.get_plan_display(),
        "can_change": can_change(request.user),
    }
    return render(request, "sync/connect_cm_clients.html", context)


def reconnect_cm(request: HttpRequest) -> HttpResponse:
    """New credentials for the same account; every client to keep is selected again."""
    connection = get_connection()
    if connection is None or not connection.clients.exists():
        messages.error(request, "There is no Campaign Monitor account to reconnect: connect one.")
        return settings_redirect()
    tokens = _pending_reconnect_tokens(request)
    form = ReconnectForm(connection, posted(request), have_tokens=tokens is not None)
    if request.method == "POST":
        if not can_change(request.user):
            raise PermissionDenied("Your role may read this console but not change it.")
        if form.is_valid():
            try:
                kept = reconnect_campaign_monitor(
                    connection,
                    api_key=None if tokens else form.cleaned_data["api_key"],
                    tokens=tokens,
                    keep_client_ids=form.cleaned_data["keep_client_ids"],
                )
            except ConnectError as exc:
                form.add_error(None, str(exc))
            else:
                request.session.pop(SESSION_CM_RECONNECT_TOKENS, None)
                names = ", ".join(c.name for c in kept)
                messages.success(request, f"Reconnected to Campaign Monitor. Syncing: {names}.")
                return settings_redirect()
    context = {
        "page_title": "Reconnect to Campaign Monitor",
        "connection": connection,
        "form": form,
        "have_tokens": tokens is not None,
        "cm_oauth_enabled": bool(settings.CM_OAUTH_CLIENT_ID),
        "selected_clients": list(connection.clients.filter(selected=True)),
        "can_change": can_change(request.user),
    }
    return render(request, "sync/settings_reconnect.html", context)


def _pending_reconnect_tokens(request: HttpRequest) -> cm_api.OAuthTokens | None:
    stored = request.session.get(SESSION_CM_RECONNECT_TOKENS)
    if not stored:
        return None
    try:
        data = json.loads(decrypt(stored))
    except ValueError:
        request.session.pop(SESSION_CM_RECONNECT_TOKENS, None)
        return None
    return cm_api.OAuthTokens(
        access_token=data["access_token"], refresh_token=data["refresh_token"]
    )


# Salesforce: connect, change the sync user ----------------------------------------------------
@require_POST
@admin_required
def connect_sf(request: HttpRequest) -> HttpResponse:
    """Send the browser to Salesforce's login page (OAuth web-server flow)."""
    connection = get_connection()
    if connection and connection.sf_connected and not connection.sf_needs_reconnect:
        messages.info(
            request,
            "Salesforce is already connected. To make yourself the sync user use Change "
            "Salesforce Sync User.",
        )
        return settings_redirect()
    return _start_sf_oauth(request, PURPOSE_CONNECT)


@require_POST
@admin_required
def change_sf_sync_user(request: HttpRequest) -> HttpResponse:
    """Sign in to Salesforce as yourself; on return you become the Salesforce Sync User."""
    connection = get_connection()
    if connection is None or not connection.sf_connected:
        messages.error(request, "Connect Salesforce first.")
        return settings_redirect()
    return _start_sf_oauth(request, PURPOSE_CHANGE_SYNC_USER)


def _start_sf_oauth(request: HttpRequest, purpose: str) -> HttpResponse:
    if not settings.SF_CLIENT_ID:
        messages.error(
            request,
            "Salesforce sign-in is not set up: set SF_CLIENT_ID and SF_CLIENT_SECRET (a connected "
            "app in your org), or connect from a shell with `python manage.py connect`.",
        )
        return settings_redirect()
    state = secrets.token_urlsafe(32)
    request.session[SESSION_SF_OAUTH] = {"state": state, "purpose": purpose}
    url = sf_api.authorize_url(
        settings.SF_LOGIN_URL, settings.SF_CLIENT_ID, _sf_redirect_uri(request), state
    )
    return redirect(url)


def _sf_redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sync-connect-sf-callback"))


@require_GET
@admin_required
def connect_sf_callback(request: HttpRequest) -> HttpResponse:
    """Salesforce sends the browser back here with ``code`` and ``state``."""
    pending = request.session.pop(SESSION_SF_OAUTH, None) or {}
    if not _state_matches(pending.get("state"), request.GET.get("state")):
        messages.error(
            request,
            "The Salesforce sign-in could not be verified (its state does not match this "
            "browser session); nothing was changed. Start again from Sync Settings.",
        )
        return settings_redirect()
    if request.GET.get("error"):
        reason = request.GET.get("error_description") or request.GET["error"]
        messages.error(
            request,
            f"Salesforce did not grant access ({reason}). Nothing was changed; sign in again and "
            "choose Allow, or ask your Salesforce admin to approve the cmsync connected app.",
        )
        return settings_redirect()
    try:
        tokens = sf_api.exchange_code(
            settings.SF_LOGIN_URL,
            request.GET.get("code", ""),
            settings.SF_CLIENT_ID,
            settings.SF_CLIENT_SECRET,
            _sf_redirect_uri(request),
            ca_bundle(),
        )
    except ApiError as exc:
        messages.error(
            request,
            f"Salesforce refused the sign-in ({exc.message}). Start again; if it keeps failing, "
            "check SF_CLIENT_ID, SF_CLIENT_SECRET and the connected app's callback URL "
            f"({_sf_redirect_uri(request)}).",
        )
        return settings_redirect()
    connection = get_or_create_connection()
    changing = pending.get("purpose") == PURPOSE_CHANGE_SYNC_USER and connection.sf_connected
    previous_user = connection.sf_sync_user_name
    try:
        if changing:
            change_sync_user(connection, tokens)
        else:
            connect_salesforce(connection, tokens, login_url=settings.SF_LOGIN_URL)
    except ConnectError as exc:
        messages.error(request, str(exc))
        return settings_redirect()
    name = connection.sf_sync_user_name or "the connecting user"
    audit(request, "Salesforce Sync User", previous_user, name)
    if changing:
        messages.success(request, f"{name} is now the Salesforce Sync User.")
    else:
        messages.success(
            request,
            f"Connected to Salesforce; cmsync's objects are ready. {name} is the Salesforce "
            "Sync User.",
        )
        if not connection.cm_connected:
            messages.info(request, "Next step: connect Campaign Monitor.")
    return settings_redirect()


@require_POST
@admin_required
def disconnect(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    if connection is None or not connection.cm_connected:
        messages.error(request, "Campaign Monitor is not connected.")
        return settings_redirect()
    if not ConfirmForm(request.POST).is_valid():
        messages.error(request, "Confirm the disconnect in its dialog first; nothing changed.")
        return settings_redirect()
    disconnect_campaign_monitor(connection)
    audit(request, "Campaign Monitor connection", "connected", "disconnected")
    messages.success(
        request,
        "Disconnected from Campaign Monitor: sync stopped and the credentials were removed. "
        "Data already in Salesforce stays.",
    )
    return settings_redirect()
