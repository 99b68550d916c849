"""Account and client endpoints: clients, client details, lists, sent campaigns, tags,
suppression list, journeys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lib.cm_time_zones import CM_LABEL_TO_IANA
from sandbox.core.http import Request, Response

from .dates import format_minute, format_second, parse_day_minute
from .errors import INVALID_EMAIL, CMError, bad_request, error
from .paging import envelope, page_of, read_paging
from .serialize import draft_campaign_json, sent_campaign_json
from .state import valid_email

if TYPE_CHECKING:
    from .app import CampaignMonitorApp

DAY_MINUTES = 24 * 60
CLIENT_CREATION_LIMIT = 5  # per 30 minutes (code 172)


def _client(app: CampaignMonitorApp, request: Request):
    return app.state.client(request.params["clientid"], app.scope(request))


def account_clients(app: CampaignMonitorApp, request: Request) -> Response:
    scope = app.scope(request)
    return Response.json(
        [
            {"ClientID": client.client_id, "Name": client.name}
            for client in app.state.clients.values()
            if scope is None or client.client_id == scope
        ]
    )


def create_client(app: CampaignMonitorApp, request: Request) -> Response:
    if app.scope(request) is not None:
        raise CMError(403, 403, "Not allowed for a Non-agency Customer")
    body = app.body(request, "client") or {}
    name = str(body.get("CompanyName") or "").strip()
    country = str(body.get("Country") or "").strip()
    timezone = str(body.get("TimeZone") or "").strip()
    if not name:
        raise bad_request(154, "Empty Company Name")
    if not country:
        raise bad_request(157, "Invalid Country")
    if timezone not in CM_LABEL_TO_IANA:
        raise bad_request(152, "Invalid Timezone")
    now = app.clock.now()
    recent = [moment for moment in app.state.client_creations if moment > now - 1800]
    if len(recent) >= CLIENT_CREATION_LIMIT:
        raise bad_request(
            172, "You can create a maximum of five (5) clients per thirty (30) minutes"
        )
    app.state.client_creations = [*recent, now]
    client = app.state.add_client(
        name, country=country, timezone=timezone, contact_name="", email=""
    )
    return Response.json(client.client_id, status=201)


def client_details(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    username = "".join(ch for ch in client.name.lower() if ch.isalnum())[:20] or "client"
    return Response.json(
        {
            "ApiKey": client.api_key,
            "AccessDetails": {"Username": username, "AccessLevel": 23},
            "BasicDetails": {
                "ClientID": client.client_id,
                "CompanyName": client.name,
                "ContactName": client.contact_name,
                "EmailAddress": client.email,
                "Country": client.country,
                "TimeZone": client.timezone,
            },
            "BillingDetails": {
                "CanPurchaseCredits": True,
                "Credits": client.credits,
                "ClientPays": True,
                "BaseRatePerRecipient": 1.0,
                "MarkupPerRecipient": 0.0,
                "MarkupOnDelivery": 0.0,
                "BaseDeliveryRate": 5.0,
                "Currency": "USD",
                "BaseDesignSpamTestRate": 5.0,
            },
        }
    )


def client_lists(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    return Response.json(
        [{"ListID": list_id, "Name": app.state.lists[list_id].title} for list_id in client.list_ids]
    )


def lists_for_email(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    email = str(request.query.get("email") or "").strip()
    if not valid_email(email):
        raise error(INVALID_EMAIL)
    found = []
    for list_id in client.list_ids:
        lst = app.state.lists[list_id]
        member = lst.member(email)
        if member is not None:
            found.append(
                {
                    "ListID": list_id,
                    "ListName": lst.title,
                    "SubscriberState": member.state,
                    "DateSubscriberAdded": format_minute(member.joined_minute),
                }
            )
    return Response.json(found)


def client_segments(app: CampaignMonitorApp, request: Request) -> Response:
    _client(app, request)
    return Response.json([])


def _day_filter(query: Any, name: str, code: int) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        return parse_day_minute(str(raw))
    except ValueError:
        raise bad_request(code, "The date must be provided in the format YYYY-MM-DD") from None


def sent_campaigns(app: CampaignMonitorApp, request: Request) -> Response:
    """v3.3's paged sent campaigns: sentfromdate / senttodate (days, inclusive) and tags."""
    client = _client(app, request)
    paging = read_paging(
        request.query,
        default_field="sentdate",
        fields=("sentdate",),
        default_direction="desc",
        has_order_field=False,
    )
    start = _day_filter(request.query, "sentfromdate", 920)
    end = _day_filter(request.query, "senttodate", 922)
    if start is not None and end is not None and start > end:
        raise bad_request(927, '"From Date" must be before "To Date"')
    wanted_tags = {
        tag.strip().lower()
        for tag in str(request.query.get("tags") or "").split(",")
        if tag.strip()
    }
    app.state.release_due_campaigns()
    chosen = []
    for campaign_id in client.campaign_ids:
        campaign = app.state.campaigns[campaign_id]
        sent = campaign.sent_minute
        if sent is None:
            continue
        if start is not None and sent < start:
            continue
        if end is not None and sent >= end + DAY_MINUTES:
            continue
        if wanted_tags and not wanted_tags & {tag.lower() for tag in campaign.tags}:
            continue
        chosen.append(campaign)
    chosen.sort(key=lambda item: (item.sent_minute, item.campaign_id), reverse=paging.descending)
    results = [sent_campaign_json(app.public_url, item) for item in page_of(chosen, paging)]
    return Response.json(envelope(results, paging, len(chosen), ordered_by="SentDate"))


def scheduled_campaigns(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    app.state.release_due_campaigns()
    campaigns = [app.state.campaigns[item] for item in client.campaign_ids]
    return Response.json(
        [
            draft_campaign_json(app.public_url, item)
            for item in campaigns
            if item.scheduled_minute is not None
        ]
    )


def draft_campaigns(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    app.state.release_due_campaigns()
    campaigns = [app.state.campaigns[item] for item in client.campaign_ids]
    return Response.json(
        [
            draft_campaign_json(app.public_url, item)
            for item in campaigns
            if item.sent_minute is None and item.scheduled_minute is None
        ]
    )


def client_tags(app: CampaignMonitorApp, request: Request) -> Response:
    """``[{Name, NumberOfCampaigns}]``: every tag on the client's campaigns (sent, scheduled and
    drafts), counted once per campaign, tags compared case-insensitively (the first spelling
    names it), ordered by name."""
    client = _client(app, request)
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    for campaign_id in client.campaign_ids:
        for key, tag in {t.lower(): t for t in app.state.campaigns[campaign_id].tags}.items():
            names.setdefault(key, tag)
            counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts, key=lambda key: (key, names[key]))
    return Response.json([{"Name": names[k], "NumberOfCampaigns": counts[k]} for k in ordered])


def suppression_list(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    paging = read_paging(request.query, default_field="email", fields=("email", "date"))
    entries = list(client.suppression.values())
    if paging.order_field == "date":
        entries.sort(key=lambda item: (item.second, item.email.lower()), reverse=paging.descending)
    else:
        entries.sort(key=lambda item: item.email.lower(), reverse=paging.descending)
    results = [
        {
            "SuppressionReason": entry.reason,
            "EmailAddress": entry.email,
            "Date": format_second(entry.second),
            "State": "Suppressed",
        }
        for entry in page_of(entries, paging)
    ]
    return Response.json(envelope(results, paging, len(entries)))


def suppress(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    body = app.body(request, "suppress") or {}
    emails = body.get("EmailAddresses") if hasattr(body, "get") else None
    if not isinstance(emails, list) or not emails:
        raise error(INVALID_EMAIL)
    cleaned = [str(item).strip() for item in emails]
    if not all(valid_email(item) for item in cleaned):
        raise error(INVALID_EMAIL)
    now = app.clock.now()
    for email in cleaned:
        app.state.suppress(client, email, "Suppressed", now)
    return Response(status=200)


def unsuppress(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    email = str(request.query.get("email") or "").strip()
    if client.suppression.pop(email.lower(), None) is None:
        raise bad_request(176, "Email address not in suppression list")
    return Response(status=200)


def client_journeys(app: CampaignMonitorApp, request: Request) -> Response:
    client = _client(app, request)
    return Response.json(
        [
            {
                "ListID": journey.list_id,
                "JourneyID": journey.journey_id,
                "Name": journey.name,
                "Status": journey.status,
            }
            for journey in client.journeys
        ]
    )


def time_zones(app: CampaignMonitorApp, request: Request) -> Response:
    """The labels a client's ``TimeZone`` may take (every date of the client is in it)."""
    return Response.json(list(CM_LABEL_TO_IANA))


ROUTES = [
    ("GET", "/timezones.json", "account.timezones", time_zones),
    ("GET", "/clients.json", "account.clients", account_clients),
    ("POST", "/clients.json", "clients.create", create_client),
    ("GET", "/clients/{clientid}.json", "clients.details", client_details),
    ("GET", "/clients/{clientid}/lists.json", "clients.lists", client_lists),
    ("GET", "/clients/{clientid}/listsforemail.json", "clients.listsforemail", lists_for_email),
    ("GET", "/clients/{clientid}/segments.json", "clients.segments", client_segments),
    ("GET", "/clients/{clientid}/campaigns.json", "clients.campaigns", sent_campaigns),
    ("GET", "/clients/{clientid}/scheduled.json", "clients.scheduled", scheduled_campaigns),
    ("GET", "/clients/{clientid}/drafts.json", "clients.drafts", draft_campaigns),
    ("GET", "/clients/{clientid}/tags.json", "clients.tags", client_tags),
    (
        "GET",
        "/clients/{clientid}/suppressionlist.json",
        "clients.suppressionlist",
        suppression_list,
    ),
    ("POST", "/clients/{clientid}/suppress.json", "clients.suppress", suppress),
    ("PUT", "/clients/{clientid}/unsuppress.json", "clients.unsuppress", unsuppress),
    ("GET", "/clients/{clientid}/journeys.json", "clients.journeys", client_journeys),
]
