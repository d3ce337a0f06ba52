"""Safety of the GraphQL endpoint: limits a dashboard passes and abuse does not, introspection, masking."""

from __future__ import annotations

import logging
import time

import pytest
from graphql import get_introspection_query

from graphql_schema import limits
from server.studies import selectors
from tests.graphql_support import gql, gql_errors, post, rows_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

DASHBOARD = """
query Dashboard($recent: StudyFilter, $ct: StudyFilter, $mr: StudyFilter) {
  latest: studies(filters: $recent, ordering: [{orderDatetime: DESC}], pagination: {limit: 50}) {
    totalCount
    pageInfo { offset limit }
    results { ...Row }
  }
  waiting: studies(filters: {checkInDatetime: {isNull: false}, reportCertificationDatetime: {isNull: true}}) {
    totalCount
    results { ...Row }
  }
  options: studyFilterOptions { examStatuses examSources examItems equipmentTypes examRooms examEquipments }
  all: studyStatistics(filters: $recent) { ...Figures }
  ct: studyStatistics(filters: $ct) { ...Figures }
  mr: studyStatistics(filters: $mr) { ...Figures }
}

fragment Row on Study {
  examId medicalRecordNo applicationOrderNo patientName patientGender patientBirthDate patientAge
  examStatus examSource examItem examDescription examRoom examEquipment equipmentType
  orderDatetime checkInDatetime reportCertificationDatetime certifiedPhysician
}

fragment Duration on DurationSummary { count meanMinutes medianMinutes p90Minutes }

fragment Figures on StudyStatistics {
  total
  byStatus { value count }
  bySource { value count }
  byEquipmentType { value count }
  byExamRoom { value count }
  byExamItem(limit: 10) { value count }
  daily: timeline(granularity: DAY, field: ORDER) { period count }
  monthly: timeline(granularity: MONTH, field: REPORT) { period count }
  turnaround {
    orderToCheckIn { ...Duration }
    checkInToReport { ...Duration }
    orderToReport { ...Duration }
  }
}
"""

DASHBOARD_VARIABLES = {
    "recent": {"orderDatetime": {"gte": "2025-01-01T00:00:00"}},
    "ct": {"equipmentType": {"exact": "CT"}, "orderDatetime": {"gte": "2025-01-01T00:00:00"}},
    "mr": {"equipmentType": {"exact": "MR"}, "orderDatetime": {"gte": "2025-01-01T00:00:00"}},
}


def fragment_bomb(levels: int) -> str:
    """``levels`` fragments, each spreading the next one twice: 2^levels expansions in a few tokens."""
    fragments = [f"fragment F{i} on Study {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Study {{ examId patientName }}")
    return "{ studies { results { ...F0 } } }\n" + "\n".join(fragments)


def test_a_real_dashboard_document_passes(rows):
    data = gql(DASHBOARD, DASHBOARD_VARIABLES)
    assert data["latest"]["totalCount"] > 0 and len(data["latest"]["results"]) == 50
    assert data["ct"]["total"] + data["mr"]["total"] <= data["all"]["total"]
    assert data["all"]["daily"] and data["options"]["examStatuses"]


def test_graphiqls_introspection_passes_the_limits_when_enabled(rows, settings):
    settings.GRAPHQL_INTROSPECTION = True
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    data = gql(query)
    assert any(t["name"] == "StudyFilter" for t in data["__schema"]["types"])


def messages(errors: list[dict]) -> str:
    return " | ".join(error["message"] for error in errors)


def test_a_too_deep_document_is_refused(rows):
    nested = "examId"
    for name in ("a", "b", "c", "d", "e", "f"):
        nested = f"{name} {{ {nested} }}"
    errors = gql_errors(f"{{ studies {{ results {{ {nested} }} }} }}")
    assert f"exceeds maximum operation depth of {limits.MAX_DEPTH}" in messages(errors)


def test_too_many_aliases_are_refused(rows):
    aliased = " ".join(f"s{i}: studyStatistics {{ total }}" for i in range(limits.MAX_ALIASES + 1))
    errors = gql_errors(f"{{ {aliased} }}")
    assert f"{limits.MAX_ALIASES + 1} aliases found. Allowed: {limits.MAX_ALIASES}" in messages(errors)


def test_too_many_tokens_are_refused(rows):
    fields = " ".join(["examId"] * limits.MAX_TOKENS)
    errors = gql_errors(f"{{ studies {{ results {{ {fields} }} }} }}")
    assert f"more than {limits.MAX_TOKENS} tokens" in messages(errors)


@pytest.mark.parametrize("levels", [10, 30])
def test_a_fragment_bomb_is_refused_at_once(rows, levels):
    document = fragment_bomb(levels)
    assert len(document) < 1500  # a few hundred tokens: within the token limit
    post("{ __typename }")  # the URLconf and the schema are loaded: time the document alone
    started = time.perf_counter()
    _, body, _ = post(document)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, elapsed  # unguarded, 30 levels would keep the depth limiter busy for days
    assert body["data"] is None
    assert "once its fragments are expanded" in messages(body["errors"])
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


LONG_LIST = ", ".join(['"x"'] * (limits.MAX_LIST_ITEMS + 1))
DEEP_FILTER = "{AND: " * 45 + "{}" + "}" * 45


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{ studies { results { ...Missing } } }", "Unknown fragment 'Missing'"),
        ("{ studies { results { ...A } } } fragment A on Study { examId ...A }", "spreads itself"),
        (
            f"{{ studies(filters: {{examId: {{inList: [{LONG_LIST}]}}}}) {{ totalCount }} }}",
            f"more than {limits.MAX_LIST_ITEMS} items",
        ),
        (
            f"{{ studies(filters: {DEEP_FILTER}) {{ totalCount }} }}",
            f"nested more than {limits.MAX_NESTING} levels",
        ),
    ],
)
def test_malformed_or_oversized_documents_are_refused_before_validation(rows, document, message):
    errors = gql_errors(document)
    assert message in messages(errors)


def test_introspection_is_off_by_default_in_production(rows, settings):
    assert settings.DEBUG is False and settings.GRAPHQL_INTROSPECTION is False
    errors = gql_errors("{ __schema { queryType { name } } }")
    assert "introspection has been disabled" in messages(errors)
    assert gql_errors('{ __type(name: "Study") { name } }')
    assert gql("{ __typename }") == {"__typename": "Query"}
    # Nor does a typo reveal field names.
    assert "Did you mean" not in messages(gql_errors("{ studie { totalCount } }"))


def test_introspection_follows_the_setting_and_debug(rows, settings):
    settings.GRAPHQL_INTROSPECTION = True
    assert gql("{ __schema { queryType { name } } }") == {"__schema": {"queryType": {"name": "Query"}}}
    assert "Did you mean" in messages(gql_errors("{ studie { totalCount } }"))
    settings.GRAPHQL_INTROSPECTION = False
    settings.DEBUG = True
    assert gql("{ __schema { queryType { name } } }") == {"__schema": {"queryType": {"name": "Query"}}}


def test_the_setting_comes_from_the_environment(monkeypatch):
    import importlib

    import server.settings

    try:
        for variable, expected in [(None, False), ("", False), ("true", True), ("false", False)]:
            if variable is None:
                monkeypatch.delenv("GRAPHQL_INTROSPECTION", raising=False)
            else:
                monkeypatch.setenv("GRAPHQL_INTROSPECTION", variable)
            assert importlib.reload(server.settings).GRAPHQL_INTROSPECTION is expected
    finally:
        monkeypatch.undo()
        importlib.reload(server.settings)


PATIENT = "王小明"


def explode() -> None:
    raise RuntimeError(f"connection lost while reading {PATIENT}")


def test_internal_errors_are_masked_with_a_request_id_and_logged_without_patient_data(
    rows, monkeypatch, caplog
):
    monkeypatch.setattr(selectors, "filter_options", explode)
    with caplog.at_level(logging.ERROR, logger="graphql_schema.errors"):
        status, body, response = post("query Options { studyFilterOptions { examStatuses } }")
    assert status == 200
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    request_id = error["extensions"]["requestId"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert response["X-Request-ID"] == request_id
    assert PATIENT not in response.content.decode() and "RuntimeError" not in response.content.decode()

    [record] = [r for r in caplog.records if r.name == "graphql_schema.errors"]
    logged = record.getMessage()
    assert request_id in logged and "builtins.RuntimeError" in logged and "operation=Options" in logged
    assert "path=studyFilterOptions" in logged and "explode" in logged  # the stack
    assert PATIENT not in logged


def test_a_callers_request_id_is_used(rows, monkeypatch):
    monkeypatch.setattr(selectors, "filter_options", explode)
    _, body, _ = post("{ studyFilterOptions { examStatuses } }", headers={"X-Request-ID": "proxy-1234"})
    assert body["errors"][0]["extensions"]["requestId"] == "proxy-1234"


def test_with_debug_the_internal_message_is_shown(rows, monkeypatch, settings):
    settings.DEBUG = True
    monkeypatch.setattr(selectors, "filter_options", explode)
    [error] = gql_errors("{ studyFilterOptions { examStatuses } }")
    assert PATIENT in error["message"] and error["extensions"]["requestId"]


def test_client_errors_are_not_masked(rows):
    [error] = gql_errors("{ studies(pagination: {limit: 500}) { totalCount } }")
    assert error["message"] == "limit must be between 1 and 100"
    assert "extensions" not in error or error["extensions"].get("code") != "INTERNAL_SERVER_ERROR"
