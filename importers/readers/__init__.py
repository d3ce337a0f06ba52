"""Readers of the three source formats. Each reads its header first (so a bad header fails before any row is
read) and then streams rows in batches, projected into ``STUDY_FIELDS`` order, in constant memory."""

from __future__ import annotations

from pathlib import Path

from importers.readers.base import Source, SourceError

FORMATS = ("duckdb", "xlsx", "csv")
_EXTENSIONS = {".duckdb": "duckdb", ".db": "duckdb", ".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv"}


def detect_format(path: Path, requested: str | None = None) -> str:
    """The format named by ``--format``, else by the file's extension."""
    if requested:
        if requested not in FORMATS:
            raise SourceError(f"unknown format {requested!r}; expected one of {', '.join(FORMATS)}")
        return requested
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise SourceError(
            f"cannot tell the format of {path.name!r} from its extension; use --format {'|'.join(FORMATS)}"
        )
    return found


def open_source(path: Path, fmt: str, *, table: str | None = None, sheet: str | None = None) -> Source:
    """Open ``path`` and read its header; the caller closes the source."""
    if fmt == "duckdb":
        from importers.readers.duckdb_source import DuckDBSource

        return DuckDBSource(path, table or "medical_examinations_fact")
    if fmt == "xlsx":
        from importers.readers.xlsx_source import XlsxSource

        return XlsxSource(path, sheet)
    from importers.readers.csv_source import CsvSource

    return CsvSource(path)


__all__ = ["FORMATS", "Source", "SourceError", "detect_format", "open_source"]
