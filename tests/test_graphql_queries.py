"""The GraphQL queries against independent computations in Python over the same generated rows."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.studies import selectors
from server.studies.columns import STUDY_FIELDS
from server.studies.models import SEARCHED_FIELDS
from tests.graphql_support import camel, gql, gql_errors, rows_fixture, wall_clock  # noqa: F401

pytestmark = pytest.mark.django_db

ALL_FIELDS = " ".join(camel(name) for name in STUDY_FIELDS)


def found(filters: dict, limit: int = 100) -> set[str]:
    """Every exam id that ``filters`` matches, through the paged API."""
    ids: set[str] = set()
    offset = 0
    while True:
        data = gql(
            "query($f: StudyFilter, $p: OffsetPaginationInput) {"
            " studies(filters: $f, pagination: $p) { totalCount results { examId } } }",
            {"f": filters, "p": {"offset": offset, "limit": limit}},
        )["studies"]
        ids |= {r["examId"] for r in data["results"]}
        offset += limit
        if offset >= data["totalCount"]:
            assert len(ids) == data["totalCount"]
            return ids


def where(rows: list[dict], predicate) -> set[str]:
    return {r["exam_id"] for r in rows if predicate(r)}


def test_a_study_has_the_contract_fields_with_wall_clock_times(rows):
    row = next(r for r in rows if r["report_certification_datetime"] and r["patient_birth_date"])
    study = gql(f'{{ study(examId: "{row["exam_id"]}") {{ {ALL_FIELDS} }} }}')["study"]
    assert list(study) == [camel(name) for name in STUDY_FIELDS]
    for name in STUDY_FIELDS:
        value = row[name]
        if isinstance(value, dt.datetime):
            assert study[camel(name)] == wall_clock(value)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", study[camel(name)])
        elif isinstance(value, dt.date):
            assert study[camel(name)] == value.isoformat()
        else:
            assert study[camel(name)] == value


def test_an_absent_study_is_null(rows):
    assert gql('{ study(examId: "no-such-exam") { examId } }') == {"study": None}


def test_free_text_search_is_the_contracts_q(rows):
    sample = rows[5]["patient_name"][1:]
    for text in ["ct brain", sample, "0000012", "no-such-thing", "  "]:
        terms = text.split()
        expected = where(
            rows,
            lambda r, terms=terms: all(
                any(t.lower() in (r[f] or "").lower() for f in SEARCHED_FIELDS) for t in terms
            ),
        )
        assert found({"search": text}) == expected, text


@pytest.mark.parametrize(
    ("filters", "predicate"),
    [
        ({"examStatus": {"exact": "終審報告"}}, lambda r: r["exam_status"] == "終審報告"),
        ({"equipmentType": {"inList": ["CT", "MR"]}}, lambda r: r["equipment_type"] in {"CT", "MR"}),
        (
            {"examDescription": {"iContains": "brain"}},
            lambda r: "brain" in (r["exam_description"] or "").lower(),
        ),
        ({"examItem": {"startsWith": "3001"}}, lambda r: r["exam_item"].startswith("3001")),
        ({"checkInDatetime": {"isNull": True}}, lambda r: r["check_in_datetime"] is None),
        ({"reportCertificationDatetime": {"isNull": False}}, lambda r: r["report_certification_datetime"]),
        (
            {"patientAge": {"gte": 30, "lte": 40}},
            lambda r: r["patient_age"] is not None and 30 <= r["patient_age"] <= 40,
        ),
        (
            {"patientAge": {"range": {"start": 60, "end": 65}}},
            lambda r: r["patient_age"] is not None and 60 <= r["patient_age"] <= 65,
        ),
        (
            {"patientBirthDate": {"lte": "1950-12-31"}},
            lambda r: (
                r["patient_birth_date"] is not None and r["patient_birth_date"] <= dt.date(1950, 12, 31)
            ),
        ),
        (
            {"orderDatetime": {"range": {"start": "2021-03-01T00:00:00", "end": "2021-03-31T23:59:59"}}},
            lambda r: dt.datetime(2021, 3, 1) <= r["order_datetime"] <= dt.datetime(2021, 3, 31, 23, 59, 59),
        ),
        (
            {"checkInDatetime": {"gte": "2024-06-01T08:00:00"}},
            lambda r: (
                r["check_in_datetime"] is not None and r["check_in_datetime"] >= dt.datetime(2024, 6, 1, 8)
            ),
        ),
        (
            {"reportCertificationDatetime": {"lte": "2019-01-01T00:00:00"}},
            lambda r: (
                r["report_certification_datetime"] is not None
                and r["report_certification_datetime"] <= dt.datetime(2019, 1, 1)
            ),
        ),
        (
            {"examSource": {"exact": "急診"}, "OR": {"equipmentType": {"exact": "MR"}}},
            lambda r: r["exam_source"] == "急診" or r["equipment_type"] == "MR",
        ),
        (
            {"equipmentType": {"exact": "CT"}, "AND": {"patientGender": {"exact": "F"}}},
            lambda r: r["equipment_type"] == "CT" and r["patient_gender"] == "F",
        ),
        (
            {"equipmentType": {"exact": "CT"}, "NOT": {"examSource": {"inList": ["門診", "急診"]}}},
            lambda r: r["equipment_type"] == "CT" and r["exam_source"] not in {"門診", "急診"},
        ),
        (
            {"search": "chest", "examRoom": {"isNull": False}, "patientAge": {"lte": 20}},
            lambda r: (
                any("chest" in (r[f] or "").lower() for f in SEARCHED_FIELDS)
                and r["exam_room"] is not None
                and r["patient_age"] is not None
                and r["patient_age"] <= 20
            ),
        ),
    ],
)
def test_lookups_match_an_independent_filter(rows, filters, predicate):
    expected = where(rows, predicate)
    assert expected, "the data set should exercise the filter"
    assert found(filters) == expected


def test_regex_and_distinct_are_not_exposed(rows):
    assert (
        "regex"
        in gql_errors('{ studies(filters: {patientName: {regex: ".*"}}) { totalCount } }')[0]["message"]
    )
    assert gql_errors("{ studies(filters: {DISTINCT: true}) { totalCount } }")


def test_bad_filter_values_are_client_errors(rows):
    for filters, message in [
        ('{orderDatetime: {gte: "2024-01-01"}}', "YYYY-MM-DDTHH:MM:SS"),
        ('{orderDatetime: {gte: "2024-01-01T00:00:00+08:00"}}', "without zone"),
        ('{orderDatetime: {gte: "2024-02-30T00:00:00"}}', "not a valid date"),
        ("{patientAge: {range: {start: 50, end: 40}}}", "start is after its end"),
        ('{search: "' + "x" * 201 + '"}', "at most 200"),
    ]:
        errors = gql_errors(f"{{ studies(filters: {filters}) {{ totalCount }} }}")
        assert message in errors[0]["message"]
        assert errors[0].get("extensions", {}).get("code") != "INTERNAL_SERVER_ERROR"


@pytest.mark.parametrize(
    ("ordering", "keys"),
    [
        (None, [("order_datetime", True)]),
        ([{"checkInDatetime": "ASC"}], [("check_in_datetime", False)]),
        ([{"checkInDatetime": "DESC"}], [("check_in_datetime", True)]),
        ([{"reportCertificationDatetime": "DESC"}], [("report_certification_datetime", True)]),
        ([{"patientName": "ASC"}], [("patient_name", False)]),
        ([{"patientAge": "DESC"}, {"patientName": "ASC"}], [("patient_age", True), ("patient_name", False)]),
        ([{"examId": "DESC"}], [("exam_id", True)]),
    ],
)
def test_ordering_is_total_with_nulls_last_and_pages_tile(rows, ordering, keys):
    expected = sorted(rows, key=lambda r: r["exam_id"], reverse=keys[0][1])
    for field, descending in reversed(keys):
        present = sorted(
            (r for r in expected if r[field] is not None), key=lambda r: r[field], reverse=descending
        )
        expected = present + [r for r in expected if r[field] is None]
    expected_ids = [r["exam_id"] for r in expected]

    seen: list[str] = []
    for offset in range(0, len(rows), 100):
        page = gql(
            "query($o: [StudyOrder!], $p: OffsetPaginationInput) {"
            " studies(ordering: $o, pagination: $p) { results { examId } } }",
            {"o": ordering, "p": {"offset": offset, "limit": 100}},
        )["studies"]["results"]
        seen += [r["examId"] for r in page]
    assert seen == expected_ids


def test_a_study_order_key_takes_exactly_one_field(rows):
    assert gql_errors("{ studies(ordering: [{patientName: ASC, examId: ASC}]) { totalCount } }")


def test_paging_defaults_and_bounds(rows):
    page = gql("{ studies { totalCount pageInfo { offset limit } results { examId } } }")["studies"]
    assert page["totalCount"] == len(rows)
    assert page["pageInfo"] == {"offset": 0, "limit": 20}
    assert len(page["results"]) == 20

    page = gql(
        "{ studies(pagination: {offset: 1190, limit: 100}) { pageInfo { limit } results { examId } } }"
    )
    assert page["studies"]["pageInfo"]["limit"] == 100 and len(page["studies"]["results"]) == len(rows) - 1190
    page = gql("{ studies(pagination: {offset: 5000}) { totalCount results { examId } } }")["studies"]
    assert page == {"totalCount": len(rows), "results": []}

    for pagination, message in [
        ("{limit: 101}", "limit must be between 1 and 100"),
        ("{limit: 0}", "limit must be between 1 and 100"),
        ("{offset: -1}", "offset must be 0 or more"),
    ]:
        errors = gql_errors(f"{{ studies(pagination: {pagination}) {{ results {{ examId }} }} }}")
        assert errors[0]["message"] == message


def test_filter_options_are_the_distinct_sorted_values_of_the_table(rows):
    options = gql(
        "{ studyFilterOptions {"
        " examStatuses examSources examItems equipmentTypes examRooms examEquipments } }"
    )["studyFilterOptions"]
    for key, field in [
        ("examStatuses", "exam_status"),
        ("examSources", "exam_source"),
        ("examItems", "exam_item"),
        ("equipmentTypes", "equipment_type"),
        ("examRooms", "exam_room"),
        ("examEquipments", "exam_equipment"),
    ]:
        assert options[key] == sorted({r[field] for r in rows if r[field]}), key


# A request runs a few queries whatever the page size: the page, the total, and the query layer's own
# (data-version checks of its caches, the stored search profile or, when none is stored, the scan that
# computes it). A 100-study page must not cost more than a 1-study page: no query per study.
MAX_QUERIES = 18


def captured_sql(query: str) -> list[str]:
    gql(query)  # warm the query layer's per-data-version caches first
    with CaptureQueriesContext(connection) as captured:
        gql(query)
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize(
    "filters",
    ['{search: "a"}', '{equipmentType: {exact: "CR"}}', "{}"],
)
def test_a_page_of_100_takes_as_many_queries_as_a_page_of_1(rows, filters):
    fields = f"totalCount pageInfo {{ limit }} results {{ {ALL_FIELDS} }}"
    one = captured_sql(f"{{ studies(filters: {filters}, pagination: {{limit: 1}}) {{ {fields} }} }}")
    hundred = captured_sql(f"{{ studies(filters: {filters}, pagination: {{limit: 100}}) {{ {fields} }} }}")
    assert len(hundred) == len(one) <= MAX_QUERIES, hundred


def test_a_page_selects_only_the_requested_columns(rows, django_assert_max_num_queries):
    query = (
        '{ studies(filters: {search: "a"}, ordering: [{patientName: ASC}], pagination: {limit: 100})'
        " { totalCount pageInfo { limit } results { examId patientName orderDatetime } } }"
    )
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        data = gql(query)
    assert len(data["studies"]["results"]) == 100
    pages = [q["sql"] for q in captured.captured_queries if "LIMIT 100" in q["sql"]]
    assert len(pages) == 1, pages
    columns = pages[0].split(" FROM ")[0]
    for wanted in ("exam_id", "patient_name", "order_datetime"):
        assert f'"medical_examinations_fact"."{wanted}"' in columns
    for unwanted in set(STUDY_FIELDS) - {"exam_id", "patient_name", "order_datetime"} | {"imported_at"}:
        assert f'"{unwanted}"' not in columns, unwanted


def test_the_filter_options_type_has_exactly_the_selectors_fields():
    """studyFilterOptions returns the selector's cached object as the GraphQL type: a field added to one
    and not the other would fail only at request time."""
    import dataclasses

    from server.studies.graphql.types import StudyFilterOptions

    graphql_fields = {field.python_name for field in StudyFilterOptions.__strawberry_definition__.fields}
    assert graphql_fields == {field.name for field in dataclasses.fields(selectors.FilterOptions)}
