"""Synthetic source files for the importer tests, built on the project's own study generator.

Each writer takes rows of cell values in ``STUDY_FIELDS`` order (strings, None, numbers, datetimes: whatever
the test wants the file to hold), so a test can put any dirty value in any cell. ``legacy`` turns a
generated study into the strings the legacy DuckDB table holds.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import openpyxl

from importers.headers import FIELD_LABELS
from server.studies.columns import LEGACY_COLUMN_ORDER, STUDY_FIELDS
from server.studies.demo_data import generate_studies

TYPED_FIELDS = tuple(
    name
    for name in STUDY_FIELDS
    if name not in {"patient_birth_date", "exam_room", "exam_equipment", "equipment_type"}
)
TRADITIONAL = [FIELD_LABELS[name][0] for name in STUDY_FIELDS]
SIMPLIFIED = [FIELD_LABELS[name][-1] for name in STUDY_FIELDS]


def studies(count: int, seed: int = 11) -> list[dict]:
    return [dict(zip(STUDY_FIELDS, row, strict=True)) for row in generate_studies(count, seed)]


def legacy(study: dict) -> list[str | None]:
    """A study as the all-VARCHAR legacy table stores it, in STUDY_FIELDS order."""
    cells: list[str | None] = []
    for name in STUDY_FIELDS:
        value = study[name]
        if value is None:
            cells.append(None)
        elif isinstance(value, dt.datetime):
            cells.append(value.strftime("%Y-%m-%d %H:%M:%S"))
        elif isinstance(value, dt.date):
            cells.append(value.strftime("%Y%m%d"))
        else:
            cells.append(str(value))
    return cells


def write_duckdb_varchar(
    path: Path, rows: Iterable[Sequence[object]], table: str = "medical_examinations_fact"
) -> Path:
    """The all-VARCHAR variant: 18 columns in the legacy order plus ``data_load_time``, no primary key."""
    with duckdb.connect(str(path)) as con:
        columns = ", ".join(f"{name} VARCHAR" for name in LEGACY_COLUMN_ORDER)
        con.execute(f"CREATE TABLE {table} ({columns}, data_load_time TIMESTAMP DEFAULT current_timestamp)")
        positions = [STUDY_FIELDS.index(name) for name in LEGACY_COLUMN_ORDER]
        marks = ", ".join("?" for _ in LEGACY_COLUMN_ORDER)
        con.executemany(
            f"INSERT INTO {table} ({', '.join(LEGACY_COLUMN_ORDER)}) VALUES ({marks})",
            [[row[i] for i in positions] for row in rows],
        )
    return path


def write_duckdb_typed(path: Path, studies_: Iterable[dict]) -> Path:
    """The older typed variant: 14 columns, exam_id primary key, integer age, TIMESTAMP times."""
    types = {"exam_id": "VARCHAR PRIMARY KEY", "patient_age": "INTEGER"}
    with duckdb.connect(str(path)) as con:
        columns = ", ".join(
            f"{name} {types.get(name, 'TIMESTAMP' if name.endswith('_datetime') else 'VARCHAR')}"
            for name in TYPED_FIELDS
        )
        con.execute(f"CREATE TABLE medical_examinations_fact ({columns})")
        con.executemany(
            f"INSERT INTO medical_examinations_fact VALUES ({', '.join('?' for _ in TYPED_FIELDS)})",
            [[study[name] for name in TYPED_FIELDS] for study in studies_],
        )
    return path


def write_xlsx(path: Path, header: Sequence[object], rows: Iterable[Sequence[object]], sheet: str = "Sheet1"):
    """An ordinary (shared-strings) workbook, as Excel and the hospital system write them."""
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(list(header))
    for row in rows:
        worksheet.append(list(row))
    workbook.save(path)
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
    return path
