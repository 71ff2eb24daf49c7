"""The REST API's shared parts (Django REST framework), which every app's `<app>/api.py`
builds on; integrations/api_urls.py assembles them under /api/v1/ (core/api_router.py).
REST_FRAMEWORK's settings name the classes here, so this module must not import
rest_framework.views at import time.

One way for each thing:
- access: `ApiAccess` (signed in, the role's model permissions, a read-only token reads
  only); the per-object rules stay in each app's selectors, which the views' querysets use,
  so another user's object is a 404 exactly as on the pages;
- errors: `problem_exception_handler` answers RFC 9457 `application/problem+json`, with the
  field errors of a serializer or of a model's `full_clean()` under "errors";
- concurrent edits: `etag_response` puts the row version in `ETag`; `expected_version`
  reads `If-Match` for the app's service, whose `lock_for_update` refuses a stale version
  (`ConcurrentEditError`, answered 412);
- retried writes: `idempotent` replays the first response of a POST that carried the same
  `Idempotency-Key` (core.idempotency);
- paging: cursor pagination, newest first.
"""

import functools
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from core.idempotency import (
    idempotency_key_claim,
    idempotency_key_complete,
    idempotency_key_release,
    idempotency_wait,
)
from core.models import ApiToken
from crm.lib.concurrency import ConcurrentEditError

PROBLEM_CONTENT_TYPE = "application/problem+json"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_WAIT_SECONDS = 10.0
MAX_IDEMPOTENCY_KEY_LENGTH = 255


class ApiAccess(permissions.DjangoModelPermissions):
    """Signed in (token or session), with the role's model permissions: reading needs the
    model's view permission, as the pages do. A token made read-only cannot write."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method not in permissions.SAFE_METHODS and getattr(
            request.auth, "read_only", False
        ):
            raise exceptions.PermissionDenied(_("This API token may only read."))
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            # A view over no single model (a report) checks its own permission.
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class StrictJSONParser(JSONParser):
    """JSON, refusing a lone surrogate escape ("\\ud800"): Python's json accepts it, but
    no database text holds it, so it would fail when saved (a 500) instead of a 400."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise exceptions.ParseError(_("The JSON holds an invalid character.")) from None
        return data


class ApiCursorPagination(CursorPagination):
    """Stable pages however many rows arrive meanwhile; newest first unless `?ordering=`."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ApiUserRateThrottle(UserRateThrottle):
    """Requests per API token, or per signed-in user for the browser's session; the rate
    is `CRM_API_RATE`. Per token: one runaway integration does not lock its owner's other
    tokens (nor their browser) out."""

    scope = "api"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
        return super().get_cache_key(request, view)


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since you read it: read it again and retry."
    default_code = "precondition_failed"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_conflict"


def _problem(status_code: int, detail: Any, errors: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _status_title(status_code),
        "status": status_code,
    }
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    return body


def _status_title(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def _as_drf_exception(exc: Exception) -> Exception:
    """Django's own exceptions as the API exceptions DRF answers."""
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return exceptions.ValidationError(errors)
    if isinstance(exc, ConcurrentEditError):
        return PreconditionFailed(str(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a URL no route matches: a problem document under /api/ (what the
    schema documents for every operation, whatever the path holds), the 404 page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            _problem(404, _("No such resource.")), status=404, content_type=PROBLEM_CONTENT_TYPE
        )
    return page_not_found(request, exception)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as `application/problem+json` (RFC 9457); field errors under
    "errors" keyed by field name."""
    from rest_framework.views import exception_handler  # views import this module's settings

    exc = _as_drf_exception(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handler answers (and logs) it
    if isinstance(exc, exceptions.ValidationError):
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = _problem(response.status_code, _("The request has invalid fields."), errors)
    else:
        data = response.data
        response.data = _problem(
            response.status_code, data.get("detail") if isinstance(data, dict) else data
        )
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def etag_of(instance: models.Model) -> str:
    return f'"{instance.version}"'  # type: ignore[attr-defined]


def etag_response(response: Response, instance: models.Model) -> Response:
    """`response` with the ETag of the row version it shows."""
    response["ETag"] = etag_of(instance)
    return response


def expected_version(request: Request, instance: models.Model) -> int:
    """The version a write may change: the one named by `If-Match`, or the current one
    when the client sent none (an API client that does not guard its edits writes last).
    A malformed or stale `If-Match` is refused with 412 before anything is written."""
    current: int = instance.version  # type: ignore[attr-defined]
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return current
    for tag in header.split(","):
        value = tag.strip().removeprefix("W/").strip('"')
        if value.isascii() and value.isdigit() and int(value) == current:
            return current
    raise PreconditionFailed()


def _json_body(response: Response) -> Any:
    """The response data as stored JSON (Decimals and dates as the client saw them)."""
    if response.data is None:
        return None
    return json.loads(JSONRenderer().render(response.data))


def _replay(row: Any) -> Response:
    response = Response(row.response_body, status=row.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """A POST with an `Idempotency-Key` header takes effect once per user and URL: a retry,
    even one racing the first, gets the first successful response back and writes nothing.
    A failed attempt forgets the key, so the client may retry it."""

    @functools.wraps(view_method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if not key:
            return view_method(view, request, *args, **kwargs)
        if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable() or not key.isascii():
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: [_("Use at most 255 printable ASCII characters.")]}
            )
        scope = f"api:{request.user.pk}:{request.path}"[:150]
        for _attempt in range(3):
            claimed = idempotency_key_claim(scope=scope, key=key, user=request.user)
            if claimed is not None:
                break
            row = idempotency_wait(scope=scope, key=key, seconds=IDEMPOTENCY_WAIT_SECONDS)
            if row is not None and row.response_status is not None:
                return _replay(row)
            if row is not None:
                raise IdempotencyConflict()
        else:
            raise IdempotencyConflict()
        try:
            response = view_method(view, request, *args, **kwargs)
        except BaseException:
            idempotency_key_release(claimed=claimed)
            raise
        if 200 <= response.status_code < 300:
            idempotency_key_complete(
                claimed=claimed, status=response.status_code, body=_json_body(response)
            )
        else:
            idempotency_key_release(claimed=claimed)
        return response

    return wrapper


class ApiModelSerializer(serializers.ModelSerializer):
    """The base of every API serializer, so answers match the schema: emails are plain
    strings (a blank "" is no `format: email` value; the forms check addresses), and a
    choice field that may be blank keeps "" among its values even when read-only (DRF
    drops `allow_blank` from read-only fields, and the schema's enum with it)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.EmailField: serializers.CharField,
    }

    def include_extra_kwargs(self, kwargs: dict, extra_kwargs: dict) -> dict:
        may_be_blank = kwargs.get("allow_blank", False)
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if may_be_blank and kwargs.get("read_only"):
            kwargs["allow_blank"] = True
        return kwargs
