"""The legacy reports (docs/legacy-data.md §5), read through DuckDB whatever the file: the table
``one_page_text_report_v2`` of a DuckDB database, or a CSV or JSON Lines export with the same column names.

DuckDB does what Python would do slowly: it reads the file, counts it, sets the ``system_data`` rows apart and
sorts the rest by uid and version number, so that the rows of one report arrive together and in order and
the import holds one report's rows at a time, whatever the file's size (the sort spills to a temporary
folder past ``MEMORY_LIMIT``). Every value comes as text (or NULL), as the legacy table holds it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from importers.readers.base import SourceError

TABLE = "one_page_text_report_v2"
FORMATS = ("duckdb", "csv", "jsonl")
_EXTENSIONS = {".duckdb": "duckdb", ".db": "duckdb", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
REQUIRED = ("uid", "content_raw", "version_number")
OPTIONAL = ("report_id", "title", "report_type", "verified_at", "created_at", "metadata")
# The order of the values of each row handed on (after its source row number).
COLUMNS = ("uid", "report_id", "title", "report_type", "content_raw", "version_number", "verified_at",
           "created_at", "metadata")  # fmt: skip
SYSTEM_DATA = "system_data"
# What uids and version numbers are trimmed of, the same here and in Python (``history``), so that DuckDB
# sorts by exactly the key the import groups by.
BLANKS = " \t\r\n\f\v"
MEMORY_LIMIT = "1GB"
BATCH_ROWS = 2000


def detect_format(path: Path, requested: str | None = None) -> str:
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


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class LegacyReports:
    """An opened legacy reports file whose columns have been checked; close it (or use ``with``)."""

    def __init__(self, path: Path, fmt: str, table: str | None = None) -> None:
        self.format = fmt
        self.spill = tempfile.mkdtemp(prefix="import-reports-")
        try:
            self.connection, relation, columns = self._open(path, fmt, table or TABLE)
        except duckdb.Error as error:
            self.close()
            raise SourceError(f"cannot read {path.name!r} as {fmt}: {type(error).__name__}") from None
        except SourceError:
            self.close()
            raise
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            self.close()
            raise SourceError(
                f"no column {', '.join(missing)} in {path.name!r} (it has: {', '.join(columns)})"
            )
        self.absent = [name for name in OPTIONAL if name not in columns]
        values = ", ".join(
            f"CAST({_quote(name)} AS VARCHAR) AS {name}" if name in columns else f"NULL AS {name}"
            for name in COLUMNS
        )
        system_data = (
            f"coalesce(lower(trim(CAST(report_type AS VARCHAR))), '') = '{SYSTEM_DATA}'"
            if "report_type" in columns
            else "false"
        )
        self.connection.execute(
            f"CREATE TEMP VIEW legacy AS SELECT row_no, {values}, {system_data} AS system_data "  # noqa: S608
            f"FROM ({relation})"
        )
        self.rows_in_file, self.system_data = self.connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE system_data) FROM legacy"
        ).fetchone()

    def _open(self, path: Path, fmt: str, table: str) -> tuple[duckdb.DuckDBPyConnection, str, list[str]]:
        if fmt == "duckdb":
            connection = duckdb.connect(str(path), read_only=True)
            self._settings(connection)
            described = connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if not described:
                tables = [name for (name,) in connection.execute("SHOW TABLES").fetchall()]
                connection.close()
                raise SourceError(
                    f"no table {table!r} in {path.name!r} (it has: {', '.join(tables) or 'none'})"
                )
            # rowid is the scan order, which DuckDB keeps as the order rows were inserted.
            return (
                connection,
                f"SELECT rowid + 1 AS row_no, * FROM {_quote(table)}",  # noqa: S608 (quoted)
                [n for (n,) in described],
            )
        connection = duckdb.connect()
        self._settings(connection)
        if fmt == "csv":
            reader = f"read_csv({_literal(str(path))}, header = true, all_varchar = true)"
        else:
            keys = [
                name
                for (name, *_rest) in connection.execute(
                    f"DESCRIBE SELECT * FROM read_json({_literal(str(path))}, "  # noqa: S608
                    "format = 'newline_delimited', sample_size = -1)"
                ).fetchall()
            ]
            wanted = [name for name in (*REQUIRED, *OPTIONAL) if name in keys]
            columns = "{" + ", ".join(f"{_literal(name)}: 'VARCHAR'" for name in wanted) + "}"
            reader = f"read_json({_literal(str(path))}, format = 'newline_delimited', columns = {columns})"
        described = connection.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()  # noqa: S608
        # With insertion order preserved (DuckDB's default), an empty window numbers the rows in file order.
        return (
            connection,
            f"SELECT row_number() OVER () AS row_no, * FROM {reader}",  # noqa: S608 (literals)
            [d[0] for d in described],
        )

    def _settings(self, connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute(f"SET memory_limit = {_literal(MEMORY_LIMIT)}")
        connection.execute(f"SET temp_directory = {_literal(self.spill)}")
        connection.execute("SET preserve_insertion_order = true")

    @property
    def rows_to_read(self) -> int:
        return self.rows_in_file - self.system_data

    def rows(self, batch_rows: int = BATCH_ROWS) -> Iterator[list[tuple]]:
        """Batches of ``(row_no, *COLUMNS)``, the reports' rows only, by uid, version number, row."""
        key = f"trim(uid, {_literal(BLANKS)})"
        cursor = self.connection.execute(
            f"SELECT row_no, {', '.join(COLUMNS)} FROM legacy WHERE NOT system_data "  # noqa: S608
            f"ORDER BY {key} NULLS FIRST, "
            f"TRY_CAST(trim(version_number, {_literal(BLANKS)}) AS BIGINT) NULLS FIRST, row_no"
        )
        while batch := cursor.fetchmany(batch_rows):
            yield batch

    def close(self) -> None:
        connection = getattr(self, "connection", None)
        if connection is not None:
            connection.close()
        shutil.rmtree(self.spill, ignore_errors=True)

    def __enter__(self) -> LegacyReports:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
