"""The studies' root fields; the project's schema (``graphql_schema.schema``) composes them with the other
domains'.

Resolvers only translate arguments and call ``server.studies.selectors``; they hold no query logic.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info
from strawberry_django.pagination import OffsetPaginationInput

from graphql_schema.access import ViewerRequired, ViewerRequiredNoPatientData, note_returned
from server.studies import selectors
from server.studies.graphql.filters import StudyFilter, matching_studies
from server.studies.graphql.ordering import StudyOrder, to_sorts
from server.studies.graphql.types import StudyFilterOptions, StudyPage, StudyStatistics, StudyType


@strawberry.type
class StudyQuery:
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
