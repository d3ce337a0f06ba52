"""The access app's root fields: the audit trail for admins."""

from __future__ import annotations

import datetime

import strawberry

from graphql_schema.access import AdminRequired
from server.access.graphql.types import MAX_AUDIT_EVENTS, AuditEventType, resolve_audit_events


@strawberry.type
class AuditQuery:
    @strawberry.field(
        permission_classes=[AdminRequired],
        description=(
            "The audit trail (admins only), oldest first: every read of patient data and every refusal. "
            f"`limit` at most {MAX_AUDIT_EVENTS}."
        ),
    )
    def audit_events(
        self,
        user: str | None = None,
        since: datetime.date | None = None,
        exam_id: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[AuditEventType]:
        return resolve_audit_events(user=user, since=since, exam_id=exam_id, offset=offset, limit=limit)
