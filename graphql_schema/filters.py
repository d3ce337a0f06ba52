"""``StudyFilter``: free-text search plus strawberry-django style lookups per field, with AND / OR / NOT.

The lookups are compiled to one ``Q`` by strawberry-django's generic machinery (``process_filters``); the free
text is the query layer's ``search_condition``, the same as REST's ``q``. Only cheap, index-friendly lookups
are exposed: no regex (a client could run arbitrary expensive patterns), no ``DISTINCT`` (the table has a
primary key, so it would only cost a sort of every match).
"""

from __future__ import annotations

import datetime as dt

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet
from strawberry import UNSET
from strawberry.types import Info
from strawberry_django.filters import process_filters

from graphql_schema.scalars import LocalDateTime
from server.studies import selectors
from server.studies.models import Study

_SKIP = "Ignored when null."


def _range_condition(start: object, end: object, prefix: str) -> tuple[None, Q]:
    if start > end:  # type: ignore[operator]
        raise selectors.InvalidQuery("A range's start is after its end")
    # ``prefix`` is "<field>__range__": the lookup itself, as strawberry-django's own RangeLookup does it.
    return None, Q(**{prefix[:-2]: [start, end]})


@strawberry.input(description="Inclusive range of integers.")
class IntRange:
    start: int
    end: int

    @strawberry_django.filter_field
    def filter(self, queryset: QuerySet, prefix: str) -> tuple[QuerySet, Q]:
        return queryset, _range_condition(self.start, self.end, prefix)[1]


@strawberry.input(description="Inclusive range of dates.")
class DateRange:
    start: dt.date
    end: dt.date

    @strawberry_django.filter_field
    def filter(self, queryset: QuerySet, prefix: str) -> tuple[QuerySet, Q]:
        return queryset, _range_condition(self.start, self.end, prefix)[1]


@strawberry.input(description="Inclusive range of wall-clock times.")
class LocalDateTimeRange:
    start: LocalDateTime
    end: LocalDateTime

    @strawberry_django.filter_field
    def filter(self, queryset: QuerySet, prefix: str) -> tuple[QuerySet, Q]:
        return queryset, _range_condition(self.start, self.end, prefix)[1]


@strawberry.input(description="Lookups on a text field that always has a value.")
class TextLookup:
    exact: str | None = strawberry_django.filter_field(description=f"Equal to. {_SKIP}")
    in_list: list[str] | None = strawberry_django.filter_field(description=f"Equal to any of. {_SKIP}")
    i_contains: str | None = strawberry_django.filter_field(description=f"Contains, ignoring case. {_SKIP}")
    starts_with: str | None = strawberry_django.filter_field(
        description=f"Starts with (case-sensitive). {_SKIP}"
    )


@strawberry.input(description="Lookups on a text field that may be null.")
class NullableTextLookup(TextLookup):
    is_null: bool | None = strawberry_django.filter_field(description=f"Is (true) or is not null. {_SKIP}")


@strawberry.input(description="Lookups on a nullable integer.")
class IntLookup:
    exact: int | None = strawberry_django.filter_field(description=f"Equal to. {_SKIP}")
    gte: int | None = strawberry_django.filter_field(description=f"Greater than or equal to. {_SKIP}")
    lte: int | None = strawberry_django.filter_field(description=f"Less than or equal to. {_SKIP}")
    range: IntRange | None = strawberry_django.filter_field(description=f"Between, inclusive. {_SKIP}")
    is_null: bool | None = strawberry_django.filter_field(description=f"Is (true) or is not null. {_SKIP}")


@strawberry.input(description="Lookups on a nullable date.")
class DateLookup:
    exact: dt.date | None = strawberry_django.filter_field(description=f"Equal to. {_SKIP}")
    gte: dt.date | None = strawberry_django.filter_field(description=f"On or after. {_SKIP}")
    lte: dt.date | None = strawberry_django.filter_field(description=f"On or before. {_SKIP}")
    range: DateRange | None = strawberry_django.filter_field(description=f"Between, inclusive. {_SKIP}")
    is_null: bool | None = strawberry_django.filter_field(description=f"Is (true) or is not null. {_SKIP}")


@strawberry.input(description="Lookups on a wall-clock time that always has a value.")
class LocalDateTimeLookup:
    gte: LocalDateTime | None = strawberry_django.filter_field(description=f"At or after. {_SKIP}")
    lte: LocalDateTime | None = strawberry_django.filter_field(description=f"At or before. {_SKIP}")
    range: LocalDateTimeRange | None = strawberry_django.filter_field(
        description=f"Between, inclusive. {_SKIP}"
    )


@strawberry.input(description="Lookups on a wall-clock time that may be null.")
class NullableLocalDateTimeLookup(LocalDateTimeLookup):
    is_null: bool | None = strawberry_django.filter_field(description=f"Is (true) or is not null. {_SKIP}")


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
