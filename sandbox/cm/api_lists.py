"""List endpoints: create / details / update / delete, stats, custom fields, subscribers by
state, webhooks."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from sandbox.core.http import Request, Response

from .dates import current_zone, parse_filter_minute
from .errors import INVALID_DATE, bad_request, error
from .model import DATA_TYPES, CustomField, MailingList, Webhook
from .paging import envelope, page_of, read_paging
from .serialize import member_json
from .state import truthy
from .webhooks import payload_bytes, post_payload

if TYPE_CHECKING:
    from .app import CampaignMonitorApp

WEBHOOK_EVENTS = ("Subscribe", "Deactivate", "Update")
UNSUBSCRIBE_SETTINGS = ("AllClientLists", "OnlyThisList")


def _list(app: CampaignMonitorApp, request: Request) -> MailingList:
    return app.state.mailing_list(request.params["listid"], app.scope(request))


def _list_settings(body: Any, current: MailingList | None) -> dict[str, Any]:
    title = str(body.get("Title") or "").strip()
    if not title:
        raise bad_request(251, "List Title Empty")
    setting = str(body.get("UnsubscribeSetting") or "AllClientLists").strip()
    canonical = {item.lower(): item for item in UNSUBSCRIBE_SETTINGS}
    if setting.lower() not in canonical:
        raise bad_request(
            261,
            "Invalid unsubscribe setting. Unsubscribe setting must be either AllClientLists "
            "or OnlyThisList.",
        )
    settings = {
        "title": title,
        "unsubscribe_page": str(body.get("UnsubscribePage") or ""),
        "confirmed_opt_in": truthy(body.get("ConfirmedOptIn")),
        "confirmation_success_page": str(body.get("ConfirmationSuccessPage") or ""),
        "unsubscribe_setting": canonical[setting.lower()],
    }
    if current is not None:
        for key, name in (
            ("AddUnsubscribesToSuppList", "add_unsubscribes_to_supp_list"),
            ("ScrubActiveWithSuppList", "scrub_active_with_supp_list"),
        ):
            if key in body:
                settings[name] = truthy(body.get(key))
    return settings


def _check_title(app: CampaignMonitorApp, client_id: str, title: str, skip: str = "") -> None:
    for list_id in app.state.clients[client_id].list_ids:
        if list_id != skip and app.state.lists[list_id].title.lower() == title.lower():
            raise bad_request(250, "Duplicate list title")


def create_list(app: CampaignMonitorApp, request: Request) -> Response:
    client = app.state.client(request.params["clientid"], app.scope(request))
    body = app.body(request, "list") or {}
    settings = _list_settings(body, None)
    _check_title(app, client.client_id, settings["title"])
    title = settings.pop("title")
    lst = app.state.add_list(client, title, **settings)
    return Response.json(lst.list_id, status=201)


def list_details(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    return Response.json(
        {
            "ConfirmedOptIn": lst.confirmed_opt_in,
            "Title": lst.title,
            "UnsubscribePage": lst.unsubscribe_page,
            "ListID": lst.list_id,
            "ConfirmationSuccessPage": lst.confirmation_success_page,
            "UnsubscribeSetting": lst.unsubscribe_setting,
        }
    )


def update_list(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    settings = _list_settings(app.body(request, "list") or {}, lst)
    _check_title(app, lst.client_id, settings["title"], skip=lst.list_id)
    for name, value in settings.items():
        setattr(lst, name, value)
    return Response(status=200)


def delete_list(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    for campaign_id in app.state.clients[lst.client_id].campaign_ids:
        campaign = app.state.campaigns[campaign_id]
        if not campaign.sent and lst.list_id in campaign.list_ids:
            raise bad_request(252, "Cannot delete a list attached to at least one campaign draft")
    app.state.clients[lst.client_id].list_ids.remove(lst.list_id)
    del app.state.lists[lst.list_id]
    return Response(status=200)


def _window_starts(now_minute: int) -> dict[str, tuple[int, int]]:
    """(from, to) minutes of CM's stats windows: today, yesterday, this week/month/year, as
    days of the client's own zone."""
    now = datetime.fromtimestamp(now_minute * 60, tz=current_zone())
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def minute(moment: datetime) -> int:
        return int(moment.timestamp() // 60)

    end = now_minute + 1
    return {
        "Today": (minute(today), end),
        "Yesterday": (minute(today - timedelta(days=1)), minute(today)),
        "ThisWeek": (minute(today - timedelta(days=today.weekday())), end),
        "ThisMonth": (minute(today.replace(day=1)), end),
        "ThisYear": (minute(today.replace(month=1, day=1)), end),
    }


def list_stats(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    windows = _window_starts(app.clock.now_minute())
    groups = {
        "Active": ("TotalActiveSubscribers", "NewActiveSubscribers{}"),
        "Unsubscribed": ("TotalUnsubscribes", "Unsubscribes{}"),
        "Deleted": ("TotalDeleted", "Deleted{}"),
        "Bounced": ("TotalBounces", "Bounces{}"),
    }
    stats: dict[str, int] = {}
    for total_key, window_key in groups.values():
        stats[total_key] = 0
        for window in windows:
            stats[window_key.format(window)] = 0
    for member in lst.members.values():
        group = groups.get(member.state)
        if group is None:
            continue
        stats[group[0]] += 1
        for window, (start, stop) in windows.items():
            if start <= member.state_minute < stop:
                stats[group[1].format(window)] += 1
    return Response.json(stats)


def _field_json(field_def: CustomField) -> dict[str, Any]:
    return {
        "FieldName": field_def.name,
        "Key": field_def.key,
        "DataType": field_def.data_type,
        "FieldOptions": list(field_def.options),
        "VisibleInPreferenceCenter": field_def.visible,
    }


def field_key(name: str) -> str:
    """CM's key for a field name: the name without spaces or punctuation, in brackets."""
    return "[" + re.sub(r"[^0-9A-Za-z_]", "", name) + "]"


def custom_fields(app: CampaignMonitorApp, request: Request) -> Response:
    return Response.json([_field_json(item) for item in _list(app, request).fields])


def _options(body: Any, data_type: str) -> list[str]:
    raw = body.get("Options")
    options = [str(item) for item in raw] if isinstance(raw, list) else []
    if data_type.startswith("MultiSelect"):
        if not options:
            raise bad_request(257, "No options defined for Multi-Valued field")
    elif options:
        raise bad_request(256, "Options defined for Text or Number Field")
    return options


def create_custom_field(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    body = app.body(request, "field") or {}
    name = str(body.get("FieldName") or "").strip()
    key = field_key(name)
    if not name or key == "[]":
        raise bad_request(254, "Invalid Field Name")
    if lst.field_for(name) is not None or lst.field_for(key) is not None:
        raise bad_request(255, "The Field Name already exists in this list")
    types = {item.lower(): item for item in DATA_TYPES}
    data_type = types.get(str(body.get("DataType") or "").strip().lower())
    if data_type is None:
        raise bad_request(259, "Data type is incorrect")
    options = _options(body, data_type)
    visible = truthy(body.get("VisibleInPreferenceCenter", True))
    lst.fields.append(CustomField(name, key, data_type, options, visible))
    return Response.json(key, status=201)


def _field_from_path(lst: MailingList, raw_key: str) -> CustomField:
    key = unquote(raw_key)
    found = lst.field_for(key) if key.startswith("[") and key.endswith("]") else None
    if found is None:
        raise bad_request(253, "Invalid Key. Keys must be surrounded with [ ]")
    return found


def update_custom_field(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    field_def = _field_from_path(lst, request.params["key"])
    body = app.body(request, "field") or {}
    name = str(body.get("FieldName") or "").strip()
    key = field_key(name)
    if not name or key == "[]":
        raise bad_request(254, "Invalid Field Name")
    clash = lst.field_for(name)
    if clash is not None and clash is not field_def:
        raise bad_request(255, "The Field Name already exists in this list")
    old_name = field_def.name
    field_def.name, field_def.key = name, key
    if "VisibleInPreferenceCenter" in body:
        field_def.visible = truthy(body.get("VisibleInPreferenceCenter"))
    for member in lst.members.values():
        member.custom = [(name if k == old_name else k, v) for k, v in member.custom]
    return Response.json(key)


def delete_custom_field(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    field_def = _field_from_path(lst, request.params["key"])
    lst.fields.remove(field_def)
    for member in lst.members.values():
        member.custom = [(k, v) for k, v in member.custom if k != field_def.name]
    return Response(status=200)


def _state_handler(state: str):
    def handler(app: CampaignMonitorApp, request: Request) -> Response:
        return subscribers_in_state(app, request, state)

    handler.__name__ = f"list_{state.lower()}"
    return handler


def subscribers_in_state(app: CampaignMonitorApp, request: Request, state: str) -> Response:
    """``/lists/{id}/{state}.json``: paged, ``date`` = entered the state on/after."""
    lst = _list(app, request)
    query = request.query
    paging = read_paging(query, default_field="email", fields=("email", "name", "date"))
    since = None
    if query.get("date") not in (None, ""):
        try:
            since = parse_filter_minute(str(query.get("date")))
        except ValueError:
            raise error(INVALID_DATE) from None
    tracking = truthy(query.get("includetrackingpreference")) or truthy(
        query.get("includetrackinginformation")
    )
    sms = truthy(query.get("includesmspreference"))
    members = [
        member
        for member in lst.members.values()
        if member.state == state and (since is None or member.state_minute >= since)
    ]
    if paging.order_field == "name":
        members.sort(key=lambda m: (m.name.lower(), m.email.lower()), reverse=paging.descending)
    elif paging.order_field == "date":
        members.sort(key=lambda m: (m.state_minute, m.email.lower()), reverse=paging.descending)
    else:
        members.sort(key=lambda m: m.email.lower(), reverse=paging.descending)
    results = [member_json(m, tracking=tracking, sms=sms) for m in page_of(members, paging)]
    return Response.json(envelope(results, paging, len(members)))


def _webhook(lst: MailingList, webhook_id: str) -> Webhook:
    for hook in lst.webhooks:
        if hook.webhook_id == webhook_id.lower():
            return hook
    raise bad_request(600, "Invalid WebhookID")


def list_webhooks(app: CampaignMonitorApp, request: Request) -> Response:
    return Response.json(
        [
            {
                "WebhookID": hook.webhook_id,
                "Events": list(hook.events),
                "Url": hook.url,
                "Status": hook.status,
                "PayloadFormat": hook.payload_format,
            }
            for hook in _list(app, request).webhooks
        ]
    )


def create_webhook(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    body = app.body(request, "webhook") or {}
    url = str(body.get("Url") or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request(601, "Invalid Webhook URL")
    formats = {"json": "Json", "xml": "Xml"}
    payload_format = formats.get(str(body.get("PayloadFormat") or "").strip().lower())
    if payload_format is None:
        raise bad_request(602, "Invalid Webhook Format")
    raw_events = body.get("Events")
    known = {item.lower(): item for item in WEBHOOK_EVENTS}
    if not isinstance(raw_events, list) or not raw_events:
        raise bad_request(603, "Invalid Webhook Event")
    events = []
    for item in raw_events:
        event = known.get(str(item).strip().lower())
        if event is None:
            raise bad_request(603, "Invalid Webhook Event")
        if event not in events:
            events.append(event)
    hook = Webhook(app.state.new_id(16), events, url, payload_format)
    lst.webhooks.append(hook)
    return Response.json(hook.webhook_id, status=201)


def delete_webhook(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    lst.webhooks.remove(_webhook(lst, request.params["webhookid"]))
    return Response(status=200)


def activate_webhook(app: CampaignMonitorApp, request: Request) -> Response:
    _webhook(_list(app, request), request.params["webhookid"]).status = "Active"
    return Response(status=200)


def deactivate_webhook(app: CampaignMonitorApp, request: Request) -> Response:
    _webhook(_list(app, request), request.params["webhookid"]).status = "Unsubscribed"
    return Response(status=200)


def test_webhook(app: CampaignMonitorApp, request: Request) -> Response:
    """POST a sample Subscribe payload now; 400 code 610 when the receiver fails."""
    lst = _list(app, request)
    hook = _webhook(lst, request.params["webhookid"])
    sample = {
        "Type": "Subscribe",
        "Date": "2010-12-14 11:32:00",
        "EmailAddress": "test@example.org",
        "Name": "Test Subscriber",
        "CustomFields": [],
        "SignupIPAddress": "TypeManual",
    }
    body = payload_bytes(lst.list_id, [sample], hook.payload_format)
    try:
        status = post_payload(hook.url, body, hook.payload_format, timeout=5.0)
        failure = None if 200 <= status < 300 else f"HTTP {status}"
    except Exception as exc:  # the receiver's failure is the answer, not a sandbox error
        status, failure = 0, type(exc).__name__
    if failure is None:
        return Response(status=200)
    raise bad_request(
        610,
        "The webhook request has failed",
        {
            "FailureStatus": "ProtocolError" if status else "ConnectFailure",
            "FailureResponseMessage": failure,
            "FailureResponseCode": status,
            "FailureResponse": "",
        },
    )


STATE_PATHS = {
    "active": "Active",
    "unconfirmed": "Unconfirmed",
    "unsubscribed": "Unsubscribed",
    "bounced": "Bounced",
    "deleted": "Deleted",
}

ROUTES = [
    ("POST", "/lists/{clientid}.json", "lists.create", create_list),
    ("GET", "/lists/{listid}.json", "lists.details", list_details),
    ("PUT", "/lists/{listid}.json", "lists.update", update_list),
    ("DELETE", "/lists/{listid}.json", "lists.delete", delete_list),
    ("GET", "/lists/{listid}/stats.json", "lists.stats", list_stats),
    ("GET", "/lists/{listid}/customfields.json", "lists.customfields", custom_fields),
    ("POST", "/lists/{listid}/customfields.json", "lists.customfields.create", create_custom_field),
    (
        "PUT",
        "/lists/{listid}/customfields/{key}.json",
        "lists.customfields.update",
        update_custom_field,
    ),
    (
        "DELETE",
        "/lists/{listid}/customfields/{key}.json",
        "lists.customfields.delete",
        delete_custom_field,
    ),
    *[
        ("GET", f"/lists/{{listid}}/{path}.json", f"lists.{path}", _state_handler(state))
        for path, state in STATE_PATHS.items()
    ],
    ("GET", "/lists/{listid}/webhooks.json", "lists.webhooks.list", list_webhooks),
    ("POST", "/lists/{listid}/webhooks.json", "lists.webhooks.create", create_webhook),
    (
        "DELETE",
        "/lists/{listid}/webhooks/{webhookid}.json",
        "lists.webhooks.delete",
        delete_webhook,
    ),
    ("GET", "/lists/{listid}/webhooks/{webhookid}/test.json", "lists.webhooks.test", test_webhook),
    (
        "PUT",
        "/lists/{listid}/webhooks/{webhookid}/activate.json",
        "lists.webhooks.activate",
        activate_webhook,
    ),
    (
        "PUT",
        "/lists/{listid}/webhooks/{webhookid}/deactivate.json",
        "lists.webhooks.deactivate",
        deactivate_webhook,
    ),
]
