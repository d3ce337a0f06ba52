"""The reports' root fields and mutation; the project's schema (``graphql_schema.schema``) composes them
with the other domains'. Reading a report is reading patient data: a viewer's token, and an audit event
naming it. ``saveReport`` follows ``POST /reports``'s rules through the same service."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from strawberry_django.pagination import OffsetPaginationInput

from graphql_schema.access import ReporterRequired, ViewerRequired, note_reports_returned
from graphql_schema.scalars import LocalDateTime
from server.reports import search, selectors
from server.reports.graphql.inputs import ReportFilter, ReportOrder
from server.reports.graphql.types import ReportPage, ReportStatistics, ReportType
from server.reports.lifecycle import LifecycleViolation, UnknownStatus
from server.reports.services import InvalidReport, ReportChanged, audit_write, save_report
from server.studies.selectors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, check_page_bounds


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

    @strawberry.field(
        permission_classes=[ViewerRequired],
        description=(
            "Reports matching `filters` (current versions only), in `ordering` (default verifiedAt DESC), "
            f"one page at a time: `pagination.limit` defaults to {DEFAULT_PAGE_SIZE} and may be at most "
            f"{MAX_PAGE_SIZE}."
        ),
    )
    def reports(
        self,
        filters: ReportFilter | None = None,
        ordering: ReportOrder | None = None,
        pagination: OffsetPaginationInput | None = None,
    ) -> ReportPage:
        offset = pagination.offset if pagination else 0
        limit = pagination.limit if pagination and pagination.limit is not None else None
        limit = DEFAULT_PAGE_SIZE if limit is None or limit is strawberry.UNSET else limit
        check_page_bounds(offset, limit)
        selected = filters.to_filters() if filters else None
        matching = search.matching_reports(selected)
        return ReportPage(
            matching=matching,
            sort=ordering.to_sort() if ordering else search.DEFAULT_REPORT_SORT,
            offset=offset,
            limit=limit,
            text=selected is not None and selected.has_terms,
            total=search.count_reports(matching),
        )

    @strawberry.field(
        permission_classes=[ViewerRequired],
        description="Dashboard aggregates over the reports matching `filters` (current versions only).",
    )
    def report_statistics(self, filters: ReportFilter | None = None) -> ReportStatistics:
        return ReportStatistics(matching=search.matching_reports(filters.to_filters() if filters else None))


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
            saved = save_report(
                **fields,
                expected_version=expected,
                on_saved=lambda saved: audit_write(info.context.request, 200, saved, report.exam_id),
            )
        except (InvalidReport, UnknownStatus) as error:
            raise GraphQLError(str(error), extensions={"code": "BAD_USER_INPUT"}) from None
        except LifecycleViolation as error:
            raise GraphQLError(str(error), extensions={"code": "CONFLICT"}) from None
        except ReportChanged:
            raise GraphQLError("Report has changed", extensions={"code": "PRECONDITION_FAILED"}) from None
        return SavedReport(report_id=saved.report_id, version=saved.version, action=saved.action)
