"""What the APIs answer when the database is away, or a query runs past ``STATEMENT_TIMEOUT_MS``.

Both are the database's state, not the request's fault and not a bug: a 503 that says which, with no stack
trace, so a client (or a proxy) can retry later. The REST facade and the GraphQL endpoint both ask
``unavailability`` about an exception before treating it as an internal error.
"""

from __future__ import annotations

import psycopg
from django.db import InterfaceError, OperationalError
from psycopg import errors as pg_errors

_CONNECTION_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
QUERY_TOO_LONG = "Query took too long; narrow the search"
DATABASE_UNAVAILABLE = "Database unavailable"


def _chain(error: BaseException | None):
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def unavailability(error: BaseException | None) -> str | None:
    """The 503 message for an error that means "no answer from the database now", else None.

    A statement cut by ``statement_timeout`` is psycopg's ``QueryCanceled``; a refused, lost or closed
    connection (the server stopped or restarting, or unreachable within ``connect_timeout``) is an operational
    or interface error. Django wraps psycopg's exceptions in its own and keeps the original as ``__cause__``.
    """
    chain = list(_chain(error))
    if any(isinstance(item, pg_errors.QueryCanceled) for item in chain):
        return QUERY_TOO_LONG
    if any(isinstance(item, _CONNECTION_ERRORS) for item in chain):
        return DATABASE_UNAVAILABLE
    return None
