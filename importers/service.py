"""``import_studies``: one file into the studies table, validated, all or nothing, with a report.

The management command and (later) an upload endpoint both call this. Everything that writes happens in
one transaction: an invalid row or a conflict (unless skipped), a database error, a failed count check or a
kill half-way leaves the table exactly as it was. See ``importers.targets`` for the steps of the write.
"""

from __future__ import annotations

import gc
import getpass
import hashlib
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.utils import timezone

from importers.headers import HeaderError, map_headers
from importers.intake import Intake
from importers.models import ImportRun
from importers.readers import SourceError, detect_format, open_source
from importers.report import COMMITTED, DRY_RUN, ROLLED_BACK, ImportReport
from importers.runs import finish, save_run
from importers.targets import INSERT, MODES, REPLACE, UPSERT, Target, VerificationError, target_for
from server.core.data_version import bump_data_version

logger = logging.getLogger("importers")

# The two kinds of conflict, as the report names them.
REPEATED_WITH_OTHER_CONTENT = "the file holds this exam_id more than once with different content"
DIFFERS_FROM_STORED = "differs from the stored study (use --mode upsert to update it)"


class ImportAborted(Exception):
    """Invalid rows or conflicts, not skipped: nothing is written."""


class _DryRunDone(Exception):
    """Raised to roll back a dry run's transaction (its staging tables) once everything is counted."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def database_message(error: BaseException) -> str:
    """A database error without its DETAIL, which may quote a whole row (and so a patient's name)."""
    diag = getattr(error, "diag", None) or getattr(getattr(error, "__cause__", None), "diag", None)
    primary = getattr(diag, "message_primary", None)
    return f"database error: {primary or type(error).__name__}"


@contextmanager
def no_cyclic_gc():
    """The read loop allocates millions of tuples and no cycles; the cyclic collector would only rescan."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_studies(
    path: str | Path,
    *,
    fmt: str | None = None,
    table: str | None = None,
    sheet: str | None = None,
    mode: str = INSERT,
    skip_invalid: bool = False,
    dry_run: bool = False,
    report_path: str | Path | None = None,
    user: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
    on_progress: Callable[[int], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
    total_hint: Callable[[int | None], None] | None = None,
) -> ImportReport:
    """Import one DuckDB, Excel or CSV file; returns the report (also written to ``report_path``).

    Never raises for a bad file, bad rows or a database failure: the report's ``outcome`` says what happened
    and ``error`` why. ``mode`` is ``insert`` (new exam_ids; identical ones left alone; a changed one is a
    conflict), ``upsert`` (changed ones updated) or ``replace`` (the table's whole content swapped).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    path = Path(path)
    clock = time.perf_counter()
    report = ImportReport(file=path.name, mode=mode, dry_run=dry_run, skip_invalid=skip_invalid)
    report.started_at = timezone.now().isoformat(timespec="seconds")
    run = ImportRun.objects.using(using).create(
        file_name=path.name[:255],
        file_path=str(path.resolve()),
        mode=mode,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        user=(user if user is not None else os_user())[:150],
        started_at=timezone.now(),
    )
    report.import_run_id = run.id
    phase = on_phase or (lambda text: None)
    try:
        report.format = detect_format(path, fmt)
        report.size = path.stat().st_size
        report.sha256 = sha256_of(path)
        logger.info(
            "import %s: %s (%s, %s bytes), mode %s", run.id, path.name, report.format, report.size, mode
        )
        with open_source(path, report.format, table=table, sheet=sheet) as source:
            report.variant = source.variant
            header = map_headers(source.labels, source.expected_extra)
            report.warnings.extend(header.warnings)
            if header.absent_optional and source.format != "duckdb":
                report.warnings.append("no column for " + ", ".join(header.absent_optional) + ": left empty")
            if total_hint is not None:
                total_hint(source.expected_rows)
            target = target_for(using, mode, dry_run, source.expected_rows)
            with no_cyclic_gc():
                _write(report, run, target, source.rows(header), on_progress, phase)
    except _DryRunDone:
        report.outcome = DRY_RUN
    except (ImportAborted, SourceError, HeaderError, VerificationError, OSError) as error:
        _rolled_back(report, str(error))
    except (DatabaseError, connections[using].Database.Error) as error:
        # COPY runs on psycopg's own cursor, whose errors Django does not wrap.
        _rolled_back(report, database_message(error))
    except BaseException as error:  # a kill or a bug: record it, then let it go on
        _rolled_back(report, f"interrupted: {type(error).__name__}")
        finish(report, run, clock, report_path, using)
        raise
    finish(report, run, clock, report_path, using)
    return report


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _rolled_back(report: ImportReport, message: str) -> None:
    if report.dry_run and report.outcome == DRY_RUN:
        return
    report.error = message
    report.outcome = DRY_RUN if report.dry_run else ROLLED_BACK
    # What would have been written is kept apart, so that a refused import's counts still add up.
    report.not_written = report.inserted + report.updated
    report.inserted = report.updated = report.deleted = 0
    report.total_after = None


def _write(report: ImportReport, run: ImportRun, target: Target, batches, on_progress, phase) -> None:
    """Everything that touches the studies table, in one transaction."""
    with transaction.atomic(using=target.using):
        target.begin()
        report.write_path = target.write_path
        intake = Intake(batches, on_progress=on_progress)
        target.load(intake)
        report.rows_read, report.rows_valid, report.blank_rows = (
            intake.rows_read,
            intake.rows_valid,
            intake.blank_rows,
        )
        report.invalid = [problem._asdict() for problem in intake.problems]
        phase(f"read {intake.rows_read:,} rows; comparing")
        # Conflicts within the file, then against the table: both are looked for in every mode, so that a
        # refused import lists all of them and the operator can fix the file in one pass.
        conflicts, identical_later = _repeats(intake, target.differing(intake.later))
        target.discard(conflicts)
        classification = target.classify()
        if report.mode == INSERT and classification.changed:
            for exam_id, row in classification.changed:
                conflicts[exam_id] = ([row, *identical_later.pop(exam_id, [])], DIFFERS_FROM_STORED)
            target.discard([exam_id for exam_id, _ in classification.changed])
        report.conflicts = [
            {"exam_id": exam_id, "rows": sorted(rows), "reason": reason}
            for exam_id, (rows, reason) in sorted(conflicts.items(), key=lambda item: min(item[1][0]))
        ]
        report.duplicates_identical = sum(len(rows) for rows in identical_later.values())
        report.skipped = report.invalid_rows + report.conflict_rows
        report.inserted = classification.new
        report.unchanged = classification.unchanged
        report.updated = len(classification.changed) if report.mode == UPSERT else 0
        if not report.skip_invalid and (report.invalid or report.conflicts):
            raise ImportAborted(_abort_message(report))
        if report.mode == REPLACE and classification.new == 0 and target.before:
            raise ImportAborted(f"no valid rows to replace the table's {target.before:,} studies with")
        report.deleted = target.before if report.mode == REPLACE else 0
        if report.dry_run:
            raise _DryRunDone
        if not target.direct and (report.inserted or report.updated):
            phase(f"writing {report.inserted:,} new and {report.updated:,} changed studies")
        inserted, updated = target.apply(report.mode == UPSERT, report.inserted + report.updated)
        if (inserted, updated) != (report.inserted, report.updated):
            raise VerificationError(
                f"wrote {inserted:,} new and {updated:,} changed studies, "
                f"{report.inserted:,} and {report.updated:,} expected"
            )
        if "rebuilt" in target.write_path:
            phase("rebuilding the indexes")
            report.write_path = target.write_path
        target.finish()
        report.write_path = target.write_path
        changed = bool(report.inserted or report.updated or report.deleted)
        profile = target.search_profile() if changed else None
        expected = report.inserted + (0 if target.direct else target.before)
        report.total_after = target.verify(expected)
        if changed:
            bump_data_version(using=target.using, search_profile=profile)
        report.outcome = COMMITTED
        save_run(run, report, target.using)


def _repeats(intake: Intake, differing: set[str]) -> tuple[dict, dict[str, list[int]]]:
    """Conflicts ({exam_id: (rows, reason)}) and identical repeats ({exam_id: [rows]}) within the file."""
    conflicts: dict[str, tuple[list[int], str]] = {}
    identical: dict[str, list[int]] = {}
    for row in intake.later:
        exam_id, number = row[0], row[-1]
        if exam_id in differing:
            first = intake.first_row[exam_id]
            conflicts.setdefault(exam_id, ([first], REPEATED_WITH_OTHER_CONTENT))[0].append(number)
        else:
            identical.setdefault(exam_id, []).append(number)
    return conflicts, identical


def _abort_message(report: ImportReport) -> str:
    parts = []
    if report.invalid:
        parts.append(f"{report.invalid_rows:,} invalid rows ({len(report.invalid):,} problems)")
    if report.conflicts:
        parts.append(f"{len(report.conflicts):,} conflicting exam_ids")
    return (
        " and ".join(parts) + ": nothing was written. Fix the file, or use --skip-invalid to write the valid "
        "rows and skip (and list) these"
    )


__all__ = [
    "DIFFERS_FROM_STORED",
    "REPEATED_WITH_OTHER_CONTENT",
    "ImportAborted",
    "import_studies",
    "sha256_of",
]
