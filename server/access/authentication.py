"""Who is asking, and may they: one implementation for REST and GraphQL alike."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from server.access.roles import VIEWER, has_role
from server.access.tokens import user_for_token


class NotAuthenticated(Exception):
    """No valid token: 401 ``{"detail": "Not authenticated"}`` with ``WWW-Authenticate: Bearer``."""

    detail = "Not authenticated"
    status_code = 401


class NotPermitted(Exception):
    """A valid token without the needed role: 403 ``{"detail": "Not permitted"}``."""

    detail = "Not permitted"
    status_code = 403


def bearer_token(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    """Resolve the bearer token once per request and remember the user on it."""
    user = getattr(request, "_access_user", None)
    if user is None:
        user = user_for_token(bearer_token(request)) or AnonymousUser()
        request._access_user = user
        request.user = user
    return user


def require_role(request: HttpRequest, role: str) -> AbstractBaseUser | AnonymousUser:
    """The caller if they hold ``role``; else raise NotAuthenticated or NotPermitted.

    With ``ALLOW_ANONYMOUS_READ`` a caller without a token may do what a viewer does, nothing more.
    """
    user = authenticate(request)
    if not user.is_authenticated:
        if role == VIEWER and settings.ALLOW_ANONYMOUS_READ and bearer_token(request) is None:
            return user
        raise NotAuthenticated
    if not has_role(user, role):
        raise NotPermitted
    return user
