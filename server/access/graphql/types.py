"""The audit trail's output type, and the reading behind ``auditEvents``: the same events as
``manage.py audit_log``."""

from __future__ import annotations

import datetime as dt
from itertools import islice

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from graphql_schema.scalars import LocalDateTime
from server.access.audit import audit_events
from server.access.models import AuditEvent

MAX_AUDIT_EVENTS = 1000


@strawberry.type(name="AuditEvent", description="One look at patient data, or one refused attempt.")
class AuditEventType:
    occurred_at: LocalDateTime
    username: str
    role: str
    client_address: str | None
    request_id: str
    action: str
    status_code: int
    parameters: JSON
    record_count: int
    exam_ids: list[str]


def _as_type(event: AuditEvent) -> AuditEventType:
    return AuditEventType(
        occurred_at=event.occurred_at.replace(tzinfo=None, microsecond=0),  # type: ignore[arg-type]
        username=event.username,
        role=event.role,
        client_address=event.client_address,
        request_id=event.request_id,
        action=event.action,
        status_code=event.status_code,
        parameters=event.parameters,
        record_count=event.record_count,
        exam_ids=event.exam_ids,
    )


def resolve_audit_events(
    user: str | None = None,
    since: dt.date | None = None,
    exam_id: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[AuditEventType]:
    """Oldest first, like the command; ``limit`` at most MAX_AUDIT_EVENTS."""
    if not 1 <= limit <= MAX_AUDIT_EVENTS or offset < 0:
        raise GraphQLError(f"limit must be between 1 and {MAX_AUDIT_EVENTS}, offset 0 or more")
    if "\x00" in (user or "") + (exam_id or ""):
        raise GraphQLError("user and examId must not contain NUL characters")
    events = audit_events(username=user, since=since, exam_id=exam_id)
    return [_as_type(event) for event in islice(events, offset, offset + limit)]
