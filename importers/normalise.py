"""One source row in, one storable study tuple out, or every reason it cannot be stored.

This runs once per row of files of a million rows, inside the import's time budget, so the common case is
a single pass of C-level ``map`` over per-field converters; only a row that raises goes through the slow
path, which converts each field separately to collect *all* of its problems, not only the first.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import NamedTuple

from importers import values
from importers.headers import REQUIRED_FIELDS
from importers.values import BadValue
from server.studies.columns import DATETIME_FIELDS, STUDY_FIELDS
from server.studies.models import TEXT_LIMITS

Converter = Callable[[object], object]
_call = operator.call
_str = str


class Problem(NamedTuple):
    """Why one field of one row cannot be stored; ``row`` is the 1-based data row (header excluded)."""

    row: int
    exam_id: str | None
    field: str
    reason: str


def _text_converter(max_length: int | None, required: bool) -> Converter:
    """``max_length`` None: any length (the legacy columns have none; only our indexes impose one)."""
    to_text = values.text
    limit = max_length if max_length is not None else float("inf")

    def convert(value: object) -> str | None:
        value = value.strip() if value.__class__ is _str else to_text(value)
        if not value:
            if required:
                raise BadValue("missing (required)")
            return None
        if len(value) > limit:
            raise BadValue(f"too long: {len(value):,} characters, at most {max_length:,}")
        if "\x00" in value:
            raise BadValue("contains a NUL character")
        return value

    return convert


def _required(parse: Converter) -> Converter:
    def convert(value: object) -> object:
        result = parse(value)
        if result is None:
            raise BadValue("missing (required)")
        return result

    return convert


def field_converters() -> tuple[Converter, ...]:
    """One converter per study field, in ``STUDY_FIELDS`` order, with the length limits of ``TEXT_LIMITS``
    and the model's nullability."""
    converters: list[Converter] = []
    for name in STUDY_FIELDS:
        required = name in REQUIRED_FIELDS
        if name in DATETIME_FIELDS:
            converter = _required(values.wall_clock) if required else values.wall_clock
        elif name == "patient_birth_date":
            converter = values.birth_date
        elif name == "patient_age":
            converter = values.age
        else:
            converter = _text_converter(TEXT_LIMITS[name], required)
        converters.append(converter)
    return tuple(converters)


BLANK = ()  # what ``normalise`` returns for a row with nothing in it (trailing sheet rows): not an error


class RowNormaliser:
    """Converts raw rows (values in ``STUDY_FIELDS`` order) and collects the problems of those that fail."""

    def __init__(self) -> None:
        self.converters = field_converters()
        self.problems: list[Problem] = []
        self.invalid_rows = 0

    def __call__(self, row: int, raw: Sequence[object]) -> tuple | None:
        """The storable tuple; ``None`` if the row is invalid (its problems recorded); ``BLANK`` if empty."""
        try:
            return tuple(map(_call, self.converters, raw))
        except BadValue:
            return self._each_field(row, raw)

    def _each_field(self, row: int, raw: Sequence[object]) -> tuple | None:
        if all(value is None or (value.__class__ is str and not value.strip()) for value in raw):
            return BLANK
        converted: list[object] = []
        found: list[tuple[str, str]] = []
        for name, convert, value in zip(STUDY_FIELDS, self.converters, raw, strict=True):
            try:
                converted.append(convert(value))
            except BadValue as error:
                converted.append(None)
                found.append((name, str(error)))
        exam_id = converted[0] if isinstance(converted[0], str) else None
        self.problems.extend(Problem(row, exam_id, name, reason) for name, reason in found)
        self.invalid_rows += 1
        return None
