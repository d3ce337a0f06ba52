"""One log line per request, and the JSON log format (``LOG_FORMAT=json``, the production default).

The request line carries time, request id, method, path, status, duration and user id. It logs the path only,
never the query string: searches put patient names and chart numbers there.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

logger = logging.getLogger("server.request")

# The fields a request line adds to its record (``extra=``); the JSON formatter writes them as keys.
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Escape control characters, so a path like ``/a%0Afake`` cannot forge a second line in a text log."""
    return _UNPRINTABLE.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601 in UTC, milliseconds), level, logger, message, the
    request fields when present, and the traceback (as one escaped string) of a logged exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    """Log each request once it is answered; a streamed body (CSV export) is logged when it ends.

    Place it right after ``RequestIdMiddleware``, so the id is set and the status is the one the client gets.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            content = response.streaming_content
            response.streaming_content = self._log_when_done(content, request, response, started)
        else:
            self._log(request, response, started)
        return response

    def _log_when_done(
        self, content: Iterator[bytes], request: HttpRequest, response: HttpResponse, started: float
    ) -> Iterator[bytes]:
        try:
            yield from content
        finally:  # exhausted, or closed early when the client went away
            self._log(request, response, started)

    @staticmethod
    def _log(request: HttpRequest, response: HttpResponse, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
        fields = {
            "request_id": getattr(request, "request_id", None),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": user_id,
        }
        logger.info(
            "%s %s %s %sms request_id=%s user_id=%s",
            printable(request.method or ""),
            printable(request.path),
            response.status_code,
            duration_ms,
            fields["request_id"],
            user_id,
            extra=fields,
        )
