"""Where validated rows go, and how they are compared with what the table already holds.

The import (``importers.service``) drives a target through these steps: ``begin`` (lock, decide the write
path), ``load`` (the first row of each exam_id), ``differing`` (repeats that do not match their first row),
``discard`` (conflicts, when skipping them), ``classify`` (new / unchanged / changed against the table),
``apply``, ``finish`` and ``verify``. ``PostgresTarget`` does it with COPY and set-based SQL; the interface
stays apart from it so that another table can be imported through the same steps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from importers.intake import Intake

INSERT, UPSERT, REPLACE = "insert", "upsert", "replace"
MODES = (INSERT, UPSERT, REPLACE)
# Below this many rows, rebuilding every index costs more than maintaining it row by row.
DEFER_INDEXES_FROM = 20_000


class VerificationError(Exception):
    """After writing, the table does not hold what the import says it wrote: the transaction rolls back."""


@dataclass
class Classification:
    """The stored first rows against the table: how many are new, identical, and which differ."""

    new: int = 0
    unchanged: int = 0
    changed: list[tuple[str, int]] = field(default_factory=list)  # (exam_id, row)


class Target(ABC):
    """One import's writes, inside the caller's transaction."""

    write_path = ""

    def __init__(self, using: str, mode: str, dry_run: bool, expected_rows: int | None) -> None:
        self.using = using
        self.mode = mode
        self.dry_run = dry_run
        self.expected_rows = expected_rows
        self.before = 0
        self.direct = False

    def large(self, rows: int | None) -> bool:
        return rows is None or rows >= DEFER_INDEXES_FROM

    @abstractmethod
    def begin(self) -> None:
        """Lock the table against other imports, count it, and choose the write path."""

    @abstractmethod
    def load(self, intake: Intake) -> int:
        """Store the first valid row of each exam_id (in the table itself, or in staging)."""

    @abstractmethod
    def differing(self, later: Sequence[tuple]) -> set[str]:
        """exam_ids among ``later`` rows ((*values, row)) that differ from their stored first row."""

    @abstractmethod
    def discard(self, exam_ids: Collection[str]) -> None:
        """Drop these exam_ids from what was loaded (conflicts skipped with ``--skip-invalid``)."""

    @abstractmethod
    def classify(self) -> Classification:
        """Compare what was loaded with the table."""

    @abstractmethod
    def apply(self, update_changed: bool, writes: int) -> tuple[int, int]:
        """Insert the new rows (and update the changed ones if asked, ``writes`` rows in all); returns
        (inserted, updated)."""

    @abstractmethod
    def finish(self) -> None:
        """Rebuild what was deferred, refresh statistics, drop staging."""

    def search_profile(self) -> dict | None:
        """The table's free-text search profile after this import (``server.studies.search_profile``), to
        store with the new data version; None to store none (readers then scan)."""
        return None

    @abstractmethod
    def verify(self, expected_total: int) -> int:
        """Check the table holds every loaded row exactly and ``expected_total`` rows; returns the total."""


def target_for(using: str, mode: str, dry_run: bool, expected_rows: int | None) -> Target:
    from importers.postgres import PostgresTarget

    return PostgresTarget(using, mode, dry_run, expected_rows)
