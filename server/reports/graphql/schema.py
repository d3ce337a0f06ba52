"""The reports' root fields; the project's schema (``graphql_schema.schema``) composes them with the other
domains'. Reading a report is reading patient data: a viewer's token, and an audit event naming it."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_schema.access import ViewerRequired, note_reports_returned
from server.reports import selectors
from server.reports.graphql.types import ReportType


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
