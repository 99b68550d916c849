"""The Salesforce sandbox application: routing, OAuth, API usage, and the REST resources.

Composite, Bulk API 2.0, Tooling and Analytics resources live in their own modules and register
their routes on this app; see the package docstring for the full list of route names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, unquote_plus

from sandbox.config import SandboxConfig
from sandbox.core.faults import FaultInjector
from sandbox.core.http import Request, Response, Router, SandboxApp

from . import analytics, bulk, bulk_query, composite, oauth, seed, tooling
from .auth import TokenStore
from .errors import SfError
from .ids import normalize_id
from .persist import Persistence
from .query import (
    Cursors,
    add_attributes,
    batch_size,
    execute_soql,
    parse_soql,
    unknown_object_error,
    with_hidden_id,
)
from .schema import ObjectDef, Schema, describe_layout
from .store import Store, parse_datetime, sf_datetime

VERSION_PATTERN = re.compile(r"^v(\d{2,3}\.\d)$", re.IGNORECASE)
DATA = "/services/data/{version}"
RECORD_STORAGE_KB = 2
DATA_STORAGE_MB = 1024

VERSIONS = [
    ("Winter '23", "56.0"),
    ("Spring '23", "57.0"),
    ("Summer '23", "58.0"),
    ("Winter '24", "59.0"),
    ("Spring '24", "60.0"),
    ("Summer '24", "61.0"),
    ("Winter '25", "62.0"),
]

SESSION_INVALID = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def error_response(error: SfError) -> Response:
    if error.status == 300:
        return Response.json(error.fields, status=300)
    return Response.json([error.rest()], status=error.status)


class ApiUsage:
    """The org's daily API request counter behind ``Sforce-Limit-Info``."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.used = 0

    def header(self) -> str:
        return f"api-usage={self.used}/{self.maximum}"


class SalesforceApp(SandboxApp):
    name = "salesforce"

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(FaultInjector(config.faults, config.random_seed))
        self.config = config
        self.router = Router(case_insensitive=True)
        self.schema = Schema()
        self.store = Store(self.schema)
        self.usage = ApiUsage(config.sf_daily_api_limit)
        self.cursors = Cursors()
        self.org_id = ""
        self.admin_user_id = ""
        self.tokens = TokenStore("00D000000000000", config.token_lifetime_seconds)
        self.reports: dict[str, dict[str, Any]] = {}
        self.list_views: dict[str, dict[str, Any]] = {}
        self.bulk_jobs = bulk.BulkJobs(self)
        self.query_jobs: bulk_query.QueryJobs | None = None
        self.persistence = Persistence.open(config) if config.persist else None
        self._register_routes()
        if not (self.persistence and self.persistence.restore(self)):
            seed.seed_org(self, config)
        if self.persistence:
            self.persistence.attach(self)

    # Public helpers for tests and fixtures -----------------------------------------------------
    def records(self, sobject: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        definition = self.schema.get(sobject)
        if definition is None:
            return []
        with self.store.lock:
            return [dict(r) for r in self.store.rows(definition.name, include_deleted)]

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        definition = self.schema.get(sobject)
        canonical = normalize_id(record_id)
        if definition is None or canonical is None:
            return None
        with self.store.lock:
            record = self.store.get(definition.name, canonical, include_deleted=True)
            return dict(record) if record else None

    def issue_token(self, user_id: str | None = None) -> tuple[str, str]:
        user = user_id or self.admin_user_id
        tokens = self.tokens.issue_access(user), self.tokens.issue_refresh(user)
        self.save_meta()
        return tokens

    def save_meta(self) -> None:
        if self.persistence:
            self.persistence.save_meta(self)

    def schema_changed(self) -> None:
        """Called after Tooling changes: persist the schema."""
        self.save_meta()

    # Routing ---------------------------------------------------------------------------------
    def route(self, method: str, template: str, name: str, handler: Callable[..., Response]):
        """Register a handler; it gets (request, version) for data routes, else (request)."""

        def wrapped(request: Request) -> Response:
            try:
                if "{version}" in template:
                    version = self.version_of(request)
                    if version is None:
                        return Response.json(NOT_FOUND, status=404)
                    return handler(request, version)
                return handler(request)
            except SfError as error:
                return error_response(error)
            except (ValueError, UnicodeDecodeError) as exc:
                if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
                    return Response.json(
                        [
                            {
                                "message": f"Unexpected character: {exc}",
                                "errorCode": "JSON_PARSER_ERROR",
                            }
                        ],
                        status=400,
                    )
                raise

        self.router.add(method, template, wrapped, name)

    @staticmethod
    def version_of(request: Request) -> str | None:
        found = VERSION_PATTERN.match(request.params.get("version", ""))
        return found.group(1) if found else None

    def _register_routes(self) -> None:
        add = self.route
        oauth.register(self)
        add("GET", "/services/data", "versions", self.versions)
        add("GET", DATA, "resources", self.resources)
        add("GET", DATA + "/limits", "limits", self.limits)
        add("GET", DATA + "/sobjects", "sobjects.global", self.describe_global)
        tooling.register(self)
        composite.register(self)
        bulk.register(self)
        bulk_query.register(self)
        analytics.register(self)
        s = DATA + "/sobjects/{sobject}"
        add("GET", s + "/describe", "sobjects.describe", self.describe)
        add("GET", s + "/describe/layouts", "sobjects.layouts", self.layouts)
        add("GET", s + "/describe/layouts/{rtid}", "sobjects.layouts", self.layouts)
        add("GET", s + "/updated", "sobjects.updated", self.updated)
        add("GET", s + "/deleted", "sobjects.deleted", self.deleted)
        add("GET", s, "sobjects.metadata", self.sobject_metadata)
        add("POST", s, "sobjects.create", self.create)
        add("GET", s + "/{id}", "sobjects.get", self.get_record)
        add("PATCH", s + "/{id}", "sobjects.update", self.update)
        add("DELETE", s + "/{id}", "sobjects.delete", self.delete)
        add("GET", s + "/{field}/{value}", "sobjects.get_by_external_id", self.get_by_external)
        add("PATCH", s + "/{field}/{value}", "sobjects.upsert", self.upsert)
        add("DELETE", s + "/{field}/{value}", "sobjects.delete", self.delete_by_external)
        add("GET", DATA + "/query", "query", self.query)
        add("GET", DATA + "/query/{locator}", "query", self.query_more)
        add("GET", DATA + "/queryAll", "queryAll", self.query_all)
        add("GET", DATA + "/queryAll/{locator}", "queryAll", self.query_more)

    # Dispatch hooks --------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response | None:
        if len(request.path) > 1 and request.path.endswith("/"):
            request.path = request.path.rstrip("/") or "/"
        response = super().dispatch(request)
        if response is not None and not request.path.startswith("/__sandbox__"):
            response.headers.setdefault("Sforce-Limit-Info", self.usage.header())
        return response

    def is_public(self, request: Request) -> bool:
        path = request.path.lower()
        return (
            path.startswith("/services/oauth2/")
            and path not in {"/services/oauth2/userinfo"}
            or path == "/services/data"
        )

    def authenticate(self, request: Request) -> Response | None:
        user_id = self.user_for(request)
        if user_id is None:
            return Response.json(SESSION_INVALID, status=401)
        self.store.act_as(user_id)
        if request.endpoint.startswith("oauth."):
            return None  # identity and userinfo need a token but are not API calls
        with self.stats_lock:
            if self.usage.used >= self.usage.maximum:
                return Response.json(
                    [
                        {
                            "message": "TotalRequests Limit exceeded.",
                            "errorCode": "REQUEST_LIMIT_EXCEEDED",
                        }
                    ],
                    status=403,
                )
            self.usage.used += 1
        return None

    def user_for(self, request: Request) -> str | None:
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() not in {"bearer", "oauth"}:
            token = request.header("X-SFDC-Session") or ""
        token = token.strip()
        return self.tokens.user_for_access(token) if token else None

    def fault_response(self, kind: str, request: Request) -> Response:
        if kind == "503":
            body = [
                {
                    "message": "Server temporarily unavailable, try again later.",
                    "errorCode": "SERVER_UNAVAILABLE",
                }
            ]
            return Response.json(body, status=503)
        if kind == "429":
            body = [
                {
                    "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                    "errorCode": "REQUEST_LIMIT_EXCEEDED",
                }
            ]
            retry = str(self.faults.settings.retry_after)
            return Response.json(body, status=429, headers={"Retry-After": retry})
        return self.server_error(request)

    def server_error(self, request: Request) -> Response:
        body = [
            {
                "message": "An unexpected error occurred. Please include this ErrorId if you "
                "contact support: 1393619437-32051 (-1425186337)",
                "errorCode": "UNKNOWN_EXCEPTION",
            }
        ]
        return Response.json(body, status=500)

    def not_found(self, request: Request) -> Response:
        return Response.json(NOT_FOUND, status=404)

    def method_not_allowed(self, request: Request) -> Response:
        body = [
            {
                "message": f"HTTP Method '{request.method}' not allowed. Allowed are GET,PATCH,"
                "DELETE,POST",
                "errorCode": "METHOD_NOT_ALLOWED",
            }
        ]
        return Response.json(body, status=405)

    def handle_sandbox(self, request: Request, action: str) -> Response | None:
        if action == "expire-tokens" and request.method == "POST":
            expired = self.tokens.expire_all()
            self.save_meta()
            return Response.json({"expired": expired})
        if action == "issue-token" and request.method == "POST":
            access, refresh = self.issue_token()
            return Response.json(
                {"access_token": access, "refresh_token": refresh, "instance_url": self.base_url}
            )
        if action == "convert-lead" and request.method == "POST":
            return self._convert_lead(request)
        if action == "api-usage" and request.method in {"GET", "PUT"}:
            if request.method == "PUT":
                try:
                    payload = request.json() or {}
                    used = int(payload.get("used", self.usage.used))
                    maximum = int(payload.get("max", self.usage.maximum))
                except (ValueError, TypeError, AttributeError):
                    return Response.json(
                        {"error": 'body must be {"used": n, "max": n}'}, status=400
                    )
                with self.stats_lock:
                    self.usage.used, self.usage.maximum = used, maximum
            return Response.json({"used": self.usage.used, "max": self.usage.maximum})
        return None

    def _convert_lead(self, request: Request) -> Response:
        """``POST /__sandbox__/convert-lead`` {"leadId", "contactId"?, "accountId"?,
        "convertedStatus"?}: what a user's Convert button (SOAP ``convertLead``) does."""
        payload = request.json() or {}
        if not isinstance(payload, dict) or not payload.get("leadId"):
            return Response.json({"error": 'body must be {"leadId": ...}'}, status=400)
        try:
            ids = self.store.convert_lead(
                str(payload["leadId"]),
                contact_id=payload.get("contactId"),
                account_id=payload.get("accountId"),
                converted_status=payload.get("convertedStatus") or "Closed - Converted",
            )
        except SfError as error:
            return Response.json({"success": False, "errors": [error.item()]}, status=400)
        return Response.json({"success": True, "errors": [], **ids})

    # Record-level faults ---------------------------------------------------------------------
    def check_reject(self, request: Request, key: Any = None) -> None:
        """Apply an injected ``reject`` fault, or an ``invalid`` rule refusing the record with
        external id ``key``, to one record of a write."""
        if self.faults.pick(request.endpoint, request.path, ("reject",)) or self.faults.refuses(
            request.endpoint, request.path, key
        ):
            raise SfError("FIELD_CUSTOM_VALIDATION_EXCEPTION", "cmsync sandbox validation rule")

    # Users and identity ------------------------------------------------------------------------
    def identity_url(self, user_id: str) -> str:
        return f"{self.base_url}/id/{self.org_id}/{user_id}"

    def active_user_by_username(self, username: str) -> dict[str, Any] | None:
        definition = self.schema.objects["User"]
        ids = self.store.find_by("User", definition.fields["Username"], username)
        user = self.store.get("User", ids[0]) if ids else None
        return user if user and user["IsActive"] else None

    def active_user(self, user_id: str) -> dict[str, Any] | None:
        user = self.store.get("User", user_id)
        return user if user and user["IsActive"] else None

    # Versions, resources, limits -------------------------------------------------------------
    def versions(self, request: Request) -> Response:
        return Response.json(
            [{"label": label, "url": f"/services/data/v{v}", "version": v} for label, v in VERSIONS]
        )

    def resources(self, request: Request, version: str) -> Response:
        base = f"/services/data/v{version}"
        names = [
            "sobjects",
            "query",
            "queryAll",
            "limits",
            "composite",
            "tooling",
            "jobs",
            "analytics",
        ]
        return Response.json({name: f"{base}/{name}" for name in names})

    def limits(self, request: Request, version: str) -> Response:
        with self.store.lock:
            records = self.store.count()
        used_mb = records * RECORD_STORAGE_KB // 1024
        with self.stats_lock:
            used, maximum = self.usage.used, self.usage.maximum

        def pair(limit: int, remaining: int) -> dict[str, int]:
            return {"Max": limit, "Remaining": max(remaining, 0)}

        return Response.json(
            {
                "ConcurrentAsyncGetReportInstances": pair(200, 200),
                "ConcurrentSyncReportRuns": pair(20, 20),
                "DailyApiRequests": pair(maximum, maximum - used),
                "DailyAsyncApexExecutions": pair(250000, 250000),
                "DailyBulkApiBatches": pair(15000, 15000 - self.bulk_jobs.batches_used),
                "DailyBulkV2QueryFileStorageMB": pair(976562, 976562),
                "DailyBulkV2QueryJobs": pair(10000, 10000),
                "DailyStreamingApiEvents": pair(1000000, 1000000),
                "DataStorageMB": pair(DATA_STORAGE_MB, DATA_STORAGE_MB - used_mb),
                "FileStorageMB": pair(DATA_STORAGE_MB, DATA_STORAGE_MB),
                "HourlyODataCallout": pair(10000, 10000),
                "MassEmail": pair(5000, 5000),
                "SingleEmail": pair(5000, 5000),
            }
        )

    # Describe --------------------------------------------------------------------------------
    def sobject(self, request: Request) -> ObjectDef:
        definition = self.schema.get(unquote(request.params.get("sobject", "")))
        if definition is None:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        return definition

    def describe_global(self, request: Request, version: str) -> Response:
        return Response.json(
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [d.summary(version) for d in self.schema.objects.values()],
            }
        )

    def describe(self, request: Request, version: str) -> Response:
        with self.store.lock:
            return Response.json(self.schema.describe(self.sobject(request), version))

    def layouts(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        return Response.json(describe_layout(definition, tooling.layout_id(self, definition)))

    def sobject_metadata(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        with self.store.lock:
            rows = sorted(self.store.rows(definition.name), key=lambda r: r["LastModifiedDate"])
        recent = [
            self.render(
                definition, r, version, ["Id", "Name"] if "Name" in definition.fields else ["Id"]
            )
            for r in rows[-10:]
        ]
        return Response.json({"objectDescribe": definition.summary(version), "recentItems": recent})

    # Records ---------------------------------------------------------------------------------
    def render(
        self,
        definition: ObjectDef,
        record: dict[str, Any],
        version: str,
        fields: list[str] | None = None,
    ) -> dict[str, Any]:
        url = f"/services/data/v{version}/sobjects/{definition.name}/{record['Id']}"
        body: dict[str, Any] = {"attributes": {"type": definition.name, "url": url}}
        for name in fields or definition.fields:
            body[name] = record.get(name)
        return body

    def requested_fields(self, definition: ObjectDef, raw: str | None) -> list[str] | None:
        if not raw:
            return None
        names = []
        for name in raw.split(","):
            name = name.strip()
            if not name:
                continue
            field_def = definition.field(name)
            if field_def is None:
                raise SfError(
                    "INVALID_FIELD",
                    f"No such column '{name}' on entity '{definition.name}'. If you are "
                    "attempting to use a custom field, be sure to append the '__c' after the "
                    "custom field name.",
                )
            names.append(field_def.name)
        return names

    def record_id(self, definition: ObjectDef, raw: str) -> str:
        value = unquote(raw)
        canonical = normalize_id(value)
        if canonical is None:
            raise SfError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {value}",
                status=404,
            )
        if canonical[:3] != definition.key_prefix:
            raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
        return canonical

    def body(self, request: Request) -> Any:
        try:
            return request.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise SfError("JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None

    def create(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        raw = self.body(request)
        with self.store.atomic():
            values = self.store.parse_input(definition, raw)
            self.check_reject(request)
            record = self.store.create(definition, values)
        return Response.json({"id": record["Id"], "success": True, "errors": []}, status=201)

    def get_record(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        record_id = self.record_id(definition, request.params["id"])
        fields = self.requested_fields(definition, request.query.get("fields"))
        with self.store.lock:
            record = self.store.get(definition.name, record_id)
            if record is None:
                raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
            return Response.json(self.render(definition, record, version, fields))

    def update(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        record_id = self.record_id(definition, request.params["id"])
        raw = self.body(request)
        with self.store.atomic():
            values = self.store.parse_input(definition, raw)
            values.pop("Id", None)
            self.check_reject(request)
            self.store.update(definition, record_id, values)
        return Response(status=204)

    def delete(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        record_id = self.record_id(definition, request.params["id"])
        with self.store.atomic():
            self.check_reject(request)
            self.store.delete(definition, record_id)
        return Response(status=204)

    def external_field(self, definition: ObjectDef, raw: str, for_upsert: bool):
        name = unquote(raw)
        field_def = definition.field(name)
        usable = field_def is not None and (
            field_def.name == "Id"
            or field_def.external_id
            or (not for_upsert and (field_def.id_lookup or field_def.unique))
        )
        if not usable:
            raise SfError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {name}",
                status=404,
            )
        return field_def

    def external_value(self, field_def: Any, raw: str) -> Any:
        return self.store.coerce(field_def, unquote_plus(raw), csv_source=True)

    def _matching_ids(self, definition: ObjectDef, field_def: Any, value: Any) -> list[str]:
        if field_def.name == "Id":
            canonical = normalize_id(value)
            return [canonical] if canonical and self.store.get(definition.name, canonical) else []
        if field_def.unique or field_def.external_id:
            return self.store.find_by(definition.name, field_def, value)
        key = self.store.index_key(field_def, value)
        return [
            r["Id"]
            for r in self.store.rows(definition.name)
            if r.get(field_def.name) is not None
            and self.store.index_key(field_def, r[field_def.name]) == key
        ]

    def _several(self, definition: ObjectDef, ids: list[str], version: str) -> SfError:
        urls = [f"/services/data/v{version}/sobjects/{definition.name}/{i}" for i in ids]
        return SfError("MULTIPLE_CHOICES", "more than one record found", urls, status=300)

    def get_by_external(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        field_def = self.external_field(definition, request.params["field"], for_upsert=False)
        value = self.external_value(field_def, request.params["value"])
        fields = self.requested_fields(definition, request.query.get("fields"))
        with self.store.lock:
            ids = self._matching_ids(definition, field_def, value)
            if len(ids) > 1:
                raise self._several(definition, ids, version)
            if not ids:
                raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
            record = self.store.get(definition.name, ids[0])
            return Response.json(self.render(definition, record, version, fields))

    def upsert(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        field_def = self.external_field(definition, request.params["field"], for_upsert=True)
        value = self.external_value(field_def, request.params["value"])
        raw = self.body(request)
        with self.store.atomic():
            values = self.store.parse_input(definition, raw)
            ids = self._matching_ids(definition, field_def, value)
            if len(ids) > 1:
                raise self._several(definition, ids, version)
            self.check_reject(request, key=value)
            record, created = self.store.upsert(definition, field_def, value, values)
        body = {"id": record["Id"], "success": True, "errors": [], "created": created}
        if created:
            return Response.json(body, status=201)
        if float(version) >= 46.0:
            return Response.json(body, status=200)
        return Response(status=204)

    def delete_by_external(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        field_def = self.external_field(definition, request.params["field"], for_upsert=True)
        value = self.external_value(field_def, request.params["value"])
        with self.store.atomic():
            ids = self._matching_ids(definition, field_def, value)
            if len(ids) > 1:
                raise self._several(definition, ids, version)
            if not ids:
                raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
            self.check_reject(request)
            self.store.delete(definition, ids[0])
        return Response(status=204)

    def _window(self, request: Request) -> tuple[str, str]:
        start = parse_datetime(unquote(request.query.get("start") or ""))
        end = parse_datetime(unquote(request.query.get("end") or ""))
        if start is None or end is None:
            raise SfError(
                "INVALID_REPLICATION_DATE",
                "start and end must be ISO 8601 datetimes with a time zone",
            )
        return sf_datetime(start), sf_datetime(end)

    def updated(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        start, end = self._window(request)
        with self.store.lock:
            ids = [
                r["Id"]
                for r in self.store.rows(definition.name)
                if start <= r["SystemModstamp"] <= end
            ]
        return Response.json({"ids": ids, "latestDateCovered": end})

    def deleted(self, request: Request, version: str) -> Response:
        definition = self.sobject(request)
        start, end = self._window(request)
        with self.store.lock:
            rows = [
                {"id": r["Id"], "deletedDate": r["SystemModstamp"]}
                for r in self.store.rows(definition.name, include_deleted=True)
                if r["IsDeleted"] and start <= r["SystemModstamp"] <= end
            ]
        return Response.json(
            {"deletedRecords": rows, "earliestDateAvailable": start, "latestDateCovered": end}
        )

    # Query -----------------------------------------------------------------------------------
    def get_parent(self, record: dict[str, Any], relationship: str) -> dict[str, Any] | None:
        definition = self.schema.by_prefix(str(record.get("Id", ""))[:3])
        if definition is None:
            return None
        field_def = definition.relationship(relationship)
        if field_def is None:
            return None
        value = record.get(field_def.name)
        return self.store.lookup(value) if value else None

    def run_query(self, text: str, include_deleted: bool, version: str):
        """(object, rows with attributes | count) for a SOQL text."""
        query = parse_soql(text)
        definition = self.schema.get(str(getattr(query, "sobject", "")))
        if definition is None:
            raise unknown_object_error(query)
        types = {name: f.type for name, f in definition.fields.items()}
        added_id = with_hidden_id(query)
        with self.store.lock:
            rows = self.store.rows(definition.name, include_deleted)
            result = execute_soql(query, rows, self.get_parent, self.store.now(), types)
            if isinstance(result, int):
                return definition, result
            rows = add_attributes(result, definition, self.schema, version)
        if added_id:
            for row in rows:
                row.pop("Id", None)
        return definition, rows

    def _query(self, request: Request, version: str, include_deleted: bool) -> Response:
        text = request.query.get("q") or ""
        definition, result = self.run_query(text, include_deleted, version)
        if isinstance(result, int):
            return Response.json({"totalSize": result, "done": True, "records": []})
        batch = batch_size(request.header("Sforce-Query-Options"))
        return Response.json(self._page(result, 0, batch, include_deleted, version, None))

    def _page(
        self,
        rows: list[dict[str, Any]],
        offset: int,
        batch: int,
        include_deleted: bool,
        version: str,
        locator: str | None,
    ) -> dict[str, Any]:
        page = rows[offset : offset + batch]
        body: dict[str, Any] = {"totalSize": len(rows), "done": offset + batch >= len(rows)}
        if not body["done"]:
            locator = locator or self.cursors.open(rows, batch, include_deleted)
            resource = "queryAll" if include_deleted else "query"
            body["nextRecordsUrl"] = (
                f"/services/data/v{version}/{resource}/{locator}-{offset + batch}"
            )
        body["records"] = page
        return body

    def query(self, request: Request, version: str) -> Response:
        return self._query(request, version, include_deleted=False)

    def query_all(self, request: Request, version: str) -> Response:
        return self._query(request, version, include_deleted=True)

    def query_more(self, request: Request, version: str) -> Response:
        token = unquote(request.params["locator"])
        locator, _, offset_text = token.partition("-")
        cursor = self.cursors.get(locator)
        if cursor is None or not offset_text.isdigit():
            raise SfError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return Response.json(
            self._page(
                cursor.rows, int(offset_text), cursor.batch, cursor.all_rows, version, locator
            )
        )
