"""The Salesforce Campaigns screen: its options, the backfill with its count and progress.

Everyone signed in reads it; only Admins save (``role_required``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from campaigns.forms.settings import CampaignSettingsForm
from campaigns.services.backfill import backfill_count, latest_job
from campaigns.services.settings import OPTIONS, current_settings, update_settings
from campaigns.views.benchmarks import benchmark_context
from campaigns.views.filters import filter_context
from cmsync.roles import Access, can_change, role_required
from sync.services.status import get_connection

NOT_CONNECTED = "Connect Campaign Monitor and Salesforce first."


@role_required(Access.READ)
@require_http_methods(["GET", "POST"])
def campaign_settings(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    connected = connection is not None and connection.both_connected
    if request.method == "POST":
        return _save(request, connection if connected else None)
    context: dict[str, Any] = {
        "page_title": "Salesforce Campaigns",
        "connected": connected,
        "can_change": can_change(request.user),
        "form": CampaignSettingsForm(disabled=True),
    }
    if connected:
        saved = current_settings(connection)
        editable = can_change(request.user)
        context.update(
            saved=saved,
            form=CampaignSettingsForm(
                initial={name: getattr(saved, name) for name in OPTIONS}, disabled=not editable
            ),
            backfill_count=backfill_count(connection),
            job=latest_job(connection),
        )
        context.update(filter_context(request, connection, editable))
        context.update(benchmark_context(connection, editable))
    return render(request, "campaigns/settings.html", context)


def _save(request: HttpRequest, connection) -> HttpResponse:
    if connection is None:
        messages.error(request, NOT_CONNECTED)
        return redirect("campaigns-settings")
    form = CampaignSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The options could not be read; nothing was saved.")
        return redirect("campaigns-settings")
    changed = update_settings(connection, request.user, **form.cleaned_data)
    if not changed:
        messages.info(request, "Nothing changed.")
    else:
        words = ", ".join(
            f"{OPTIONS[name]} {'on' if form.cleaned_data[name] else 'off'}" for name in changed
        )
        messages.success(request, f"Saved: {words}.")
    return redirect("campaigns-settings")
