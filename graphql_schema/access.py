"""Access control and the audit trail for GraphQL: the same rules, tokens and events as the REST API.

Every field that returns patient data carries ``ViewerRequired``; ``auditEvents`` carries ``AdminRequired``.
``AuditExtension`` writes one audit event per operation that touched patient data: the operation, its
variables, how many studies it returned and their exam_ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpRequest
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types import Info

from server.access import audit
from server.access.authentication import NotAuthenticated, NotPermitted, require_role
from server.access.roles import ADMIN, REPORTER, VIEWER

_TRAIL = "_study_audit_trail"


def _request(info: Info) -> HttpRequest:
    return info.context.request


class _RoleRequired(BasePermission):
    """Refuses with the REST API's words: "Not authenticated" (no valid token) or "Not permitted"."""

    role = VIEWER
    patient_data = True  # the operation then writes an audit event

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        request = _request(info)
        try:
            require_role(request, self.role)
        except (NotAuthenticated, NotPermitted) as refusal:
            audit.record_event(
                audit.REFUSED,
                refusal.status_code,
                request=request,
                parameters={"path": request.path, "field": info.field_name},
            )
            # Raised rather than returned: the permission object is shared by every request.
            code = "UNAUTHENTICATED" if refusal.status_code == 401 else "FORBIDDEN"
            raise StrawberryGraphQLError(refusal.detail, extensions={"code": code}) from None
        if self.patient_data:
            _trail(info)["touched"] = True
        return True


class ViewerRequired(_RoleRequired):
    role = VIEWER


class ViewerRequiredNoPatientData(_RoleRequired):
    """For the drop-down values: a viewer's token is needed, but no event is written, as for REST's
    ``/studies/filters/options``; they name no patient, and the frontend loads them with every page."""

    role = VIEWER
    patient_data = False


class ReporterRequired(_RoleRequired):
    """Writing reports: a reporter's (or an admin's) token. The write is audited by the resolver itself
    (``report.write``, as over REST), not as a read of patient data."""

    role = REPORTER
    patient_data = False


class AdminRequired(_RoleRequired):
    role = ADMIN


def _trail(info: Info) -> dict:
    request = _request(info)
    trail = getattr(request, _TRAIL, None)
    if trail is None:
        trail = {"touched": False, "count": 0, "exam_ids": [], "report_ids": []}
        setattr(request, _TRAIL, trail)
    return trail


def note_returned(info: Info, exam_ids: Iterable[str]) -> None:
    """Record that these studies are being sent to the client (for the operation's audit event)."""
    trail = _trail(info)
    ids = list(exam_ids)
    trail["count"] += len(ids)
    trail["exam_ids"].extend(ids)


def note_reports_returned(info: Info, report_ids: Iterable[str], exam_ids: Iterable[str | None]) -> None:
    """Record that these reports (and so their studies) are being sent to the client."""
    trail = _trail(info)
    trail["report_ids"].extend(report_ids)
    trail["exam_ids"].extend(exam_id for exam_id in exam_ids if exam_id and exam_id not in trail["exam_ids"])


class AuditExtension(SchemaExtension):
    """One audit event per operation that read patient data, written after it ran."""

    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context
        request = context.context.request
        trail = getattr(request, _TRAIL, None)
        if not trail or not trail["touched"]:
            return
        audit.record_event(
            audit.GRAPHQL_QUERY,
            200,
            request=request,
            parameters={
                "operation_name": context.operation_name,
                "query": context.query,
                "variables": context.variables or {},
                **({"report_ids": trail["report_ids"]} if trail["report_ids"] else {}),
            },
            record_count=trail["count"],
            exam_ids=trail["exam_ids"],
        )
        setattr(request, _TRAIL, None)
