"""A database outage answers a friendly 503 page, and a read survives a dropped connection.

When PostgreSQL restarts (or a connection is killed), every persistent connection the web
workers hold is dead; the first query of the next request on each fails. Two mechanisms:

- `RetryDroppedConnectionMiddleware` (first in MIDDLEWARE): a GET/HEAD/OPTIONS request that
  failed on a database error before any write is run once more on a fresh connection. Reads
  are safe to repeat; a POST is never repeated (it may have half-happened, and the user can
  press the button again).
- `server_error` (the handler500): an uncaught `OperationalError`/`InterfaceError` answers
  `templates/503.html` with `Retry-After`, never "Server error". The template extends
  nothing and is rendered without context processors, so it needs no database.

Django converts an exception to a response inside each middleware layer, so the middleware
cannot catch it; the `got_request_exception` signal marks the request instead, and the
middleware reads the mark on the way out.
"""

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A statement that starts with one of these changes data: after it, a request is not repeated.
WRITE_STATEMENTS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "CREATE", "ALTER", "DROP", "TRUNCATE"}
)
_MARK = "_crm_database_outage"


@receiver(got_request_exception, dispatch_uid="crm.lib.db_outage.mark_database_outage")
def mark_database_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Called inside Django's `except` block: remember that the request met a database outage."""
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, DATABASE_OUTAGE_ERRORS):
        setattr(request, _MARK, True)


def met_database_outage(request: HttpRequest) -> bool:
    return bool(getattr(request, _MARK, False))


class _WriteWatcher:
    """An execute wrapper noting whether a statement that changes data ran to completion."""

    def __init__(self) -> None:
        self.wrote = False

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        words = str(sql).split(None, 1)
        if words and words[0].upper() in WRITE_STATEMENTS:
            self.wrote = True
        return result


class RetryDroppedConnectionMiddleware:
    """Run a read request once more when its database connection dropped (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        watcher = _WriteWatcher()
        with connection.execute_wrapper(watcher):
            response = self.get_response(request)
        if not self._may_retry(request, watcher):
            return response
        logger.warning("database connection lost during %s %s; retrying once", request.method,
                       request.path)  # fmt: skip
        setattr(request, _MARK, False)
        # The dead connection is dropped; the next query opens a new one.
        connection.close()
        return self.get_response(request)

    @staticmethod
    def _may_retry(request: HttpRequest, watcher: _WriteWatcher) -> bool:
        return (
            met_database_outage(request)
            and request.method in SAFE_METHODS
            and not watcher.wrote
            # Inside an outer transaction (never in production: no ATOMIC_REQUESTS) a new
            # connection could not continue it.
            and not connection.in_atomic_block
        )


def server_error(request: HttpRequest) -> HttpResponse:
    """The handler500: a database outage answers 503 (try again shortly), anything else 500."""
    if isinstance(sys.exc_info()[1], DATABASE_OUTAGE_ERRORS):
        return service_unavailable(request)
    return HttpResponseServerError(loader.get_template("500.html").render())


def service_unavailable(request: HttpRequest) -> HttpResponse:
    # No request in the context: context processors (the user, messages) would query.
    body = loader.get_template("503.html").render({"language_code": get_language()})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
