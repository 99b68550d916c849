"""The Storage screen: storage used in Salesforce, its forecast, and the tracking-history and
campaign-member-aggregate settings.

Everyone signed in reads it; only Admins change it (``role_required``). Views validate a form
and call a service; the services audit every change.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cmsync.roles import Access, can_change, role_required
from sync.forms.storage import CampaignMemberAggregatesForm, TrackingHistoryForm
from sync.models import Connection, EmailType, SyncOptions
from sync.services import storage
from sync.services.status import get_connection
from sync.views.common import NOT_CONNECTED


@role_required(Access.READ)
@require_GET
def storage_screen(request: HttpRequest) -> HttpResponse:
    return _render_screen(request, get_connection(), refresh=request.GET.get("refresh") == "1")


def _render_screen(
    request: HttpRequest,
    connection: Connection | None,
    *,
    tracking_form: TrackingHistoryForm | None = None,
    refresh: bool = False,
) -> HttpResponse:
    context: dict[str, Any] = {
        "page_title": "Storage",
        "connection": connection,
        "can_change": can_change(request.user),
        "report": storage.storage_report(connection, refresh=refresh),
        "record_kb": storage.RECORD_KB,
    }
    if connection is not None:
        options = SyncOptions.for_connection(connection)
        context.update(
            options=options,
            setting_in_words=options.tracking_description(),
            tracking_form=tracking_form or TrackingHistoryForm.for_options(options),
            aggregates_form=CampaignMemberAggregatesForm(
                initial={"campaign_member_aggregates": options.campaign_member_aggregates}
            ),
        )
    return render(request, "sync/storage.html", context)


def _connection_or_redirect(request: HttpRequest) -> Connection | None:
    connection = get_connection()
    if connection is None:
        messages.error(request, NOT_CONNECTED)
    return connection


@role_required(Access.CHANGE)
@require_POST
def save_tracking_history(request: HttpRequest) -> HttpResponse:
    connection = _connection_or_redirect(request)
    if connection is None:
        return redirect("sync-storage")
    form = TrackingHistoryForm(request.POST)
    if not form.is_valid():
        return _render_screen(request, connection, tracking_form=form)
    days = form.cleaned_data["days_to_keep"]
    types = form.cleaned_data["email_types_to_keep"]
    options = SyncOptions.for_connection(connection)
    proposed = storage.proposed_options(options, days, types)
    if storage.narrows(options, proposed) and not form.cleaned_data["confirmed"]:
        return _confirm(request, connection, options, proposed)
    queued = storage.save_tracking_history(
        connection, days_to_keep=days, email_types=types, user=request.user
    )
    saved = f"Tracking history saved: cmsync keeps {proposed.tracking_description()}."
    if queued:
        saved += (
            " The retention job is deleting the tracking records outside the new setting; "
            "Maintenance shows how many when it is done."
        )
    messages.success(request, saved)
    return redirect("sync-storage")


def _confirm(
    request: HttpRequest, connection: Connection, current: SyncOptions, proposed: SyncOptions
) -> HttpResponse:
    context = {
        "page_title": "Storage",
        "connection": connection,
        "count": storage.count_to_delete(connection, proposed),
        "current_in_words": current.tracking_description(),
        "proposed_in_words": proposed.tracking_description(),
        "days_to_keep": proposed.days_to_keep,
        "email_types": proposed.email_types_to_keep,
        "removed_types": storage.type_labels(current.types_dropped_by(proposed)),
        "type_labels": dict(EmailType.choices),
    }
    return render(request, "sync/storage_confirm.html", context)


@role_required(Access.CHANGE)
@require_POST
def save_campaign_member_aggregates(request: HttpRequest) -> HttpResponse:
    connection = _connection_or_redirect(request)
    if connection is None:
        return redirect("sync-storage")
    form = CampaignMemberAggregatesForm(request.POST)
    form.is_valid()  # a missing checkbox is "off"; there is nothing else to get wrong
    enabled = form.cleaned_data.get("campaign_member_aggregates", False)
    storage.save_campaign_member_aggregates(connection, enabled=enabled, user=request.user)
    state = "on" if enabled else "off"
    messages.success(request, f"Campaign member aggregates are {state}.")
    return redirect("sync-storage")
