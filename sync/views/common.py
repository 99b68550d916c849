"""View helpers shared by the sync screens: redirects, posted data, form errors, the connection."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect

from sync.models import Connection
from sync.services.status import get_connection

NOT_CONNECTED = "Connect Campaign Monitor and Salesforce first."


def settings_redirect() -> HttpResponseRedirect:
    return redirect("sync-settings")


def connected_or_none(request: HttpRequest) -> Connection | None:
    """The connection for a settings change, or None after flashing what to do first."""
    connection = get_connection()
    if connection is None or not connection.both_connected:
        messages.error(request, NOT_CONNECTED)
        return None
    return connection


def posted(request: HttpRequest):
    """The submitted data on POST (even when empty, so the form reports what is missing)."""
    return request.POST if request.method == "POST" else None


def form_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)
