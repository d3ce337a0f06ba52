"""The exact bytes of every endpoint and every error case of the contract, on the fixed data set (syrupy).

Each snapshot holds the status line, the Content-Type and the body as sent, so a change of key order, of
separators, of a null or of a message shows up in review.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import OperationalError
from django.test import override_settings

from rest_compat.schemas import FilterOptionsOut, SearchOut, StudyOut
from server.studies.columns import STUDY_FIELDS
from tests.rest_support import lenient_client, load_fixed_studies

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/studies/search"


@pytest.fixture
def fixed():
    return load_fixed_studies()


def as_sent(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return f"{response.status_code} {response['Content-Type']}\n{body.decode('utf-8')}"


CASES = {
    # endpoints
    "search_default": SEARCH,
    "search_page_2_of_size_2": SEARCH + "?page=2&page_size=2",
    "search_past_the_end": SEARCH + "?page=99&page_size=5",
    "search_text_and_lists": SEARCH + "?q=王&exam_source[]=門診&exam_source=急診&sort=patient_name_asc",
    "search_check_in_asc_nulls_last": SEARCH + "?sort=check_in_datetime_asc",
    "search_date_only_end_date": (
        SEARCH + "?start_date=2025-11-06&end_date=2025-11-06&sort=order_datetime_asc"
    ),
    "detail": "/api/v1/studies/20250000001",
    "detail_with_nulls": "/api/v1/studies/20250000002",
    "filter_options": "/api/v1/studies/filters/options",
    "health": "/api/v1/health",
    # errors
    "detail_not_found": "/api/v1/studies/99999999999",
    "page_zero": SEARCH + "?page=0",
    "page_negative": SEARCH + "?page=-3",
    "page_size_zero": SEARCH + "?page_size=0",
    "page_size_101": SEARCH + "?page_size=101",
    "unknown_sort": SEARCH + "?sort=exam_id_desc",
    "q_too_long": SEARCH + "?q=" + "x" * 201,
    "start_after_end": SEARCH + "?start_date=2025-11-07&end_date=2025-11-06",
    "page_not_an_integer": SEARCH + "?page=abc",
    "page_size_decimal": SEARCH + "?page_size=1.5",
    "age_not_an_integer": SEARCH + "?patient_age_min=young",
    "unparseable_date": SEARCH + "?start_date=2025-13-45",
    "date_with_time_zone": SEARCH + "?end_date=2025-11-06T10:30:00Z",
    "several_malformed": SEARCH + "?page=x&patient_age_max=y&end_date=z",
    "export_unknown_format": "/api/v1/studies/export?format=pdf",
    "unknown_path": "/api/v1/no/such/thing",
    "unknown_path_under_studies": "/api/v1/studies/1/extra",
}


@pytest.mark.parametrize("url", CASES.values(), ids=CASES.keys())
def test_response_bytes(client, fixed, snapshot, url):
    assert as_sent(client.get(url)) == snapshot


def test_method_not_allowed(client, fixed, snapshot):
    response = client.post(SEARCH)
    assert response["Allow"] == "GET"
    assert as_sent(response) == snapshot


@override_settings(EXPORT_XLSX_MAX_ROWS=3)
def test_xlsx_export_over_the_limit(client, fixed, snapshot):
    assert as_sent(client.get("/api/v1/studies/export?format=xlsx")) == snapshot


@override_settings(EXPORT_CSV_MAX_ROWS=5)
def test_csv_export_over_the_limit(client, fixed, snapshot):
    assert as_sent(client.get("/api/v1/studies/export")) == snapshot


def test_csv_export(client, fixed, snapshot, monkeypatch):
    monkeypatch.setattr("rest_compat.export.timezone.now", lambda: dt.datetime(2025, 11, 8, 7, 5, 9))
    response = client.get("/api/v1/studies/export?sort=order_datetime_asc")
    assert response["Content-Disposition"] == 'attachment; filename="studies_export_20251108_070509.csv"'
    assert as_sent(response) == snapshot


def test_health_when_the_database_does_not_answer(client, snapshot, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 10.0.0.5 failed: password authentication failed")

    monkeypatch.setattr("rest_compat.api.connection.cursor", refuse)
    response = client.get("/api/v1/health")
    assert "10.0.0.5" not in response.content.decode()
    assert as_sent(response) == snapshot


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_a_bare_json_500(settings, snapshot, monkeypatch, debug):
    settings.DEBUG = debug

    def explode(*args, **kwargs):
        raise RuntimeError('SELECT * FROM medical_examinations_fact WHERE patient_name = "王小明"')

    monkeypatch.setattr("rest_compat.api.selectors.search_studies", explode)
    response = lenient_client().get(SEARCH)
    body = response.content.decode()
    assert "SELECT" not in body and "Traceback" not in body and "王小明" not in body
    assert as_sent(response) == snapshot


@pytest.mark.parametrize("debug", [False, True])
def test_errors_outside_the_views_are_json_too(settings, monkeypatch, debug):
    """An unknown path (Django's HTML 404, a technical page with DEBUG) and a failure in a middleware."""
    settings.DEBUG = debug
    client = lenient_client()
    response = client.get("/api/v1/nothing/here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.content == b'{"detail":"Not Found"}'

    def broken(*args, **kwargs):
        raise RuntimeError("secret")

    monkeypatch.setattr("django.middleware.common.CommonMiddleware.process_request", broken)
    response = client.get("/api/v1/studies/20250000001")
    assert response.status_code == 500
    assert response.content == b'{"detail":"Internal Server Error"}'


def test_the_openapi_schemas_list_the_keys_the_views_write(client, fixed):
    """The documented shapes and the written JSON agree, key for key and in order."""
    assert list(StudyOut.model_fields) == list(STUDY_FIELDS)
    body = json.loads(client.get(SEARCH).content)
    assert list(body) == list(SearchOut.model_fields)
    assert list(body["filters"]) == list(SearchOut.model_fields["filters"].annotation.model_fields)
    options = json.loads(client.get("/api/v1/studies/filters/options").content)
    assert list(options) == list(FilterOptionsOut.model_fields)


def test_a_database_outage_is_a_503_not_a_500(snapshot, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "10.0.0.5", port 5432 failed: Connection refused')

    monkeypatch.setattr("rest_compat.api.selectors.search_studies", refuse)
    response = lenient_client().get(SEARCH)
    assert "10.0.0.5" not in response.content.decode()
    assert as_sent(response) == snapshot
