"""Where a webhook may be sent, and the request itself.

An endpoint's host is resolved and every address checked: private, loopback, link-local,
multicast, reserved and unspecified addresses (IPv4 and IPv6, and IPv4 inside IPv6) are
refused unless CRM_WEBHOOKS_ALLOW_PRIVATE, so the CRM cannot be used to probe its own
network. The check runs when the URL is saved and again at each delivery, and the request
goes to the very address that was checked (the TLS certificate is still verified against
the host name), so a DNS answer that changes in between (rebinding) cannot redirect it.
Redirects are never followed: a 3xx is a failed attempt that names where it pointed.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

MAX_RESPONSE_BYTES = 64 * 1024  # what is read of an answer (nobody reads it; the code counts)


class UnsafeURLError(ValueError):
    """The URL may not be called; the message says why (shown on the form)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    address: str  # the checked address the request goes to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (connection refused, timeout...)
    duration_ms: int
    error: str  # empty when the receiver took it (2xx)

    @property
    def ok(self) -> bool:
        return not self.error


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one (mapped, 6to4, Teredo) is judged as itself:
        # 2002:7f00:1:: is 127.0.0.1 to a host that routes 6to4.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public(str(embedded)):
            return False
        ip = ip.ipv4_mapped or ip
    forbidden = (
        ip.is_private,
        ip.is_loopback,
        ip.is_link_local,
        ip.is_multicast,
        ip.is_reserved,
        ip.is_unspecified,
    )
    return ip.is_global and not any(forbidden)


def check_url(url: str) -> Target:
    """The URL's target, resolved and checked; UnsafeURLError says why it may not be used."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURLError(_("This is not a valid URL.")) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURLError(_("Only http:// and https:// URLs can receive webhooks."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeURLError(
            _("The host %(host)s cannot be found.") % {"host": parts.hostname}
        ) from error
    addresses = [str(info[4][0]) for info in infos]
    if not settings.CRM_WEBHOOKS_ALLOW_PRIVATE and not all(map(is_public, addresses)):
        raise UnsafeURLError(
            _("%(host)s is a private, local or reserved address: webhooks go to the internet only.")
            % {"host": parts.hostname}
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])


@lru_cache(maxsize=64)
def _pool(scheme: str, address: str, port: int, host: str) -> urllib3.HTTPConnectionPool:
    """A kept-alive connection pool per checked address (and host name, for TLS)."""
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host, maxsize=2, retries=False
        )
    return urllib3.HTTPConnectionPool(address, port, maxsize=2, retries=False)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` (checked again now); never raises for the receiver's faults."""
    started = time.perf_counter()

    def answer(status: int | None, error: str) -> Answer:
        return Answer(status, round((time.perf_counter() - started) * 1000), error)

    try:
        target = check_url(url)
    except UnsafeURLError as error:
        return answer(None, str(error))
    pool = _pool(target.scheme, target.address, target.port, target.host)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            timeout=urllib3.Timeout(total=settings.CRM_WEBHOOK_TIMEOUT_SECONDS),
            preload_content=False,
        )
    except urllib3.exceptions.HTTPError as error:
        return answer(None, f"{type(error).__name__}: {error}"[:2000])
    try:
        response.read(MAX_RESPONSE_BYTES)
    except urllib3.exceptions.HTTPError:
        pass  # the status line is what counts
    finally:
        if response.length_remaining == 0:
            response.release_conn()
        else:  # an unread (or endless) body: the connection is not reused
            response.close()
    return answer(response.status, _error_of(response))


def _error_of(response: urllib3.BaseHTTPResponse) -> str:
    if 200 <= response.status < 300:
        return ""
    if 300 <= response.status < 400:
        location = response.headers.get("Location", "")[:500]
        return f"HTTP {response.status}: redirect to {location} not followed; update the URL"
    return f"HTTP {response.status}"
