"""The campaign filter section of the Salesforce Campaigns screen (Admins save it)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from campaigns.forms.filters import CampaignFilterForm
from campaigns.services.filters import FilterScreen, filter_screen, update_filter
from cmsync.roles import Access, role_required
from sync.services.status import get_connection

NOT_CONNECTED = "Connect Campaign Monitor and Salesforce first."


def _tell_dropped(request: HttpRequest, screen: FilterScreen) -> None:
    if screen.dropped:
        messages.warning(
            request,
            "Dropped from the campaign filter, as Campaign Monitor no longer has them: "
            f"{', '.join(screen.dropped)}.",
        )


def _tell_future(request: HttpRequest, screen: FilterScreen) -> None:
    if screen.waits_for_start:
        messages.warning(
            request,
            f"The start date {screen.rule.start_date.isoformat()} is in the future: no new "
            "campaign syncs until then.",
        )


def filter_context(request: HttpRequest, connection, editable: bool) -> dict[str, Any]:
    """The filter section of the settings page (reads CM's tags; a vanished tag is dropped)."""
    screen = filter_screen(connection)
    _tell_dropped(request, screen)
    form = CampaignFilterForm(
        initial={
            "filter_active": screen.rule.active,
            "start_date": screen.rule.start_date,
            "tags": list(screen.rule.tags),
        },
        tags=screen.tags,
        disabled=not editable,
    )
    return {"filter": screen, "filter_form": form}


@role_required(Access.CHANGE)
@require_POST
def save_filter(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    if connection is None or not connection.both_connected:
        messages.error(request, NOT_CONNECTED)
        return redirect("campaigns-settings")
    screen = filter_screen(connection)
    form = CampaignFilterForm(request.POST, tags=screen.tags)
    if not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, f"The campaign filter was not saved: {errors}")
        return redirect("campaigns-settings")
    data = form.cleaned_data
    changed = update_filter(
        connection,
        request.user,
        active=data["filter_active"],
        start_date=data["start_date"],
        tags=data["tags"],
    )
    if changed:
        messages.success(
            request,
            f"Saved: {', '.join(changed)}. Campaigns already in Salesforce are kept.",
        )
    else:
        messages.info(request, "Nothing changed in the campaign filter.")
    _tell_future(request, filter_screen(connection))
    return redirect("campaigns-settings")
