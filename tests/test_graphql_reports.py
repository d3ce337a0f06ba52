"""Reports in GraphQL: ``report(reportId)`` with its versions, and ``reports`` on a study, prefetched by the
optimizer so that a page of studies with their reports costs the same few queries however many there are."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.access.models import AuditEvent
from server.reports.services import save_report
from server.studies.bulk import write_studies
from server.studies.columns import STUDY_FIELDS
from server.studies.models import Study
from tests.conftest import bearer_headers, study_values
from tests.graphql_support import gql, post

pytestmark = pytest.mark.django_db

TEXT = "Findings:\nNo pneumothorax.\nImpression: Normal chest."
PAGE = """query Page($limit: Int!) {
  studies(pagination: {limit: $limit}, ordering: [{examId: ASC}]) {
    results { examId reports { reportId examId status version findings verifiedAt } }
  }
}"""


def _studies(count: int) -> list[str]:
    ids = [f"2025{number:07d}" for number in range(1, count + 1)]
    write_studies(tuple(study_values(exam_id)[name] for name in STUDY_FIELDS) for exam_id in ids)
    return ids


def _report(report_id: str, exam_id: str, status: str = "final", day: int = 6) -> None:
    save_report(
        report_id=report_id,
        exam_id=exam_id,
        content=TEXT,
        status=status,
        radiologist="陳建志",
        verified_at=dt.datetime(2025, 11, day, 15, 0, 0) if status != "draft" else None,
    )


def _queries(limit: int) -> tuple[int, dict]:
    gql(PAGE, {"limit": limit})  # warm: the token, the data version and the count are cached or per request
    with CaptureQueriesContext(connection) as captured:
        data = gql(PAGE, {"limit": limit})
    return len(captured), data


def test_a_page_of_studies_with_their_reports_is_a_fixed_number_of_queries():
    ids = _studies(100)
    for index, exam_id in enumerate(ids):
        for number in range(index % 3):  # 0, 1 or 2 reports each
            _report(f"R{index}-{number}", exam_id, day=6 + number)
    few, _ = _queries(10)
    many, large = _queries(100)
    assert few == many, (few, many)  # the reports of 100 studies cost no more queries than of 10
    results = large["studies"]["results"]
    assert len(results) == 100
    assert sum(len(study["reports"]) for study in results) == sum(index % 3 for index in range(100))
    two = next(study for study in results if len(study["reports"]) == 2)
    assert [r["verifiedAt"] for r in two["reports"]] == ["2025-11-07T15:00:00", "2025-11-06T15:00:00"]
    assert {r["examId"] for r in two["reports"]} == {two["examId"]}


def test_one_report_with_its_versions_and_the_audit_event_names_it():
    _studies(1)
    _report("R1", "20250000001", status="draft")
    _report("R1", "20250000001", status="final")
    data = gql(
        """{ report(reportId: "R1") { reportId examId status version findings impression content
             versions { number status change verifiedAt contentHash } } }"""
    )["report"]
    assert (data["reportId"], data["examId"], data["status"], data["version"]) == (
        "R1",
        "20250000001",
        "final",
        2,
    )
    assert (data["findings"], data["impression"], data["content"]) == (
        "No pneumothorax.",
        "Normal chest.",
        TEXT,
    )
    assert [(v["number"], v["status"], v["change"]) for v in data["versions"]] == [
        (1, "draft", "created"),
        (2, "final", "status"),
    ]
    assert data["versions"][0]["verifiedAt"] is None
    event = AuditEvent.objects.filter(action="graphql.query").latest("id")
    assert event.parameters["report_ids"] == ["R1"] and event.exam_ids == ["20250000001"]
    assert "pneumothorax" not in str(event.parameters)


def test_a_report_before_its_study_has_no_exam_id_and_an_unknown_one_is_null():
    _report("EARLY", "20990000001")
    assert gql('{ report(reportId: "EARLY") { examId } }')["report"] == {"examId": None}
    assert gql('{ report(reportId: "NOPE") { reportId } }')["report"] is None
    Study.objects.create(**study_values("20990000001"))
    assert gql('{ report(reportId: "EARLY") { examId } }')["report"] == {"examId": "20990000001"}


def test_a_study_read_alone_lists_its_reports_and_they_are_audited():
    _studies(1)
    _report("R1", "20250000001")
    data = gql('{ study(examId: "20250000001") { examId reports { reportId } } }')["study"]
    assert data == {"examId": "20250000001", "reports": [{"reportId": "R1"}]}
    event = AuditEvent.objects.filter(action="graphql.query").latest("id")
    assert event.parameters["report_ids"] == ["R1"]


SAVE = """mutation Save($report: SaveReportInput!) {
  saveReport(report: $report) { reportId version action }
}"""


def _save(headers: dict | None = None, **report) -> tuple[int, dict]:
    values = {"reportId": "R1", "examId": "20250000001", "content": TEXT, "status": "draft", **report}
    status, body, _ = post(SAVE, {"report": values}, headers)
    return status, body


def test_save_report_follows_the_rules_of_post_reports():
    assert _save()[1]["data"]["saveReport"] == {"reportId": "R1", "version": 1, "action": "created"}
    assert _save()[1]["data"]["saveReport"]["action"] == "unchanged"
    updated = _save(status="final", verifiedAt="2025-11-06T15:45:59", expectedVersion=1)[1]
    assert updated["data"]["saveReport"] == {"reportId": "R1", "version": 2, "action": "updated"}
    for values, code, message in [
        ({"content": "changed", "expectedVersion": 1}, "PRECONDITION_FAILED", "Report has changed"),
        ({"status": "draft", "content": "changed"}, "CONFLICT", "A final report cannot become draft"),
        ({"content": " "}, "BAD_USER_INPUT", "content must not be empty"),
        ({"status": "signed"}, "BAD_USER_INPUT", "Unknown status 'signed'"),
    ]:
        _, body = _save(**values)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == code
        assert body["errors"][0]["message"].startswith(message)
    assert gql('{ report(reportId: "R1") { version status } }')["report"] == {"version": 2, "status": "final"}
    writes = AuditEvent.objects.filter(action="report.write").order_by("id")
    assert [event.parameters["action"] for event in writes] == ["created", "unchanged", "updated"]


def test_only_reporters_and_admins_may_save_a_report():
    for role in ("viewer", "exporter", "analyst"):
        _, body = _save(headers={"Authorization": bearer_headers(role)["HTTP_AUTHORIZATION"]})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    _, body = _save(headers={"Authorization": bearer_headers("reporter")["HTTP_AUTHORIZATION"]})
    assert body["data"]["saveReport"]["action"] == "created"
