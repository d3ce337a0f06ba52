"""Excel exports from the hospital system, read with openpyxl in read-only (streaming) mode.

The real export has about 470,000 rows, so the sheet is never loaded whole: read-only mode parses the XML as
it goes and memory stays flat. python-calamine reads several times faster but builds the whole sheet in memory
first (measured: 811 MB at 470,000 rows, against 65 MB here), which the import's memory budget excludes.
Cells come typed: text, numbers (IDs typed as numbers are turned back into exact digits by the value
parsers) and real dates (``data_only`` gives cached formula results, never formulas).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

import openpyxl

from importers.headers import HeaderMap
from importers.readers.base import BATCH_ROWS, Source, SourceError, projector


class XlsxSource(Source):
    format = "xlsx"

    def __init__(self, path: Path, sheet: str | None) -> None:
        try:
            self.workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
            raise SourceError(f"cannot open {path.name!r} as an .xlsx workbook: {error}") from None
        if sheet is None:
            self.sheet = self.workbook.worksheets[0]
        elif sheet in self.workbook.sheetnames:
            self.sheet = self.workbook[sheet]
        else:
            names = ", ".join(repr(n) for n in self.workbook.sheetnames)
            self.close()
            raise SourceError(f"no sheet {sheet!r} in {path.name!r} (it has: {names})")
        self.variant = f"sheet {self.sheet.title!r}"
        self._rows = self.sheet.iter_rows(values_only=True)
        self.labels = list(next(self._rows, ()))
        while self.labels and self.labels[-1] is None:
            self.labels.pop()
        max_row = self.sheet.max_row  # from the sheet's dimension record, when the writer left one
        self.expected_rows = max_row - 1 if isinstance(max_row, int) and max_row > 1 else None

    def rows(self, header: HeaderMap, batch_rows: int = BATCH_ROWS) -> Iterator[list[Sequence[object]]]:
        project = projector(header, len(self.labels))
        while batch := list(islice(self._rows, batch_rows)):
            yield [project(row) for row in batch]

    def close(self) -> None:
        self.workbook.close()
