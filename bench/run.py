"""The benchmark's sections, run in order against the dedicated database; returns the report (a dict)."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import io
import json
import os
import platform
import secrets
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.core.management import call_command

from bench import database, report
from bench.client import Client, Request, latency, throughput
from bench.database import ROOT, BenchError

VAR_DIR = ROOT / "var" / "bench"
BENCH_USER = "bench-admin"
GIT = shutil.which("git") or "git"


@dataclass
class Options:
    rows: int = 1_000_000
    seed: int = 42
    quick: bool = False
    skip_import: bool = False
    warmup: int = 20
    requests: int = 200
    duration: float = 10.0
    clients: int = 16
    # Repetitions of each floor: the database's own time varies far less than a whole request's.
    floor_requests: int = 50
    # New rows imported into the full table (section 2); the issue's figure is 10,000.
    increment_rows: int = 10_000
    # Seconds one series of requests may take before it stops short of ``requests`` (None: no bound).
    budget: float | None = 60.0
    keep_db: bool = False
    # Section 6, the reports (bench.reports): legacy rows to import (None: as many as ``rows``), writers.
    reports: bool = True
    reports_only: bool = False
    report_rows: int | None = None
    write_clients: int = 8
    write_duration: float = 20.0
    url: str = database.DEFAULT_URL
    output: Path = VAR_DIR / "latest.json"
    work_dir: Path = VAR_DIR


def log(message: str) -> None:
    """Progress on stderr; a closed stderr (``| head``) must not end the run half-way."""
    with contextlib.suppress(OSError):
        print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine() -> str:
    try:
        mem_kb = int(
            next(
                line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
            ).split()[1]
        )
        ram = f"{mem_kb / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        ram = "RAM unknown"
    system = f"{platform.system()} {platform.release()}"
    return f"nproc {os.cpu_count()}, {ram}, {system}, Python {platform.python_version()}"


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return "PostgreSQL " + cursor.fetchone()[0].split()[0]


def rate(rows: int, seconds: float) -> float:
    return round(rows / seconds, 1) if seconds > 0 else 0.0


# Section 1 -------------------------------------------------------------------------------------------------


def generate(options: Options) -> None:
    # In this process (Django is on the benchmark database): no interpreter start-up in the figure.
    call_command(
        "generate_demo_data",
        rows=options.rows,
        seed=options.seed,
        replace=True,
        reports=False,  # the benchmark measures studies; reports have their own
        stdout=io.StringIO(),
    )


def section_data(options: Options, result: dict) -> None:
    from bench.data import write_legacy_duckdb
    from server.studies.demo_data import generate_studies

    log(f"1. generating {options.rows:,} studies with generate_demo_data")
    started = time.perf_counter()
    generate(options)
    seconds = time.perf_counter() - started
    result["data"] = {
        "generate": {
            "rows": options.rows,
            "seconds": round(seconds, 2),
            "rows_per_s": rate(options.rows, seconds),
        }
    }
    if options.skip_import or options.reports_only:
        result["data"]["legacy_file"] = {"skipped": skip_reason(options)}
        return
    path = legacy_path(options)
    log(f"1. writing the legacy DuckDB file {path.name}")
    started = time.perf_counter()
    written = write_legacy_duckdb(path, generate_studies(options.rows, options.seed))
    seconds = time.perf_counter() - started
    result["data"]["legacy_file"] = {
        "rows": written,
        "seconds": round(seconds, 2),
        "rows_per_s": rate(written, seconds),
        "bytes": path.stat().st_size,
        "path": str(path),
    }


def skip_reason(options: Options) -> str:
    return "--reports-only" if options.reports_only else "--skip-import"


def legacy_path(options: Options) -> Path:
    return options.work_dir / f"legacy_{options.rows}_{options.seed}.duckdb"


# Section 2 -------------------------------------------------------------------------------------------------


def section_import(options: Options, result: dict) -> None:
    from bench import imports

    if options.skip_import or options.reports_only:
        result["import"] = {"skipped": skip_reason(options)}
        return
    result["import"] = imports.run(options, legacy_path(options), log)
    # The queries must run on the N studies whatever the import did: a failed import leaves the table short.
    held = imports.table_rows()
    if held < options.rows:
        log(
            f"2. the table holds {held:,} studies after the import section: generating {options.rows:,} again"
        )
        generate(options)
        result["import"]["restored"] = f"the import left {held:,} studies; regenerated before the queries"


# Section 3 -------------------------------------------------------------------------------------------------


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def create_user_and_login(options: Options, port: int, result: dict) -> str | None:
    """A bearer token of an admin user of the benchmark database, or None where the product has no users.

    The user is created in this process; the token comes from ``POST /api/v1/auth/login`` as a client would
    get it, or, while that endpoint does not exist (404), straight from the access layer.
    """
    try:
        from server.access.services import create_user
        from server.access.tokens import issue_token
    except ImportError:
        result["meta"]["auth"] = "anonymous (no access control in the product)"
        return None
    password = secrets.token_urlsafe(24)
    user = create_user(BENCH_USER, "admin", password)
    client = Client(port)
    body = urlencode({"username": BENCH_USER, "password": password}).encode()
    status, answer = client.send(Request("POST", "/api/v1/auth/login", body, FORM))
    client.close()
    if status == 404:
        result["meta"]["auth"] = "bearer token of an admin user (issued directly: no login endpoint)"
        return issue_token(user).raw
    if status != 200:
        raise BenchError(f"Login as {BENCH_USER} failed: HTTP {status} {answer[:200]!r}")
    result["meta"]["auth"] = "bearer token of an admin user, from POST /api/v1/auth/login"
    return json.loads(answer)["access_token"]


def section_queries(options: Options, result: dict, port: int, token: str | None) -> None:
    from django.db import connection

    from bench import floor
    from bench.mix import build_mix, draw_samples

    with connection.cursor() as cursor:
        samples = draw_samples(cursor)
        cursor.execute("SELECT count(*) FROM medical_examinations_fact")
        result["meta"]["rows_queried"] = cursor.fetchone()[0]
    result["samples"] = {key: str(value) for key, value in samples.__dict__.items()}
    client = Client(port, token)
    queries: list[dict] = []
    result["queries"] = queries
    cpu_per_request = []
    for query in build_mix(samples):
        log(f"3. {query.label}")
        entry: dict = {
            "key": query.key,
            "label": query.label,
            "page": query.page,
            "target_stat": query.target_stat,
            "target_ms": query.target_ms,
        }
        floors: dict[tuple, dict] = {}
        for api, request in (("rest", query.rest), ("graphql", query.graphql)):
            if request is None:
                continue
            measured = latency(client, request, options.warmup, options.requests, options.budget)
            if measured.get("client_cpu_ms_per_request") is not None:
                cpu_per_request.append(measured["client_cpu_ms_per_request"])
            if not measured.get("unavailable"):
                status, statements = floor.capture(request, token, query.page)
                measured["floor_capture_status"] = status
                key = floor.same_work_key(statements)
                if key not in floors:
                    try:
                        floors[key] = floor.measure(
                            statements, options.warmup, options.floor_requests, options.budget
                        )
                    except Exception as error:  # e.g. a count over millions past STATEMENT_TIMEOUT_MS
                        floors[key] = {"error": f"{type(error).__name__}: {error}"[:300]}
                        connection.close()  # a fresh connection for what follows
                api_floor = floors[key]
                measured["floor_p50_ms"] = api_floor.get("p50_ms")
                if api_floor.get("p50_ms") is not None and measured.get("p50_ms") is not None:
                    measured["overhead_ms"] = round(measured["p50_ms"] - api_floor["p50_ms"], 3)
                entry.setdefault("floors", {})[api] = api_floor
            entry[api] = measured
        # The floor column shows the REST statements' (GraphQL's where REST has none).
        entry["floor"] = (entry.get("floors") or {}).get("rest") or (entry.get("floors") or {}).get("graphql")
        queries.append(entry)
        p50 = {api: (entry.get(api) or {}).get("p50_ms") for api in ("rest", "graphql", "floor")}
        log(f"   p50 ms: REST {p50['rest']}, GraphQL {p50['graphql']}, floor {p50['floor']}")
        checkpoint(options, result)
    client.close()
    if cpu_per_request:
        result["client"] = {"cpu_ms_per_request": sorted(cpu_per_request)[len(cpu_per_request) // 2]}


# Section 4 -------------------------------------------------------------------------------------------------


def section_throughput(options: Options, result: dict, port: int, token: str | None) -> None:
    from django.db import connection

    from bench.mix import build_mix, draw_samples

    with connection.cursor() as cursor:
        mix = {query.key: query for query in build_mix(draw_samples(cursor))}
    runs = []
    for key, label in (("landing", "landing page"), ("name3", "name search"), ("detail", "detail")):
        for api in ("rest", "graphql"):
            request = getattr(mix[key], api)
            log(f"4. {label} {api}, {options.clients} clients for {options.duration:g} s")
            run = throughput(port, token, request, options.clients, options.duration)
            run["label"] = f"{label} ({'REST' if api == 'rest' else 'GraphQL'})"
            runs.append(run)
    result["throughput"] = runs


# Section 5 -------------------------------------------------------------------------------------------------


def section_export(result: dict, server, token: str | None) -> None:
    from bench.server import proc_status, reset_peak_rss
    from server.studies.selectors import count_studies, filter_studies

    expected = count_studies(filter_studies())
    pids = server.worker_pids()
    before = {pid: proc_status(pid).get("VmRSS", 0) for pid in pids}
    for pid in pids:
        reset_peak_rss(pid)
    peak = dict(before)
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], proc_status(pid).get("VmRSS", 0))
            stop.wait(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    client = Client(server.port, token)
    log(f"5. exporting {expected:,} rows as CSV")
    started = time.perf_counter()
    headers = {**client.headers}
    client.conn.request("GET", "/api/v1/studies/export?format=csv", headers=headers)
    response = client.conn.getresponse()
    lines = 0
    size = 0
    first = b""
    broken = None
    try:
        while chunk := response.read(1 << 20):
            if not first:
                first = chunk[:300]
            lines += chunk.count(b"\n")
            size += len(chunk)
    except (http.client.HTTPException, OSError) as error:  # the server broke the stream off
        broken = f"the download broke off after {size:,} bytes: {type(error).__name__}"
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    client.close()
    for pid in pids:
        peak[pid] = max(peak[pid], proc_status(pid).get("VmHWM", 0))
    if response.status != 200:
        result["export"] = {"error": f"HTTP {response.status}: {first.decode('utf-8', 'replace')[:200]}"}
        return
    rows = max(lines - 1, 0)  # the header line; the synthetic data has no line breaks inside values
    growth = max((peak[pid] - before[pid] for pid in pids), default=0)
    result["export"] = {
        "rows": rows,
        "expected_rows": expected,
        "bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_s": rate(rows, seconds),
        "rss_before_mb": round(max(before.values(), default=0) / 2**20, 1),
        "peak_rss_mb": round(max(peak.values(), default=0) / 2**20, 1),
        "rss_growth_mb": round(growth / 2**20, 1),
    }
    if broken:
        result["export"]["error"] = broken
    elif rows != expected:
        result["export"]["error"] = f"the CSV holds {rows:,} rows, the table {expected:,}"


# The whole run ---------------------------------------------------------------------------------------------


def new_report(options: Options, argv: list[str]) -> dict:
    return {
        "rows": options.rows,
        "meta": {
            "command": " ".join(["python -m bench", *map(shlex.quote, argv)]),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "mode": "quick" if options.quick else "full",
            "load_before": loadavg(),
            "warmup": options.warmup,
            "requests": options.requests,
            "floor_requests": options.floor_requests,
            "seed": options.seed,
            "git": git_revision(),
        },
    }


def run_sections(options: Options, result: dict) -> dict:
    """Sections 1 to 6 on a migrated database, the one Django in this process is on; returns ``result``.

    ``run`` calls it on the dedicated database; the smoke test calls it on the test database.
    """
    from bench.server import Server

    started = time.time()
    options.work_dir.mkdir(parents=True, exist_ok=True)
    result["meta"]["machine"] += ", " + postgres_version()
    try:
        result["complete"] = False  # until the last section: a partial file says so
        section_data(options, result)
        checkpoint(options, result)
        section_import(options, result)
        checkpoint(options, result)
        server = Server(options.url, options.work_dir / "gunicorn.log")
        log(f"starting gunicorn (2 workers, {server.worker_class or 'configured worker class'})")
        with server:
            result["meta"]["server"] = " ".join(server.command[2:]).replace(str(server.port), "PORT")
            token = create_user_and_login(options, server.port, result)
            if not options.reports_only:
                section_queries(options, result, server.port, token)
                checkpoint(options, result)
                section_throughput(options, result, server.port, token)
                checkpoint(options, result)
                section_export(result, server, token)
                checkpoint(options, result)
            if options.reports:
                from bench import reports

                reports.section(options, result, server, token, log, checkpoint)
        result["complete"] = True
    finally:
        legacy_path(options).unlink(missing_ok=True)
    result["meta"]["load_after"] = loadavg()
    result["meta"]["seconds"] = round(time.time() - started, 1)
    report.evaluate(result)
    return result


def checkpoint(options: Options, result: dict) -> None:
    """Save what is measured so far, so that a long run can be followed and a failed one still tells."""
    report.write_json(result, options.output)


def run(options: Options, argv: list[str]) -> dict:
    """The whole benchmark in its own database: created, migrated, measured, dropped."""
    result = new_report(options, argv)
    log(f"creating the benchmark database {database.database_name(options.url)}")
    database.recreate(options.url)
    try:
        database.manage(options.url, "migrate", "--verbosity", "0")
        database.setup_django(options.url)
        run_sections(options, result)
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep_db:
            database.drop(options.url)
    return result


def git_revision() -> str:
    try:
        out = subprocess.run(
            [GIT, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            [GIT, "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return out + (" (+ uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"
