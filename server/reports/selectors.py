"""Reads of reports (HackSoft's "selectors"), for the REST facade and, next, GraphQL.

A report is read with its current version and its study in one query: the study is joined, not required
(a report may come before its study), and is None until that study is imported.
"""

from __future__ import annotations

from django.db.models import F, QuerySet

from server.reports.models import Report, ReportSearch, ReportVersion
from server.studies.selectors.options import distinct_values


def reports() -> QuerySet[Report]:
    """Every report with its current version and study, ready to present."""
    return Report.objects.select_related("current", "study")


def get_report(report_id: str) -> Report | None:
    if "\x00" in report_id:
        return None
    return reports().filter(pk=report_id).first()


def versions_of(report_id: str) -> list[ReportVersion]:
    """A report's versions, oldest first, without their text (the list shows hashes, not content)."""
    return list(
        ReportVersion.objects.filter(report_id=report_id)
        .defer("content", "history", "technique", "comparison", "findings", "impression")
        .order_by("number")
    )


def get_version(report_id: str, number: int) -> ReportVersion | None:
    if "\x00" in report_id:
        return None
    return ReportVersion.objects.filter(report_id=report_id, number=number).first()


def reports_of_study(exam_id: str) -> list[Report]:
    """A study's reports, the most recently signed first (unsigned ones last), ties by report_id."""
    return list(
        reports()
        .filter(study_id=exam_id)
        .order_by(F("current__verified_at").desc(nulls_last=True), "report_id")
    )


def filter_options() -> dict[str, list[str]]:
    """The values the report filters offer, over every report's current state: distinct, non-empty, in
    code-point order. Every search answers them, uncached (a report write does not change the data version),
    so each is read from its column's btree on ``report_search`` by a loose index scan: a descent per
    distinct value, not a read of a million rows."""
    return {
        "statuses": distinct_values("status", ReportSearch),
        "report_types": distinct_values("report_type", ReportSearch),
        "radiologists": distinct_values("radiologist", ReportSearch),
    }
