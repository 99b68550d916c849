"""Live reads for read-only screens: answers kept briefly, fresh reads limited per person.

The tracking panel and the import wizard's screens ask Campaign Monitor and Salesforce on a GET.
Every such read goes through :func:`live_read`, which keeps the answer for
``CMSYNC_LIVE_READ_CACHE_SECONDS`` under a key made of the connection (its credentials' dates
and its selected clients, so reconnecting or changing the selection asks afresh) and the
question. Reloading a page therefore asks nothing, whoever reloads it; and each person may make
``CMSYNC_LIVE_READS_PER_MINUTE`` fresh reads a minute, past which :class:`TooManyLiveReads`
says when to try again (the screens answer 429 in words). Answers that are failures (an outage)
are not kept, but asking still counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from lib.throttle import LimitExceeded, cache_key, cached, spend
from sync.models import Connection

T = TypeVar("T")

TooManyLiveReads = LimitExceeded
LIMIT_SCOPE = "live-read"
LIMIT_WINDOW = 60
LIMITED = (
    "You asked Campaign Monitor and Salesforce for fresh answers {limit} times in the last "
    "minute, the most cmsync allows one person, to keep the accounts' API allowance for the "
    "sync. Try again in {seconds} seconds; what you looked at in the last minute is shown again "
    "without asking."
)


def live_read(
    connection: Connection,
    user,
    what: str,
    question: tuple[object, ...],
    compute: Callable[[], T],
    *,
    keep: Callable[[T], bool] | None = None,
) -> T:
    """``compute()``'s answer to ``question`` about ``what``, from the cache when it is fresh;
    otherwise asked live, counted against ``user``'s limit (raises :class:`TooManyLiveReads`)."""
    key = cache_key("live-read", what, *connection_fingerprint(connection), *question)
    return cached(
        key,
        compute,
        ttl=settings.CMSYNC_LIVE_READ_CACHE_SECONDS,
        before_compute=lambda: spend(
            LIMIT_SCOPE,
            _who(user),
            limit=settings.CMSYNC_LIVE_READS_PER_MINUTE,
            window=LIMIT_WINDOW,
        ),
        keep=keep,
    )


def connection_fingerprint(connection: Connection) -> tuple[object, ...]:
    """What makes an answer about this connection stale when it changes."""
    selected = connection.clients.filter(selected=True).order_by("pk").values_list("pk", flat=True)
    return (
        connection.pk,
        connection.cm_base_url,
        connection.cm_connected_at,
        connection.sf_instance_url,
        connection.sf_connected_at,
        tuple(selected),
    )


def limited_message(exc: TooManyLiveReads) -> str:
    return LIMITED.format(limit=exc.limit, seconds=exc.retry_after)


def _who(user) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return "anonymous"
