"""Bulk writes of studies: binary COPY, indexes rebuilt once after a large load, statistics refreshed.

Rows are tuples in ``STUDY_FIELDS`` order with Python values (str, date, int, naive datetime). The caller owns
the transaction, so a failure half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from server.studies.columns import POSTGRES_COPY_TYPES, STUDY_FIELDS
from server.studies.models import Study

STUDY_TABLE = Study._meta.db_table


def write_studies(
    rows: Iterable[tuple], using: str = "default", table: str = STUDY_TABLE, freeze: bool = False
) -> int:
    """Insert every row; returns how many. Duplicate keys raise, they are never skipped."""
    return copy_rows(connections[using], table, rows, freeze=freeze)


def copy_rows(
    connection: BaseDatabaseWrapper,
    table: str,
    rows: Iterable[tuple],
    freeze: bool = False,
    extra_columns: Sequence[tuple[str, str]] = (),
) -> int:
    """``COPY table (STUDY_FIELDS) FROM STDIN`` in binary format: the fastest way into PostgreSQL.

    ``freeze`` writes the rows already frozen, which makes the index builds that follow about twice as fast;
    PostgreSQL allows it only into a table created or truncated in the same transaction. ``extra_columns``
    ((name, type) pairs) follow the study fields in each row, for staging tables that carry more (the
    importers' source row number).
    """
    names = (*STUDY_FIELDS, *(name for name, _ in extra_columns))
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    written = 0
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor  # psycopg's own cursor, under Django's wrapper
        options = "FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY"
        statement = f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN ({options})"
        with raw_cursor.copy(statement) as copy:
            copy.set_types([*POSTGRES_COPY_TYPES, *(kind for _, kind in extra_columns)])
            for row in rows:
                copy.write_row(row)
                written += 1
    return written


@contextmanager
def indexes_deferred(connection: BaseDatabaseWrapper, table: str = STUDY_TABLE) -> Iterator[None]:
    """Drop the table's secondary indexes for the block and rebuild them after it, in the same transaction.

    Building an index once over loaded data is several times faster than maintaining it row by row (a
    trigram GIN index most of all). Constraint indexes (the primary key) stay, so duplicates still fail.
    Use it inside ``transaction.atomic()``: if anything fails the drops roll back with the data.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = %s
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            ORDER BY i.indexname
            """,
            [table],
        )
        definitions = cursor.fetchall()
        for name, _ in definitions:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in definitions:
            cursor.execute(definition)


def truncate(connection: BaseDatabaseWrapper, table: str = STUDY_TABLE) -> None:
    """Empty the table inside the caller's transaction (rolled back with it), allowing a frozen COPY after."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {connection.ops.quote_name(table)}")


def flush_gin_pending_lists(connection: BaseDatabaseWrapper, table: str = STUDY_TABLE) -> list[int]:
    """Merge the entries that rows written one by one left in the pending lists of the table's GIN indexes.

    A GIN index (the trigram ones) queues new entries in a pending list, which every search through the
    index reads in full until a vacuum or an analyze merges it or it outgrows ``gin_pending_list_limit``
    (4 MB); autovacuum analyzes a table only once a tenth of it has changed. After 10,000 rows into
    1,000,000 a name search took 4.9 ms instead of 1.8 and a chart number 5.3 instead of 0.8; merging took
    0.16 s. Safe inside the transaction. Only the index's owner may merge: a role that is not (and so
    could not rebuild the indexes of a large load either) skips it rather than fail the import at its end.
    Returns the number of pending pages each GIN index had.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT gin_clean_pending_list(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
            WHERE i.indrelid = %s::regclass AND a.amname = 'gin' AND pg_has_role(c.relowner, 'USAGE')
            """,
            [connection.ops.quote_name(table)],
        )
        return [pages for (pages,) in cursor.fetchall()]


def analyze(connection: BaseDatabaseWrapper, table: str = STUDY_TABLE) -> None:
    """Refresh planner statistics after a large load, so the first searches get good plans."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
