"""Against what the table holds: each mode, idempotent re-runs, dry runs, all-or-nothing under failure, the
count check, provenance, the data version, the report file and the command's exit codes."""

from __future__ import annotations

import hashlib
import json
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from importers import postgres, targets
from importers.models import ImportRun
from importers.report import COMMITTED, DRY_RUN, ROLLED_BACK
from importers.service import import_studies
from server.core.data_version import current_data_version
from server.studies import bulk
from server.studies.columns import STUDY_FIELDS
from server.studies.models import Study
from tests.import_fixtures import legacy, studies, write_csv

pytestmark = pytest.mark.django_db

# The generator spreads its rows over the years it is asked to cover, so every test draws from this one
# list: the fixture loads the first 30, tests add the rest as new studies.
ALL = studies(40, seed=21)


def csv_file(tmp_path, rows: list[dict], name: str = "export.csv"):
    return write_csv(tmp_path / name, STUDY_FIELDS, [legacy(row) for row in rows])


def index_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY 1", [bulk.STUDY_TABLE])
        return [name for (name,) in cursor.fetchall()]


def table() -> dict[str, tuple]:
    return {s.exam_id: tuple(getattr(s, n) for n in STUDY_FIELDS) for s in Study.objects.all()}


@pytest.fixture
def loaded(tmp_path) -> list[dict]:
    """30 studies already imported."""
    rows = ALL[:30]
    assert import_studies(csv_file(tmp_path, rows, "first.csv")).outcome == COMMITTED
    return rows


def test_re_running_the_same_file_is_a_no_op(tmp_path, loaded):
    version = current_data_version()
    before = table()
    report = import_studies(csv_file(tmp_path, loaded, "first.csv"))
    assert report.outcome == COMMITTED
    assert (report.inserted, report.unchanged, report.updated) == (0, 30, 0)
    assert "inserted 0, updated 0, unchanged 30" in report.summary_lines()[1]
    assert table() == before
    assert current_data_version() == version  # nothing changed, caches stay valid


def test_insert_adds_new_rows_and_a_changed_row_is_a_conflict(tmp_path, loaded):
    changed = dict(loaded[4], exam_status="檢查完成")
    new = ALL[30:]
    path = csv_file(tmp_path, [*loaded[:4], changed, *loaded[5:], *new])
    before = table()
    report = import_studies(path)
    assert report.outcome == ROLLED_BACK
    assert report.conflicts == [
        {
            "exam_id": changed["exam_id"],
            "rows": [5],
            "reason": "differs from the stored study (use --mode upsert to update it)",
        }
    ]
    assert table() == before
    skipped = import_studies(path, skip_invalid=True)
    assert (skipped.inserted, skipped.unchanged, skipped.skipped) == (10, 29, 1)
    assert Study.objects.get(pk=changed["exam_id"]).exam_status == loaded[4]["exam_status"]
    assert Study.objects.count() == 40


@pytest.mark.parametrize("how", ["first load", "insert", "replace"])
def test_a_small_import_leaves_no_entries_queued_in_the_trigram_indexes(tmp_path, loaded, how):
    """Every search through a GIN index reads its whole pending list, so rows written through the live
    indexes (a small load, direct or merged) must not stay queued there (nothing else would merge them soon).
    The first load is the ``loaded`` fixture's 30 rows into the empty table."""
    if how == "insert":
        assert import_studies(csv_file(tmp_path, ALL[30:])).inserted == 10
    elif how == "replace":
        other = studies(50, seed=22)[40:]
        assert import_studies(csv_file(tmp_path, other), mode="replace").inserted == 10
    pending = bulk.flush_gin_pending_lists(connection)  # the pages each GIN index still had queued
    assert len(pending) == 4 and pending == [0, 0, 0, 0]
    # A row written any other way is queued: what the import spares every search afterwards.
    Study.objects.create(**dict(ALL[0], exam_id="99999999999"))
    assert all(bulk.flush_gin_pending_lists(connection))


def test_upsert_updates_changed_rows_only(tmp_path, loaded):
    version = current_data_version()
    first_import = Study.objects.get(pk=loaded[4]["exam_id"]).imported_at
    changed = dict(loaded[4], exam_status="檢查完成", check_in_datetime=None)
    report = import_studies(csv_file(tmp_path, [*loaded[:4], changed, *loaded[5:]]), mode="upsert")
    assert (report.outcome, report.inserted, report.updated, report.unchanged) == (COMMITTED, 0, 1, 29)
    study = Study.objects.get(pk=changed["exam_id"])
    assert tuple(getattr(study, n) for n in STUDY_FIELDS) == tuple(changed.values())
    assert study.imported_at >= first_import
    assert current_data_version() == version + 1


def test_replace_swaps_the_whole_content(tmp_path, loaded):
    other = studies(50, seed=22)[40:]
    report = import_studies(csv_file(tmp_path, other), mode="replace")
    assert (report.outcome, report.inserted, report.deleted, report.total_after) == (COMMITTED, 10, 30, 10)
    assert set(table()) == {row["exam_id"] for row in other}


def test_replace_refuses_to_empty_the_table(tmp_path, loaded):
    report = import_studies(csv_file(tmp_path, []), mode="replace")
    assert report.error == "no valid rows to replace the table's 30 studies with"
    assert Study.objects.count() == 30


def test_a_dry_run_counts_but_writes_nothing(tmp_path, loaded):
    version, runs = current_data_version(), ImportRun.objects.count()
    new = ALL[30:35]
    changed = dict(loaded[0], patient_age=(loaded[0]["patient_age"] or 0) + 1)
    for mode, expected in (("insert", (5, 0, 29)), ("upsert", (5, 1, 29))):
        path = csv_file(tmp_path, [changed, *loaded[1:], *new])
        report = import_studies(path, mode=mode, dry_run=True, skip_invalid=mode == "insert")
        assert report.outcome == DRY_RUN and report.error is None
        assert (report.inserted, report.updated, report.unchanged) == expected
    assert Study.objects.count() == 30 and current_data_version() == version
    assert ImportRun.objects.count() == runs + 2
    assert set(ImportRun.objects.values_list("outcome", flat=True)[:2]) == {DRY_RUN}


def test_a_database_error_half_way_through_the_merge_leaves_the_table_unchanged(
    tmp_path, loaded, monkeypatch
):
    before, version = table(), current_data_version()
    # Insert rows one by one until the 5th new one, then fail with a real database error.
    failing = postgres.INSERT_SQL.replace(
        "WHERE NOT EXISTS", "WHERE (CASE WHEN s.row_no > 35 THEN 1 / 0 ELSE 1 END) = 1 AND NOT EXISTS"
    )
    monkeypatch.setattr(postgres, "INSERT_SQL", failing)
    report = import_studies(csv_file(tmp_path, ALL))
    assert report.outcome == ROLLED_BACK
    assert report.error == "database error: division by zero"
    assert table() == before and current_data_version() == version
    run = ImportRun.objects.get(pk=report.import_run_id)
    assert (run.outcome, run.error, run.inserted) == (ROLLED_BACK, "database error: division by zero", 0)


def test_a_failure_after_a_replace_s_copy_and_index_rebuild_leaves_the_old_content(
    tmp_path, loaded, monkeypatch
):
    before, indexes = table(), index_names()
    monkeypatch.setattr(targets, "DEFER_INDEXES_FROM", 1)  # drop and rebuild the indexes even for 50 rows

    def broken_analyze(connection_, table_=bulk.STUDY_TABLE):
        with connection_.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    monkeypatch.setattr(bulk, "analyze", broken_analyze)
    report = import_studies(csv_file(tmp_path, studies(50, seed=23)), mode="replace")
    assert report.outcome == ROLLED_BACK and report.error == "database error: division by zero"
    assert table() == before
    assert index_names() == indexes  # the secondary indexes dropped for the load are back
    assert "indexes rebuilt after" in report.write_path


def test_a_count_mismatch_rolls_back_and_says_why(tmp_path, loaded, monkeypatch):
    before = table()
    monkeypatch.setattr(postgres, "INSERT_SQL", postgres.INSERT_SQL + " AND s.row_no % 2 = 0")
    report = import_studies(csv_file(tmp_path, ALL))
    assert report.outcome == ROLLED_BACK
    assert report.error == "wrote 5 new and 0 changed studies, 10 and 0 expected"
    assert table() == before


def test_provenance_is_recorded(tmp_path, loaded):
    path = csv_file(tmp_path, ALL[:33])
    report = import_studies(path, user="operator")
    run = ImportRun.objects.get(pk=report.import_run_id)
    assert run.file_name == "export.csv" and run.file_size == path.stat().st_size
    assert run.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == report.sha256
    assert (run.user, run.mode, run.outcome, run.rows_read, run.inserted, run.unchanged) == (
        "operator",
        "insert",
        COMMITTED,
        33,
        3,
        30,
    )
    assert run.started_at <= run.finished_at
    new = Study.objects.filter(exam_id__in=[row["exam_id"] for row in ALL[30:33]])
    assert all(run.started_at <= s.imported_at.replace(tzinfo=None) <= run.finished_at for s in new)


def test_the_command_writes_an_owner_only_report_and_exits_non_zero_on_failure(tmp_path, loaded, capsys):
    rows = ALL[:32]
    bad = dict(rows[31], patient_name=None)
    path = csv_file(tmp_path, [*rows[:31], bad])
    report_path = tmp_path / "report.json"
    report_path.write_text("{}")
    report_path.chmod(0o644)
    with pytest.raises(CommandError, match="1 invalid rows"):
        call_command("import_studies", str(path), report=str(report_path))
    assert stat.S_IMODE(report_path.stat().st_mode) == 0o600
    data = json.loads(report_path.read_text())
    for key in (
        "file",
        "sha256",
        "format",
        "mode",
        "dry_run",
        "outcome",
        "rows_read",
        "rows_valid",
        "inserted",
    ):
        assert key in data
    assert data["outcome"] == ROLLED_BACK
    assert data["invalid"] == [
        {"row": 32, "exam_id": bad["exam_id"], "field": "patient_name", "reason": "missing (required)"}
    ]
    call_command("import_studies", str(path), skip_invalid=True, report=str(report_path))
    out = capsys.readouterr().out
    assert "inserted 1, updated 0, unchanged 30" in out and "skipped 1" in out
    assert all(row["patient_name"] not in out for row in rows)  # no patient name on the terminal
    assert json.loads(report_path.read_text())["outcome"] == COMMITTED


def test_an_interruption_during_the_copy_rolls_back_and_is_recorded(tmp_path, loaded):
    before = table()

    def interrupt(done: int) -> None:
        raise KeyboardInterrupt  # as Ctrl-C would, with the COPY still open

    with pytest.raises(KeyboardInterrupt):
        import_studies(csv_file(tmp_path, ALL), mode="replace", on_progress=interrupt)
    assert table() == before
    run = ImportRun.objects.order_by("-id").first()
    assert (run.outcome, run.error) == (ROLLED_BACK, "interrupted: KeyboardInterrupt")


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise():
    import io

    from importers.progress import Progress

    plain, terminal = io.StringIO(), io.StringIO()
    for stream, tty in ((plain, False), (terminal, True)):
        progress = Progress(stream, total=1000, tty=tty, interval=0)
        progress.interval = 0
        progress(250)
        progress.phase("rebuilding the indexes")
    assert plain.getvalue().startswith("read  25.0% 250/1,000 rows, ")
    assert "ETA" in plain.getvalue() and "\r" not in plain.getvalue()
    assert terminal.getvalue().startswith("\r[#######.......................]  25.0% 250/1,000 rows")
    assert "rebuilding the indexes (0:00 so far)\n" in terminal.getvalue()
