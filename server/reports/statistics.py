"""Dashboard aggregates over the reports a search selects: counts by current status and radiologist, and
report turnaround, the figure a department is judged by.

Turnaround is measured from the study's check-in to the *first* version signed in a status (preliminary,
final), by its ``verified_at``: an amendment later does not move the moment the report was first
available, and ``stored_at`` would measure when an import ran, not when the radiologist signed. Reports
without a check-in (no study yet, or none recorded) or never signed in that status are left out of that
figure, and the summary's ``count`` says how many were measured. Cached per report write version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Min, QuerySet

from server.core.cache import query_key
from server.reports import write_version
from server.reports.lifecycle import FINAL, PRELIMINARY
from server.reports.models import ReportSearch, ReportVersion
from server.studies.selectors import DurationSummary, ValueCount
from server.studies.selectors.statistics import MinutesBetween, count_rows_by, minutes_summary

T = TypeVar("T")


@dataclass(frozen=True)
class ReportTurnaround:
    check_in_to_preliminary: DurationSummary
    check_in_to_final: DurationSummary


def count_by(matching: QuerySet[ReportSearch], column: str) -> list[ValueCount]:
    """Reports per value of ``column`` (status, radiologist, report_type) of their current state, most
    frequent first, ties in value order, nulls last."""
    return _cached(matching.order_by(), lambda: count_rows_by(matching, column), "count_by", column)


def check_in_to_first(matching: QuerySet[ReportSearch], status: str) -> DurationSummary:
    """Minutes from check-in to the first version signed in ``status``, over the matching reports."""
    firsts = (
        ReportVersion.objects.filter(
            status=status,
            verified_at__isnull=False,
            report_id__in=matching.order_by().values("report_id"),
            report__study__check_in_datetime__isnull=False,
        )
        .values("report_id")
        .annotate(minutes=MinutesBetween(Min("verified_at"), Min("report__study__check_in_datetime")))
    )
    return _cached(firsts, lambda: minutes_summary(firsts), "minutes")


def _cached(queryset: QuerySet, compute: Callable[[], T], *extra: str) -> T:
    """Computed once per report write version (``write_version``): over a million reports a turnaround
    joins every version with its study, seconds that a dashboard must not pay on each refresh."""
    return write_version.cached(query_key(queryset, *extra), compute, using=queryset.db)


def turnaround(matching: QuerySet[ReportSearch]) -> ReportTurnaround:
    return ReportTurnaround(
        check_in_to_preliminary=check_in_to_first(matching, PRELIMINARY),
        check_in_to_final=check_in_to_first(matching, FINAL),
    )
