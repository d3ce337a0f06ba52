"""The client's address behind the reverse proxy.

gunicorn sets ``REMOTE_ADDR`` to its peer, which behind nginx is nginx itself (127.0.0.1) for every client.
When ``BEHIND_TLS_PROXY`` is on and the peer is one of ``TRUSTED_PROXY_ADDRESSES``, this middleware puts the
address that the proxy reports in ``X-Real-IP`` (nginx: ``proxy_set_header X-Real-IP $remote_addr``, which
replaces any value a client sent) into ``REMOTE_ADDR``, where the audit trail, the login throttle and the
metrics endpoint's address check read it. A request from anywhere else keeps its own peer address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
