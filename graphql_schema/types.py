"""Output types that every domain's statistics share: counts per value and per period, durations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

import strawberry


class CountedValue(Protocol):
    value: str | None
    count: int


class SummarizedDuration(Protocol):
    count: int
    mean_minutes: float | None
    median_minutes: float | None
    p90_minutes: float | None


@strawberry.type(description="How many records have one value of a field (null counts as a value).")
class ValueCount:
    value: str | None
    count: int


@strawberry.type(description="How many records fall in one period.")
class PeriodCount:
    period: dt.date = strawberry.field(description="The first day of the period (weeks start on Monday).")
    count: int


@strawberry.type(description="Minutes between two times, over the records that have both.")
class DurationSummary:
    count: int
    mean_minutes: float | None
    median_minutes: float | None
    p90_minutes: float | None = strawberry.field(description="90th percentile (continuous).")


def value_counts(rows: Iterable[CountedValue]) -> list[ValueCount]:
    """A selector's counts (any object with ``value`` and ``count``) as the GraphQL type."""
    return [ValueCount(value=row.value, count=row.count) for row in rows]


def duration_summary(summary: SummarizedDuration) -> DurationSummary:
    """A selector's duration summary as the GraphQL type."""
    return DurationSummary(
        count=summary.count,
        mean_minutes=summary.mean_minutes,
        median_minutes=summary.median_minutes,
        p90_minutes=summary.p90_minutes,
    )
