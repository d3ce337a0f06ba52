"""Start-up configuration: bad settings stop with one line naming the variable; `make run` needs no setup."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Well formed, never connected to: `manage.py check` reads settings only.
UNUSED_DATABASE = "postgresql://nobody@127.0.0.1:9/unused"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a clean environment; DATABASE_URL="" tests the unset case."""
    env.setdefault("DATABASE_URL", UNUSED_DATABASE)
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


def test_without_database_url_or_a_local_cluster_settings_say_how_to_get_one(tmp_path):
    result = manage("check", DEBUG="true", VAR_DIR=str(tmp_path), DATABASE_URL="")
    assert result.returncode == 78
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DATABASE_URL is not set and no local PostgreSQL runs in VAR_DIR/postgres: "
        "`make run` starts one, or set DATABASE_URL=postgresql://USER@HOST/DATABASE"
    ]


def test_make_run_works_with_no_setup_on_the_local_cluster(open_folder):
    """`make run`'s steps, through tools.with_postgres and no DATABASE_URL: the product's own cluster in
    VAR_DIR/postgres, demo data, the demo login (only there), and a manage.py command that finds the cluster
    while it runs."""
    python = sys.executable
    steps = " && ".join(
        [
            f"{python} manage.py migrate --verbosity 0",
            f"{python} manage.py generate_demo_data --rows 50 --seed 2 --if-empty",
            f"{python} manage.py ensure_demo_user",
            "DATABASE_URL= " + f"{python} manage.py shell --verbosity 0 -c "
            + shlex.quote(
                "from server.studies.models import Study; s = Study.objects.order_by('exam_id').first(); "
                "print(Study.objects.count(), s.exam_id, s.order_datetime.isoformat())"
            ),
        ]
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    result = subprocess.run(
        [python, "-m", "tools.with_postgres", "--local", "sh", "-c", steps],
        cwd=ROOT,
        env={**clean, "DEBUG": "true", "VAR_DIR": str(open_folder)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    from server.studies.demo_data import generate_studies

    first = next(iter(generate_studies(50, seed=2)))
    assert "Demo login (shown once): username demo" in result.stdout
    assert result.stdout.splitlines()[-2].split() == ["50", first[0], first[14].isoformat()]
    assert "Stopped the local PostgreSQL cluster" in result.stdout.splitlines()[-1]
    assert (open_folder / "postgres" / "PG_VERSION").exists()  # --local: in VAR_DIR, where settings look


def test_every_declared_variable_is_documented_in_env_example():
    """One place declares the variables (server/core/environment.py); .env.example documents the same set."""
    from server.core.environment import Environment

    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert documented == set(Environment.model_fields)


def test_several_bad_variables_are_named_on_one_line_in_the_projects_words():
    result = manage(
        "check",
        DEBUG="true",
        STATEMENT_TIMEOUT_MS="-1",
        EXPORT_XLSX_MAX_ROWS="2000000",
        METRICS_TOKEN="",
        DATABASE_CONNECT_TIMEOUT="soon",
        LOG_LEVEL="chatty",
    )
    assert result.returncode == 78
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DATABASE_CONNECT_TIMEOUT must be a whole number, not 'soon'; "
        "STATEMENT_TIMEOUT_MS must be at least 0, not '-1'; "
        "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not 'CHATTY'; "
        "EXPORT_XLSX_MAX_ROWS must be at most 1048575, not '2000000'"
    ]



def test_spaces_around_a_value_are_ignored_and_spaces_alone_mean_the_default(monkeypatch):
    """As the parser before pydantic-settings read them: ``DEBUG= yes`` is true, ``STATEMENT_TIMEOUT_MS= ``
    is the default."""
    from server.core.environment import load

    monkeypatch.setenv("DEBUG", " yes ")
    monkeypatch.setenv("STATEMENT_TIMEOUT_MS", "  ")
    monkeypatch.setenv("GUNICORN_WORKERS", " 3 ")
    monkeypatch.setenv("SECURE_SSL_REDIRECT", " ")
    environment = load(None)
    assert environment.DEBUG is True and environment.STATEMENT_TIMEOUT_MS == 5000
    assert environment.GUNICORN_WORKERS == 3 and environment.SECURE_SSL_REDIRECT is None
