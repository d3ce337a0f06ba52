"""The GraphQL schema: queries over the study query layer, with the safety extensions.

Resolvers only translate arguments and call ``server.studies.selectors``; they hold no query logic.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from functools import partial

import strawberry
from django.conf import settings
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info
from strawberry_django.optimizer import DjangoOptimizerExtension
from strawberry_django.pagination import OffsetPaginationInput

from graphql_schema import errors as error_handling
from graphql_schema import limits
from graphql_schema.access import (
    AdminRequired,
    AuditExtension,
    ViewerRequired,
    ViewerRequiredNoPatientData,
    note_returned,
)
from graphql_schema.audit import MAX_AUDIT_EVENTS, AuditEventType, resolve_audit_events
from graphql_schema.caching import ValidatedDocumentCache
from graphql_schema.execution import ColumnFastExecutionContext
from graphql_schema.filters import StudyFilter, matching_studies
from graphql_schema.ordering import StudyOrder, to_sorts
from graphql_schema.scalars import SCALAR_MAP
from graphql_schema.types import StudyFilterOptions, StudyPage, StudyStatistics, StudyType
from server.studies import selectors


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[ViewerRequired],
        description=(
            f"Studies matching `filters`, in `ordering` (default orderDatetime DESC), one page at a time: "
            f"`pagination.limit` defaults to {selectors.DEFAULT_PAGE_SIZE} and may be at most "
            f"{selectors.MAX_PAGE_SIZE}; a larger one is an error."
        ),
    )
    def studies(
        self,
        info: Info,
        filters: StudyFilter | None = None,
        ordering: list[StudyOrder] | None = None,
        pagination: OffsetPaginationInput | None = None,
    ) -> StudyPage:
        offset = pagination.offset if pagination else 0
        limit = pagination.limit if pagination and pagination.limit is not None else None
        limit = selectors.DEFAULT_PAGE_SIZE if limit is None or limit is strawberry.UNSET else limit
        selectors.check_page_bounds(offset, limit)
        return StudyPage(
            matching=matching_studies(filters, info), sorts=to_sorts(ordering), offset=offset, limit=limit
        )

    @strawberry.field(
        permission_classes=[ViewerRequired], description="One study by its exam id; null when there is none."
    )
    def study(self, info: Info, exam_id: str) -> StudyType | None:
        study = selectors.get_study(exam_id)
        note_returned(info, [study.pk] if study else [])
        return study  # type: ignore[return-value]

    @strawberry.field(
        permission_classes=[ViewerRequiredNoPatientData],
        description="The values each drop-down filter offers, from the whole table.",
    )
    def study_filter_options(self) -> StudyFilterOptions:
        # The cached selector object itself, whose fields are StudyFilterOptions' by name: copying it into
        # the GraphQL type (dataclasses.asdict) deep-copied every one of its values on every request.
        return selectors.filter_options()  # type: ignore[return-value]

    @strawberry.field(
        permission_classes=[ViewerRequired],
        description="Dashboard aggregates over the studies matching `filters`.",
    )
    def study_statistics(self, info: Info, filters: StudyFilter | None = None) -> StudyStatistics:
        return StudyStatistics(queryset=matching_studies(filters, info))

    @strawberry.field(
        permission_classes=[AdminRequired],
        description=(
            "The audit trail (admins only), oldest first: every read of patient data and every refusal. "
            f"`limit` at most {MAX_AUDIT_EVENTS}."
        ),
    )
    def audit_events(
        self,
        user: str | None = None,
        since: datetime.date | None = None,
        exam_id: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[AuditEventType]:
        return resolve_audit_events(user=user, since=since, exam_id=exam_id, offset=offset, limit=limit)


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
        execution_context_class=ColumnFastExecutionContext,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=[
            ValidatedDocumentCache,  # first: a remembered document skips parsing, the limits and validation
            partial(MaxTokensLimiter, max_token_count=limits.MAX_TOKENS),
            limits.DocumentGuard,  # before every rule that expands fragments
            partial(QueryDepthLimiter, max_depth=limits.MAX_DEPTH),
            partial(MaxAliasesLimiter, max_alias_count=limits.MAX_ALIASES),
            IntrospectionGate,
            AuditExtension,
            ExplicitDjangoOptimizer,
        ],
    )


schema = build_schema()
