"""Console roles: Admin changes everything; Support reads everything and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

ADMIN_GROUP = "Admin"
SUPPORT_GROUP = "Support"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Signing out is not a change to cmsync, so read-only users may POST to it.
_ALWAYS_ALLOWED_PATHS = {"/accounts/logout/"}
READ_ONLY_MESSAGE = "Your role may read this console but not change it."


def can_change(user) -> bool:
    """True for superusers and members of the Admin group."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=ADMIN_GROUP).exists()


View = Callable[..., HttpResponse]


def admin_required(view: View) -> View:
    """Refuse anyone who may not change the console (the middleware does too, for POSTs)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_change(request.user):
            raise PermissionDenied(READ_ONLY_MESSAGE)
        return view(request, *args, **kwargs)

    return wrapper


class ReadOnlySupportMiddleware:
    """Answer 403 to every non-safe request from a signed-in user who may not change things."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method not in _SAFE_METHODS
            and request.user.is_authenticated
            and request.path not in _ALWAYS_ALLOWED_PATHS
            and not can_change(request.user)
        ):
            raise PermissionDenied(READ_ONLY_MESSAGE)
        return self.get_response(request)


def role_label(user) -> str:
    """The role shown next to the user's name."""
    if user.is_superuser:
        return "Superuser"
    names = set(user.groups.values_list("name", flat=True))
    if ADMIN_GROUP in names:
        return ADMIN_GROUP
    if SUPPORT_GROUP in names:
        return "Support (read-only)"
    return "No role (read-only)"
