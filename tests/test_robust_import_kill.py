"""An import killed half-way (SIGKILL: no cleanup, no rollback by the process) leaves the database exactly as
it was, and running the same import again succeeds.

A database of its own on the test server, migrated; a first small import; then a CSV large enough that its
import takes seconds, killed while it writes the studies table.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.import_fixtures import TRADITIONAL, legacy, studies, write_csv

ROOT = Path(__file__).resolve().parent.parent
ROWS = 50_000
FIRST = 100


def _server_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM medical_examinations_fact").fetchone()[0]


@pytest.fixture
def database(tmp_path):
    name = f"robust_kill_{uuid.uuid4().hex[:8]}"
    server = _server_url()
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="server.settings",
        SECRET_KEY="kill-test-" + "k" * 50,
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        yield url, env
    finally:
        with psycopg.connect(server + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _import(env: dict, path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_studies", str(path), "-v0"],
        cwd=ROOT,
        env={**env, "PGAPPNAME": APPLICATION},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


APPLICATION = "kill-test-import"  # the import's connections say so (PGAPPNAME), to be told from any other
# The studies table is written by this INSERT, and the indexes rebuilt after it: either means half-way.
WRITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state = 'active' "
    "AND (query LIKE 'INSERT INTO medical_examinations_fact%%' OR query LIKE 'CREATE INDEX%%')"
)


def _wait_until_it_writes(url: str, process: subprocess.Popen) -> None:
    """Until the import is writing the studies table (or rebuilding its indexes after that).

    A fixed sleep killed the import while it was still reading the file on a slow machine, or after it had
    committed on a fast one; from its first write to the table to its commit, this import takes about a
    second, and one connection polls every few milliseconds.
    """
    deadline = time.monotonic() + 120
    with psycopg.connect(url, autocommit=True) as conn:
        while process.poll() is None and time.monotonic() < deadline:
            if conn.execute(WRITING, [APPLICATION]).fetchone()[0]:
                return
            time.sleep(0.005)
    pytest.fail("the import was never seen writing the studies table before it ended or timed out")


def test_an_import_killed_half_way_leaves_nothing_and_can_be_run_again(database, tmp_path):
    url, env = database
    rows = studies(FIRST + ROWS, seed=5)
    first = write_csv(tmp_path / "first.csv", TRADITIONAL, [legacy(study) for study in rows[:FIRST]])
    big = write_csv(tmp_path / "big.csv", TRADITIONAL, [legacy(study) for study in rows[FIRST:]])

    done = _import(env, first)
    output = done.communicate(timeout=120)[0]
    assert done.returncode == 0, output.decode(errors="replace")[-2000:]
    assert _count(url) == FIRST

    started = time.monotonic()
    killed = _import(env, big)
    _wait_until_it_writes(url, killed)
    assert killed.poll() is None, "the import finished before it could be killed: raise ROWS"
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL
    # PostgreSQL rolls back the dead client's transaction as soon as it notices the closed connection.
    deadline = time.monotonic() + 30
    while True:
        with psycopg.connect(url) as conn:
            active = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        if not active or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert _count(url) == FIRST

    again = _import(env, big)
    output = again.communicate(timeout=600)[0]
    assert again.returncode == 0, output.decode(errors="replace")[-2000:]
    assert _count(url) == FIRST + ROWS
    assert time.monotonic() - started < 600
