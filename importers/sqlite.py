"""The SQLite write path (the zero-setup demo database): the same steps through the ORM, slower.

The loaded rows are held in memory (SQLite serves demos of thousands of rows, not the hospital's million)
and compared with the table in chunks of primary keys; writes are ``bulk_create``/``bulk_update`` inside
the caller's transaction, so the results, counts and all-or-nothing behaviour match PostgreSQL's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from itertools import islice

from django.db import connections
from django.utils import timezone

from importers.intake import Intake
from importers.targets import REPLACE, Classification, Target, VerificationError
from server.studies import bulk
from server.studies.columns import STUDY_FIELDS
from server.studies.models import Study

CHUNK = 500  # primary keys per query, well under SQLite's variable limit


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _values(study: Study) -> tuple:
    return tuple(getattr(study, name) for name in STUDY_FIELDS)


class SqliteTarget(Target):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connections[self.using]
        self.staged: dict[str, tuple] = {}  # exam_id -> (*values, row)
        self.changed: list[str] = []

    def _existing(self, exam_ids: Sequence[str]) -> Iterator[tuple[str, tuple]]:
        for chunk in _chunks(exam_ids):
            for study in Study.objects.using(self.using).filter(exam_id__in=chunk):
                yield study.exam_id, _values(study)

    def begin(self) -> None:
        self.before = Study.objects.using(self.using).count()
        self.direct = not self.dry_run and self.mode == REPLACE
        if self.direct:
            bulk.truncate(self.connection)
        self.write_path = "ORM (SQLite)"

    def load(self, intake: Intake) -> int:
        for row in intake.stored_rows(True):
            self.staged[row[0]] = row
        return len(self.staged)

    def differing(self, later: Sequence[tuple]) -> set[str]:
        return {row[0] for row in later if row[:-1] != self.staged[row[0]][:-1]}

    def discard(self, exam_ids: Collection[str]) -> None:
        for exam_id in exam_ids:
            self.staged.pop(exam_id, None)

    def classify(self) -> Classification:
        if self.mode == REPLACE:
            return Classification(new=len(self.staged))
        result = Classification()
        found = dict(self._existing(list(self.staged)))
        for exam_id, row in self.staged.items():
            stored = found.get(exam_id)
            if stored is None:
                result.new += 1
            elif stored == row[:-1]:
                result.unchanged += 1
            else:
                result.changed.append((exam_id, row[-1]))
        result.changed.sort(key=lambda item: item[1])
        self.changed = [exam_id for exam_id, _ in result.changed]
        return result

    def apply(self, update_changed: bool, writes: int) -> tuple[int, int]:
        existing = set() if self.direct else {exam_id for exam_id, _ in self._existing(list(self.staged))}
        new = [row[:-1] for exam_id, row in self.staged.items() if exam_id not in existing]
        inserted = bulk.write_studies(new, using=self.using)
        updated = 0
        if update_changed and self.changed:
            now = timezone.now()
            studies = []
            for exam_id in self.changed:
                study = Study(**dict(zip(STUDY_FIELDS, self.staged[exam_id][:-1], strict=True)))
                study.imported_at = now
                studies.append(study)
            updated = Study.objects.using(self.using).bulk_update(
                studies, [*STUDY_FIELDS[1:], "imported_at"], batch_size=CHUNK
            )
        return inserted, updated

    def finish(self) -> None:
        """Nothing deferred on SQLite."""

    def verify(self, expected_total: int) -> int:
        total = Study.objects.using(self.using).count()
        if total != expected_total:
            raise VerificationError(
                f"the table holds {total:,} studies after the import, {expected_total:,} expected"
            )
        found = dict(self._existing(list(self.staged)))
        wrong = sum(found.get(exam_id) != row[:-1] for exam_id, row in self.staged.items())
        if wrong:
            raise VerificationError(f"{wrong:,} imported studies are not in the table as imported")
        return total
