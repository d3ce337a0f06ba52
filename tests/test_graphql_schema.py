"""The public GraphQL schema, pinned by a snapshot so that any change of it shows in review; its scalar."""

from __future__ import annotations

import datetime as dt
import typing

import pytest
from django.db.models import QuerySet
from django.db.models.manager import BaseManager
from graphql import GraphQLError
from strawberry_django.fields.field import StrawberryDjangoField

from graphql_schema.fields import ColumnField
from graphql_schema.scalars import parse_local_datetime, serialize_local_datetime
from graphql_schema.schema import schema


def test_schema_sdl(snapshot):
    """Update with ``make test PYTEST_ARGS="--snapshot-update tests/test_graphql_schema.py"`` and review."""
    assert schema.as_str() == snapshot


def test_the_schema_has_the_issues_shape():
    sdl = schema.as_str()
    for line in [
        "studies(filters: StudyFilter = null, ordering: [StudyOrder!] = null, "
        "pagination: OffsetPaginationInput = null): StudyPage!",
        "study(examId: String!): Study",
        "studyFilterOptions: StudyFilterOptions!",
        "studyStatistics(filters: StudyFilter = null): StudyStatistics!",
        "input StudyOrder @oneOf {",
    ]:
        assert line in sdl
    assert "regex" not in sdl.lower() and "DISTINCT" not in sdl


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.datetime(2025, 11, 6, 10, 30), "2025-11-06T10:30:00"),
        (dt.datetime(2025, 11, 6, 10, 30, 5, 999_999), "2025-11-06T10:30:05"),
        (dt.datetime(999, 1, 2, 3, 4, 5), "0999-01-02T03:04:05"),
    ],
)
def test_local_datetime_is_rendered_without_zone_or_fraction(value, text):
    assert serialize_local_datetime(value) == text


def test_an_aware_datetime_is_not_rendered():
    with pytest.raises(ValueError, match="time zone"):
        serialize_local_datetime(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


def test_local_datetime_input():
    assert parse_local_datetime("2025-11-06T10:30:00") == dt.datetime(2025, 11, 6, 10, 30)
    for bad in ["2025-11-06", "2025-11-06 10:30:00", "2025-11-06T10:30:00Z", "2025-11-06T10:30:00.5", 5]:
        with pytest.raises(GraphQLError, match="YYYY-MM-DDTHH:MM:SS"):
            parse_local_datetime(bad)
    with pytest.raises(GraphQLError, match="not a valid date"):
        parse_local_datetime("2025-02-29T00:00:00")


def test_no_resolver_returns_a_queryset():
    """The optimizer runs only where a resolver calls ``optimize()`` (``schema.ExplicitDjangoOptimizer``):
    a field that handed a QuerySet to GraphQL would load every column of every row it reaches. A relation
    field (a study's reports) may be strawberry-django's own: ``optimize()`` at the root plans its prefetch
    from the selection, and it resolves from that."""
    checked = 0
    for graphql_type in schema.schema_converter.type_map.values():
        definition = getattr(graphql_type, "definition", None)
        for field in getattr(definition, "fields", ()):
            if isinstance(field, StrawberryDjangoField) and not field.is_relation:
                # strawberry-django's fields resolve to QuerySets unless they are a loaded row's columns.
                assert isinstance(field, ColumnField), f"{definition.name}.{field.name}"
            if field.base_resolver is not None:
                returns = typing.get_type_hints(field.base_resolver.wrapped_func).get("return")
                origin = typing.get_origin(returns) or returns
                assert not (isinstance(origin, type) and issubclass(origin, QuerySet | BaseManager)), (
                    f"{definition.name}.{field.name} returns {returns}"
                )
                checked += 1
    assert checked >= 5  # the root queries and the page's fields were seen
