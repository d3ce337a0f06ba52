"""Prometheus metrics: requests by route and status, database errors, import runs; served at ``/metrics``.

Off unless ``METRICS_ENABLED``; when on, ``/metrics`` answers only ``METRICS_ALLOWED_ADDRESSES`` (loopback by
default) or a caller with ``Authorization: Bearer <METRICS_TOKEN>``, and 404 to anyone else.

Under gunicorn every worker is a process of its own, so each keeps its counters in files under
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode; ``gunicorn.conf.py`` and the settings set
it to ``METRICS_DIR`` before this module is imported) and a scrape sums them all, whichever worker answers.
Processes outside the server that share the folder, such as an import command, add their counts too.

Importers report a run with :func:`record_import_run`; code that catches a database error itself (and so hides
it from the request handler) may report it with :func:`record_database_error`.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import DatabaseError, connections
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request (to the first byte of a streamed body), by route, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DATABASE_ERRORS = Counter(
    "database_errors_total", "Database errors (failed queries and connections), by error class.", ["error"]
)
IMPORT_RUNS = Counter(
    "import_runs_total", "Import runs, by source and outcome (e.g. succeeded, failed).", ["source", "outcome"]
)
IMPORT_ROWS = Counter("import_rows_total", "Studies written by import runs, by source.", ["source"])


def record_import_run(source: str, outcome: str, rows: int = 0) -> None:
    """Count one finished import run: ``source`` like ``"duckdb"`` or ``"excel"``, ``outcome`` like
    ``"succeeded"`` or ``"failed"``, and the studies it wrote. Cheap and safe to call with metrics off."""
    IMPORT_RUNS.labels(source=source, outcome=outcome).inc()
    if rows > 0:
        IMPORT_ROWS.labels(source=source).inc(rows)


def record_database_error(error: BaseException) -> None:
    """Count a database error; each is counted once, however often it is reported or re-raised by Django
    (which raises its own ``django.db`` error from the driver's, as ``__cause__``)."""
    if getattr(error, "_counted_by_metrics", False) or getattr(error.__cause__, "_counted_by_metrics", False):
        return
    with contextlib.suppress(AttributeError):
        error._counted_by_metrics = True  # type: ignore[attr-defined]
    DATABASE_ERRORS.labels(error=type(error).__name__).inc()


def _count_failed_query(execute, sql, params, many, context):
    try:
        return execute(sql, params, many, context)
    except DatabaseError as error:
        record_database_error(error)
        raise


def _count_unhandled(sender, request=None, **kwargs) -> None:
    """Django's signal for an exception that reached the handler: a connection failure lands here."""
    import sys

    error = sys.exc_info()[1]
    if isinstance(error, DatabaseError) and getattr(settings, "METRICS_ENABLED", False):
        record_database_error(error)


got_request_exception.connect(_count_unhandled, dispatch_uid="server.core.metrics.count_unhandled")


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (``api/v1/studies/<exam_id>``), never the raw path: bounded labels."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    return "/" + match.route.lstrip("^").rstrip("$")


def _count_failed_connections(wrapper) -> None:
    """Wrap this connection object's ``get_new_connection``, once, so that a refused or timed-out connection
    is counted even when the code that asked for it catches the error (as the health check does)."""
    if getattr(wrapper, "_metrics_counts_connections", False):
        return
    connect = wrapper.get_new_connection

    def counted(conn_params):
        try:
            return connect(conn_params)
        except Exception as error:
            if getattr(settings, "METRICS_ENABLED", False):
                record_database_error(error)
            raise

    wrapper.get_new_connection = counted
    wrapper._metrics_counts_connections = True


class MetricsMiddleware:
    """Count and time every request, and count the database errors of its queries (when metrics are on)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.METRICS_ENABLED:
            return self.get_response(request)
        started = time.perf_counter()
        _count_failed_connections(connections["default"])
        with connections["default"].execute_wrapper(_count_failed_query):
            response = self.get_response(request)
        labels = {
            "route": route_of(request),
            "method": request.method if request.method in _METHODS else "other",
            "status": str(response.status_code),
        }
        REQUESTS.labels(**labels).inc()
        LATENCY.labels(**labels).observe(time.perf_counter() - started)
        return response


def _address_allowed(address: str) -> bool:
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_ADDRESSES:
        try:
            if peer in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def _token_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text exposition; 404 when metrics are off or the caller is not allowed."""
    if not settings.METRICS_ENABLED:
        raise Http404
    if not (_token_allowed(request) or _address_allowed(request.META.get("REMOTE_ADDR", ""))):
        raise Http404  # not 403: do not even confirm the endpoint to a stranger
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
