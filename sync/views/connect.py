"""The Connect flows: Campaign Monitor (API key, OAuth, clients, reconnect, disconnect) and
Salesforce (OAuth web flow, change sync user).

The views check the request and the connection's state, call one service (OAuth sign-in in
:mod:`sync.services.oauth`, the changes, audited, in :mod:`sync.services.connect`) and say what
happened.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cmsync.roles import Access, can_change, role_required
from sync.clients.campaign_monitor import OAuthTokens
from sync.forms.connect import ApiKeyForm, ReconnectForm
from sync.forms.settings import ConfirmForm, SelectClientsForm
from sync.models import Plan
from sync.services import oauth
from sync.services.connect import (
    ConnectError,
    change_sync_user,
    connect_campaign_monitor,
    connect_salesforce,
    disconnect_campaign_monitor,
    get_or_create_connection,
    reconnect_campaign_monitor,
    replaced_account_clients,
    select_clients,
)
from sync.services.status import get_connection
from sync.views.common import posted, settings_redirect

CM_ALREADY_CONNECTED = (
    "Campaign Monitor is already connected. To change its credentials use "
    "Reconnect to Campaign Monitor."
)


# Campaign Monitor: connect with an API key or OAuth, pick clients, reconnect ---------------------
@role_required(Access.READ)
@require_http_methods(["GET", "POST"])
def connect_cm(request: HttpRequest) -> HttpResponse:
    """GET: the API key form (and OAuth button); POST: connect with the key."""
    connection = get_connection()
    if connection is not None and connection.cm_connected:
        messages.info(request, CM_ALREADY_CONNECTED)
        return settings_redirect()
    form = ApiKeyForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            return _connect_cm_with(request, api_key=form.cleaned_data["api_key"])
        except ConnectError as exc:
            form.add_error("api_key", str(exc))
    context = {
        "page_title": "Connect Campaign Monitor",
        "api_key_form": form,
        "cm_oauth_enabled": oauth.CAMPAIGN_MONITOR.is_set_up(),
        "can_change": can_change(request.user),
    }
    return render(request, "sync/connect_cm.html", context)


def _connect_cm_with(
    request: HttpRequest, *, api_key: str | None = None, tokens: OAuthTokens | None = None
) -> HttpResponse:
    connection = get_or_create_connection()
    clients = connect_campaign_monitor(
        connection,
        user=request.user,
        base_url=settings.CM_API_BASE_URL,
        api_key=api_key,
        tokens=tokens,
    )
    names = ", ".join(c.name for c in clients)
    messages.success(request, f"Connected to Campaign Monitor: {names}.")
    replaced = replaced_account_clients(connection)
    if replaced:
        selected = [c.name for c in connection.clients.filter(selected=True)]
        now = f"its client {selected[0]} is selected" if selected else "no client is selected yet"
        earlier = ", ".join(c.name for c in replaced)
        messages.warning(
            request,
            "This is a different Campaign Monitor account from the one disconnected, so cmsync "
            f"starts from a clean client selection: {now}. The earlier account's clients "
            f"({earlier}) are listed on Sync Settings as belonging to a disconnected account; "
            "their records stay in Salesforce.",
        )
    if not connection.clients.filter(selected=True).exists():
        return redirect("sync-connect-cm-clients")
    if not connection.sf_connected:
        messages.info(request, "Next step: connect Salesforce.")
    return settings_redirect()


@role_required(Access.CHANGE)
@require_POST
def connect_cm_oauth(request: HttpRequest) -> HttpResponse:
    """Send the browser to Campaign Monitor to grant access (connect, or reconnect)."""
    connection = get_connection()
    reconnecting = (
        request.POST.get("purpose") == oauth.PURPOSE_RECONNECT
        and connection is not None
        and connection.current_clients().exists()
    )
    if not reconnecting and connection is not None and connection.cm_connected:
        messages.info(request, CM_ALREADY_CONNECTED)
        return settings_redirect()
    try:
        url = oauth.begin(
            request.session,
            oauth.CAMPAIGN_MONITOR,
            oauth.PURPOSE_RECONNECT if reconnecting else oauth.PURPOSE_CONNECT,
            _cm_redirect_uri(request),
            base_url=connection.cm_base_url if reconnecting else None,
        )
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return settings_redirect()
    return redirect(url)


def _cm_redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sync-connect-cm-callback"))


@role_required(Access.CHANGE)
@require_GET
def connect_cm_callback(request: HttpRequest) -> HttpResponse:
    """Campaign Monitor sends the browser back here with ``code`` and ``state``."""
    try:
        grant = oauth.complete(
            request.session, oauth.CAMPAIGN_MONITOR, request.GET, _cm_redirect_uri(request)
        )
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return settings_redirect()
    if grant.purpose == oauth.PURPOSE_RECONNECT:  # the tokens wait for the clients to keep
        messages.info(request, "Campaign Monitor authorised. Now select the clients to keep.")
        return redirect("sync-settings-reconnect")
    try:
        return _connect_cm_with(request, tokens=grant.tokens)
    except ConnectError as exc:
        messages.error(request, str(exc))
        return settings_redirect()


@role_required(Access.READ)
@require_http_methods(["GET", "POST"])
def connect_cm_clients(request: HttpRequest) -> HttpResponse:
    """After connecting an agency account: choose the clients to sync (one on Standard)."""
    connection = get_connection()
    if connection is None or not connection.cm_connected:
        messages.error(request, "Connect Campaign Monitor first.")
        return settings_redirect()
    single = connection.plan != Plan.ENTERPRISE
    form = SelectClientsForm(connection, posted(request), single=single)
    if request.method == "POST" and form.is_valid():
        try:
            chosen = select_clients(connection, form.cleaned_data["clients"], user=request.user)
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


@role_required(Access.READ)
@require_http_methods(["GET", "POST"])
def reconnect_cm(request: HttpRequest) -> HttpResponse:
    """New credentials for the same account; every client to keep is selected again."""
    connection = get_connection()
    if connection is None or not connection.current_clients().exists():
        messages.error(request, "There is no Campaign Monitor account to reconnect: connect one.")
        return settings_redirect()
    tokens = oauth.held_tokens(request.session, oauth.CAMPAIGN_MONITOR)
    form = ReconnectForm(connection, posted(request), have_tokens=tokens is not None)
    if request.method == "POST" and form.is_valid():
        try:
            kept = reconnect_campaign_monitor(
                connection,
                api_key=None if tokens else form.cleaned_data["api_key"],
                tokens=tokens,
                keep_client_ids=form.cleaned_data["keep_client_ids"],
                user=request.user,
            )
        except ConnectError as exc:
            form.add_error(None, str(exc))
        else:
            oauth.drop_held_tokens(request.session, oauth.CAMPAIGN_MONITOR)
            names = ", ".join(c.name for c in kept)
            messages.success(request, f"Reconnected to Campaign Monitor. Syncing: {names}.")
            return settings_redirect()
    context = {
        "page_title": "Reconnect to Campaign Monitor",
        "connection": connection,
        "form": form,
        "have_tokens": tokens is not None,
        "cm_oauth_enabled": oauth.CAMPAIGN_MONITOR.is_set_up(),
        "selected_clients": list(connection.clients.filter(selected=True)),
        "can_change": can_change(request.user),
    }
    return render(request, "sync/settings_reconnect.html", context)


@role_required(Access.CHANGE)
@require_POST
def disconnect(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    if connection is None or not connection.cm_connected:
        messages.error(request, "Campaign Monitor is not connected.")
        return settings_redirect()
    if not ConfirmForm(request.POST, token=ConfirmForm.DISCONNECT).is_valid():
        messages.error(request, "Confirm the disconnect in its dialog first; nothing changed.")
        return settings_redirect()
    cancelled = disconnect_campaign_monitor(connection, user=request.user)
    messages.success(
        request,
        "Disconnected from Campaign Monitor: sync stopped and the credentials were removed. "
        "Data already in Salesforce stays.",
    )
    if cancelled:
        what = cancelled.describe()
        messages.warning(
            request,
            f"{what[0].upper()}{what[1:]}: each says why (maintenance message CMS-320). "
            "Start them again once Campaign Monitor is connected again.",
        )
    return settings_redirect()


# Salesforce: connect, change the sync user ----------------------------------------------------
@role_required(Access.CHANGE)
@require_POST
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
    return _start_sf_oauth(request, oauth.PURPOSE_CONNECT)


@role_required(Access.CHANGE)
@require_POST
def change_sf_sync_user(request: HttpRequest) -> HttpResponse:
    """Sign in to Salesforce as yourself; on return you become the Salesforce Sync User."""
    connection = get_connection()
    if connection is None or not connection.sf_connected:
        messages.error(request, "Connect Salesforce first.")
        return settings_redirect()
    return _start_sf_oauth(request, oauth.PURPOSE_CHANGE_SYNC_USER)


def _start_sf_oauth(request: HttpRequest, purpose: str) -> HttpResponse:
    try:
        url = oauth.begin(request.session, oauth.SALESFORCE, purpose, _sf_redirect_uri(request))
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return settings_redirect()
    return redirect(url)


def _sf_redirect_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("sync-connect-sf-callback"))


@role_required(Access.CHANGE)
@require_GET
def connect_sf_callback(request: HttpRequest) -> HttpResponse:
    """Salesforce sends the browser back here with ``code`` and ``state``."""
    try:
        grant = oauth.complete(
            request.session, oauth.SALESFORCE, request.GET, _sf_redirect_uri(request)
        )
    except oauth.OAuthError as exc:
        messages.error(request, str(exc))
        return settings_redirect()
    connection = get_or_create_connection()
    changing = grant.purpose == oauth.PURPOSE_CHANGE_SYNC_USER and connection.sf_connected
    try:
        if changing:
            change_sync_user(connection, grant.tokens, user=request.user)
        else:
            connect_salesforce(
                connection, grant.tokens, user=request.user, login_url=grant.base_url
            )
    except ConnectError as exc:
        messages.error(request, str(exc))
        return settings_redirect()
    name = connection.sf_sync_user_name or "the connecting user"
    if changing:
        messages.success(request, f"{name} is now the Salesforce Sync User.")
        return settings_redirect()
    messages.success(
        request,
        f"Connected to Salesforce; cmsync's objects are ready. {name} is the Salesforce Sync User.",
    )
    if not connection.cm_connected:
        messages.info(request, "Next step: connect Campaign Monitor.")
    return settings_redirect()
