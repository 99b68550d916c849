"""Campaign endpoints: create, send, delete, summary, lists and segments, and the paged
per-recipient reports (recipients, opens, clicks, unsubscribes, spam, bounces)."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sandbox.core.http import Request, Response

from .dates import format_minute, parse_filter_minute
from .errors import INVALID_DATE, bad_request, error
from .model import BOUNCE_REASONS, Campaign, EventColumns
from .paging import envelope, read_paging
from .serialize import geo_fields, ip_and_location, summary_json
from .state import valid_email

if TYPE_CHECKING:
    from .app import CampaignMonitorApp

REPORT_ORDER_FIELDS = ("date", "email", "list")


def _campaign(app: CampaignMonitorApp, request: Request) -> Campaign:
    return app.state.campaign(request.params["campaignid"], app.scope(request))


def _url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def create_campaign(app: CampaignMonitorApp, request: Request) -> Response:
    """``POST /campaigns/{clientid}.json`` → 201 and the new campaign id as a JSON string."""
    client = app.state.client(request.params["clientid"], app.scope(request))
    body = app.body(request, "campaign") or {}
    text = {key: str(body.get(key) or "").strip() for key in (
        "Name", "Subject", "FromName", "FromEmail", "ReplyTo", "HtmlUrl", "TextUrl"
    )}  # fmt: skip
    if not text["Name"]:
        raise bad_request(319, "Campaign Name Required")
    for campaign_id in client.campaign_ids:
        if app.state.campaigns[campaign_id].name.lower() == text["Name"].lower():
            raise bad_request(303, "Duplicate Campaign Name")
    if not text["Subject"]:
        raise bad_request(304, "Campaign Subject Required")
    if not text["FromName"]:
        raise bad_request(305, "From Name Required")
    if not valid_email(text["FromEmail"]):
        raise bad_request(307, "Invalid From Email Address")
    if not text["ReplyTo"]:
        raise bad_request(308, "Reply to Address Required")
    if not valid_email(text["ReplyTo"]):
        raise bad_request(309, "Invalid Reply-To Address")
    if not _url(text["HtmlUrl"]):
        raise bad_request(310, "HTML Content URL Required")
    if text["TextUrl"] and not _url(text["TextUrl"]):
        raise bad_request(312, "Invalid Text Content URL")
    list_ids = [str(item).lower() for item in (body.get("ListIDs") or [])]
    segment_ids = [str(item).lower() for item in (body.get("SegmentIDs") or [])]
    if not list_ids and not segment_ids:
        raise bad_request(315, "Lists or Segments Required")
    if any(app.state.lists.get(item) is None for item in list_ids) or any(
        app.state.lists[item].client_id != client.client_id for item in list_ids
    ):
        raise bad_request(313, "Invalid ListID's")
    if segment_ids:
        raise bad_request(314, "Invalid Segments")
    tags = campaign_tags(body.get("Tags"))
    campaign = app.state.add_campaign(
        client,
        name=text["Name"],
        subject=text["Subject"],
        from_name=text["FromName"],
        from_email=text["FromEmail"],
        reply_to=text["ReplyTo"],
        html_url=text["HtmlUrl"],
        text_url=text["TextUrl"],
        list_ids=list_ids,
        tags=tags,
        created_minute=app.clock.now_minute(),
    )
    return Response.json(campaign.campaign_id, status=201)


def campaign_tags(raw: Any) -> list[str]:
    """A campaign's ``Tags``: trimmed, blanks dropped, each tag once (the first spelling wins;
    tags compare case-insensitively, as the ``tags`` filter of the sent list does)."""
    tags: dict[str, str] = {}
    for tag in raw if isinstance(raw, list) else []:
        text = str(tag).strip()
        if text:
            tags.setdefault(text.lower(), text)
    return list(tags.values())


def send_campaign(app: CampaignMonitorApp, request: Request) -> Response:
    """``POST /campaigns/{id}/send.json`` with ConfirmationEmail and SendDate.

    "Immediately" (or a time that has come) sends now: the campaign fans out one recipient
    record per active, unsuppressed list member. A future time schedules it.
    """
    campaign = _campaign(app, request)
    if campaign.sent:
        raise bad_request(331, "Campaign has already been sent")
    body = app.body(request, "campaign") or {}
    confirmation = str(body.get("ConfirmationEmail") or "").strip()
    if not confirmation:
        raise bad_request(338, "Confirm Email Required")
    if not all(valid_email(item.strip()) for item in confirmation.split(",")):
        raise bad_request(339, "Confirm Email Invalid")
    send_date = str(body.get("SendDate") or "Immediately").strip()
    now = app.clock.now_minute()
    if send_date.lower() == "immediately":
        when = now
    else:
        try:
            when = parse_filter_minute(send_date)
        except ValueError:
            raise error(INVALID_DATE) from None
        if when < now - 1:
            raise bad_request(337, "Delivery Date Cannot be in the Past")
    campaign.confirmation_email = confirmation
    if when > now:
        campaign.scheduled_minute = when
        return Response(status=200)
    app.state.send_campaign(campaign, now)
    if not campaign.recipients:
        campaign.sent_minute = None
        raise bad_request(
            340, "The selected subscriber lists and/or segments contain no subscribers"
        )
    return Response(status=200)


def delete_campaign(app: CampaignMonitorApp, request: Request) -> Response:
    campaign = _campaign(app, request)
    app.state.clients[campaign.client_id].campaign_ids.remove(campaign.campaign_id)
    del app.state.campaigns[campaign.campaign_id]
    return Response(status=200)


def campaign_summary(app: CampaignMonitorApp, request: Request) -> Response:
    return Response.json(summary_json(app.public_url, _campaign(app, request)))


def lists_and_segments(app: CampaignMonitorApp, request: Request) -> Response:
    campaign = _campaign(app, request)
    lists = [app.state.lists[item] for item in campaign.list_ids if item in app.state.lists]
    return Response.json(
        {"Lists": [{"ListID": lst.list_id, "Name": lst.title} for lst in lists], "Segments": []}
    )


def recipients(app: CampaignMonitorApp, request: Request) -> Response:
    campaign = _campaign(app, request)
    paging = read_paging(request.query, default_field="email", fields=REPORT_ORDER_FIELDS)
    people = campaign.recipients
    if paging.order_field == "email":
        order = sorted(range(len(people)), key=lambda i: people[i].email.lower())
    elif paging.order_field == "list":
        order = sorted(range(len(people)), key=lambda i: (people[i].list_id, people[i].email))
    else:
        order = list(range(len(people)))
    if paging.descending:
        order.reverse()
    start, stop = paging.bounds(len(order))
    results = [
        {"EmailAddress": people[i].email, "ListID": people[i].list_id} for i in order[start:stop]
    ]
    return Response.json(envelope(results, paging, len(order)))


def _open_row(campaign: Campaign, columns: EventColumns, index: int) -> dict[str, Any]:
    member = campaign.recipients[columns.recipient[index]]
    return {
        "EmailAddress": member.email,
        "ListID": member.list_id,
        "Date": format_minute(columns.minute[index]),
        **geo_fields(member.email),
    }


def _click_row(campaign: Campaign, columns: EventColumns, index: int) -> dict[str, Any]:
    member = campaign.recipients[columns.recipient[index]]
    return {
        "EmailAddress": member.email,
        "URL": campaign.urls[columns.detail[index]],
        "ListID": member.list_id,
        "Date": format_minute(columns.minute[index]),
        **geo_fields(member.email),
    }


def _unsubscribe_row(campaign: Campaign, columns: EventColumns, index: int) -> dict[str, Any]:
    member = campaign.recipients[columns.recipient[index]]
    return {
        "EmailAddress": member.email,
        "ListID": member.list_id,
        "Date": format_minute(columns.minute[index]),
        "IPAddress": ip_and_location(member.email)[0],
    }


def _spam_row(campaign: Campaign, columns: EventColumns, index: int) -> dict[str, Any]:
    member = campaign.recipients[columns.recipient[index]]
    return {
        "EmailAddress": member.email,
        "ListID": member.list_id,
        "Date": format_minute(columns.minute[index]),
    }


def _bounce_row(campaign: Campaign, columns: EventColumns, index: int) -> dict[str, Any]:
    member = campaign.recipients[columns.recipient[index]]
    bounce_type, reason = BOUNCE_REASONS[columns.detail[index]]
    return {
        "EmailAddress": member.email,
        "ListID": member.list_id,
        "BounceType": bounce_type,
        "Date": format_minute(columns.minute[index]),
        "Reason": reason,
    }


RowBuilder = Callable[[Campaign, EventColumns, int], dict[str, Any]]
REPORTS: dict[str, tuple[str, RowBuilder]] = {
    "opens": ("open", _open_row),
    "clicks": ("click", _click_row),
    "unsubscribes": ("unsubscribe", _unsubscribe_row),
    "spam": ("spam", _spam_row),
    "bounces": ("bounce", _bounce_row),
}


def event_report(app: CampaignMonitorApp, request: Request, report: str) -> Response:
    """A paged tracking report; ``date`` keeps events on/after that minute.

    Events are stored sorted by minute, so the date filter is a binary search and a page in
    date order is a slice; JSON is built for that page only.
    """
    campaign = _campaign(app, request)
    kind, build_row = REPORTS[report]
    paging = read_paging(request.query, default_field="date", fields=REPORT_ORDER_FIELDS)
    columns = campaign.events[kind]
    first = 0
    raw_date = request.query.get("date")
    if raw_date not in (None, ""):
        try:
            first = columns.first_index_from(parse_filter_minute(str(raw_date)))
        except ValueError:
            raise error(INVALID_DATE) from None
    count = len(columns)
    total = count - first
    start, stop = paging.bounds(total)
    if paging.order_field == "date":
        if paging.descending:
            positions = list(range(count - 1 - start, count - 1 - stop, -1))
        else:
            positions = list(range(first + start, first + stop))
    else:
        people = campaign.recipients

        def sort_key(i: int) -> tuple[str, ...]:
            member = people[columns.recipient[i]]
            if paging.order_field == "list":
                return (member.list_id, member.email.lower(), str(columns.minute[i]))
            return (member.email.lower(), f"{columns.minute[i]:010d}")

        ordered = sorted(range(first, count), key=sort_key, reverse=paging.descending)
        positions = ordered[start:stop]
    results = [build_row(campaign, columns, index) for index in positions]
    return Response.json(envelope(results, paging, total))


def _report_handler(report: str):
    def handler(app: CampaignMonitorApp, request: Request) -> Response:
        return event_report(app, request, report)

    handler.__name__ = f"campaign_{report}"
    return handler


def web_version(app: CampaignMonitorApp, request: Request) -> Response:
    """A stand-in for a campaign's hosted web version (no auth, like the real page)."""
    code = request.params["code"].upper()
    for campaign in app.state.campaigns.values():
        if campaign.web_code == code:
            title = html.escape(campaign.subject)
            return Response.text(
                f"<!doctype html><title>{title}</title><h1>{title}</h1>"
                f"<p>{html.escape(campaign.name)} (Campaign Monitor sandbox web version)</p>",
                content_type="text/html; charset=utf-8",
            )
    return app.not_found(request)


ROUTES = [
    ("POST", "/campaigns/{clientid}.json", "campaigns.create", create_campaign),
    ("DELETE", "/campaigns/{campaignid}.json", "campaigns.delete", delete_campaign),
    ("POST", "/campaigns/{campaignid}/send.json", "campaigns.send", send_campaign),
    ("GET", "/campaigns/{campaignid}/summary.json", "campaigns.summary", campaign_summary),
    (
        "GET",
        "/campaigns/{campaignid}/listsandsegments.json",
        "campaigns.listsandsegments",
        lists_and_segments,
    ),
    ("GET", "/campaigns/{campaignid}/recipients.json", "campaigns.recipients", recipients),
    *[
        (
            "GET",
            f"/campaigns/{{campaignid}}/{report}.json",
            f"campaigns.{report}",
            _report_handler(report),
        )
        for report in REPORTS
    ],
]
