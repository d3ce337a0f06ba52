"""Project-wide middleware: the request's id, and the client's address behind the reverse proxy.

The request scope (``request_scope``), the request log line (``request_log``) and metrics (``metrics``) have
modules of their own beside this one; ``settings.MIDDLEWARE`` says in which order they run and why.

**The client's address.** gunicorn sets ``REMOTE_ADDR`` to its peer, which behind nginx is nginx itself
(127.0.0.1) for every client. When ``BEHIND_TLS_PROXY`` is on and the peer is one of
``TRUSTED_PROXY_ADDRESSES``, ``ProxiedClientAddressMiddleware`` puts the address that the proxy reports in
``X-Real-IP`` (nginx: ``proxy_set_header X-Real-IP $remote_addr``, which replaces any value a client sent)
into ``REMOTE_ADDR``, where the audit trail, the login throttle and the metrics endpoint's address check read
it. A request from anywhere else keeps its own peer address.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    """Give every request an id and echo it in ``X-Request-ID``.

    A proxy's or client's own id is kept when it is short and plain, so one id follows a request through
    every log; anything else is replaced, since it would end up in logs and the audit trail.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class ProxiedClientAddressMiddleware:
    """First in the chain, so every later reader of ``REMOTE_ADDR`` sees the client, not the proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.BEHIND_TLS_PROXY:
            peer = request.META.get("REMOTE_ADDR", "")
            reported = request.META.get("HTTP_X_REAL_IP", "").strip()
            if peer in settings.TRUSTED_PROXY_ADDRESSES and _is_ip(reported):
                request.META["REMOTE_ADDR"] = reported
        return self.get_response(request)
