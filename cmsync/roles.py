"""Console roles, and the one rule of who may call a view.

Admins (superusers and the Admin group) change everything; Support, and anyone signed in
without a role, read everything and change nothing.

Every view of the console carries :func:`role_required`, which says what a request to it does:

- ``Access.READ``: reading (GET, HEAD, OPTIONS) is open to everyone signed in; any other
  method changes something and needs an Admin. Screens, and forms that save on POST.
- ``Access.CHANGE``: every request changes something, whatever its method, so only Admins may
  call it. Action POSTs, and the OAuth starts and callbacks (a callback changes on GET).

It is the outermost decorator, so a refused request gets the same 403 and words before the
view's own method check. Signing in is ``LoginRequiredMiddleware``'s job; Django's own login,
logout and admin views keep Django's rules. ``tests/test_access.py`` walks every URL and
checks each view carries the decorator's marker (:data:`ACCESS_ATTRIBUTE`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

ADMIN_GROUP = "Admin"
SUPPORT_GROUP = "Support"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_MESSAGE = "Your role may read this console but not change it."
# The attribute role_required leaves on a view: which Access it grants.
ACCESS_ATTRIBUTE = "cmsync_access"

View = Callable[..., HttpResponse]


class Access(StrEnum):
    """What a request to a view does (see the module docstring)."""

    READ = "read"
    CHANGE = "change"


def can_change(user) -> bool:
    """True for superusers and members of the Admin group."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=ADMIN_GROUP).exists()


def may(user, access: Access, method: str) -> bool:
    """Whether ``user`` may send a ``method`` request to a view of the given access."""
    if access == Access.READ and method in SAFE_METHODS:
        return bool(user.is_authenticated and user.is_active)
    return can_change(user)


def role_required(access: Access) -> Callable[[View], View]:
    """Refuse (403) a request the user's role does not allow; see :class:`Access`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may(request.user, access, request.method or "GET"):
                raise PermissionDenied(READ_ONLY_MESSAGE)
            return view(request, *args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, access)
        return wrapper

    return decorate


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
