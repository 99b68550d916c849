"""OAuth state of the sandbox org: authorization codes, access tokens that expire, refresh tokens.

Tokens are opaque random strings shaped like Salesforce's (``00D…!…`` for access tokens). They
are persisted with the rest of the org when persistence is on, so a product that stored a
refresh token keeps working across a sandbox restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

CODE_LIFETIME_SECONDS = 900


@dataclass
class AccessToken:
    user_id: str
    expires_at: float


@dataclass
class PendingCode:
    user_id: str
    client_id: str
    redirect_uri: str
    expires_at: float


class TokenStore:
    """Issues and checks tokens; every method is thread-safe."""

    def __init__(self, org_id: str, lifetime_seconds: int) -> None:
        self.org_id = org_id
        self.lifetime_seconds = lifetime_seconds
        self._lock = threading.Lock()
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, str] = {}  # refresh token -> user id
        self.codes: dict[str, PendingCode] = {}
        self.clock = time.time

    def issue_access(self, user_id: str) -> str:
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        with self._lock:
            self.access[token] = AccessToken(user_id, self.clock() + self.lifetime_seconds)
            self._forget_expired()
        return token

    def issue_refresh(self, user_id: str) -> str:
        token = "5Aep" + secrets.token_urlsafe(60)
        with self._lock:
            self.refresh[token] = user_id
        return token

    def issue_code(self, user_id: str, client_id: str, redirect_uri: str) -> str:
        code = "aPrx" + secrets.token_urlsafe(48)
        with self._lock:
            self.codes[code] = PendingCode(
                user_id, client_id, redirect_uri, self.clock() + CODE_LIFETIME_SECONDS
            )
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str) -> str | None:
        """The code's user id if the code is live and was issued for this client and URI."""
        with self._lock:
            pending = self.codes.pop(code, None)
        if pending is None or pending.expires_at < self.clock():
            return None
        if pending.client_id != client_id or pending.redirect_uri != redirect_uri:
            return None
        return pending.user_id

    def user_for_access(self, token: str) -> str | None:
        with self._lock:
            entry = self.access.get(token)
        if entry is None or entry.expires_at <= self.clock():
            return None
        return entry.user_id

    def user_for_refresh(self, token: str) -> str | None:
        with self._lock:
            return self.refresh.get(token)

    def revoke(self, token: str) -> bool:
        with self._lock:
            found = self.access.pop(token, None) is not None
            found = self.refresh.pop(token, None) is not None or found
        return found

    def expire_all(self) -> int:
        """Make every access token invalid now (refresh tokens keep working)."""
        with self._lock:
            count = len(self.access)
            for entry in self.access.values():
                entry.expires_at = 0.0
        return count

    def _forget_expired(self) -> None:
        if len(self.access) < 10_000:
            return
        now = self.clock()
        for token in [t for t, e in self.access.items() if e.expires_at <= now]:
            del self.access[token]

    # Persistence -----------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self._lock:
            return {
                "access": {t: [e.user_id, e.expires_at] for t, e in self.access.items()},
                "refresh": dict(self.refresh),
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.access = {
                t: AccessToken(str(user), float(expiry))
                for t, (user, expiry) in (data.get("access") or {}).items()
            }
            self.refresh = {str(t): str(u) for t, u in (data.get("refresh") or {}).items()}


def signature(identity_url: str, issued_at: str, client_secret: str) -> str:
    """Base64 HMAC-SHA256 of identity URL + issued_at, keyed with the consumer secret."""
    digest = hmac.new(
        client_secret.encode("utf-8"), (identity_url + issued_at).encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")
