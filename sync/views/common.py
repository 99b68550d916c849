"""Helpers shared by the Sync Settings and Connect views."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect

from maintenance.services import record_changes
from sync.models import Connection
from sync.services.status import get_connection


def audit(request: HttpRequest, setting: str, before: object, after: object) -> None:
    record_changes(user=request.user, area="Sync Settings", changes={setting: (before, after)})


def settings_redirect() -> HttpResponseRedirect:
    return redirect("sync-settings")


def fully_connected(connection: Connection | None) -> bool:
    return bool(connection and connection.cm_connected and connection.sf_connected)


def connected_or_none(request: HttpRequest) -> Connection | None:
    """The connection for a settings change, or None after flashing what to do first."""
    connection = get_connection()
    if not fully_connected(connection):
        messages.error(request, "Connect Campaign Monitor and Salesforce first.")
        return None
    return connection


def posted(request: HttpRequest):
    """The submitted data on POST (even when empty, so the form reports what is missing)."""
    return request.POST if request.method == "POST" else None


def form_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)
