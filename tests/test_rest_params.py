"""Query parameters of /studies/search and /studies/export, on the fixed data set, against the contract."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest

from rest_compat.params import LIST_FILTERS, SORTS
from tests.rest_support import FIXED_STUDIES, ids_of, load_fixed_studies

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/studies/search"
ALL_IDS = {row["exam_id"] for row in FIXED_STUDIES}


@pytest.fixture(autouse=True)
def fixed():
    return load_fixed_studies()


def search(client, query: str | list[tuple[str, str]] = "") -> list[str]:
    query = urlencode(query) if isinstance(query, list) else query
    response = client.get(f"{SEARCH}?{query}&page_size=100")
    assert response.status_code == 200, response.content
    return ids_of(response)


def matching(predicate) -> set[str]:
    return {row["exam_id"] for row in FIXED_STUDIES if predicate(row)}


@pytest.mark.parametrize("name", LIST_FILTERS)
def test_each_list_filter_repeated_and_in_bracket_form(client, name):
    values = sorted({row[name] for row in FIXED_STUDIES if row[name]})[:2]
    assert len(values) == 2
    expected = matching(lambda row: row[name] in values)
    assert set(search(client, [(name, values[0]), (name, values[1])])) == expected
    assert set(search(client, [(name + "[]", values[0]), (name + "[]", values[1])])) == expected
    assert set(search(client, [(name, values[0]), (name + "[]", values[1])])) == expected
    assert set(search(client, [(name + "[]", values[0])])) == matching(lambda row: row[name] == values[0])


@pytest.mark.parametrize(
    "query",
    [
        "exam_status=",
        "exam_source[]=&exam_source=",
        "q=",
        "q=%20%20%20",
        "patient_age_min=&patient_age_max=",
        "start_date=&end_date=",
        "sort=",
        "page=",
        "application_order_no=&medical_record_no=",
        "certified_physician=&exam_room[]=",
    ],
)
def test_empty_values_are_ignored(client, query):
    response = client.get(f"{SEARCH}?{query}")
    assert response.status_code == 200
    assert set(ids_of(response)) == ALL_IDS
    assert response.json()["page"] == 1


def test_an_empty_value_among_others_is_ignored(client):
    expected = matching(lambda r: r["exam_source"] == "急診")
    assert set(search(client, "exam_source=&exam_source=急診")) == expected


def test_a_repeated_single_valued_parameter_takes_the_last(client):
    response = client.get(f"{SEARCH}?page_size=1&page_size=2")
    assert response.json()["page_size"] == 2


def test_page_past_the_end_is_empty_with_the_real_total(client):
    response = client.get(f"{SEARCH}?page=4&page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == [] and body["total"] == 6 and body["page"] == 4 and body["page_size"] == 2
    response = client.get(f"{SEARCH}?page=3&page_size=2")
    assert len(response.json()["data"]) == 2
    huge = client.get(f"{SEARCH}?page=999999999999&page_size=100").json()
    assert huge["data"] == [] and huge["total"] == 6


def test_paging_walks_every_study_once(client):
    seen = []
    for page in range(1, 5):
        seen += ids_of(client.get(f"{SEARCH}?page={page}&page_size=2"))
    assert sorted(seen) == sorted(ALL_IDS) and len(seen) == len(ALL_IDS)


def test_a_date_only_end_date_covers_the_whole_day(client):
    # 20250000003 was ordered at 23:59:59 on the 6th, 20250000004 at midnight on the 7th.
    assert set(search(client, "end_date=2025-11-06")) == matching(
        lambda r: r["order_datetime"] < dt.datetime(2025, 11, 7)
    )
    assert "20250000003" in search(client, "end_date=2025-11-06")
    assert "20250000004" not in search(client, "end_date=2025-11-06")
    assert set(search(client, "start_date=2025-11-07&end_date=2025-11-07")) == {"20250000004"}


def test_datetime_bounds_are_inclusive_to_the_second(client):
    assert set(search(client, "start_date=2025-11-06T23:59:59&end_date=2025-11-07T00:00:00")) == {
        "20250000003",
        "20250000004",
    }
    assert set(search(client, "end_date=2025-11-06T23:59:58")) == matching(
        lambda r: r["order_datetime"] <= dt.datetime(2025, 11, 6, 23, 59, 58)
    )
    # A space instead of the T, and minutes only, are read as the frontend means them.
    assert set(search(client, "start_date=2025-11-06%2023:59")) == {"20250000003", "20250000004"}


def test_the_same_day_as_start_and_end(client):
    assert set(search(client, "start_date=2025-11-06&end_date=2025-11-06")) == {
        "20250000001",
        "20250000003",
        "20250000005",
    }


def test_age_bounds_are_inclusive(client):
    expected = matching(lambda r: r["patient_age"] is not None and 35 <= r["patient_age"] <= 67)
    assert set(search(client, "patient_age_min=35&patient_age_max=67")) == expected
    assert set(search(client, "patient_age_min=80")) == {"20250000004"}
    assert search(client, "patient_age_min=81") == []


def test_exact_number_filters(client):
    assert set(search(client, "medical_record_no=00123456")) == {"20250000001", "20250000005"}
    assert search(client, "medical_record_no=0012345") == []
    assert search(client, "application_order_no=20250000003") == ["20250000003"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("王小明", {"20250000001", "20250000005"}),
        ("王", {"20250000001", "20250000004", "20250000005"}),
        ("smith", {"20250000002"}),
        ("SMITH jo", {"20250000002"}),
        ("brain 王", {"20250000001", "20250000005"}),
        ("brain nothing", set()),
        ("00654321", {"20250000003"}),
        ("300727240", {"20250000005"}),
        ("us abdomen", {"20250000004"}),
        ("陳建志", set()),  # the physician is not searched
    ],
)
def test_free_text(client, text, expected):
    assert set(search(client, [("q", text)])) == expected


def test_a_q_of_200_characters_is_allowed(client):
    assert search(client, [("q", "x" * 200)]) == []


@pytest.mark.parametrize("name", SORTS)
def test_every_sort_with_exam_id_ties_and_nulls_last(client, name):
    field, _, direction = name.rpartition("_")
    descending = direction == "desc"
    present = sorted(
        (r for r in FIXED_STUDIES if r[field] is not None),
        key=lambda r: (r[field], r["exam_id"]),
        reverse=descending,
    )
    absent = sorted(
        (r for r in FIXED_STUDIES if r[field] is None), key=lambda r: r["exam_id"], reverse=descending
    )
    assert search(client, f"sort={name}") == [r["exam_id"] for r in present + absent]


def test_the_default_sort_is_newest_order_first(client):
    assert search(client) == search(client, "sort=order_datetime_desc")


ERRORS = [
    ("page=0", 400, "Invalid parameter: page must be > 0"),
    ("page=-1", 400, "Invalid parameter: page must be > 0"),
    ("page_size=0", 400, "Invalid parameter: page_size must be between 1 and 100"),
    ("page_size=101", 400, "Invalid parameter: page_size must be between 1 and 100"),
    ("page_size=-5", 400, "Invalid parameter: page_size must be between 1 and 100"),
    ("sort=newest", 400, "Invalid parameter: sort must be one of " + ", ".join(SORTS)),
    ("q=" + "y" * 201, 400, "Invalid parameter: q must be at most 200 characters"),
    (
        "start_date=2025-11-07&end_date=2025-11-06",
        400,
        "Invalid parameter: start_date must not be after end_date",
    ),
    (
        "start_date=2025-11-06T10:00:01&end_date=2025-11-06T10:00:00",
        400,
        "Invalid parameter: start_date must not be after end_date",
    ),
    ("q=a%00b", 400, "Invalid parameter: q must not contain NUL characters"),
    ("exam_status=a%00b", 400, "Invalid parameter: exam_status must not contain NUL characters"),
]


@pytest.mark.parametrize(("query", "status", "message"), ERRORS)
def test_parameter_errors(client, query, status, message):
    response = client.get(f"{SEARCH}?{query}")
    assert response.status_code == status
    assert response.json() == {"detail": message}


MALFORMED = [
    ("page", "one", "int_parsing"),
    ("page", "2.5", "int_parsing"),
    ("page_size", "1e2", "int_parsing"),
    ("patient_age_min", "x", "int_parsing"),
    ("patient_age_max", "3O", "int_parsing"),
    ("start_date", "yesterday", "datetime_parsing"),
    ("start_date", "2025-02-30", "datetime_parsing"),
    ("end_date", "2025/11/06", "datetime_parsing"),
    ("end_date", "2025-11-06T25:00:00", "datetime_parsing"),
    ("end_date", "2025-11-06T10:30:00+08:00", "datetime_parsing"),
]


@pytest.mark.parametrize(("name", "value", "error_type"), MALFORMED)
def test_malformed_numbers_and_dates_are_422(client, name, value, error_type):
    response = client.get(SEARCH, {name: value})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert list(error) == ["type", "loc", "msg", "input"]
    assert error["type"] == error_type
    assert error["loc"] == ["query", name]
    assert error["input"] == value
    assert isinstance(error["msg"], str) and error["msg"]


def test_malformed_export_parameters_are_422_too(client):
    response = client.get("/api/v1/studies/export", {"start_date": "soon"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "start_date"]


@pytest.mark.parametrize(("query", "status", "message"), ERRORS[5:])
def test_export_checks_the_filters_like_search(client, query, status, message):
    response = client.get(f"/api/v1/studies/export?{query}")
    assert response.status_code == 400
    assert response.json() == {"detail": message}


def test_export_ignores_paging_parameters(client):
    response = client.get("/api/v1/studies/export?page=0&page_size=1000")
    assert response.status_code == 200
    b"".join(response.streaming_content)


def test_routes_are_not_captured_by_the_detail_route(client):
    assert client.get("/api/v1/studies/search").json()["total"] == 6
    response = client.get("/api/v1/studies/export")
    b"".join(response.streaming_content)
    assert response["Content-Type"].startswith("text/csv")
    assert "equipment_types" in client.get("/api/v1/studies/filters/options").json()
    assert client.get("/api/v1/studies/filters").json() == {"detail": "Study not found"}
