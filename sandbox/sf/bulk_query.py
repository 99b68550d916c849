"""Bulk API 2.0 query jobs (``/services/data/vNN.N/jobs/query``), as ``sf.bulk2.X.query`` uses
them: ``POST jobs/query`` ``{"operation": "query"|"queryAll", "query": soql}``, poll ``GET
jobs/query/{id}`` until ``JobComplete``, then page ``GET jobs/query/{id}/results?maxRecords=n
[&locator=…]`` — CSV with the ``Sforce-Locator`` (``null`` on the last page) and
``Sforce-NumberOfRecords`` headers. The query runs when the job is created.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sandbox.core.http import Request, Response

from .bulk import DELIMITERS, LINE_ENDINGS
from .errors import SfError
from .ids import normalize_id
from .query import parse_soql

if TYPE_CHECKING:
    from .app import SalesforceApp

DEFAULT_PAGE = 50_000


@dataclass
class QueryJob:
    id: str
    operation: str
    object: str
    query: str
    column_delimiter: str
    line_ending: str
    api_version: str
    created_by: str
    created_date: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    state: str = "JobComplete"

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created_date,
            "systemModstamp": self.created_date,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": len(self.rows),
            "retries": 0,
            "totalProcessingTime": 0,
        }


class QueryJobs:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, QueryJob] = {}

    def get(self, raw_id: str) -> QueryJob:
        with self.lock:
            job = self.jobs.get(normalize_id(unquote(raw_id)) or "")
        if job is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        return job


def register(app: SalesforceApp) -> None:
    base = "/services/data/{version}/jobs/query"
    jobs = QueryJobs()
    app.query_jobs = jobs
    app.route("POST", base, "bulk2.query.create", lambda r, v: create(app, jobs, r, v))
    app.route("GET", base, "bulk2.query.list", lambda r, v: listing(jobs))
    app.route(
        "GET",
        base + "/{id}",
        "bulk2.query.get",
        lambda r, v: Response.json(jobs.get(r.params["id"]).info()),
    )
    app.route("PATCH", base + "/{id}", "bulk2.query.state", lambda r, v: abort(app, jobs, r))
    app.route("DELETE", base + "/{id}", "bulk2.query.delete", lambda r, v: delete(jobs, r))
    app.route("GET", base + "/{id}/results", "bulk2.query.results", lambda r, v: results(jobs, r))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _lookup(row: dict[str, Any], path: list[str]) -> Any:
    value: Any = row
    for part in path:
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(key) if key else None
    return value


def create(app: SalesforceApp, jobs: QueryJobs, request: Request, version: str) -> Response:
    body = app.body(request)
    if not isinstance(body, dict):
        raise SfError("INVALIDJOB", "InvalidJob : The request body must be a JSON object")
    operation = body.get("operation")
    if operation not in ("query", "queryAll"):
        raise SfError("INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
    delimiter = str(body.get("columnDelimiter") or "COMMA").upper()
    line_ending = str(body.get("lineEnding") or "LF").upper()
    if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
        raise SfError("INVALIDJOB", "InvalidJob : Invalid columnDelimiter or lineEnding")
    text = str(body.get("query") or "")
    definition, rows = app.run_query(text, operation == "queryAll", version)
    if isinstance(rows, int):
        raise SfError("INVALIDJOB", "InvalidJob : COUNT() is not supported by Bulk API query")
    query = parse_soql(text)
    paths = [list(ref.path) for ref in getattr(query, "fields", [])]
    paths = [p[1:] if len(p) > 1 and p[0].lower() == definition.name.lower() else p for p in paths]
    job = QueryJob(
        id=app.store.ids.new("750"),
        operation=operation,
        object=definition.name,
        query=text,
        column_delimiter=delimiter,
        line_ending=line_ending,
        api_version=version,
        created_by=app.user_for(request) or app.admin_user_id,
        created_date=app.store.stamp(),
        columns=[".".join(p) for p in paths],
        rows=[[_cell(_lookup(row, p)) for p in paths] for row in rows],
    )
    with jobs.lock:
        jobs.jobs[job.id] = job
    answer = job.info()
    answer["state"] = "UploadComplete"
    return Response.json(answer)


def listing(jobs: QueryJobs) -> Response:
    with jobs.lock:
        records = [job.info() for job in jobs.jobs.values()]
    return Response.json({"done": True, "records": records, "nextRecordsUrl": None})


def abort(app: SalesforceApp, jobs: QueryJobs, request: Request) -> Response:
    job = jobs.get(request.params["id"])
    body = app.body(request)
    if not isinstance(body, dict) or body.get("state") != "Aborted":
        raise SfError("INVALIDJOBSTATE", "A query job can only be changed to Aborted")
    if job.state != "JobComplete":
        job.state = "Aborted"
    return Response.json(job.info())


def delete(jobs: QueryJobs, request: Request) -> Response:
    job = jobs.get(request.params["id"])
    with jobs.lock:
        jobs.jobs.pop(job.id, None)
    return Response(status=204)


def results(jobs: QueryJobs, request: Request) -> Response:
    job = jobs.get(request.params["id"])
    try:
        page = max(1, int(request.query.get("maxRecords") or DEFAULT_PAGE))
        start = int(request.query.get("locator") or 0)
    except ValueError:
        raise SfError("INVALIDLOCATOR", "Invalid locator or maxRecords") from None
    chunk = job.rows[start : start + page]
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=DELIMITERS[job.column_delimiter],
        lineterminator=LINE_ENDINGS[job.line_ending],
        quoting=csv.QUOTE_ALL,
    )
    writer.writerow(job.columns)
    writer.writerows(chunk)
    following = start + page
    response = Response.text(buffer.getvalue(), content_type="text/csv; charset=UTF-8")
    response.headers["Sforce-Locator"] = str(following) if following < len(job.rows) else "null"
    response.headers["Sforce-NumberOfRecords"] = str(len(chunk))
    return response
