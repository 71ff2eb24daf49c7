"""One JSON object per log line, for log collectors (`CRM_LOG_FORMAT=json`, see settings).

    {"time": "2026-12-06T06:30:00.123+00:00", "level": "WARNING", "logger": "django.request",
     "message": "Service Unavailable: /customers/", "request_id": "abc", "exception": "..."}

`request_id` is present when the record carries one: a `request_id` attribute (extra=...), or
the `X-Request-ID` header of the request Django's own loggers attach to their records (set it
in the proxy in front of gunicorn). `exception` is the formatted traceback, when there is one.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any


def request_id_of(record: logging.LogRecord) -> str | None:
    request_id = getattr(record, "request_id", None)
    if request_id:
        return str(request_id)
    meta = getattr(getattr(record, "request", None), "META", None)
    if isinstance(meta, dict):
        return meta.get("HTTP_X_REQUEST_ID") or None
    return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_of(record)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: a message argument that JSON cannot encode still logs.
        return json.dumps(entry, ensure_ascii=False, default=str)
