"""The study query layer against an independent computation in Python over the same generated rows."""

from __future__ import annotations

import datetime as dt
import math
import statistics as pystats
from collections import Counter

import pytest
from django.db.models import Q

from server.core.data_version import bump_data_version
from server.studies import selectors
from server.studies.columns import STUDY_FIELDS
from server.studies.demo_data import generate_studies
from server.studies.loose_index_scan import distinct_values_sql
from server.studies.models import SEARCHED_FIELDS, Study
from server.studies.selectors import Granularity, InvalidQuery, Sort, StudyFilters, TimelineField
from server.studies.selectors.options import distinct_values
from tests.conftest import studies_in_database

ROWS = 1500
# Rows whose text holds LIKE and SQL metacharacters, to prove they are matched literally.
SPECIAL = [
    ("90000000001", "100%_王", "Knee 50% view"),
    ("90000000002", "1000王", "Knee 500 view"),
    ("90000000003", r"a\b'c", "Case O'Neil"),
]


def _special_rows(template: tuple) -> list[tuple]:
    rows = []
    for exam_id, name, description in SPECIAL:
        row = dict(zip(STUDY_FIELDS, template, strict=True))
        row.update(
            exam_id=exam_id, application_order_no=exam_id, patient_name=name, exam_description=description
        )
        rows.append(tuple(row.values()))
    # A chart number that is not all digits: short non-digit terms must still be looked for in that field.
    row = dict(zip(STUDY_FIELDS, template, strict=True))
    row.update(exam_id="90000000004", medical_record_no="TW-鄧9", patient_name="Ng", exam_description="Other")
    rows.append(tuple(row.values()))
    return rows


@pytest.fixture(scope="module")
def rows(django_db_setup, django_db_blocker) -> list[dict]:
    generated = list(generate_studies(ROWS, seed=11))
    generated += _special_rows(generated[0])
    with studies_in_database(generated, django_db_blocker) as loaded:
        yield loaded


pytestmark = pytest.mark.django_db


def expected_search(rows: list[dict], text: str) -> set[str]:
    terms = text.split()
    return {
        r["exam_id"]
        for r in rows
        if all(any(t.lower() in (r[f] or "").lower() for f in SEARCHED_FIELDS) for t in terms)
    }


def ids(queryset) -> set[str]:
    return set(queryset.values_list("exam_id", flat=True))


@pytest.mark.parametrize(
    "text",
    [
        "王",
        "陳建",
        "ct",
        "CT Brain",
        "brain routine",
        "0000012",
        "3007H7H32",
        "%",
        "_",
        "50%",
        "\\",
        "'",
        "o'neil",
        "   ",
        "no-such-thing",
        "鄧",
        "w-",
        "12",
        "9",
        "ng",
        "江 ct",
        "H7",
    ],
)
def test_free_text_matches_an_independent_substring_search(rows, text):
    assert ids(selectors.filter_studies(StudyFilters(search=text))) == expected_search(rows, text)


def test_a_patients_name_fragment_finds_their_studies(rows):
    name = next(r["patient_name"] for r in rows if len(r["patient_name"]) == 3)
    found = ids(selectors.filter_studies(StudyFilters(search=name[1:])))
    assert {r["exam_id"] for r in rows if r["patient_name"] == name} <= found


def test_search_text_limits():
    with pytest.raises(InvalidQuery, match="at most 200"):
        selectors.filter_studies(StudyFilters(search="x" * 201))
    with pytest.raises(InvalidQuery, match="NUL"):
        selectors.filter_studies(StudyFilters(search="a\x00b"))


def test_filters_combine_as_the_contract_says(rows):
    start, end = dt.datetime(2020, 1, 1), dt.datetime(2020, 3, 31, 23, 59, 59)
    filters = StudyFilters(
        exam_sources=("門診", "急診", ""),
        equipment_types=("CT", "MR"),
        patient_age_min=30,
        patient_age_max=70,
        order_datetime_from=start,
        order_datetime_to=end,
    )
    expected = {
        r["exam_id"]
        for r in rows
        if r["exam_source"] in {"門診", "急診"}
        and r["equipment_type"] in {"CT", "MR"}
        and r["patient_age"] is not None
        and 30 <= r["patient_age"] <= 70
        and start <= r["order_datetime"] <= end
    }
    assert expected and ids(selectors.filter_studies(filters)) == expected


def test_exact_number_filters(rows):
    sample = rows[7]
    assert ids(selectors.filter_studies(StudyFilters(medical_record_no=sample["medical_record_no"]))) == {
        r["exam_id"] for r in rows if r["medical_record_no"] == sample["medical_record_no"]
    }
    assert ids(
        selectors.filter_studies(StudyFilters(application_order_no=sample["application_order_no"]))
    ) == {r["exam_id"] for r in rows if r["application_order_no"] == sample["application_order_no"]}


def test_an_inverted_date_range_is_refused():
    with pytest.raises(InvalidQuery):
        selectors.filter_studies(
            StudyFilters(
                order_datetime_from=dt.datetime(2021, 1, 2), order_datetime_to=dt.datetime(2021, 1, 1)
            )
        )


@pytest.mark.parametrize("field", ["order_datetime", "check_in_datetime", "patient_name", "patient_age"])
@pytest.mark.parametrize("descending", [False, True])
def test_ordering_is_total_with_nulls_last_and_exam_id_ties(rows, field, descending):
    ordered = list(
        selectors.order_studies(Study.objects.all(), [Sort(field, descending)]).values_list(
            "exam_id", flat=True
        )
    )
    present = sorted(
        (r for r in rows if r[field] is not None), key=lambda r: (r[field], r["exam_id"]), reverse=descending
    )
    missing = sorted((r for r in rows if r[field] is None), key=lambda r: r["exam_id"], reverse=descending)
    assert ordered == [r["exam_id"] for r in present + missing]


def test_pages_tile_the_result_without_overlap(rows):
    filters = StudyFilters(exam_sources=("急診",))
    total = sum(r["exam_source"] == "急診" for r in rows)
    seen = []
    for offset in range(0, total + 40, 40):
        page = selectors.search_studies(filters, [Sort("patient_name")], offset=offset, limit=40)
        assert page.total == total
        seen += [s.exam_id for s in page.results]
    assert len(seen) == len(set(seen)) == total


def test_page_bounds():
    with pytest.raises(InvalidQuery, match="between 1 and 100"):
        selectors.search_studies(limit=101)
    with pytest.raises(InvalidQuery):
        selectors.search_studies(limit=0)
    with pytest.raises(InvalidQuery):
        selectors.search_studies(offset=-1)
    with pytest.raises(InvalidQuery):
        Sort("patient_gender")


def test_get_study(rows):
    assert selectors.get_study(rows[3]["exam_id"]).patient_name == rows[3]["patient_name"]
    assert selectors.get_study("does-not-exist") is None


def test_filter_options_are_distinct_sorted_and_follow_the_data_version(rows):
    options = selectors.filter_options()
    for attribute, field in zip(
        ("exam_statuses", "exam_sources", "exam_items", "equipment_types", "exam_rooms", "exam_equipments"),
        selectors.OPTION_FIELDS,
        strict=True,
    ):
        assert getattr(options, attribute) == sorted({r[field] for r in rows if r[field]})
    Study.objects.filter(exam_status="已開單").update(exam_status="取消")
    assert "取消" not in selectors.filter_options().exam_statuses  # cached: no import happened
    bump_data_version()
    assert "取消" in selectors.filter_options().exam_statuses


def test_filter_options_read_indexes_never_the_whole_table(rows):
    """Each worker reads the options after every import: by each field's btree (a loose index scan), not by
    a scan of the table, which takes seconds at 10,000,000 studies. Without its index a field's loose scan
    would scan the table once per value, so with sequential scans disabled the plan must still have none."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        distinct_values("exam_room")
    (statement,) = [query["sql"] for query in captured.captured_queries]
    assert "WITH RECURSIVE" in statement and "DISTINCT" not in statement.upper()
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for field in selectors.OPTION_FIELDS:
            column = quote(Study._meta.get_field(field).column)
            cursor.execute("EXPLAIN " + distinct_values_sql(quote(Study._meta.db_table), column))
            plan = "\n".join(line for (line,) in cursor.fetchall())
            assert "Seq Scan" not in plan, (field, plan)
            assert "Index Only Scan" in plan, (field, plan)


@pytest.mark.parametrize("field", ["exam_status", "exam_source", "equipment_type", "exam_room", "exam_item"])
def test_count_by_matches_a_python_count(rows, field):
    counted = Counter(r[field] for r in rows)
    result = selectors.count_by(Study.objects.all(), field)
    assert {(c.value, c.count) for c in result} == set(counted.items())
    assert [c.count for c in result] == sorted(counted.values(), reverse=True)
    assert len(selectors.count_by(Study.objects.all(), field, limit=2)) == min(2, len(counted))


def _period_start(value: dt.datetime, granularity: Granularity) -> dt.date:
    day = value.date()
    if granularity is Granularity.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    if granularity is Granularity.YEAR:
        return day.replace(month=1, day=1)
    return day


@pytest.mark.parametrize("granularity", list(Granularity))
@pytest.mark.parametrize("field", list(TimelineField))
def test_timeline_matches_a_python_count_with_empty_periods(rows, granularity, field):
    counted = Counter(_period_start(r[field.value], granularity) for r in rows if r[field.value] is not None)
    result = selectors.timeline(Study.objects.all(), granularity, field)
    assert {p.period: p.count for p in result if p.count} == dict(counted)
    assert result[0].period == min(counted) and result[-1].period == max(counted)
    assert sum(p.count for p in result) == sum(counted.values())
    if granularity is Granularity.DAY:
        assert len(result) == (max(counted) - min(counted)).days + 1


def _percentile(values: list[float], fraction: float) -> float:
    values = sorted(values)
    position = fraction * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def test_turnaround_matches_a_python_computation(rows):
    subset = [r for r in rows if r["exam_source"] == "急診"]
    result = selectors.turnaround(Study.objects.filter(exam_source="急診"))
    for summary, start, end in (
        (result.order_to_check_in, "order_datetime", "check_in_datetime"),
        (result.check_in_to_report, "check_in_datetime", "report_certification_datetime"),
        (result.order_to_report, "order_datetime", "report_certification_datetime"),
    ):
        minutes = [(r[end] - r[start]).total_seconds() / 60 for r in subset if r[start] and r[end]]
        assert summary.count == len(minutes)
        assert summary.mean_minutes == pytest.approx(pystats.fmean(minutes))
        assert summary.median_minutes == pytest.approx(pystats.median(minutes))
        assert summary.p90_minutes == pytest.approx(_percentile(minutes, 0.9))


def test_turnaround_of_nothing_is_empty():
    summary = selectors.turnaround(Study.objects.none()).order_to_report
    assert (summary.count, summary.mean_minutes, summary.median_minutes) == (0, None, None)


def test_export_rows_stream_every_match_in_order(rows):
    streamed = list(selectors.iter_study_rows(StudyFilters(exam_sources=("健檢",))))
    expected = sorted(
        (r for r in rows if r["exam_source"] == "健檢"),
        key=lambda r: (r["order_datetime"], r["exam_id"]),
        reverse=True,
    )
    assert [row[0] for row in streamed] == [r["exam_id"] for r in expected]
    assert streamed[0] == tuple(expected[0].values())


def test_export_rows_can_carry_times_as_the_contracts_text(rows):
    filters = StudyFilters(exam_sources=("住院",))
    as_text = list(selectors.iter_study_rows(filters, times_as_text=True))
    as_dates = list(selectors.iter_study_rows(filters))

    def contract(value):
        if isinstance(value, dt.datetime):
            return f"{value:%Y-%m-%dT%H:%M:%S}"
        return value.isoformat() if isinstance(value, dt.date) else value

    assert as_text == [tuple(contract(value) for value in row) for row in as_dates]
    assert any(row[STUDY_FIELDS.index("check_in_datetime")] is None for row in as_text)  # nulls stay null


def test_studies_where_applies_a_condition_compiled_elsewhere(rows):
    condition = Q(equipment_type="CT") | Q(patient_age__lt=10)
    assert ids(selectors.studies_where(condition)) == {
        r["exam_id"]
        for r in rows
        if r["equipment_type"] == "CT" or (r["patient_age"] is not None and r["patient_age"] < 10)
    }
    assert selectors.studies_where(Q()).count() == len(rows)


def test_totals_are_cached_until_the_data_version_changes(rows):
    filters = StudyFilters(exam_sources=("健檢",))
    before = selectors.search_studies(filters).total
    Study.objects.filter(pk=Study.objects.filter(exam_source="健檢").values("pk")[:1]).delete()
    assert selectors.search_studies(filters).total == before  # no import happened: the cached total stands
    bump_data_version()
    assert selectors.search_studies(filters).total == before - 1
