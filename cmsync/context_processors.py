"""Template context every console page needs: navigation, the signed-in user's role, the bell."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .roles import role_label

# (label, URL name). Only screens whose URL exists are listed, so the menu never shows a dead link.
NAVIGATION = [
    ("Dashboard", "dashboard"),
    ("Sync Settings", "sync-settings"),
    ("Run history", "sync-runs"),
    ("Storage", "sync-storage"),
    ("General Options", "sync-options"),
    ("Tracking panel", "sync-tracking-panel"),
    ("Import", "sync-import"),
    ("Salesforce Campaigns", "campaigns-settings"),
    ("SMS", "sms-settings"),
    ("Maintenance", "maintenance-messages"),
    ("Billing", "billing-plan"),
]


def _nav_items(request: HttpRequest) -> list[dict[str, Any]]:
    items = []
    for label, name in NAVIGATION:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"label": label, "url": url, "active": active})
    return items


def console(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {"product_name": "cmsync"}
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return context
    from maintenance.services import unread_count

    try:
        notifications_url = reverse("maintenance-messages")
    except NoReverseMatch:
        notifications_url = "#"
    context.update(
        nav_items=_nav_items(request),
        user_role=role_label(user),
        unread_notifications=unread_count(),
        notifications_url=notifications_url,
    )
    return context
