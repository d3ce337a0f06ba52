"""CSV files with a header row of field names (or the spreadsheet's labels), UTF-8 with or without a BOM."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

from importers.headers import HeaderMap
from importers.readers.base import BATCH_ROWS, Source, SourceError, projector

# Python's csv module refuses a field over 128 KiB by default; the legacy text columns have no length, so a
# long free text must not make the file unreadable. 64 MiB still stops a file that is not CSV at all (one
# unclosed quote) from being read into memory whole as one field.
FIELD_SIZE_LIMIT = 64 << 20


def _count_lines(path: Path) -> int:
    """Lines in the file, for the progress estimate only (a quoted field may span lines)."""
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


class CsvSource(Source):
    format = "csv"
    variant = "UTF-8"

    def __init__(self, path: Path) -> None:
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
        self.handle = path.open(encoding="utf-8-sig", newline="")
        self._rows = csv.reader(self.handle)
        try:
            self.labels = next(self._rows, [])
        except (UnicodeDecodeError, csv.Error) as error:
            self.close()
            raise SourceError(f"cannot read {path.name!r} as UTF-8 CSV: {error}") from None
        self.expected_rows = max(_count_lines(path) - 1, 0)

    def rows(self, header: HeaderMap, batch_rows: int = BATCH_ROWS) -> Iterator[list[Sequence[object]]]:
        project = projector(header, len(self.labels))
        try:
            while batch := list(islice(self._rows, batch_rows)):
                yield [project(row) for row in batch]
        except (UnicodeDecodeError, csv.Error) as error:
            raise SourceError(f"cannot read the CSV file: {error}") from None

    def close(self) -> None:
        self.handle.close()
