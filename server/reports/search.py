"""Report search (a selector that REST's ``GET /reports/search`` and GraphQL's ``reports`` both call):
filters, free text, ordering and paging, over ``report_search``, which holds each report's current state
only, so a superseded version can never match.

The total is exact, and cached per process until the next write of reports (``count_reports``). As for
studies (``server.studies.selectors.search.page_of``), the total is known before the page is read, and
chooses the plan: few matches are taken from the filters' indexes and sorted (with sort keys no index
serves, so PostgreSQL cannot choose otherwise); many are read along the sort's index until the page is
full (``walk_along_index`` weighs the two).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import DateTimeField, F, Func, Q, QuerySet

from server.core.db import compile_query
from server.core.errors import InvalidQuery
from server.reports import write_version
from server.reports.models import Report, ReportSearch
from server.reports.selectors import reports
from server.reports.text_search import term_condition
from server.studies.selectors import check_page_bounds
from server.studies.selectors.search import check_text, search_terms

SORTABLE_FIELDS = ("verified_at", "created_at")


@dataclass(frozen=True)
class ReportFilters:
    """Everything the contract's report search accepts; empty tuples and ``None`` mean "no condition".
    Multi-valued fields match any of their values; the bounds are inclusive, on verified_at."""

    search: str | None = None
    exam_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    report_types: tuple[str, ...] = ()
    radiologists: tuple[str, ...] = ()
    verified_from: dt.datetime | None = None
    verified_to: dt.datetime | None = None

    @property
    def has_terms(self) -> bool:
        """Whether the free text holds a term (which makes a walk along the sort's index dearer)."""
        return bool(self.search and self.search.split())


# Column of ReportSearch each multi-valued filter compares.
_ANY_OF_FIELDS = {
    "exam_ids": "exam_id",
    "statuses": "status",
    "report_types": "report_type",
    "radiologists": "radiologist",
}


@dataclass(frozen=True)
class ReportSort:
    """The order of a search: by ``field`` (nulls last), then by report_id, ascending."""

    field: str = "verified_at"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.field not in SORTABLE_FIELDS:
            raise InvalidQuery(f"Cannot sort reports by {self.field!r}")


DEFAULT_REPORT_SORT = ReportSort()


@dataclass(frozen=True)
class ReportPage:
    """One page of a report search: its reports (with current version and study) and the exact total."""

    total: int
    offset: int
    limit: int
    results: list[Report] = field(default_factory=list)


def filter_condition(filters: ReportFilters) -> Q:
    """The WHERE clause of ``filters`` on ``ReportSearch``, or InvalidQuery with a message for the client."""
    condition = Q()
    for term in search_terms(filters.search):
        condition &= term_condition(term)
    for attribute, column in _ANY_OF_FIELDS.items():
        values = getattr(filters, attribute)
        check_text(attribute, values)
        values = [value for value in values if value != ""]
        if values:
            condition &= Q(**{f"{column}__in": values})
    start, end = filters.verified_from, filters.verified_to
    if start is not None and end is not None and start > end:
        raise InvalidQuery("The start of the date range is after its end")
    if start is not None:
        condition &= Q(verified_at__gte=start)
    if end is not None:
        condition &= Q(verified_at__lte=end)
    return condition


def matching_reports(filters: ReportFilters | None = None) -> QuerySet[ReportSearch]:
    """The search rows matching ``filters``, unordered."""
    queryset = ReportSearch.objects.all()
    return queryset.filter(filter_condition(filters)) if filters is not None else queryset


class _NotAlongIndex(Func):
    """A sort key through a no-op (``+ interval '0'``) that no index matches (see the module docstring)."""

    template = "(%(expressions)s + interval '0')"
    output_field = DateTimeField()


def order_reports(
    queryset: QuerySet[ReportSearch], sort: ReportSort = DEFAULT_REPORT_SORT, along_index: bool = True
) -> QuerySet[ReportSearch]:
    """``sort``'s key, nulls last, then report_id ascending: a total order, so pages never overlap.
    Each of the four orders has an index of its own (``ReportSearch.Meta.indexes``)."""
    key = F(sort.field) if along_index else _NotAlongIndex(F(sort.field))
    nulls_last = True if sort.field == "verified_at" else None  # created_at is never null
    first = key.desc(nulls_last=nulls_last) if sort.descending else key.asc(nulls_last=nulls_last)
    return queryset.order_by(first, "report_id")


def search_reports(
    filters: ReportFilters | None = None,
    sort: ReportSort = DEFAULT_REPORT_SORT,
    offset: int = 0,
    limit: int = 20,
) -> ReportPage:
    """A page of the reports matching ``filters`` in ``sort`` order, with the exact total."""
    check_page_bounds(offset, limit)
    matching = matching_reports(filters)
    total = count_reports(matching)
    results = page_of(matching, sort, offset, limit, total, filters is not None and filters.has_terms)
    return ReportPage(total=total, offset=offset, limit=limit, results=results)


def count_reports(matching: QuerySet[ReportSearch]) -> int:
    """The exact number of ``matching`` rows, counted once per report write version (``write_version``)."""
    compiled = compile_query(matching.order_by())
    if compiled is None:
        return 0
    sql, params = compiled

    def count() -> int:
        with _index_plans(matching.db) as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql}) AS matching", params)  # noqa: S608
            return cursor.fetchone()[0]

    return write_version.cached(("count", sql, repr(params)), count, using=matching.db)


@contextmanager
def _index_plans(using: str, walk: bool = False) -> Iterator[CursorWrapper]:
    """A cursor in a transaction with sequential scans off. PostgreSQL does not know that testing a row's
    tokens means fetching them from TOAST, so for a term in many reports it would read every row's tokens
    (seconds at a million) rather than take the matches from the GIN index; every condition here has an
    index, so nothing is lost. With ``walk``, bitmap scans are off too: PostgreSQL guesses that a phrase
    checked with LIKE matches one report where it matches 25,000, and would fetch and test them all (0.2 s)
    rather than read the sort's index until the page is full (0.04 s)."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if walk:
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        yield cursor


# Microseconds per row, measured at a million reports (docs/performance.md): taking a match from the
# indexes and sorting it, against reading a row along the sort's index and testing it, which for a text
# condition means fetching its tokens (and perhaps its document) from TOAST.
SORT_COST_US = 1.5
WALK_COST_US = 1.0
WALK_TEXT_COST_US = 30.0


def walk_along_index(total: int, offset: int, limit: int, text: bool, table_rows: int) -> bool:
    """Whether reading the sort's index until the page is full costs less than sorting all ``total``
    matches. A walk reads about ``table_rows / total`` rows per match it keeps (fewer when a date range
    bounds the sort key itself, which only favours the walk further)."""
    walked = (offset + limit) * max(table_rows, total) / max(total, 1)
    return walked * (WALK_TEXT_COST_US if text else WALK_COST_US) < total * SORT_COST_US


def page_of(
    matching: QuerySet[ReportSearch],
    sort: ReportSort,
    offset: int,
    limit: int,
    total: int,
    text: bool = False,
) -> list[Report]:
    """Reports ``offset`` to ``offset + limit`` of ``matching`` (``total`` rows), with version and study;
    ``text``: the filters hold search terms."""
    if offset >= total:
        return []
    along_index = walk_along_index(total, offset, limit, text, _table_rows(matching.db))
    ordered = order_reports(matching, sort, along_index=along_index)
    sql, params = ordered.values_list("report_id", flat=True)[offset : offset + limit].query.sql_with_params()
    with _index_plans(matching.db, walk=along_index) as cursor:
        cursor.execute(sql, params)
        report_ids = [row[0] for row in cursor.fetchall()]
    return reports_in_order(report_ids)


def _table_rows(using: str) -> int:
    """PostgreSQL's estimate of the reports' number (kept by ANALYZE and autovacuum): enough to choose a
    plan by, at the cost of one catalogue lookup."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'report_search'::regclass")
        return max(cursor.fetchone()[0], 0)


def reports_in_order(report_ids: list[str]) -> list[Report]:
    """These reports, with current version and study, in the order of ``report_ids``."""
    found = reports().in_bulk(report_ids)
    return [found[report_id] for report_id in report_ids if report_id in found]
