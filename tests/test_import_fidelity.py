"""Conflicts and invalid rows in one file, in every format and mode: the exact conflict list, counts that add
up, and the table untouched by a refused import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from importers.report import COMMITTED, DRY_RUN, ROLLED_BACK
from importers.service import DIFFERS_FROM_STORED, REPEATED_WITH_OTHER_CONTENT, import_studies
from server.studies.columns import STUDY_FIELDS
from server.studies.models import Study
from tests.import_fixtures import (
    TRADITIONAL,
    TYPED_FIELDS,
    legacy,
    studies,
    write_csv,
    write_duckdb_typed,
    write_duckdb_varchar,
    write_xlsx,
)

pytestmark = pytest.mark.django_db

F = {name: index for index, name in enumerate(STUDY_FIELDS)}
CLEAN = studies(30, seed=31)
STORED_CHANGED, STORED_SAME = CLEAN[27], CLEAN[28]  # rows 28 and 29 of the file


def with_cells(study: dict, **cells) -> list:
    row = legacy(study)
    for name, value in cells.items():
        row[F[name]] = value
    return row


def dirty_rows() -> list[list]:
    """Rows 1-30 are CLEAN but for row 11; then repeats, each conflicting repeat *after* an invalid row."""
    rows = [legacy(study) for study in CLEAN]
    rows[10] = with_cells(CLEAN[10], patient_name=None)  # 11: invalid (a required field is empty)
    rows += [
        with_cells(CLEAN[14], patient_age=str(CLEAN[14]["patient_age"] + 1)),  # 31: conflicts with row 15
        legacy(CLEAN[19]),  # 32: an identical duplicate of row 20
        with_cells(CLEAN[24], exam_room="CT-9"),  # 33: conflicts with row 25
        with_cells(CLEAN[0], exam_id="20990000034", patient_age="151"),  # 34: invalid (age out of range)
        legacy(CLEAN[24]),  # 35: identical to row 25, whose exam_id conflicts: a conflict row
        legacy(STORED_SAME),  # 36: an identical duplicate of row 29, which the table holds already
        legacy(STORED_CHANGED),  # 37: identical to row 28, which differs from the table: a conflict row
    ]
    return rows


IN_FILE_CONFLICTS = [
    {"exam_id": CLEAN[14]["exam_id"], "rows": [15, 31], "reason": REPEATED_WITH_OTHER_CONTENT},
    {"exam_id": CLEAN[24]["exam_id"], "rows": [25, 33, 35], "reason": REPEATED_WITH_OTHER_CONTENT},
]
STORED_CONFLICT = {"exam_id": STORED_CHANGED["exam_id"], "rows": [28, 37], "reason": DIFFERS_FROM_STORED}
INVALID = [(11, CLEAN[10]["exam_id"], "patient_name"), (34, "20990000034", "patient_age")]
NEW = 25  # the 29 valid exam_ids of rows 1-30, less the three that conflict and the one stored unchanged


def xlsx(path: Path, rows: list[list]) -> Path:
    return write_xlsx(path, TRADITIONAL, rows)


def csv(path: Path, rows: list[list]) -> Path:
    return write_csv(path, STUDY_FIELDS, rows)


WRITERS: dict[str, tuple[str, Callable[[Path, list[list]], Path]]] = {
    "duckdb": ("legacy.duckdb", write_duckdb_varchar),
    "xlsx": ("his.xlsx", xlsx),
    "csv": ("export.csv", csv),
}


@pytest.fixture
def stored() -> dict[str, tuple]:
    """The table before the dirty file: row 28's study with another status, row 29's exactly."""
    Study.objects.create(**dict(STORED_CHANGED, exam_status="檢查中"))
    Study.objects.create(**STORED_SAME)
    return table()


def table() -> dict[str, tuple]:
    return {s.exam_id: tuple(getattr(s, name) for name in STUDY_FIELDS) for s in Study.objects.all()}


def assert_counts_add_up(report) -> None:
    assert report.rows_read == (
        report.inserted
        + report.updated
        + report.not_written
        + report.unchanged
        + report.duplicates_identical
        + report.skipped
    ), report.summary_lines()
    assert report.skipped == report.invalid_rows + report.conflict_rows
    conflict_rows = {row for conflict in report.conflicts for row in conflict["rows"]}
    assert len(conflict_rows) == report.conflict_rows  # no row in two conflicts


def outline(report) -> tuple:
    return (
        report.rows_read,
        report.inserted,
        report.updated,
        report.not_written,
        report.unchanged,
        report.duplicates_identical,
        report.skipped,
    )


@pytest.fixture(params=sorted(WRITERS))
def dirty_file(request, tmp_path) -> Path:
    name, write = WRITERS[request.param]
    return write(tmp_path / name, dirty_rows())


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry run", "default"])
def test_a_refused_import_lists_every_conflict_and_invalid_row(dirty_file, stored, dry_run):
    report = import_studies(dirty_file, dry_run=dry_run)
    assert report.outcome == (DRY_RUN if dry_run else ROLLED_BACK)
    assert [(p["row"], p["exam_id"], p["field"]) for p in report.invalid] == INVALID
    assert report.conflicts == [*IN_FILE_CONFLICTS, STORED_CONFLICT]
    # read, inserted, updated, not written, unchanged, identical duplicates, skipped (2 invalid + 7 conflict)
    assert outline(report) == (37, 0, 0, NEW, 1, 2, 9)
    assert_counts_add_up(report)
    assert "2 invalid rows (2 problems) and 3 conflicting exam_ids: nothing was written" in report.error
    assert "conflicts 3 exam_ids (7 rows)" in report.summary_lines()[1]
    assert table() == stored


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry run", "committed"])
def test_skip_invalid_lists_the_same_and_writes_only_the_rest(dirty_file, stored, dry_run):
    report = import_studies(dirty_file, skip_invalid=True, dry_run=dry_run)
    assert report.outcome == (DRY_RUN if dry_run else COMMITTED) and report.error is None
    assert [(p["row"], p["exam_id"], p["field"]) for p in report.invalid] == INVALID
    assert report.conflicts == [*IN_FILE_CONFLICTS, STORED_CONFLICT]
    assert outline(report) == (37, NEW, 0, 0, 1, 2, 9)
    assert_counts_add_up(report)
    after = table()
    if dry_run:
        assert after == stored
        return
    assert len(after) == 2 + NEW
    assert (
        after[STORED_CHANGED["exam_id"]] == stored[STORED_CHANGED["exam_id"]]
    )  # the conflict left as it was
    for conflicting in (CLEAN[14], CLEAN[24]):
        assert conflicting["exam_id"] not in after
    assert CLEAN[10]["exam_id"] not in after and "20990000034" not in after
    assert after[CLEAN[0]["exam_id"]] == tuple(CLEAN[0].values())


def test_upsert_updates_the_stored_study_but_still_names_the_file_s_conflicts(dirty_file, stored):
    refused = import_studies(dirty_file, mode="upsert")
    assert refused.outcome == ROLLED_BACK
    assert refused.conflicts == IN_FILE_CONFLICTS
    # Row 28 would update the table; row 37, identical to it, is then an identical duplicate.
    assert outline(refused) == (37, 0, 0, NEW + 1, 1, 3, 7)
    assert_counts_add_up(refused)
    assert table() == stored
    written = import_studies(dirty_file, mode="upsert", skip_invalid=True)
    assert outline(written) == (37, NEW, 1, 0, 1, 3, 7)
    assert_counts_add_up(written)
    assert table()[STORED_CHANGED["exam_id"]] == tuple(STORED_CHANGED.values())


def test_the_typed_duckdb_variant_names_invalid_rows_and_stored_conflicts(tmp_path):
    """The older variant has exam_id as its primary key, so it cannot repeat one; the table can still
    differ from it, and a row can still be invalid."""
    typed = [{name: study[name] for name in TYPED_FIELDS} for study in CLEAN[:10]]
    absent = {"patient_birth_date": None, "exam_room": None, "exam_equipment": None, "equipment_type": None}
    Study.objects.create(**dict(CLEAN[7], **absent, exam_status="檢查中"))  # row 8 differs from the table
    Study.objects.create(**dict(CLEAN[8], **absent))  # row 9 is in the table as it is
    typed[2]["patient_age"] = 200  # row 3: out of range
    typed[5]["patient_name"] = None  # row 6: required
    before = table()
    path = write_duckdb_typed(tmp_path / "old.duckdb", typed)
    for skip in (False, True):
        report = import_studies(path, skip_invalid=skip, dry_run=True)
        assert [(p["row"], p["field"]) for p in report.invalid] == [(3, "patient_age"), (6, "patient_name")]
        assert report.conflicts == [
            {"exam_id": CLEAN[7]["exam_id"], "rows": [8], "reason": DIFFERS_FROM_STORED}
        ]
        assert outline(report) == (10, 6 * skip, 0, 6 * (not skip), 1, 0, 3)
        assert_counts_add_up(report)
    assert table() == before


def test_a_conflict_with_the_table_is_found_when_the_file_itself_is_clean(tmp_path, stored):
    path = csv(tmp_path / "clean.csv", [legacy(study) for study in CLEAN])
    report = import_studies(path, dry_run=True)
    assert report.conflicts == [
        {"exam_id": STORED_CHANGED["exam_id"], "rows": [28], "reason": DIFFERS_FROM_STORED}
    ]
    assert outline(report) == (30, 0, 0, 28, 1, 0, 1)
    assert_counts_add_up(report)
