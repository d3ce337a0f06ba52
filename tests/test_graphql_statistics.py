"""``studyStatistics`` against an independent computation in Python over the same generated rows."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pytest

from server.studies.models import SEARCHED_FIELDS
from tests.graphql_support import gql, gql_errors, rows_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

FILTER_CASES = [
    (None, lambda r: True),
    ({"equipmentType": {"inList": ["CT", "MR"]}}, lambda r: r["equipment_type"] in {"CT", "MR"}),
    (
        {"search": "chest", "NOT": {"examSource": {"exact": "急診"}}},
        lambda r: any("chest" in (r[f] or "").lower() for f in SEARCHED_FIELDS)
        and r["exam_source"] != "急診",
    ),
]


def ranked(values: list) -> list[dict]:
    """Counts, most frequent first, ties in code-point order with null last (the API's documented order)."""
    counts = Counter(values)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
    return [{"value": value, "count": count} for value, count in ordered]


def period_start(value: dt.datetime, granularity: str) -> dt.date:
    day = value.date()
    if granularity == "DAY":
        return day
    if granularity == "WEEK":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "MONTH":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def following(day: dt.date, granularity: str) -> dt.date:
    if granularity == "DAY":
        return day + dt.timedelta(days=1)
    if granularity == "WEEK":
        return day + dt.timedelta(days=7)
    if granularity == "MONTH":
        return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return day.replace(year=day.year + 1)


def expected_timeline(selected: list[dict], granularity: str, field: str) -> list[dict]:
    counts = Counter(period_start(r[field], granularity) for r in selected if r[field] is not None)
    if not counts:
        return []
    result, day = [], min(counts)
    while day <= max(counts):
        result.append({"period": day.isoformat(), "count": counts.get(day, 0)})
        day = following(day, granularity)
    return result


def percentile(values: list[float], fraction: float) -> float | None:
    """PERCENTILE_CONT: linear interpolation between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def expected_duration(selected: list[dict], start: str, end: str) -> dict:
    minutes = [
        (r[end] - r[start]).total_seconds() / 60
        for r in selected
        if r[start] is not None and r[end] is not None
    ]
    return {
        "count": len(minutes),
        "meanMinutes": sum(minutes) / len(minutes) if minutes else None,
        "medianMinutes": percentile(minutes, 0.5),
        "p90Minutes": percentile(minutes, 0.9),
    }


def assert_close(actual: dict, expected: dict) -> None:
    assert actual["count"] == expected["count"]
    for key in ("meanMinutes", "medianMinutes", "p90Minutes"):
        if expected[key] is None:
            assert actual[key] is None
        else:
            assert actual[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-6), key


@pytest.mark.parametrize(("filters", "predicate"), FILTER_CASES)
def test_counts_by_value(rows, filters, predicate):
    selected = [r for r in rows if predicate(r)]
    assert selected
    data = gql(
        "query($f: StudyFilter) { studyStatistics(filters: $f) { total"
        " byStatus { value count } bySource { value count } byEquipmentType { value count }"
        " byExamRoom { value count } byExamItem(limit: 7) { value count }"
        " top: byExamItem { value count } } }",
        {"f": filters},
    )["studyStatistics"]
    assert data["total"] == len(selected)
    assert data["byStatus"] == ranked([r["exam_status"] for r in selected])
    assert data["bySource"] == ranked([r["exam_source"] for r in selected])
    assert data["byEquipmentType"] == ranked([r["equipment_type"] for r in selected])
    assert data["byExamRoom"] == ranked([r["exam_room"] for r in selected])
    assert data["byExamItem"] == ranked([r["exam_item"] for r in selected])[:7]
    assert data["top"] == ranked([r["exam_item"] for r in selected])[:20]


@pytest.mark.parametrize("granularity", ["DAY", "WEEK", "MONTH", "YEAR"])
@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("ORDER", "order_datetime"),
        ("CHECK_IN", "check_in_datetime"),
        ("REPORT", "report_certification_datetime"),
    ],
)
def test_timeline_has_every_period_from_first_to_last(rows, granularity, field, column):
    filters, predicate = FILTER_CASES[1]
    selected = [r for r in rows if predicate(r)]
    data = gql(
        f"query($f: StudyFilter) {{ studyStatistics(filters: $f) {{"
        f" timeline(granularity: {granularity}, field: {field}) {{ period count }} }} }}",
        {"f": filters},
    )["studyStatistics"]["timeline"]
    expected = expected_timeline(selected, granularity, column)
    assert data == expected
    assert any(p["count"] == 0 for p in data) or granularity in {"MONTH", "YEAR"}


def test_timeline_defaults_to_months_of_the_order_time(rows):
    data = gql("{ studyStatistics { timeline { period count } } }")["studyStatistics"]["timeline"]
    assert data == expected_timeline(rows, "MONTH", "order_datetime")


@pytest.mark.parametrize(("filters", "predicate"), FILTER_CASES)
def test_turnaround(rows, filters, predicate):
    selected = [r for r in rows if predicate(r)]
    fields = "{ count meanMinutes medianMinutes p90Minutes }"
    data = gql(
        "query($f: StudyFilter) { studyStatistics(filters: $f) { turnaround {"
        f" orderToCheckIn {fields} checkInToReport {fields} orderToReport {fields} }} }} }}",
        {"f": filters},
    )["studyStatistics"]["turnaround"]
    assert_close(data["orderToCheckIn"], expected_duration(selected, "order_datetime", "check_in_datetime"))
    assert_close(
        data["checkInToReport"],
        expected_duration(selected, "check_in_datetime", "report_certification_datetime"),
    )
    assert_close(
        data["orderToReport"], expected_duration(selected, "order_datetime", "report_certification_datetime")
    )


def test_statistics_of_nothing(rows):
    data = gql(
        '{ studyStatistics(filters: {examId: {exact: "none"}}) { total byStatus { count }'
        " timeline { period } turnaround { orderToReport { count meanMinutes medianMinutes p90Minutes } } } }"
    )["studyStatistics"]
    assert data == {
        "total": 0,
        "byStatus": [],
        "timeline": [],
        "turnaround": {
            "orderToReport": {"count": 0, "meanMinutes": None, "medianMinutes": None, "p90Minutes": None}
        },
    }


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_exam_item_limit_bounds(rows, limit):
    errors = gql_errors(f"{{ studyStatistics {{ byExamItem(limit: {limit}) {{ value }} }} }}")
    assert errors[0]["message"] == "limit must be between 1 and 1000"
