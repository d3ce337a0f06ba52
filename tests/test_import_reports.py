"""``import_reports``: the legacy reports (docs/legacy-data.md §5) from every format, all or nothing, with
counts that add up, versions in order through the lifecycle, search rows as ``search_row`` makes them,
re-runs that write nothing, and no report text in any problem, log line or report file."""

from __future__ import annotations

import csv
import json
import logging
import stat

import duckdb
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from importers.models import ImportRun
from importers.report import COMMITTED, DRY_RUN, ROLLED_BACK
from importers.reports import postgres
from importers.reports.service import import_reports
from importers.service import import_studies
from server.core.data_version import current_data_version
from server.reports.models import Report, ReportSearch, ReportSearchWord, ReportVersion
from server.reports.search_rows import search_row
from server.reports.text_index import words_of
from server.studies.columns import STUDY_FIELDS
from tests.conftest import bearer_headers, study_values
from tests.import_fixtures import legacy, write_csv

pytestmark = pytest.mark.django_db

COLUMNS = ("uid", "report_id", "title", "report_type", "content_raw", "content_hash", "version_number",
           "is_latest", "source_url", "chr_no", "mod", "report_date", "created_at", "updated_at",
           "verified_at", "metadata")  # fmt: skip
SECRET = "Pneumothorax-secret-text"  # must never leave the report tables


def text(n: int, extra: str = "") -> str:
    return (
        f"Clinical history: cough {n}.\r\nFindings:\nNo {SECRET} seen.{extra}\n"
        f"IMPRESSION: Normal chest {n}.\n\n檢查所見：\n未見氣胸。\n診斷：正常。"
    )


def row(uid: str, content: str, version: int | str = 1, status: str | None = "final", **overrides) -> dict:
    values = {
        "uid": uid, "report_id": f"2025{uid[-4:].zfill(7)}", "title": "CT chest", "report_type": "CT",
        "content_raw": content, "content_hash": "d41d8cd98f00b204e9800998ecf8427e",
        "version_number": str(version), "is_latest": "true", "source_url": "", "chr_no": "0012345",
        "mod": "CT", "report_date": "20250102", "created_at": "2025-01-02 09:00:00",
        "updated_at": "2025-01-02 10:00:00", "verified_at": "2025-01-02 10:00:00",
        "metadata": json.dumps({"status": status} if status is not None else {}, ensure_ascii=False),
    }  # fmt: skip
    values.update(overrides)
    return values


def write(tmp_path, rows: list[dict], fmt: str = "duckdb", name: str = "reports"):
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    elif fmt == "jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for values in rows:
                handle.write(json.dumps(values, ensure_ascii=False) + "\n")
    else:
        with duckdb.connect(str(path)) as con:
            con.execute(
                "CREATE TABLE one_page_text_report_v2 (" + ", ".join(f"{c} VARCHAR" for c in COLUMNS) + ")"
            )
            con.executemany(
                f"INSERT INTO one_page_text_report_v2 VALUES ({', '.join('?' for _ in COLUMNS)})",
                [[values[c] or None for c in COLUMNS] for values in rows],
            )
    return path


def history(uid: str) -> list[tuple]:
    return list(
        ReportVersion.objects.filter(report_id=uid)
        .order_by("number")
        .values_list("number", "status", "change")
    )


def assert_counts_add_up(report) -> None:
    assert report.rows_read == (
        report.new_reports + report.new_versions + report.not_written + report.unchanged + report.skipped
    )


def sample() -> list[dict]:
    """Four reports (one with a three-version history given out of order, one with a repeated row) and a
    system_data row."""
    return [
        row("R0001", text(1)),
        row("R0002", text(2, " More."), version=3, status="已確認", verified_at="2025-01-03 08:00:00"),
        row("R0002", text(2), version=1, status="初步報告"),
        row("R0002", text(2), version=2, status="final"),
        row("R0003", text(3), status=None, verified_at=""),
        row("R0003", text(3), status=None, verified_at=""),
        row("SYS1", "{}", report_type="system_data", metadata="not json"),
        row("R0004", text(4), status="cancelled", version=2),
        row("R0004", text(4), status="draft", version=1, verified_at=""),
    ]


@pytest.mark.parametrize("fmt", ["duckdb", "csv", "jsonl"])
def test_every_format_imports_the_same_histories(tmp_path, fmt):
    report = import_reports(write(tmp_path, sample(), fmt))
    assert report.outcome == COMMITTED, report.summary_lines()
    assert report.format == fmt
    assert (report.rows_in_file, report.system_data, report.rows_read) == (9, 1, 8)
    assert (report.new_reports, report.new_versions, report.unchanged, report.skipped) == (4, 3, 1, 0)
    assert report.duplicates == 1
    assert_counts_add_up(report)
    assert history("R0001") == [(1, "final", "created")]
    assert history("R0002") == [
        (1, "preliminary", "created"),
        (2, "final", "status"),
        (3, "amended", "amended"),
    ]
    assert history("R0003") == [(1, "draft", "created")]  # no status, not verified: a draft
    assert history("R0004") == [(1, "draft", "created"), (2, "cancelled", "status")]
    assert not Report.objects.filter(pk="SYS1").exists()
    second = ReportVersion.objects.get(report_id="R0002", number=3)
    assert second.content == text(2, " More.")  # as stored in the file, \r\n included
    assert second.findings.startswith("No") and second.impression.startswith("Normal chest 2.")
    assert second.verified_at.isoformat() == "2025-01-03T08:00:00"
    stored = Report.objects.select_related("current").get(pk="R0002")
    assert stored.current == second and stored.study_id == "20250000002" and stored.title == "CT chest"


def test_search_rows_and_vocabulary_are_what_search_row_makes(tmp_path):
    import_reports(write(tmp_path, sample()))
    reports = Report.objects.select_related("current").order_by("pk")
    fields = ("report_id", "exam_id", "report_type", "status", "radiologist", "verified_at", "created_at",
              "document", "tokens")  # fmt: skip
    expected = [tuple(getattr(search_row(r), name) for name in fields) for r in reports]
    stored = list(ReportSearch.objects.order_by("pk").values_list(*fields))
    assert stored == expected and len(stored) == 4
    vocabulary = set(ReportSearchWord.objects.values_list("word", flat=True))
    assert vocabulary == words_of(row[7] for row in stored)
    created = Report.objects.get(pk="R0001").created_at
    assert created.isoformat(sep=" ").startswith("2025-01-02 09:00:00")


def test_versions_have_content_hashes_computed_not_copied(tmp_path):
    import hashlib

    import_reports(write(tmp_path, [row("R0001", text(1))]))
    version = ReportVersion.objects.get(report_id="R0001")
    assert version.content_hash == hashlib.sha256(text(1).encode()).hexdigest()


def test_a_rerun_writes_nothing_and_says_every_row_unchanged(tmp_path):
    path = write(tmp_path, sample())
    assert import_reports(path).outcome == COMMITTED
    version = current_data_version()
    ids = list(ReportVersion.objects.order_by("id").values_list("id", "stored_at"))
    again = import_reports(path)
    assert again.outcome == COMMITTED and again.write_path.startswith("COPY into staging")
    assert (again.new_reports, again.new_versions, again.unchanged, again.skipped) == (0, 0, 8, 0)
    assert_counts_add_up(again)
    assert list(ReportVersion.objects.order_by("id").values_list("id", "stored_at")) == ids
    assert current_data_version() == version


def test_a_later_export_adds_only_the_versions_a_report_lacks(tmp_path):
    import_reports(write(tmp_path, sample()[:4], name="first"))  # R0001, R0002 (3 versions)
    later = [
        *sample()[:4],
        row("R0001", text(1, " Addendum."), version=2, status="final"),
        row("R0005", text(5)),
    ]
    report = import_reports(write(tmp_path, later, "csv", name="later"))
    assert report.outcome == COMMITTED, report.summary_lines()
    assert (report.new_reports, report.new_versions, report.unchanged) == (1, 1, 4)
    assert_counts_add_up(report)
    assert history("R0001") == [(1, "final", "created"), (2, "amended", "amended")]
    current = Report.objects.select_related("current").get(pk="R0001")
    assert current.current.number == 2
    assert ReportSearch.objects.get(pk="R0001").document.endswith(text(1, " Addendum.").lower())
    assert ReportSearch.objects.count() == Report.objects.count() == 3


def test_a_later_version_the_lifecycle_refuses_against_the_stored_report_is_a_problem(tmp_path):
    import_reports(write(tmp_path, [row("R0001", text(1))], name="first"))
    report = import_reports(write(tmp_path, [row("R0001", text(1, " x"), version=2, status="draft")]))
    assert report.outcome == ROLLED_BACK
    assert [(p["row"], p["uid"], p["field"]) for p in report.invalid] == [(1, "R0001", "metadata.status")]
    assert "final report cannot become draft" in report.invalid[0]["reason"]
    assert history("R0001") == [(1, "final", "created")]


def test_a_problem_aborts_the_whole_import_and_lists_every_problem(tmp_path):
    rows = [
        row("R0001", text(1)),
        row("", text(2)),
        row("R0003", "   "),
        row("R0004", text(4), version="two"),
        row("R0005", text(5), verified_at="05/01/2025"),
        row("R0006", text(6), metadata="{broken"),
        row("R0007", text(7), status="signed off maybe"),
        row("R0008", "x" * 100_001),
        row("R0009", text(9), status="final", version=1),
        row("R0009", text(9, " changed"), status="draft", version=2),
        row("R0009", text(9, " third"), status="final", version=3),
    ]
    version = current_data_version()
    report = import_reports(write(tmp_path, rows))
    assert report.outcome == ROLLED_BACK and "nothing was written" in report.error
    assert [(p["row"], p["uid"], p["field"]) for p in report.invalid] == [
        (2, "", "uid"),
        (3, "R0003", "content_raw"),
        (4, "R0004", "version_number"),
        (5, "R0005", "verified_at"),
        (6, "R0006", "metadata"),
        (7, "R0007", "metadata.status"),
        (8, "R0008", "content_raw"),
        (9, "R0009", "uid"),
        (10, "R0009", "metadata.status"),
        (11, "R0009", "uid"),
    ]
    assert "unknown status 'signed off maybe'" in report.invalid[5]["reason"]
    assert "longer than 100,000 characters" in report.invalid[6]["reason"]
    assert (report.not_written, report.skipped, report.new_reports) == (1, 10, 0)
    assert_counts_add_up(report)
    assert Report.objects.count() == ReportVersion.objects.count() == ReportSearch.objects.count() == 0
    assert current_data_version() == version
    run = ImportRun.objects.get(pk=report.import_run_id)
    assert (run.mode, run.outcome, run.invalid_rows, run.rows_read) == ("reports", ROLLED_BACK, 10, 11)


def test_skip_invalid_writes_the_valid_reports_and_skips_whole_histories(tmp_path):
    rows = [
        row("R0001", text(1)),
        row("R0002", text(2), version=1),
        row("R0002", "", version=2),
        row("R0003", text(3), metadata="[1, 2]"),
    ]
    report = import_reports(write(tmp_path, rows, "jsonl"), skip_invalid=True)
    assert report.outcome == COMMITTED
    assert (report.new_reports, report.new_versions, report.unchanged, report.skipped) == (1, 0, 0, 3)
    assert_counts_add_up(report)
    assert list(Report.objects.values_list("pk", flat=True)) == ["R0001"]
    assert {(p["row"], p["field"]) for p in report.invalid} == {
        (2, "uid"),
        (3, "content_raw"),
        (4, "metadata"),
    }


def test_a_dry_run_counts_everything_and_writes_nothing(tmp_path):
    version = current_data_version()
    report = import_reports(write(tmp_path, sample()), dry_run=True)
    assert report.outcome == DRY_RUN and report.ok
    # As import_studies' dry run: the counts say what a real run would write.
    assert (report.new_reports, report.new_versions, report.unchanged, report.not_written) == (4, 3, 1, 0)
    assert_counts_add_up(report)
    assert Report.objects.count() == ReportVersion.objects.count() == ReportSearchWord.objects.count() == 0
    assert current_data_version() == version


def test_a_database_failure_half_way_rolls_everything_back(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres, "INSERT_SEARCH_SQL", "SELECT 1/0")
    import_reports(write(tmp_path, [row("R0001", text(1))], name="first"))
    report = import_reports(write(tmp_path, [row("R0002", text(2))]))
    assert report.outcome == ROLLED_BACK and report.error == "database error: division by zero"
    assert list(Report.objects.values_list("pk", flat=True)) == ["R0001"]


def test_a_report_before_its_study_is_linked_when_the_study_arrives(tmp_path):
    exam_id = "20250000001"
    import_reports(write(tmp_path, [row("R0001", text(1), report_id=exam_id)]))
    client = Client(**bearer_headers("viewer"))
    assert client.get(f"/api/v1/studies/{exam_id}/reports").status_code == 404
    study = study_values(exam_id)
    assert import_studies(write_csv(tmp_path / "s.csv", STUDY_FIELDS, [legacy(study)])).outcome == COMMITTED
    listed = client.get(f"/api/v1/studies/{exam_id}/reports")
    assert listed.status_code == 200
    assert [(r["report_id"], r["exam_id"], r["status"]) for r in listed.json()] == [
        ("R0001", exam_id, "final")
    ]


def test_provenance_and_the_data_version(tmp_path):
    version = current_data_version()
    report = import_reports(write(tmp_path, sample()), user="operator")
    run = ImportRun.objects.get(pk=report.import_run_id)
    assert (run.mode, run.format, run.outcome, run.user) == ("reports", "duckdb", COMMITTED, "operator")
    assert (run.rows_read, run.inserted, run.unchanged, run.skipped) == (8, 7, 1, 0)
    assert len(run.sha256) == 64 and run.finished_at >= run.started_at
    stored = ReportVersion.objects.values_list("stored_at", flat=True)
    assert len(set(stored)) == 1  # now() of one transaction: every version was written in the same one
    assert current_data_version() == version + 1


def test_the_command_report_file_and_no_text_anywhere(tmp_path, capsys, caplog):
    rows = [*sample(), row("R0009", SECRET, status="nonsense")]
    path = write(tmp_path, rows)
    target = tmp_path / "out.json"
    caplog.set_level(logging.INFO, logger="importers")
    with pytest.raises(CommandError):
        call_command("import_reports", str(path), "--report", str(target))
    output = capsys.readouterr().out
    assert "row 10 (uid R0009): metadata.status: unknown status 'nonsense'" in output
    data = json.loads(target.read_text())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert data["outcome"] == ROLLED_BACK and data["format"] == "duckdb" and data["not_written"] == 7
    assert data["invalid"] == [
        {"row": 10, "uid": "R0009", "field": "metadata.status", "reason": data["invalid"][0]["reason"]}
    ]
    for where in (output, target.read_text(), caplog.text):
        assert SECRET.lower() not in where.lower()
    call_command("import_reports", str(path), "--skip-invalid", "--report", str(target))
    data = json.loads(target.read_text())
    assert (data["outcome"], data["new_reports"], data["skipped"], data["system_data"]) == (
        COMMITTED,
        4,
        1,
        1,
    )
    call_command("import_reports", str(path), "--dry-run", "--skip-invalid")  # a clean dry run exits 0
