"""Study search: filters, free text, ordering and paging."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from django.db import connections
from django.db.models import DateTimeField, F, Func, IntegerField, Q, QuerySet

from server.core.cache import cached, query_key
from server.core.db import compile_query
from server.core.errors import InvalidQuery
from server.studies.models import Study
from server.studies.selectors.text_search import term_condition

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_SEARCH_LENGTH = 200
# patient_age is a smallint; a bound beyond it could only be a mistake (or an attempt at an overflow).
MAX_AGE_BOUND = 32767


@dataclass(frozen=True)
class StudyFilters:
    """Everything the contract's search accepts. Empty tuples and ``None`` mean "no condition".

    Multi-valued fields match any of their values; the date bounds are inclusive, on order_datetime.
    """

    search: str | None = None
    exam_statuses: tuple[str, ...] = ()
    exam_sources: tuple[str, ...] = ()
    exam_items: tuple[str, ...] = ()
    equipment_types: tuple[str, ...] = ()
    patient_genders: tuple[str, ...] = ()
    exam_rooms: tuple[str, ...] = ()
    exam_equipments: tuple[str, ...] = ()
    certified_physicians: tuple[str, ...] = ()
    exam_ids: tuple[str, ...] = ()
    application_order_no: str | None = None
    medical_record_no: str | None = None
    patient_age_min: int | None = None
    patient_age_max: int | None = None
    order_datetime_from: dt.datetime | None = None
    order_datetime_to: dt.datetime | None = None


# Model field of each multi-valued filter of StudyFilters.
_ANY_OF_FIELDS = {
    "exam_statuses": "exam_status",
    "exam_sources": "exam_source",
    "exam_items": "exam_item",
    "equipment_types": "equipment_type",
    "patient_genders": "patient_gender",
    "exam_rooms": "exam_room",
    "exam_equipments": "exam_equipment",
    "certified_physicians": "certified_physician",
    "exam_ids": "exam_id",
}

SORTABLE_FIELDS = (
    "order_datetime",
    "check_in_datetime",
    "report_certification_datetime",
    "patient_name",
    "patient_age",
    "exam_id",
)


@dataclass(frozen=True)
class Sort:
    """One sort key; ``field`` is one of SORTABLE_FIELDS."""

    field: str
    descending: bool = False

    def __post_init__(self) -> None:
        if self.field not in SORTABLE_FIELDS:
            raise InvalidQuery(f"Cannot sort by {self.field!r}")


DEFAULT_SORT: tuple[Sort, ...] = (Sort("order_datetime", descending=True),)


@dataclass(frozen=True)
class Page:
    """One page of a search: the studies on it and the total before paging."""

    total: int
    offset: int
    limit: int
    results: list[Study] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.results) < self.total


def search_terms(text: str | None) -> list[str]:
    """The whitespace-separated terms of a free-text search; blank text has none."""
    if text is None:
        return []
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidQuery(f"Search text must be at most {MAX_SEARCH_LENGTH} characters")
    if "\x00" in text:
        raise InvalidQuery("Search text must not contain NUL characters")
    return text.split()


def check_text(name: str, value: object) -> None:
    """PostgreSQL text cannot hold a NUL character: a value with one can match nothing and is refused."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidQuery(f"{name} must not contain NUL characters")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            check_text(name, item)


def check_condition(condition: Q) -> None:
    """Every value compared in ``condition`` (a compiled filter of GraphQL's lookups) is storable text."""
    for child in condition.children:
        if isinstance(child, Q):
            check_condition(child)
        elif isinstance(child, tuple) and len(child) == 2 and isinstance(child[0], str):
            check_text(child[0].split("__")[0], child[1])
        # Anything else is an expression the query layer built itself (the free-text conditions).


def search_condition(text: str | None) -> Q:
    """Every term must occur, ignoring ASCII case, as a substring of at least one of SEARCHED_FIELDS."""
    condition = Q()
    for term in search_terms(text):
        condition &= term_condition(term)
    return condition


def filter_condition(filters: StudyFilters) -> Q:
    """The WHERE clause of ``filters`` as one ``Q``, for callers that combine it with their own."""
    condition = search_condition(filters.search)
    for attribute in ("application_order_no", "medical_record_no", *_ANY_OF_FIELDS):
        check_text(attribute, getattr(filters, attribute))
    for attribute in ("patient_age_min", "patient_age_max"):
        bound = getattr(filters, attribute)
        if bound is not None and not 0 <= bound <= MAX_AGE_BOUND:
            raise InvalidQuery(f"{attribute} must be between 0 and {MAX_AGE_BOUND}")
    for attribute, model_field in _ANY_OF_FIELDS.items():
        values = [value for value in getattr(filters, attribute) if value != ""]
        if values:
            condition &= Q(**{f"{model_field}__in": values})
    for name in ("application_order_no", "medical_record_no"):
        value = getattr(filters, name)
        if value:
            condition &= Q(**{name: value})
    if filters.patient_age_min is not None:
        condition &= Q(patient_age__gte=filters.patient_age_min)
    if filters.patient_age_max is not None:
        condition &= Q(patient_age__lte=filters.patient_age_max)
    start, end = filters.order_datetime_from, filters.order_datetime_to
    if start is not None and end is not None and start > end:
        raise InvalidQuery("The start of the date range is after its end")
    if start is not None:
        condition &= Q(order_datetime__gte=start)
    if end is not None:
        condition &= Q(order_datetime__lte=end)
    return condition


def filter_studies(
    filters: StudyFilters | None = None, queryset: QuerySet[Study] | None = None
) -> QuerySet[Study]:
    """The studies matching ``filters``, unordered."""
    queryset = Study.objects.all() if queryset is None else queryset
    if filters is None:
        return queryset
    return queryset.filter(filter_condition(filters))


def studies_where(condition: Q, queryset: QuerySet[Study] | None = None) -> QuerySet[Study]:
    """The studies matching a condition that a caller compiled itself (GraphQL's lookups), unordered."""
    check_condition(condition)
    queryset = Study.objects.all() if queryset is None else queryset
    return queryset.filter(condition) if condition else queryset


class _NotAlongIndex(Func):
    """A sort key through a no-op (``+ 0``, ``|| ''``) that no index matches (PostgreSQL; see ``page_of``)."""

    def __init__(self, field_name: str) -> None:
        model_field = Study._meta.get_field(field_name)
        if isinstance(model_field, DateTimeField):
            no_op = "+ interval '0'"
        elif isinstance(model_field, IntegerField):
            no_op = "+ 0"
        else:
            no_op = "|| ''"  # the column's "C" collation carries over to the result
        super().__init__(F(field_name), template=f"(%(expressions)s {no_op})", output_field=model_field)


def order_studies(
    queryset: QuerySet[Study], sorts: Sequence[Sort] = DEFAULT_SORT, along_index: bool = True
) -> QuerySet[Study]:
    """Order by ``sorts``, nulls last, then by exam_id in the direction of the first key.

    exam_id is unique, so the order is total and pages never overlap or skip a study. With ``along_index``
    false the keys are written so that PostgreSQL cannot read them from an index (see ``page_of``).
    """
    sorts = tuple(sorts) or DEFAULT_SORT

    def key(name: str):
        return F(name) if along_index else _NotAlongIndex(name)

    expressions = []
    for sort in sorts:
        column = key(sort.field)
        # NULLS LAST only where nulls can occur: PostgreSQL does not know that a NOT NULL column's
        # "DESC NULLS LAST" equals its "DESC", and would sort every row instead of reading the index.
        nulls_last = True if Study._meta.get_field(sort.field).null else None
        expressions.append(
            column.desc(nulls_last=nulls_last) if sort.descending else column.asc(nulls_last=nulls_last)
        )
        if sort.field == "exam_id":
            break
    else:
        expressions.append(key("exam_id").desc() if sorts[0].descending else key("exam_id").asc())
    return queryset.order_by(*expressions)


def check_page_bounds(offset: int, limit: int) -> None:
    if offset < 0:
        raise InvalidQuery("offset must be 0 or more")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidQuery(f"limit must be between 1 and {MAX_PAGE_SIZE}")


def count_studies(queryset: QuerySet[Study]) -> int:
    """The exact number of studies in ``queryset``, computed once per data version (see ``cache``).

    An exact total is what the contract promises; a million-row count costs tens of milliseconds, so the
    landing page and repeated searches reuse it until the next import.
    """
    unordered = queryset.order_by()
    compiled = compile_query(unordered)
    if compiled is None:
        return 0
    # Counted over the SQL just compiled for the key (PostgreSQL flattens the subquery): the ORM's count()
    # would compile the query a second time, a third of a millisecond on every search.
    return cached(
        query_key(unordered, "count", compiled=compiled), partial(_count_rows, unordered.db, *compiled)
    )


def _count_rows(alias: str, sql: str, params: tuple) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS matching", params)  # noqa: S608
        return cursor.fetchone()[0]


# Below this many matches a page is cut from all the matches, sorted; from this many on, by reading the sort
# key's index until the page is full. See ``page_of``.
SORT_MATCHES_BELOW = 5_000


def page_of(
    matching: QuerySet[Study], sorts: Sequence[Sort], offset: int, limit: int, total: int
) -> list[Study]:
    """Rows ``offset`` to ``offset + limit`` of ``matching`` (which has ``total`` rows) in ``sorts`` order.

    PostgreSQL guesses how many rows a free-text condition matches, and for a selective term often guesses
    hundreds where there are a handful. With a LIMIT it then reads the sort key's index from the top,
    testing every row, to fill the page early: for a chart number with 4 matches that read all 1,000,000
    rows (3 s). The exact total is known here before the page is read (it is computed, or cached, first),
    so a small match set is sorted with keys no index can serve, which leaves PostgreSQL only the filters'
    own indexes to find the matches; a large one keeps the index walk, which fills a page after a few rows.
    """
    if offset >= total:
        return []
    ordered = order_studies(matching, sorts, along_index=total >= SORT_MATCHES_BELOW)
    return list(ordered[offset : offset + limit])


def search_studies(
    filters: StudyFilters | None = None,
    sorts: Sequence[Sort] = DEFAULT_SORT,
    offset: int = 0,
    limit: int = DEFAULT_PAGE_SIZE,
    queryset: QuerySet[Study] | None = None,
) -> Page:
    """A page of matching studies with the exact total. ``queryset`` lets a caller narrow the columns."""
    check_page_bounds(offset, limit)
    matching = filter_studies(filters, queryset)
    total = count_studies(matching)
    results = page_of(matching, sorts, offset, limit, total)
    return Page(total=total, offset=offset, limit=limit, results=results)


def get_study(exam_id: str) -> Study | None:
    """One study by its exam_id, or None (an id with a NUL character, which no study can have, included)."""
    if "\x00" in exam_id:
        return None
    return Study.objects.filter(pk=exam_id).first()
