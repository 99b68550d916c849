"""Starting the backfill (its count and progress show on the settings screen)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from campaigns.services.backfill import BackfillRefused, request_backfill
from cmsync.roles import Access, role_required
from sync.services.status import get_connection


@role_required(Access.CHANGE)
@require_POST
def start_backfill(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    if connection is None:
        messages.error(request, "Connect Campaign Monitor and Salesforce first.")
        return redirect("campaigns-settings")
    try:
        job = request_backfill(connection, request.user)
    except BackfillRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Backfill started for {job.total} campaign(s).")
    return redirect("campaigns-settings")
