"""The legacy DuckDB database, both variants, read in batches with ``fetchmany``.

The all-VARCHAR variant (18 columns and ``data_load_time``) and the older typed one (14 columns,
``exam_id`` primary key, integer age, TIMESTAMP times) are told apart only by the columns that are there;
the header mapping and the value parsers accept either. The file is opened read-only, so a running legacy
backend can keep it open, and rows come in table scan order (DuckDB preserves insertion order).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb

from importers.headers import HeaderMap
from importers.readers.base import BATCH_ROWS, Source, SourceError
from server.studies.columns import STUDY_FIELDS


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBSource(Source):
    format = "duckdb"
    expected_extra = ("data_load_time",)

    def __init__(self, path: Path, table: str) -> None:
        try:
            self.connection = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as error:
            raise SourceError(f"cannot open {path.name!r} as a DuckDB database: {error}") from None
        self.table = table
        described = self.connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        if not described:
            tables = [name for (name,) in self.connection.execute("SHOW TABLES").fetchall()]
            self.close()
            raise SourceError(f"no table {table!r} in {path.name!r} (it has: {', '.join(tables) or 'none'})")
        self.labels = [name for name, _ in described]
        self.types = dict(described)
        typed = any(t != "VARCHAR" for name, t in described if name != "data_load_time")
        self.variant = (
            f"typed, {len(described)} columns" if typed else f"all-VARCHAR, {len(described)} columns"
        )
        count = f"SELECT count(*) FROM {_quote(table)}"  # noqa: S608 (a quoted identifier)
        (self.expected_rows,) = self.connection.execute(count).fetchone()

    def rows(self, header: HeaderMap, batch_rows: int = BATCH_ROWS) -> Iterator[list[Sequence[object]]]:
        columns = [
            _quote(str(self.labels[header.positions[name]])) if name in header.positions else "NULL"
            for name in STUDY_FIELDS
        ]
        select = f"SELECT {', '.join(columns)} FROM {_quote(self.table)}"  # noqa: S608 (quoted identifiers)
        cursor = self.connection.execute(select)
        while batch := cursor.fetchmany(batch_rows):
            yield batch

    def close(self) -> None:
        self.connection.close()
