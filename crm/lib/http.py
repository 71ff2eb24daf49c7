"""Small view helpers shared by every app."""

from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.http import HttpRequest, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view that only signed-in users reach (login_required or
    permission_required, which anonymous users never pass): its user is a User."""

    user: User
    htmx: HtmxDetails  # django_htmx's middleware sets it on every request


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """The `next` parameter when it points inside this site, else `fallback`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def querystring_without(params: QueryDict, *names: str) -> str:
    """The query string of `params` (a QueryDict) less some keys, e.g. the page number."""
    return urlencode([(k, v) for k, values in params.lists() if k not in names for v in values])
