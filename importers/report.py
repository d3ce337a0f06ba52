"""The outcome of one import: a summary a person can read and a JSON report for machines.

Counts add up for every import that read its whole file, committed, dry run or refused:
``rows_read = inserted + updated + not_written + unchanged + duplicates_identical + skipped``, where
``not_written`` holds the valid rows that a refused (or failed) import would have written, and ``skipped``
the invalid rows and every row of a conflicting exam_id. Only an import interrupted before it had read and
compared every row (a kill, a database error) has partial counts; its ``error`` says so. The JSON file is
created owner-only (0o600), as it may one day carry more than exam_ids. The printed summary carries
exam_ids, row numbers and reasons; a reason quotes an offending value only if it is digits and date
punctuation, so never a name.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

COMMITTED, ROLLED_BACK, DRY_RUN = "committed", "rolled_back", "dry_run"


@dataclass
class ImportReport:
    file: str
    sha256: str = ""
    size: int = 0
    format: str = ""
    variant: str = ""
    mode: str = "insert"
    dry_run: bool = False
    skip_invalid: bool = False
    outcome: str = ROLLED_BACK
    error: str | None = None
    rows_read: int = 0
    rows_valid: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    not_written: int = 0
    duplicates_identical: int = 0
    skipped: int = 0
    blank_rows: int = 0
    total_after: int | None = None
    invalid: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
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
    def conflict_rows(self) -> int:
        return sum(len(conflict["rows"]) for conflict in self.conflicts)

    @property
    def ok(self) -> bool:
        """Whether the import did (or, in a dry run, would) commit."""
        return self.error is None and (self.skip_invalid or not (self.invalid or self.conflicts))

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def run_counts(self) -> dict[str, int]:
        """This import's counts, by the ``ImportRun`` field that keeps them."""
        names = ("rows_read", "rows_valid", "inserted", "updated", "unchanged", "deleted", "not_written")
        return {
            **{name: getattr(self, name) for name in names},
            "duplicates_identical": self.duplicates_identical,
            "skipped": self.skipped,
            "invalid_rows": self.invalid_rows,
            "conflicts": len(self.conflicts),
        }

    def log_counts(self) -> str:
        return (
            f"read {self.rows_read}, inserted {self.inserted}, updated {self.updated}, "
            f"not written {self.not_written}, unchanged {self.unchanged}, "
            f"identical duplicates {self.duplicates_identical}, skipped {self.skipped}, "
            f"{len(self.invalid)} problems, {len(self.conflicts)} conflicts"
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["rows_per_second"] = round(self.rows_per_second, 1)
        return data

    def write_json(self, path: Path) -> None:
        """Write the report owner-only, also when the file already existed with wider permissions."""
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, ensure_ascii=False, indent=2, default=str)
            handle.write("\n")

    def summary_lines(self, problem_lines: int = 20) -> list[str]:
        """The summary for a terminal or a log: counts, time and the first problems, never a patient name."""
        verb = {COMMITTED: "Imported", DRY_RUN: "Dry run (nothing written) of", ROLLED_BACK: "Rolled back"}
        lines = [
            f"{verb.get(self.outcome, self.outcome)} {self.file} ({self.format}{', ' if self.variant else ''}"
            f"{self.variant}), mode {self.mode}{', skipping invalid rows' if self.skip_invalid else ''}",
            f"  read {self.rows_read:,}, valid {self.rows_valid:,}, inserted {self.inserted:,}, "
            f"updated {self.updated:,}, "
            + (f"not written {self.not_written:,}, " if self.not_written else "")
            + f"unchanged {self.unchanged:,}, "
            f"identical duplicates {self.duplicates_identical:,}, "
            f"invalid {self.invalid_rows:,} rows ({len(self.invalid):,} problems), "
            f"conflicts {len(self.conflicts):,} exam_ids ({self.conflict_rows:,} rows), "
            f"skipped {self.skipped:,}" + (f", deleted {self.deleted:,}" if self.deleted else ""),
            f"  {self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s"
            + (f"; the table now holds {self.total_after:,} studies" if self.total_after is not None else ""),
        ]
        lines.extend(f"  warning: {warning}" for warning in self.warnings)
        for problem in self.invalid[:problem_lines]:
            lines.append(
                f"  row {problem['row']} (exam_id {problem['exam_id'] or '?'}): "
                f"{problem['field']}: {problem['reason']}"
            )
        if len(self.invalid) > problem_lines:
            more = len(self.invalid) - problem_lines
            lines.append(f"  ... and {more:,} more problems (see the JSON report)")
        for conflict in self.conflicts[:problem_lines]:
            rows = ", ".join(str(r) for r in conflict["rows"][:10])
            lines.append(f"  conflict: exam_id {conflict['exam_id']} rows {rows}: {conflict['reason']}")
        if len(self.conflicts) > problem_lines:
            more = len(self.conflicts) - problem_lines
            lines.append(f"  ... and {more:,} more conflicts (see the JSON report)")
        if self.error:
            lines.append(f"  error: {self.error}")
        return lines
