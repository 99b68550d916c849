"""The industry benchmarks section of the Salesforce Campaigns screen (Admins save it)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from campaigns.forms.benchmarks import BenchmarkForm
from campaigns.services.benchmarks import (
    benchmark_screen,
    benchmark_table,
    industries,
    update_industries,
)
from cmsync.roles import Access, role_required
from sync.services.status import get_connection

NOT_CONNECTED = "Connect Campaign Monitor and Salesforce first."


def benchmark_context(connection, editable: bool) -> dict[str, Any]:
    account, clients = benchmark_screen(connection)
    form = BenchmarkForm(
        initial={"account_industry": account},
        industries=industries(),
        clients=clients,
        disabled=not editable,
    )
    return {"benchmark_form": form, "benchmarks": benchmark_table()}


@role_required(Access.CHANGE)
@require_POST
def save_benchmarks(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    if connection is None or not connection.both_connected:
        messages.error(request, NOT_CONNECTED)
        return redirect("campaigns-settings")
    _, clients = benchmark_screen(connection)
    form = BenchmarkForm(request.POST, industries=industries(), clients=clients)
    if not form.is_valid():
        messages.error(request, "Pick an industry from the list; nothing was saved.")
        return redirect("campaigns-settings")
    changed = update_industries(
        connection,
        request.user,
        account=form.cleaned_data["account_industry"],
        clients=form.client_industries(),
    )
    if changed:
        messages.success(
            request, f"Saved: {', '.join(changed)}. The next sync writes the new benchmarks."
        )
    else:
        messages.info(request, "Nothing changed in the industry benchmarks.")
    return redirect("campaigns-settings")
