"""REST search and GraphQL ``studies`` give the same answer: same exam_ids, same order, same total.

Both call the same query layer; this checks that neither API's parameter handling bends it. Each case is
written once, as the REST query, and translated to GraphQL by ``to_graphql``, which follows the contract
(a date-only end_date covers the day; every sort breaks ties by exam_id, which GraphQL does by itself).
"""

from __future__ import annotations

import pytest
from django.test import Client

from rest_compat.params import LIST_FILTERS, SORTS
from tests.graphql_support import camel, gql, rows_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

CASES: list[dict] = [
    {},
    {"page": 2},
    {"page": 3, "page_size": 7},
    {"page_size": 100, "page": 12},  # the last full page
    {"page_size": 100, "page": 13},  # past the end: empty page, real total
    {"q": "陳"},
    {"q": "brain ct"},
    {"q": "CHEST", "sort": "patient_name_asc"},
    {"q": "3007"},
    {"q": "王 sono", "page_size": 50},
    {"exam_source": ["門診"]},
    {"exam_source": ["急診", "住院"], "sort": "order_datetime_asc"},
    {"equipment_type": ["CT", "MR"], "sort": "check_in_datetime_desc", "page": 2},
    {"equipment_type": ["US"], "sort": "check_in_datetime_asc", "page_size": 100},
    {"exam_status": ["已排程", "已開單"], "sort": "check_in_datetime_asc"},  # no check-in: nulls last
    {"exam_status": ["終審報告"], "patient_gender": ["F"], "sort": "patient_name_desc", "page": 5},
    {"patient_gender": ["U"]},
    {"exam_room": ["CT750", "CT64"], "exam_equipment": ["GE Revolution CT"]},
    {"certified_physician": ["陳建志", "林美惠"]},
    {"exam_item": ["300727239", "300101001"], "sort": "order_datetime_asc", "page": 2, "page_size": 5},
    {"patient_age_min": 65},
    {"patient_age_min": 20, "patient_age_max": 40, "sort": "patient_name_asc", "page": 3},
    {"patient_age_max": 12, "sort": "check_in_datetime_desc"},
    {"start_date": "2024-01-01", "end_date": "2024-12-31"},
    {"start_date": "2023-06-15T08:00:00", "end_date": "2023-09-30T17:30:00", "sort": "order_datetime_asc"},
    {"end_date": "2019-03-01", "sort": "patient_name_desc"},
    {"start_date": "2025-06-01", "exam_source": ["門診"], "equipment_type": ["CR", "DX"], "q": "chest"},
    {"q": "no-such-patient-anywhere"},
]


def to_graphql(params: dict) -> dict:
    """The GraphQL variables that ask what the REST query ``params`` asks."""
    filters: dict = {}
    if "q" in params:
        filters["search"] = params["q"]
    for name in LIST_FILTERS:
        if name in params:
            filters[camel(name)] = {"inList": params[name]}
    age = {}
    if "patient_age_min" in params:
        age["gte"] = params["patient_age_min"]
    if "patient_age_max" in params:
        age["lte"] = params["patient_age_max"]
    if age:
        filters["patientAge"] = age
    order_time = {}
    if "start_date" in params:
        start = params["start_date"]
        order_time["gte"] = start if "T" in start else f"{start}T00:00:00"
    if "end_date" in params:
        end = params["end_date"]
        order_time["lte"] = end if "T" in end else f"{end}T23:59:59"  # the data has whole seconds
    if order_time:
        filters["orderDatetime"] = order_time
    field, _, direction = params.get("sort", "order_datetime_desc").rpartition("_")
    page, page_size = params.get("page", 1), params.get("page_size", 20)
    return {
        "f": filters,
        "o": [{camel(field): direction.upper()}],
        "p": {"offset": (page - 1) * page_size, "limit": page_size},
    }


QUERY = """query($f: StudyFilter, $o: [StudyOrder!], $p: OffsetPaginationInput) {
  studies(filters: $f, ordering: $o, pagination: $p) { totalCount results { examId } }
}"""


def test_the_cases_cover_every_sort_and_list_filter():
    assert len(CASES) >= 20
    assert {case.get("sort", "order_datetime_desc") for case in CASES} == set(SORTS)
    assert {name for case in CASES for name in case if name in LIST_FILTERS} == set(LIST_FILTERS)


@pytest.mark.parametrize("params", CASES, ids=[str(i) for i in range(len(CASES))])
def test_rest_search_and_graphql_studies_agree(rows, params, settings):
    settings.ALLOW_ANONYMOUS_READ = True  # for when access control guards both APIs: this is about results
    response = Client().get("/api/v1/studies/search", params)
    assert response.status_code == 200, response.content
    rest = response.json()
    graphql = gql(QUERY, to_graphql(params))["studies"]
    assert rest["total"] == graphql["totalCount"]
    assert [study["exam_id"] for study in rest["data"]] == [study["examId"] for study in graphql["results"]]
    if params.get("page", 1) == 1 and rest["total"]:
        assert rest["data"], "a first page of a non-empty result has studies"
