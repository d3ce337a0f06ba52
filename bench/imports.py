"""Section 2: the legacy DuckDB file into the empty table through ``manage.py import_studies``, beside the
floor (``bench.import_floor``: binary COPY of the same rows into a bare table plus building the table's
indexes), and 10,000 new rows into the full table.

The importer runs as its own process, as an operator would run it; its peak RSS is that program's own
high-water mark (VmHWM).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bench.database import ROOT, server_environment

INCREMENT_ROWS = 10_000


def run_measured(command: list[str], env: dict[str, str], log_path: Path) -> dict:
    """Run ``command`` (the interpreter, then a Python script and its arguments): wall time, exit code, the
    program's own peak RSS and the end of its output (``import_floor.run_python``).

    The peak is the program's VmHWM: ``wait4``'s ``ru_maxrss`` also counts pages this large parent process
    shared with the child between fork and exec, and showed 665 MB for an import that peaks under 400 MB.
    """
    from bench.import_floor import run_python

    result = run_python(command[1:], env, log_path)
    result["output"] = result["output"][-1500:]
    return result


def import_command(path: Path) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), "import_studies", str(path)]


def empty_table() -> None:
    """Truncate the studies (in a transaction that bumps the data version, as every write must)."""
    from django.db import connection, transaction

    from server.core.data_version import bump_data_version
    from server.studies import bulk

    with transaction.atomic():
        bulk.truncate(connection)
        bump_data_version()


def table_rows() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM medical_examinations_fact")
        return cursor.fetchone()[0]


def run_import(options, path: Path, expected: int, label: str) -> dict:
    before = table_rows()
    result = run_measured(
        import_command(path), server_environment(options.url), options.work_dir / f"{label}.log"
    )
    imported = table_rows() - before
    result["rows"] = imported
    result["rows_per_s"] = round(imported / result["seconds"], 1) if result["seconds"] else 0.0
    if result["returncode"] != 0:
        result["error"] = f"import_studies exited {result['returncode']}: {result['output'][-300:]}"
    elif imported != expected:
        result["error"] = f"{imported:,} rows arrived, {expected:,} expected"
    else:
        result.pop("output")
    return result


def measure_floor(options, path: Path, log: Callable[[str], None]) -> dict:
    """The floor of the importer engineer's ``bench.import_floor`` for the same file."""
    from bench import import_floor  # the importer engineer's: COPY into a bare table, then its indexes

    floor = import_floor.measure_floor(path, options.url)
    floor.setdefault(
        "rows_per_s", round(floor["rows"] / floor["seconds"], 1) if floor.get("seconds") else None
    )
    return floor


def run(options, legacy_file: Path, log: Callable[[str], None]) -> dict:
    from bench.data import new_studies, write_legacy_duckdb

    result: dict = {}
    if not (ROOT / "importers").joinpath("management", "commands", "import_studies.py").exists():
        return {"skipped": "manage.py import_studies does not exist yet"}
    empty_table()
    log(f"2. import_studies {legacy_file.name} into the empty table")
    result["importer"] = run_import(options, legacy_file, options.rows, "import_empty")
    log("2. the floor: binary COPY into a bare table, then its indexes")
    try:
        result["floor"] = measure_floor(options, legacy_file, log)
    except Exception as error:  # reported in the table; the other sections still run
        result["floor_error"] = f"{type(error).__name__}: {error}"
    importer, floor = result.get("importer") or {}, result.get("floor") or {}
    if importer.get("seconds") and floor.get("seconds") and not importer.get("error"):
        result["ratio"] = round(importer["seconds"] / floor["seconds"], 3)
    count = getattr(options, "increment_rows", INCREMENT_ROWS)
    new_file = options.work_dir / f"legacy_new_{count}.duckdb"
    write_legacy_duckdb(new_file, new_studies(count, after=options.rows, seed=options.seed + 1))
    log(f"2. import_studies of {count:,} new rows into the full table")
    try:
        result["increment"] = run_import(options, new_file, count, "import_increment")
    finally:
        new_file.unlink(missing_ok=True)
    if result["increment"].get("error"):
        result["increment"]["seconds"] = None
    return result
