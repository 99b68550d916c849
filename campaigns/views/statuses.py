"""Campaign member statuses: the options and the status map of the Salesforce Campaigns screen.

Everyone signed in reads it; only Admins save (``role_required``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from campaigns.forms.statuses import MemberStatusesForm, initial_from
from campaigns.services.statuses import (
    MAP_SETTING,
    OPTIONS,
    StatusMapError,
    current_statuses,
    update_statuses,
)
from cmsync.roles import Access, can_change, role_required
from sync.services.status import get_connection

NOT_CONNECTED = "Connect Campaign Monitor and Salesforce first."


@role_required(Access.READ)
@require_http_methods(["GET", "POST"])
def member_statuses(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    connected = connection is not None and connection.both_connected
    editable = can_change(request.user)
    if request.method == "POST":
        if not connected:
            messages.error(request, NOT_CONNECTED)
            return redirect("campaigns-statuses")
        form = MemberStatusesForm(request.POST)
        if form.is_valid():
            return _save(request, connection, form)
        messages.error(request, "The status map was refused; nothing was saved.")
        return _render(request, connected, editable, form, status=400)
    form = MemberStatusesForm(disabled=True)
    if connected:
        form = MemberStatusesForm(
            initial=initial_from(current_statuses(connection)), disabled=not editable
        )
    return _render(request, connected, editable, form)


def _render(
    request: HttpRequest, connected: bool, editable: bool, form, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "page_title": "Campaign member statuses",
        "connected": connected,
        "can_change": editable,
        "form": form,
    }
    return render(request, "campaigns/statuses.html", context, status=status)


def _save(request: HttpRequest, connection, form: MemberStatusesForm) -> HttpResponse:
    data = form.cleaned_data
    try:
        changed = update_statuses(
            connection,
            request.user,
            status_map=data["status_map"],
            **{name: data[name] for name in OPTIONS},
        )
    except StatusMapError as exc:
        form.add_error(None, str(exc))
        messages.error(request, "The status map was refused; nothing was saved.")
        return _render(request, True, True, form, status=400)
    if not changed:
        messages.info(request, "Nothing changed.")
    else:
        names = {**OPTIONS, "status_map": MAP_SETTING}
        messages.success(request, f"Saved: {', '.join(names[n] for n in changed)}.")
    return redirect("campaigns-statuses")
