"""Reports (Analytics REST API) and list views, both evaluated with SOQL over the live records.

A report is stored as ``{id, name, developerName, folder, sobject, columns, where}``; running it
answers a tabular ``factMap["T!T"]`` with ``dataCells`` per row (at most 2,000 detail rows, as
Salesforce's synchronous run), plus ``reportMetadata`` and ``reportExtendedMetadata``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sandbox.core.http import Request, Response

from .errors import SfError
from .ids import normalize_id
from .store import sf_datetime

if TYPE_CHECKING:
    from .app import SalesforceApp

REPORT_ROW_LIMIT = 2000
LIST_VIEW_LIMIT = 2000
SYSTEM_COLUMNS = ["Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"]


def register(app: SalesforceApp) -> None:
    base = "/services/data/{version}/analytics/reports"
    app.route("GET", base, "analytics.reports.list", lambda r, v: report_list(app, r, v))
    app.route("GET", base + "/{id}", "analytics.reports.run", lambda r, v: report_run(app, r, v))
    app.route("POST", base + "/{id}", "analytics.reports.run", lambda r, v: report_run(app, r, v))
    app.route(
        "GET",
        base + "/{id}/describe",
        "analytics.reports.describe",
        lambda r, v: report_describe(app, r, v),
    )
    views = "/services/data/{version}/sobjects/{sobject}/listviews"
    app.route("GET", views, "listviews.list", lambda r, v: list_views(app, r, v))
    app.route("GET", views + "/{id}", "listviews.get", lambda r, v: list_view_get(app, r, v))
    app.route(
        "GET",
        views + "/{id}/describe",
        "listviews.describe",
        lambda r, v: list_view_describe(app, r, v),
    )
    app.route(
        "GET",
        views + "/{id}/results",
        "listviews.results",
        lambda r, v: list_view_results(app, r, v),
    )


def _developer_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")


def add_report(
    app: SalesforceApp, name: str, sobject: str, columns: list[str], where: str, folder: str
) -> dict[str, Any]:
    from .seed import _insert

    record = _insert(
        app,
        "Report",
        {
            "Name": name[:40],
            "DeveloperName": _developer_name(name),
            "FolderName": folder,
            "Format": "Tabular",
        },
    )
    report = {
        "id": record["Id"],
        "name": name,
        "developerName": _developer_name(name),
        "folder": folder,
        "sobject": sobject,
        "columns": columns,
        "where": where,
    }
    app.reports[record["Id"]] = report
    return report


def add_list_view(
    app: SalesforceApp, sobject: str, label: str, columns: list[str], where: str
) -> dict[str, Any]:
    from .seed import _insert

    record = _insert(
        app,
        "ListView",
        {"Name": label[:40], "DeveloperName": _developer_name(label), "SobjectType": sobject},
    )
    view = {
        "id": record["Id"],
        "label": label,
        "developerName": _developer_name(label),
        "sobject": sobject,
        "columns": columns,
        "where": where,
    }
    app.list_views[record["Id"]] = view
    return view


def _soql(sobject: str, columns: list[str], where: str, order: str = "") -> str:
    text = f"SELECT {', '.join(columns)} FROM {sobject}"
    if where:
        text += f" WHERE {where}"
    if order:
        text += f" ORDER BY {order}"
    return text


def _value(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        match = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(match) if match else None
    return value


def _column_name(sobject: str, path: str) -> str:
    if path == "Id":
        return f"{sobject.upper()}_ID"
    if "." in path:
        return path.upper()
    if path.endswith("__c"):
        return f"{sobject}.{path}"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", path).upper()


def _column_info(app: SalesforceApp, sobject: str, path: str) -> dict[str, Any]:
    definition = app.schema.get(sobject)
    field_def = None
    parts = path.split(".")
    for index, part in enumerate(parts):
        if definition is None:
            break
        if index == len(parts) - 1:
            field_def = definition.field(part)
        else:
            relationship = definition.relationship(part)
            definition = app.schema.get(relationship.reference_to[0]) if relationship else None
    data_type = field_def.type if field_def else "string"
    label = field_def.label if field_def else path
    if len(parts) > 1:
        label = f"{parts[0]}: {label}"
    return {"dataType": data_type, "entityColumnName": path, "filterable": True, "label": label}


def _report(app: SalesforceApp, request: Request) -> dict[str, Any]:
    report = app.reports.get(normalize_id(unquote(request.params["id"])) or "")
    if report is None:
        raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
    return report


def _metadata(app: SalesforceApp, report: dict[str, Any], version: str) -> dict[str, Any]:
    sobject = report["sobject"]
    columns = [_column_name(sobject, c) for c in report["columns"]]
    metadata = {
        "aggregates": ["RowCount"],
        "detailColumns": columns,
        "developerName": report["developerName"],
        "folderId": None,
        "groupingsAcross": [],
        "groupingsDown": [],
        "hasDetailRows": True,
        "id": report["id"],
        "name": report["name"],
        "reportBooleanFilter": None,
        "reportFilters": (
            [{"column": "SOQL", "operator": "equals", "value": report["where"]}]
            if report["where"]
            else []
        ),
        "reportFormat": "TABULAR",
        "reportType": {"label": f"{sobject}s", "type": f"{sobject}List"},
        "scope": "organization",
    }
    extended = {
        "aggregateColumnInfo": {
            "RowCount": {
                "acrossGroupingContext": None,
                "dataType": "int",
                "downGroupingContext": None,
                "label": "Record Count",
            }
        },
        "detailColumnInfo": {
            name: _column_info(app, sobject, path)
            for name, path in zip(columns, report["columns"], strict=True)
        },
        "groupingColumnInfo": {},
    }
    return {"reportMetadata": metadata, "reportExtendedMetadata": extended}


def report_list(app: SalesforceApp, request: Request, version: str) -> Response:
    base = f"/services/data/v{version}/analytics/reports"
    return Response.json(
        [
            {
                "describeUrl": f"{base}/{r['id']}/describe",
                "id": r["id"],
                "instancesUrl": f"{base}/{r['id']}/instances",
                "name": r["name"],
                "url": f"{base}/{r['id']}",
            }
            for r in app.reports.values()
        ]
    )


def report_describe(app: SalesforceApp, request: Request, version: str) -> Response:
    report = _report(app, request)
    body = _metadata(app, report, version)
    body["reportTypeMetadata"] = {"categories": [], "dataTypeFilterOperatorMap": {}}
    return Response.json(body)


def report_run(app: SalesforceApp, request: Request, version: str) -> Response:
    report = _report(app, request)
    _definition, rows = app.run_query(
        _soql(report["sobject"], report["columns"], report["where"]), False, version
    )
    assert isinstance(rows, list)
    detail = []
    for row in rows[:REPORT_ROW_LIMIT]:
        cells = []
        for path in report["columns"]:
            value = _value(row, path)
            cells.append({"label": "-" if value is None else str(value), "value": value})
        detail.append({"dataCells": cells})
    base = f"/services/data/v{version}/analytics/reports/{report['id']}"
    body = {
        "attributes": {
            "describeUrl": f"{base}/describe",
            "instancesUrl": f"{base}/instances",
            "reportId": report["id"],
            "reportName": report["name"],
            "type": "Report",
        },
        "allData": len(rows) <= REPORT_ROW_LIMIT,
        "factMap": {
            "T!T": {"aggregates": [{"label": str(len(rows)), "value": len(rows)}], "rows": detail}
        },
        "groupingsAcross": {"groupings": []},
        "groupingsDown": {"groupings": []},
        "hasDetailRows": True,
        **_metadata(app, report, version),
    }
    with app.store.lock:
        record = app.store.get("Report", report["id"])
        if record is not None:
            record["LastRunDate"] = sf_datetime(app.store.now())
    return Response.json(body)


# List views --------------------------------------------------------------------------------


def _views_for(app: SalesforceApp, sobject: str) -> list[dict[str, Any]]:
    return [v for v in app.list_views.values() if v["sobject"].lower() == sobject.lower()]


def _view(app: SalesforceApp, request: Request) -> dict[str, Any]:
    definition = app.sobject(request)
    view = app.list_views.get(normalize_id(unquote(request.params["id"])) or "")
    if view is None or view["sobject"] != definition.name:
        raise SfError("NOT_FOUND", "The requested resource does not exist", status=404)
    return view


def _view_summary(view: dict[str, Any], version: str) -> dict[str, Any]:
    base = f"/services/data/v{version}/sobjects/{view['sobject']}/listviews/{view['id']}"
    return {
        "describeUrl": f"{base}/describe",
        "developerName": view["developerName"],
        "id": view["id"],
        "label": view["label"],
        "resultsUrl": f"{base}/results",
        "soqlCompatible": True,
        "url": base,
    }


def list_views(app: SalesforceApp, request: Request, version: str) -> Response:
    definition = app.sobject(request)
    views = [_view_summary(v, version) for v in _views_for(app, definition.name)]
    return Response.json(
        {
            "done": True,
            "listviews": views,
            "nextRecordsUrl": None,
            "queryLocator": None,
            "size": len(views),
            "sobjectType": definition.name,
        }
    )


def list_view_get(app: SalesforceApp, request: Request, version: str) -> Response:
    return Response.json(_view_summary(_view(app, request), version))


def _view_columns(app: SalesforceApp, view: dict[str, Any]) -> list[dict[str, Any]]:
    columns = []
    shown = list(view["columns"])
    for path in shown + [c for c in SYSTEM_COLUMNS if c not in shown]:
        info = _column_info(app, view["sobject"], path)
        columns.append(
            {
                "ascendingLabel": "A-Z",
                "descendingLabel": "Z-A",
                "fieldNameOrPath": path,
                "hidden": path not in shown,
                "label": info["label"],
                "selectListItem": path,
                "sortDirection": None,
                "sortIndex": None,
                "sortable": True,
                "type": info["dataType"],
            }
        )
    return columns


def list_view_describe(app: SalesforceApp, request: Request, version: str) -> Response:
    view = _view(app, request)
    columns = _view_columns(app, view)
    query = _soql(
        view["sobject"],
        [c["fieldNameOrPath"] for c in columns],
        view["where"],
        "Name ASC NULLS FIRST, Id ASC NULLS FIRST",
    )
    return Response.json(
        {
            "columns": columns,
            "id": view["id"],
            "orderBy": [
                {"fieldNameOrPath": "Name", "nullsPosition": "first", "sortDirection": "ascending"}
            ],
            "query": query,
            "scope": "everything",
            "sobjectType": view["sobject"],
            "whereCondition": {"conditions": []},
        }
    )


def list_view_results(app: SalesforceApp, request: Request, version: str) -> Response:
    view = _view(app, request)
    columns = _view_columns(app, view)
    limit = _bounded(request.query.get("limit"), 25, 1, LIST_VIEW_LIMIT)
    offset = _bounded(request.query.get("offset"), 0, 0, 2000)
    _definition, rows = app.run_query(
        _soql(view["sobject"], [c["fieldNameOrPath"] for c in columns], view["where"]),
        False,
        version,
    )
    assert isinstance(rows, list)
    page = rows[offset : offset + limit]
    records = [
        {
            "columns": [
                {
                    "fieldNameOrPath": c["fieldNameOrPath"],
                    "value": _as_text(_value(row, c["fieldNameOrPath"])),
                }
                for c in columns
            ]
        }
        for row in page
    ]
    return Response.json(
        {
            "columns": columns,
            "developerName": view["developerName"],
            "done": offset + limit >= len(rows),
            "id": view["id"],
            "label": view["label"],
            "records": records,
            "size": len(rows),
        }
    )


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _bounded(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SfError("INVALID_QUERY_FILTER_OPERATOR", f"invalid number: {raw}") from None
    return max(low, min(high, value))
