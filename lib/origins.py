"""Web origins (``https://host[:port]``) checked strictly enough to go into a header.

Content-Security-Policy lists origins separated by spaces and directives separated by
semicolons, so an origin that carried a space, quote, semicolon, comma, path or control
character could widen or rewrite the policy. :func:`https_origin` accepts only the scheme
``https``, DNS labels (letters, digits, inner hyphens) or an IPv4 address, and an optional port,
and returns the canonical lower-case form; anything else is a ``ValueError``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_WILDCARD = "*."


def https_origin(value: str, *, allow_wildcard: bool = False) -> str:
    """The origin ``https://host[:port]`` that ``value`` is exactly (a trailing ``/`` is
    allowed); with ``allow_wildcard`` the first label may be ``*`` (``https://*.example.com``,
    as CSP allows). Raises ``ValueError`` for anything else."""
    text = str(value or "").strip()
    if not text or any(ch.isspace() or ord(ch) < 32 or ord(ch) > 126 for ch in text):
        raise ValueError(f"not an https origin: {value!r}")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "https":
        raise ValueError(f"not an https origin: {value!r}")
    rest = rest.removesuffix("/")
    if any(ch in rest for ch in "/?#@\\;,'\""):
        raise ValueError(f"not an https origin: {value!r}")
    wildcard = allow_wildcard and rest.startswith(_WILDCARD)
    parts = urlsplit("https://" + (rest[len(_WILDCARD) :] if wildcard else rest))
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"not an https origin: {value!r}") from None
    host = (parts.hostname or "").lower()
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"not an https origin: {value!r}")
    prefix = _WILDCARD if wildcard else ""
    return f"https://{prefix}{host}" + (f":{port}" if port else "")


def origin_or_none(value: str) -> str | None:
    """:func:`https_origin` of ``value``, or None when it is not one."""
    try:
        return https_origin(value)
    except ValueError:
        return None
