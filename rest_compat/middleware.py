"""Every error under ``/api/v1`` is JSON, whatever DEBUG says and wherever it arose.

Django answers unknown paths, refused methods, disallowed hosts and uncaught exceptions with HTML pages
(technical pages when DEBUG is on, which would show SQL and stack traces). This middleware replaces any such
non-JSON error response under the API's prefix with FastAPI's ``{"detail": "<standard phrase>"}``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from rest_compat.responses import error_response

API_PREFIX = "/api/v1"
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class JsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api_path(request.path_info)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            replacement = error_response(response.status_code)
            for header in _KEPT_HEADERS:
                if header in response:
                    replacement[header] = response[header]
            if response.streaming:
                # Release its file or cursor. Not for a plain response: close() also sends request_finished,
                # which would close the database connection in the middle of the request; the server closes
                # the replacement once it is sent.
                response.close()
            response = replacement
        return response
