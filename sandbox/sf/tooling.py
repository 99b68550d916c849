"""Tooling API subset: ``CustomObject``, ``CustomField`` and ``Layout`` under
``/services/data/vNN.N/tooling/``. Creating a custom object or field really changes the schema,
so describe, record CRUD, SOQL and Bulk API see it at once.

Shapes follow Salesforce: ``POST tooling/sobjects/CustomField`` with ``{"FullName":
"Contact.Foo__c", "Metadata": {"label", "type", "length", "externalId", "unique", ...}}`` answers
201 ``{"id", "success", "errors"}``; ``DeveloperName`` drops the ``__c``; a custom object's
fields have ``TableEnumOrId`` = the CustomObject id, a standard object's = its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sandbox.core.http import Request, Response

from .errors import SfError
from .ids import checksum, normalize_id
from .query import add_attributes, execute_soql, parse_soql
from .schema import ObjectDef, SchemaError, layout_from_metadata, layout_metadata
from .store import sf_datetime

if TYPE_CHECKING:
    from .app import SalesforceApp

TOOLING_TYPES = ("CustomObject", "CustomField", "Layout")
PREFIXES = {"CustomObject": "01I", "CustomField": "00N", "Layout": "00h"}


def register(app: SalesforceApp) -> None:
    base = "/services/data/{version}/tooling"
    app.route(
        "GET", base + "/sobjects", "tooling.sobjects.global", lambda r, v: tooling_global(app, r, v)
    )
    app.route(
        "POST",
        base + "/sobjects/{type}",
        "tooling.sobjects.create",
        lambda r, v: tooling_create(app, r, v),
    )
    app.route(
        "GET",
        base + "/sobjects/{type}/describe",
        "tooling.sobjects.describe",
        lambda r, v: tooling_describe(app, r, v),
    )
    app.route(
        "GET",
        base + "/sobjects/{type}/{id}",
        "tooling.sobjects.get",
        lambda r, v: tooling_get(app, r, v),
    )
    app.route(
        "PATCH",
        base + "/sobjects/{type}/{id}",
        "tooling.sobjects.update",
        lambda r, v: tooling_update(app, r, v),
    )
    app.route("GET", base + "/query", "tooling.query", lambda r, v: tooling_query(app, r, v))


def _type(request: Request) -> str:
    wanted = unquote(request.params["type"]).lower()
    for name in TOOLING_TYPES:
        if name.lower() == wanted:
            return name
    raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)


def tooling_id(app: SalesforceApp, kind: str) -> str:
    return app.store.ids.new(PREFIXES[kind])


def layout_id(app: SalesforceApp, definition: ObjectDef) -> str:
    """A stable Layout id per object (derived from its key prefix)."""
    existing = definition.layout.get("id")
    if existing:
        return existing
    body = f"00h5g{definition.key_prefix}" + "0" * 7
    body = body[:15]
    definition.layout["id"] = body + checksum(body)
    return definition.layout["id"]


def tooling_global(app: SalesforceApp, request: Request, version: str) -> Response:
    sobjects = [
        {
            "name": name,
            "label": name,
            "keyPrefix": PREFIXES[name],
            "createable": name != "Layout",
            "queryable": True,
            "urls": {"sobject": f"/services/data/v{version}/tooling/sobjects/{name}"},
        }
        for name in TOOLING_TYPES
    ]
    return Response.json({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})


def tooling_describe(app: SalesforceApp, request: Request, version: str) -> Response:
    kind = _type(request)
    fields = sorted({key for row in _rows(app, kind)[:1] for key in row} | {"Id"})
    return Response.json(
        {"name": kind, "keyPrefix": PREFIXES[kind], "fields": [{"name": f} for f in fields]}
    )


def tooling_create(app: SalesforceApp, request: Request, version: str) -> Response:
    kind = _type(request)
    body = app.body(request)
    if not isinstance(body, dict):
        raise SfError("JSON_PARSER_ERROR", "The request body must be a JSON object")
    full_name = str(body.get("FullName") or "")
    metadata = body.get("Metadata") or {}
    if not isinstance(metadata, dict):
        raise SfError("JSON_PARSER_ERROR", "Metadata must be a JSON object")
    new_id = tooling_id(app, kind) if kind != "Layout" else ""
    try:
        with app.store.lock:
            if kind == "CustomObject":
                definition = app.schema.add_custom_object(full_name, metadata, new_id)
                layout_id(app, definition)
            elif kind == "CustomField":
                definition, field_def = app.schema.add_custom_field(full_name, metadata, new_id)
                app.store.add_field_to_records(definition, field_def)
            else:
                raise SfError("INVALID_TYPE", "Layouts are created with their object")
            app.schema_changed()
    except SchemaError as exc:
        raise SfError(exc.code, str(exc)) from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise SfError("JSON_PARSER_ERROR", f"Invalid Metadata: {exc}") from None
    return Response.json({"id": new_id, "success": True, "errors": [], "warnings": []}, status=201)


def _find(app: SalesforceApp, kind: str, raw_id: str) -> dict[str, Any]:
    canonical = normalize_id(unquote(raw_id))
    for row in _rows(app, kind):
        if row["Id"] == canonical:
            return row
    raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)


def tooling_get(app: SalesforceApp, request: Request, version: str) -> Response:
    kind = _type(request)
    with app.store.lock:
        row = dict(_find(app, kind, request.params["id"]))
    row["Metadata"] = _metadata_of(app, kind, row)
    url = f"/services/data/v{version}/tooling/sobjects/{kind}/{row['Id']}"
    return Response.json({"attributes": {"type": kind, "url": url}, **row})


def tooling_update(app: SalesforceApp, request: Request, version: str) -> Response:
    """PATCH a Layout's Metadata (sections, columns, items, related lists)."""
    kind = _type(request)
    body = app.body(request)
    if kind != "Layout":
        raise SfError("INVALID_OPERATION", f"Updating {kind} is not supported by this sandbox")
    metadata = body.get("Metadata") if isinstance(body, dict) else None
    if not isinstance(metadata, dict):
        raise SfError("JSON_PARSER_ERROR", "Metadata must be a JSON object")
    with app.store.lock:
        row = _find(app, kind, request.params["id"])
        definition = app.schema.get(row["TableEnumOrId"]) or app.schema.objects[row["_object"]]
        try:
            layout = layout_from_metadata(definition, metadata)
        except (TypeError, AttributeError, ValueError) as exc:
            raise SfError("JSON_PARSER_ERROR", f"Invalid layout Metadata: {exc}") from None
        for section in layout["sections"]:
            for name in section["fields"]:
                if definition.field(str(name)) is None:
                    raise SfError(
                        "INVALID_FIELD", f"No such field {name} on {definition.name}", [str(name)]
                    )
        layout["id"] = definition.layout.get("id")
        definition.layout = layout
        app.schema_changed()
    return Response(status=204)


def _metadata_of(app: SalesforceApp, kind: str, row: dict[str, Any]) -> dict[str, Any]:
    if kind == "Layout":
        return layout_metadata(app.schema.objects[row["_object"]])
    if kind == "CustomObject":
        definition = app.schema.objects[row["_object"]]
        return dict(definition.metadata or {"label": definition.label})
    definition = app.schema.objects[row["_object"]]
    field_def = definition.fields[row["_field"]]
    return dict(field_def.metadata or {"label": field_def.label})


def _rows(app: SalesforceApp, kind: str) -> list[dict[str, Any]]:
    """Tooling records as dicts, as SOQL and GET see them (``_``-keys are internal)."""
    rows: list[dict[str, Any]] = []
    created = sf_datetime(app.store.now())
    for definition in app.schema.objects.values():
        if kind == "CustomObject" and definition.custom:
            rows.append(
                {
                    "Id": definition.tooling_id,
                    "DeveloperName": definition.name[:-3],
                    "FullName": definition.name,
                    "NamespacePrefix": None,
                    "ExternalName": None,
                    "CreatedDate": created,
                    "_object": definition.name,
                }
            )
        if kind == "CustomField":
            table = definition.tooling_id if definition.custom else definition.name
            for field_def in definition.fields.values():
                if field_def.custom and field_def.tooling_id:
                    rows.append(
                        {
                            "Id": field_def.tooling_id,
                            "DeveloperName": field_def.name[:-3],
                            "FullName": f"{definition.name}.{field_def.name}",
                            "TableEnumOrId": table,
                            "NamespacePrefix": None,
                            "CreatedDate": created,
                            "_object": definition.name,
                            "_field": field_def.name,
                        }
                    )
        if kind == "Layout":
            rows.append(
                {
                    "Id": layout_id(app, definition),
                    "Name": definition.layout.get("name", "").partition("-")[2]
                    or f"{definition.label} Layout",
                    "FullName": definition.layout.get("name"),
                    "TableEnumOrId": definition.tooling_id or definition.name,
                    "NamespacePrefix": None,
                    "_object": definition.name,
                }
            )
    return rows


def tooling_query(app: SalesforceApp, request: Request, version: str) -> Response:
    query = parse_soql(request.query.get("q") or "")
    sobject = str(getattr(query, "sobject", ""))
    kind = next((k for k in TOOLING_TYPES if k.lower() == sobject.lower()), None)
    if kind is None:
        raise SfError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
    with app.store.lock:
        rows = [{k: v for k, v in row.items() if not k.startswith("_")} for row in _rows(app, kind)]
        names = sorted(
            {key for row in rows for key in row}
            | {"Id", "DeveloperName", "FullName", "TableEnumOrId"}
        )
        types = dict.fromkeys(names, "string")
        result = execute_soql(query, rows, lambda record, name: None, app.store.now(), types)
    if isinstance(result, int):
        return Response.json(
            {
                "size": result,
                "totalSize": result,
                "done": True,
                "records": [],
                "entityTypeName": kind,
                "queryLocator": None,
            }
        )
    records = []
    for row in add_attributes(result, app.schema.objects["Organization"], app.schema, version):
        row["attributes"] = {
            "type": kind,
            "url": f"/services/data/v{version}/tooling/sobjects/{kind}/{row.get('Id', '')}",
        }
        records.append(row)
    return Response.json(
        {
            "size": len(records),
            "totalSize": len(records),
            "done": True,
            "queryLocator": None,
            "entityTypeName": kind,
            "records": records,
        }
    )
