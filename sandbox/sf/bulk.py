"""Bulk API 2.0 ingest jobs (``/services/data/vNN.N/jobs/ingest``).

Flow, as simple-salesforce drives it: ``POST jobs/ingest`` (state ``Open``), ``PUT
jobs/ingest/{id}/batches`` with CSV (201), ``PATCH jobs/ingest/{id}`` ``{"state":
"UploadComplete"}``; a worker thread then processes the rows in internal batches of 10,000
(``InProgress``) and ends in ``JobComplete`` (or ``Failed`` when the CSV header is unusable).
Results come back as CSV: ``successfulResults`` (``sf__Id``, ``sf__Created``, original
columns), ``failedResults`` (``sf__Id``, ``sf__Error`` = ``CODE:message:fields --``, original
columns) and ``unprocessedrecords`` (original columns). In the CSV an empty cell leaves a field
unchanged and ``#N/A`` sets it to null.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sandbox.core.http import Request, Response

from .errors import SfError
from .ids import normalize_id
from .schema import FieldDef, ObjectDef
from .store import sf_datetime

if TYPE_CHECKING:
    from .app import SalesforceApp

INTERNAL_BATCH = 10_000
PATCH_WAIT_SECONDS = 10.0
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
RESULT_KINDS = {
    "successfulresults": "successful",
    "failedresults": "failed",
    "unprocessedrecords": "unprocessed",
}
FINAL_STATES = ("JobComplete", "Failed", "Aborted")


@dataclass
class Job:
    id: str
    object: str
    operation: str
    external_id_field: str | None
    column_delimiter: str
    line_ending: str
    api_version: str
    created_by: str
    created_date: str
    state: str = "Open"
    modstamp: str = ""
    uploads: list[bytes] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    successful: list[tuple[str, bool, list[str]]] = field(default_factory=list)
    failed: list[tuple[str, str, list[str]]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    processed: int = 0
    error_message: str | None = None
    processing_ms: int = 0

    def info(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": self.created_by,
            "createdDate": self.created_date,
            "systemModstamp": self.modstamp or self.created_date,
            "state": self.state,
            "externalIdFieldName": self.external_id_field,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Ingest",
            "contentUrl": f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": self.processed,
            "numberRecordsFailed": len(self.failed),
            "retries": 0,
            "totalProcessingTime": self.processing_ms,
            "apiActiveProcessingTime": self.processing_ms,
            "apexProcessingTime": 0,
        }
        if self.error_message:
            body["errorMessage"] = self.error_message
        return body


class BulkJobs:
    """All ingest jobs of the org (kept in memory; jobs are not persisted)."""

    def __init__(self, app: SalesforceApp) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self.batches_used = 0
        self.threads: list[threading.Thread] = []

    def count(self) -> int:
        with self.lock:
            return len(self.jobs)

    def get(self, raw_id: str) -> Job:
        with self.lock:
            job = self.jobs.get(normalize_id(unquote(raw_id)) or "")
        if job is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        return job

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait for processing threads (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        for thread in list(self.threads):
            thread.join(max(deadline - time.monotonic(), 0))


def register(app: SalesforceApp) -> None:
    base = "/services/data/{version}/jobs/ingest"
    jobs = app.bulk_jobs
    app.route("POST", base, "bulk2.ingest.create", lambda r, v: create_job(app, r, v))
    app.route("GET", base, "bulk2.ingest.list", lambda r, v: list_jobs(app, r, v))
    app.route(
        "GET",
        base + "/{id}",
        "bulk2.ingest.get",
        lambda r, v: Response.json(jobs.get(r.params["id"]).info()),
    )
    app.route("PUT", base + "/{id}/batches", "bulk2.ingest.upload", lambda r, v: upload(app, r, v))
    app.route("PATCH", base + "/{id}", "bulk2.ingest.state", lambda r, v: set_state(app, r, v))
    app.route("DELETE", base + "/{id}", "bulk2.ingest.delete", lambda r, v: delete_job(app, r, v))
    app.route("GET", base + "/{id}/{kind}", "bulk2.ingest.results", lambda r, v: results(app, r, v))


def _job_error(code: str, message: str) -> SfError:
    return SfError(code, message)


def create_job(app: SalesforceApp, request: Request, version: str) -> Response:
    body = app.body(request)
    if not isinstance(body, dict):
        raise _job_error("INVALIDJOB", "InvalidJob : The request body must be a JSON object")
    operation = str(body.get("operation") or "")
    if operation not in OPERATIONS:
        raise _job_error("INVALIDJOB", f"InvalidJob : Invalid operation: {operation or 'null'}")
    definition = app.schema.get(str(body.get("object") or ""))
    if definition is None:
        raise _job_error("INVALIDJOB", f"InvalidJob : Unable to find object: {body.get('object')}")
    if str(body.get("contentType") or "CSV").upper() != "CSV":
        raise _job_error("INVALIDJOB", "InvalidJob : Only CSV content is supported")
    delimiter = str(body.get("columnDelimiter") or "COMMA").upper()
    line_ending = str(body.get("lineEnding") or "LF").upper()
    if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
        raise _job_error("INVALIDJOB", "InvalidJob : Invalid columnDelimiter or lineEnding")
    external = body.get("externalIdFieldName")
    if operation == "upsert":
        field_def = definition.field(str(external or ""))
        if field_def is None or not (field_def.external_id or field_def.name == "Id"):
            raise _job_error(
                "INVALIDJOB",
                f"InvalidJob : The field {external} is not an external ID field on "
                f"{definition.name}",
            )
        external = field_def.name
    else:
        external = None
    stamp = sf_datetime(app.store.now())
    job = Job(
        id=app.store.ids.new("750"),
        object=definition.name,
        operation=operation,
        external_id_field=external,
        column_delimiter=delimiter,
        line_ending=line_ending,
        api_version=version,
        created_by=app.user_for(request) or app.admin_user_id,
        created_date=stamp,
    )
    with app.bulk_jobs.lock:
        app.bulk_jobs.jobs[job.id] = job
    return Response.json(job.info())


def list_jobs(app: SalesforceApp, request: Request, version: str) -> Response:
    with app.bulk_jobs.lock:
        records = [job.info() for job in app.bulk_jobs.jobs.values()]
    return Response.json({"done": True, "records": records, "nextRecordsUrl": None})


def upload(app: SalesforceApp, request: Request, version: str) -> Response:
    job = app.bulk_jobs.get(request.params["id"])
    if job.state != "Open":
        raise SfError("INVALIDJOBSTATE", f"Job {job.id} is not in Open state", status=409)
    if not request.body:
        raise SfError("INVALIDBATCH", "InvalidBatch : The batch is empty")
    with app.bulk_jobs.lock:
        job.uploads.append(request.body)
    return Response(status=201)


def set_state(app: SalesforceApp, request: Request, version: str) -> Response:
    job = app.bulk_jobs.get(request.params["id"])
    body = app.body(request)
    wanted = body.get("state") if isinstance(body, dict) else None
    with app.bulk_jobs.lock:
        if wanted == "UploadComplete" and job.state == "Open":
            job.state = "UploadComplete"
            job.modstamp = sf_datetime(app.store.now())
            start = True
        elif wanted == "Aborted" and job.state not in FINAL_STATES:
            job.state = "Aborted"
            job.modstamp = sf_datetime(app.store.now())
            start = False
        else:
            raise SfError(
                "INVALIDJOBSTATE", f"Cannot change job state from {job.state} to {wanted}"
            )
        answer = job.info()
    if start:
        thread = threading.Thread(
            target=_process, args=(app, job), name=f"bulk-{job.id}", daemon=True
        )
        app.bulk_jobs.threads = [t for t in app.bulk_jobs.threads if t.is_alive()] + [thread]
        thread.start()
        # Salesforce answers UploadComplete at once; waiting a little for the worker lets a
        # client's first poll already see JobComplete instead of backing off for seconds.
        thread.join(PATCH_WAIT_SECONDS)
    return Response.json(answer)


def delete_job(app: SalesforceApp, request: Request, version: str) -> Response:
    job = app.bulk_jobs.get(request.params["id"])
    with app.bulk_jobs.lock:
        if job.state not in (*FINAL_STATES, "Open"):
            raise SfError("INVALIDJOBSTATE", f"Job {job.id} is still being processed")
        app.bulk_jobs.jobs.pop(job.id, None)
    return Response(status=204)


def results(app: SalesforceApp, request: Request, version: str) -> Response:
    job = app.bulk_jobs.get(request.params["id"])
    kind = RESULT_KINDS.get(unquote(request.params["kind"]).lower())
    if kind is None:
        raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
    if kind != "unprocessed" and job.state not in FINAL_STATES:
        raise SfError("INVALIDJOBSTATE", f"Job {job.id} is not complete yet")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    with app.bulk_jobs.lock:
        header = list(job.header)
        if kind == "successful":
            writer.writerow(["sf__Id", "sf__Created", *header])
            writer.writerows(
                [sf_id, "true" if created else "false", *row]
                for sf_id, created, row in job.successful
            )
        elif kind == "failed":
            writer.writerow(["sf__Id", "sf__Error", *header])
            writer.writerows([sf_id, error, *row] for sf_id, error, row in job.failed)
        else:
            if header:
                writer.writerow(header)
            writer.writerows(job.unprocessed)
    return Response.text(buffer.getvalue(), content_type="text/csv; charset=UTF-8")


# Processing --------------------------------------------------------------------------------


def _read_rows(job: Job) -> tuple[list[str], list[list[str]]]:
    header: list[str] = []
    rows: list[list[str]] = []
    for chunk in job.uploads:
        text = chunk.decode("utf-8-sig")
        reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=DELIMITERS[job.column_delimiter]
        )
        chunk_header = next(reader, [])
        if header and [h.lower() for h in chunk_header] != [h.lower() for h in header]:
            raise SfError("INVALIDBATCH", "InvalidBatch : All uploads must share one header")
        header = chunk_header
        rows.extend(row for row in reader if row and any(cell != "" for cell in row))
    return header, rows


def _columns(definition: ObjectDef, header: list[str], job: Job) -> list[FieldDef]:
    columns = []
    for name in header:
        field_def = definition.field(name.strip())
        if field_def is None:
            raise SfError("INVALIDBATCH", f"InvalidBatch : Field name not found : {name}")
        columns.append(field_def)
    names = {c.name for c in columns}
    if job.operation in {"update", "delete", "hardDelete"} and "Id" not in names:
        raise SfError("INVALIDBATCH", "InvalidBatch : Field name not found : Id")
    if job.operation in {"delete", "hardDelete"} and names != {"Id"}:
        raise SfError("INVALIDBATCH", "InvalidBatch : A delete job can only contain Id")
    if job.operation == "upsert" and job.external_id_field not in names:
        raise SfError(
            "INVALIDBATCH", f"InvalidBatch : Field name not found : {job.external_id_field}"
        )
    return columns


def _process(app: SalesforceApp, job: Job) -> None:
    started = time.monotonic()
    try:
        header, rows = _read_rows(job)
        job.header = header
        definition = app.schema.objects[job.object]
        try:
            columns = _columns(definition, header, job)
        except SfError as error:
            _fail(job, error.message, rows)
            return
        with app.bulk_jobs.lock:
            if job.state == "Aborted":
                job.unprocessed = rows
                return
            job.state = "InProgress"
        path = f"/services/data/v{job.api_version}/jobs/ingest/{job.id}"
        for start in range(0, len(rows), INTERNAL_BATCH):
            if job.state == "Aborted":
                job.unprocessed.extend(rows[start:])
                return
            batch = rows[start : start + INTERNAL_BATCH]
            with app.store.atomic():
                for row in batch:
                    _process_row(app, job, definition, columns, row, path)
            with app.bulk_jobs.lock:
                app.bulk_jobs.batches_used += 1
        with app.bulk_jobs.lock:
            if job.state != "Aborted":
                job.state = "JobComplete"
    except Exception as exc:  # never leave a job hanging in InProgress
        job.error_message = f"InternalServerError : {type(exc).__name__}"
        job.state = "Failed"
    finally:
        job.processing_ms = int((time.monotonic() - started) * 1000)
        job.modstamp = sf_datetime(app.store.now())


def _fail(job: Job, message: str, rows: list[list[str]]) -> None:
    with_lock = job
    with_lock.error_message = message
    with_lock.unprocessed = rows
    with_lock.state = "Failed"


def _process_row(
    app: SalesforceApp,
    job: Job,
    definition: ObjectDef,
    columns: list[FieldDef],
    row: list[str],
    path: str,
) -> None:
    store = app.store
    row = row + [""] * (len(columns) - len(row))
    record_id = ""
    try:
        values: dict[str, Any] = {}
        for field_def, cell in zip(columns, row, strict=False):
            if cell == "":
                continue
            values[field_def.name] = (
                None if cell == "#N/A" else store.coerce(field_def, cell, csv_source=True)
            )
        raw_id = values.pop("Id", None)
        if raw_id:
            record_id = normalize_id(raw_id) or raw_id
        key = values.get(job.external_id_field) if job.operation == "upsert" else None
        if app.faults.pick("bulk2.ingest.process", path, ("reject",)) or app.faults.refuses(
            "bulk2.ingest.process", path, key
        ):
            raise SfError("FIELD_CUSTOM_VALIDATION_EXCEPTION", "cmsync sandbox validation rule")
        created = False
        if job.operation == "insert":
            if raw_id:
                raise SfError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    "Unable to create/update fields: Id. Please check the security "
                    "settings of this field and verify that it is read/write for your "
                    "profile or permission set.",
                    ["Id"],
                )
            record_id = store.create(definition, values)["Id"]
            created = True
        elif job.operation in {"update", "delete", "hardDelete"}:
            canonical = _existing_id(definition, raw_id, job.operation)
            if job.operation == "update":
                store.update(definition, canonical, values)
            else:
                store.delete(definition, canonical, hard=job.operation == "hardDelete")
            record_id = canonical
        else:
            record_id, created = _upsert_row(app, job, definition, values, raw_id)
        job.successful.append((record_id, created, row))
    except SfError as error:
        if error.code == "NOT_FOUND" and job.operation != "upsert":
            error = SfError("ENTITY_IS_DELETED", "entity is deleted")
        job.failed.append((record_id, error.bulk(), row))
    job.processed += 1


def _existing_id(definition: ObjectDef, raw_id: Any, operation: str) -> str:
    if not raw_id:
        verb = "an update" if operation == "update" else "a delete"
        raise SfError("MISSING_ARGUMENT", f"Id not specified in {verb} call")
    canonical = normalize_id(raw_id)
    if canonical is None or canonical[:3] != definition.key_prefix:
        raise SfError("MALFORMED_ID", f"bad id {raw_id}", ["Id"])
    return canonical


def _upsert_row(
    app: SalesforceApp, job: Job, definition: ObjectDef, values: dict[str, Any], raw_id: Any
) -> tuple[str, bool]:
    external = job.external_id_field or "Id"
    field_def = definition.fields[external]
    if external == "Id":
        if not raw_id:
            return app.store.create(definition, values)["Id"], True
        canonical = _existing_id(definition, raw_id, "update")
        return app.store.update(definition, canonical, values)["Id"], False
    value = values.get(external)
    if value is None:
        raise SfError("MISSING_ARGUMENT", f"{external} not specified", [external])
    matches = app.store.find_by(definition.name, field_def, value)
    if len(matches) > 1:
        raise SfError(
            "DUPLICATE_EXTERNAL_ID",
            f"More than 1 record found for external id field: {matches}",
            [external],
        )
    record, created = app.store.upsert(definition, field_def, value, values)
    return record["Id"], created
