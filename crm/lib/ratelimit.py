"""A fixed-window rate limit in Django's cache (Redis in production), per purpose and client.

    if not rate_limit_hit("help-submit", client_ip(request), limit=5, window=600):
        ...  # over the limit: answer 429

Fixed windows let a client make up to 2 × limit requests around a window boundary; that is
acceptable against form spam, and it costs one cache round trip (add + incr are atomic).
"""

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The peer address. Behind a proxy, the proxy must set REMOTE_ADDR (X-Forwarded-For is
    not trusted here: a client could send any value)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def _key(purpose: str, client: str, window: int, now: float) -> str:
    digest = hashlib.sha256(client.encode()).hexdigest()[:32]
    return f"ratelimit:{purpose}:{digest}:{int(now // window)}"


def rate_limit_hit(
    purpose: str, client: str, *, limit: int, window: int, now: float | None = None
) -> bool:
    """Count one request; True while the client is within `limit` requests per `window` s."""
    key = _key(purpose, client, window, time.time() if now is None else now)
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=window + 5)
        count = 1
    return count <= limit
