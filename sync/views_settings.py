"""The Sync Settings screen and the Connect flows for Campaign Monitor and Salesforce.

Everyone signed in reads the screen; only Admins change it (the role middleware answers 403 to
every other POST, and each POST view checks again). Views validate a form and call a service.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cmsync.roles import can_change
from lib.fields import decrypt, encrypt
from maintenance.services import record_changes
from sync.clients import campaign_monitor as cm_api
from sync.clients import salesforce as sf_api
from sync.clients.errors import ApiError
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT_OBJECT,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
)
from sync.forms import (
    ApiKeyForm,
    ConfirmForm,
    FrequencyForm,
    ReconnectForm,
    SecurityOwnerForm,
    SelectClientsForm,
)
from sync.models import CMClient, Connection, Plan, RunKind, RunTrigger, SyncRun
from sync.services import schedule
from sync.services.api import ca_bundle, salesforce_client
from sync.services.connect import (
    ConnectError,
    change_sync_user,
    connect_campaign_monitor,
    connect_salesforce,
    disconnect_campaign_monitor,
    get_or_create_connection,
    reconnect_campaign_monitor,
    select_clients,
    set_security_owner,
)
from sync.services.runs import SyncNotReady, request_run
from sync.services.status import ago, describe_sync_state, get_connection, last_run_for

# Salesforce objects cmsync owns, in the order people think of them (a full sync removes these).
OWNED_OBJECTS = (
    CLIENT_OBJECT,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    CAMPAIGN_OBJECT,
    TRACKING_OBJECT,
    SUPPRESSION_OBJECT,
)
CM_OAUTH_SCOPE = (
    "ViewReports",
    "ManageLists",
    "ImportSubscribers",
    "ViewSubscribersInReports",
    "AdministerAccount",
)
SF_USERS_CACHE_SECONDS = 5 * 60
SESSION_CM_OAUTH = "cmsync.cm_oauth"
SESSION_SF_OAUTH = "cmsync.sf_oauth"
SESSION_CM_RECONNECT_TOKENS = "cmsync.cm_reconnect_tokens"
PURPOSE_CONNECT = "connect"
PURPOSE_RECONNECT = "reconnect"
PURPOSE_CHANGE_SYNC_USER = "change_sync_user"

View = Callable[..., HttpResponse]


def admin_required(view: View) -> View:
    """Refuse anyone who may not change the console (the middleware does too, for POSTs)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_change(request.user):
            raise PermissionDenied("Your role may read this console but not change it.")
        return view(request, *args, **kwargs)

    return wrapper


def _audit(request: HttpRequest, setting: str, before: object, after: object) -> None:
    record_changes(user=request.user, area="Sync Settings", changes={setting: (before, after)})


def _settings_redirect() -> HttpResponseRedirect:
    return redirect("sync-settings")


def _fully_connected(connection: Connection | None) -> bool:
    return bool(connection and connection.cm_connected and connection.sf_connected)


def _connected_or_none(request: HttpRequest) -> Connection | None:
    """The connection for a settings change, or None after flashing what to do first."""
    connection = get_connection()
    if not _fully_connected(connection):
        messages.error(request, "Connect Campaign Monitor and Salesforce first.")
        return None
    return connection


def _posted(request: HttpRequest):
    """The submitted data on POST (even when empty, so the form reports what is missing)."""
    return request.POST if request.method == "POST" else None


def _form_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


# The screen ----------------------------------------------------------------------------------
@require_GET
def sync_settings(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    context: dict[str, Any] = {
        "page_title": "Sync Settings",
        "connection": connection,
        "can_change": can_change(request.user),
    }
    if not _fully_connected(connection):
        context.update(_connect_cards_context(connection))
        return render(request, "sync/settings.html", context)
    context.update(_settings_context(request, connection))
    return render(request, "sync/settings.html", context)


def _connect_cards_context(connection: Connection | None) -> dict[str, Any]:
    needs_clients = bool(
        connection
        and connection.cm_connected
        and not connection.clients.filter(selected=True).exists()
    )
    return {
        "connected": False,
        "api_key_form": ApiKeyForm(),
        "cm_oauth_enabled": bool(settings.CM_OAUTH_CLIENT_ID),
        "sf_oauth_enabled": bool(settings.SF_CLIENT_ID),
        "cm_needs_clients": needs_clients,
    }


def _settings_context(request: HttpRequest, connection: Connection) -> dict[str, Any]:
    last_run = last_run_for(connection)
    clients = list(connection.clients.all())
    context: dict[str, Any] = {
        "connected": True,
        "state": describe_sync_state(connection, last_run),
        "frequency_form": FrequencyForm(initial={"frequency": connection.frequency_minutes}),
        "next_run": schedule.next_run_at(connection),
        "last_run": last_run,
        "last_run_summary": _run_summary(last_run) if last_run else None,
        "clients": clients,
        "selected_count": sum(client.selected for client in clients),
        "owned_objects": OWNED_OBJECTS,
        "select_clients_form": SelectClientsForm(connection),
        "select_clients_allowed": connection.plan == Plan.ENTERPRISE,
        "plan_label": connection.get_plan_display(),
        "cm_oauth_enabled": bool(settings.CM_OAUTH_CLIENT_ID),
        "sf_oauth_enabled": bool(settings.SF_CLIENT_ID),
    }
    if can_change(request.user) and clients:
        users, error = salesforce_users(connection)
        choices = SecurityOwnerForm(users).fields["owner"].choices
        context["owner_choices"] = choices
        context["owner_ids"] = {value for value, _label in choices}
        context["owner_error"] = error
    return context


def _run_summary(run: SyncRun) -> dict[str, Any]:
    moment = run.finished_at or run.started_at or run.created_at
    return {
        "when": moment,
        "ago": ago(moment),
        "duration": _duration_text(run.duration),
        "written": run.total_written,
        "rejected": run.rejected_count,
        "cm_calls": run.cm_calls,
        "sf_calls": run.sf_calls,
    }


def _duration_text(duration: dt.timedelta | None) -> str:
    if duration is None:
        return "not started"
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


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


# Settings changes ----------------------------------------------------------------------------
@require_POST
@admin_required
def save_frequency(request: HttpRequest) -> HttpResponse:
    connection = _connected_or_none(request)
    if connection is None:
        return _settings_redirect()
    form = FrequencyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _settings_redirect()
    frequency = form.cleaned_data["frequency"]
    before = connection.get_frequency_minutes_display()
    schedule.set_frequency(connection, frequency)
    _audit(request, "Import frequency", before, frequency.label)
    messages.success(request, f"Import frequency saved: {frequency.label}.")
    return _settings_redirect()


@require_POST
@admin_required
def turn_off(request: HttpRequest) -> HttpResponse:
    connection = _connected_or_none(request)
    if connection is None:
        return _settings_redirect()
    _audit(request, "Sync", connection.sync_enabled, False)
    schedule.set_sync_enabled(connection, False)
    messages.success(
        request, "Sync is off: scheduled runs are skipped. A run already going finishes."
    )
    return _settings_redirect()


@require_POST
@admin_required
def turn_on(request: HttpRequest) -> HttpResponse:
    connection = _connected_or_none(request)
    if connection is None:
        return _settings_redirect()
    _audit(request, "Sync", connection.sync_enabled, True)
    schedule.set_sync_enabled(connection, True)
    messages.success(request, "Sync is on: runs start on schedule again.")
    return _settings_redirect()


@require_POST
@admin_required
def sync_now(request: HttpRequest) -> HttpResponse:
    return _start_run(request, RunKind.INCREMENTAL)


@require_POST
@admin_required
def full_sync(request: HttpRequest) -> HttpResponse:
    if not ConfirmForm(request.POST).is_valid():
        messages.error(request, "Confirm the full sync in its dialog first; nothing was started.")
        return _settings_redirect()
    return _start_run(request, RunKind.FULL)


def _start_run(request: HttpRequest, kind: str) -> HttpResponse:
    connection = _connected_or_none(request)
    if connection is None:
        return _settings_redirect()
    try:
        run, created = request_run(
            connection, kind=kind, trigger=RunTrigger.MANUAL, user=request.user
        )
    except SyncNotReady as exc:
        messages.error(request, str(exc))
        return _settings_redirect()
    if not created:
        messages.warning(
            request,
            f"A sync is already running (run {run.pk}); a second one was not started. "
            "Wait for it to finish.",
        )
    elif kind == RunKind.FULL:
        messages.success(
            request,
            "Full Campaign Monitor Sync started: cmsync's own records are being removed and "
            "re-imported. You can leave this page.",
        )
    else:
        messages.success(
            request, "Sync started. You can leave this page; it runs in the background."
        )
    return _settings_redirect()


@require_POST
@admin_required
def disconnect(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    if connection is None or not connection.cm_connected:
        messages.error(request, "Campaign Monitor is not connected.")
        return _settings_redirect()
    if not ConfirmForm(request.POST).is_valid():
        messages.error(request, "Confirm the disconnect in its dialog first; nothing changed.")
        return _settings_redirect()
    disconnect_campaign_monitor(connection)
    _audit(request, "Campaign Monitor connection", "connected", "disconnected")
    messages.success(
        request,
        "Disconnected from Campaign Monitor: sync stopped and the credentials were removed. "
        "Data already in Salesforce stays.",
    )
    return _settings_redirect()


@require_POST
@admin_required
def save_security_owner(request: HttpRequest, client_id: int) -> HttpResponse:
    connection = _connected_or_none(request)
    if connection is None:
        return _settings_redirect()
    cm_client = get_object_or_404(CMClient, pk=client_id, connection=connection)
    users, error = salesforce_users(connection)
    if error:
        messages.error(request, error)
        return _settings_redirect()
    form = SecurityOwnerForm(users, request.POST)
    if not form.is_valid():
        messages.error(request, f"{cm_client.name}: {_form_errors(form)}")
        return _settings_redirect()
    before = cm_client.security_owner_name
    try:
        set_security_owner(cm_client, form.cleaned_data["owner"], users)
    except ConnectError as exc:
        messages.error(request, f"{cm_client.name}: {exc}")
        return _settings_redirect()
    owner = cm_client.security_owner_name
    _audit(request, f"Salesforce Security Owner of {cm_client.name}", before, owner)
    messages.success(request, f"{cm_client.name}: Salesforce Security Owner is now {owner}.")
    return _settings_redirect()


@require_POST
@admin_required
def save_selected_clients(request: HttpRequest) -> HttpResponse:
    connection = _connected_or_none(request)
    if connection is None:
        return _settings_redirect()
    if not connection.cm_is_agency:
        messages.error(request, "This Campaign Monitor account has a single client to sync.")
        return _settings_redirect()
    if connection.plan != Plan.ENTERPRISE:
        messages.error(
            request,
            "Selecting clients of an agency account needs the Enterprise plan "
            f"(this installation is on {connection.get_plan_display()}). Nothing changed.",
        )
        return _settings_redirect()
    form = SelectClientsForm(connection, request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _settings_redirect()
    before = list(connection.clients.filter(selected=True).values_list("name", flat=True))
    try:
        chosen = select_clients(connection, form.cleaned_data["clients"])
    except ConnectError as exc:
        messages.error(request, str(exc))
        return _settings_redirect()
    names = ", ".join(c.name for c in chosen)
    _audit(request, "Clients to sync", before, [c.name for c in chosen])
    messages.success(request, f"Clients to sync saved: {names}.")
    return _settings_redirect()


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
        return _settings_redirect()
    form = ApiKeyForm(_posted(request))
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
    return _settings_redirect()


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
        return _settings_redirect()
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
        return _settings_redirect()
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
        return _settings_redirect()
    if request.GET.get("error"):
        messages.error(
            request,
            f"Campaign Monitor did not grant access ({request.GET['error']}). Nothing was "
            "changed; try again and approve the request, or connect with an API key.",
        )
        return _settings_redirect()
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
        return _settings_redirect()
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
        return _settings_redirect()


def connect_cm_clients(request: HttpRequest) -> HttpResponse:
    """After connecting an agency account: choose the clients to sync (one on Standard)."""
    connection = get_connection()
    if connection is None or not connection.cm_connected:
        messages.error(request, "Connect Campaign Monitor first.")
        return _settings_redirect()
    single = connection.plan != Plan.ENTERPRISE
    form = SelectClientsForm(connection, _posted(request), single=single)
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
                return _settings_redirect()
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
        return _settings_redirect()
    tokens = _pending_reconnect_tokens(request)
    form = ReconnectForm(connection, _posted(request), have_tokens=tokens is not None)
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
                return _settings_redirect()
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
        return _settings_redirect()
    return _start_sf_oauth(request, PURPOSE_CONNECT)


@require_POST
@admin_required
def change_sf_sync_user(request: HttpRequest) -> HttpResponse:
    """Sign in to Salesforce as yourself; on return you become the Salesforce Sync User."""
    connection = get_connection()
    if connection is None or not connection.sf_connected:
        messages.error(request, "Connect Salesforce first.")
        return _settings_redirect()
    return _start_sf_oauth(request, PURPOSE_CHANGE_SYNC_USER)


def _start_sf_oauth(request: HttpRequest, purpose: str) -> HttpResponse:
    if not settings.SF_CLIENT_ID:
        messages.error(
            request,
            "Salesforce sign-in is not set up: set SF_CLIENT_ID and SF_CLIENT_SECRET (a connected "
            "app in your org), or connect from a shell with `python manage.py connect`.",
        )
        return _settings_redirect()
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
        return _settings_redirect()
    if request.GET.get("error"):
        reason = request.GET.get("error_description") or request.GET["error"]
        messages.error(
            request,
            f"Salesforce did not grant access ({reason}). Nothing was changed; sign in again and "
            "choose Allow, or ask your Salesforce admin to approve the cmsync connected app.",
        )
        return _settings_redirect()
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
        return _settings_redirect()
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
        return _settings_redirect()
    name = connection.sf_sync_user_name or "the connecting user"
    _audit(request, "Salesforce Sync User", previous_user, name)
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
    return _settings_redirect()
