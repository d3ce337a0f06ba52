"""Excel exports from the hospital system, streamed from the sheet's XML with expat.

The real export has about 470,000 rows, so the sheet is never loaded whole: its XML is decompressed and parsed
in 1 MB pieces and only the rows of one piece are held. openpyxl's read-only mode streams too, but reads
about 6,500 rows/s and spends 30 s more on the shared strings (measured at 470,000 rows: over two minutes in
all); python-calamine is fast but builds the whole sheet in memory (811 MB at 470,000 rows), which the
import's memory budget excludes. So the cells are read here, and openpyxl supplies only the rules for what a
number format means (a date, a duration) and the Excel epochs.

Cells come typed, as openpyxl gives them: text, numbers, booleans and real dates (a number whose style is a
date format). Formulas give their cached result. One thing is read as a person sees it rather than as stored:
a whole number whose format pads it with zeros (``00000001234``), as an ID column often is, keeps its zeros.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from xml.parsers import expat

from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601

from importers.headers import HeaderMap
from importers.readers.base import BATCH_ROWS, Source, SourceError, projector
from importers.readers.xlsx_package import NAMESPACES, CellStyle, Package, PackageError, refuse_entities

CHUNK_BYTES = 1 << 20
_PLAIN = CellStyle()
_ROW, _CELL, _VALUE, _TEXT, _INLINE, _PHONETIC, _DIMENSION = range(7)
_TAGS = {
    f"{namespace}}}{local}": kind
    for namespace in NAMESPACES
    for local, kind in (
        ("row", _ROW),
        ("c", _CELL),
        ("v", _VALUE),
        ("t", _TEXT),
        ("is", _INLINE),
        ("rPh", _PHONETIC),
        ("dimension", _DIMENSION),
    )
}


class _SheetRows:
    """Iterates the sheet's rows as tuples of cell values, from sheet row 1, gaps filled with empty rows.

    The handlers are closures over local state: expat calls them some 40 million times for 470,000 rows, and
    that call overhead, not the XML parsing, is most of the reading time (measured: 1.5 s per 100,000 rows
    without handlers, 6.9 s with empty ones, about 10 s with these).
    """

    def __init__(self, package: Package, part: str) -> None:
        self.handle = package.open(part)
        self.last_row: int | None = None  # from the <dimension> element, when the writer left one
        self.row_number = 0  # the sheet row being read, for error messages
        self.done: list[tuple] = []
        self.parser = expat.ParserCreate(namespace_separator="}")
        refuse_entities(self.parser)
        self.parser.buffer_text = True
        self._install_handlers(package)

    def __iter__(self) -> Iterator[tuple]:
        try:
            while chunk := self.handle.read(CHUNK_BYTES):
                self.parser.Parse(chunk, False)
                yield from self._drain()
            self.parser.Parse(b"", True)
        except expat.ExpatError as error:
            raise SourceError(f"the sheet is not well-formed XML ({error})") from None
        except PackageError as error:
            raise SourceError(str(error)) from None
        except (ValueError, IndexError, OverflowError) as error:  # a malformed number or string index
            # The message names the row only: the error's own text may quote the cell, a patient's data.
            raise SourceError(
                f"sheet row {self.row_number} has a cell that cannot be read ({type(error).__name__})"
            ) from None
        yield from self._drain()

    def _drain(self) -> list[tuple]:
        rows, self.done = self.done, []
        return rows

    def _install_handlers(self, package: Package) -> None:
        strings, epoch = package.shared_strings, package.epoch
        styles = {str(index): style for index, style in enumerate(package.styles)}
        tags = _TAGS
        cells: list[object] = []
        column = 0
        cell_type = "n"
        cell_style = _PLAIN
        text: str | None = None
        collecting = in_inline = False
        phonetic = 0

        def value_of(raw: str) -> object:
            if cell_type == "s":
                return strings[int(raw)]
            if cell_type == "n":
                number = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
                if cell_style is _PLAIN:
                    return number
                if cell_style.date:
                    try:
                        return from_excel(number, epoch, timedelta=cell_style.timedelta)
                    except (OverflowError, ValueError):
                        return "#VALUE!"  # what openpyxl and Excel show for a date serial out of range
                if cell_style.zero_padded_width and number == int(number) and number >= 0:
                    return str(int(number)).zfill(cell_style.zero_padded_width)
                return number
            if cell_type == "b":
                return raw.strip() in ("1", "true")
            if cell_type == "d":
                return from_ISO8601(raw)
            return raw  # "str" (a formula's text), "inlineStr" and "e" (an error such as #N/A)

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal column, cell_type, cell_style, text, collecting, in_inline, phonetic, cells
            kind = tags.get(name)
            if kind == _CELL:
                reference = attrs.get("r")
                column = column_index_from_string(reference.rstrip("0123456789")) if reference else column + 1
                cell_type = attrs.get("t", "n")
                style = attrs.get("s")
                cell_style = styles.get(style, _PLAIN) if style else _PLAIN
                text = None
            elif kind == _VALUE:
                collecting = True
            elif kind == _TEXT:
                collecting = in_inline and not phonetic
            elif kind == _ROW:
                number = attrs.get("r")
                number = int(number) if number else self.row_number + 1
                while self.row_number + 1 < number:  # rows the writer left out are empty rows
                    self.row_number += 1
                    self.done.append(())
                self.row_number = number
                cells = []
                column = 0
            elif kind == _INLINE:
                in_inline = True
            elif kind == _PHONETIC:
                phonetic += 1
            elif kind == _DIMENSION:
                last = attrs.get("ref", "").rpartition(":")[2].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ$")
                self.last_row = int(last) if last.isdigit() else None

        def end(name: str) -> None:
            nonlocal collecting, in_inline, phonetic
            kind = tags.get(name)
            if kind == _CELL:
                value = None if text is None else value_of(text)
                filled = len(cells)
                if filled == column - 1:
                    cells.append(value)
                elif filled < column - 1:
                    cells.extend([None] * (column - 1 - filled))
                    cells.append(value)
                else:  # a cell written twice (or out of order): the later one, as a reader shows it
                    cells[column - 1] = value
            elif kind in (_VALUE, _TEXT):
                collecting = False
            elif kind == _ROW:
                while cells and cells[-1] is None:
                    cells.pop()
                self.done.append(tuple(cells))
            elif kind == _INLINE:
                in_inline = False
            elif kind == _PHONETIC:
                phonetic -= 1

        def data(chunk: str) -> None:
            nonlocal text
            if collecting:
                text = chunk if text is None else text + chunk

        self.parser.StartElementHandler = start
        self.parser.EndElementHandler = end
        self.parser.CharacterDataHandler = data

    def close(self) -> None:
        self.handle.close()


class XlsxSource(Source):
    format = "xlsx"

    def __init__(self, path: Path, sheet: str | None) -> None:
        try:
            self.package = Package(path)
        except (PackageError, OSError) as error:
            raise SourceError(f"cannot open {path.name!r} as an .xlsx workbook: {error}") from None
        names = list(self.package.sheets)
        if not names:
            self.close()
            raise SourceError(f"{path.name!r} holds no worksheet")
        if sheet is None:
            sheet = names[0]
        elif sheet not in self.package.sheets:
            self.close()
            raise SourceError(f"no sheet {sheet!r} in {path.name!r} (it has: {', '.join(map(repr, names))})")
        self.variant = f"sheet {sheet!r}"
        try:
            self._sheet = _SheetRows(self.package, self.package.sheets[sheet])
        except PackageError as error:
            self.close()
            raise SourceError(f"cannot read sheet {sheet!r} of {path.name!r}: {error}") from None
        self._rows = iter(self._sheet)
        self.labels = list(next(self._rows, ()))
        last_row = self._sheet.last_row
        self.expected_rows = last_row - 1 if last_row is not None and last_row > 1 else None

    def rows(self, header: HeaderMap, batch_rows: int = BATCH_ROWS) -> Iterator[list[Sequence[object]]]:
        project = projector(header, len(self.labels))
        while batch := list(islice(self._rows, batch_rows)):
            yield [project(row) for row in batch]

    def close(self) -> None:
        if getattr(self, "_sheet", None) is not None:
            self._sheet.close()
        self.package.close()
