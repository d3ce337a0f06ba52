"""``/api/v1/reports``: writing (201, 200, ETag, If-Match 412, lifecycle 409, malformed 400), reading a report
and its versions, the roles, and the audit trail naming reports but never their text."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from server.access.models import AuditEvent
from server.reports.models import MAX_CONTENT_LENGTH
from server.studies.models import Study
from tests.conftest import bearer_headers, study_values

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports"
TEXT = "Clinical history: cough.\nFindings:\nNo pneumothorax.\nImpression: Normal chest."
VOLATILE = re.compile(r'"(created_at|updated_at|stored_at|verified_at)":"[0-9T:-]{19}"')


@pytest.fixture
def reporter():
    return Client(**bearer_headers("reporter"))


def post(client, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False)
    return client.post(URL, data, content_type="application/json", headers=headers)


def masked(response) -> str:
    """The body with its server-made times replaced, so that a snapshot pins the shape and the rest."""
    return VOLATILE.sub(r'"\1":"<time>"', response.content.decode())


def write(client, **overrides):
    body = {"report_id": "R1", "exam_id": "20250000001", "content": TEXT, "status": "draft", **overrides}
    return post(client, {key: value for key, value in body.items() if value is not None})


def test_a_new_report_is_created_then_resent_unchanged_then_updated(reporter):
    created = write(reporter, radiologist="陳建志", title="CT chest", report_type="CT")
    assert created.status_code == 201 and created["ETag"] == '"1"'
    assert created.content == b'{"report_id":"R1","version":1,"action":"created"}'
    resent = write(reporter, radiologist="陳建志")
    assert resent.status_code == 200 and resent.json()["action"] == "unchanged" and resent["ETag"] == '"1"'
    final = write(reporter, status="final", verified_at="2025-11-06T15:45:59")
    assert final.status_code == 200 and final.json() == {"report_id": "R1", "version": 2, "action": "updated"}
    assert final["ETag"] == '"2"'


def test_without_report_id_the_server_assigns_one(reporter):
    response = post(reporter, {"exam_id": "20250000001", "content": TEXT, "status": "draft"})
    assert response.status_code == 201 and re.fullmatch(r"[0-9a-f]{32}", response.json()["report_id"])


def test_if_match_protects_against_a_lost_update(reporter):
    write(reporter)
    write(reporter, status="preliminary")
    stale = post(
        reporter,
        {"report_id": "R1", "exam_id": "20250000001", "content": "x", "status": "final"},
        **{"If-Match": '"1"'},
    )
    assert stale.status_code == 412 and stale.content == b'{"detail":"Report has changed"}'
    current = post(
        reporter,
        {"report_id": "R1", "exam_id": "20250000001", "content": TEXT, "status": "final"},
        **{"If-Match": '"2"'},
    )
    assert current.status_code == 200 and current.json()["version"] == 3


def test_a_forbidden_transition_is_409(reporter):
    write(reporter, status="final")
    refused = write(reporter, status="draft", content="changed")
    assert refused.status_code == 409
    assert refused.json() == {"detail": "A final report cannot become draft"}


@pytest.mark.parametrize(
    ("body", "headers", "detail"),
    [
        ("not json", {}, "The request body must be a JSON object"),
        ("[1, 2]", {}, "The request body must be a JSON object"),
        ({"exam_id": "1", "status": "draft"}, {}, "content is required"),
        ({"exam_id": "1", "content": 5, "status": "draft"}, {}, "content must be a string"),
        ({"exam_id": "1", "content": "x", "status": "draft", "colour": "red"}, {}, "Unknown field: colour"),
        ({"exam_id": "1", "content": "  ", "status": "draft"}, {}, "content must not be empty"),
        ({"exam_id": "1", "content": "x", "status": "signed"}, {}, None),
        ({"exam_id": "1", "content": "x", "status": "final", "verified_at": "2025-11-06 10:30"}, {}, None),
        (
            {"exam_id": "1", "content": "x\x00y", "status": "draft"},
            {},
            "content must not contain NUL characters",
        ),
        ({"exam_id": "1", "content": "x", "status": "draft"}, {"If-Match": "version three"}, None),
    ],
)
def test_malformed_writes_are_400_and_store_nothing(reporter, body, headers, detail):
    response = post(reporter, body, **headers)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail"}
    if detail is not None:
        assert response.json()["detail"] == detail
    assert not Study.objects.exists() and not AuditEvent.objects.filter(action="report.write").exists()


def test_content_over_the_limit_is_400(reporter):
    response = write(reporter, content="x" * (MAX_CONTENT_LENGTH + 1))
    assert response.status_code == 400
    assert response.json()["detail"] == f"content must be at most {MAX_CONTENT_LENGTH} characters, not 100001"


def test_only_reporters_and_admins_write_and_every_role_reads():
    body = {"report_id": "R1", "exam_id": "20250000001", "content": TEXT, "status": "draft"}
    assert post(Client(), body).status_code == 401
    for role in ("viewer", "exporter", "analyst"):
        assert post(Client(**bearer_headers(role)), body).status_code == 403
    assert post(Client(**bearer_headers("admin")), body).status_code == 201
    for role in ("viewer", "reporter", "analyst"):
        assert Client(**bearer_headers(role, username=f"reader-{role}")).get(f"{URL}/R1").status_code == 200
    assert Client().get(f"{URL}/R1").status_code == 401


def test_a_report_before_its_study_shows_no_exam_id_until_the_study_arrives(reporter, snapshot):
    write(reporter, radiologist="陳建志", title="CT chest", report_type="CT", exam_id="20990000001")
    before = reporter.get(f"{URL}/R1")
    assert before.status_code == 200
    assert masked(before) == snapshot(name="before the study")
    Study.objects.create(**study_values("20990000001", patient_name="測試病人", equipment_type="CT"))
    after = reporter.get(f"{URL}/R1")
    assert masked(after) == snapshot(name="after the study")
    assert list(after.json()) == [
        "report_id", "exam_id", "patient_name", "exam_item", "findings", "radiologist", "created_at",
        "status", "impression", "title", "report_type", "version", "verified_at", "updated_at",
        "content_preview", "content", "equipment_type", "order_datetime",
    ]  # fmt: skip


def test_versions_are_listed_oldest_first_and_each_is_readable(reporter, snapshot):
    write(reporter)
    write(reporter, status="final", verified_at="2025-11-06T15:45:59")
    listed = reporter.get(f"{URL}/R1/versions")
    assert [(v["version"], v["status"], v["change"]) for v in listed.json()] == [
        (1, "draft", "created"),
        (2, "final", "status"),
    ]
    assert masked(listed) == snapshot(name="versions")
    first = reporter.get(f"{URL}/R1/versions/1")
    assert first.json()["content"] == TEXT and first.json()["verified_at"] is None
    assert reporter.get(f"{URL}/R1/versions/3").json() == {"detail": "Version not found"}
    assert reporter.get(f"{URL}/NOPE").json() == {"detail": "Report not found"}
    assert reporter.get(f"{URL}/NOPE/versions").status_code == 404


def test_writes_and_reads_are_audited_by_report_never_with_the_text(reporter):
    write(reporter)
    reporter.get(f"{URL}/R1")
    events = list(AuditEvent.objects.filter(action__startswith="report.").order_by("id"))
    assert [(e.action, e.status_code, e.exam_ids) for e in events] == [
        ("report.write", 201, ["20250000001"]),
        ("report.detail", 200, ["20250000001"]),
    ]
    assert events[0].parameters == {"report_id": "R1", "version": 1, "action": "created"}
    assert all("pneumothorax" not in json.dumps(e.parameters) for e in events)


def test_a_studys_reports_are_listed_the_most_recently_signed_first(reporter):
    Study.objects.create(**study_values("20250000001"))
    assert reporter.get("/api/v1/studies/20250000001/reports").json() == []
    write(reporter, report_id="OLD", status="final", verified_at="2025-11-06T10:00:00")
    write(reporter, report_id="NEW", status="final", verified_at="2025-11-07T09:00:00")
    write(reporter, report_id="DRAFT")  # unsigned: last
    write(reporter, report_id="ELSEWHERE", exam_id="20250000002")
    listed = reporter.get("/api/v1/studies/20250000001/reports")
    assert listed.status_code == 200
    assert [r["report_id"] for r in listed.json()] == ["NEW", "OLD", "DRAFT"]
    assert {r["exam_id"] for r in listed.json()} == {"20250000001"}
    event = AuditEvent.objects.filter(action="report.list").latest("id")
    assert event.parameters["report_ids"] == ["NEW", "OLD", "DRAFT"] and event.exam_ids == ["20250000001"]


def test_the_reports_of_a_study_that_does_not_exist_are_404(reporter):
    write(reporter, exam_id="20990000009")  # a report may exist before its study
    response = reporter.get("/api/v1/studies/20990000009/reports")
    assert response.status_code == 404 and response.json() == {"detail": "Study not found"}


def test_filter_options_come_from_the_current_versions(reporter):
    assert reporter.get(f"{URL}/filters/options").json() == {
        "statuses": [],
        "report_types": [],
        "radiologists": [],
    }
    write(reporter, report_id="A", report_type="CT", radiologist="陳建志")
    write(
        reporter, report_id="A", report_type="CT", radiologist="林美惠", status="final"
    )  # current: final, 林
    write(reporter, report_id="B", report_type="MR", status="preliminary")  # no radiologist
    response = reporter.get(f"{URL}/filters/options")
    assert response.status_code == 200
    assert list(response.json()) == ["statuses", "report_types", "radiologists"]
    assert response.json() == {
        "statuses": ["final", "preliminary"],  # not the superseded draft
        "report_types": ["CT", "MR"],
        "radiologists": ["林美惠"],
    }
