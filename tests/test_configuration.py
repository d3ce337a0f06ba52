"""Start-up configuration: bad settings stop with one line naming the variable; SQLite works with no setup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_without_secret_key_stop_with_one_line(tmp_path):
    result = manage("check", VAR_DIR=str(tmp_path))
    assert result.returncode == 78
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SECRET_KEY is not set; production settings need a long random value "
        "(or set DEBUG=true for local development)"
    ]


def test_a_malformed_database_url_is_named_without_echoing_its_password():
    result = manage("check", SECRET_KEY="x" * 50, DATABASE_URL="mysql://admin:hunter2@db/x")
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0]
    assert "hunter2" not in result.stderr
    result = manage("check", SECRET_KEY="x" * 50, DATABASE_URL="postgresql://db:notaport/x")
    assert result.returncode == 78 and "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_boolean_is_named():
    result = manage("check", DEBUG="maybe")
    assert result.returncode == 78
    assert result.stderr.strip() == "Configuration error: DEBUG must be true or false, not 'maybe'"


def test_sqlite_is_the_zero_setup_default(tmp_path):
    env = {"DEBUG": "true", "VAR_DIR": str(tmp_path)}
    assert manage("migrate", "--verbosity", "0", **env).returncode == 0
    generated = manage("generate_demo_data", "--rows", "50", "--seed", "2", **env)
    assert generated.returncode == 0, generated.stderr
    assert (tmp_path / "studies.sqlite3").exists()
    read = manage(
        "shell",
        "--verbosity",
        "0",
        "-c",
        "from server.studies.models import Study; s = Study.objects.order_by('exam_id').first(); "
        "print(Study.objects.count(), s.exam_id, s.order_datetime.isoformat())",
        **env,
    )
    assert read.returncode == 0, read.stderr
    from server.studies.demo_data import generate_studies

    first = next(iter(generate_studies(50, seed=2)))
    assert read.stdout.split() == ["50", first[0], first[14].isoformat()]
