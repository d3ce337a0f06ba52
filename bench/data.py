"""Section 1: the studies, made by the project's own generator, and a legacy DuckDB file of the same rows.

The legacy file is shaped as docs/legacy-data.md §1 describes the hospital's: table
``medical_examinations_fact``, every column VARCHAR (stripped strings, NULL for empty), birth dates as
``YYYYMMDD``, datetimes as ``YYYY-MM-DD HH:MM:SS``, plus ``data_load_time TIMESTAMP``. It is written through a
temporary CSV file that DuckDB reads with ``all_varchar``: far faster than inserting row by row.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from server.studies.columns import LEGACY_COLUMN_ORDER, STUDY_FIELDS
from server.studies.demo_data import EXAM_ID_BASE, generate_studies

LEGACY_TABLE = "medical_examinations_fact"
_POSITIONS = tuple(STUDY_FIELDS.index(name) for name in LEGACY_COLUMN_ORDER)


def legacy_text(value: object) -> str:
    """A value as the legacy loader stored it; None becomes an empty CSV cell, which DuckDB reads as NULL."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    return str(value)


def legacy_rows(rows: Iterable[tuple]) -> Iterator[list[str]]:
    for row in rows:
        yield [legacy_text(row[position]) for position in _POSITIONS]


def write_legacy_duckdb(path: Path, rows: Iterable[tuple]) -> int:
    """Write ``rows`` (STUDY_FIELDS tuples) as a legacy all-VARCHAR DuckDB database; returns the row count."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    staging = path.with_suffix(".csv")
    count = 0
    with staging.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LEGACY_COLUMN_ORDER)
        for values in legacy_rows(rows):
            writer.writerow(values)
            count += 1
    columns = ", ".join(f"{name} VARCHAR" for name in LEGACY_COLUMN_ORDER)
    types = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in LEGACY_COLUMN_ORDER) + "}"
    try:
        with duckdb.connect(str(path)) as con:
            con.execute(
                f"CREATE TABLE {LEGACY_TABLE} ({columns}, data_load_time TIMESTAMP DEFAULT current_timestamp)"
            )
            con.execute(
                f"INSERT INTO {LEGACY_TABLE} ({', '.join(LEGACY_COLUMN_ORDER)}) "  # noqa: S608 (fixed names)
                f"SELECT * FROM read_csv(?, header = true, columns = {types}, quote = '\"', escape = '\"')",
                [str(staging)],
            )
            stored = con.execute(f"SELECT count(*) FROM {LEGACY_TABLE}").fetchone()[0]  # noqa: S608
    finally:
        staging.unlink(missing_ok=True)
    if stored != count:
        raise RuntimeError(f"The legacy DuckDB file holds {stored} rows, not {count}")
    return count


def new_studies(count: int, after: int, seed: int) -> Iterator[tuple]:
    """``count`` more studies whose exam_ids follow the first ``after`` generated ones (no collision)."""
    exam_index = STUDY_FIELDS.index("exam_id")
    order_index = STUDY_FIELDS.index("application_order_no")
    for index, row in enumerate(generate_studies(count, seed)):
        values = list(row)
        old_id = values[exam_index]
        values[exam_index] = f"{EXAM_ID_BASE + after + index:011d}"
        values[order_index] = (
            values[exam_index]
            if values[order_index] == old_id
            else f"{EXAM_ID_BASE * 3 + after + index:011d}"
        )
        yield tuple(values)


def timed(function, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started
