"""A fixed-window rate limit in Django's cache (Redis in production), per purpose and client.

    if not rate_limit_hit("help-submit", client_ip(request), limit=5, window=600,
                          fail_open=True):
        ...  # over the limit: answer 429

Fixed windows let a client make up to 2 × limit requests around a window boundary; that is
acceptable against form spam, and it costs one cache round trip (add + incr are atomic).

When the cache cannot be reached the count is unknown, and each use says what that means
(`fail_open`, required): True lets the request through with a logged warning, False treats
it as over the limit. The public forms (help centre submit, reply and rating, lead forms)
fail open: they are how customers and leads reach us, a cache outage lasts minutes, and
their honeypot and validation still stand; refusing them would turn a cache outage into
lost tickets and leads. The help centre's article suggestions fail closed: they are a
convenience that runs a search per keystroke, and the form works without them.
"""

import hashlib
import logging
import time

from django.core.cache import cache
from django.http import HttpRequest

from crm.lib.cache import CacheUnavailable

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The peer address. Behind a proxy, the proxy must set REMOTE_ADDR (X-Forwarded-For is
    not trusted here: a client could send any value)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def _key(purpose: str, client: str, window: int, now: float) -> str:
    digest = hashlib.sha256(client.encode()).hexdigest()[:32]
    return f"ratelimit:{purpose}:{digest}:{int(now // window)}"


def rate_limit_hit(
    purpose: str,
    client: str,
    *,
    limit: int,
    window: int,
    fail_open: bool,
    now: float | None = None,
) -> bool:
    """Count one request; True while the client is within `limit` requests per `window` s.

    With the cache unreachable: `fail_open` (see the module)."""
    key = _key(purpose, client, window, time.time() if now is None else now)
    try:
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.add(key, 1, timeout=window + 5)
            count = 1
    except CacheUnavailable:
        logger.warning(
            "rate limit %s: the cache is unreachable; request %s",
            purpose,
            "allowed" if fail_open else "refused",
        )
        return fail_open
    return count <= limit
