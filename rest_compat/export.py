"""Study exports: CSV streamed row by row, XLSX written by openpyxl's write-only mode into a temporary file.

Both have the 18 contract columns with a header row. Neither is ever truncated: an export above the format's
row limit is refused before any work (``ExportTooLarge``), with the count and the limit in the message.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from server.studies.columns import STUDY_FIELDS

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's own ceiling: 1,048,576 rows per sheet, one of them the header.
XLSX_HARD_LIMIT = 1_048_575
CSV_ROWS_PER_CHUNK = 500
UTF8_BOM = "\ufeff"


class ExportTooLarge(Exception):
    def __init__(self, file_format: str, count: int, limit: int) -> None:
        hint = "narrow the filters or export CSV" if file_format == "xlsx" else "narrow the filters"
        super().__init__(
            f"Export too large: {count} rows match, and {file_format.upper()} exports are limited to "
            f"{limit} rows; {hint}"
        )


@contextlib.contextmanager
def _closing(rows: Iterable[tuple]) -> Iterator[None]:
    """Close a row generator however its consumer stops (a client gone mid-download, a refused XLSX), so
    that the server-side cursor behind it is closed at once, not whenever the garbage collector runs."""
    try:
        yield
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def export_filename(extension: str, now: dt.datetime | None = None) -> str:
    """``studies_export_YYYYMMDD_HHMMSS.csv`` in the hospital's wall-clock time (``USE_TZ`` is off)."""
    now = now or timezone.now()
    return f"studies_export_{now:%Y%m%d_%H%M%S}.{extension}"


def _attachment_headers(response: Any, filename: str) -> Any:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Access-Control-Expose-Headers"] = "Content-Disposition"
    response["Cache-Control"] = "no-store"  # patient data: no copy in shared caches
    return response


def csv_chunks(rows: Iterable[tuple]) -> Iterator[bytes]:
    """The CSV file in pieces: BOM and header first, then a few hundred rows per piece. Nulls are empty.

    The rows carry the contract's text already (``iter_study_rows(times_as_text=True)``), so they are
    written as they come, a piece at a time: a million rows spend their time in csv's C code, not in a
    Python loop around it.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(UTF8_BOM)
    writer.writerow(STUDY_FIELDS)
    with _closing(rows):
        iterator = iter(rows)
        while piece := list(itertools.islice(iterator, CSV_ROWS_PER_CHUNK)):
            writer.writerows(piece)  # csv writes None as an empty field
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_response(rows: Iterable[tuple]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_chunks(rows), content_type=CSV_CONTENT_TYPE)
    return _attachment_headers(response, export_filename("csv"))


_DATETIME_FORMAT = 'yyyy-mm-dd"T"hh:mm:ss'
_DATE_FORMAT = "yyyy-mm-dd"


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """Dates and times as real Excel values displayed in the contract's format; text always as text."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value.replace(microsecond=0))
        cell.number_format = _DATETIME_FORMAT
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = _DATE_FORMAT
        return cell
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))  # control characters XML cannot carry
    if text.startswith("="):
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"  # openpyxl would otherwise write it as a formula
        return cell
    return text


def write_xlsx(rows: Iterable[tuple], target: Any, limit: int) -> int:
    """Write the workbook to ``target`` (a binary file); returns the row count. More than ``limit`` rows (the
    data changed since they were counted) raises ExportTooLarge rather than cutting the file short."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("studies")
    sheet.append(list(STUDY_FIELDS))
    count = 0
    try:
        with _closing(rows):
            for row in rows:
                count += 1
                if count > limit:
                    raise ExportTooLarge("xlsx", count, limit)
                sheet.append([_xlsx_cell(sheet, value) for value in row])
    except BaseException:
        _discard(sheet)
        raise
    workbook.save(target)
    return count


def _discard(sheet: Any) -> None:
    """Close an abandoned write-only sheet and delete its temporary file (openpyxl keeps it until exit)."""
    sheet.close()
    writer = getattr(sheet, "_writer", None)
    if writer is not None:
        writer.cleanup()


def xlsx_response(rows: Iterable[tuple], limit: int) -> FileResponse:
    target = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    try:
        write_xlsx(rows, target, limit)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    response = FileResponse(target, content_type=XLSX_CONTENT_TYPE)
    return _attachment_headers(response, export_filename("xlsx"))
