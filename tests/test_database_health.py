"""The connection health check of ``server.core.postgresql``: free for a healthy connection, right for a
dead one.

Each test opens a connection of its own, outside the test's transaction, as a worker holds one between
requests.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def idle_connection():
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def test_the_project_backend_serves_postgresql():
    assert connections["default"].__class__.__module__ == "server.core.postgresql.base"


def test_a_healthy_idle_connection_is_usable_without_a_statement(idle_connection):
    psycopg_connection = idle_connection.connection
    sent = []
    original = psycopg_connection.cursor
    psycopg_connection.cursor = lambda *args, **kwargs: sent.append(args) or original(*args, **kwargs)
    assert idle_connection.is_usable()
    assert sent == []


def test_a_connection_the_server_ended_is_unusable_and_replaced(idle_connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [idle_connection.connection.info.backend_pid])
    deadline = time.monotonic() + 5
    while idle_connection.is_usable():  # the goodbye takes a moment to arrive
        assert time.monotonic() < deadline, "a terminated connection still looks usable"
        time.sleep(0.05)
    # What Django does at the start of a request: check, close the dead connection, open a new one.
    idle_connection.health_check_enabled = True
    idle_connection.health_check_done = False
    idle_connection.close_if_health_check_failed()
    with idle_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_connection_inside_a_transaction_is_checked_by_a_statement(idle_connection):
    idle_connection.connection.execute("BEGIN")
    assert idle_connection.is_usable()
    idle_connection.connection.execute("ROLLBACK")
