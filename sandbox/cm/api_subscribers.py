"""Subscriber endpoints: get, add, update, import, unsubscribe, delete, history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.core.http import Request, Response

from .dates import format_minute
from .errors import (
    ALREADY_SUBSCRIBED,
    EMPTY_IMPORT,
    IMPORT_FAILURES,
    INVALID_EMAIL,
    INVALID_NEW_EMAIL,
    NOT_IN_LIST,
    TOO_MANY_IN_IMPORT,
    CMError,
    error,
)
from .model import BOUNCE_REASONS, MailingList, Member
from .serialize import ip_and_location, member_json
from .state import parse_subscriber, truthy, valid_email

if TYPE_CHECKING:
    from .app import CampaignMonitorApp

IMPORT_LIMIT = 1000
HISTORY_EVENTS = {
    "open": "Open",
    "click": "Click",
    "unsubscribe": "Unsubscribe",
    "spam": "Spam",
    "bounce": "Bounce",
}


def _list(app: CampaignMonitorApp, request: Request) -> MailingList:
    return app.state.mailing_list(request.params["listid"], app.scope(request))


def _member(lst: MailingList, request: Request) -> Member:
    email = str(request.query.get("email") or "").strip()
    if not valid_email(email):
        raise error(INVALID_EMAIL)
    member = lst.member(email)
    if member is None:
        raise error(NOT_IN_LIST)
    return member


def get_subscriber(app: CampaignMonitorApp, request: Request) -> Response:
    member = _member(_list(app, request), request)
    tracking = truthy(request.query.get("includetrackingpreference"))
    sms = truthy(request.query.get("includesmspreference"))
    return Response.json(member_json(member, tracking=tracking, sms=sms, details=True))


def _journey_starting_outcomes(body: Any, *, queued: bool) -> frozenset[str]:
    """The upsert outcomes that start the list's "On Subscription" journeys.

    An import starts none unless QueueSubscriptionBasedAutoresponders (an add always may); a
    resubscribed address restarts them only with RestartSubscriptionBasedAutoresponders; an
    update of an address already on the list ("existing") never does.
    """
    if not queued:
        return frozenset()
    if truthy(body.get("RestartSubscriptionBasedAutoresponders")):
        return frozenset({"new", "resubscribed"})
    return frozenset({"new"})


def add_subscriber(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    body = app.body(request, "subscriber") or {}
    data = parse_subscriber(body)  # raises unless ``body`` is an object
    resubscribe = truthy(body.get("Resubscribe"))
    minute = app.clock.now_minute()
    outcome = app.state.upsert_subscriber(lst, data, resubscribe, minute)
    if outcome in _journey_starting_outcomes(body, queued=True):
        app.state.start_subscription_journeys(lst, data.email, minute)
    return Response.json(data.email, status=201)


def update_subscriber(app: CampaignMonitorApp, request: Request) -> Response:
    """``PUT /subscribers/{listid}.json?email=old``; the body may carry a new address."""
    lst = _list(app, request)
    member = _member(lst, request)
    body = app.body(request, "subscriber") or {}
    if not hasattr(body, "get"):
        raise error(INVALID_NEW_EMAIL)
    if not body.get("EmailAddress"):
        body["EmailAddress"] = member.email
    data = parse_subscriber(body, email_error=INVALID_NEW_EMAIL)
    old_email = member.email
    new_key = data.email.lower()
    if new_key != old_email.lower() and new_key in lst.members:
        raise error(ALREADY_SUBSCRIBED)
    minute = app.clock.now_minute()
    before = app.state.snapshot(member)
    app.state.apply_details(lst, member, data)
    if new_key != old_email.lower():
        del lst.members[old_email.lower()]
        member.email = data.email
        lst.members[new_key] = member
        for campaign in app.state.campaigns.values():
            campaign._recipient_index = None
    elif data.email != member.email:
        member.email = data.email
    resubscribed = truthy(body.get("Resubscribe")) and member.state in (
        "Unsubscribed",
        "Bounced",
        "Deleted",
    )
    if resubscribed:
        member.state = "Active"
        member.state_minute = minute
        app.state.clients[lst.client_id].suppression.pop(new_key, None)
        app.state.emit_subscribe(lst, member, minute)
    elif app.state.snapshot(member) != before:
        app.state.emit_update(lst, member, old_email, minute)
    return Response(status=200)


def import_subscribers(app: CampaignMonitorApp, request: Request) -> Response:
    """Up to 1000 addresses; any failure answers 400 / Code 210 with per-address results."""
    lst = _list(app, request)
    body = app.body(request, "subscribers") or {}
    rows = body.get("Subscribers") if hasattr(body, "get") else None
    if not isinstance(rows, list) or not rows:
        raise error(EMPTY_IMPORT)
    if len(rows) > IMPORT_LIMIT:
        raise error(TOO_MANY_IN_IMPORT)
    resubscribe = truthy(body.get("Resubscribe"))
    queued = truthy(body.get("QueueSubscriptionBasedAutoresponders"))
    starting = _journey_starting_outcomes(body, queued=queued)
    minute = app.clock.now_minute()
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    failures: list[dict[str, Any]] = []
    existing = new = 0
    for row in rows:
        email = str(row.get("EmailAddress") or "").strip() if hasattr(row, "get") else ""
        key = email.lower()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            duplicates.append(email)
        if seen[key] > 1:
            continue
        try:
            outcome = app.state.upsert_subscriber(lst, parse_subscriber(row), resubscribe, minute)
        except CMError as exc:
            failures.append({"EmailAddress": email, "Code": exc.code, "Message": exc.message})
            continue
        if outcome in starting:
            app.state.start_subscription_journeys(lst, email, minute)
        if outcome == "new":
            new += 1
        else:
            existing += 1
    if failures:
        raise CMError(
            400,
            *IMPORT_FAILURES,
            {
                "TotalUniqueEmailsSubmitted": len(seen),
                "TotalExistingSubscribers": existing,
                "TotalNewSubscribers": new,
                "DuplicateEmailsInSubmission": duplicates,
                "FailureDetails": failures,
            },
        )
    return Response.json(
        {
            "FailureDetails": [],
            "TotalUniqueEmailsSubmitted": len(seen),
            "TotalExistingSubscribers": existing,
            "TotalNewSubscribers": new,
            "DuplicateEmailsInSubmission": duplicates,
        },
        status=201,
    )


def unsubscribe(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    body = app.body(request, "subscriber") or {}
    email = str(body.get("EmailAddress") or "").strip() if hasattr(body, "get") else ""
    if not valid_email(email):
        raise error(INVALID_EMAIL)
    member = lst.member(email)
    if member is None:
        raise error(NOT_IN_LIST)
    app.state.unsubscribe(lst, member, app.clock.now_minute())
    return Response(status=200)


def delete_subscriber(app: CampaignMonitorApp, request: Request) -> Response:
    lst = _list(app, request)
    member = _member(lst, request)
    app.state.deactivate(member, "Deleted", app.clock.now_minute())
    return Response(status=200)


def subscriber_history(app: CampaignMonitorApp, request: Request) -> Response:
    """Campaigns this list member received with at least one action, newest first."""
    lst = _list(app, request)
    member = _member(lst, request)
    client = app.state.clients[lst.client_id]
    ip_address, _ = ip_and_location(member.email)
    history = []
    for campaign_id in reversed(client.campaign_ids):
        campaign = app.state.campaigns[campaign_id]
        if not campaign.sent:
            continue
        position = campaign.recipient_index(lst.list_id, member.email)
        if position is None:
            continue
        actions: list[tuple[int, dict[str, Any]]] = []
        for kind, label in HISTORY_EVENTS.items():
            columns = campaign.events[kind]
            for index, recipient in enumerate(columns.recipient):
                if recipient != position:
                    continue
                detail = ""
                if kind == "click":
                    detail = campaign.urls[columns.detail[index]]
                elif kind == "bounce":
                    detail = BOUNCE_REASONS[columns.detail[index]][1]
                minute = columns.minute[index]
                actions.append(
                    (
                        minute,
                        {
                            "Event": label,
                            "Date": format_minute(minute),
                            "IPAddress": ip_address,
                            "Detail": detail,
                        },
                    )
                )
        if not actions:
            continue
        actions.sort(key=lambda pair: pair[0], reverse=True)
        history.append(
            {
                "ID": campaign.campaign_id,
                "Type": "Campaign",
                "Name": campaign.name,
                "Actions": [action for _, action in actions],
            }
        )
    return Response.json(history)


ROUTES = [
    ("GET", "/subscribers/{listid}.json", "subscribers.get", get_subscriber),
    ("POST", "/subscribers/{listid}.json", "subscribers.add", add_subscriber),
    ("PUT", "/subscribers/{listid}.json", "subscribers.update", update_subscriber),
    ("DELETE", "/subscribers/{listid}.json", "subscribers.delete", delete_subscriber),
    ("POST", "/subscribers/{listid}/import.json", "subscribers.import", import_subscribers),
    ("POST", "/subscribers/{listid}/unsubscribe.json", "subscribers.unsubscribe", unsubscribe),
    ("GET", "/subscribers/{listid}/history.json", "subscribers.history", subscriber_history),
]
