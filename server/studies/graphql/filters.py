"""``StudyFilter``: free-text search plus strawberry-django style lookups per field, with AND / OR / NOT.

The lookups are compiled to one ``Q`` by strawberry-django's generic machinery (``process_filters``); the free
text is the query layer's ``search_condition``, the same as REST's ``q``.
"""

from __future__ import annotations

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet
from strawberry import UNSET
from strawberry.types import Info
from strawberry_django.filters import process_filters

from graphql_schema.inputs import (
    DateLookup,
    IntLookup,
    LocalDateTimeLookup,
    NullableLocalDateTimeLookup,
    NullableTextLookup,
    TextLookup,
)
from server.studies import selectors
from server.studies.models import Study


@strawberry.input(
    name="StudyFilter",
    description=(
        "Conditions on studies; all given conditions must hold. `OR` matches studies that satisfy the "
        "conditions beside it or the ones inside it; `NOT` excludes the studies its conditions match."
    ),
)
class StudyFilter:
    @strawberry_django.filter_field(
        description=(
            "Free text, at most 200 characters: each whitespace-separated term must occur, ignoring case, in "
            "the exam id, chart number, order number, patient name, exam description or exam item."
        )
    )
    def search(self, value: str, prefix: str) -> Q:
        return selectors.search_condition(value)

    exam_id: TextLookup | None = UNSET
    medical_record_no: NullableTextLookup | None = UNSET
    application_order_no: NullableTextLookup | None = UNSET
    patient_name: TextLookup | None = UNSET
    patient_gender: NullableTextLookup | None = UNSET
    patient_birth_date: DateLookup | None = UNSET
    patient_age: IntLookup | None = UNSET
    exam_status: TextLookup | None = UNSET
    exam_source: TextLookup | None = UNSET
    exam_item: TextLookup | None = UNSET
    exam_description: NullableTextLookup | None = UNSET
    exam_room: NullableTextLookup | None = UNSET
    exam_equipment: NullableTextLookup | None = UNSET
    equipment_type: NullableTextLookup | None = UNSET
    order_datetime: LocalDateTimeLookup | None = UNSET
    check_in_datetime: NullableLocalDateTimeLookup | None = UNSET
    report_certification_datetime: NullableLocalDateTimeLookup | None = UNSET
    certified_physician: NullableTextLookup | None = UNSET

    AND: StudyFilter | None = strawberry.field(default=UNSET, description="All of these too.")
    OR: StudyFilter | None = strawberry.field(default=UNSET, description="Either the rest, or these.")
    NOT: StudyFilter | None = strawberry.field(default=UNSET, description="None of these.")


def matching_studies(filters: StudyFilter | None, info: Info | None = None) -> QuerySet[Study]:
    """The studies matching ``filters``, unordered: the query layer's set, narrowed by the lookups."""
    queryset = selectors.filter_studies()
    if filters is None or filters is UNSET:
        return queryset
    queryset, condition = process_filters(filters, queryset, info)  # type: ignore[arg-type]
    return selectors.studies_where(condition, queryset)
