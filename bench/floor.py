"""The floor of a query: the time PostgreSQL itself takes for the SQL the API runs to answer it.

The SQL is captured in this process (Django configured on the benchmark database) while the API's own code
answers the same request through Django's test client, with the per-process caches emptied first: so it is
the page query and the exact count, exactly as the API would send them cold. Only statements on the studies
table count (not the token lookup or the data-version read, which are the API's own overhead).

Each statement is then timed on Django's own psycopg connection (the same session settings, JIT off) through
a ``ClientCursor``: the parameters are already inlined as Django's client-side binding inlines them, and no
statement is ever prepared server-side, so PostgreSQL never switches a ``LIKE`` to a slower generic plan.
"""

from __future__ import annotations

import importlib
import re
import time

from bench.client import Request, over_budget
from bench.stats import summarize

STUDY_TABLE = '"medical_examinations_fact"'


def reset_process_caches() -> None:
    """Empty the query layer's per-process caches (totals, options), whichever of them exist."""
    for module_name, attribute in (
        ("server.core.cache", "clear"),
        ("server.studies.selectors.options", "_cache"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        target = getattr(module, attribute, None)
        if callable(target):
            target()
        elif hasattr(target, "clear"):
            target.clear()


def warm_options() -> None:
    from server.studies import selectors

    selectors.filter_options()


def capture(request: Request, token: str | None, page: bool) -> tuple[int, list[str]]:
    """The status and the studies-table statements of answering ``request`` cold, in this process.

    For a page of studies only the page query (the one with ORDER BY) and the count are kept: the filter
    options that the REST search also returns, and whatever helper facts the query layer caches per data
    version, are not part of that floor. For everything else every studies-table statement is kept.
    """
    reset_process_caches()
    if page:
        warm_options()
    status, captured = answer_in_process(request, token)
    statements = [sql for sql in captured if STUDY_TABLE in sql]
    if page:
        # The page and its count; not the query layer's own cached helpers (probes, distinct values).
        statements = [s for s in statements if "COUNT(" in s.upper() or " ORDER BY " in s.upper()]
    return status, statements


def answer_in_process(request: Request, token: str | None) -> tuple[int, list[str]]:
    """Answer ``request`` with Django's test client in this process: its status and every SQL statement."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with CaptureQueriesContext(connection) as captured:
        if request.method == "GET":
            response = client.get(request.path, headers=headers)
        else:
            response = client.generic(
                request.method,
                request.path,
                request.body or b"",
                content_type=request.headers.get("Content-Type", "application/json"),
                headers=headers,
            )
        if getattr(response, "streaming", False):
            for _ in response.streaming_content:
                pass
    return response.status_code, [query["sql"] for query in captured.captured_queries]


_SELECT_LIST = re.compile(r"^SELECT .*? FROM ", re.DOTALL)
_SINGLE_IN = re.compile(r" IN \(('(?:[^']|'')*')\)")


def same_work_key(statements: list[str]) -> tuple[str, ...]:
    """Statements that differ only in their select list (GraphQL narrows the columns to those asked for),
    or in ``IN ('x')`` against ``= 'x'``, make PostgreSQL do the same work: they share one floor."""
    return tuple(_SINGLE_IN.sub(r" = \1", _SELECT_LIST.sub("SELECT ... FROM ", s)) for s in statements)


def run_statements(cursor, statements: list[str]) -> tuple[float, list[float]]:
    """Execute every statement and fetch all its rows; total and per-statement time in ms."""
    each = []
    for statement in statements:
        started = time.perf_counter()
        cursor.execute(statement)
        if cursor.description is not None:
            cursor.fetchall()
        each.append((time.perf_counter() - started) * 1000)
    return sum(each), each


def measure(statements: list[str], warmup: int, count: int, budget: float | None = None) -> dict:
    """Percentiles of running ``statements`` one after another, ``count`` times after ``warmup``.

    ``budget`` bounds the time as in ``bench.client.latency``."""
    import psycopg
    from django.db import connection

    if not statements:
        return {"n": 0, "statements": 0}
    connection.ensure_connection()
    raw = connection.connection  # psycopg's connection under Django's: the same session settings
    totals, per_statement = [], [[] for _ in statements]
    with psycopg.ClientCursor(raw) as cursor:
        warm_until = time.perf_counter() + budget / 4 if budget else None
        for _ in range(warmup):
            if warm_until and time.perf_counter() > warm_until:
                break
            run_statements(cursor, statements)
        started = time.perf_counter()
        for _ in range(count):
            if over_budget(started, budget, len(totals)):
                break
            total, each = run_statements(cursor, statements)
            totals.append(total)
            for index, value in enumerate(each):
                per_statement[index].append(value)
    result = summarize(totals)
    result["statements"] = len(statements)
    result["statement_p50_ms"] = [summarize(values)["p50_ms"] for values in per_statement]
    result["sql"] = [
        statement if len(statement) <= 2000 else statement[:2000] + " ..." for statement in statements
    ]
    return result
