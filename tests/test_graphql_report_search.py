"""GraphQL ``reports(filters, ordering, pagination)`` (the REST search's selector, so the same answers)
and ``reportStatistics``: counts by status and radiologist, and check-in → first preliminary / final
turnaround."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from server.access.models import AuditEvent
from server.reports.services import save_report
from server.studies.models import Study
from tests.conftest import bearer_headers, study_values
from tests.graphql_support import gql, gql_errors

pytestmark = pytest.mark.django_db

SEARCH = """query Search($filters: ReportFilter, $ordering: ReportOrder, $pagination: OffsetPaginationInput) {
  reports(filters: $filters, ordering: $ordering, pagination: $pagination) {
    totalCount results { reportId examId patientName status radiologist verifiedAt } pageInfo { offset limit }
  }
}"""
STATISTICS = """query Statistics($filters: ReportFilter) {
  reportStatistics(filters: $filters) {
    total byStatus { value count } byRadiologist { value count }
    turnaround {
      checkInToPreliminary { count meanMinutes medianMinutes p90Minutes }
      checkInToFinal { count medianMinutes }
    }
  }
}"""
CHECK_IN = dt.datetime(2025, 11, 6, 8, 0)


def save(report_id: str, exam_id: str, status: str, minutes: int | None, content: str = "No pneumothorax.",
         radiologist: str = "陳建志") -> None:  # fmt: skip
    verified = CHECK_IN + dt.timedelta(minutes=minutes) if minutes is not None else None
    save_report(report_id=report_id, exam_id=exam_id, content=content, status=status,
                radiologist=radiologist, verified_at=verified)  # fmt: skip


def search(**variables) -> dict:
    return gql(SEARCH, variables)["reports"]


def test_the_search_filters_orders_and_pages_as_rest_does():
    Study.objects.create(**study_values("20250000001"))
    save("A", "20250000001", "final", 30, content="右側氣胸 small pneumothorax")
    save("B", "20250000002", "preliminary", 60, radiologist="林美惠")
    save("C", "20250000003", "draft", None, content="Normal.")
    page = search(filters={"search": "氣胸"})
    assert page["totalCount"] == 1 and page["results"] == [
        {"reportId": "A", "examId": "20250000001", "patientName": "王小明", "status": "final",
         "radiologist": "陳建志", "verifiedAt": "2025-11-06T08:30:00"},
    ]  # fmt: skip
    assert [r["reportId"] for r in search()["results"]] == ["B", "A", "C"]  # verifiedAt DESC, nulls last
    ascending = search(ordering={"verifiedAt": "ASC"}, pagination={"offset": 1, "limit": 1})
    assert ascending["totalCount"] == 3 and [r["reportId"] for r in ascending["results"]] == ["B"]
    assert ascending["pageInfo"] == {"offset": 1, "limit": 1}
    assert search(ordering={"createdAt": "DESC"})["results"][0]["reportId"] == "C"
    signed = "2025-11-06T08:30:00"
    narrowed = search(filters={"search": "PNEUMO", "radiologists": ["陳建志"], "statuses": ["final"],
                               "verifiedFrom": signed, "verifiedTo": signed})  # fmt: skip
    assert narrowed["totalCount"] == 1
    assert search(filters={"examIds": ["20250000002", "20250000003"]})["totalCount"] == 2


def test_bad_search_input_is_a_clear_error():
    for variables, message in (
        ({"filters": {"search": "x" * 201}}, "at most 200 characters"),
        ({"filters": {"search": "a\x00"}}, "NUL"),
        ({"filters": {"radiologists": ["a\x00"]}}, "NUL"),
        ({"pagination": {"limit": 101}}, "limit must be between 1 and 100"),
        ({"filters": {"verifiedFrom": "2025-11-07T00:00:00", "verifiedTo": "2025-11-06T00:00:00"}}, "after"),
        ({"ordering": {"verifiedAt": "ASC", "createdAt": "ASC"}}, "exactly one"),
    ):
        errors = gql_errors(SEARCH, variables)
        assert errors and message in errors[0]["message"], (variables, errors)


def test_a_search_is_audited_with_the_report_ids_it_returned():
    save("A", "E1", "final", 10)
    save("B", "E2", "final", 20)
    search(pagination={"limit": 1})
    event = AuditEvent.objects.filter(action="graphql.query").latest("id")
    assert event.parameters["report_ids"] == ["B"] and event.exam_ids == []  # E2 is not imported yet


def test_a_viewer_may_search():
    save("A", "E1", "final", 10)
    viewer = Client(**bearer_headers("viewer"))
    answer = viewer.post("/graphql", {"query": SEARCH}, content_type="application/json").json()
    assert answer["data"]["reports"]["totalCount"] == 1


def test_statistics_count_current_states_and_time_check_in_to_the_first_signed_version():
    for number in (1, 2, 3):
        Study.objects.create(**study_values(f"2025000000{number}", check_in_datetime=CHECK_IN))
    save("A", "20250000001", "preliminary", 30)
    save("A", "20250000001", "final", 90)
    save("A", "20250000001", "amended", 500, content="Amended: no pneumothorax.")  # not the first final
    save("B", "20250000002", "preliminary", 60, radiologist="林美惠")
    save("C", "20250000003", "final", 120)  # straight to final: no preliminary
    save("D", "20990000009", "final", 10)  # no study: no check-in, no turnaround
    result = gql(STATISTICS)["reportStatistics"]
    assert result["total"] == 4
    assert result["byStatus"] == [
        {"value": "final", "count": 2},
        {"value": "amended", "count": 1},
        {"value": "preliminary", "count": 1},
    ]
    assert result["byRadiologist"] == [{"value": "陳建志", "count": 3}, {"value": "林美惠", "count": 1}]
    assert result["turnaround"]["checkInToPreliminary"] == {
        "count": 2, "meanMinutes": 45.0, "medianMinutes": 45.0, "p90Minutes": 57.0,
    }  # fmt: skip
    assert result["turnaround"]["checkInToFinal"] == {"count": 2, "medianMinutes": 105.0}
    only_b = gql(STATISTICS, {"filters": {"radiologists": ["林美惠"]}})["reportStatistics"]
    assert only_b["total"] == 1 and only_b["turnaround"]["checkInToFinal"]["count"] == 0


def test_statistics_are_cached_until_the_next_write():
    save("A", "E1", "final", 10)
    assert gql(STATISTICS)["reportStatistics"]["byStatus"] == [{"value": "final", "count": 1}]
    save("B", "E2", "draft", None)
    assert gql(STATISTICS)["reportStatistics"]["byStatus"] == [
        {"value": "draft", "count": 1},
        {"value": "final", "count": 1},
    ]


def test_a_request_reads_the_write_version_once_however_many_facts_it_uses():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    save("A", "E1", "final", 10)
    with CaptureQueriesContext(connection) as captured:
        gql(STATISTICS)
    reads = [q["sql"] for q in captured.captured_queries if "FROM report_write_version" in q["sql"]]
    assert len(reads) == 1
