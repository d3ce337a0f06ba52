"""The importers against their budgets: ``python -m bench.import_floor --rows 1000000 [--xlsx-rows 470000]``.

Prints, for a legacy all-VARCHAR DuckDB file of ``--rows`` generated studies:

- the floor: psycopg's binary COPY of the same rows (already typed, in memory) into a bare copy of the
  studies table created in the same transaction (so COPY FREEZE, the fastest there is), plus building every
  index the studies table has, primary key included;
- ``manage.py import_studies`` of that file into the empty, indexed table, as its own process: wall time,
  the ratio to the floor (budget 1.5) and its peak RSS (budget 500 MB);
- 10,000 new rows into the full table (budget 5 s);
- with ``--xlsx-rows``, an Excel export of that many rows into the empty table, and its peak RSS.

It works only on a database whose name contains ``bench`` (default ``bench_import``; ``DATABASE_URL`` or
``--url``), which it creates afresh (dropping one left by an earlier run) and migrates. Files are cached
under ``var/bench/importers/``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from bench.database import BenchError, recreate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_import"
TABLE = "medical_examinations_fact"
INCREMENT_ROWS = 10_000


def environment(url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(DATABASE_URL=url, DEBUG="false", SECRET_KEY="bench-only-" + "k" * 50, LOG_LEVEL="WARNING")
    return env


# Runs manage.py and, as it exits, prints the process's own peak RSS. ru_maxrss (what wait4 reports) also
# counts the pages of this parent that the child held between fork and exec, so it showed 600 MB for an
# import that peaks at 380 MB; VmHWM belongs to the executed program's own address space.
PEAK_RSS_WRAPPER = """
import atexit, runpy, sys
def report():
    with open('/proc/self/status') as status:
        peak = next(line.split()[1] for line in status if line.startswith('VmHWM'))
    print(f'peak_rss_kb={peak}', flush=True)
atexit.register(report)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def run_python(args: list[str], env: dict[str, str], log_path: Path) -> dict:
    """Run ``python ARGS...`` (a script and its arguments) in the project: wall time, exit code, the program's
    own peak RSS (MB, from PEAK_RSS_WRAPPER) and its output, which is also kept in ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PEAK_RSS_WRAPPER, *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
        seconds = time.perf_counter() - started
    lines = log_path.read_text(errors="replace").splitlines()
    peaks = [int(line.split("=")[1]) for line in lines if line.startswith("peak_rss_kb=")]
    return {
        "returncode": done.returncode,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peaks[-1] / 1024, 1) if peaks else None,
        "output": "\n".join(line for line in lines if not line.startswith("peak_rss_kb=")),
    }


def run_measured(command: list[str], url: str) -> dict:
    """``run_python`` against ``url``, keeping the last lines of the output."""
    result = run_python(command, environment(url), ROOT / "var" / "bench" / "importers" / "last_run.log")
    result["output"] = result["output"].splitlines()[-4:]
    return result


def import_file(path: Path, url: str, *options: str) -> dict:
    return run_measured(["manage.py", "import_studies", str(path), *options], url)


def empty_the_table(url: str) -> None:
    with psycopg.connect(url) as connection:
        connection.execute(f"TRUNCATE {TABLE}")
        connection.execute("UPDATE studies_data_version SET version = version + 1")


def typed_rows(path: Path) -> list[tuple]:
    """The file's rows as typed Python values, cast by DuckDB: the floor's input, not timed."""
    import duckdb

    from server.studies.columns import STUDY_FIELDS

    casts = {
        "patient_birth_date": "strptime(patient_birth_date, '%Y%m%d')::DATE",
        "patient_age": "patient_age::SMALLINT",
    }
    columns = [
        casts.get(name, f"{name}::TIMESTAMP" if name.endswith("_datetime") else name) for name in STUDY_FIELDS
    ]
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT {', '.join(columns)} FROM {TABLE}").fetchall()  # noqa: S608


def measure_floor(path: Path, url: str) -> dict:
    """Binary COPY of the file's rows into a bare table, plus building the studies table's indexes."""
    from server.studies.columns import POSTGRES_COPY_TYPES, STUDY_FIELDS

    rows = typed_rows(path)
    with psycopg.connect(url) as connection:
        definitions = [
            definition
            for (definition,) in connection.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [TABLE]
            )
        ]
        connection.execute("DROP TABLE IF EXISTS bench_floor")
        connection.commit()
        started = time.perf_counter()
        connection.execute(
            f"CREATE TABLE bench_floor (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        columns = ", ".join(STUDY_FIELDS)
        with connection.cursor().copy(
            f"COPY bench_floor ({columns}) FROM STDIN (FORMAT BINARY, FREEZE)"
        ) as copy:
            copy.set_types(POSTGRES_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        copied = time.perf_counter()
        connection.execute("SET LOCAL maintenance_work_mem = '512MB'")  # as bulk.indexes_deferred does
        for definition in definitions:
            name, rest = definition.split(" ON ", 1)
            connection.execute(f"{name}_floor ON {rest.replace(f'public.{TABLE} ', 'bench_floor ', 1)}")
        connection.commit()
        finished = time.perf_counter()
        connection.execute("DROP TABLE bench_floor")
    return {
        "rows": len(rows),
        "seconds": round(finished - started, 2),
        "copy_seconds": round(copied - started, 2),
        "index_seconds": round(finished - copied, 2),
        "indexes": len(definitions),
    }


def legacy_file(rows: int, seed: int, after: int = 0) -> Path:
    from bench.data import new_studies, write_legacy_duckdb
    from server.studies.demo_data import generate_studies

    name = f"legacy_{rows}_{seed}" + (f"_after_{after}" if after else "")
    path = ROOT / "var" / "bench" / "importers" / f"{name}.duckdb"
    if not path.exists():
        studies = new_studies(rows, after=after, seed=seed) if after else generate_studies(rows, seed)
        write_legacy_duckdb(path, studies)
    return path


def xlsx_file(rows: int, seed: int) -> Path:
    """An export shaped like the hospital system's: Traditional labels, text IDs, order times as dates."""
    from bench.xlsx_writer import write_xlsx
    from importers.headers import FIELD_LABELS
    from server.studies.columns import STUDY_FIELDS
    from server.studies.demo_data import generate_studies
    from tests.import_fixtures import legacy

    path = ROOT / "var" / "bench" / "importers" / f"export_{rows}_{seed}.xlsx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        order = STUDY_FIELDS.index("order_datetime")

        def cells():
            for values in generate_studies(rows, seed):
                row = legacy(dict(zip(STUDY_FIELDS, values, strict=True)))
                row[order] = values[order]  # a real Excel date cell
                yield row

        write_xlsx(path, [FIELD_LABELS[name][0] for name in STUDY_FIELDS], cells())
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--xlsx-rows", type=int, default=0, help="also import an Excel export of this many rows"
    )
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    options = parser.parse_args()
    try:
        recreate(options.url)  # refuses a name without "bench"
    except BenchError as error:
        parser.error(str(error))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment(options.url), check=True
    )

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    path = legacy_file(options.rows, options.seed)
    imported = import_file(path, options.url)  # into the new database's empty table
    print(
        f"import_studies {path.name}: {imported['seconds']} s, peak RSS {imported['peak_rss_mb']} MB",
        flush=True,
    )
    if imported["returncode"]:
        print("\n".join(imported["output"]))
        return 1
    floor = measure_floor(path, options.url)
    print(
        f"floor: {floor['seconds']} s (COPY {floor['copy_seconds']} s + {floor['indexes']} indexes "
        f"{floor['index_seconds']} s)",
        flush=True,
    )
    print(f"ratio import / floor: {imported['seconds'] / floor['seconds']:.2f} (budget 1.5)", flush=True)

    increment = legacy_file(INCREMENT_ROWS, options.seed + 1, after=options.rows)
    added = import_file(increment, options.url)
    print(
        f"{INCREMENT_ROWS:,} new rows into the full table: {added['seconds']} s for the whole process "
        "(the import's own time is in the summary below; budget 5 s)",
        flush=True,
    )
    print("  " + "\n  ".join(added["output"][-3:]))

    if options.xlsx_rows:
        workbook = xlsx_file(options.xlsx_rows, options.seed)
        empty_the_table(options.url)
        excel = import_file(workbook, options.url)
        print(
            f"import_studies {workbook.name}: {excel['seconds']} s, peak RSS {excel['peak_rss_mb']} MB",
            flush=True,
        )
        print("  " + "\n  ".join(excel["output"][-3:]))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
