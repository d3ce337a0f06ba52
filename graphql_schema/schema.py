"""The GraphQL schema: every domain's root fields (each app's ``graphql`` package, as NetBox lays them out)
composed into one ``Query``, with the project's safety extensions, error handling and execution.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import strawberry
from django.conf import settings
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry_django.optimizer import DjangoOptimizerExtension

from graphql_schema import errors as error_handling
from graphql_schema import limits
from graphql_schema.access import AuditExtension
from graphql_schema.execution import ColumnFastExecutionContext
from graphql_schema.scalars import SCALAR_MAP
from server.access.graphql.schema import AuditQuery
from server.reports.graphql.schema import ReportMutation, ReportQuery
from server.studies.graphql.schema import StudyQuery


@strawberry.type
class Query(StudyQuery, ReportQuery, AuditQuery):
    """Every domain's root fields, composed; a new domain adds its query class here."""


@strawberry.type
class Mutation(ReportMutation):
    """Every domain's mutations, composed."""


def introspection_enabled() -> bool:
    """Introspection is on with DEBUG or when GRAPHQL_INTROSPECTION enables it (read per request)."""
    return bool(settings.DEBUG or getattr(settings, "GRAPHQL_INTROSPECTION", False))


class IntrospectionGate(SchemaExtension):
    """Refuse ``__schema`` and ``__type`` unless introspection is enabled (``__typename`` stays allowed)."""

    def on_operation(self) -> Iterator[None]:
        if not introspection_enabled():
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield


class StudySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Replaces Strawberry's logging of every error with its message: client errors may quote the
        # client's input (patient names); internal ones are logged and masked by graphql_schema.errors.
        # This hook sees the errors of every stage (parse, validation, execution, a failing extension),
        # which a MaskErrors extension would not.
        if not introspection_enabled():
            # "Did you mean ...?" would hand out the schema that disabled introspection keeps private.
            for error in errors:
                self.remove_field_suggestion(error)
        error_handling.process_errors(errors, execution_context)


class ExplicitDjangoOptimizer(DjangoOptimizerExtension):
    """strawberry-django's optimizer, applied where a resolver asks for it, not around every field.

    The extension wraps every field's resolution (each of a 20-row page's 360 values) to optimize any
    QuerySet a resolver returns. This schema's resolvers never return one: those that read studies call
    ``optimize()`` themselves, since the audit trail must see the rows before they leave (``results``).
    Without the wrapper the optimizer works as before, at no cost per value; a resolver that returned a
    QuerySet would be refused by ``test_no_resolver_returns_a_queryset``.
    """

    resolve = SchemaExtension.resolve  # Strawberry then leaves the extension out of field resolution


def build_schema() -> StudySchema:
    return StudySchema(
        query=Query,
        mutation=Mutation,
        execution_context_class=ColumnFastExecutionContext,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=[
            partial(MaxTokensLimiter, max_token_count=limits.MAX_TOKENS),
            partial(ParserCache, maxsize=limits.CACHED_DOCUMENTS),  # each distinct document parsed once
            partial(AddValidationRules, list(limits.LIMIT_RULES)),  # depth and aliases
            IntrospectionGate,
            limits.DocumentGuard,  # before every rule that expands fragments
            limits.GuardedValidationCache,  # each distinct document and set of rules validated once
            AuditExtension,
            ExplicitDjangoOptimizer,
        ],
    )


schema = build_schema()
