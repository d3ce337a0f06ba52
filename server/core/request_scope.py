"""What one request has settled, kept for the rest of it: the data version it read, the replica it reads.

A request reads the data version at most once, however many cached facts it uses (``server.core.cache``),
and reads every replicated model from one replica (``server.core.routers``), the one the version came from,
so that its answers and the version they are cached under agree. Outside a request (management commands,
tests) there is no scope and every read decides afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_request_scope: ContextVar[dict | None] = ContextVar("request_scope", default=None)


def request_scope() -> dict | None:
    """What the current request has settled so far (its version, its replica); None outside a request."""
    return _request_scope.get()


class RequestScopeMiddleware:
    """Open an empty scope for each request and close it when the response is made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request_scope.set({})
        try:
            return self.get_response(request)
        finally:
            _request_scope.reset(token)
