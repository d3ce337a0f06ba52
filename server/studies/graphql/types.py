"""The studies' output types: the study, a page of studies, filter options and dashboard statistics.

Every resolver here hands its work to the query layer (``server.studies.selectors``); the only thing done here
is turning its results into GraphQL objects.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.db.models import Prefetch, QuerySet
from strawberry.types import Info
from strawberry_django.optimizer import optimize
from strawberry_django.pagination import OffsetPaginationInfo

from graphql_schema.access import note_reports_returned, note_returned
from graphql_schema.fields import ColumnField, column
from graphql_schema.scalars import LocalDateTime
from graphql_schema.types import DurationSummary, PeriodCount, ValueCount, duration_summary, value_counts
from server.studies import selectors
from server.studies.models import Study

if TYPE_CHECKING:
    from server.reports.graphql.types import ReportType

# The most rows any statistics list returns; byExamItem's limit must be within it.
MAX_STATISTICS_LIMIT = 1000


@strawberry_django.type(
    Study, name="Study", description="One radiology examination (study).", field_cls=ColumnField
)
class StudyType:
    exam_id: str = column("Primary key (檢查流水號).")
    medical_record_no: str | None = column("Chart number (病歷號).")
    application_order_no: str | None = column("Order / accession number.")
    patient_name: str
    patient_gender: str | None
    patient_birth_date: dt.date | None
    patient_age: int | None
    exam_status: str
    exam_source: str
    exam_item: str
    exam_description: str | None
    exam_room: str | None
    exam_equipment: str | None
    equipment_type: str | None = column("Modality, e.g. CT or MR.")
    order_datetime: LocalDateTime
    check_in_datetime: LocalDateTime | None
    report_certification_datetime: LocalDateTime | None
    certified_physician: str | None

    @strawberry_django.field(
        prefetch_related=[lambda info: _reports_prefetch()],
        description="The study's reports, the most recently signed first.",
    )
    def reports(
        self, info: Info
    ) -> list[Annotated[ReportType, strawberry.lazy("server.reports.graphql.types")]]:
        # A page's studies come with their reports in one more query: optimize() at the page's root applies
        # this field's prefetch. A study read alone (study(examId)) reads them here, in one query.
        found = list(self.reports.all())  # type: ignore[attr-defined]
        note_reports_returned(info, [report.report_id for report in found], [])
        return found


def _reports_prefetch() -> Prefetch:
    """A study's reports with their current versions, as the reports domain reads them; imported when first
    used, so that the studies app does not import the reports app when it loads (a cross-domain relation)."""
    from django.db.models import F

    from server.reports.selectors import reports

    ordering = (F("current__verified_at").desc(nulls_last=True), "report_id")
    return Prefetch("reports", queryset=reports().order_by(*ordering))


@strawberry.type(description="One page of studies, totally ordered, with the number of all matches.")
class StudyPage:
    matching: strawberry.Private[QuerySet[Study]]
    sorts: strawberry.Private[tuple[selectors.Sort, ...]]
    offset: strawberry.Private[int]
    limit: strawberry.Private[int]

    @strawberry.field(description="All studies matching the filters, before paging.")
    def total_count(self) -> int:
        return selectors.count_studies(self.matching)

    @strawberry.field(description="The studies of this page, in the requested order.")
    def results(self, info: Info) -> list[StudyType]:
        # Narrowed to the selected columns by the optimizer (the primary key always comes along), then run
        # here, so that the audit trail learns which studies this page sends.
        total = selectors.count_studies(self.matching)  # cached: the same count as totalCount's
        studies = selectors.page_of(optimize(self.matching, info), self.sorts, self.offset, self.limit, total)
        note_returned(info, (study.pk for study in studies))
        return studies  # type: ignore[return-value]

    @strawberry.field(description="The offset and the limit that this page was cut with.")
    def page_info(self) -> OffsetPaginationInfo:
        return OffsetPaginationInfo(offset=self.offset, limit=self.limit)


@strawberry.type(description="Distinct, non-empty, sorted values of the filterable fields (whole table).")
class StudyFilterOptions:
    exam_statuses: list[str]
    exam_sources: list[str]
    exam_items: list[str]
    equipment_types: list[str]
    exam_rooms: list[str]
    exam_equipments: list[str]


@strawberry.type(description="Turnaround times, the figures a radiology department is judged by.")
class Turnaround:
    order_to_check_in: DurationSummary
    check_in_to_report: DurationSummary
    order_to_report: DurationSummary


@strawberry.enum(description="The length of a timeline period.")
class TimelineGranularity(enum.Enum):
    DAY = selectors.Granularity.DAY
    WEEK = selectors.Granularity.WEEK
    MONTH = selectors.Granularity.MONTH
    YEAR = selectors.Granularity.YEAR


@strawberry.enum(description="Which time of a study a timeline counts by.")
class TimelineField(enum.Enum):
    ORDER = selectors.TimelineField.ORDER
    CHECK_IN = selectors.TimelineField.CHECK_IN
    REPORT = selectors.TimelineField.REPORT


@strawberry.type(description="Aggregates over the studies matching the filters, computed in the database.")
class StudyStatistics:
    queryset: strawberry.Private[QuerySet[Study]]

    @strawberry.field(description="Number of matching studies.")
    def total(self) -> int:
        return selectors.count_studies(self.queryset)

    @strawberry.field(description="Studies per exam status, most frequent first.")
    def by_status(self) -> list[ValueCount]:
        return value_counts(selectors.count_by(self.queryset, "exam_status"))

    @strawberry.field(description="Studies per exam source, most frequent first.")
    def by_source(self) -> list[ValueCount]:
        return value_counts(selectors.count_by(self.queryset, "exam_source"))

    @strawberry.field(description="Studies per modality, most frequent first.")
    def by_equipment_type(self) -> list[ValueCount]:
        return value_counts(selectors.count_by(self.queryset, "equipment_type"))

    @strawberry.field(description="Studies per exam room, most frequent first.")
    def by_exam_room(self) -> list[ValueCount]:
        return value_counts(selectors.count_by(self.queryset, "exam_room"))

    @strawberry.field(
        description=f"The most frequent exam items, at most `limit` (1..{MAX_STATISTICS_LIMIT})."
    )
    def by_exam_item(self, limit: int = 20) -> list[ValueCount]:
        if not 1 <= limit <= MAX_STATISTICS_LIMIT:
            raise selectors.InvalidQuery(f"limit must be between 1 and {MAX_STATISTICS_LIMIT}")
        return value_counts(selectors.count_by(self.queryset, "exam_item", limit))

    @strawberry.field(
        description="Studies per period of one time, from the first to the last period; empty periods are 0."
    )
    def timeline(
        self,
        granularity: TimelineGranularity = TimelineGranularity.MONTH,
        field: TimelineField = TimelineField.ORDER,
    ) -> list[PeriodCount]:
        rows = selectors.timeline(self.queryset, granularity.value, field.value)
        return [PeriodCount(period=row.period, count=row.count) for row in rows]

    @strawberry.field(description="Order → check-in → report turnaround in minutes.")
    def turnaround(self) -> Turnaround:
        result = selectors.turnaround(self.queryset)
        return Turnaround(
            order_to_check_in=duration_summary(result.order_to_check_in),
            check_in_to_report=duration_summary(result.check_in_to_report),
            order_to_report=duration_summary(result.order_to_report),
        )
