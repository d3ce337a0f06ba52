"""The shortcuts the query layer takes for speed give exactly the answers of the plain substring search.

Free text is pruned by facts about the table (a term longer than a field's longest value, digits where no
name has one, a whole-length number as ``=``), and a page of few matches is read by sorting the matches
instead of walking the sort's index. Each is checked here against an independent Python computation, on
generated rows whose names hold no digits (so the name pruning applies) and whose numbers all have one length.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.studies import selectors
from server.studies.demo_data import generate_studies
from server.studies.models import SEARCHED_FIELDS
from server.studies.selectors import Sort, StudyFilters
from server.studies.selectors import search as search_module
from server.studies.selectors.text_search import search_profile
from tests.conftest import studies_in_database

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def rows(django_db_setup, django_db_blocker) -> list[dict]:
    with studies_in_database(list(generate_studies(900, seed=23)), django_db_blocker) as loaded:
        yield loaded


def expected(rows: list[dict], text: str) -> list[str]:
    """Matching exam_ids, newest order time first (the default sort)."""
    terms = text.split()
    found = [
        r for r in rows if all(any(t.lower() in (r[f] or "").lower() for f in SEARCHED_FIELDS) for t in terms)
    ]
    found.sort(key=lambda r: (r["order_datetime"], r["exam_id"]), reverse=True)
    return [r["exam_id"] for r in found]


def searched(text: str) -> tuple[int, list[str]]:
    """The total and the first page of 100."""
    page = selectors.search_studies(StudyFilters(search=text), limit=100)
    return page.total, [study.exam_id for study in page.results]


def expected_page(rows: list[dict], text: str) -> tuple[int, list[str]]:
    found = expected(rows, text)
    return len(found), found[:100]


def test_the_fixture_has_what_the_pruning_relies_on(rows):
    profile = search_profile()
    assert not profile.names_have_digits
    assert profile.longest["exam_id"] == 11 == max(len(r["exam_id"]) for r in rows)


def test_a_whole_exam_id_is_found_by_equality_and_still_in_the_order_numbers(rows):
    row = rows[17]
    with CaptureQueriesContext(connection) as queries:
        assert searched(row["exam_id"]) == expected_page(rows, row["exam_id"])
    page_sql = next(
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "medical_examinations_fact"') and "LIMIT" in q["sql"]
    )
    assert f"\"exam_id\" = '{row['exam_id']}'" in page_sql  # not a substring scan
    assert "regexp_replace" not in page_sql  # names hold no digits: not searched


@pytest.mark.parametrize("field", ["medical_record_no", "application_order_no"])
def test_a_whole_number_of_each_kind_matches_the_substring_search(rows, field):
    value = rows[5][field]
    assert searched(value) == expected_page(rows, value)


@pytest.mark.parametrize("text", ["1" * 40, "王" * 30, "12345678901 王", "0", "20", "CT 1", "9" * 12])
def test_terms_too_long_or_short_for_a_field_match_exactly_what_a_scan_would(rows, text):
    assert searched(text) == expected_page(rows, text)


def test_a_term_that_can_occur_nowhere_matches_nothing_not_everything(rows):
    assert selectors.search_studies(StudyFilters(search="9" * 60)).total == 0


@pytest.mark.parametrize(
    "filters",
    [
        StudyFilters(search="王"),
        StudyFilters(search="CT"),
        StudyFilters(exam_sources=("急診",)),
        StudyFilters(),
    ],
    ids=["name", "latin", "source", "none"],
)
@pytest.mark.parametrize("offset", [0, 37])
def test_a_page_is_the_same_whether_cut_from_sorted_matches_or_along_the_index(
    rows, filters, offset, monkeypatch
):
    sorts = [Sort("patient_name", descending=True)]
    monkeypatch.setattr(search_module, "SORT_MATCHES_BELOW", 0)  # always along the index
    along_index = selectors.search_studies(filters, sorts, offset=offset, limit=25)
    monkeypatch.setattr(search_module, "SORT_MATCHES_BELOW", 10**9)  # always sorting the matches
    with CaptureQueriesContext(connection) as queries:
        sorted_matches = selectors.search_studies(filters, sorts, offset=offset, limit=25)
    assert [s.exam_id for s in sorted_matches.results] == [s.exam_id for s in along_index.results]
    assert along_index.total == sorted_matches.total and len(along_index.results) == min(
        25, max(0, along_index.total - offset)
    )
    if offset < along_index.total:
        page_sql = next(
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith('SELECT "medical_examinations_fact"') and "LIMIT" in q["sql"]
        )
        assert 'ORDER BY ("medical_examinations_fact"."patient_name" || \'\') DESC' in page_sql
