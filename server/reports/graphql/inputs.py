"""The reports' GraphQL inputs: the contract's report search, as a filter object and one sort key, both
translated into the selector's ``ReportFilters`` and ``ReportSort`` and nothing more."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from graphql_schema.inputs import SortDirection
from graphql_schema.scalars import LocalDateTime
from server.reports.search import DEFAULT_REPORT_SORT, ReportFilters, ReportSort


@strawberry.input(
    name="ReportFilter",
    description="Every condition must hold; a list matches any of its values. Only current versions count.",
)
class ReportFilter:
    search: str | None = strawberry.field(
        default=None,
        description=(
            "Free text, at most 200 characters: every whitespace-separated term (one character or more, any "
            "script) must occur, case-insensitively, in the current text, title, reportId or examId."
        ),
    )
    exam_ids: list[str] | None = None
    statuses: list[str] | None = None
    report_types: list[str] | None = None
    radiologists: list[str] | None = None
    verified_from: LocalDateTime | None = strawberry.field(default=None, description="Inclusive.")
    verified_to: LocalDateTime | None = strawberry.field(default=None, description="Inclusive.")

    def to_filters(self) -> ReportFilters:
        return ReportFilters(
            search=self.search,
            exam_ids=tuple(self.exam_ids or ()),
            statuses=tuple(self.statuses or ()),
            report_types=tuple(self.report_types or ()),
            radiologists=tuple(self.radiologists or ()),
            verified_from=self.verified_from,
            verified_to=self.verified_to,
        )


@strawberry.input(
    one_of=True,
    name="ReportOrder",
    description="The sort key (nulls last; ties by reportId, ascending). Default: verifiedAt DESC.",
)
class ReportOrder:
    verified_at: SortDirection | None = UNSET
    created_at: SortDirection | None = UNSET

    def to_sort(self) -> ReportSort:
        for name in ("verified_at", "created_at"):
            direction = getattr(self, name)
            if direction is not UNSET and direction is not None:
                return ReportSort(name, descending=direction is SortDirection.DESC)
        return DEFAULT_REPORT_SORT
