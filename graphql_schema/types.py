"""Output types that every domain's statistics share: counts per value and per period, durations."""

from __future__ import annotations

import datetime as dt

import strawberry


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
