"""Property-based tests (hypothesis) of the study query layer.

- Whatever the text, numbers and values, a search either answers or raises ``InvalidQuery``: never a database
  error, never anything else.
- What a search finds is exactly what the contract's semantics select, checked in Python, independently of
  the SQL, on a small generated data set: every whitespace-separated term occurs (ignoring ASCII case) in one
  of the searched fields; exact filters match any of their values; age and date bounds are inclusive.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.studies import selectors
from server.studies.demo_data import generate_studies
from server.studies.models import SEARCHED_FIELDS
from server.studies.selectors import InvalidQuery, StudyFilters
from server.studies.selectors.text_search import fold_case
from tests.conftest import studies_in_database

ROWS = 300
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def rows(django_db_setup, django_db_blocker) -> list[dict]:
    with studies_in_database(list(generate_studies(ROWS, seed=8)), django_db_blocker) as loaded:
        yield loaded


def _alphabet(rows: list[dict]) -> str:
    characters = set("%_\\'\" \t\n\x00\x01\u3000😀é\u0301\u202e")
    for row in rows[:60]:
        for name in SEARCHED_FIELDS:
            characters.update(row[name] or "")
    return "".join(sorted(characters))


def _matches(row: dict, filters: StudyFilters) -> bool:
    for term in (filters.search or "").split():
        folded = fold_case(term)
        if not any(folded in fold_case(row[name] or "") for name in SEARCHED_FIELDS):
            return False
    for attribute, field in (("exam_statuses", "exam_status"), ("exam_sources", "exam_source")):
        values = [value for value in getattr(filters, attribute) if value != ""]
        if values and row[field] not in values:
            return False
    age = row["patient_age"]
    if filters.patient_age_min is not None and (age is None or age < filters.patient_age_min):
        return False
    if filters.patient_age_max is not None and (age is None or age > filters.patient_age_max):
        return False
    if filters.order_datetime_from is not None and row["order_datetime"] < filters.order_datetime_from:
        return False
    return filters.order_datetime_to is None or row["order_datetime"] <= filters.order_datetime_to


def _found(filters: StudyFilters) -> set[str] | None:
    """The exam_ids the query layer finds, or None when it refused the filters (InvalidQuery)."""
    try:
        ids = set(selectors.filter_studies(filters).values_list("exam_id", flat=True))
        page = selectors.search_studies(filters, limit=selectors.MAX_PAGE_SIZE)
    except InvalidQuery:
        return None
    assert page.total == len(ids)
    return ids


@pytest.mark.django_db
def test_any_text_is_answered_or_refused_cleanly(rows):
    @PROPERTY_SETTINGS
    @given(
        text=st.text(max_size=250),
        value=st.text(max_size=30),
        age=st.one_of(st.none(), st.integers(min_value=-(10**20), max_value=10**20)),
        offset=st.integers(min_value=-5, max_value=10**12),
        limit=st.integers(min_value=-5, max_value=500),
    )
    def check(text, value, age, offset, limit):
        filters = StudyFilters(
            search=text,
            exam_statuses=(value,),
            medical_record_no=value,
            exam_ids=(value, text[:20]),
            patient_age_min=age,
        )
        try:
            selectors.search_studies(filters, offset=offset, limit=limit)
        except InvalidQuery as error:
            assert str(error)  # a message the client can be shown
        assert selectors.get_study(value) is None or value in {row["exam_id"] for row in rows}

    check()


@pytest.mark.django_db
def test_search_results_are_exactly_the_filter_semantics(rows):
    alphabet = _alphabet(rows)
    statuses = sorted({row["exam_status"] for row in rows})
    sources = sorted({row["exam_source"] for row in rows})
    fragments = st.sampled_from(rows).flatmap(
        lambda row: st.sampled_from([row[name] for name in SEARCHED_FIELDS if row[name]]).flatmap(
            lambda value: st.integers(0, max(0, len(value) - 1)).flatmap(
                lambda start: st.integers(1, 4).map(lambda size: value[start : start + size])
            )
        )
    )
    term = st.one_of(fragments, fragments.map(str.upper), st.text(alphabet=alphabet, min_size=1, max_size=4))
    days = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2027, 1, 1))

    @PROPERTY_SETTINGS
    @given(
        terms=st.lists(term, max_size=3),
        separator=st.sampled_from([" ", "  ", "\t", "\u3000"]),
        status=st.lists(st.sampled_from([*statuses, "", "no such status"]), max_size=2),
        source=st.lists(st.sampled_from([*sources, ""]), max_size=2),
        ages=st.tuples(st.one_of(st.none(), st.integers(0, 120)), st.one_of(st.none(), st.integers(0, 120))),
        dates=st.tuples(st.one_of(st.none(), days), st.one_of(st.none(), days)),
    )
    def check(terms, separator, status, source, ages, dates):
        start = dt.datetime.combine(dates[0], dt.time()) if dates[0] else None
        end = dt.datetime.combine(dates[1], dt.time.max) if dates[1] else None
        filters = StudyFilters(
            search=separator.join(terms) or None,
            exam_statuses=tuple(status),
            exam_sources=tuple(source),
            patient_age_min=ages[0],
            patient_age_max=ages[1],
            order_datetime_from=start,
            order_datetime_to=end,
        )
        found = _found(filters)
        if found is None:  # refused: only for what the layer documents as refused
            assert "\x00" in (filters.search or "") or (start and end and start > end)
            return
        assert found == {row["exam_id"] for row in rows if _matches(row, filters)}

    check()
