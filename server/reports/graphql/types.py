"""A report and its versions as GraphQL types, read from model instances: a Report loaded with its current
version and its study (``selectors.reports()``, also the queryset of the Study.reports prefetch), so that no
field but ``versions`` queries again."""

from __future__ import annotations

import datetime as dt

import strawberry
from django.db.models import QuerySet
from strawberry.types import Info
from strawberry_django.pagination import OffsetPaginationInfo

from graphql_schema.access import note_reports_returned
from graphql_schema.scalars import LocalDateTime
from graphql_schema.types import DurationSummary, ValueCount, duration_summary, value_counts
from server.reports import search, statistics
from server.reports.models import Report, ReportSearch, ReportVersion
from server.reports.search import ReportSort


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.replace(microsecond=0, tzinfo=None)


@strawberry.type(name="ReportVersion", description="One stored version of a report; it never changes.")
class ReportVersionType:
    @strawberry.field(description="1, 2, …")
    def number(self: ReportVersion) -> int:
        return self.number

    @strawberry.field
    def status(self: ReportVersion) -> str:
        return self.status

    @strawberry.field(description="created, edited, status or amended")
    def change(self: ReportVersion) -> str:
        return self.change

    @strawberry.field
    def radiologist(self: ReportVersion) -> str | None:
        return self.radiologist

    @strawberry.field(description="When this version was signed; null for a draft.")
    def verified_at(self: ReportVersion) -> LocalDateTime | None:
        return _local(self.verified_at)

    @strawberry.field
    def stored_at(self: ReportVersion) -> LocalDateTime:
        return _local(self.stored_at)

    @strawberry.field(description="SHA-256 of the content, hexadecimal.")
    def content_hash(self: ReportVersion) -> str:
        return self.content_hash


@strawberry.type(name="Report", description="A radiology report: its current version, and its history.")
class ReportType:
    @strawberry.field
    def report_id(self: Report) -> str:
        return self.report_id

    @strawberry.field(description="The study it reports; null until a study with that exam id exists.")
    def exam_id(self: Report) -> str | None:
        return self.study.exam_id if self.study is not None else None  # joined: None until it exists

    @strawberry.field(description="The study's patient; null until the study exists.")
    def patient_name(self: Report) -> str | None:
        return self.study.patient_name if self.study is not None else None

    @strawberry.field(description="The study's exam item; null until the study exists.")
    def exam_item(self: Report) -> str | None:
        return self.study.exam_item if self.study is not None else None

    @strawberry.field
    def title(self: Report) -> str | None:
        return self.title

    @strawberry.field
    def report_type(self: Report) -> str | None:
        return self.report_type

    @strawberry.field(description="The current version's status.")
    def status(self: Report) -> str:
        return self.current.status

    @strawberry.field(description="The current version's number.")
    def version(self: Report) -> int:
        return self.current.number

    @strawberry.field
    def radiologist(self: Report) -> str | None:
        return self.current.radiologist

    @strawberry.field
    def verified_at(self: Report) -> LocalDateTime | None:
        return _local(self.current.verified_at)

    @strawberry.field(description="When version 1 was stored.")
    def created_at(self: Report) -> LocalDateTime:
        return _local(self.created_at)

    @strawberry.field(description="When the current version was stored.")
    def updated_at(self: Report) -> LocalDateTime:
        return _local(self.current.stored_at)

    @strawberry.field(description="The findings section of the current version.")
    def findings(self: Report) -> str | None:
        return self.current.findings

    @strawberry.field(description="The impression (conclusion) section of the current version.")
    def impression(self: Report) -> str | None:
        return self.current.impression

    @strawberry.field(description="The whole text of the current version.")
    def content(self: Report) -> str:
        return self.current.content

    @strawberry.field(description="Every version, oldest first.")
    def versions(self: Report) -> list[ReportVersionType]:
        return list(self.versions.order_by("number"))  # type: ignore[return-value]


@strawberry.type(name="ReportPage", description="One page of a report search.")
class ReportPage:
    matching: strawberry.Private[QuerySet[ReportSearch]]
    sort: strawberry.Private[ReportSort]
    offset: strawberry.Private[int]
    limit: strawberry.Private[int]
    text: strawberry.Private[bool]  # the filters hold search terms
    total: strawberry.Private[int]  # needed by both fields, so counted (or taken from the cache) up front

    @strawberry.field(description="All reports matching the filters, before paging (exact).")
    def total_count(self) -> int:
        return self.total

    @strawberry.field(description="The reports of this page, in the requested order.")
    def results(self, info: Info) -> list[ReportType]:
        found = search.page_of(self.matching, self.sort, self.offset, self.limit, self.total, self.text)
        note_reports_returned(
            info, [r.report_id for r in found], [r.study_id if r.study else None for r in found]
        )
        return found  # type: ignore[return-value]

    @strawberry.field(description="The offset and the limit that this page was cut with.")
    def page_info(self) -> OffsetPaginationInfo:
        return OffsetPaginationInfo(offset=self.offset, limit=self.limit)


@strawberry.type(description="Minutes from the study's check-in to the report's first signed version.")
class ReportTurnaround:
    check_in_to_preliminary: DurationSummary
    check_in_to_final: DurationSummary


@strawberry.type(description="Dashboard aggregates over the reports matching the filters (current versions).")
class ReportStatistics:
    matching: strawberry.Private[QuerySet[ReportSearch]]

    @strawberry.field(description="Number of matching reports.")
    def total(self) -> int:
        return search.count_reports(self.matching)

    @strawberry.field(description="Reports per current status, most frequent first.")
    def by_status(self) -> list[ValueCount]:
        return value_counts(statistics.count_by(self.matching, "status"))

    @strawberry.field(description="Reports per radiologist of the current version, most frequent first.")
    def by_radiologist(self) -> list[ValueCount]:
        return value_counts(statistics.count_by(self.matching, "radiologist"))

    @strawberry.field(
        description="Check-in → first preliminary and → first final, by the versions' verifiedAt."
    )
    def turnaround(self) -> ReportTurnaround:
        result = statistics.turnaround(self.matching)
        return ReportTurnaround(
            check_in_to_preliminary=duration_summary(result.check_in_to_preliminary),
            check_in_to_final=duration_summary(result.check_in_to_final),
        )
