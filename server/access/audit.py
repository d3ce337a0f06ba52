"""Writing and reading the audit trail (services and selectors)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.http import HttpRequest

from server.access.models import AuditEvent
from server.access.roles import role_of

# Actions, one name each, as they appear in the trail.
STUDY_SEARCH = "study.search"
STUDY_DETAIL = "study.detail"
STUDY_EXPORT = "study.export"
STUDY_OPTIONS = "study.filter_options"
STUDY_STATISTICS = "study.statistics"
GRAPHQL_QUERY = "graphql.query"
LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOGIN_THROTTLED = "auth.login_throttled"
LOGOUT = "auth.logout"
REFUSED = "auth.refused"  # 401 or 403 on a data request


def client_address(request: HttpRequest | None) -> str | None:
    """The peer address. Behind a reverse proxy, configure it to set REMOTE_ADDR (see deploy/)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_event(
    action: str,
    status_code: int,
    request: HttpRequest | None = None,
    user: AbstractBaseUser | None = None,
    parameters: dict | None = None,
    record_count: int = 0,
    exam_ids: Iterable[str] = (),
    username: str | None = None,
) -> AuditEvent:
    """Append one event. ``user`` defaults to the request's authenticated user."""
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        user = candidate if candidate is not None and candidate.is_authenticated else None
    return AuditEvent.objects.create(
        user_id=user.pk if user is not None else None,
        username=username if username is not None else (user.get_username() if user is not None else ""),
        role=role_of(user) or "",
        client_address=client_address(request),
        request_id=getattr(request, "request_id", "") if request is not None else "",
        action=action,
        status_code=status_code,
        parameters=parameters or {},
        record_count=record_count,
        exam_ids=list(exam_ids),
    )


def audit_events(
    username: str | None = None, since: dt.date | None = None, exam_id: str | None = None
) -> Iterable[AuditEvent]:
    """Events for the admins' audit log, oldest first, streamed."""
    events = AuditEvent.objects.all()
    if username:
        events = events.filter(username=username)
    if since:
        events = events.filter(occurred_at__gte=dt.datetime.combine(since, dt.time.min))
    if exam_id and connection.vendor == "postgresql":
        events = events.filter(exam_ids__contains=[exam_id])  # jsonb @>, GIN-indexed (migration 0003)
    events = events.order_by("occurred_at", "id").iterator(chunk_size=1000)
    if exam_id and connection.vendor != "postgresql":  # SQLite has no JSON containment operator
        return (event for event in events if exam_id in event.exam_ids)
    return events
