"""Absolute links for people outside the office: customers reading an email or a reply.

`CRM_BASE_URL` is where emailed links point. Its default (http://127.0.0.1:8000) is this
machine's own loopback address: a customer who follows it reaches their own computer. So:
- a page that builds a link for the outside (the ticket page's "Insert link") uses
  CRM_BASE_URL when it names a real host, and otherwise the host the agent is using, which
  Django has already checked against ALLOWED_HOSTS (scheme from SECURE_PROXY_SSL_HEADER);
- emails, built without a request, use CRM_BASE_URL, and `manage.py check --deploy` warns
  when it is a loopback address (crm.checks).
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

_LOCAL_NAMES = {"localhost", "localhost.localdomain", ""}


def is_local_host(host: str) -> bool:
    """True for a name or address only this machine answers to (with or without a port)."""
    name = urlsplit(f"//{host}").hostname or ""
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def base_url_is_local() -> bool:
    return is_local_host(urlsplit(settings.CRM_BASE_URL).netloc)


def public_url(path: str, request: HttpRequest | None = None) -> str:
    """`path` (from reverse()) as a link that works from outside, as well as we can tell."""
    if request is not None and base_url_is_local() and not is_local_host(request.get_host()):
        return request.build_absolute_uri(path)
    return settings.CRM_BASE_URL + path
