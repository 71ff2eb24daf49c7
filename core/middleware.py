"""One mechanism against double submissions (issue 12): a form's one-time token.

Every form that creates something renders `{% submit_token %}` (core.templatetags), a
hidden random token. On a POST carrying one, `SubmitOnceMiddleware` claims the token
before the view runs (core.idempotency): the first request runs the view; a second
request with the same token, even one in flight at the same moment (a double click),
does not run the view again but waits for the first and answers its result:

- the first succeeded with a redirect: the same redirect, with "This was already
  submitted." (an htmx request that succeeded with a 2xx answers 204: htmx leaves the
  page as the first answer left it);
- the first failed (a form re-rendered with errors, 403, 404, 500...): the token is
  released, and this request runs the view like a first one. Only success is stored,
  so an error never keeps the user from submitting the same form again.

A POST without a token (old clients, scripts, tests) or with a malformed one runs as
always. The token is bound to the view (its scope is "form:<view name>") and to the user.
"""

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from core.idempotency import (
    idempotency_key_claim,
    idempotency_key_complete,
    idempotency_key_release,
    idempotency_wait,
)
from core.models import IdempotencyKey

TOKEN_FIELD = "submit_token"  # noqa: S105 - a form field name, not a secret
# How long a second submission waits for the first to finish: well under gunicorn's
# timeout (EMAIL_TIMEOUT + 15 s), longer than any form's work.
WAIT_SECONDS = 20
_CLAIM = "_submit_once_claim"


def submitted_token(request: HttpRequest) -> str | None:
    """The request's token in canonical form, or None (absent or not a UUID)."""
    value = request.POST.get(TOKEN_FIELD, "")
    if not value or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _success(request: HttpRequest, response: HttpResponse) -> tuple[bool, str]:
    """Whether the view succeeded, and where it sent the user."""
    if 300 <= response.status_code < 400 and response.has_header("Location"):
        return True, response["Location"]
    if _is_htmx(request) and 200 <= response.status_code < 300:
        return True, response.get("HX-Redirect", "")
    return False, ""


class SubmitOnceMiddleware(MiddlewareMixin):
    """See the module. After the login, CSRF and messages middleware in MIDDLEWARE: their
    checks come first, and the replay can leave a message."""

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST":
            return None
        token = submitted_token(request)
        if token is None or request.resolver_match is None:
            return None
        scope = f"form:{request.resolver_match.view_name}"[:150]
        row = None
        for _attempt in range(3):  # a failed first request releases the token: claim again
            claimed = idempotency_key_claim(scope=scope, key=token, user=request.user)
            if claimed is not None:
                setattr(request, _CLAIM, claimed)
                return None
            row = idempotency_wait(scope=scope, key=token, seconds=WAIT_SECONDS)
            if row is not None:
                break
        return self._replay(request, row)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        claimed = getattr(request, _CLAIM, None)
        if claimed is None:
            return response
        delattr(request, _CLAIM)
        succeeded, location = _success(request, response)
        if succeeded:
            idempotency_key_complete(
                claimed=claimed, status=response.status_code, location=location
            )
        else:
            idempotency_key_release(claimed=claimed)
        return response

    @staticmethod
    def _replay(request: HttpRequest, row: IdempotencyKey | None) -> HttpResponse:
        user_id = request.user.pk if request.user.is_authenticated else None
        if row is None or row.user_id != user_id:
            return _conflict(_("This form was already used. Reload the page and try again."))
        if row.state != IdempotencyKey.State.DONE:
            return _conflict(_("This form is still being processed. Reload the page in a moment."))
        if not (300 <= (row.response_status or 0) < 400):
            response = HttpResponse(status=204)  # htmx: the first answer did the swap
            if row.response_location:
                response["HX-Redirect"] = row.response_location
            return response
        messages.info(request, _("This was already submitted."))
        return HttpResponseRedirect(row.response_location)


def _conflict(message: str) -> HttpResponse:
    return HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
