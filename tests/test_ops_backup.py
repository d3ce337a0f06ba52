"""``make backup`` / ``make restore``: a backup of a database holding studies and audit events, restored into
a fresh database, gives back every row intact; a non-empty database is not overwritten unless forced."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from tools.backup import BackupError, program

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db  # the migrated test database, copied as the source's starting point

# Written into the source database by a separate process, committed, with the project's own functions.
FILL = """
from server.access import audit
from server.access.services import create_user
from server.studies.bulk import write_studies
from server.studies.demo_data import generate_studies

print(write_studies(generate_studies(1500, seed=8)))
user = create_user("auditor", "admin", "correct horse battery staple", email="a@hospital.invalid")
for number in range(25):
    audit.record_event(audit.STUDY_SEARCH, 200, user=user, parameters={"patient_name": f"王{number}"},
                       record_count=number, exam_ids=[f"E{number}", "E-shared"])
audit.record_event(audit.LOGIN_FAILED, 401, username="mallory")
"""


def url_for(database: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{database}"


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(url_for("postgres"), autocommit=True)


def run(*args: str, database: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    variables = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    variables.update(DATABASE_URL=url_for(database), SECRET_KEY="test-only-" + "b" * 50)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=variables, capture_output=True, text=True, timeout=120
    )


SELECT_ALL = sql.SQL("SELECT * FROM {} ORDER BY 1")


def contents(database: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url_for(database)) as conn:
        return {
            table: conn.execute(SELECT_ALL.format(sql.Identifier(table))).fetchall()
            for table in ("medical_examinations_fact", "audit_event", "auth_user", "auth_group")
        }


@pytest.fixture
def databases(tmp_path):
    """A source database with the test database's schema and migration data, and a name for the target.

    Copied with pg_dump and pg_restore: a template copy would need the test database to have no sessions.
    """
    test_database = connection.settings_dict["NAME"]
    suffix = uuid.uuid4().hex[:8]
    source, target = f"{test_database}_src_{suffix}", f"{test_database}_restored_{suffix}"
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(source)))
    connection.ensure_connection()
    major = connection.connection.info.server_version // 10000
    try:
        schema = tmp_path / "schema.dump"
        dump, restore = program("pg_dump", major), program("pg_restore", major)
        subprocess.run([dump, "-Fc", "-f", str(schema), "-d", url_for(test_database)], check=True)
        subprocess.run([restore, "--no-owner", "-d", url_for(source), str(schema)], check=True)
        yield source, target
    finally:
        with admin_connection() as admin:
            for name in (source, target):
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_backup_restores_into_a_fresh_database_with_every_study_and_audit_event(databases, tmp_path):
    source, target = databases
    filled = run("manage.py", "shell", "--verbosity", "0", "-c", FILL, database=source)
    assert filled.returncode == 0, filled.stderr
    original = contents(source)
    assert len(original["medical_examinations_fact"]) == 1500 and len(original["audit_event"]) == 26

    made = run("-m", "tools.backup", "backup", "--output-dir", str(tmp_path / "backups"), database=source)
    assert made.returncode == 0, made.stderr
    dump = Path(made.stdout.strip())
    assert dump.parent == tmp_path / "backups" and dump.name.startswith(source) and dump.suffix == ".dump"
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert dump.stat().st_mode & 0o077 == 0  # patient data: readable by its owner only
    assert list(dump.parent.iterdir()) == [dump]  # no partial file left behind

    restored = run("-m", "tools.backup", "restore", str(dump), database=target)
    assert restored.returncode == 0, restored.stderr
    assert contents(target) == original
    # The restored database is a working one: the append-only guard came back with the rows.
    with psycopg.connect(url_for(target)) as conn, pytest.raises(psycopg.errors.RaiseException):
        conn.execute("DELETE FROM audit_event")

    # A non-empty database is refused, untouched, unless forced.
    with psycopg.connect(url_for(target), autocommit=True) as conn:
        conn.execute("INSERT INTO auth_group (name) VALUES ('added after the backup')")
    refused = run("-m", "tools.backup", "restore", str(dump), database=target)
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert len(contents(target)["auth_group"]) == len(original["auth_group"]) + 1
    forced = run("-m", "tools.backup", "restore", "--force", str(dump), database=target)
    assert forced.returncode == 0, forced.stderr
    assert contents(target) == original


def test_restore_of_a_missing_or_broken_file_fails_with_one_line(tmp_path):
    missing = run("-m", "tools.backup", "restore", str(tmp_path / "none.dump"), database="unused")
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"restore: no backup file at {tmp_path}/none.dump"
    # -o: take the installed virtualenv as up to date, so only the recipe runs.
    command = ["make", "-s", "-o", ".venv/.installed", "restore"]
    make = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert make.returncode != 0 and "usage: make restore FILE=" in make.stdout


def test_the_client_programs_match_the_server_or_are_the_nearest_newer():
    """An older pg_dump refuses a newer server: with the embedded PostgreSQL 18 and Debian's 15 client on
    PATH, the bare name failed. The embedded wheel always brings a client of its own major version."""
    chosen = program("pg_dump", 18)
    version = subprocess.run([chosen, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.split()[-1].startswith("18.")
    older = subprocess.run([program("pg_dump", 13), "--version"], capture_output=True, text=True, check=True)
    assert 13 <= int(older.stdout.split()[-1].split(".")[0]) <= 18
    with pytest.raises(BackupError, match="no pg_restore for PostgreSQL 99 or newer"):
        program("pg_restore", 99)
