"""A document is parsed and validated once per process (Strawberry's ParserCache and ValidationCache); what it
answers and what it refuses do not change, and the limits hold for documents first seen over them."""

from __future__ import annotations

import pytest

from graphql_schema.limits import GuardedValidationCache
from tests.graphql_support import gql, gql_errors, rows_fixture  # noqa: F401 (the module's data)

pytestmark = pytest.mark.django_db

PAGE = "query Page($limit: Int!) { studies(pagination: {limit: $limit}) { totalCount results { examId } } }"


@pytest.fixture
def validations():
    """How many documents graphql-core validated since the test began (the cache's misses), from an empty
    cache."""
    validate = GuardedValidationCache().cached_validate_document
    validate.cache_clear()
    yield lambda: validate.cache_info().misses
    validate.cache_clear()


def test_a_valid_document_is_validated_once_and_answers_each_requests_variables(rows, validations):
    assert len(gql(PAGE, {"limit": 3})["studies"]["results"]) == 3
    assert len(gql(PAGE, {"limit": 5})["studies"]["results"]) == 5
    assert len(gql(PAGE, {"limit": 1})["studies"]["results"]) == 1
    assert validations() == 1


def test_an_invalid_document_is_refused_every_time_with_the_same_message(rows, validations):
    messages = [gql_errors("{ studies { results { noSuchField } } }")[0]["message"] for _ in range(3)]
    assert "noSuchField" in messages[0] and messages == [messages[0]] * 3
    assert validations() == 1


def test_a_document_allowed_with_introspection_is_refused_once_it_is_turned_off(rows, validations, settings):
    query = "{ __schema { queryType { name } } }"
    settings.GRAPHQL_INTROSPECTION = True
    assert gql(query)["__schema"]["queryType"]["name"] == "Query"
    settings.GRAPHQL_INTROSPECTION = False
    assert "introspection has been disabled" in gql_errors(query)[0]["message"]
    assert validations() == 2  # the rules differ, so the cache keeps the two apart


def test_the_limits_still_refuse_a_document_first_seen_over_them(rows, validations):
    aliases = " ".join(f"a{i}: studyFilterOptions {{ examSources }}" for i in range(30))
    for _ in range(2):
        assert "aliases" in gql_errors(f"{{ {aliases} }}")[0]["message"].lower()


def test_a_document_the_guard_refuses_is_never_validated(rows, validations):
    """A fragment bomb costs graphql-core's rules 2^n walks; the guard refuses it before they run, and the
    validation cache must not run them anyway."""
    on = "on StudyFilterOptions"
    fragments = " ".join(f"fragment F{i} {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(12))
    bomb = f"{{ studyFilterOptions {{ ...F0 }} }} {fragments} fragment F12 {on} {{ examSources }}"
    errors = gql_errors(bomb)
    assert errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert validations() == 0
