"""The Study object of the contract, written once: search results, detail and both exports use it.

Every datetime is the hospital's wall-clock time, rendered ``YYYY-MM-DDTHH:MM:SS`` (no zone, no fraction);
the birth date ``YYYY-MM-DD``; a missing value stays ``None`` (JSON null, an empty CSV cell).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from server.studies.columns import DATETIME_FIELDS, STUDY_FIELDS
from server.studies.models import Study


def format_datetime(value: dt.datetime | None) -> str | None:
    """``2025-11-06T10:30:00``: seconds, no zone (values are naive wall-clock times), a four-digit year."""
    return None if value is None else value.isoformat(timespec="seconds")


def format_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


# Positions of the values present_row converts; every other value is passed on as it is. A CSV export calls
# it once per row, so it touches only these (isoformat is C: a tenth of a formatted f-string's time).
_DATETIME_POSITIONS = tuple(STUDY_FIELDS.index(name) for name in DATETIME_FIELDS)
_DATE_POSITION = STUDY_FIELDS.index("patient_birth_date")


def study_row(study: Study) -> tuple:
    """A model instance as the tuple ``iter_study_rows`` yields: raw values in STUDY_FIELDS order."""
    return tuple(getattr(study, name) for name in STUDY_FIELDS)


def present_row(row: Sequence[Any]) -> list[Any]:
    """Raw values in STUDY_FIELDS order → the contract's values (strings for dates, None kept). Times that
    arrive as text (``iter_study_rows(times_as_text=True)``) are taken as they are."""
    if len(row) != len(STUDY_FIELDS):
        raise ValueError(f"a study row has {len(STUDY_FIELDS)} values, not {len(row)}")
    presented = list(row)
    for position in _DATETIME_POSITIONS:
        value = presented[position]
        if value is not None and value.__class__ is not str:  # text: formatted by the database already
            presented[position] = format_datetime(value)
    birth = presented[_DATE_POSITION]
    if birth is not None and birth.__class__ is not str:
        presented[_DATE_POSITION] = format_date(birth)
    return presented


def study_json(row: Sequence[Any]) -> dict[str, Any]:
    """The contract's Study object, its 18 keys in contract order."""
    return dict(zip(STUDY_FIELDS, present_row(row), strict=True))
