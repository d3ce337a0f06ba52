"""One structured log line per request, never with the query string; LOG_FORMAT chooses JSON or text."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.http import HttpResponse, StreamingHttpResponse

from server.access.authentication import authenticate
from server.access.roles import VIEWER
from server.access.services import create_user
from server.access.tokens import issue_token
from server.core.request_log import JsonFormatter, RequestLogMiddleware
from tests.test_ops_serving import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_lines():
    """The request logger's output through the production JSON formatter, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("server.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    lines: list[dict] = []

    def read() -> list[dict]:
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())
        stream.seek(0)
        stream.truncate()
        return lines

    yield read
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_one_json_line_per_request_with_path_but_never_the_query_string(client, request_lines):
    query = {"patient_name": "王小明", "medical_record_no": "00123456"}
    response = client.get("/api/v1/studies/search", query, HTTP_X_REQUEST_ID="r-1")
    [line] = request_lines()
    assert set(line) >= {"time", "level", "request_id", "method", "path", "status", "duration_ms", "user_id"}
    assert line["request_id"] == "r-1" == response["X-Request-ID"]
    assert (line["method"], line["path"]) == ("GET", "/api/v1/studies/search")
    assert line["status"] == response.status_code
    user = getattr(response.wsgi_request, "user", None)  # set where the endpoint checked the token
    assert line["user_id"] == (user.pk if user is not None and user.is_authenticated else None)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    text = json.dumps(line, ensure_ascii=False)
    assert "王小明" not in text and "00123456" not in text and "patient_name" not in text


def test_the_user_id_of_an_authenticated_request_is_logged(rf, request_lines):
    user = create_user("reader", VIEWER, "correct horse battery staple", email="reader@hospital.invalid")
    token = issue_token(user).raw

    def view(request):
        authenticate(request)  # what every data endpoint does first
        return HttpResponse("ok")

    RequestLogMiddleware(view)(rf.get("/api/v1/studies/search", HTTP_AUTHORIZATION=f"Bearer {token}"))
    RequestLogMiddleware(view)(rf.get("/api/v1/studies/search", HTTP_AUTHORIZATION="Bearer wrong"))
    assert [line["user_id"] for line in request_lines()] == [user.pk, None]


def test_errors_and_control_characters_stay_one_line(client, request_lines):
    client.get("/api/v1/no-such%0Aendpoint")
    client.post("/graphql", data=b"{not json", content_type="application/json")
    lines = request_lines()
    assert lines[0]["status"] == 404
    assert lines[0]["path"] == "/api/v1/no-such\nendpoint"  # JSON escapes it: still one physical line
    assert "\\x0a" in lines[0]["message"]  # and the text format shows it escaped
    assert lines[1]["method"] == "POST" and lines[1]["path"] == "/graphql"


def test_a_streamed_body_is_logged_once_when_it_ends(rf, request_lines):
    def view(request):
        return StreamingHttpResponse(iter([b"exam_id\r\n", b"1\r\n"]), content_type="text/csv")

    response = RequestLogMiddleware(view)(rf.get("/api/v1/studies/export", {"patient_name": "王"}))
    assert request_lines() == []
    assert b"".join(response.streaming_content) == b"exam_id\r\n1\r\n"
    response.close()
    [line] = request_lines()
    assert (line["path"], line["status"]) == ("/api/v1/studies/export", 200)
    # A client that goes away half-way still leaves its line.
    response = RequestLogMiddleware(view)(rf.get("/api/v1/studies/export"))
    next(iter(response.streaming_content))
    response.close()
    assert len(request_lines()) == 2


@pytest.mark.parametrize(("variables", "json_expected"), [({}, True), ({"LOG_FORMAT": "text"}, False)])
def test_log_format_json_is_the_production_default_and_text_the_alternative(variables, json_expected):
    code = "import logging; logging.getLogger('server.request').info('hello', extra={'request_id': 'abc'})"
    result = manage("shell", "--verbosity", "0", "-c", code, **{**PRODUCTION_ENV, **variables})
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.strip().splitlines()
    if json_expected:
        parsed = json.loads(line)
        assert (parsed["message"], parsed["request_id"], parsed["level"]) == ("hello", "abc", "INFO")
    else:
        assert line.endswith("INFO server.request hello") and not line.startswith("{")


def test_a_bad_log_format_stops_start_up_with_one_line():
    result = manage("check", **{**PRODUCTION_ENV, "LOG_FORMAT": "xml"})
    assert result.returncode == 78
    assert result.stderr.strip() == "Configuration error: LOG_FORMAT must be json or text, not 'xml'"
