"""The Study object of the contract, written once: search results, detail and both exports use it.

Every datetime is the hospital's wall-clock time, rendered ``YYYY-MM-DDTHH:MM:SS`` (no zone, no fraction);
the birth date ``YYYY-MM-DD``; a missing value stays ``None`` (JSON null, an empty CSV cell).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from server.studies.columns import DATETIME_FIELDS, STUDY_FIELDS
from server.studies.models import Study


def format_datetime(value: dt.datetime | None) -> str | None:
    """``2025-11-06T10:30:00``: seconds, no zone, a four-digit year whatever the platform's strftime does."""
    if value is None:
        return None
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )


def format_date(value: dt.date | None) -> str | None:
    if value is None:
        return None
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _identity(value: Any) -> Any:
    return value


_CONVERTERS: tuple[Callable[[Any], Any], ...] = tuple(
    format_datetime if name in DATETIME_FIELDS else format_date if name == "patient_birth_date" else _identity
    for name in STUDY_FIELDS
)


def study_row(study: Study) -> tuple:
    """A model instance as the tuple ``iter_study_rows`` yields: raw values in STUDY_FIELDS order."""
    return tuple(getattr(study, name) for name in STUDY_FIELDS)


def present_row(row: Sequence[Any]) -> list[Any]:
    """Raw values in STUDY_FIELDS order → the contract's values (strings for dates, None kept)."""
    return [convert(value) for convert, value in zip(_CONVERTERS, row, strict=True)]


def study_json(row: Sequence[Any]) -> dict[str, Any]:
    """The contract's Study object, its 18 keys in contract order."""
    return dict(zip(STUDY_FIELDS, present_row(row), strict=True))
