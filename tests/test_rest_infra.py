"""Around the REST endpoints: CORS, the offline docs page, the OpenAPI document, the options cache, config."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from server.core.data_version import bump_data_version
from server.studies.models import Study
from tests.conftest import study_values
from tests.rest_support import load_fixed_studies
from tests.test_configuration import manage

pytestmark = pytest.mark.django_db

FRONTEND = "https://radiology.hospital.example"


@pytest.fixture
def fixed():
    return load_fixed_studies()


@override_settings(CORS_ALLOWED_ORIGINS=[FRONTEND])
def test_cors_for_an_allowed_origin(client, fixed):
    response = client.get("/api/v1/studies/search", headers={"Origin": FRONTEND})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert response["Access-Control-Expose-Headers"] == "Content-Disposition"
    # Errors carry the headers too, or the browser would hide them from the frontend.
    response = client.get("/api/v1/studies/search?page=0", headers={"Origin": FRONTEND})
    assert response.status_code == 400 and response["Access-Control-Allow-Origin"] == FRONTEND


@override_settings(CORS_ALLOWED_ORIGINS=[FRONTEND])
def test_cors_preflight(client):
    response = client.options(
        "/api/v1/studies/export",
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "authorization" in response["Access-Control-Allow-Headers"]


@override_settings(CORS_ALLOWED_ORIGINS=[FRONTEND])
def test_no_cors_for_other_origins(client, fixed):
    response = client.get("/api/v1/studies/search", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[FRONTEND])
def test_the_export_exposes_its_file_name_cross_origin(client, fixed):
    response = client.get("/api/v1/studies/export", headers={"Origin": FRONTEND})
    b"".join(response.streaming_content)
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert response["Access-Control-Expose-Headers"] == "Content-Disposition"


def test_the_docs_page_loads_nothing_from_outside_the_server(client):
    """With DEBUG off (these tests' settings) and nothing collected, every asset the page names is a static
    file served by the application itself."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert len(references) == 5, references
    assert "cdn" not in html.lower() and "http://" not in html and "https://" not in html
    assert '"validatorUrl": null' in html  # Swagger UI's default badge is an image from validator.swagger.io
    for reference in references:
        assert reference.startswith("/static/ninja/"), reference
        asset = client.get(reference)
        assert asset.status_code == 200, reference
        assert asset["Content-Type"].split("/")[0] in {"text", "image"}, reference
    assert client.get("/static/ninja/..%2F__init__.py").status_code == 404
    assert client.get("/static/ninja/../__init__.py").status_code == 404


def test_the_openapi_document_describes_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) >= {
        "/api/v1/studies/search",
        "/api/v1/studies/{exam_id}",
        "/api/v1/studies/filters/options",
        "/api/v1/studies/export",
        "/api/v1/health",
    }
    search = {
        parameter["name"] for parameter in document["paths"]["/api/v1/studies/search"]["get"]["parameters"]
    }
    assert search >= {"q", "exam_source", "start_date", "end_date", "sort", "page", "page_size"}
    export = {
        parameter["name"] for parameter in document["paths"]["/api/v1/studies/export"]["get"]["parameters"]
    }
    assert export >= {"format", "exam_ids", "q", "sort"} and "page" not in export


def test_filter_options_are_cached_until_the_data_version_changes(
    client, fixed, django_assert_num_queries
):
    before = client.get("/api/v1/studies/filters/options").json()
    assert "新狀態" not in before["exam_statuses"]
    # One statement: the caller's token, with the data version read along; not six DISTINCT scans.
    with django_assert_num_queries(1):
        assert client.get("/api/v1/studies/filters/options").json() == before
    Study.objects.create(**study_values("20259999999", exam_status="新狀態", equipment_type="XR"))
    assert client.get("/api/v1/studies/filters/options").json() == before  # not yet told
    bump_data_version()  # what every import does
    after = client.get("/api/v1/studies/filters/options").json()
    assert "新狀態" in after["exam_statuses"] and "XR" in after["equipment_types"]
    assert client.get("/api/v1/studies/search").json()["filters"]["exam_statuses"] == after["exam_statuses"]


def test_health_is_not_an_error_page_for_other_methods(client):
    response = client.post("/api/v1/health")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CORS_ALLOWED_ORIGINS", "radiology.hospital.example"),
        ("CORS_ALLOWED_ORIGINS", "https://ok.example,https://bad.example/path"),
        ("EXPORT_XLSX_MAX_ROWS", "2000000"),
        ("EXPORT_XLSX_MAX_ROWS", "0"),
        ("EXPORT_CSV_MAX_ROWS", "many"),
    ],
)
def test_bad_rest_settings_stop_start_up_with_one_line(variable, value):
    result = manage("check", SECRET_KEY="x" * 50, **{variable: value})
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Configuration error: {variable} ")
