"""The reports' write version, and the exact totals cached under it.

An exact total of a term found in most of a million reports costs a few hundred milliseconds to count (its
GIN posting list holds a million entries), too slow to pay on every search, and reports change through
single writes all day, not only through imports, so the studies' data version (bumped by imports) cannot
key them. Every write of reports therefore moves a PostgreSQL sequence on, and a total is cached per
process until the sequence moves. It moves twice: inside the writing transaction, which is what a test (run
in a transaction that never commits) sees, and again after the commit, which is what keeps a total counted
between the first move and the commit, without the write, from being served afterwards. A sequence, not a
row: a counter row would make every write wait for the one before it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from server.core.cache import VersionedCache
from server.core.request_scope import request_scope

T = TypeVar("T")
SEQUENCE = "report_write_version"
_totals = VersionedCache()


def current(using: str = DEFAULT_DB_ALIAS) -> int:
    """The version, read once per request (a search's total and a dashboard's five statistics share it)."""
    scope = request_scope()
    key = ("report_write_version", using)
    if scope is not None and key in scope:
        return scope[key]
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT last_value FROM {SEQUENCE}")  # noqa: S608 (our own name)
        version = cursor.fetchone()[0]
    if scope is not None:
        scope[key] = version
    return version


# For a writer that makes the first move in a statement of its own (then calls ``moved_in_statement``).
MOVE_EXPRESSION = f"nextval('{SEQUENCE}')"
MOVE_SQL = f"SELECT {MOVE_EXPRESSION}"


def bump(using: str = DEFAULT_DB_ALIAS) -> None:
    """Call inside the transaction that writes reports: moves the version now and again after commit."""
    _move(using)
    transaction.on_commit(partial(_move, using), using=using)


def moved_in_statement(using: str = DEFAULT_DB_ALIAS) -> None:
    """For a writer whose own statement made the first move (``MOVE_SQL``): the version is read afresh,
    and moves again after commit."""
    forget(using)
    transaction.on_commit(partial(_move, using), using=using)


def _move(using: str) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(MOVE_SQL)
    forget(using)


def forget(using: str = DEFAULT_DB_ALIAS) -> None:
    """A request that wrote reports reads the version afresh afterwards."""
    scope = request_scope()
    if scope is not None:
        scope.pop(("report_write_version", using), None)


def cached(key: Hashable, compute: Callable[[], T], using: str = DEFAULT_DB_ALIAS) -> T:
    """``compute()`` once per report write version and key, in this process."""
    return _totals.get(current(using), key, compute)
