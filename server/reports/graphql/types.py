"""A report and its versions as GraphQL types, read from model instances: a Report loaded with its current
version and its study (``selectors.reports()``, also the queryset of the Study.reports prefetch), so that no
field but ``versions`` queries again."""

from __future__ import annotations

import datetime as dt

import strawberry

from graphql_schema.scalars import LocalDateTime
from server.reports.models import Report, ReportVersion


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
