"""The import wizard: Salesforce list view or report → Campaign Monitor list.

Step 1 (``sync-import``) picks the source and the list and lists earlier imports; step 2
(``sync-import-map``, GET parameters ``source`` and ``list``) maps fields and starts the import;
the import's page follows its progress. Everyone signed in may look; only Admins start imports
and change standing field mappings (``role_required``). What the screens read from Salesforce
and Campaign Monitor comes from :mod:`sync.services.import_wizard`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cmsync.roles import Access, can_change, role_required
from sync.clients.errors import ApiError
from sync.forms.imports import FieldMappingForm, ImportStartForm
from sync.models import Connection, ImportJob, StandingMapping, SyncOptions
from sync.services import import_wizard, imports, standing
from sync.services.live_reads import TooManyLiveReads, limited_message
from sync.services.status import get_connection

PAGE_SIZE = 25
MAPPING_ACTIONS = ("pause", "resume", "delete")
UNREACHABLE = (
    "Salesforce or Campaign Monitor could not be reached to list what can be imported: {}. "
    "Try again in a minute."
)


def _blocked_reason(connection: Connection | None) -> str:
    if connection is None:
        return imports.NOT_CONNECTED
    try:
        imports.ensure_ready(connection)
    except imports.ImportRefused as exc:
        return str(exc)
    return ""


@role_required(Access.READ)
@require_GET
def import_start(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    context: dict[str, Any] = {
        "page_title": "Import to Campaign Monitor",
        "blocked": _blocked_reason(connection),
        "can_change": can_change(request.user),
        "page": Paginator(ImportJob.objects.select_related("cm_client"), PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
        "standing_mappings": StandingMapping.objects.select_related("cm_client"),
    }
    if connection is not None and connection.both_connected:
        try:
            available = import_wizard.choices(connection, request.user)
        except TooManyLiveReads as exc:
            context["unreachable"] = limited_message(exc)
            return _too_many(render(request, "sync/import_start.html", context), exc)
        except ApiError as exc:
            context["unreachable"] = UNREACHABLE.format(exc.message or type(exc).__name__)
        else:
            data = request.GET if "source" in request.GET else None
            form = ImportStartForm(
                data, sources=available.sources, destinations=available.destinations
            )
            if form.is_bound and form.is_valid():
                chosen = form.cleaned_data
                query = urlencode({"source": chosen["source"], "list": chosen["destination"]})
                return redirect(f"{reverse('sync-import-map')}?{query}")
            context["form"] = form
    return render(request, "sync/import_start.html", context)


@role_required(Access.READ)
@require_http_methods(["GET", "POST"])
def import_map(request: HttpRequest) -> HttpResponse:
    connection = get_connection()
    blocked = _blocked_reason(connection)
    if blocked:
        messages.error(request, blocked)
        return redirect("sync-import")
    try:
        chosen = import_wizard.chosen(
            connection, request.GET.get("source"), request.GET.get("list"), request.user
        )
    except TooManyLiveReads as exc:
        context = {"page_title": "Map fields", "message": limited_message(exc)}
        return _too_many(render(request, "sync/import_limited.html", context), exc)
    except ApiError as exc:
        messages.error(request, UNREACHABLE.format(exc.message or type(exc).__name__))
        return redirect("sync-import")
    if chosen is None:
        messages.error(request, "Choose a list view or report and a list from the lists below.")
        return redirect("sync-import")
    source, destination, cm_fields = chosen.source, chosen.destination, chosen.cm_fields
    form = FieldMappingForm(
        request.POST if request.method == "POST" else None,
        source_fields=chosen.source_fields,
        cm_fields=cm_fields,
        can_keep_in_step=source.kind == "listview",
    )
    previewing = request.POST.get("action") == "preview"
    if request.method == "POST" and not previewing and form.is_valid():
        email, name, custom = form.mapping()
        plan = imports.ImportPlan(
            source,
            destination,
            email,
            name,
            custom,
            form.cleaned_data["consent_to_track"],
            keep_in_step=bool(form.cleaned_data.get("keep_in_step")),
        )
        try:
            job = imports.start_import(connection, request.user, plan)
        except imports.ImportRefused as exc:
            messages.error(request, str(exc))
            return redirect("sync-import")
        messages.success(request, f"Import {job.pk} started.")
        return redirect("sync-import-detail", job_id=job.pk)
    context = {
        "page_title": "Map fields",
        "source": source,
        "destination": destination,
        "form": form,
        "trigger_journeys": SyncOptions.for_connection(connection).trigger_journeys,
        "can_change": can_change(request.user),
        **_preview(request, connection, source, form, cm_fields),
    }
    return render(request, "sync/import_map.html", context, status=400 if form.errors else 200)


def _preview(
    request: HttpRequest, connection: Connection, source, form: FieldMappingForm, cm_fields
) -> dict[str, Any]:
    mapping = form.mapping_for_preview()
    if mapping is None:
        return {"preview": None}
    try:
        rows = import_wizard.preview(connection, source, mapping, cm_fields, request.user)
    except TooManyLiveReads as exc:
        return {"preview": None, "preview_error": limited_message(exc)}
    except ApiError as exc:
        return {"preview": None, "preview_error": UNREACHABLE.format(exc.message)}
    return {"preview": rows}


def _too_many(response: HttpResponse, exc: TooManyLiveReads) -> HttpResponse:
    """The page, answered 429 with the seconds to wait."""
    response.status_code = 429
    response["Retry-After"] = str(exc.retry_after)
    return response


@role_required(Access.READ)
@require_GET
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    jobs = ImportJob.objects.select_related("cm_client", "requested_by")
    job = get_object_or_404(jobs, pk=job_id)
    context = {
        "page_title": f"Import {job.pk}",
        "job": job,
        "can_change": can_change(request.user),
        "blocked": _blocked_reason(job.connection) or _not_selected(job),
    }
    return render(request, "sync/import_detail.html", context)


def _not_selected(job: ImportJob) -> str:
    try:
        imports.ensure_selected(job.connection, job.cm_client)
    except imports.ImportRefused as exc:
        return str(exc)
    return ""


@role_required(Access.READ)
@require_GET
def import_progress(request: HttpRequest, job_id: int) -> JsonResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    return JsonResponse(
        {
            "status": job.get_status_display(),
            "percent": job.percent,
            "rows_read": job.rows_read,
            "total_rows": job.total_rows if job.total_rows is not None else "?",
            "imported": job.imported,
            "failed": job.failed,
            "done": not job.is_active,
        }
    )


@role_required(Access.CHANGE)
@require_POST
def import_run_again(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.select_related("connection", "cm_client"), pk=job_id)
    try:
        again, created = import_wizard.run_again(job, request.user)
    except imports.ImportRefused as exc:
        messages.error(request, str(exc))
        return redirect("sync-import-detail", job_id=job.pk)
    except TooManyLiveReads as exc:
        messages.error(request, limited_message(exc))
        return redirect("sync-import-detail", job_id=job.pk)
    except ApiError as exc:
        messages.error(request, UNREACHABLE.format(exc.message or type(exc).__name__))
        return redirect("sync-import-detail", job_id=job.pk)
    if created:
        messages.success(request, f"Import {again.pk} started (the same import as {job.pk}).")
    else:
        messages.info(
            request,
            f"Import {again.pk} of the same list view or report into the same list is already "
            f"{again.get_status_display().lower()}; no other was started.",
        )
    return redirect("sync-import-detail", job_id=again.pk)


@role_required(Access.CHANGE)
@require_POST
def standing_mapping_action(request: HttpRequest, mapping_id: int, action: str) -> HttpResponse:
    """Pause, resume or delete a standing field mapping (audited)."""
    if action not in MAPPING_ACTIONS:
        raise Http404("No such action")
    mapping = get_object_or_404(StandingMapping, pk=mapping_id)
    if action == "delete":
        standing.delete(mapping, request.user)
        messages.success(request, f"{mapping} is no longer kept in step.")
    else:
        standing.set_active(mapping, action == "resume", request.user)
        state = "kept in step again" if action == "resume" else "paused"
        messages.success(request, f"{mapping} is {state}.")
    return redirect("sync-import")
