"""The stream from source rows to storable rows: normalise, validate, set repeated exam_ids aside.

Duplicates are never silent (docs/legacy-data.md §4): the first row of each exam_id goes on to the database,
every later row with the same exam_id is kept aside with its row number, and the database then compares
each against the first, exactly (``IS DISTINCT FROM`` on every field), to tell identical repeats from
conflicts. Only repeats are held in memory; for the rest a dict of exam_id → first row number is enough.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from importers.normalise import BLANK, RowNormaliser


class Intake:
    """Counts and remembers what the rows it streams were; iterate ``stored_rows`` once."""

    def __init__(
        self,
        batches: Iterable[list[Sequence[object]]],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.batches = batches
        self.normalise = RowNormaliser()
        self.on_progress = on_progress
        self.rows_read = 0
        self.blank_rows = 0
        self.first_row: dict[str, int] = {}
        self.later: list[tuple] = []  # (*values, row) of repeated exam_ids
        self.stored = 0

    @property
    def problems(self):
        return self.normalise.problems

    @property
    def invalid_rows(self) -> int:
        return self.normalise.invalid_rows

    @property
    def rows_valid(self) -> int:
        return self.rows_read - self.invalid_rows

    def stored_rows(self, with_row_numbers: bool) -> Iterator[tuple]:
        """The first valid row of each exam_id, as ``STUDY_FIELDS`` tuples (plus the row number if asked).

        Every valid row is handed on even once an invalid one means the import will be refused: the
        database compares repeats with their first row, and the stored rows with the table, so only with
        every first row stored can a refused import list every conflict (and tell no conflict for an
        identical duplicate). A refused import rolls all of it back.
        """
        normalise = self.normalise
        first_row = self.first_row
        number = 0
        for batch in self.batches:
            for raw in batch:
                number += 1
                values = normalise(number, raw)
                if values is None:
                    continue
                if values is BLANK:
                    self.blank_rows += 1
                    continue
                exam_id = values[0]
                if exam_id in first_row:
                    self.later.append((*values, number))
                    continue
                first_row[exam_id] = number
                self.stored += 1
                yield (*values, number) if with_row_numbers else values
            self.rows_read = number - self.blank_rows
            if self.on_progress is not None:
                self.on_progress(number)
        self.rows_read = number - self.blank_rows
