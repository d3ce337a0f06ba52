"""GraphQL applies the REST API's access rules with the same tokens, and audits every read of patient data."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from server.access import audit, tokens
from server.access.models import AccessToken, AuditEvent
from server.access.services import create_user
from server.reports.services import save_report
from tests.conftest import bearer_headers
from tests.rest_support import load_fixed_studies

pytestmark = pytest.mark.django_db
DATA_QUERIES = {
    "studies": "{ studies { totalCount results { examId } } }",
    "study": '{ study(examId: "20250000001") { patientName } }',
    "studyFilterOptions": "{ studyFilterOptions { examStatuses } }",
    "studyStatistics": "{ studyStatistics { total } }",
    "report": '{ report(reportId: "R1") { content } }',
    "reports": "{ reports { totalCount results { reportId } } }",
    "reportStatistics": "{ reportStatistics { total } }",
}


def graphql(query: str, variables: dict | None = None, **headers) -> dict:
    response = Client().post(
        "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        **headers,
    )
    return json.loads(response.content)


@pytest.fixture
def fixed():
    load_fixed_studies()
    save_report(report_id="R1", exam_id="20250000001", content="No pneumothorax.", status="draft")


@pytest.mark.parametrize("field", DATA_QUERIES)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_patient_data_needs_a_valid_token(fixed, field, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    body = graphql(DATA_QUERIES[field], **headers)
    assert (body["data"] or {}).get(field) is None  # a nullable field is null, else data is null
    assert body["errors"][0]["message"] == "Not authenticated"
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert AuditEvent.objects.filter(action=audit.REFUSED, status_code=401).exists()


@pytest.mark.parametrize("field", DATA_QUERIES)
def test_expired_and_revoked_tokens_are_refused(fixed, field):
    user = create_user("alice", "viewer", "a long test password 123")
    expired, revoked = tokens.issue_token(user), tokens.issue_token(user)
    past = timezone.now() - dt.timedelta(minutes=1)
    AccessToken.objects.filter(pk=expired.token.pk).update(expires_at=past)
    tokens.revoke_token(revoked.raw)
    for issued in (expired, revoked):
        body = graphql(DATA_QUERIES[field], HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
        assert body["errors"][0]["message"] == "Not authenticated"


@pytest.mark.parametrize("field", DATA_QUERIES)
def test_a_viewer_token_reads_every_data_field(fixed, field):
    body = graphql(DATA_QUERIES[field], **bearer_headers("viewer"))
    assert "errors" not in body, body
    assert body["data"][field] is not None


def test_the_audit_log_query_is_for_admins_only(fixed):
    query = "{ auditEvents(limit: 10) { action username recordCount examIds } }"
    body = graphql(query, **bearer_headers("exporter", username="erin"))
    assert body["errors"][0]["message"] == "Not permitted"
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = bearer_headers("admin", username="ada")
    graphql(DATA_QUERIES["study"], **admin)
    events = graphql(query, **admin)["data"]["auditEvents"]
    expected = {"action": "graphql.query", "username": "ada", "recordCount": 1, "examIds": ["20250000001"]}
    assert expected in events


def test_a_studies_query_is_audited_with_its_variables_and_the_page(fixed):
    query = "query Find($q: String) { studies(filters: {search: $q}) { results { patientName } } }"
    headers = bearer_headers("viewer", username="vic")
    body = graphql(query, {"q": "王小明"}, HTTP_X_REQUEST_ID="req-9", **headers)
    assert body["data"]["studies"]["results"]
    event = AuditEvent.objects.get(action=audit.GRAPHQL_QUERY)
    assert (event.username, event.role, event.request_id) == ("vic", "viewer", "req-9")
    assert event.parameters["operation_name"] == "Find"
    assert event.parameters["variables"] == {"q": "王小明"}
    assert event.parameters["query"] == query
    assert event.record_count == len(body["data"]["studies"]["results"]) == len(event.exam_ids)
    assert "20250000001" in event.exam_ids


def test_statistics_are_audited_without_exam_ids(fixed):
    graphql(DATA_QUERIES["studyStatistics"], **bearer_headers("viewer"))
    event = AuditEvent.objects.get(action=audit.GRAPHQL_QUERY)
    assert event.exam_ids == [] and event.parameters["query"] == DATA_QUERIES["studyStatistics"]


def test_a_query_without_patient_data_is_not_audited(fixed):
    assert graphql("{ __typename }")["data"] == {"__typename": "Query"}
    assert not AuditEvent.objects.filter(action=audit.GRAPHQL_QUERY).exists()


def test_filter_options_need_a_token_but_are_not_audited_as_in_rest(fixed):
    assert "errors" in graphql(DATA_QUERIES["studyFilterOptions"])  # no token: refused (and that is audited)
    viewer = bearer_headers("viewer")
    answer = graphql(DATA_QUERIES["studyFilterOptions"], **viewer)
    assert "examStatuses" in answer["data"]["studyFilterOptions"]
    assert not AuditEvent.objects.filter(action=audit.GRAPHQL_QUERY).exists()
    # ...unless the same operation also reads patient data.
    graphql("{ studyFilterOptions { examStatuses } studies { totalCount } }", **viewer)
    assert AuditEvent.objects.filter(action=audit.GRAPHQL_QUERY).count() == 1
