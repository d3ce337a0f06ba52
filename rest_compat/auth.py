"""The contract's Authentication section: login, logout, me, Bearer tokens, 401/403/429 bodies.

Who may do what is decided once, in ``server.access``; this module only speaks HTTP for it. Every refusal is
an audit event too.
"""

from __future__ import annotations

from django.contrib.auth import authenticate as check_password
from django.http import HttpRequest, HttpResponse
from ninja import Form, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from rest_compat.presentation import format_datetime
from rest_compat.responses import error_response, json_response
from rest_compat.schemas import ErrorOut
from server.access import audit, tokens
from server.access.authentication import NotAuthenticated, NotPermitted, bearer_token, require_role
from server.access.roles import VIEWER, role_of
from server.access.throttle import login_refused

INVALID_LOGIN = "Invalid username or password"
THROTTLED = "Too many failed login attempts; try again later"


class UserOut(Schema):
    user_id: str
    username: str
    email: str | None
    role: str


class LoginOut(Schema):
    access_token: str
    token_type: str
    expires_at: str
    user: UserOut


class RoleBearer(HttpBearer):
    """``Authorization: Bearer <token>`` of a user holding ``role`` (declared in the OpenAPI document, so
    Swagger's Authorize button offers it). ``ALLOW_ANONYMOUS_READ`` lets token-less callers through to
    viewer endpoints unless ``anonymous_ok`` is off (logout, me: they are about the caller)."""

    def __init__(self, role: str, anonymous_ok: bool = True) -> None:
        super().__init__()
        self.role = role
        self.anonymous_ok = anonymous_ok

    def __call__(self, request: HttpRequest):
        user = require_role(request, self.role)  # raises NotAuthenticated / NotPermitted
        if not self.anonymous_ok and not user.is_authenticated:
            raise NotAuthenticated
        return user

    def authenticate(self, request: HttpRequest, token: str):  # pragma: no cover - __call__ decides
        return require_role(request, self.role)


def refusal_response(request: HttpRequest, refusal: NotAuthenticated | NotPermitted) -> HttpResponse:
    audit.record_event(
        audit.REFUSED,
        refusal.status_code,
        request=request,
        parameters={"method": request.method, "path": request.path},
    )
    response = error_response(refusal.status_code, refusal.detail)
    if refusal.status_code == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def install(api: NinjaAPI) -> None:
    """Register the refusal handlers and mount the /auth routes."""
    api.add_exception_handler(NotAuthenticated, refusal_response)
    api.add_exception_handler(NotPermitted, refusal_response)
    api.add_exception_handler(
        AuthenticationError, lambda request, _exc: refusal_response(request, NotAuthenticated())
    )
    api.add_router("/auth", router)


def user_json(user) -> dict:
    return {
        "user_id": str(user.pk),
        "username": user.get_username(),
        "email": user.email or None,
        "role": role_of(user),
    }


router = Router(tags=["auth"])
USERNAME_MAX_LENGTH = 150  # Django's User.username and the audit trail's username column


@router.post(
    "/login",
    response={200: LoginOut, 401: ErrorOut, 429: ErrorOut},
    summary="Log in with a username and password (OAuth2 password flow form)",
)
def login(request: HttpRequest, username: Form[str], password: Form[str]) -> HttpResponse:
    client = audit.client_address(request)
    # A username no account can have (longer than the column, or with a NUL, which PostgreSQL text cannot
    # hold) is a failed login like any other, counted and audited under what fits the audit trail's column.
    storable = username.replace("\x00", "\ufffd")[:USERNAME_MAX_LENGTH]
    impossible = storable != username or "\x00" in password
    username = storable
    if login_refused(username, client):
        audit.record_event(audit.LOGIN_THROTTLED, 429, request=request, username=username)
        return error_response(429, THROTTLED)
    user = None if impossible else check_password(request, username=username, password=password)
    if user is None or not user.is_active or role_of(user) is None:
        audit.record_event(audit.LOGIN_FAILED, 401, request=request, username=username)
        return error_response(401, INVALID_LOGIN)
    issued = tokens.issue_token(user)
    audit.record_event(audit.LOGIN, 200, request=request, user=user)
    return json_response(
        {
            "access_token": issued.raw,
            "token_type": "bearer",
            "expires_at": format_datetime(issued.token.expires_at.replace(tzinfo=None)),
            "user": user_json(user),
        }
    )


@router.post(
    "/logout",
    response={204: None, 401: ErrorOut},
    auth=RoleBearer(VIEWER, anonymous_ok=False),
    summary="Log out",
)
def logout(request: HttpRequest) -> HttpResponse:
    tokens.revoke_token(bearer_token(request) or "")
    audit.record_event(audit.LOGOUT, 204, request=request)
    return HttpResponse(status=204)


@router.get(
    "/me",
    response={200: UserOut, 401: ErrorOut},
    auth=RoleBearer(VIEWER, anonymous_ok=False),
    summary="Who am I",
)
def me(request: HttpRequest) -> HttpResponse:
    return json_response(user_json(request.auth))
