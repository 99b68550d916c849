"""OAuth sign-in to Campaign Monitor and Salesforce: one begin/complete pair for both.

Rules this module keeps:

- :func:`begin` remembers a fresh random ``state`` (with the purpose and the base URL) in the
  browser's session and returns the provider's authorize URL.
- :func:`begin` also notes when the sign-in started: it is good for :data:`STATE_LIFETIME`.
- :func:`complete` takes the callback's parameters and accepts them only with the state of this
  session, once. A callback whose state does not match (a forged or stale link) is refused and
  leaves the pending sign-in as it was, so it cannot cancel the admin's real one; a matching
  state is removed before anything else is checked, and one older than its lifetime is refused.
  Then a grant the person refused, then the code exchange. Every refusal is one
  :class:`OAuthError` whose message says what happened and what to do; nothing is changed.
- Tokens never reach a page or a log. Tokens a later form needs (a Campaign Monitor reconnect
  asks which clients to keep first) wait in the session, encrypted (:func:`held_tokens`).

The provider-specific parts (the clients' ``authorize_url``/``exchange_code`` and the words of
each refusal) are the two :class:`Provider` values, :data:`CAMPAIGN_MONITOR` and
:data:`SALESFORCE`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from lib.fields import decrypt, encrypt
from sync.clients import campaign_monitor as cm_api
from sync.clients import salesforce as sf_api
from sync.clients.errors import ApiError
from sync.services.api import ca_bundle

# What a sign-in is for; the callback acts on it.
PURPOSE_CONNECT = "connect"
PURPOSE_RECONNECT = "reconnect"
PURPOSE_CHANGE_SYNC_USER = "change_sync_user"
# Purposes whose tokens wait in the session for a form instead of being used at once.
HELD_PURPOSES = frozenset({PURPOSE_RECONNECT})

# How long a begun sign-in may take; a state older than this is refused.
STATE_LIFETIME = dt.timedelta(minutes=10)

CM_OAUTH_SCOPE = (
    "ViewReports",
    "ManageLists",
    "ImportSubscribers",
    "ViewSubscribersInReports",
    "AdministerAccount",
)

Tokens = cm_api.OAuthTokens | sf_api.SalesforceTokens
# Token fields that survive the trip through the session (JSON); the rest take their defaults.
_HELD_TYPES = (str, int, type(None))


class OAuthError(Exception):
    """A sign-in was not started or not completed; the message says why and what to do."""


@dataclass(frozen=True)
class Provider:
    """What differs between Campaign Monitor's and Salesforce's OAuth web-server flows."""

    name: str
    session_key: str  # the pending sign-in (state, purpose, base URL)
    held_key: str  # tokens waiting for a form, encrypted
    tokens_type: type
    is_set_up: Callable[[], bool]
    default_base_url: Callable[[], str]
    authorize: Callable[[str, str, str], str]  # (redirect_uri, state, base_url) → URL
    exchange: Callable[[str, str, str], Tokens]  # (code, redirect_uri, base_url) → tokens
    # The words of each refusal: ``{reason}`` and ``{redirect_uri}`` are filled in.
    not_set_up: str
    state_mismatch: str
    expired: str  # ``{minutes}`` is filled in
    denied: str
    refused: str
    # Callback parameters that say why access was denied, the most telling first.
    denial_params: tuple[str, ...] = ("error",)


def _cm_authorize(redirect_uri: str, state: str, base_url: str) -> str:
    return cm_api.authorize_url(
        settings.CM_OAUTH_CLIENT_ID, redirect_uri, list(CM_OAUTH_SCOPE), state, base_url=base_url
    )


def _cm_exchange(code: str, redirect_uri: str, base_url: str) -> cm_api.OAuthTokens:
    return cm_api.exchange_code(
        settings.CM_OAUTH_CLIENT_ID,
        settings.CM_OAUTH_CLIENT_SECRET,
        redirect_uri,
        code,
        base_url=base_url,
        ca_bundle=ca_bundle(),
        timeout=settings.CMSYNC_HTTP_TIMEOUT,
        max_retries=2,
    )


def _sf_authorize(redirect_uri: str, state: str, base_url: str) -> str:
    return sf_api.authorize_url(base_url, settings.SF_CLIENT_ID, redirect_uri, state)


def _sf_exchange(code: str, redirect_uri: str, base_url: str) -> sf_api.SalesforceTokens:
    return sf_api.exchange_code(
        base_url,
        code,
        settings.SF_CLIENT_ID,
        settings.SF_CLIENT_SECRET,
        redirect_uri,
        ca_bundle(),
    )


CAMPAIGN_MONITOR = Provider(
    name="Campaign Monitor",
    session_key="cmsync.cm_oauth",
    held_key="cmsync.cm_reconnect_tokens",
    tokens_type=cm_api.OAuthTokens,
    is_set_up=lambda: bool(settings.CM_OAUTH_CLIENT_ID),
    default_base_url=lambda: settings.CM_API_BASE_URL,
    authorize=_cm_authorize,
    exchange=_cm_exchange,
    not_set_up=(
        "OAuth is not set up: set CM_OAUTH_CLIENT_ID and CM_OAUTH_CLIENT_SECRET (an OAuth "
        "app registered at Campaign Monitor), or connect with an API key."
    ),
    state_mismatch=(
        "The Campaign Monitor authorisation could not be verified (its state does not match "
        "this browser session); nothing was changed. Start again with Connect with OAuth."
    ),
    expired=(
        "The Campaign Monitor authorisation took longer than {minutes} minutes, so it was not "
        "accepted; nothing was changed. Start again with Connect with OAuth."
    ),
    denied=(
        "Campaign Monitor did not grant access ({reason}). Nothing was changed; try again and "
        "approve the request, or connect with an API key."
    ),
    refused=(
        "Campaign Monitor refused the authorisation code ({reason}). Start again with Connect "
        "with OAuth; if it keeps failing, check CM_OAUTH_CLIENT_ID and CM_OAUTH_CLIENT_SECRET."
    ),
)

SALESFORCE = Provider(
    name="Salesforce",
    session_key="cmsync.sf_oauth",
    held_key="cmsync.sf_held_tokens",
    tokens_type=sf_api.SalesforceTokens,
    is_set_up=lambda: bool(settings.SF_CLIENT_ID),
    default_base_url=lambda: settings.SF_LOGIN_URL,
    authorize=_sf_authorize,
    exchange=_sf_exchange,
    not_set_up=(
        "Salesforce sign-in is not set up: set SF_CLIENT_ID and SF_CLIENT_SECRET (a connected "
        "app in your org), or connect from a shell with `python manage.py connect`."
    ),
    state_mismatch=(
        "The Salesforce sign-in could not be verified (its state does not match this "
        "browser session); nothing was changed. Start again from Sync Settings."
    ),
    expired=(
        "The Salesforce sign-in took longer than {minutes} minutes, so it was not accepted; "
        "nothing was changed. Start again from Sync Settings."
    ),
    denied=(
        "Salesforce did not grant access ({reason}). Nothing was changed; sign in again and "
        "choose Allow, or ask your Salesforce admin to approve the cmsync connected app."
    ),
    refused=(
        "Salesforce refused the sign-in ({reason}). Start again; if it keeps failing, check "
        "SF_CLIENT_ID, SF_CLIENT_SECRET and the connected app's callback URL ({redirect_uri})."
    ),
    denial_params=("error_description", "error"),
)


@dataclass(frozen=True)
class Grant:
    """A completed sign-in: what it was for, and the tokens it earned."""

    purpose: str
    tokens: Any  # the provider's token type
    base_url: str


def begin(
    session: Any,
    provider: Provider,
    purpose: str,
    redirect_uri: str,
    *,
    base_url: str | None = None,
) -> str:
    """Remember a new sign-in in the session; returns the URL to send the browser to."""
    if not provider.is_set_up():
        raise OAuthError(provider.not_set_up)
    base_url = base_url or provider.default_base_url()
    state = secrets.token_urlsafe(32)
    session[provider.session_key] = {
        "state": state,
        "purpose": purpose,
        "base_url": base_url,
        "created_at": time.time(),
    }
    return provider.authorize(redirect_uri, state, base_url)


def complete(
    session: Any, provider: Provider, params: Mapping[str, str], redirect_uri: str
) -> Grant:
    """Check the callback against this session's sign-in and exchange its code for tokens.

    A purpose in :data:`HELD_PURPOSES` also leaves the tokens, encrypted, in the session for
    the form that uses them (:func:`held_tokens`).
    """
    pending = session.get(provider.session_key) or {}
    if not _state_matches(pending.get("state"), params.get("state")):
        raise OAuthError(provider.state_mismatch)  # the pending sign-in stays usable
    session.pop(provider.session_key, None)  # a matching state is good once
    if _expired(pending):
        minutes = int(STATE_LIFETIME.total_seconds() // 60)
        raise OAuthError(provider.expired.format(minutes=minutes))
    if params.get("error"):
        reason = next(params[name] for name in provider.denial_params if params.get(name))
        raise OAuthError(provider.denied.format(reason=reason))
    base_url = pending.get("base_url") or provider.default_base_url()
    try:
        tokens = provider.exchange(params.get("code", ""), redirect_uri, base_url)
    except ApiError as exc:
        raise OAuthError(
            provider.refused.format(reason=exc.message, redirect_uri=redirect_uri)
        ) from None
    purpose = pending.get("purpose") or PURPOSE_CONNECT
    if purpose in HELD_PURPOSES:
        _hold(session, provider, tokens)
    return Grant(purpose=purpose, tokens=tokens, base_url=base_url)


def _state_matches(expected: object, given: object) -> bool:
    """Constant-time comparison of the pending state with the callback's (any text: a forged
    state may hold characters ``compare_digest`` refuses in a str)."""
    if not (isinstance(expected, str) and isinstance(given, str) and expected and given):
        return False
    return secrets.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def _expired(pending: Mapping[str, Any]) -> bool:
    """Whether a sign-in began longer ago than :data:`STATE_LIFETIME` (or cannot be dated)."""
    created_at = pending.get("created_at")
    if not isinstance(created_at, int | float):
        return True
    # A start "in the future" is clock skew between web servers, not an old sign-in.
    return time.time() - created_at > STATE_LIFETIME.total_seconds()


def _hold(session: Any, provider: Provider, tokens: Tokens) -> None:
    fields = {
        name: value
        for name, value in dataclasses.asdict(tokens).items()
        if isinstance(value, _HELD_TYPES)
    }
    session[provider.held_key] = encrypt(json.dumps(fields))


def held_tokens(session: Any, provider: Provider) -> Any:
    """Tokens a completed sign-in left for a form, or None (also when they cannot be read)."""
    stored = session.get(provider.held_key)
    if not stored:
        return None
    try:
        return provider.tokens_type(**json.loads(decrypt(stored)))
    except (ValueError, TypeError):
        session.pop(provider.held_key, None)
        return None


def drop_held_tokens(session: Any, provider: Provider) -> None:
    """Forget the held tokens (once the form used them)."""
    session.pop(provider.held_key, None)
