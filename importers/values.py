"""Turning one source cell into the value stored, or saying exactly why it cannot be.

Sources hand over strings (DuckDB's all-VARCHAR table, CSV), typed values (the older DuckDB table) or Excel
cells (text, numbers, real dates). Every parser here accepts all of them, never guesses, and never shifts a
time: a wall-clock ``2025-11-06 10:30:00`` stays exactly that. A value that cannot be taken as it is raises
``BadValue`` with a reason a person can act on; the caller records it with the row and field.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

# Excel keeps 15 significant digits: an integer-valued number cell longer than that may already be changed.
EXACT_DIGITS = 15
AGE_MIN, AGE_MAX = 0, 150

_DATETIME = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")
_DATE = re.compile(r"(\d{4})[-/]?(\d{2})[-/]?(\d{2})")
_DATE_LOOSE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")

DATETIME_FORMATS = "YYYY-MM-DD HH:MM:SS, YYYY/MM/DD HH:MM or YYYY-MM-DDTHH:MM:SS"
_from_iso = dt.datetime.fromisoformat
_date_from_iso = dt.date.fromisoformat


_SHOWABLE = re.compile(r"[0-9 :/.+TZ-]{1,40}")


def _shown(raw: str) -> str:
    """The value quoted in a reason, if it is made of digits and date punctuation only: a reason never
    quotes free text, which could be a name in a misplaced column."""
    return repr(raw) if _SHOWABLE.fullmatch(raw) else "the value"


class BadValue(ValueError):
    """A cell that cannot be stored as it is; the message is the reason shown in the report."""


def text(value: object) -> str | None:
    """A cell as stripped text, ``None`` when blank. Numbers become their exact digits (``12345678901``,
    never ``1.2E+10`` or ``12345678901.0``); dates and booleans are refused rather than spelled out."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        raise BadValue("a TRUE/FALSE cell where text was expected")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise BadValue("not a number")
        if value.is_integer():
            digits = str(int(value))
            if len(digits.lstrip("-")) > EXACT_DIGITS:
                raise BadValue(
                    f"a number cell of {len(digits)} digits: Excel keeps only {EXACT_DIGITS}, so it may "
                    "already be altered; store it as text in the sheet"
                )
            return digits
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, dt.date | dt.time):
        raise BadValue("a date cell where text was expected")
    return str(value).strip() or None


def wall_clock(value: object) -> dt.datetime | None:
    """A hospital wall-clock datetime. Strings in the legacy formats (and ISO with ``T``), or a real
    date-time cell. A time-zone offset is refused: converting it would move the time."""
    if value.__class__ is str and len(value) == 19 and value[10] in " T" and value[4] == "-":
        try:  # the legacy table's own format, nearly every value: one C call
            parsed = _from_iso(value)
        except ValueError:
            pass  # the slower path below tells a malformed value from an impossible one
        else:
            if parsed.tzinfo is None:
                return parsed
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise BadValue("has a time-zone offset; wall-clock time without a zone is expected")
        return value
    if isinstance(value, dt.date):
        raise BadValue("a date without a time of day")
    if not isinstance(value, str):
        raise BadValue(f"a {type(value).__name__} where a date and time was expected ({DATETIME_FORMATS})")
    raw = value.strip()
    if not raw:
        return None
    match = _DATETIME.fullmatch(raw)
    if match is None:
        if _DATE_LOOSE.fullmatch(raw):
            raise BadValue(f"{_shown(raw)} has no time of day ({DATETIME_FORMATS})")
        raise BadValue(f"{_shown(raw)} is not a datetime ({DATETIME_FORMATS})")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        raise BadValue(f"{_shown(raw)} is not a real date and time") from None


def birth_date(value: object) -> dt.date | None:
    """A birth date: ``YYYYMMDD`` as the legacy data has it (text or an Excel number), ``YYYY-MM-DD`` or
    ``YYYY/MM/DD``, or a date cell (midnight only: a birth date with a time of day is a mistaken column)."""
    if value.__class__ is str and len(value) == 8 and value.isdigit() and value.isascii():
        try:  # the legacy YYYYMMDD, nearly every value
            return _date_from_iso(value)  # Python 3.11 reads the basic form YYYYMMDD
        except ValueError:
            raise BadValue(f"{_shown(value)} is not a real date") from None
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0) or value.tzinfo is not None:
            raise BadValue("a birth date with a time of day")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise BadValue("a TRUE/FALSE cell where a date was expected")
    if isinstance(value, int | float | Decimal):
        value = text(value)
    if not isinstance(value, str):
        raise BadValue(f"a {type(value).__name__} where a date was expected (YYYYMMDD)")
    raw = value.strip()
    if not raw:
        return None
    match = _DATE.fullmatch(raw) or _DATE_LOOSE.fullmatch(raw)
    if match is None:
        raise BadValue(f"{_shown(raw)} is not a date (YYYYMMDD)")
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise BadValue(f"{_shown(raw)} is not a real date") from None


def age(value: object) -> int | None:
    """An age in whole years, 0 to 150 (the column's CHECK constraint): ``"67"``, ``67`` or ``67.0``."""
    if value.__class__ is str and value.isdigit() and value.isascii() and len(value) < 4:
        number = int(value)
        if number <= AGE_MAX:
            return number
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadValue("a TRUE/FALSE cell where an age was expected")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        if value != value or not float(value).is_integer():
            raise BadValue(f"{value} is not a whole number of years")
        number = int(value)
    elif isinstance(value, str):
        raw = value.strip()
        if not raw:
            return None
        if not raw.isascii() or _INTEGER.fullmatch(raw) is None:
            raise BadValue(f"{_shown(raw)} is not a whole number of years")
        number = int(raw.split(".")[0])
    else:
        raise BadValue(f"a {type(value).__name__} where an age was expected")
    if not AGE_MIN <= number <= AGE_MAX:
        raise BadValue(f"{number} is outside {AGE_MIN}–{AGE_MAX}")
    return number
