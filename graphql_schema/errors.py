"""Internal errors: masked for the client in production, logged with a request id and without patient data.

A client error (a refused argument, a validation error) keeps its message: it is about the client's own input.
Any other exception is internal. With ``DEBUG`` off the client then sees only a generic message with a request
id in the error's ``extensions``; the log line carries the same id, the operation name, the field path and the
stack, but neither the exception's message nor the query's variables: both can quote patient data (a database
error echoes the value it choked on, a search variable is often a patient's name).
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid

from django.conf import settings
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from server.core.database_errors import QUERY_TOO_LONG, unavailability
from server.core.errors import InvalidQuery

logger = logging.getLogger("graphql_schema.errors")

INTERNAL_ERROR_MESSAGE = "Internal server error"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def is_client_error(error: GraphQLError) -> bool:
    """Whether the error's message is meant for the client (and so safe to show)."""
    original = error.original_error
    return original is None or isinstance(original, GraphQLError | InvalidQuery)


def request_id(execution_context: ExecutionContext | None) -> str:
    """The id that ``server.core.middleware.RequestIdMiddleware`` gave the request (in ``X-Request-ID``)."""
    request = getattr(getattr(execution_context, "context", None), "request", None)
    rid = getattr(request, "request_id", None)
    if isinstance(rid, str) and _REQUEST_ID.fullmatch(rid):
        return rid
    return uuid.uuid4().hex


def _log_internal_error(error: GraphQLError, rid: str, operation_name: str | None) -> None:
    original = error.original_error
    assert original is not None
    stack = "".join(traceback.format_tb(original.__traceback__))
    logger.error(
        "GraphQL internal error request_id=%s operation=%s path=%s error=%s.%s\n%s",
        rid,
        operation_name or "-",
        ".".join(str(part) for part in error.path or ()) or "-",
        type(original).__module__,
        type(original).__qualname__,
        stack.rstrip(),
    )


def process_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Log and, in production, mask the internal errors among ``errors``, in place."""
    rid = None
    unavailable_status = None
    for index, error in enumerate(errors):
        if is_client_error(error):
            continue
        message = unavailability(error.original_error)
        if message is not None:
            # The database is away or the query ran too long: say so (no stack trace), answer 503.
            path = ".".join(str(part) for part in error.path or ()) or "-"
            logger.warning("GraphQL: %s (path=%s)", message, path)
            code = "QUERY_TIMEOUT" if message == QUERY_TOO_LONG else "DATABASE_UNAVAILABLE"
            errors[index] = GraphQLError(
                message, nodes=error.nodes, path=error.path, extensions={"code": code}
            )
            unavailable_status = 503
            continue
        rid = rid or request_id(execution_context)
        _log_internal_error(error, rid, getattr(execution_context, "operation_name", None))
        extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": rid}
        if settings.DEBUG:
            errors[index] = GraphQLError(
                error.message,
                nodes=error.nodes,
                path=error.path,
                original_error=error.original_error,
                extensions={**(error.extensions or {}), **extensions},
            )
        else:
            errors[index] = GraphQLError(
                INTERNAL_ERROR_MESSAGE, nodes=error.nodes, path=error.path, extensions=extensions
            )
    response = getattr(getattr(execution_context, "context", None), "response", None)
    if rid is not None and response is not None:
        response["X-Request-ID"] = rid
    if unavailable_status is not None and response is not None:
        response.status_code = unavailable_status
