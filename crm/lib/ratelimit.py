"""A fixed-window rate limit in Django's cache (Redis in production), per purpose and client.

The client is the address `client_ip` finds (behind CRM_TRUSTED_PROXIES proxies: the
address the nearest of them saw); IPv6 addresses share one bucket per /64, the block one
subscriber gets, so rotating through it gains nothing. Public forms also count per email
address and per form (`form_submission_allowed`): a sender using many addresses, or many
senders using one email, still meet a limit.

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
import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from crm.lib.cache import CacheUnavailable

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address. With CRM_TRUSTED_PROXIES = 0 the peer (REMOTE_ADDR); with N, the
    Nth address from the right of X-Forwarded-For: each trusted proxy appends the address it
    received the request from, so the entries left of those are whatever the client sent and
    are never used. A header too short or not an address gives the peer address."""
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = settings.CRM_TRUSTED_PROXIES
    if proxies == 0:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return peer
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return peer


def address_bucket(address: str) -> str:
    """The rate-limit bucket of an address: IPv4 as it is, IPv6 by its /64 network address
    (one subscriber's block). Anything else (an email, "unknown") is returned unchanged."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:1.2.3.4 is the IPv4 client 1.2.3.4
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False).network_address)
    return str(parsed)


def client_bucket(request: HttpRequest) -> str | None:
    """The client's bucket for counting failed sign-ins (django-axes): None when the request
    has no address (a test's or a management command's request)."""
    address = client_ip(request)
    return None if address == "unknown" else address_bucket(address)


def _key(purpose: str, client: str, window: int, now: float) -> str:
    digest = hashlib.sha256(address_bucket(client).encode()).hexdigest()[:32]
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


@dataclass(frozen=True)
class FormLimits:
    """(limit, window seconds) per client address, per email address and for the whole form."""

    per_address: tuple[int, int]
    per_email: tuple[int, int]
    per_form: tuple[int, int]


def form_submission_allowed(
    request: HttpRequest, form: str, *, email: str, limits: FormLimits, fail_open: bool
) -> bool:
    """Count one valid submission of `form` (a name, such as "lead-form:12") from this client
    for this email; True while all three counts are within their limits."""
    counts = [
        (f"{form}:address", client_ip(request), limits.per_address),
        (f"{form}:email", email.strip().lower(), limits.per_email),
        (f"{form}:all", "all", limits.per_form),
    ]
    allowed = [
        rate_limit_hit(purpose, client, limit=limit, window=window, fail_open=fail_open)
        for purpose, client, (limit, window) in counts
    ]
    return all(allowed)
