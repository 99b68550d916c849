"""The General Options screen and the per-address consent log.

Everyone signed in reads both; only Admins save options (``role_required``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cmsync.roles import Access, can_change, role_required
from sync.forms.options import INTEGRATION_PERMISSION_SET, EmailLookupForm, GeneralOptionsForm
from sync.models import Connection, ConsentChange
from sync.services.options import current_options, option_label, update_options
from sync.services.status import get_connection
from sync.views.common import NOT_CONNECTED

CONSENT_PAGE_SIZE = 50


@role_required(Access.READ)
@require_http_methods(["GET", "POST"])
def sync_options(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    connected = connection is not None and connection.both_connected
    if request.method == "POST":
        return _save_options(request, connection if connected else None)
    saved = current_options(connection) if connected else {}
    editable = connected and can_change(request.user)
    context: dict[str, Any] = {
        "page_title": "General Options",
        "connected": connected,
        "can_change": can_change(request.user),
        "form": GeneralOptionsForm(initial=saved, disabled=not editable),
        "saved": saved,
        "permission_set": INTEGRATION_PERMISSION_SET,
        "consent_form": EmailLookupForm(),
    }
    return render(request, "sync/options.html", context)


def _save_options(request: HttpRequest, connection: Connection | None) -> HttpResponse:
    if connection is None:
        messages.error(request, NOT_CONNECTED)
        return redirect("sync-options")
    form = GeneralOptionsForm(request.POST)
    if not form.is_valid():  # booleans only: a tampered post, not a typing mistake
        messages.error(request, "The options could not be read; nothing was saved.")
        return redirect("sync-options")
    changed = update_options(connection, request.user, **form.cleaned_data)
    if not changed:
        messages.info(request, "Nothing changed.")
    else:
        described = ", ".join(
            f"{option_label(name)} {'on' if form.cleaned_data[name] else 'off'}" for name in changed
        )
        messages.success(request, f"Saved: {described}.")
    return redirect("sync-options")


@role_required(Access.READ)
@require_GET
def consent_log(request: HttpRequest) -> HttpResponse:
    """Every opt-in/opt-out change cmsync carried across for one address, newest first."""
    form = EmailLookupForm(request.GET if "email" in request.GET else None)
    page = None
    email = ""
    if form.is_bound and form.is_valid():
        email = form.cleaned_data["email"]
        changes = ConsentChange.objects.filter(email__iexact=email).order_by("-changed_at", "-pk")
        page = Paginator(changes, CONSENT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sync/consent_log.html",
        {"page_title": "Consent log", "form": form, "email": email, "page": page},
    )
