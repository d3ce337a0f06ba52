"""A document is parsed and validated once per process; what it answers and what it refuses do not change."""

from __future__ import annotations

import pytest
import strawberry.schema.schema as strawberry_schema

from graphql_schema import caching
from tests.graphql_support import gql, gql_errors, rows_fixture  # noqa: F401 (the module's data)

pytestmark = pytest.mark.django_db

PAGE = "query Page($limit: Int!) { studies(pagination: {limit: $limit}) { totalCount results { examId } } }"


@pytest.fixture
def validations(monkeypatch) -> list[object]:
    """Every document graphql-core validates, from a cache emptied for the test."""
    caching.clear()
    seen: list[object] = []
    real = strawberry_schema.validate_document

    def counting(schema, document, rules):
        seen.append(document)
        return real(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    yield seen
    caching.clear()


def test_a_valid_document_is_validated_once_and_answers_each_requests_variables(rows, validations):
    assert len(gql(PAGE, {"limit": 3})["studies"]["results"]) == 3
    assert len(gql(PAGE, {"limit": 5})["studies"]["results"]) == 5
    assert len(validations) == 1


def test_an_invalid_document_is_validated_and_refused_every_time(rows, validations):
    for _ in range(2):
        errors = gql_errors("{ studies { results { noSuchField } } }")
        assert "noSuchField" in errors[0]["message"]
    assert len(validations) == 2


def test_a_document_allowed_with_introspection_is_refused_once_it_is_turned_off(rows, validations, settings):
    query = "{ __schema { queryType { name } } }"
    settings.GRAPHQL_INTROSPECTION = True
    assert gql(query)["__schema"]["queryType"]["name"] == "Query"
    settings.GRAPHQL_INTROSPECTION = False
    assert "introspection has been disabled" in gql_errors(query)[0]["message"]


def test_the_limits_still_refuse_a_document_first_seen_over_them(rows, validations):
    aliases = " ".join(f"a{i}: studyFilterOptions {{ examSources }}" for i in range(30))
    for _ in range(2):
        assert gql_errors(f"{{ {aliases} }}")
