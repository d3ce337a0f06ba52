"""Aggregates for dashboards, computed in the database over any filtered set of studies.

Radiology departments are judged by report turnaround time, so the turnaround figures use the same
definitions everywhere: minutes between two wall-clock times, over the studies that have both.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from django.db.models import Aggregate, Avg, Count, F, FloatField, Func, QuerySet
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek, TruncYear

from server.core.cache import cached, query_key
from server.core.errors import InvalidQuery
from server.studies.models import Study

MAX_TIMELINE_PERIODS = 20_000


class Granularity(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class TimelineField(enum.Enum):
    ORDER = "order_datetime"
    CHECK_IN = "check_in_datetime"
    REPORT = "report_certification_datetime"


_TRUNC = {
    Granularity.DAY: TruncDay,
    Granularity.WEEK: TruncWeek,
    Granularity.MONTH: TruncMonth,
    Granularity.YEAR: TruncYear,
}


@dataclass(frozen=True)
class ValueCount:
    value: str | None
    count: int


@dataclass(frozen=True)
class PeriodCount:
    period: dt.date  # the first day of the period (weeks start on Monday)
    count: int


@dataclass(frozen=True)
class DurationSummary:
    count: int
    mean_minutes: float | None
    median_minutes: float | None
    p90_minutes: float | None


@dataclass(frozen=True)
class Turnaround:
    order_to_check_in: DurationSummary
    check_in_to_report: DurationSummary
    order_to_report: DurationSummary


def count_by(queryset: QuerySet[Study], field_name: str, limit: int | None = None) -> list[ValueCount]:
    """Studies per value of one field, most frequent first; cached per data version."""
    return cached(
        query_key(queryset.order_by(), "count_by", field_name, limit),
        lambda: count_rows_by(queryset, field_name, limit),
    )


def count_rows_by(queryset: QuerySet, field_name: str, limit: int | None = None) -> list[ValueCount]:
    """Rows per value of one field, most frequent first (ties in value order, nulls last); nulls count as a
    value. Uncached: ``count_by`` caches it for studies, the reports' statistics for reports."""
    if limit is not None and limit < 1:
        raise InvalidQuery("limit must be at least 1")
    rows = (
        queryset.order_by()
        .values(field_name)
        .annotate(n=Count("*"))
        .order_by("-n", F(field_name).asc(nulls_last=True))
    )
    if limit is not None:
        rows = rows[:limit]
    return [ValueCount(row[field_name], row["n"]) for row in rows]


def _next_period(day: dt.date, granularity: Granularity) -> dt.date:
    if granularity is Granularity.DAY:
        return day + dt.timedelta(days=1)
    if granularity is Granularity.WEEK:
        return day + dt.timedelta(days=7)
    if granularity is Granularity.MONTH:
        return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return dt.date(day.year + 1, 1, 1)


def timeline(queryset: QuerySet[Study], granularity: Granularity, field: TimelineField) -> list[PeriodCount]:
    """Studies per period; cached per data version."""
    key = query_key(queryset.order_by(), "timeline", granularity, field)
    return cached(key, lambda: _timeline(queryset, granularity, field))


def _timeline(queryset: QuerySet[Study], granularity: Granularity, field: TimelineField) -> list[PeriodCount]:
    """Studies per period of one datetime field, from the first to the last period, empty periods as 0."""
    column = field.value
    rows = (
        queryset.order_by()
        .filter(**{f"{column}__isnull": False})
        .annotate(period=_TRUNC[granularity](column))
        .values("period")
        .annotate(n=Count("*"))
    )
    counts = {_as_date(row["period"]): row["n"] for row in rows}
    if not counts:
        return []
    result: list[PeriodCount] = []
    period, last = min(counts), max(counts)
    while period <= last:
        if len(result) >= MAX_TIMELINE_PERIODS:
            raise InvalidQuery(
                f"The timeline would have more than {MAX_TIMELINE_PERIODS} periods; use a coarser one"
            )
        result.append(PeriodCount(period, counts.get(period, 0)))
        period = _next_period(period, granularity)
    return result


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


class MinutesBetween(Func):
    """Minutes from one wall-clock datetime column to another, as a float."""

    output_field = FloatField()
    arity = 2

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0)"
    arg_joiner = " - "


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile (linear interpolation between the two nearest values)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def duration_summary(queryset: QuerySet[Study], start: str, end: str) -> DurationSummary:
    """Minutes from ``start`` to ``end``; cached per data version."""
    key = query_key(queryset.order_by(), "duration", start, end)
    return cached(key, lambda: _duration_summary(queryset, start, end))


def _duration_summary(queryset: QuerySet[Study], start: str, end: str) -> DurationSummary:
    """Count, mean, median and 90th percentile of the minutes from ``start`` to ``end``."""
    pairs = queryset.order_by().filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
    return minutes_summary(pairs.annotate(minutes=MinutesBetween(F(end), F(start))))


def minutes_summary(durations: QuerySet) -> DurationSummary:
    """Count, mean, median and 90th percentile of the ``minutes`` annotation of ``durations`` (any model:
    the reports' turnaround uses it too), in one query."""
    row = durations.aggregate(
        count=Count("*"),
        mean=Avg("minutes"),
        median=PercentileCont("minutes", 0.5),
        p90=PercentileCont("minutes", 0.9),
    )
    return DurationSummary(row["count"], row["mean"], row["median"], row["p90"])


def turnaround(queryset: QuerySet[Study]) -> Turnaround:
    return Turnaround(
        order_to_check_in=duration_summary(queryset, "order_datetime", "check_in_datetime"),
        check_in_to_report=duration_summary(queryset, "check_in_datetime", "report_certification_datetime"),
        order_to_report=duration_summary(queryset, "order_datetime", "report_certification_datetime"),
    )
