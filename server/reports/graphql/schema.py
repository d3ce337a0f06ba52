"""The reports' root fields and mutation; the project's schema (``graphql_schema.schema``) composes them
with the other domains'. Reading a report is reading patient data: a viewer's token, and an audit event
naming it. ``saveReport`` follows ``POST /reports``'s rules through the same service."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from graphql_schema.access import ReporterRequired, ViewerRequired, note_reports_returned
from graphql_schema.scalars import LocalDateTime
from server.access import audit
from server.reports import selectors
from server.reports.graphql.types import ReportType
from server.reports.lifecycle import LifecycleViolation, UnknownStatus
from server.reports.services import InvalidReport, ReportChanged, save_report


@strawberry.type
class ReportQuery:
    @strawberry.field(
        permission_classes=[ViewerRequired], description="One report by its id; null when there is none."
    )
    def report(self, info: Info, report_id: str) -> ReportType | None:
        report = selectors.get_report(report_id)
        if report is not None:
            note_reports_returned(info, [report.report_id], [report.study_id if report.study else None])
        return report  # type: ignore[return-value]


@strawberry.input(description="A report's new content and status; without reportId a new report is made.")
class SaveReportInput:
    exam_id: str
    content: str
    status: str = strawberry.field(description="draft, preliminary, final, amended or cancelled")
    report_id: str | None = None
    radiologist: str | None = None
    title: str | None = None
    report_type: str | None = None
    verified_at: LocalDateTime | None = None
    expected_version: int | None = strawberry.field(
        default=None, description="The version this write was made against (as HTTP's If-Match)."
    )


@strawberry.type(description="What saveReport stored.")
class SavedReport:
    report_id: str
    version: int
    action: str = strawberry.field(description="created, updated or unchanged")


@strawberry.type
class ReportMutation:
    @strawberry.mutation(
        permission_classes=[ReporterRequired],
        description=(
            "Store a new version of a report when its content or status differ, nothing when both are the "
            "same. Errors: BAD_USER_INPUT (empty or oversized content, unknown status), CONFLICT (a change "
            "the lifecycle forbids), PRECONDITION_FAILED (expectedVersion is not the current one)."
        ),
    )
    def save_report(self, info: Info, report: SaveReportInput) -> SavedReport:
        fields = {name: value for name, value in vars(report).items() if value is not None}
        expected = fields.pop("expected_version", None)
        try:
            saved = save_report(**fields, expected_version=expected)
        except (InvalidReport, UnknownStatus) as error:
            raise GraphQLError(str(error), extensions={"code": "BAD_USER_INPUT"}) from None
        except LifecycleViolation as error:
            raise GraphQLError(str(error), extensions={"code": "CONFLICT"}) from None
        except ReportChanged:
            raise GraphQLError("Report has changed", extensions={"code": "PRECONDITION_FAILED"}) from None
        audit.record_event(
            audit.REPORT_WRITE,
            200,
            info.context.request,
            parameters={"report_id": saved.report_id, "version": saved.version, "action": saved.action},
            record_count=1,
            exam_ids=[report.exam_id],
        )
        return SavedReport(report_id=saved.report_id, version=saved.version, action=saved.action)
