"""The Salesforce REST API sandbox: an HTTPS stand-in for one Salesforce org that
simple-salesforce (unchanged) and the cmsync client talk to.

``build_app(config)`` returns a :class:`SalesforceApp`; serve it with
``sandbox.core.http.SandboxServer``. Paths are matched case-insensitively, with or without a
trailing slash; any API version ``vNN.N`` is accepted. Every response carries
``Sforce-Limit-Info: api-usage=USED/MAX``.

Route names (for ``/__sandbox__/stats`` and fault rules such as ``503:x1@composite.*``):

- OAuth (not counted against the daily limit): ``oauth.token`` (POST /services/oauth2/token:
  password, authorization_code, refresh_token grants), ``oauth.authorize`` (GET, auto-approves
  the admin and 302s to redirect_uri with code & state), ``oauth.revoke``, ``oauth.userinfo``,
  ``oauth.identity`` (GET /id/{orgId}/{userId}, the token's ``id`` URL).
- ``versions`` (GET /services/data), ``resources`` (GET /services/data/vNN.N), ``limits``.
- ``sobjects.global``, ``sobjects.describe``, ``sobjects.layouts`` (describe/layouts),
  ``sobjects.metadata`` (GET sobjects/{T}), ``sobjects.create``, ``sobjects.get``,
  ``sobjects.update``, ``sobjects.delete``, ``sobjects.get_by_external_id``,
  ``sobjects.upsert`` (PATCH sobjects/{T}/{ExtField}/{value}), ``sobjects.updated``,
  ``sobjects.deleted``.
- ``composite.sobjects.create`` / ``.update`` / ``.delete`` / ``.retrieve`` / ``.upsert``,
  ``composite``.
- ``query``, ``queryAll`` (including ``query/01g…-2000`` locators).
- ``tooling.sobjects.global`` / ``.create`` / ``.describe`` / ``.get`` / ``.update``
  (CustomObject, CustomField, Layout), ``tooling.query``.
- ``bulk2.ingest.create`` / ``.list`` / ``.get`` / ``.upload`` / ``.state`` / ``.delete`` /
  ``.results``; per-row reject faults use the endpoint name ``bulk2.ingest.process``.
  ``bulk2.query.create`` / ``.list`` / ``.get`` / ``.state`` / ``.delete`` / ``.results``.
- ``analytics.reports.list`` / ``.run`` / ``.describe``; ``listviews.list`` / ``.get`` /
  ``.describe`` / ``.results``.

Errors use Salesforce's shapes: a JSON list ``[{"message", "errorCode", "fields"?}]`` for REST
calls (401 INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded." past
``config.sf_daily_api_limit``, 404 NOT_FOUND, 400 JSON_PARSER_ERROR / MALFORMED_QUERY /
INVALID_FIELD / ...), ``statusCode`` items inside collections, ``{"error",
"error_description"}`` for OAuth. Injected faults: ``503`` → SERVER_UNAVAILABLE, ``500`` →
UNKNOWN_EXCEPTION, ``429`` → HTTP 429 with ``Retry-After`` and errorCode REQUEST_LIMIT_EXCEEDED
"ConcurrentPerOrgLongTxn Limit exceeded." (Salesforce's concurrent-request throttle; the daily
limit is the 403), ``reject`` → that record fails with FIELD_CUSTOM_VALIDATION_EXCEPTION
"cmsync sandbox validation rule".

Campaign, CampaignMember and CampaignMemberStatus keep Salesforce's rules on every write path
(``sandbox.sf.campaigns``): default statuses "Sent"/"Responded", one member per campaign and
person (DUPLICATE_VALUE), Status one of the campaign's labels
(INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST), HasResponded from the status, labels and sort orders
unique per campaign, one default and one responded status, statuses in use or the default not
deletable (DELETE_FAILED), read-only statistics and Hierarchy totals, delete cascades.

Sandbox endpoints besides the harness's stats/faults: ``POST /__sandbox__/expire-tokens``,
``POST /__sandbox__/issue-token``, ``GET|PUT /__sandbox__/api-usage`` ({"used", "max"}),
``POST /__sandbox__/convert-lead`` ({"leadId", "contactId"?, "accountId"?, "convertedStatus"?}:
a user's lead conversion, which the real org offers through SOAP ``convertLead`` and the UI;
converted Leads are read-only afterwards, CANNOT_UPDATE_CONVERTED_LEAD).
"""

from __future__ import annotations

from sandbox.config import SandboxConfig

from .app import SalesforceApp

__all__ = ["SalesforceApp", "build_app"]


def build_app(config: SandboxConfig) -> SalesforceApp:
    """A Salesforce sandbox org seeded per ``config`` (or restored from its SQLite file)."""
    return SalesforceApp(config)
