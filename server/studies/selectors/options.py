"""The distinct values of the filterable fields, for the frontend's drop-downs.

They are facts about the whole table, which only imports change, so they are computed once per data version
and cached in the process (``cache.cached``). Every worker computes them again after each import, and every
REST search returns them, so on PostgreSQL they are read from each field's btree by a loose index scan:
about a millisecond at any size, where six ``SELECT DISTINCT``s took 0.46 s at 1,000,000 studies and 4 s at
10,000,000 (``Study.Meta.indexes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import Model

from server.core.cache import cached
from server.studies.loose_index_scan import distinct_values_sql
from server.studies.models import Study

OPTION_FIELDS = ("exam_status", "exam_source", "exam_item", "equipment_type", "exam_room", "exam_equipment")


@dataclass(frozen=True)
class FilterOptions:
    """Distinct, non-empty, sorted values of each filterable field."""

    exam_statuses: list[str]
    exam_sources: list[str]
    exam_items: list[str]
    equipment_types: list[str]
    exam_rooms: list[str]
    exam_equipments: list[str]


def distinct_values(field_name: str, model: type[Model] = Study) -> list[str]:
    """Distinct non-empty values of one column, in code-point order (the column's collation on PostgreSQL).
    The column needs a btree led by it (see ``loose_index_scan``)."""
    read = connections[model.objects.db]  # the alias reads go to (a replica, if there are any)
    column = model._meta.get_field(field_name).column
    quote = read.ops.quote_name
    with read.cursor() as cursor:
        cursor.execute(distinct_values_sql(quote(model._meta.db_table), quote(column)))
        found = cursor.fetchone()[0] or []
    return sorted(found)  # already in the columns' "C" order; sorted so as not to depend on it


def filter_options() -> FilterOptions:
    """The options of the current data version, computed at most once per version and process."""
    return cached(("filter_options",), _compute_filter_options)


def _compute_filter_options() -> FilterOptions:
    return FilterOptions(*(distinct_values(name) for name in OPTION_FIELDS))
