"""How an import's outcome is recorded, for the studies' and the reports' importers alike: its ``ImportRun``
row (provenance, outcome and counts), the JSON report, the import metric and one log line of counts, never
a row's content. Each report says what its own counts are (``run_counts``, ``written``, ``log_counts``)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol

from django.db import DatabaseError
from django.utils import timezone

from importers.models import ImportRun
from importers.report import COMMITTED
from server.core.metrics import record_import_run

logger = logging.getLogger("importers")


class Outcome(Protocol):
    size: int
    sha256: str
    format: str
    outcome: str
    error: str | None
    seconds: float
    finished_at: str

    @property
    def written(self) -> int: ...

    def run_counts(self) -> dict[str, int]: ...

    def log_counts(self) -> str: ...

    def write_json(self, path: Path) -> None: ...


def save_run(run: ImportRun, report: Outcome, using: str) -> None:
    run.file_size = report.size
    run.sha256 = report.sha256
    run.format = report.format
    run.outcome = report.outcome
    run.finished_at = timezone.now()
    run.error = report.error or ""
    for name, value in report.run_counts().items():
        setattr(run, name, value)
    run.save(using=using)


def finish(report: Outcome, run: ImportRun, clock: float, report_path: str | Path | None, using: str) -> None:
    """Close the report, whatever happened: a committed import saved its run in its transaction; any other
    outcome is saved here, and a database too broken to take it leaves a log line rather than a second
    error hiding the first."""
    report.seconds = round(time.perf_counter() - clock, 3)
    report.finished_at = timezone.now().isoformat(timespec="seconds")
    if report.outcome != COMMITTED:
        try:
            save_run(run, report, using)
        except DatabaseError:
            logger.exception("import %s: could not record its outcome", run.id)
    if report_path is not None:
        report.write_json(Path(report_path))
    record_import_run(report.format or "unknown", report.outcome, report.written)
    error = f" ({report.error})" if report.error else ""
    logger.info("import %s %s: %s%s", run.id, report.outcome, report.log_counts(), error)
