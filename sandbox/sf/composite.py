"""sObject Collections (``composite/sobjects``) and the Composite resource (``composite``).

Collections answer HTTP 200 with one result per input record, in order, whenever the request
itself is well formed; per-record failures carry ``statusCode``/``message``/``fields``. With
``allOrNone`` every change of the request is rolled back when one record fails, and the other
records report ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sandbox.core.http import CaseInsensitiveDict, Request, Response

from .errors import SfError
from .ids import normalize_id

if TYPE_CHECKING:
    from .app import SalesforceApp

COLLECTION_LIMIT = 200
RETRIEVE_LIMIT = 2000
COMPOSITE_LIMIT = 25
HEAVY_LIMIT = 5  # collections or query subrequests per composite call
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}
REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")


def register(app: SalesforceApp) -> None:
    base = "/services/data/{version}/composite"
    app.route(
        "POST",
        base + "/sobjects",
        "composite.sobjects.create",
        lambda r, v: collection_write(app, r, v, "create"),
    )
    app.route(
        "PATCH",
        base + "/sobjects",
        "composite.sobjects.update",
        lambda r, v: collection_write(app, r, v, "update"),
    )
    app.route(
        "DELETE",
        base + "/sobjects",
        "composite.sobjects.delete",
        lambda r, v: collection_delete(app, r, v),
    )
    app.route(
        "GET",
        base + "/sobjects/{sobject}",
        "composite.sobjects.retrieve",
        lambda r, v: collection_retrieve(app, r, v),
    )
    app.route(
        "POST",
        base + "/sobjects/{sobject}",
        "composite.sobjects.retrieve",
        lambda r, v: collection_retrieve(app, r, v),
    )
    app.route(
        "PATCH",
        base + "/sobjects/{sobject}/{field}",
        "composite.sobjects.upsert",
        lambda r, v: collection_write(app, r, v, "upsert"),
    )
    app.route("POST", base, "composite", lambda r, v: composite(app, r, v))


def _too_many() -> SfError:
    return SfError(
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call",
    )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def collection_write(app: SalesforceApp, request: Request, version: str, operation: str):
    body = app.body(request)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise SfError("JSON_PARSER_ERROR", "The request body must have a records array")
    records = body["records"]
    if len(records) > COLLECTION_LIMIT:
        raise _too_many()
    all_or_none = _flag(body.get("allOrNone", False))
    upsert_target = None
    if operation == "upsert":
        definition = app.sobject(request)
        field_def = app.external_field(definition, request.params["field"], for_upsert=True)
        upsert_target = (definition, field_def)
    store = app.store
    with store.atomic():
        parsed = [_parse_item(app, item, operation, upsert_target) for item in records]
        savepoint = store.savepoint()
        results = [_apply_item(app, request, item, operation, upsert_target) for item in parsed]
        if all_or_none and any(not r["success"] for r in results):
            store.rollback_to(savepoint)
            results = [_rolled_back(r, operation) for r in results]
    return Response.json(results)


def _parse_item(app: SalesforceApp, item: Any, operation: str, upsert_target: Any):
    """Resolve the type and parse values up front: malformed input fails the whole request."""
    if not isinstance(item, dict):
        raise SfError("JSON_PARSER_ERROR", "Each record must be a JSON object")
    attributes = item.get("attributes") or {}
    type_name = attributes.get("type") if isinstance(attributes, dict) else None
    if upsert_target is not None:
        definition = upsert_target[0]
        if type_name and app.schema.get(type_name) is not definition:
            raise SfError("INVALID_TYPE", "Upsert records must all be of the URI's sObject type")
    else:
        if not type_name:
            raise SfError("INVALID_TYPE", "sObject type must be specified in attributes.type")
        definition = app.schema.get(str(type_name))
        if definition is None:
            raise SfError("INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
    values = app.store.parse_input(definition, item)
    return definition, values


def _apply_item(
    app: SalesforceApp, request: Request, parsed: Any, operation: str, upsert_target: Any
) -> dict[str, Any]:
    definition, values = parsed
    store = app.store
    record_id = values.get("Id")
    try:
        with store.atomic():
            if operation == "create":
                if record_id:
                    raise SfError(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "cannot specify Id in an insert call",
                        ["Id"],
                    )
                app.check_reject(request)
                record = store.create(definition, values)
                return {"id": record["Id"], "success": True, "errors": []}
            if operation == "update":
                canonical = normalize_id(record_id) if record_id else None
                if not record_id:
                    raise SfError("MISSING_ARGUMENT", "Id not specified in an update call")
                if canonical is None or canonical[:3] != definition.key_prefix:
                    raise SfError("MALFORMED_ID", f"malformed id {record_id}", ["Id"])
                values = {k: v for k, v in values.items() if k != "Id"}
                app.check_reject(request)
                record = store.update(definition, canonical, values)
                return {"id": record["Id"], "success": True, "errors": []}
            return _upsert_item(app, request, upsert_target, values)
    except SfError as error:
        failed_id = None
        if operation != "create" and record_id:
            failed_id = normalize_id(record_id) or record_id
        return {
            "id": failed_id,
            "success": False,
            "errors": [error.item()],
            **({"created": False} if operation == "upsert" else {}),
        }


def _upsert_item(app: SalesforceApp, request: Request, target: Any, values: dict[str, Any]):
    definition, field_def = target
    value = values.get(field_def.name)
    if value is None or value == "":
        raise SfError("MISSING_ARGUMENT", f"{field_def.name} not specified", [field_def.name])
    matches = app._matching_ids(definition, field_def, value)
    if len(matches) > 1:
        raise SfError(
            "DUPLICATE_EXTERNAL_ID",
            f"More than 1 record found for external id field: {matches}",
            [field_def.name],
        )
    app.check_reject(request, key=value)
    record, created = app.store.upsert(definition, field_def, value, dict(values))
    return {"id": record["Id"], "success": True, "errors": [], "created": created}


def _rolled_back(result: dict[str, Any], operation: str) -> dict[str, Any]:
    if not result["success"]:
        return result
    rolled = {
        "id": None if operation in {"create", "upsert"} else result["id"],
        "success": False,
        "errors": [dict(ROLLED_BACK)],
    }
    if operation == "upsert":
        rolled["created"] = False
    return rolled


def collection_delete(app: SalesforceApp, request: Request, version: str) -> Response:
    raw_ids = [i.strip() for i in (request.query.get("ids") or "").split(",") if i.strip()]
    if not raw_ids:
        raise SfError("MISSING_ARGUMENT", "ids parameter is required")
    if len(raw_ids) > COLLECTION_LIMIT:
        raise _too_many()
    all_or_none = _flag(request.query.get("allOrNone", "false"))
    store = app.store
    results = []
    with store.atomic():
        savepoint = store.savepoint()
        for raw in raw_ids:
            results.append(_delete_one(app, request, raw))
        if all_or_none and any(not r["success"] for r in results):
            store.rollback_to(savepoint)
            results = [_rolled_back(r, "delete") for r in results]
    return Response.json(results)


def _delete_one(app: SalesforceApp, request: Request, raw: str) -> dict[str, Any]:
    canonical = normalize_id(raw)
    try:
        definition = app.store.object_of_id(raw) if canonical else None
        if canonical is None or definition is None:
            raise SfError("MALFORMED_ID", f"malformed id {raw}")
        with app.store.atomic():
            app.check_reject(request)
            app.store.delete(definition, canonical)
        return {"id": canonical, "success": True, "errors": []}
    except SfError as error:
        if error.code == "NOT_FOUND":
            error = SfError("ENTITY_IS_DELETED", "entity is deleted")
        return {"id": canonical or raw, "success": False, "errors": [error.item()]}


def collection_retrieve(app: SalesforceApp, request: Request, version: str) -> Response:
    definition = app.sobject(request)
    if request.method == "POST":
        body = app.body(request) or {}
        ids = body.get("ids") if isinstance(body, dict) else None
        fields = body.get("fields") if isinstance(body, dict) else None
        limit = RETRIEVE_LIMIT
    else:
        ids = [i for i in (request.query.get("ids") or "").split(",") if i]
        fields = [f for f in (request.query.get("fields") or "").split(",") if f]
        limit = 800
    if not ids or not isinstance(ids, list):
        raise SfError("MISSING_ARGUMENT", "ids parameter is required")
    if not fields or not isinstance(fields, list):
        raise SfError("MISSING_ARGUMENT", "fields parameter is required")
    if len(ids) > limit:
        raise SfError("EXCEEDED_ID_LIMIT", f"cannot retrieve more than {limit} records")
    names = app.requested_fields(definition, ",".join(str(f) for f in fields))
    results: list[Any] = []
    with app.store.lock:
        for raw in ids:
            canonical = normalize_id(str(raw))
            record = app.store.get(definition.name, canonical) if canonical else None
            if canonical and canonical[:3] != definition.key_prefix:
                record = None
            results.append(app.render(definition, record, version, names) if record else None)
    return Response.json(results)


# Composite ---------------------------------------------------------------------------------


def composite(app: SalesforceApp, request: Request, version: str) -> Response:
    body = app.body(request)
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise SfError("JSON_PARSER_ERROR", "The request body must have a compositeRequest array")
    subrequests = body["compositeRequest"]
    if len(subrequests) > COMPOSITE_LIMIT:
        raise SfError(
            "LIMIT_EXCEEDED",
            f"Composite requests cannot contain more than {COMPOSITE_LIMIT} subrequests",
        )
    heavy = sum(1 for sub in subrequests if _is_heavy(app, sub))
    if heavy > HEAVY_LIMIT:
        raise SfError(
            "LIMIT_EXCEEDED",
            f"Composite requests may contain at most {HEAVY_LIMIT} sObject Collections or query "
            "subrequests",
        )
    all_or_none = _flag(body.get("allOrNone", False))
    results: dict[str, Any] = {}
    answers: list[dict[str, Any]] = []
    store = app.store
    with store.atomic():
        savepoint = store.savepoint()
        failed = False
        for sub in subrequests:
            if failed and all_or_none:
                answers.append(
                    _halted(
                        sub,
                        "The transaction was rolled back since another "
                        "operation in the same transaction failed.",
                    )
                )
                continue
            answer = _run_subrequest(app, request, sub, results)
            answers.append(answer)
            if answer["httpStatusCode"] >= 400:
                failed = True
        if failed and all_or_none:
            store.rollback_to(savepoint)
            answers = [
                a
                if a["httpStatusCode"] >= 400
                else _halted(
                    a,
                    "The transaction was rolled back since another operation in the same "
                    "transaction failed.",
                )
                for a in answers
            ]
    return Response.json({"compositeResponse": answers})


def _is_heavy(app: SalesforceApp, sub: Any) -> bool:
    if not isinstance(sub, dict) or not isinstance(sub.get("url"), str):
        return False
    method = str(sub.get("method") or "GET").upper()
    route, _params, _known = app.router.match(method, urlsplit(sub["url"]).path.rstrip("/"))
    return route is not None and route.name.startswith(("composite.sobjects", "query"))


def _halted(sub: dict[str, Any], message: str) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": sub.get("referenceId"),
    }


def _run_subrequest(app: SalesforceApp, outer: Request, sub: Any, results: dict[str, Any]):
    shape_ok = (
        isinstance(sub, dict)
        and isinstance(sub.get("url"), str)
        and isinstance(sub.get("method"), str)
        and isinstance(sub.get("httpHeaders") or {}, dict)
    )
    if not shape_ok or not sub["url"] or not sub["method"]:
        raise SfError(
            "JSON_PARSER_ERROR",
            "Each subrequest needs a method and url (strings) and optional httpHeaders (object)",
        )
    reference_id = sub.get("referenceId")
    try:
        url = _substitute(str(sub["url"]), results)
        payload = _substitute_value(sub.get("body"), results)
    except KeyError as exc:
        return _halted(sub, f"Invalid reference specified. No value for {exc.args[0]} found.")
    split = urlsplit(url)
    path = split.path.rstrip("/")
    request = Request(
        method=str(sub["method"]).upper(),
        path=path,
        query=CaseInsensitiveDict(dict(parse_qsl(split.query, keep_blank_values=True))),
        headers={**outer.headers, **(sub.get("httpHeaders") or {})},
        body=json.dumps(payload).encode("utf-8") if payload is not None else b"",
        client_address=outer.client_address,
    )
    route, params, _known = app.router.match(request.method, path)
    if route is None or route.name.startswith(("composite", "bulk2", "oauth")):
        response = Response.json(
            [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
            status=404,
        )
    else:
        request.endpoint = route.name
        request.params = params
        response = route.handler(request)
    parsed = json.loads(response.body.decode("utf-8")) if response.body else None
    if reference_id and response.status < 400:
        results[str(reference_id)] = parsed
    headers = {k: v for k, v in response.headers.items() if k.lower() == "location"}
    return {
        "body": parsed,
        "httpHeaders": headers,
        "httpStatusCode": response.status,
        "referenceId": reference_id,
    }


def _lookup(results: dict[str, Any], reference: str, path: str) -> Any:
    if reference not in results:
        raise KeyError(f"{reference}.{path}")
    value: Any = results[reference]
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(value, list) or index >= len(value):
                raise KeyError(f"{reference}.{path}")
            value = value[index]
        else:
            if not isinstance(value, dict) or part not in value:
                raise KeyError(f"{reference}.{path}")
            value = value[part]
    return value


def _substitute(text: str, results: dict[str, Any]) -> str:
    return REFERENCE.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), text)


def _substitute_value(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _substitute(value, results)
    if isinstance(value, list):
        return [_substitute_value(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_value(v, results) for k, v in value.items()}
    return value


def unquoted(value: str) -> str:
    return unquote(value)
