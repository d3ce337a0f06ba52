"""The Study object of the contract, written once: search results, detail and both exports use it.

Every datetime is the hospital's wall-clock time, rendered ``YYYY-MM-DDTHH:MM:SS`` (no zone, no fraction);
the birth date ``YYYY-MM-DD``; a missing value stays ``None`` (JSON null, an empty CSV cell).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from server.studies.columns import STUDY_FIELDS
from server.studies.models import Study
from server.studies.selectors.rows import with_times_as_text


def format_datetime(value: dt.datetime | None) -> str | None:
    """``2025-11-06T10:30:00``: seconds, no zone (values are naive wall-clock times), a four-digit year."""
    return None if value is None else value.isoformat(timespec="seconds")


def study_row(study: Study) -> tuple:
    """A model instance as the tuple ``iter_study_rows`` yields: raw values in STUDY_FIELDS order."""
    return tuple(getattr(study, name) for name in STUDY_FIELDS)


def present_row(row: Sequence[Any]) -> list[Any]:
    """Raw values in STUDY_FIELDS order → the contract's values (strings for dates, None kept)."""
    if len(row) != len(STUDY_FIELDS):
        raise ValueError(f"a study row has {len(STUDY_FIELDS)} values, not {len(row)}")
    return with_times_as_text(row)


def study_json(row: Sequence[Any]) -> dict[str, Any]:
    """The contract's Study object, its 18 keys in contract order."""
    return dict(zip(STUDY_FIELDS, present_row(row), strict=True))
