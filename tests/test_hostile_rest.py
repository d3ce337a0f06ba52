"""Hostile input to every REST endpoint: never a 500, never an HTML page, never a stack trace or SQL.

Each case is a request a curious or broken client could send; the answer must be the contract's 400 / 422 /
404 (or 200 where the input is merely odd), a JSON ``detail``, and nothing of the server's insides.
"""

from __future__ import annotations

import json
from io import BytesIO
from urllib.parse import quote

import pytest
from django.test import Client

from tests.conftest import bearer_headers
from tests.rest_support import ids_of, load_fixed_studies

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/studies/search"
EXPORT = "/api/v1/studies/export"
TEXT_PARAMS = (
    "q",
    "exam_status",
    "exam_source",
    "exam_item",
    "equipment_type",
    "patient_gender",
    "exam_room",
    "exam_equipment",
    "certified_physician",
    "application_order_no",
    "medical_record_no",
    "start_date",
    "end_date",
    "sort",
)
NUMBER_PARAMS = ("page", "page_size", "patient_age_min", "patient_age_max")
CONTROL_CHARACTERS = ["\x00", "a\x00b", "\x01", "\x07", "\x1b[31m", "\x7f", "\ud800"[:0] + "\u0085", "\ufeff"]
LEAKS = ("Traceback", "psycopg", "SELECT ", "django.", 'File "', "<html", "<!DOCTYPE")


@pytest.fixture
def api() -> Client:
    return Client(raise_request_exception=False, **bearer_headers("admin"))


def assert_clean(response, allowed=(200, 400, 404, 422)) -> dict | None:
    """A status among ``allowed``, a JSON body (for errors: a ``detail``), no internals."""
    assert response.status_code in allowed, (response.status_code, response.content[:300])
    assert response.status_code < 500
    content_type = response.get("Content-Type", "")
    if response.status_code >= 400 or content_type.startswith("application/json"):
        assert content_type.startswith("application/json"), content_type
        body = json.loads(b"".join(response.streaming_content) if response.streaming else response.content)
        text = json.dumps(body, ensure_ascii=False)
        for leak in LEAKS:
            assert leak not in text, text[:300]
        if response.status_code >= 400:
            assert "detail" in body
        return body
    return None


def _get(api: Client, path: str, query: str):
    return api.get(path, QUERY_STRING=query)


@pytest.mark.parametrize("path", [SEARCH, EXPORT])
@pytest.mark.parametrize("value", CONTROL_CHARACTERS, ids=repr)
def test_control_characters_in_every_text_parameter(api, path, value):
    for param in TEXT_PARAMS:
        response = _get(api, path, f"{param}={quote(value)}")
        body = assert_clean(response, (200, 400, 422))
        if "\x00" in value:
            assert response.status_code in (400, 422), param
            if param not in ("start_date", "end_date"):  # those are 422: not a date at all
                assert "NUL" in json.dumps(body), param


@pytest.mark.parametrize("path", ["/api/v1/studies/{}", "/api/v1/studies/{}?x=1"])
@pytest.mark.parametrize("value", [*CONTROL_CHARACTERS, "x" * 10_000, "%", "'; DROP TABLE x; --", "😀"])
def test_hostile_exam_id_in_path(api, path, value):
    response = api.get(path.format(quote(value, safe="")))
    assert_clean(response, (400, 404, 422))


@pytest.mark.parametrize("path", [SEARCH, EXPORT])
def test_ten_thousand_characters(api, path):
    for param in TEXT_PARAMS + NUMBER_PARAMS + ("format", "exam_ids"):
        response = _get(api, path, f"{param}={'x' * 10_000}")
        assert_clean(response, (200, 400, 422))


def test_long_q_is_a_400(api):
    response = _get(api, SEARCH, f"q={quote('王' * 10_000)}")
    assert response.status_code == 400
    assert "200" in response.json()["detail"]


@pytest.mark.parametrize("path", [SEARCH, EXPORT, "/api/v1/studies/filters/options", "/api/v1/health"])
@pytest.mark.parametrize(
    "raw",
    [b"q=%FF%FE", b"q=\xff\xfe", b"exam_status=%C0%AF", b"%FF=1", b"q=%ED%A0%80", b"sort=%80"],
    ids=repr,
)
def test_invalid_utf8_in_the_query_string(api, path, raw):
    # Raw bytes, as a WSGI server hands them over: PEP 3333 decodes the query string as latin-1.
    response = api.get(path, QUERY_STRING=raw.decode("latin-1"))
    assert_clean(response, (200, 400, 422))


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (f"page={10**12}", 200),
        (f"page={10**30}", 200),  # a page past the end: empty, as the contract says
        ("page=-1", 400),
        ("page=0", 400),
        ("page_size=-1", 400),
        (f"page_size={10**20}", 400),
        (f"patient_age_min={10**20}", 400),
        (f"patient_age_max={-(10**20)}", 400),
        ("patient_age_min=40000", 400),
        ("patient_age_max=-40000", 400),
        ("patient_age_min=1e3", 422),
        ("patient_age_min=NaN", 422),
        ("page=1.5", 422),
        ("page=%EF%BC%91", 422),  # a full-width digit one
    ],
)
def test_huge_and_odd_numbers(api, query, status):
    response = _get(api, SEARCH, query)
    assert_clean(response)
    assert response.status_code == status, response.content[:300]


@pytest.mark.parametrize("query", [f"page={10**12}", f"patient_age_min={10**20}", "patient_age_max=-40000"])
def test_huge_numbers_in_export(api, query):
    assert_clean(_get(api, EXPORT, query), (200, 400))


def test_page_far_past_the_end_is_an_empty_page(api):
    load_fixed_studies()
    body = _get(api, SEARCH, f"page={10**12}&page_size=100").json()
    assert body["data"] == [] and body["total"] == 6 and body["page"] == 10**12


def test_repeated_scalar_parameters(api):
    load_fixed_studies()
    for query in (
        "page=1&page=2",
        "q=%E7%8E%8B&q=x",
        "sort=patient_name_asc&sort=bogus",
        "start_date=2025-01-01&start_date=x",
    ):
        assert_clean(_get(api, SEARCH, query), (200, 400, 422))
    # The last one wins, as with the legacy FastAPI backend.
    assert _get(api, SEARCH, "page=5&page=1").json()["page"] == 1
    assert _get(api, SEARCH, "sort=bogus&sort=patient_name_asc").status_code == 200


@pytest.mark.parametrize("param", ["start_date", "end_date"])
@pytest.mark.parametrize(
    "value",
    [
        "2025-02-30",
        "2025-13-01",
        "2025-00-10",
        "0000-01-01",
        "9999-12-31T24:00:00",
        "2025-02-29",
        "１２３４-01-01",
        "2025-01-01T10:00:00+08:00",
        "2025-01-01T25:61:61",
        "99999-01-01",
    ],
)
def test_impossible_dates_are_422(api, param, value):
    response = _get(api, SEARCH, f"{param}={quote(value)}")
    assert_clean(response, (422,))
    assert response.json()["detail"][0]["loc"] == ["query", param]


@pytest.mark.parametrize("path", [SEARCH, EXPORT])
def test_extreme_but_valid_dates(api, path):
    assert_clean(_get(api, path, "start_date=0001-01-01&end_date=9999-12-31"), (200,))


@pytest.mark.parametrize("term", ["%", "_", "\\", "'", "%%", "\\%", "a_b", "''", "[a]", "*", "?", ".*"])
def test_like_and_sql_metacharacters_match_literally(api, term):
    load_fixed_studies()
    from server.studies.models import Study

    Study.objects.filter(pk="20250000002").update(patient_name=f"Smith {term} John")
    from server.core.data_version import bump_data_version

    bump_data_version()
    response = _get(api, SEARCH, f"q={quote(term)}")
    assert_clean(response, (200,))
    # Only the one study whose fields contain the term literally, whatever the term means to LIKE or SQL.
    assert ids_of(response) == ["20250000002"]
    for param in ("exam_status", "medical_record_no", "application_order_no"):
        assert _get(api, SEARCH, f"{param}={quote(term)}").json()["total"] == 0


@pytest.mark.parametrize(
    "text",
    ["\u202eRTL override", "שלום", "مرحبا", "e\u0301", "王\u0301", "😀", "👨‍👩‍👧", "🇹🇼", "\u200b", "Z̴̡̛a̷l̸g̶o"],
)
def test_right_to_left_combining_and_emoji(api, text):
    load_fixed_studies()
    for query in (f"q={quote(text)}", f"exam_status={quote(text)}", f"medical_record_no={quote(text)}"):
        response = _get(api, SEARCH, query)
        assert_clean(response, (200,))
        assert response.json()["total"] == 0
    assert_clean(api.get("/api/v1/studies/" + quote(text, safe="")), (404,))
    assert_clean(_get(api, EXPORT, f"q={quote(text)}"), (200,))


def test_emoji_in_data_is_found(api):
    load_fixed_studies()
    from server.core.data_version import bump_data_version
    from server.studies.models import Study

    Study.objects.filter(pk="20250000003").update(patient_name="林😀美華")
    bump_data_version()
    assert ids_of(_get(api, SEARCH, f"q={quote('😀')}")) == ["20250000003"]


@pytest.mark.parametrize("value", ["\x00", "x" * 10_000, "'", "%FF", "csv\x00"])
def test_export_format_and_exam_ids(api, value):
    assert_clean(_get(api, EXPORT, f"format={quote(value)}"), (400, 422))
    response = _get(api, EXPORT, f"exam_ids={quote(value)}")
    assert_clean(response, (200, 400, 422))


@pytest.mark.parametrize("path", ["/api/v1/studies/filters/options", "/api/v1/auth/me", "/api/v1/health"])
def test_parameter_free_endpoints_ignore_hostile_query_strings(api, path):
    for query in ("x=%00", "x=" + "y" * 10_000, "%FF=%FE", "a=1&a=2"):
        assert_clean(_get(api, path, query), (200,))


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("\x00", "x"),
        ("admin\x00", "a long test password 123"),
        ("x" * 10_000, "y" * 10_000),
        ("😀", "'; --"),
        ("%", "%"),
        ("\u202e", "\u0301"),
    ],
)
def test_login_with_hostile_credentials(username, password):
    client = Client(raise_request_exception=False)
    response = client.post("/api/v1/auth/login", {"username": username, "password": password})
    assert_clean(response, (400, 401, 422, 429))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"username=%FF&password=%FE", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
        (b'{"username": "a", "password": "b"}', "application/json"),
        (b"", "application/x-www-form-urlencoded"),
        (b"--x\r\n", "multipart/form-data; boundary=x"),
        (b"--x\r\n", "multipart/form-data"),
        (b"username=" + b"a" * 3_000_000, "application/x-www-form-urlencoded"),
        (b"username=a&username=b&password=c", "application/x-www-form-urlencoded"),
    ],
    ids=repr,
)
def test_login_with_malformed_bodies(body, content_type):
    client = Client(raise_request_exception=False)
    response = client.generic("POST", "/api/v1/auth/login", body, content_type=content_type)
    assert_clean(response, (400, 401, 413, 422, 429))


@pytest.mark.parametrize(
    "authorization",
    ["Bearer \x00", "Bearer " + "x" * 10_000, "Bearer 😀", "Bearer '", "Basic Og==", "Bearer", "bearer  a b"],
)
def test_hostile_authorization_headers(authorization):
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=authorization)
    for path in (SEARCH, "/api/v1/auth/me", "/api/v1/studies/x"):
        assert_clean(client.get(path), (401,))
    assert_clean(client.post("/api/v1/auth/logout"), (204, 401))


def test_raw_invalid_utf8_through_wsgi_environ(api):
    """Bytes as a real server passes them: the environ's QUERY_STRING and PATH_INFO are latin-1 strings."""
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    for path, query in [
        (SEARCH, "q=\xff\xfe"),
        ("/api/v1/studies/\xff\xfe", ""),
        (EXPORT, "exam_source=\xc0"),
    ]:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": api.defaults["HTTP_AUTHORIZATION"],
            "wsgi.input": BytesIO(b""),
            "wsgi.url_scheme": "http",
            "wsgi.errors": BytesIO(),
        }
        statuses = []
        body = b"".join(
            handler(environ, lambda status, headers, exc_info=None, seen=statuses: seen.append(status))
        )
        status = int(statuses[0].split()[0])
        assert status < 500, (path, query, body[:300])
        assert "detail" in json.loads(body)


REPORT_PATHS = [
    "/api/v1/reports/{}",
    "/api/v1/reports/{}/versions",
    "/api/v1/reports/{}/versions/1",
    "/api/v1/studies/{}/reports",
]


@pytest.mark.parametrize("path", REPORT_PATHS)
@pytest.mark.parametrize("value", [*CONTROL_CHARACTERS, "x" * 10_000, "%", "'; DROP TABLE x; --", "😀"])
def test_hostile_report_id_in_path(api, path, value):
    response = api.get(path.format(quote(value, safe="")))
    assert_clean(response, (400, 404, 422))


@pytest.mark.parametrize("version", ["0", "-1", "99999999999999999999", "1.5", "x"])
def test_odd_version_numbers(api, version):
    assert_clean(api.get(f"/api/v1/reports/R1/versions/{version}"), (404, 422))


@pytest.mark.parametrize(
    "body",
    [
        '{"exam_id": "1", "content": "x", "status": "draft", "report_id": "' + "x" * 10_000 + '"}',
        "[" * 5000 + "]" * 5000,  # nested past Python's recursion limit: was a 500
        '{"exam_id": "1", "content": "\\u0001\\u0007\\u001b", "status": "draft"}',
        '{"exam_id": {"$ne": null}, "content": "x", "status": "draft"}',
        "\xff\xfe not utf-8",
        "",
    ],
)
def test_hostile_report_bodies_get_a_clean_answer_and_nothing_is_half_written(api, body):
    from server.reports.models import Report, ReportVersion

    response = api.post(
        "/api/v1/reports",
        body.encode("latin-1", "replace") if "\xff" in body else body,
        content_type="application/json",
    )
    assert_clean(response, (200, 201, 400))
    assert Report.objects.count() == ReportVersion.objects.count()  # a report is never without its version
