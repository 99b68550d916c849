"""Campaign Monitor (createsend) API v3.3 client: HTTP only, no Django.

Construct one per account and thread::

    client = CampaignMonitorClient(api_key="...", ca_bundle=None)            # HTTP Basic
    client = CampaignMonitorClient(oauth_tokens=tokens, on_token_refresh=save)  # OAuth bearer

Constructor knobs: ``base_url`` (default ``https://api.createsend.com/api/v3.3``; the OAuth base
is the same URL without ``/api/v3.3``), ``ca_bundle`` (CA file path; None = the operating
system's CA file),
``timeout`` ((connect, read) seconds, applied to every call), ``max_retries`` (5),
``backoff_base`` / ``backoff_cap`` (seconds), ``sleep`` (injectable for tests), ``calls`` (a
:class:`~sync.clients.counting.CallCounter` to share across clients of one sync run; otherwise
one is created), ``rng``, ``user_agent``, ``pool_maxsize``, ``before_call`` (called with no
argument before every call, retries excluded; whatever it raises stops the call unsent).

What callers get
- Plain dicts and lists exactly as CM sends them (PascalCase keys), except :class:`OAuthTokens`
  and :class:`ImportResult`. Creates return CM's bare ID string; writes with no body return None.
- Paged endpoints are ``iter_*`` methods returning lazy iterators over every item of every page
  (``pagesize`` 10..1000, default 1000): page N+1 is fetched only once page N is consumed, so a
  million-row report streams in bounded memory. ``start_page`` resumes a stopped walk.
- ``date`` filters take a ``date``, ``datetime`` (formatted ``YYYY-MM-DD HH:MM``, read by CM in
  the client's time zone) or a string already in that form; sent-campaign filters are days only.
- Errors are typed (``sync.clients.errors``) and carry CM's ``code``, ``message``, ``status``
  and ``endpoint`` (a route-like name such as ``lists.active``): AuthError (bad key, revoked or
  unrefreshable token, missing permission: "reconnect needed"), NotFound (404, or an ID CM does
  not recognise: 401 codes like 101/102, 400 codes 203/271/3000/3002), RateLimited (429 after
  retries), TransientError (5xx / network after retries, or an ambiguous create), PermanentError
  (any other 4xx; never retried), MalformedCredentials (an AuthError the constructor raises for
  a key or token that is not printable ASCII, see ``sendable``: nothing is sent). Messages and
  reprs never contain keys or tokens.
- ``client.calls`` counts every HTTP attempt per endpoint name, retries and OAuth refreshes
  included. Retry policy and idempotency notes: :mod:`sync.clients.campaign_monitor_transport`.

Public methods (all IDs are CM's 32-hex strings). Only what the product calls, plus what a
feature of an open issue needs (webhooks, tags, list details/stats, campaign lists and segments,
journeys, single-subscriber reads and writes, suppression writes); the sandbox serves more of
CM's API for its own tests.
  Account/clients: get_clients, get_client, get_lists, get_lists_for_email, get_tags,
    iter_sent_campaigns, iter_suppression_list, suppress, unsuppress
  Lists: get_list, get_list_stats, get_custom_fields, iter_subscribers(list_id, state),
    get_webhooks, create_webhook, delete_webhook
  Subscribers: get_subscriber, add_subscriber, import_subscribers, unsubscribe,
    get_subscriber_history
  Campaigns: get_campaign_summary, get_campaign_lists_and_segments, iter_campaign_recipients,
    iter_campaign_events(campaign_id, kind) for opens, clicks, unsubscribes, spam and bounces
  Journeys: get_journeys, get_journey_summary, iter_journey_email_report
  OAuth: authorize_url(), exchange_code() (module functions), client.refresh_tokens(),
    client.oauth_tokens
  Helpers: make_subscriber(), format_cm_date(), IMPORT_BATCH_LIMIT
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from .campaign_monitor_transport import (
    DEFAULT_API_BASE,
    DEFAULT_OAUTH_BASE,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT,
    IMPORT_PARTIAL_FAILURE_CODE,
    CMTransport,
    OAuthTokenEndpoint,
    Timeout,
    cm_error_body,
    decode_body,
    error_for_response,
    oauth_base_from_api_base,
    request_tokens,
    sendable,
)
from .campaign_monitor_types import (
    CAMPAIGN_EVENT_REPORTS,
    IMPORT_BATCH_LIMIT,
    JOURNEY_EMAIL_REPORTS,
    SUBSCRIBER_STATES,
    ImportFailure,
    ImportResult,
    OAuthTokens,
    custom_field_entries,
    format_cm_date,
    format_cm_day,
    make_subscriber,
)
from .counting import CallCounter

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_OAUTH_BASE",
    "IMPORT_BATCH_LIMIT",
    "CampaignMonitorClient",
    "ImportFailure",
    "ImportResult",
    "OAuthTokens",
    "authorize_url",
    "custom_field_entries",
    "exchange_code",
    "format_cm_date",
    "make_subscriber",
    "sendable",
]

DateLike = date | datetime | str | None
Record = dict[str, Any]


class CampaignMonitorClient(CMTransport):
    """Typed methods for every CM endpoint cmsync uses (see the module docstring)."""

    # Account and clients ----------------------------------------------------------------------
    def get_clients(self) -> list[Record]:
        """``[{ClientID, Name}]`` for every client in the account."""
        return self.call("GET", "/clients.json", endpoint="account.clients")

    def get_client(self, client_id: str) -> Record:
        """Client details: ``ApiKey``, ``BasicDetails``, ``BillingDetails``, ``AccessDetails``."""
        return self.call(
            "GET", self.path("/clients/{}.json", client_id), endpoint="clients.details"
        )

    def get_lists(self, client_id: str) -> list[Record]:
        """``[{ListID, Name}]`` for a client."""
        path = self.path("/clients/{}/lists.json", client_id)
        return self.call("GET", path, endpoint="clients.lists")

    def get_lists_for_email(self, client_id: str, email: str) -> list[Record]:
        """``[{ListID, ListName, SubscriberState, DateSubscriberAdded}]``: the client's lists
        that hold ``email`` in any state (Code 1 for a malformed address)."""
        path = self.path("/clients/{}/listsforemail.json", client_id)
        return self.call("GET", path, endpoint="clients.listsforemail", params={"email": email})

    def get_tags(self, client_id: str) -> list[Record]:
        """``[{Name, NumberOfCampaigns}]``."""
        return self.call(
            "GET", self.path("/clients/{}/tags.json", client_id), endpoint="clients.tags"
        )

    def iter_sent_campaigns(
        self,
        client_id: str,
        *,
        sent_from: DateLike = None,
        sent_to: DateLike = None,
        tags: Sequence[str] | str | None = None,
        pagesize: int = DEFAULT_PAGE_SIZE,
        order_direction: str = "desc",
        start_page: int = 1,
    ) -> Iterator[Record]:
        """Sent campaigns, newest first by default (v3.3 pages this endpoint)."""
        params = {
            "sentfromdate": format_cm_day(sent_from),
            "senttodate": format_cm_day(sent_to),
            "tags": tags if isinstance(tags, str) or tags is None else ",".join(tags),
            "orderdirection": order_direction,
        }
        return self.paged(
            self.path("/clients/{}/campaigns.json", client_id),
            endpoint="clients.campaigns",
            params=params,
            pagesize=pagesize,
            start_page=start_page,
        )

    def iter_suppression_list(
        self,
        client_id: str,
        *,
        pagesize: int = DEFAULT_PAGE_SIZE,
        order_field: str = "email",
        order_direction: str = "asc",
        start_page: int = 1,
    ) -> Iterator[Record]:
        """``{SuppressionReason, EmailAddress, Date, State}`` for every suppressed address."""
        return self.paged(
            self.path("/clients/{}/suppressionlist.json", client_id),
            endpoint="clients.suppressionlist",
            params={"orderfield": order_field, "orderdirection": order_direction},
            pagesize=pagesize,
            start_page=start_page,
        )

    def suppress(self, client_id: str, emails: Sequence[str]) -> None:
        """Add addresses to the client's suppression list (repeatable: already-suppressed is ok)."""
        path = self.path("/clients/{}/suppress.json", client_id)
        self.call("POST", path, endpoint="clients.suppress", body={"EmailAddresses": list(emails)})

    def unsuppress(self, client_id: str, email: str) -> None:
        """Remove one address from the suppression list (Code 176 if it is not there)."""
        path = self.path("/clients/{}/unsuppress.json", client_id)
        self.call("PUT", path, endpoint="clients.unsuppress", params={"email": email})

    # Lists -------------------------------------------------------------------------------------
    def get_list(self, list_id: str) -> Record:
        """List details: ``ListID, Title, ConfirmedOptIn, UnsubscribeSetting, ...``."""
        return self.call("GET", self.path("/lists/{}.json", list_id), endpoint="lists.details")

    def get_list_stats(self, list_id: str) -> Record:
        """Counters such as ``TotalActiveSubscribers``, ``UnsubscribesToday`` ..."""
        return self.call("GET", self.path("/lists/{}/stats.json", list_id), endpoint="lists.stats")

    def get_custom_fields(self, list_id: str) -> list[Record]:
        """``[{FieldName, Key, DataType, FieldOptions, VisibleInPreferenceCenter}]``."""
        path = self.path("/lists/{}/customfields.json", list_id)
        return self.call("GET", path, endpoint="lists.customfields")

    def iter_subscribers(
        self,
        list_id: str,
        state: str = "active",
        *,
        date: DateLike = None,
        include_tracking_preference: bool = False,
        include_sms_preference: bool = False,
        pagesize: int = DEFAULT_PAGE_SIZE,
        order_field: str = "email",
        order_direction: str = "asc",
        start_page: int = 1,
    ) -> Iterator[Record]:
        """Subscribers in one state (active, unconfirmed, unsubscribed, bounced, deleted).

        ``date`` keeps those who entered the state on/after it. ``ConsentToTrack`` is only in
        the items with ``include_tracking_preference``; ``MobileNumber``/``ConsentToSendSms``
        only with ``include_sms_preference`` (and only for records that have a mobile).
        """
        if state not in SUBSCRIBER_STATES:
            raise ValueError(f"state must be one of {', '.join(SUBSCRIBER_STATES)}")
        params = {
            "date": format_cm_date(date),
            "orderfield": order_field,
            "orderdirection": order_direction,
            "includetrackingpreference": include_tracking_preference,
            "includesmspreference": include_sms_preference or None,
        }
        return self.paged(
            self.path("/lists/{}/" + state + ".json", list_id),
            endpoint=f"lists.{state}",
            params=params,
            pagesize=pagesize,
            start_page=start_page,
        )

    def get_webhooks(self, list_id: str) -> list[Record]:
        """``[{WebhookID, Events, Url, Status, PayloadFormat}]``."""
        path = self.path("/lists/{}/webhooks.json", list_id)
        return self.call("GET", path, endpoint="lists.webhooks.list")

    def create_webhook(
        self, list_id: str, events: Sequence[str], url: str, payload_format: str = "json"
    ) -> str:
        """Register a webhook (events: Subscribe, Deactivate, Update) and return its ID.

        Not retried after an ambiguous failure: a repeat would register a second webhook and
        every event would then be delivered twice.
        """
        body = {"Events": list(events), "Url": url, "PayloadFormat": payload_format}
        path = self.path("/lists/{}/webhooks.json", list_id)
        return self.call(
            "POST", path, endpoint="lists.webhooks.create", body=body, retry_ambiguous=False
        )

    def delete_webhook(self, list_id: str, webhook_id: str) -> None:
        path = self.path("/lists/{}/webhooks/{}.json", list_id, webhook_id)
        self.call("DELETE", path, endpoint="lists.webhooks.delete")

    # Subscribers -------------------------------------------------------------------------------
    def get_subscriber(
        self, list_id: str, email: str, *, include_tracking_preference: bool = False
    ) -> Record:
        """One subscriber in any state (NotFound, Code 203, when the address is not in the list)."""
        params = {"email": email, "includetrackingpreference": include_tracking_preference}
        path = self.path("/subscribers/{}.json", list_id)
        return self.call("GET", path, endpoint="subscribers.get", params=params)

    def add_subscriber(
        self,
        list_id: str,
        subscriber: Mapping[str, Any],
        *,
        resubscribe: bool = True,
        restart_subscription_based_autoresponders: bool = False,
    ) -> str:
        """Add or update (upsert by email) one subscriber; returns the email address.

        ``subscriber`` is a CM-shaped dict, most easily built with :func:`make_subscriber`.
        """
        body = {
            **subscriber,
            "Resubscribe": resubscribe,
            "RestartSubscriptionBasedAutoresponders": restart_subscription_based_autoresponders,
        }
        path = self.path("/subscribers/{}.json", list_id)
        return self.call("POST", path, endpoint="subscribers.add", body=body)

    def import_subscribers(
        self,
        list_id: str,
        subscribers: Sequence[Mapping[str, Any]],
        *,
        resubscribe: bool = True,
        queue_subscription_based_autoresponders: bool = False,
        restart_subscription_based_autoresponders: bool = False,
    ) -> ImportResult:
        """Import up to 1000 subscribers in one call (upsert by email).

        More than :data:`IMPORT_BATCH_LIMIT` raises ValueError before any call (the caller
        batches). A partial failure (CM: HTTP 400, Code 210) is returned as an
        :class:`ImportResult` whose ``failures`` name each refused address.
        """
        subscribers = list(subscribers)
        if len(subscribers) > IMPORT_BATCH_LIMIT:
            raise ValueError(
                f"CM imports at most {IMPORT_BATCH_LIMIT} subscribers per call "
                f"(got {len(subscribers)}); send them in batches"
            )
        body = {
            "Subscribers": [dict(item) for item in subscribers],
            "Resubscribe": resubscribe,
            "QueueSubscriptionBasedAutoresponders": queue_subscription_based_autoresponders,
            "RestartSubscriptionBasedAutoresponders": restart_subscription_based_autoresponders,
        }
        endpoint = "subscribers.import"
        path = self.path("/subscribers/{}/import.json", list_id)
        response = self.send("POST", path, endpoint=endpoint, body=body)
        if response.status_code == 400:
            code, _ = cm_error_body(response)
            details = response.json().get("ResultData") if code is not None else None
            # A partial failure whose details cannot be read is reported as the error it is.
            if code == IMPORT_PARTIAL_FAILURE_CODE and isinstance(details, dict):
                return ImportResult.from_response(details)
        if not response.ok:
            raise error_for_response(response, endpoint)
        body = decode_body(response, endpoint)
        return ImportResult.from_response(body if isinstance(body, dict) else {})

    def unsubscribe(self, list_id: str, email: str) -> None:
        """Move an address to Unsubscribed (and the suppression list, per the list setting)."""
        path = self.path("/subscribers/{}/unsubscribe.json", list_id)
        self.call("POST", path, endpoint="subscribers.unsubscribe", body={"EmailAddress": email})

    def get_subscriber_history(self, list_id: str, email: str) -> list[Record]:
        """``[{ID, Type, Name, Actions: [{Event, Date, IPAddress, Detail}]}]``."""
        path = self.path("/subscribers/{}/history.json", list_id)
        return self.call("GET", path, endpoint="subscribers.history", params={"email": email})

    # Campaigns ---------------------------------------------------------------------------------
    def get_campaign_summary(self, campaign_id: str) -> Record:
        """``{Name, Recipients, TotalOpened, Clicks, Unsubscribed, Bounced, UniqueOpened, ...}``."""
        path = self.path("/campaigns/{}/summary.json", campaign_id)
        return self.call("GET", path, endpoint="campaigns.summary")

    def get_campaign_lists_and_segments(self, campaign_id: str) -> Record:
        """``{"Lists": [{ListID, Name}], "Segments": [{ListID, SegmentID, Title}]}``."""
        path = self.path("/campaigns/{}/listsandsegments.json", campaign_id)
        return self.call("GET", path, endpoint="campaigns.listsandsegments")

    def iter_campaign_recipients(
        self,
        campaign_id: str,
        *,
        pagesize: int = DEFAULT_PAGE_SIZE,
        order_field: str = "email",
        order_direction: str = "asc",
        start_page: int = 1,
    ) -> Iterator[Record]:
        """``{EmailAddress, ListID}`` for everyone the campaign went to (no date filter)."""
        return self.paged(
            self.path("/campaigns/{}/recipients.json", campaign_id),
            endpoint="campaigns.recipients",
            params={"orderfield": order_field, "orderdirection": order_direction},
            pagesize=pagesize,
            start_page=start_page,
        )

    def iter_campaign_events(
        self,
        campaign_id: str,
        kind: str,
        *,
        date: DateLike = None,
        pagesize: int = DEFAULT_PAGE_SIZE,
        order_field: str = "date",
        order_direction: str = "asc",
        start_page: int = 1,
    ) -> Iterator[Record]:
        """One per-email report: ``kind`` is opens, clicks, unsubscribes, spam or bounces."""
        if kind not in CAMPAIGN_EVENT_REPORTS:
            raise ValueError(f"kind must be one of {', '.join(CAMPAIGN_EVENT_REPORTS)}")
        params = {
            "date": format_cm_date(date),
            "orderfield": order_field,
            "orderdirection": order_direction,
        }
        return self.paged(
            self.path("/campaigns/{}/" + kind + ".json", campaign_id),
            endpoint=f"campaigns.{kind}",
            params=params,
            pagesize=pagesize,
            start_page=start_page,
        )

    # Journeys ----------------------------------------------------------------------------------
    def get_journeys(self, client_id: str) -> list[Record]:
        """``[{ListID, JourneyID, Name, Status}]``."""
        path = self.path("/clients/{}/journeys.json", client_id)
        return self.call("GET", path, endpoint="clients.journeys")

    def get_journey_summary(self, journey_id: str) -> Record:
        """``{JourneyID, Name, TriggerType, Status, Emails: [{EmailID, Sent, Opened, ...}]}``."""
        path = self.path("/journeys/{}.json", journey_id)
        return self.call("GET", path, endpoint="journeys.summary")

    def iter_journey_email_report(
        self,
        email_id: str,
        kind: str,
        *,
        date: DateLike = None,
        pagesize: int = DEFAULT_PAGE_SIZE,
        order_direction: str = "asc",
        start_page: int = 1,
    ) -> Iterator[Record]:
        """A journey email's recipients, opens, clicks, unsubscribes or bounces (paged)."""
        if kind not in JOURNEY_EMAIL_REPORTS:
            raise ValueError(f"kind must be one of {', '.join(JOURNEY_EMAIL_REPORTS)}")
        params = {"date": format_cm_date(date), "orderdirection": order_direction}
        return self.paged(
            self.path("/journeys/email/{}/" + kind + ".json", email_id),
            endpoint=f"journeys.email.{kind}",
            params=params,
            pagesize=pagesize,
            start_page=start_page,
        )


# OAuth web flow ------------------------------------------------------------------------------
def authorize_url(
    client_id: str,
    redirect_uri: str,
    scope: str | Sequence[str],
    state: str,
    base_url: str = DEFAULT_OAUTH_BASE,
) -> str:
    """Where to send the browser to grant cmsync access (``{base}/oauth?type=web_server...``).

    ``scope`` is a comma-separated string or a list such as ``["ViewReports", "ManageLists"]``.
    ``base_url`` may also be an API base (``.../api/v3.3``); the version path is dropped.
    """
    scopes = scope if isinstance(scope, str) else ",".join(scope)
    query = urlencode(
        {
            "type": "web_server",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scopes,
            "state": state,
        }
    )
    return f"{oauth_base_from_api_base(base_url)}/oauth?{query}"


def exchange_code(
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    *,
    base_url: str = DEFAULT_OAUTH_BASE,
    ca_bundle: str | os.PathLike[str] | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    calls: CallCounter | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    max_retries: int = 5,
    sleep: Callable[[float], None] | None = None,
) -> OAuthTokens:
    """Trade the ``code`` from the redirect for tokens (AuthError with CM's ``error`` code if
    the code is invalid or expired). ``base_url`` may be the OAuth or the API base."""
    options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    transport = OAuthTokenEndpoint(
        base_url=oauth_base_from_api_base(base_url),
        ca_bundle=ca_bundle,
        timeout=timeout,
        calls=calls,
        user_agent=user_agent,
        max_retries=max_retries,
        **options,
    )
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
        "code": code,
    }
    with transport:
        return request_tokens(transport, form)
