"""Statement timeouts, and the SQL of a queryset: database plumbing every app uses.

The API's connections carry ``statement_timeout`` (``STATEMENT_TIMEOUT_MS``) in their start-up options, so
that a runaway query is cut and answered 503. Work that is long on purpose (imports, demo data, migrations,
exports, the audit event of a large export) lifts or widens it for its own block only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from psycopg import pq


@contextmanager
def statement_timeout(connection: BaseDatabaseWrapper, milliseconds: int) -> Iterator[None]:
    """Run the block under another ``statement_timeout`` on ``connection`` (0: none), then restore the one
    it had, so that a connection reused later is limited as before. One round trip each way.

    If the block fails and leaves its transaction failed, that transaction's rollback restores the setting
    (no statement could); otherwise it is restored before the block's error goes on.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, false)",
            [str(int(milliseconds))],
        )
        previous = cursor.fetchone()[0]
    try:
        yield
    except BaseException:
        if _can_run_statements(connection):
            with suppress(DatabaseError):  # the block's own error is the one to report
                _set_statement_timeout(connection, previous)
        raise
    _set_statement_timeout(connection, previous)


def _can_run_statements(connection: BaseDatabaseWrapper) -> bool:
    """The connection is open and not in a failed transaction."""
    raw = connection.connection
    return raw is not None and not raw.closed and raw.info.transaction_status != pq.TransactionStatus.INERROR


def _set_statement_timeout(connection: BaseDatabaseWrapper, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [value])


def without_statement_timeout(connection: BaseDatabaseWrapper) -> AbstractContextManager[None]:
    """Lift ``STATEMENT_TIMEOUT_MS`` on ``connection`` for the block (imports, demo data: long on purpose).

    The API's connections carry ``statement_timeout`` in their start-up options; a management command shares
    those settings, so a bulk COPY or index build would be cut after a few seconds without this.
    """
    return statement_timeout(connection, 0)


def compile_query(queryset: QuerySet) -> tuple[str, tuple] | None:
    """The SQL and parameters of ``queryset``; None for a condition that can match nothing (``IN ()``)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, tuple(params)
