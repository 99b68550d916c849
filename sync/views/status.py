"""Views of the sync app: dashboard, connections, Sync Settings, run history."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse

from cmsync.roles import Access, role_required
from maintenance.services import last_heartbeat
from sync.models import SyncOptions, SyncRun
from sync.services.schedule import next_run_at
from sync.services.status import describe_sync_state, get_connection, last_run_for


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@role_required(Access.READ)
def dashboard(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    last_run = last_run_for(connection)
    context = {
        "page_title": "Dashboard",
        "connection": connection,
        "last_run": last_run,
        "state": describe_sync_state(connection, last_run),
        "next_run": next_run_at(connection) if connection else None,
        "heartbeat": last_heartbeat(),
        "sync_settings_url": _url_or_none("sync-settings"),
        "triggers_disabled": bool(
            connection and SyncOptions.objects.filter(connection=connection, disable_triggers=True)
        ),
        "selected_clients": ", ".join(
            connection.clients.filter(selected=True).values_list("name", flat=True)
        )
        if connection
        else "",
    }
    return render(request, "sync/dashboard.html", context)


def _run_progress(run: SyncRun) -> dict:
    return {
        "status": run.get_status_display(),
        "stage": run.stage or "—",
        "percent": run.percent,
        "written": run.total_written,
        "cm_calls": run.cm_calls,
        "sf_calls": run.sf_calls,
        "done": not run.is_active,
    }


@role_required(Access.READ)
def run_list(request: HttpRequest) -> HttpResponse:
    runs = SyncRun.objects.select_related("connection")
    page = Paginator(runs, 25).get_page(request.GET.get("page"))
    return render(request, "sync/run_list.html", {"page_title": "Run history", "page": page})


@role_required(Access.READ)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=run_id)
    rejections = Paginator(run.rejections.select_related("cm_client"), 50).get_page(
        request.GET.get("page")
    )
    context = {
        "page_title": f"Run {run.pk}",
        "run": run,
        "jobs": run.client_jobs.select_related("cm_client"),
        "page": rejections,
        "messages_of_run": run.messages.all()[:50],
    }
    return render(request, "sync/run_detail.html", context)


@role_required(Access.READ)
def run_progress(request: HttpRequest, run_id: int) -> JsonResponse:
    run = get_object_or_404(SyncRun, pk=run_id)
    return JsonResponse(_run_progress(run))
