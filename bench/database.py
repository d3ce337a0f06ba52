"""The benchmark's own database: created empty, migrated, dropped at the end. Never any other database."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/studies_bench"
ROOT = Path(__file__).resolve().parent.parent


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise BenchError("BENCH_DATABASE_URL names no database")
    # A guard against pointing the benchmark (which drops its database) at a real one by mistake.
    if "bench" not in name:
        raise BenchError(f"The benchmark drops its database, so its name must contain 'bench', not {name!r}")
    return name


def maintenance_url(url: str) -> str:
    """The same server, database ``postgres``: where CREATE/DROP DATABASE are issued."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def recreate(url: str) -> None:
    """Drop the benchmark database if a previous run left it, then create it empty (UTF-8, for trigrams)."""
    name = database_name(url)
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ).format(sql.Identifier(name))
        )


def drop(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_environment(url: str, **extra: str) -> dict[str, str]:
    """The environment of every process that works on the benchmark database: production-like settings."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DATABASE_URL=url,
        DEBUG="false",
        SECRET_KEY=env.get("BENCH_SECRET_KEY", "bench-only-" + "k" * 50),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="server.settings",
    )
    env.update(extra)
    return env


def manage(url: str, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``manage.py ARGS`` against the benchmark database."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=server_environment(url),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise BenchError(f"manage.py {args[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result


def setup_django(url: str) -> None:
    """Configure Django in this process on the benchmark database (the floor's SQL is captured here)."""
    os.environ.update(server_environment(url, ALLOWED_HOSTS="127.0.0.1,testserver"))
    # WhiteNoise's notice that collectstatic never ran: the floor's in-process requests serve no files.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if settings.DATABASES["default"]["NAME"] != database_name(url):
        raise BenchError("Django was already configured on another database; run the benchmark on its own")
    connection.ensure_connection()
