"""The outcome of one reports import: counts that add up, the problems, and the JSON report.

For every import that read its whole file: ``rows_read = new_reports + new_versions + not_written +
unchanged + skipped``, where a *new report* is the row of a report's first version, a *new version* the row
of any later one, *unchanged* a row whose version is stored already or repeats one of the file (same uid,
content and status), *skipped* the rows listed in ``invalid``, and *not written* the new reports and versions
of a refused or failed import. ``system_data`` rows are not reports: they are counted apart
(``system_data``), not in ``rows_read``. Problems carry the row, uid, field and a reason, never the text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from importers.report import COMMITTED, DRY_RUN, ROLLED_BACK, ImportReport


@dataclass
class ReportsImportReport:
    file: str
    sha256: str = ""
    size: int = 0
    format: str = ""
    dry_run: bool = False
    skip_invalid: bool = False
    outcome: str = ROLLED_BACK
    error: str | None = None
    rows_in_file: int = 0
    system_data: int = 0
    rows_read: int = 0
    new_reports: int = 0
    new_versions: int = 0
    unchanged: int = 0
    duplicates: int = 0  # of ``unchanged``: rows repeating a version of the file itself
    not_written: int = 0
    skipped: int = 0
    reports_after: int | None = None
    versions_after: int | None = None
    invalid: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    write_path: str = ""
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0
    import_run_id: int | None = None

    @property
    def invalid_rows(self) -> int:
        return len({problem["row"] for problem in self.invalid})

    @property
    def ok(self) -> bool:
        """Whether the import did (or, in a dry run, would) commit."""
        return self.error is None and (self.skip_invalid or not self.invalid)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    @property
    def written(self) -> int:
        return self.new_reports + self.new_versions

    def run_counts(self) -> dict[str, int]:
        """This import's counts, by the ``ImportRun`` field that keeps them (``inserted``: versions)."""
        return {
            "rows_read": self.rows_read,
            "rows_valid": self.rows_read - self.skipped,
            "inserted": self.written,
            "unchanged": self.unchanged,
            "not_written": self.not_written,
            "duplicates_identical": self.duplicates,
            "skipped": self.skipped,
            "invalid_rows": self.invalid_rows,
        }

    def log_counts(self) -> str:
        return (
            f"reports read {self.rows_read} (system_data {self.system_data}), "
            f"new reports {self.new_reports}, new versions {self.new_versions}, "
            f"not written {self.not_written}, unchanged {self.unchanged}, "
            f"skipped {self.skipped}, {len(self.invalid)} problems"
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["rows_per_second"] = round(self.rows_per_second, 1)
        return data

    write_json = ImportReport.write_json  # owner-only, as the studies' report

    def summary_lines(self, problem_lines: int = 20) -> list[str]:
        """Counts, time and the first problems, for a terminal or a log; never a report's text."""
        verb = {COMMITTED: "Imported", DRY_RUN: "Dry run (nothing written) of", ROLLED_BACK: "Rolled back"}
        lines = [
            f"{verb.get(self.outcome, self.outcome)} reports from {self.file} ({self.format})"
            + (", skipping invalid rows" if self.skip_invalid else ""),
            f"  read {self.rows_read:,} (and {self.system_data:,} system_data rows, not reports): "
            f"new reports {self.new_reports:,}, new versions {self.new_versions:,}, "
            + (f"not written {self.not_written:,}, " if self.not_written else "")
            + f"unchanged {self.unchanged:,} (of which repeats in the file {self.duplicates:,}), "
            f"skipped {self.skipped:,} ({len(self.invalid):,} problems)",
            f"  {self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s"
            + (
                f"; the database now holds {self.reports_after:,} reports, {self.versions_after:,} versions"
                if self.reports_after is not None
                else ""
            ),
        ]
        lines.extend(f"  warning: {warning}" for warning in self.warnings)
        for problem in self.invalid[:problem_lines]:
            lines.append(
                f"  row {problem['row']} (uid {problem['uid'] or '?'}): "
                f"{problem['field']}: {problem['reason']}"
            )
        if len(self.invalid) > problem_lines:
            lines.append(
                f"  ... and {len(self.invalid) - problem_lines:,} more problems (see the JSON report)"
            )
        if self.error:
            lines.append(f"  error: {self.error}")
        return lines
