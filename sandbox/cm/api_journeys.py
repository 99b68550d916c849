"""Journey endpoints: a journey's summary and the paged reports of one journey email.

Journey email reports differ from campaign reports as CM's samples show: no ``ListID`` in the
rows, no ``orderfield`` (always by date), and the envelope echoes ``"Date"`` / ``"SentDate"``
with an upper-case ``"ASC"`` / ``"DESC"``. Unknown ids are 400 with codes 3000 / 3002.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.core.http import Request, Response

from .dates import format_minute, parse_filter_minute
from .errors import INVALID_DATE, bad_request, error
from .model import BOUNCE_REASONS, EventColumns, Journey, JourneyEmail
from .paging import envelope, read_paging
from .serialize import geo_fields, ip_and_location

if TYPE_CHECKING:
    from .app import CampaignMonitorApp


def _journeys(app: CampaignMonitorApp, request: Request) -> list[Journey]:
    scope = app.scope(request)
    return [
        journey
        for client in app.state.clients.values()
        if scope is None or client.client_id == scope
        for journey in client.journeys
    ]


def journey_summary(app: CampaignMonitorApp, request: Request) -> Response:
    """Counts per email, all computed from the stored sends and events."""
    wanted = request.params["journeyid"].lower()
    for journey in _journeys(app, request):
        if journey.journey_id == wanted:
            return Response.json(
                {
                    "JourneyID": journey.journey_id,
                    "Name": journey.name,
                    "TriggerType": journey.trigger_type,
                    "Status": journey.status,
                    "Emails": [_email_counts(email) for email in journey.emails],
                }
            )
    raise bad_request(3000, "Invalid Journey ID")


def _email_counts(email: JourneyEmail) -> dict[str, Any]:
    events = email.events
    return {
        "EmailID": email.email_id,
        "Name": email.name,
        "Bounced": len(events["bounce"]),
        "Clicked": len(events["click"]),
        "Opened": len(events["open"]),
        "Sent": len(email.sent),
        "UniqueOpened": len(set(events["open"].recipient)),
        "Unsubscribed": len(events["unsubscribe"]),
    }


def _recipient_row(email: JourneyEmail, columns: EventColumns, index: int) -> dict[str, Any]:
    member = email.recipients[columns.recipient[index]]
    return {"EmailAddress": member.email, "SentDate": format_minute(columns.minute[index])}


def _open_row(email: JourneyEmail, columns: EventColumns, index: int) -> dict[str, Any]:
    member = email.recipients[columns.recipient[index]]
    return {
        "EmailAddress": member.email,
        "Date": format_minute(columns.minute[index]),
        **geo_fields(member.email),
    }


def _click_row(email: JourneyEmail, columns: EventColumns, index: int) -> dict[str, Any]:
    member = email.recipients[columns.recipient[index]]
    return {
        "EmailAddress": member.email,
        "Date": format_minute(columns.minute[index]),
        "URL": email.urls[columns.detail[index]],
        **geo_fields(member.email),
    }


def _unsubscribe_row(email: JourneyEmail, columns: EventColumns, index: int) -> dict[str, Any]:
    member = email.recipients[columns.recipient[index]]
    return {
        "EmailAddress": member.email,
        "Date": format_minute(columns.minute[index]),
        "IPAddress": ip_and_location(member.email)[0],
    }


def _bounce_row(email: JourneyEmail, columns: EventColumns, index: int) -> dict[str, Any]:
    member = email.recipients[columns.recipient[index]]
    bounce_type, reason = BOUNCE_REASONS[columns.detail[index]]
    return {
        "EmailAddress": member.email,
        "BounceType": bounce_type,
        "Date": format_minute(columns.minute[index]),
        "Reason": reason,
    }


RowBuilder = Callable[[JourneyEmail, EventColumns, int], dict[str, Any]]
REPORTS: dict[str, tuple[str | None, str, RowBuilder]] = {
    "recipients": (None, "SentDate", _recipient_row),
    "opens": ("open", "Date", _open_row),
    "clicks": ("click", "Date", _click_row),
    "unsubscribes": ("unsubscribe", "Date", _unsubscribe_row),
    "bounces": ("bounce", "Date", _bounce_row),
}


def _journey_email(app: CampaignMonitorApp, request: Request) -> JourneyEmail:
    wanted = request.params["emailid"].lower()
    for journey in _journeys(app, request):
        for email in journey.emails:
            if email.email_id == wanted:
                app.state.mailing_list(journey.list_id)  # its client's zone dates the rows
                return email
    raise bad_request(3002, "Invalid Journey Email ID")


def journey_email_report(app: CampaignMonitorApp, request: Request, report: str) -> Response:
    email = _journey_email(app, request)
    kind, ordered_by, build_row = REPORTS[report]
    paging = read_paging(
        request.query, default_field="date", fields=("date",), has_order_field=False
    )
    columns = email.sent if kind is None else email.events[kind]
    first = 0
    raw_date = request.query.get("date")
    if raw_date not in (None, ""):
        try:
            first = columns.first_index_from(parse_filter_minute(str(raw_date)))
        except ValueError:
            raise error(INVALID_DATE) from None
    count = len(columns)
    start, stop = paging.bounds(count - first)
    if paging.descending:
        positions = range(count - 1 - start, count - 1 - stop, -1)
    else:
        positions = range(first + start, first + stop)
    results = [build_row(email, columns, index) for index in positions]
    body = envelope(results, paging, count - first, ordered_by=ordered_by)
    body["OrderDirection"] = paging.direction.upper()
    return Response.json(body)


def _report_handler(report: str):
    def handler(app: CampaignMonitorApp, request: Request) -> Response:
        return journey_email_report(app, request, report)

    handler.__name__ = f"journey_email_{report}"
    return handler


ROUTES = [
    ("GET", "/journeys/{journeyid}.json", "journeys.summary", journey_summary),
    *[
        (
            "GET",
            f"/journeys/email/{{emailid}}/{report}.json",
            f"journeys.email.{report}",
            _report_handler(report),
        )
        for report in REPORTS
    ],
]
