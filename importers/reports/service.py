"""``import_reports``: the legacy reports into ``report``, ``report_version`` and ``report_search``,
validated, all or nothing, in one transaction, with a report that accounts for every row.

The studies importer's guarantees, and its pieces: the same provenance (an ``ImportRun`` row, mode
``reports``), progress bar, owner-only JSON report, exit codes, and data version. Reading is DuckDB's
(``source``), checking and the lifecycle Python's (``history``), writing PostgreSQL's (``postgres``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils import timezone

from importers.models import ImportRun
from importers.readers.base import SourceError
from importers.report import COMMITTED, DRY_RUN, ROLLED_BACK
from importers.reports.history import Histories, UnsortedSource
from importers.reports.outcome import ReportsImportReport
from importers.reports.postgres import ReportsTarget
from importers.reports.source import LegacyReports, detect_format
from importers.runs import finish, save_run
from importers.service import database_message, no_cyclic_gc, os_user, sha256_of
from importers.targets import VerificationError
from server.core.data_version import bump_data_version, data_version_key, stored_search_profile

logger = logging.getLogger("importers")
MODE = "reports"  # what ImportRun.mode says of a reports import


class ImportAborted(Exception):
    """Invalid rows, not skipped: nothing is written."""


class _DryRunDone(Exception):
    """Rolls back a dry run's transaction (its staging tables) once everything is counted."""


def import_reports(
    path: str | Path,
    *,
    fmt: str | None = None,
    table: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    report_path: str | Path | None = None,
    user: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
    on_progress: Callable[[int], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
    total_hint: Callable[[int | None], None] | None = None,
) -> ReportsImportReport:
    """Import one legacy reports file (DuckDB, CSV or JSON Lines); returns the report, never raises for a
    bad file, bad rows or a database failure (``outcome`` and ``error`` say what happened)."""
    path = Path(path)
    clock = time.perf_counter()
    report = ReportsImportReport(file=path.name, dry_run=dry_run, skip_invalid=skip_invalid)
    report.started_at = timezone.now().isoformat(timespec="seconds")
    run = ImportRun.objects.using(using).create(
        file_name=path.name[:255], file_path=str(path.resolve()), mode=MODE, dry_run=dry_run,
        skip_invalid=skip_invalid, user=(user if user is not None else os_user())[:150],
        started_at=timezone.now(),
    )  # fmt: skip
    report.import_run_id = run.id
    phase = on_phase or (lambda text: None)
    try:
        report.format = detect_format(path, fmt)
        report.size = path.stat().st_size
        report.sha256 = sha256_of(path)
        logger.info(
            "import %s: reports from %s (%s, %s bytes)", run.id, path.name, report.format, report.size
        )
        with LegacyReports(path, report.format, table) as source:
            report.rows_in_file, report.system_data = source.rows_in_file, source.system_data
            if source.absent:
                report.warnings.append("no column " + ", ".join(source.absent) + ": left empty")
            if total_hint is not None:
                total_hint(source.rows_to_read)
            with no_cyclic_gc():
                _write(report, run, source, using, on_progress, phase)
    except _DryRunDone:
        report.outcome = DRY_RUN
    except (ImportAborted, SourceError, UnsortedSource, VerificationError, OSError) as error:
        _rolled_back(report, str(error))
    except (DatabaseError, connections[using].Database.Error) as error:
        _rolled_back(report, database_message(error))
    except BaseException as error:  # a kill or a bug: record it, then let it go on
        _rolled_back(report, f"interrupted: {type(error).__name__}")
        finish(report, run, clock, report_path, using)
        raise
    finish(report, run, clock, report_path, using)
    return report


def _rolled_back(report: ReportsImportReport, message: str) -> None:
    report.error = message
    report.outcome = DRY_RUN if report.dry_run else ROLLED_BACK
    report.not_written = report.new_reports + report.new_versions
    report.new_reports = report.new_versions = 0
    report.reports_after = report.versions_after = None


def _write(report: ReportsImportReport, run: ImportRun, source: LegacyReports, using, on_progress, phase):
    """Everything that touches the report tables, in one transaction."""
    with transaction.atomic(using=using):
        target = ReportsTarget(using, report.dry_run)
        target.begin(source.rows_to_read)
        report.write_path = target.write_path
        histories = Histories()
        target.load(histories(source.rows(), on_progress))
        report.rows_read, report.skipped, report.duplicates = (
            histories.rows_read,
            histories.skipped,
            histories.duplicates,
        )
        phase(f"read {histories.rows_read:,} rows; comparing")
        classified = target.classify()
        problems = [problem._asdict() for problem in histories.problems]
        problems.extend(
            dict(zip(("row", "uid", "field", "reason"), p, strict=True)) for p in classified.problems
        )
        report.invalid = sorted(problems, key=lambda problem: (problem["row"], problem["field"]))
        report.skipped += len({problem[0] for problem in classified.problems})
        report.new_reports, report.new_versions = classified.new_reports, classified.new_versions
        report.unchanged = report.duplicates + classified.unchanged_versions
        accounted = report.new_reports + report.new_versions + report.unchanged + report.skipped
        if accounted != report.rows_read:
            raise VerificationError(f"{accounted:,} rows accounted for, {report.rows_read:,} read")
        if not report.skip_invalid and report.invalid:
            raise ImportAborted(
                f"{report.invalid_rows:,} invalid rows ({len(report.invalid):,} problems): nothing was "
                "written. Fix the file, or use --skip-invalid to write the valid reports and skip (and list) "
                "these"
            )
        if report.dry_run:
            raise _DryRunDone
        wrote = bool(report.new_reports or report.new_versions)
        if wrote:
            phase(f"writing {report.new_reports:,} new reports and {report.new_versions:,} new versions")
        target.apply(classified)
        if target.deferred._exit_callbacks:
            phase("rebuilding the indexes")
        target.finish(wrote)
        report.write_path = target.write_path
        report.reports_after, report.versions_after = target.verify(report.new_reports, report.new_versions)
        if wrote:
            # The studies did not change: their stored search profile goes on with the new version.
            profile = stored_search_profile(data_version_key(using), using)
            bump_data_version(using=using, search_profile=profile)
        report.outcome = COMMITTED
        save_run(run, report, using)
