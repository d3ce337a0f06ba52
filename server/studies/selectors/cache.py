"""A per-process cache of whole-query facts (totals, option lists, statistics), keyed by the data version.

Studies change only through imports (and the demo generator), and every such write bumps the data version in
the database in the same transaction. A fact computed under one version therefore stays true until the next
bump, in every worker; reading the version costs one primary-key lookup per use. Entries of older versions
are dropped as soon as a new version is seen.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connections, router
from django.db.models import QuerySet

from server import database_errors
from server.studies.bulk import statement_timeout
from server.studies.models import DataVersion
from server.studies.services import data_version_key

T = TypeVar("T")
MAX_ENTRIES = 4096

_lock = threading.Lock()
_version: tuple | None = None
_entries: OrderedDict[Hashable, object] = OrderedDict()


# Within one request the data version is read once (see DataVersionScopeMiddleware); elsewhere, every time.
_request_scope: ContextVar[dict | None] = ContextVar("data_version_scope", default=None)


def current_version() -> tuple:
    """The data version of the database that studies are read from (a replica, if there are any): the
    version replicates in the same transaction as the rows it describes, so a lagging replica's answers are
    cached under its own, older version, never under the primary's newer one."""
    scope = _request_scope.get()
    if scope is None:
        return data_version_key(studies_read_alias())
    if "version" not in scope:
        scope["version"] = data_version_key(studies_read_alias())
    return scope["version"]


def studies_read_alias() -> str:
    return router.db_for_read(DataVersion)


def request_scope() -> dict | None:
    """What the current request has settled so far (its version, its replica); None outside a request."""
    return _request_scope.get()


def remember_version(key: tuple, alias: str) -> None:
    """Take the data version (a ``data_version_key``) that the request read from ``alias`` along with
    something else, so that it does not read it again (the token lookup does: ``server.access.tokens``).
    Only if studies are read from that same database: with replicas, the version must be the replica's."""
    scope = _request_scope.get()
    if scope is not None and "version" not in scope and studies_read_alias() == alias:
        scope["version"] = key


class DataVersionScopeMiddleware:
    """Read the data version at most once per request, however many cached facts the request uses, and
    read every study of the request from one replica (``routers``), the one the version came from."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_scope.set({})
        try:
            return self.get_response(request)
        finally:
            _request_scope.reset(token)


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per data version and key; the most recently used MAX_ENTRIES are kept."""
    global _version
    version = current_version()
    with _lock:
        if version != _version:
            _entries.clear()
            _version = version
        elif key in _entries:
            _entries.move_to_end(key)
            return _entries[key]  # type: ignore[return-value]
    value = _patiently(compute)  # outside the lock: a slow query must not stall other threads
    with _lock:
        if version == _version:
            _entries[key] = value
            if len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return value


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
        connection = connections[studies_read_alias()]
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


def compile_query(queryset: QuerySet) -> tuple[str, tuple] | None:
    """The SQL and parameters of ``queryset``; None for a condition that can match nothing (``IN ()``)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


def query_key(
    queryset: QuerySet, *extra: Hashable, compiled: tuple[str, tuple] | None = None
) -> Hashable:
    """A key naming exactly the rows of ``queryset``: its SQL and parameters, whoever built it.
    ``compiled`` is ``compile_query(queryset)`` where the caller has it already."""
    sql, params = compiled or compile_query(queryset) or ("EMPTY", ())
    return (sql, repr(params), *extra)  # repr: a parameter may be an unhashable list


def clear() -> None:
    """Forget everything (tests that change rows without an import)."""
    global _version
    with _lock:
        _entries.clear()
        _version = None
