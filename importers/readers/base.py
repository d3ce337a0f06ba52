"""What every source reader offers the import, whatever the file format."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from importers.headers import HeaderMap
from server.studies.columns import STUDY_FIELDS

BATCH_ROWS = 5000


class SourceError(Exception):
    """The file cannot be read as the format says (missing table or sheet, not a spreadsheet, ...)."""


class Source(ABC):
    """An opened source file whose header has been read.

    ``rows`` yields batches of raw tuples, one per data row in file order (blank rows included, so that the
    position of a row is its 1-based data row number), each holding the source's values in
    ``STUDY_FIELDS`` order with ``None`` for fields the source has no column for.
    """

    format: str
    variant: str = ""
    labels: Sequence[object] = ()
    expected_extra: tuple[str, ...] = ()
    expected_rows: int | None = None

    @abstractmethod
    def rows(self, header: HeaderMap, batch_rows: int = BATCH_ROWS) -> Iterator[list[Sequence[object]]]:
        """Batches of raw rows in ``STUDY_FIELDS`` order."""

    def close(self) -> None:  # noqa: B027 (most sources hold nothing to release)
        """Release the file."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def projector(header: HeaderMap, width: int):
    """A function that reorders one positional source row into ``STUDY_FIELDS`` order.

    Rows may be shorter than the header (trailing empty cells are left out by spreadsheets), so each row is
    padded to ``width`` + 1, and fields without a column read the always-``None`` last cell.
    """
    from operator import itemgetter

    missing = width
    getter = itemgetter(*(header.positions.get(name, missing) for name in STUDY_FIELDS))
    padding = (None,) * (width + 1)

    def project(row: Sequence[object]) -> tuple:
        if len(row) <= width:
            row = (*row, *padding[len(row) :])
        return getter(row)

    return project
