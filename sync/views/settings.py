"""The Sync Settings screen: frequency, sync on/off, Sync now, Full sync, clients and owners.

Everyone signed in reads the screen; only Admins change it. Views validate a form and call a
service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from cmsync.roles import Access, can_change, role_required
from sync.clients.salesforce_schema import (
    CAMPAIGN_OBJECT,
    CLIENT_OBJECT,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    SUPPRESSION_OBJECT,
    TRACKING_OBJECT,
)
from sync.forms.connect import ApiKeyForm
from sync.forms.settings import (
    ConfirmForm,
    FrequencyForm,
    SecurityOwnerForm,
    SelectClientsForm,
)
from sync.models import CMClient, Connection, Plan, RunKind, RunTrigger, SyncRun
from sync.services import schedule
from sync.services.connect import (
    ConnectError,
    disconnected_account_clients,
    salesforce_users,
    select_clients,
    set_security_owner,
)
from sync.services.reown import attach_reown_jobs
from sync.services.runs import SyncNotReady, request_run
from sync.services.status import ago, describe_sync_state, get_connection, last_run_for
from sync.views.common import connected_or_none, form_errors, settings_redirect

# Salesforce objects cmsync owns, in the order people think of them (a full sync removes these).
OWNED_OBJECTS = (
    CLIENT_OBJECT,
    LIST_OBJECT,
    SUBSCRIBER_OBJECT,
    CAMPAIGN_OBJECT,
    TRACKING_OBJECT,
    SUPPRESSION_OBJECT,
)


# The screen ----------------------------------------------------------------------------------
@role_required(Access.READ)
@require_GET
def sync_settings(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    context: dict[str, Any] = {
        "page_title": "Sync Settings",
        "connection": connection,
        "can_change": can_change(request.user),
    }
    if connection is None or not connection.both_connected:
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
    clients = list(connection.current_clients())
    context: dict[str, Any] = {
        "connected": True,
        "state": describe_sync_state(connection, last_run),
        "frequency_form": FrequencyForm(initial={"frequency": connection.frequency_minutes}),
        "next_run": schedule.next_run_at(connection),
        "last_run": last_run,
        "last_run_summary": _run_summary(last_run) if last_run else None,
        "clients": attach_reown_jobs(clients),
        "selected_count": sum(client.selected for client in clients),
        "disconnected_account_clients": disconnected_account_clients(connection),
        "owned_objects": OWNED_OBJECTS,
        "confirm_tokens": {
            "full_sync": ConfirmForm.FULL_SYNC,
            "disconnect": ConfirmForm.DISCONNECT,
        },
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


# Settings changes ----------------------------------------------------------------------------
@role_required(Access.CHANGE)
@require_POST
def save_frequency(request: HttpRequest) -> HttpResponse:
    connection = connected_or_none(request)
    if connection is None:
        return settings_redirect()
    form = FrequencyForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return settings_redirect()
    frequency = form.cleaned_data["frequency"]
    schedule.set_frequency(connection, frequency, user=request.user)
    messages.success(request, f"Import frequency saved: {frequency.label}.")
    return settings_redirect()


@role_required(Access.CHANGE)
@require_POST
def turn_off(request: HttpRequest) -> HttpResponse:
    connection = connected_or_none(request)
    if connection is None:
        return settings_redirect()
    schedule.set_sync_enabled(connection, False, user=request.user)
    messages.success(
        request, "Sync is off: scheduled runs are skipped. A run already going finishes."
    )
    return settings_redirect()


@role_required(Access.CHANGE)
@require_POST
def turn_on(request: HttpRequest) -> HttpResponse:
    connection = connected_or_none(request)
    if connection is None:
        return settings_redirect()
    schedule.set_sync_enabled(connection, True, user=request.user)
    messages.success(request, "Sync is on: runs start on schedule again.")
    return settings_redirect()


@role_required(Access.CHANGE)
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    return _start_run(request, RunKind.INCREMENTAL)


@role_required(Access.CHANGE)
@require_POST
def full_sync(request: HttpRequest) -> HttpResponse:
    if not ConfirmForm(request.POST, token=ConfirmForm.FULL_SYNC).is_valid():
        messages.error(request, "Confirm the full sync in its dialog first; nothing was started.")
        return settings_redirect()
    return _start_run(request, RunKind.FULL)


def _start_run(request: HttpRequest, kind: str) -> HttpResponse:
    connection = connected_or_none(request)
    if connection is None:
        return settings_redirect()
    try:
        run, created = request_run(
            connection, kind=kind, trigger=RunTrigger.MANUAL, user=request.user
        )
    except SyncNotReady as exc:
        messages.error(request, str(exc))
        return settings_redirect()
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
    return settings_redirect()


@role_required(Access.CHANGE)
@require_POST
def save_security_owner(request: HttpRequest, client_id: int) -> HttpResponse:
    connection = connected_or_none(request)
    if connection is None:
        return settings_redirect()
    cm_client = get_object_or_404(CMClient, pk=client_id, connection=connection)
    users, error = salesforce_users(connection)
    if error:
        messages.error(request, error)
        return settings_redirect()
    form = SecurityOwnerForm(users, request.POST)
    if not form.is_valid():
        messages.error(request, f"{cm_client.name}: {form_errors(form)}")
        return settings_redirect()
    try:
        set_security_owner(cm_client, form.cleaned_data["owner"], users, user=request.user)
    except ConnectError as exc:
        messages.error(request, f"{cm_client.name}: {exc}")
        return settings_redirect()
    owner = cm_client.security_owner_name
    messages.success(
        request,
        f"{cm_client.name}: Salesforce Security Owner is now {owner}. Its records already in "
        "Salesforce are being re-owned in the background; the clients table shows the progress.",
    )
    return settings_redirect()


@role_required(Access.CHANGE)
@require_POST
def save_selected_clients(request: HttpRequest) -> HttpResponse:
    connection = connected_or_none(request)
    if connection is None:
        return settings_redirect()
    if not connection.cm_is_agency:
        messages.error(request, "This Campaign Monitor account has a single client to sync.")
        return settings_redirect()
    if connection.plan != Plan.ENTERPRISE:
        messages.error(
            request,
            "Selecting clients of an agency account needs the Enterprise plan "
            f"(this installation is on {connection.get_plan_display()}). Nothing changed.",
        )
        return settings_redirect()
    form = SelectClientsForm(connection, request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return settings_redirect()
    try:
        chosen = select_clients(connection, form.cleaned_data["clients"], user=request.user)
    except ConnectError as exc:
        messages.error(request, str(exc))
        return settings_redirect()
    names = ", ".join(c.name for c in chosen)
    messages.success(request, f"Clients to sync saved: {names}.")
    return settings_redirect()
