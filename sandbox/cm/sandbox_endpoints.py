"""Sandbox-only controls under ``/__sandbox__/`` (no auth; never under ``/api/``).

- ``POST /__sandbox__/events`` ``{"campaign_id", "kind", "emails": [...], "url"?, "date"?,
  "bounce_type"?}`` adds tracking events to a sent campaign. ``kind`` is open, click, bounce,
  unsubscribe or spam (plurals accepted); clicks need ``url``; ``date`` ("YYYY-MM-DD HH:MM",
  default now); bounces are ``Hard`` unless ``bounce_type`` is ``Soft``. As in CM, an
  unsubscribe or spam complaint unsubscribes the address (client-wide for AllClientLists lists,
  adding it to the suppression list) and a hard bounce moves it to Bounced.
- ``POST /__sandbox__/expire-tokens``: every OAuth access token expires now (refresh still works).
- ``GET /__sandbox__/clock``, ``POST /__sandbox__/clock`` ``{"shift_seconds": n}`` or
  ``{"offset_seconds": n}``: move the sandbox's "now".
- ``GET /__sandbox__/info``: the API key's clients with their lists, campaigns and journeys.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox.core.http import Request, Response

from .dates import format_minute, format_second, parse_filter_minute
from .model import BOUNCE_REASONS

HARD_BOUNCE = next(i for i, (kind, _) in enumerate(BOUNCE_REASONS) if kind == "Hard")
SOFT_BOUNCE = next(i for i, (kind, _) in enumerate(BOUNCE_REASONS) if kind == "Soft")

if TYPE_CHECKING:
    from .app import CampaignMonitorApp

KIND_ALIASES = {
    "open": "open",
    "opens": "open",
    "click": "click",
    "clicks": "click",
    "bounce": "bounce",
    "bounces": "bounce",
    "unsubscribe": "unsubscribe",
    "unsubscribes": "unsubscribe",
    "spam": "spam",
    "spam_complaint": "spam",
    "complaint": "spam",
}


class EventError(ValueError):
    """Bad input to :func:`add_events`; the message says what (and no secrets)."""


def add_events(
    app: CampaignMonitorApp,
    campaign_id: str,
    kind: str,
    emails: list[str],
    url: str | None = None,
    date: str | None = None,
    bounce_type: str = "Hard",
) -> int:
    """Add one event per address to a sent campaign; returns how many were added."""
    state = app.state
    with state.lock:
        campaign = state.campaigns.get(str(campaign_id).lower())
        if campaign is None:
            raise EventError(f"unknown campaign {campaign_id}")
        state.release_due_campaigns()
        if not campaign.sent:
            raise EventError("the campaign has not been sent")
        canonical = KIND_ALIASES.get(str(kind).strip().lower())
        if canonical is None:
            raise EventError(f"kind must be one of {', '.join(sorted(set(KIND_ALIASES.values())))}")
        if canonical == "click" and not url:
            raise EventError("a click needs a url")
        minute = state.clock.now_minute()
        if date:
            try:
                minute = parse_filter_minute(date)
            except ValueError:
                raise EventError("date must be YYYY-MM-DD or YYYY-MM-DD HH:MM") from None
        minute = max(minute, campaign.sent_minute or 0)
        detail = 0
        if canonical == "click":
            detail = campaign.url_index(str(url))
        elif canonical == "bounce":
            detail = HARD_BOUNCE if str(bounce_type).lower() != "soft" else SOFT_BOUNCE
        positions = []
        missing = []
        for email in emails:
            position = campaign.recipient_for_email(str(email))
            if position is None:
                missing.append(str(email))
            positions.append(position)
        if missing:
            raise EventError(f"not recipients of this campaign: {', '.join(missing)}")
        for position in positions:
            state.record_event(campaign, canonical, position, minute, detail)
        state.flush_outbox()
        return len(positions)


def handle(app: CampaignMonitorApp, request: Request, action: str) -> Response | None:
    if action == "events" and request.method == "POST":
        return _events(app, request)
    if action == "expire-tokens" and request.method == "POST":
        return Response.json({"expired": app.oauth.expire_all()})
    if action == "clock":
        return _clock(app, request)
    if action == "info" and request.method == "GET":
        return Response.json(info(app))
    return None


def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.body.decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError):
        raise EventError("body must be JSON") from None
    if not isinstance(data, dict):
        raise EventError("body must be a JSON object")
    return data


def _events(app: CampaignMonitorApp, request: Request) -> Response:
    try:
        data = _body(request)
        emails = data.get("emails") or data.get("EmailAddresses") or []
        if isinstance(emails, str):
            emails = [emails]
        added = add_events(
            app,
            str(data.get("campaign_id") or data.get("CampaignID") or ""),
            str(data.get("kind") or ""),
            [str(item) for item in emails],
            url=data.get("url"),
            date=data.get("date"),
            bounce_type=str(data.get("bounce_type") or "Hard"),
        )
    except EventError as exc:
        return Response.json({"error": str(exc)}, status=400)
    return Response.json({"added": added})


def _clock(app: CampaignMonitorApp, request: Request) -> Response:
    if request.method == "POST":
        try:
            data = _body(request)
            if "offset_seconds" in data:
                app.clock.set_offset(float(data["offset_seconds"]))
            else:
                app.clock.shift(float(data.get("shift_seconds", 0)))
        except (EventError, TypeError, ValueError) as exc:
            return Response.json({"error": str(exc)}, status=400)
    elif request.method != "GET":
        return Response.json({"error": "use GET or POST"}, status=405)
    return Response.json(
        {"now": format_second(app.clock.now()), "offset_seconds": app.clock.offset}
    )


def info(app: CampaignMonitorApp) -> dict[str, Any]:
    """Ids and names of what the sandbox holds (handy for the demo and for tests)."""
    state = app.state
    with state.lock:
        return {
            "now": format_minute(app.clock.now_minute()),
            "clients": [
                {
                    "ClientID": client.client_id,
                    "Name": client.name,
                    "Lists": [
                        {
                            "ListID": list_id,
                            "Name": state.lists[list_id].title,
                            "Members": len(state.lists[list_id].members),
                        }
                        for list_id in client.list_ids
                    ],
                    "Campaigns": [
                        {
                            "CampaignID": campaign_id,
                            "Name": state.campaigns[campaign_id].name,
                            "Sent": state.campaigns[campaign_id].sent,
                        }
                        for campaign_id in client.campaign_ids
                    ],
                    "Journeys": [journey.journey_id for journey in client.journeys],
                }
                for client in state.clients.values()
            ],
        }
