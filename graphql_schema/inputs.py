"""Input types that every domain's filters and ordering share: lookups per kind of field, ranges, sort
direction.

Only cheap, index-friendly lookups are exposed: no regex (a client could run arbitrary expensive patterns), no
``DISTINCT`` (every table has a primary key, so it would only cost a sort of every match).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Generic, TypeVar

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet

from graphql_schema.scalars import LocalDateTime
from server.core.errors import InvalidQuery

T = TypeVar("T")
_SKIP = "Ignored when null."


@strawberry.input(description="Inclusive range.")
class Range(Generic[T]):
    """One input type per kind of value (``IntRange``, ``DateRange``, ``LocalDateTimeRange``: Strawberry
    names each after its value), one rule for all: the lookup ``<field>__range``, refused when start > end."""

    start: T
    end: T

    @strawberry_django.filter_field
    def filter(self, queryset: QuerySet, prefix: str) -> tuple[QuerySet, Q]:
        if self.start > self.end:  # type: ignore[operator]
            raise InvalidQuery("A range's start is after its end")
        # ``prefix`` is "<field>__range__": the lookup itself, as strawberry-django's own RangeLookup does.
        return queryset, Q(**{prefix[:-2]: [self.start, self.end]})


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
    range: Range[int] | None = strawberry_django.filter_field(description=f"Between, inclusive. {_SKIP}")
    is_null: bool | None = strawberry_django.filter_field(description=f"Is (true) or is not null. {_SKIP}")


@strawberry.input(description="Lookups on a nullable date.")
class DateLookup:
    exact: dt.date | None = strawberry_django.filter_field(description=f"Equal to. {_SKIP}")
    gte: dt.date | None = strawberry_django.filter_field(description=f"On or after. {_SKIP}")
    lte: dt.date | None = strawberry_django.filter_field(description=f"On or before. {_SKIP}")
    range: Range[dt.date] | None = strawberry_django.filter_field(description=f"Between, inclusive. {_SKIP}")
    is_null: bool | None = strawberry_django.filter_field(description=f"Is (true) or is not null. {_SKIP}")


@strawberry.input(description="Lookups on a wall-clock time that always has a value.")
class LocalDateTimeLookup:
    gte: LocalDateTime | None = strawberry_django.filter_field(description=f"At or after. {_SKIP}")
    lte: LocalDateTime | None = strawberry_django.filter_field(description=f"At or before. {_SKIP}")
    range: Range[LocalDateTime] | None = strawberry_django.filter_field(
        description=f"Between, inclusive. {_SKIP}"
    )


@strawberry.input(description="Lookups on a wall-clock time that may be null.")
class NullableLocalDateTimeLookup(LocalDateTimeLookup):
    is_null: bool | None = strawberry_django.filter_field(description=f"Is (true) or is not null. {_SKIP}")


@strawberry.enum(description="Sort direction; null values sort last either way.")
class SortDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"
