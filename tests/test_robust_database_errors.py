"""A runaway query is cut by statement_timeout and answered 503; a database that does not answer is a 503 too.

The real outage (a PostgreSQL cluster stopped and started under a running gunicorn) is in
test_robust_outage.py; here the same answers are produced in-process, quickly.
"""

from __future__ import annotations

import json
import time

import pytest
from django.db import OperationalError, connection
from django.test import Client

from server.core import database_errors, db
from server.studies import selectors
from tests.conftest import bearer_headers

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/studies/search"
GRAPHQL_STUDIES = "{ studies { totalCount } }"


@pytest.fixture
def api() -> Client:
    client = Client(raise_request_exception=False, **bearer_headers("admin"))
    client.post("/graphql", {"query": "{ __typename }"}, content_type="application/json")  # import, warm up
    return client


@pytest.fixture
def runaway(monkeypatch):
    """Every count runs a 10-second sleep under a 200 ms statement timeout (this session, reset after)."""
    original = selectors.search.count_studies

    def slow_count(queryset):
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 200")
            cursor.execute("SELECT pg_sleep(10)")
        return original(queryset)

    monkeypatch.setattr(selectors.search, "count_studies", slow_count)
    monkeypatch.setattr(selectors, "count_studies", slow_count)
    import server.studies.graphql.types as types

    monkeypatch.setattr(types.selectors, "count_studies", slow_count)
    yield
    if connection.connection is not None and connection.is_usable():
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def test_the_settings_put_the_timeout_on_the_api_connections(settings):
    assert settings.STATEMENT_TIMEOUT_MS == 5000
    options = settings.DATABASES["default"]["OPTIONS"]
    assert "-c statement_timeout=5000" in options["options"]
    assert options["connect_timeout"] == settings.DATABASE_CONNECT_TIMEOUT
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"


def test_a_runaway_search_is_cut_and_answered_503(api, runaway):
    started = time.monotonic()
    response = api.get(SEARCH, {"q": "x"})
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json() == {"detail": "Query took too long; narrow the search"}


# As in production: the audit write that follows is not in an aborted transaction block.
@pytest.mark.django_db(transaction=True)
def test_a_runaway_graphql_query_is_a_clear_error(api, runaway):
    started = time.monotonic()
    response = api.post("/graphql", {"query": GRAPHQL_STUDIES}, content_type="application/json")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    (error,) = response.json()["errors"]
    assert error["message"] == "Query took too long; narrow the search"
    assert error["extensions"]["code"] == "QUERY_TIMEOUT"


def test_an_unreachable_database_is_a_503_without_internals(api, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    monkeypatch.setattr(selectors.search, "count_studies", refuse)
    monkeypatch.setattr(selectors, "count_studies", refuse)
    response = api.get(SEARCH)
    assert response.status_code == 503
    assert response.json() == {"detail": "Database unavailable"}
    import server.studies.graphql.types as types

    monkeypatch.setattr(types.selectors, "count_studies", refuse)
    response = api.post("/graphql", {"query": GRAPHQL_STUDIES}, content_type="application/json")
    assert response.status_code == 503
    body = json.dumps(response.json())
    assert "Database unavailable" in body and "5432" not in body


def test_other_database_errors_stay_masked_500s(api, monkeypatch):
    from django.db import IntegrityError

    def broken(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(selectors, "count_studies", broken)
    monkeypatch.setattr(selectors.search, "count_studies", broken)
    response = api.get(SEARCH)
    assert response.status_code == 500
    assert "duplicate" not in response.content.decode()
    assert database_errors.unavailability(IntegrityError("x")) is None


def test_bulk_work_lifts_the_timeout_and_restores_it():
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 100")
    with db.without_statement_timeout(connection), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.3)")  # longer than the 100 ms limit: not cut
        assert _show_statement_timeout() == "0"
    assert _show_statement_timeout() == "100ms"
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 5000")


def _show_statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)  # autocommit, as the API runs: a cut statement aborts no transaction
def test_a_total_may_take_longer_once_than_other_queries(settings):
    """Totals are computed once per data version and then cached: one cut by STATEMENT_TIMEOUT_MS is tried
    once more under CACHED_QUERY_TIMEOUT_MS, while the page itself stays under the usual limit."""
    from server.core.cache import clear
    from server.studies.models import Study
    from tests.conftest import study_values

    Study.objects.create(**study_values("S1"))
    slow = Study.objects.extra(where=["pg_sleep(0.3) IS NOT NULL"])  # 0.3 s per row looked at
    settings.STATEMENT_TIMEOUT_MS = 100
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 100")  # what the connection options would say
    try:
        settings.CACHED_QUERY_TIMEOUT_MS = 150
        clear()
        with pytest.raises(OperationalError):
            selectors.count_studies(slow)  # longer than even the longer limit: cut, and not cached
        assert _show_statement_timeout() == "100ms"

        settings.CACHED_QUERY_TIMEOUT_MS = 2000
        assert selectors.count_studies(slow) == 1
        assert _show_statement_timeout() == "100ms"
        with pytest.raises(OperationalError):
            list(slow)  # the page, and any other query: still cut at 100 ms
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
        clear()


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_a_search_whose_first_count_is_cut(settings, monkeypatch):
    """Through the REST search, as a worker runs it (no transaction around the request)."""
    from server.core.cache import clear
    from server.studies.models import Study
    from server.studies.selectors import search
    from tests.conftest import study_values

    Study.objects.create(**study_values("S1"))
    counted = search._count_rows

    def slow_count(alias, sql, params):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.3)")
        return counted(alias, sql, params)

    monkeypatch.setattr(search, "_count_rows", slow_count)
    settings.STATEMENT_TIMEOUT_MS = 100
    settings.CACHED_QUERY_TIMEOUT_MS = 2000
    api = Client(raise_request_exception=False, **bearer_headers("admin"))
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 100")
    try:
        clear()
        response = api.get(SEARCH)
        assert response.status_code == 200, response.content
        assert json.loads(response.content)["total"] == 1
        assert _show_statement_timeout() == "100ms"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
        clear()


def test_a_changed_timeout_is_restored_whichever_way_the_block_ends():
    from django.db import DataError, transaction

    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 100")
    # An error the transaction survives: the setting must be restored by a statement.
    with transaction.atomic():
        with pytest.raises(ValueError), db.statement_timeout(connection, 0):
            raise ValueError("not the database's")
        assert _show_statement_timeout() == "100ms"
    # A failed statement: the transaction's rollback restores it (no statement could run before that).
    with (
        pytest.raises(DataError),
        transaction.atomic(),
        db.statement_timeout(connection, 0),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT 1 / 0")
    assert _show_statement_timeout() == "100ms"
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 5000")
