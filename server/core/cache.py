"""A per-process cache of whole-query facts (totals, option lists, statistics), keyed by the data version.
(``VersionedCache`` keys facts by any other version too: the reports' writes have their own.)

A fact computed under one data version (``server.core.data_version``) stays true until the next bump, in
every worker; reading the version costs one primary-key lookup per request at most. Entries of older
versions are dropped as soon as a new version is seen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError, connections
from django.db.models import QuerySet

from server.core import database_errors
from server.core.data_version import current_version, read_alias
from server.core.db import compile_query, statement_timeout

T = TypeVar("T")
MAX_ENTRIES = 4096

_every_cache: list[VersionedCache] = []


class VersionedCache:
    """Facts computed once per version of the data they describe; the most recently used MAX_ENTRIES are
    kept, and all of them are dropped as soon as a newer version is seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: Hashable | None = None
        self.entries: OrderedDict[Hashable, object] = OrderedDict()
        _every_cache.append(self)

    def get(self, version: Hashable, key: Hashable, compute: Callable[[], T]) -> T:
        with self.lock:
            if version != self.version:
                self.entries.clear()
                self.version = version
            elif key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]  # type: ignore[return-value]
        value = _patiently(compute)  # outside the lock: a slow query must not stall other threads
        with self.lock:
            if version == self.version:
                self.entries[key] = value
                if len(self.entries) > MAX_ENTRIES:
                    self.entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.version = None


_studies = VersionedCache()


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per data version (``server.core.data_version``) and key."""
    return _studies.get(current_version(), key, compute)


def _patiently(compute: Callable[[], T]) -> T:
    """``compute()``; if the statement timeout cuts it, once more under ``CACHED_QUERY_TIMEOUT_MS``.

    A fact is computed once per data version and then served from memory. Under the API's 5 s limit the
    exact total of a broad term at 10,000,000 studies (2 million matches) could not be counted on slower
    hardware: it was cut, nothing was cached, and every try failed again. Allowed longer, it costs its first
    asker the wait once per import; the facts that fit the usual limit (nearly all) pay nothing for this.
    Inside a transaction the cut has aborted it, so there is no second try.
    """
    try:
        return compute()
    except OperationalError as error:
        longer = _longer_timeout_ms()
        connection = connections[read_alias()]
        if longer is None or connection.in_atomic_block:
            raise
        if database_errors.unavailability(error) != database_errors.QUERY_TOO_LONG:
            raise
    with statement_timeout(connection, longer):
        return compute()


def _longer_timeout_ms() -> int | None:
    """The limit for a second try (0: none), or None when it would be no longer than the first."""
    statement_ms = settings.STATEMENT_TIMEOUT_MS
    fact_ms = settings.CACHED_QUERY_TIMEOUT_MS
    if not statement_ms:
        return None
    if not fact_ms:
        return 0
    return fact_ms if fact_ms > statement_ms else None


def query_key(
    queryset: QuerySet, *extra: Hashable, compiled: tuple[str, tuple] | None = None
) -> Hashable:
    """A key naming exactly the rows of ``queryset``: its SQL and parameters, whoever built it.
    ``compiled`` is ``compile_query(queryset)`` where the caller has it already."""
    sql, params = compiled or compile_query(queryset) or ("EMPTY", ())
    return (sql, repr(params), *extra)  # repr: a parameter may be an unhashable list


def clear() -> None:
    """Forget everything, in every cache (tests that change rows without an import)."""
    for each in _every_cache:
        each.clear()
