"""The live tracking panel: a console page and an embeddable frame for Contact/Lead pages.

Both read Campaign Monitor live through :mod:`sync.services.tracking_panel` and need a signed-in
cmsync user (the embed too: the Salesforce user must be signed in to cmsync in the browser).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from cmsync.roles import Access, role_required
from sync.forms.options import EmailLookupForm
from sync.models import Connection
from sync.services.live_reads import TooManyLiveReads, limited_message
from sync.services.status import get_connection
from sync.services.tracking_panel import tracking_panel

# Salesforce pages that may frame the embed (Classic, Visualforce and Lightning domains).
SALESFORCE_FRAME_ANCESTORS = (
    "'self'",
    "https://*.force.com",
    "https://*.salesforce.com",
    "https://*.lightning.force.com",
)


def _lookup(request: HttpRequest) -> dict[str, Any]:
    """The address form and, for a valid address, the panel (or why it is not shown now)."""
    form = EmailLookupForm(request.GET if "email" in request.GET else None)
    context: dict[str, Any] = {"form": form, "panel": None}
    if form.is_bound and form.is_valid():
        try:
            context["panel"] = tracking_panel(
                get_connection(), form.cleaned_data["email"], request.user
            )
        except TooManyLiveReads as exc:
            context["limited"] = limited_message(exc)
            context["retry_after"] = exc.retry_after
    return context


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context, status=429 if "limited" in context else 200)
    if "limited" in context:
        response["Retry-After"] = str(context["retry_after"])
    return response


@role_required(Access.READ)
@require_GET
def tracking_panel_page(request: HttpRequest) -> HttpResponse:
    context = {"page_title": "Tracking panel", **_lookup(request)}
    return _render(request, "sync/tracking_panel.html", context)


@role_required(Access.READ)
@require_GET
@xframe_options_exempt
def tracking_panel_embed(request: HttpRequest) -> HttpResponse:
    response = _render(request, "sync/tracking_embed.html", {"embedded": True, **_lookup(request)})
    response["Content-Security-Policy"] = frame_ancestors_policy(get_connection())
    return response


def frame_ancestors_policy(connection: Connection | None) -> str:
    """``frame-ancestors`` allowing Salesforce's domains and the connected org's own URL."""
    sources = list(SALESFORCE_FRAME_ANCESTORS)
    instance = _origin(connection.sf_instance_url if connection else "")
    if instance and instance not in sources:
        sources.append(instance)
    return "frame-ancestors " + " ".join(sources)


def _origin(url: str) -> str:
    """``https://host[:port]`` of a URL, or "" if it is not a plain https URL (never a path,
    quote or semicolon that could change the policy)."""
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not parts.hostname:
        return ""
    host = parts.hostname
    if not all(ch.isalnum() or ch in ".-" for ch in host):
        return ""
    try:
        port = parts.port
    except ValueError:
        return ""
    return f"https://{host}:{port}" if port else f"https://{host}"
