"""The distinct values of the filterable fields, for the frontend's drop-downs.

They are facts about the whole table, which only imports change, so they are computed once per data version
and cached in the process (``cache.cached``).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.studies.models import Study
from server.studies.selectors.cache import cached

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


def distinct_values(field_name: str) -> list[str]:
    """Distinct non-empty values of one column, in code-point order (the column's collation on PostgreSQL)."""
    values = (
        Study.objects.filter(**{f"{field_name}__gt": ""})  # neither null nor empty
        .order_by(field_name)
        .values_list(field_name, flat=True)
        .distinct()
    )
    return sorted(values)  # SQLite's binary collation gives the same order; sorting makes it explicit


def filter_options() -> FilterOptions:
    """The options of the current data version, computed at most once per version and process."""
    return cached(("filter_options",), _compute_filter_options)


def _compute_filter_options() -> FilterOptions:
    return FilterOptions(*(distinct_values(name) for name in OPTION_FIELDS))
