"""The distinct values of the filterable fields, for the frontend's drop-downs.

They are facts about the whole table, which only imports change, so they are computed once per data version
and cached in the process: a request costs one primary-key read of the version.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db import connection

from server.studies.models import Study
from server.studies.services import data_version_key

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


_cache: dict[tuple, FilterOptions] = {}
_lock = threading.Lock()


def distinct_values(field_name: str) -> list[str]:
    """Distinct non-empty values of one column, in code-point order (the column's collation on PostgreSQL)."""
    values = (
        Study.objects.exclude(**{f"{field_name}__isnull": True})
        .exclude(**{field_name: ""})
        .order_by(field_name)
        .values_list(field_name, flat=True)
        .distinct()
    )
    result = list(values)
    if connection.vendor != "postgresql":
        result.sort()  # SQLite's default collation is already binary; this only makes it explicit
    return result


def filter_options() -> FilterOptions:
    """The options of the current data version, computed at most once per version and process."""
    version = data_version_key()
    cached = _cache.get(version)
    if cached is not None:
        return cached
    with _lock:
        cached = _cache.get(version)
        if cached is None:
            cached = FilterOptions(*(distinct_values(name) for name in OPTION_FIELDS))
            _cache.clear()
            _cache[version] = cached
    return cached
