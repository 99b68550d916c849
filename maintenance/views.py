"""Maintenance messages, the guidance behind each support code, and the audit log (all read-only
screens: ``role_required(Access.READ)``)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from cmsync.roles import Access, role_required

from .models import AuditEntry, Level, MaintenanceMessage
from .support_codes import SUPPORT_CODES, get_support_code


@role_required(Access.READ)
def message_list(request: HttpRequest) -> HttpResponse:
    messages = MaintenanceMessage.objects.select_related("run")
    level = request.GET.get("level", "")
    if level in Level.values:
        messages = messages.filter(level=level)
    page = Paginator(messages, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "maintenance/message_list.html",
        {
            "page_title": "Maintenance messages",
            "page": page,
            "level": level,
            "levels": Level.choices,
        },
    )


@role_required(Access.READ)
def support_code_detail(request: HttpRequest, code: str) -> HttpResponse:
    support_code = get_support_code(code)
    if support_code is None:
        raise Http404("unknown support code")
    return render(
        request,
        "maintenance/support_code.html",
        {"page_title": f"Support code {support_code.code}", "support_code": support_code},
    )


@role_required(Access.READ)
def support_code_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "maintenance/support_code_list.html",
        {"page_title": "Support codes", "codes": SUPPORT_CODES.values()},
    )


@role_required(Access.READ)
def audit_log(request: HttpRequest) -> HttpResponse:
    """Every change of a setting (who, when, before → after), newest first, by area."""
    entries = AuditEntry.objects.order_by("-created_at", "-pk")
    areas = AuditEntry.objects.order_by("area").values_list("area", flat=True).distinct()
    area = request.GET.get("area", "")
    if "\x00" in area:  # no area holds a NUL, and PostgreSQL refuses one in a query
        entries = entries.none()
    elif area:
        entries = entries.filter(area=area)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "maintenance/audit_log.html",
        {"page_title": "Audit log", "page": page, "area": area, "areas": areas},
    )
