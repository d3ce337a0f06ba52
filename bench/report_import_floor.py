"""The reports' import against its budget: ``python -m bench.report_import_floor --rows 1000000``.

Prints, for a legacy DuckDB file of ``--rows`` report rows (``one_page_text_report_v2``, docs/legacy-data.md
§5: generated reports of about 1 KB each, some with several versions, a few ``system_data`` rows):

- ``manage.py import_reports`` of that file into empty report tables, as its own process (wall time);
- the floor: binary ``COPY ... FREEZE`` of the same rows (already encoded: dumped from the imported tables
  with ``COPY ... TO`` before the clock starts, tokens included) into bare copies of ``report``,
  ``report_version`` and ``report_search`` created in the same transaction, plus building every index those
  tables have, primary keys included;
- the ratio (budget 1.5).

``measure(url, path)`` is what the benchmark calls. The CLI works only on a database whose name contains
``bench`` (default ``bench_reports``), which it creates afresh and migrates; files are cached under
``var/bench/importers/``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.database import BenchError, recreate
from bench.import_floor import ROOT, environment, run_measured

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_reports"
LEGACY_TABLE = "one_page_text_report_v2"
LEGACY_COLUMNS = ("uid", "report_id", "title", "report_type", "content_raw", "content_hash", "version_number",
                  "is_latest", "source_url", "chr_no", "mod", "report_date", "created_at", "updated_at",
                  "verified_at", "metadata")  # fmt: skip
TABLES = ("report", "report_version", "report_search")
TEXT_BYTES = 1000  # each report's text is padded with synthetic sentences to about this many characters
SYSTEM_DATA_EVERY = 5000
# The source system's words for each status, as the legacy rows hold them (importers.reports.history).
_WORDS = {
    "final": ("final", "已確認"),
    "preliminary": ("preliminary", "初步報告"),
    "draft": ("draft", "草稿"),
    "amended": ("final", "amended"),
    "cancelled": ("cancelled", "取消"),
}
_PADDING = (
    "Comparison: prior study of {n} months ago.", "The visualised bones are unremarkable.",
    "No suspicious lesion in segment {n}.", "Heart size within normal limits.", "心臟大小正常。",
    "兩側肺野清晰，第{n}肋骨未見骨折。", "Mediastinal contours are normal.", "腎臟未見結石。",
)  # fmt: skip


def _padded(rng: random.Random, content: str) -> str:
    parts = [content, "\n\nComments:"]
    size = len(content)
    while size < TEXT_BYTES:
        sentence = rng.choice(_PADDING).format(n=rng.randint(1, 12))
        parts.append(sentence)
        size += len(sentence) + 1
    return "\n".join(parts)


def legacy_rows(rows: int, seed: int = 42):
    """About ``rows`` legacy report rows (whole histories, and a system_data row every ``SYSTEM_DATA_EVERY``)
    as LEGACY_COLUMNS lists of strings."""
    from server.reports.demo_data import generate_reports
    from server.studies.demo_data import generate_studies

    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    written = 0
    studies = ((s[0], s[13], s[10], s[14]) for s in generate_studies(rows + rows // 5, seed))
    for report in generate_reports(studies, seed):
        if written >= rows:
            return
        if written // SYSTEM_DATA_EVERY != (written + len(report.versions)) // SYSTEM_DATA_EVERY:
            yield [f"SYS{written}", "", "config", "system_data", "{}", "", "1", "true", "", "", "", "",
                   "", "", "", "{}"]  # fmt: skip
            written += 1
        extra = _padded(rng, "")
        for number, version in enumerate(report.versions, start=1):
            verified = version.verified_at.strftime("%Y-%m-%d %H:%M:%S") if version.verified_at else ""
            word = rng.choice(_WORDS[version.status])
            yield [
                report.report_id, report.exam_id, report.title, report.report_type,
                version.content + extra, "", str(number),
                "true" if number == len(report.versions) else "false", "", "", report.report_type,
                verified[:10].replace("-", ""), verified or "2025-01-01 00:00:00", verified, verified,
                json.dumps({"status": word, "radiologist": report.radiologist}, ensure_ascii=False),
            ]  # fmt: skip
            written += 1


def write_legacy_reports(path: Path, rows: int, seed: int = 42) -> Path:
    """A legacy DuckDB file of ``rows`` rows, every column VARCHAR, through a temporary CSV (fast)."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    staging = path.with_suffix(".csv")
    with staging.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LEGACY_COLUMNS)
        writer.writerows(legacy_rows(rows, seed))
    types = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in LEGACY_COLUMNS) + "}"
    try:
        with duckdb.connect(str(path)) as con:
            con.execute(
                f"CREATE TABLE {LEGACY_TABLE} AS SELECT * FROM read_csv('{staging}', header = true, "  # noqa: S608
                f"columns = {types}, quote = '\"', escape = '\"')"
            )
    finally:
        staging.unlink(missing_ok=True)
    return path


def legacy_file(rows: int, seed: int = 42) -> Path:
    path = ROOT / "var" / "bench" / "importers" / f"legacy_reports_{rows}_{seed}.duckdb"
    if not path.exists():
        write_legacy_reports(path, rows, seed)
    return path


def empty_report_tables(url: str) -> None:
    with psycopg.connect(url) as connection:
        connection.execute("TRUNCATE report, report_version, report_search, report_search_word")
        connection.execute("UPDATE studies_data_version SET version = version + 1")


def measure_floor(url: str, folder: Path) -> dict:
    """Binary COPY FREEZE of the imported rows into bare tables, plus building the tables' indexes."""
    with psycopg.connect(url) as connection:
        dumps, definitions = {}, []
        for table in TABLES:  # the rows, encoded, before the clock starts
            dumps[table] = folder / f"{table}.copy"
            with (
                dumps[table].open("wb") as handle,
                connection.cursor().copy(f"COPY {table} TO STDOUT (FORMAT BINARY)") as copy,
            ):
                for chunk in copy:
                    handle.write(chunk)
            definitions += [
                (table, definition)
                for (definition,) in connection.execute(
                    "SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table]
                )
            ]
            connection.execute(f"DROP TABLE IF EXISTS bench_floor_{table}")
        rows = connection.execute("SELECT count(*) FROM report_version").fetchone()[0]
        connection.commit()
        started = time.perf_counter()
        for table in TABLES:
            connection.execute(
                f"CREATE TABLE bench_floor_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            connection.execute(f"ALTER TABLE bench_floor_{table} SET (toast_tuple_target = 128)") if (
                table == "report_search"
            ) else None
            with (
                dumps[table].open("rb") as handle,
                connection.cursor().copy(
                    f"COPY bench_floor_{table} FROM STDIN (FORMAT BINARY, FREEZE)"
                ) as copy,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        copied = time.perf_counter()
        connection.execute("SET LOCAL maintenance_work_mem = '512MB'")  # as bulk.indexes_deferred does
        for table, definition in definitions:
            name, rest = definition.split(" ON ", 1)
            connection.execute(
                f"{name}_floor ON {rest.replace(f'public.{table} ', f'bench_floor_{table} ', 1)}"
            )
        connection.commit()
        finished = time.perf_counter()
        for table in TABLES:
            connection.execute(f"DROP TABLE bench_floor_{table}")
        connection.commit()
    return {
        "versions": rows,
        "seconds": round(finished - started, 2),
        "copy_seconds": round(copied - started, 2),
        "index_seconds": round(finished - copied, 2),
        "indexes": len(definitions),
    }


def measure(url: str, path: Path) -> dict:
    """``import_reports`` of ``path`` into empty report tables (its own process), then the floor; seconds
    of each and their ratio. The database must be migrated; its report tables are emptied first."""
    empty_report_tables(url)
    imported = run_measured(["manage.py", "import_reports", str(path)], url)
    if imported["returncode"]:
        raise BenchError("import_reports failed: " + " | ".join(imported["output"]))
    with tempfile.TemporaryDirectory(prefix="report-floor-") as folder:
        floor = measure_floor(url, Path(folder))
    return {
        "import_seconds": imported["seconds"],
        "import_peak_rss_mb": imported["peak_rss_mb"],
        "import_output": imported["output"],
        "floor": floor,
        "floor_seconds": floor["seconds"],
        "ratio": round(imported["seconds"] / floor["seconds"], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    options = parser.parse_args()
    try:
        recreate(options.url)  # refuses a name without "bench"
    except BenchError as error:
        parser.error(str(error))
    env = environment(options.url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    sys.path.insert(0, str(ROOT))
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()
    started = time.perf_counter()
    path = legacy_file(options.rows, options.seed)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; file {path.name} "
          f"({time.perf_counter() - started:.0f} s to make or find)", flush=True)  # fmt: skip
    result = measure(options.url, path)
    print(
        f"import_reports: {result['import_seconds']} s, peak RSS {result['import_peak_rss_mb']} MB",
        flush=True,
    )
    print("  " + "\n  ".join(result["import_output"]))
    floor = result["floor"]
    print(
        f"floor: {floor['seconds']} s (COPY {floor['copy_seconds']} s + {floor['indexes']} indexes "
        f"{floor['index_seconds']} s) for {floor['versions']:,} versions",
        flush=True,
    )
    print(f"ratio import / floor: {result['ratio']:.2f} (budget 1.5)", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
