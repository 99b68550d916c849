"""The live tracking panel: a console page and an embeddable frame for Contact/Lead pages.

Both read Campaign Monitor through :mod:`sync.services.tracking_panel` (answers kept briefly,
fresh look-ups limited per person: past the limit they answer 429 in words) and need a user
with read access.

The embed is framed by Salesforce pages, another site, where the console's session cookie
(SameSite=Lax) is not sent. So it also accepts its own cookie, ``EMBED_COOKIE``: a signed token
naming the user, valid a few hours, HttpOnly, Secure, SameSite=None and sent only to the
embed's URL; it is read on GET only and grants reading the embed, nothing else. A signed-in
person gets it by opening ``sync-tracking-embed-signin`` in a top-level window; without a
session or the cookie the embed shows "Sign in to cmsync", a link to that page in a new tab.
Only the connected org's domains may frame the embed (``frame-ancestors``); every other page of
the console refuses every frame.

Caveat: the embed cookie is a third-party cookie in the Salesforce frame, so browsers that block
those (Safari; Firefox partitions them; Chrome in incognito or by the person's choice) show the
sign-in prompt again after signing in. There the console page works, not the embed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from csp.utils import build_policy
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from cmsync.roles import SAFE_METHODS, Access, role_required
from sync.forms.options import EmailLookupForm
from sync.models import Connection
from sync.services.live_reads import TooManyLiveReads, limited_message
from sync.services.status import get_connection
from sync.services.tracking_panel import (
    embed_frame_ancestors,
    embed_token,
    embed_token_max_age,
    embed_token_user,
    tracking_panel,
)

EMBED_COOKIE = "cmsync_embed"


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
    context = {
        "page_title": "Tracking panel",
        "frame_ancestors": embed_frame_ancestors(get_connection()),
        **_lookup(request),
    }
    return _render(request, "sync/tracking_panel.html", context)


def _framable_by_the_org(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let the connected org's pages, and only them, frame the view's answers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = embed_policy(get_connection())
        return response

    return xframe_options_exempt(wrapper)


def _signed_in_or_embed_cookie(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Who is looking at the embed: the session's user, else (GET only) the embed cookie's.
    With neither, a GET gets the "Sign in to cmsync" prompt; anything else goes on to the role
    check, which refuses it."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated and request.method in SAFE_METHODS:
            user = embed_token_user(request.COOKIES.get(EMBED_COOKIE, ""))
            if user is not None:
                request.user = user  # this request only: no session is made
            else:
                context = {"signin_url": reverse("sync-tracking-embed-signin")}
                return render(request, "sync/tracking_embed_signin.html", context)
        return view(request, *args, **kwargs)

    return wrapper


# The embed is the one view without LoginRequiredMiddleware's redirect (the login page cannot
# be framed): it finds its user itself, then the role check applies as everywhere.
@login_not_required
@_framable_by_the_org
@_signed_in_or_embed_cookie
@role_required(Access.READ)
@require_GET
def tracking_panel_embed(request: HttpRequest) -> HttpResponse:
    return _render(request, "sync/tracking_embed.html", {"embedded": True, **_lookup(request)})


@role_required(Access.READ)
@require_GET
def tracking_embed_signin(request: HttpRequest) -> HttpResponse:
    """A top-level page: gives this browser the embed cookie of the signed-in user."""
    max_age = embed_token_max_age()
    response = render(
        request,
        "sync/tracking_embed_ready.html",
        {"page_title": "Tracking panel in Salesforce", "hours": max_age // 3600},
    )
    response.set_cookie(
        EMBED_COOKIE,
        embed_token(request.user),
        max_age=max_age,
        path=reverse("sync-tracking-embed"),
        secure=True,
        httponly=True,
        samesite="None",
    )
    return response


def embed_policy(connection: Connection | None) -> str:
    """The console's Content-Security-Policy with ``frame-ancestors`` set to who may frame the
    embed (``'none'`` while no org is connected and no extra origin is configured)."""
    ancestors = embed_frame_ancestors(connection) or ["'none'"]
    return build_policy(replace={"frame-ancestors": ancestors})
