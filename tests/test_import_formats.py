"""Each source format, clean and dirty: exact counts, every listed problem, exact round-trip of each field."""

from __future__ import annotations

import datetime as dt

import pytest

from importers.report import COMMITTED, ROLLED_BACK
from importers.service import import_studies
from server.studies.columns import STUDY_FIELDS
from server.studies.models import Study
from tests.import_fixtures import (
    SIMPLIFIED,
    TRADITIONAL,
    legacy,
    studies,
    write_csv,
    write_duckdb_typed,
    write_duckdb_varchar,
    write_xlsx,
)

pytestmark = pytest.mark.django_db

F = {name: index for index, name in enumerate(STUDY_FIELDS)}


def stored(exam_id: str) -> dict:
    study = Study.objects.get(pk=exam_id)
    return {name: getattr(study, name) for name in STUDY_FIELDS}


def problems(report) -> list[tuple]:
    return [(p["row"], p["exam_id"], p["field"]) for p in report.invalid]


def dirty_legacy_rows(clean: list[dict]) -> list[list]:
    """40 clean rows, then one dirty row of every kind docs/legacy-data.md lists."""
    rows = [legacy(study) for study in clean]

    def variant(index: int, **cells) -> list:
        row = list(rows[index])
        for name, value in cells.items():
            row[F[name]] = value
        return row

    rows += [
        list(rows[3]),  # row 41: an exact duplicate of row 4
        variant(5, exam_status="檢查完成"),  # row 42: same exam_id as row 6, different content
        variant(0, exam_id="20990000001", patient_name=None),  # 43: missing required
        variant(0, exam_id="20990000002", order_datetime="2025-13-45 10:00:00"),  # 44: not a real date
        variant(0, exam_id="20990000003", check_in_datetime="soon"),  # 45: unparseable
        variant(0, exam_id="20990000004", patient_age="abc"),  # 46: age not a number
        variant(0, exam_id="20990000005", patient_age="151"),  # 47: age out of range
        variant(0, exam_id="20990000006", exam_room="x" * 501),  # 48: longer than its index holds
        variant(0, exam_id="20990000007", patient_birth_date="19991340", exam_item=""),  # 49: two problems
        [None] * 18,  # 50: a blank row, ignored
        variant(7, exam_id=" 20990000008 ", exam_source="  門診 ", order_datetime="2025/11/06 10:30"),  # 51
        variant(8, exam_id="20990000009", order_datetime="2025-11-06T23:59:59"),  # 52: ISO with T
    ]
    return rows


DIRTY_PROBLEMS = [
    (43, "20990000001", "patient_name"),
    (44, "20990000002", "order_datetime"),
    (45, "20990000003", "check_in_datetime"),
    (46, "20990000004", "patient_age"),
    (47, "20990000005", "patient_age"),
    (48, "20990000006", "exam_room"),
    (49, "20990000007", "patient_birth_date"),
    (49, "20990000007", "exam_item"),
]


def test_a_dirty_duckdb_file_aborts_listing_every_problem_and_writes_nothing(tmp_path):
    clean = studies(40)
    path = write_duckdb_varchar(tmp_path / "legacy.duckdb", dirty_legacy_rows(clean))
    report = import_studies(path)
    assert report.outcome == ROLLED_BACK
    assert Study.objects.count() == 0
    assert problems(report) == DIRTY_PROBLEMS
    reasons = {p["row"]: p["reason"] for p in report.invalid}
    assert reasons[44] == "'2025-13-45 10:00:00' is not a real date and time"
    assert reasons[47] == "151 is outside 0–150"
    assert reasons[48] == "too long: 501 characters, at most 500"
    assert report.conflicts == [
        {"exam_id": clean[5]["exam_id"], "rows": [6, 42], "reason": report.conflicts[0]["reason"]}
    ]
    assert "different content" in report.conflicts[0]["reason"]
    assert (report.rows_read, report.rows_valid, report.blank_rows) == (51, 44, 1)
    assert "7 invalid rows (8 problems) and 1 conflicting exam_ids: nothing was written" in report.error


def test_skip_invalid_writes_the_rest_and_the_counts_add_up(tmp_path):
    clean = studies(40)
    path = write_duckdb_varchar(tmp_path / "legacy.duckdb", dirty_legacy_rows(clean))
    report = import_studies(path, skip_invalid=True)
    assert report.outcome == COMMITTED, report.error
    assert problems(report) == DIRTY_PROBLEMS
    # 40 clean + 2 extra valid (rows 51, 52), minus the conflicting exam_id's first row (6)
    assert report.inserted == Study.objects.count() == 41
    assert (report.duplicates_identical, report.skipped) == (1, 7 + 2)
    assert report.rows_read == report.inserted + report.updated + report.unchanged + (
        report.duplicates_identical + report.skipped
    )
    assert not Study.objects.filter(pk=clean[5]["exam_id"]).exists()
    for study in (clean[0], clean[17], clean[39]):
        assert stored(study["exam_id"]) == study  # every field exact, wall-clock times included
    whitespace = stored("20990000008")
    assert (whitespace["exam_source"], whitespace["order_datetime"]) == (
        "門診",
        dt.datetime(2025, 11, 6, 10, 30),
    )
    assert stored("20990000009")["order_datetime"] == dt.datetime(2025, 11, 6, 23, 59, 59)


def test_the_older_typed_duckdb_variant(tmp_path):
    clean = studies(30, seed=4)
    path = write_duckdb_typed(tmp_path / "old.duckdb", clean)
    report = import_studies(path)
    assert report.outcome == COMMITTED, report.error
    assert report.variant == "typed, 14 columns"
    assert report.inserted == 30
    expected = dict(
        clean[12], patient_birth_date=None, exam_room=None, exam_equipment=None, equipment_type=None
    )
    assert stored(clean[12]["exam_id"]) == expected


def test_a_duckdb_file_without_the_table_says_which_tables_it_has(tmp_path):
    path = write_duckdb_varchar(tmp_path / "other.duckdb", [legacy(studies(1)[0])], table="exams")
    report = import_studies(path)
    assert report.outcome == ROLLED_BACK
    assert report.error == "no table 'medical_examinations_fact' in 'other.duckdb' (it has: exams)"
    assert import_studies(path, table="exams").inserted == 1


def excel_row(study: dict) -> list:
    """A study as the hospital system's export has it: typed cells, birth date as YYYYMMDD text."""
    row = [study[name] for name in STUDY_FIELDS]
    row[F["patient_birth_date"]] = legacy(study)[F["patient_birth_date"]]
    row[F["check_in_datetime"]] = legacy(study)[F["check_in_datetime"]]  # text in some exports
    return row


def test_excel_with_traditional_headers_numeric_ids_and_date_cells(tmp_path):
    clean = studies(25, seed=5)
    rows = [excel_row(study) for study in clean]
    numeric = dict(clean[0], exam_id="20250000123", application_order_no="20250000124")
    row = excel_row(numeric)
    row[F["exam_id"]] = 20250000123  # typed as a number
    row[F["application_order_no"]] = 20250000124.0  # a float cell (shown 2.03E+10 in Excel)
    row[F["patient_birth_date"]] = dt.datetime(1958, 3, 14)  # a real date cell
    numeric["patient_birth_date"] = dt.date(1958, 3, 14)
    rows.append(row)
    rows.append([None] * 18)  # trailing empty row
    header = [f" {label} " for label in TRADITIONAL]  # stray spaces
    path = write_xlsx(tmp_path / "his.xlsx", header, rows)
    report = import_studies(path)
    assert report.outcome == COMMITTED, report.error
    assert (report.inserted, report.blank_rows, report.warnings) == (26, 1, [])
    assert stored(clean[3]["exam_id"]) == clean[3]
    assert stored("20250000123") == numeric


def test_excel_dirty_cells_are_listed_with_their_data_row_number(tmp_path):
    clean = studies(5, seed=6)
    rows = [excel_row(study) for study in clean]
    rows[1][F["order_datetime"]] = "not a time"
    rows[2][F["patient_age"]] = 200
    rows[3][F["exam_id"]] = 1.2345678901234567e17  # past Excel's 15 digits
    rows[4][F["exam_room"]] = dt.datetime(2025, 1, 1)  # a date typed into a text column
    path = write_xlsx(tmp_path / "his.xlsx", TRADITIONAL, rows)
    report = import_studies(path)
    assert problems(report) == [
        (2, clean[1]["exam_id"], "order_datetime"),
        (3, clean[2]["exam_id"], "patient_age"),
        (4, None, "exam_id"),
        (5, clean[4]["exam_id"], "exam_room"),
    ]
    assert report.outcome == ROLLED_BACK and Study.objects.count() == 0


def test_excel_with_simplified_headers_another_sheet_and_an_unknown_column(tmp_path):
    clean = studies(4, seed=7)
    path = write_xlsx(
        tmp_path / "his.xlsx", [*SIMPLIFIED, "備註"], [[*excel_row(s), "note"] for s in clean], sheet="匯出"
    )
    report = import_studies(path, sheet="匯出")
    assert report.outcome == COMMITTED, report.error
    assert report.warnings == ["columns not recognised and ignored: '備註'"]
    assert stored(clean[2]["exam_id"]) == clean[2]
    missing = import_studies(path, sheet="Sheet9")
    assert missing.error == "no sheet 'Sheet9' in 'his.xlsx' (it has: '匯出')"


def test_a_missing_required_header_is_reported_before_any_row_is_read(tmp_path):
    header = [label for label in TRADITIONAL if label != "檢查項目"]
    rows = [[value for i, value in enumerate(excel_row(s)) if i != F["exam_item"]] for s in studies(3)]
    path = write_xlsx(tmp_path / "his.xlsx", header, rows)
    report = import_studies(path)
    assert report.outcome == ROLLED_BACK
    assert report.rows_read == 0
    assert report.error.startswith(
        "required columns missing: exam_item (檢查項目); the header has '檢查流水號'"
    )


def test_csv_with_english_headers(tmp_path):
    clean = studies(12, seed=8)
    path = write_csv(tmp_path / "export.csv", STUDY_FIELDS, [legacy(study) for study in clean])
    report = import_studies(path)
    assert report.outcome == COMMITTED, report.error
    assert report.format == "csv" and report.inserted == 12
    assert all(stored(study["exam_id"]) == study for study in clean)


def test_an_unknown_extension_needs_format(tmp_path):
    path = write_csv(tmp_path / "export.txt", STUDY_FIELDS, [legacy(s) for s in studies(2)])
    assert "use --format" in import_studies(path).error
    assert import_studies(path, fmt="csv").inserted == 2
