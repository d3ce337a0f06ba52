"""Section 6: the reports (issue 16, "Speed"), beside the studies: ``import_reports`` of a legacy file against
its floor, the sizes of the search tables and indexes, a search mix over REST and GraphQL with exact totals,
a report's detail against its SQL, the filter options, and ``POST /reports`` from concurrent clients.

It runs inside the benchmark's gunicorn (``bench.run.run_sections``), on the studies section 1 generated; the
mix is ``bench.reports_mix``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.client import Client, Request, latency, over_budget, problem
from bench.stats import summarize

SEARCH_TABLES = ("report", "report_version", "report_search", "report_search_word")
# Statements on these tables are a report request's own SQL (not the token lookup or the audit insert).
REPORT_TABLE = re.compile(r'"report(?:_search|_search_word|_version)?"')
RELATIONS = (  # (name, what it is) whose sizes the section reports
    ("report_search", "table"),
    ("report_search_tokens", "GIN index on tokens"),
    ("report_search_word", "table"),
    ("report_search_word_trgm", "trigram GIN index"),
    ("report_version", "table"),
    ("report", "table"),
)
WRITE_VERSION = "report_write_version"  # the sequence keying the API's cached report totals
COLD_REQUESTS = 20  # per query and API, each just after the write version moved (fewer with --quick)
WRITE_VERSION_SHARE = 0.25  # of the writes, new versions of a report the same client made earlier
WRITE_EXAM_IDS = 1_000
_NEXT = {"draft": ("preliminary", "final"), "preliminary": ("final",)}
_UNAVAILABLE = ("Cannot query field", "Unknown type", "Unknown argument")


def legacy_path(options) -> Path:
    return options.work_dir / f"legacy_reports_{report_rows(options)}_{options.seed}.duckdb"


def report_rows(options) -> int:
    return options.report_rows if options.report_rows is not None else options.rows


def section(options, result: dict, server, token: str | None, log: Callable, checkpoint: Callable) -> None:
    """The whole section into ``result["reports"]``, saved after each step."""
    out: dict = {"rows": report_rows(options)}
    result["reports"] = out
    path = legacy_path(options)
    try:
        if not import_section(options, out, path, log):
            return
        checkpoint(options, result)
        queries_section(options, out, server.port, token, log, lambda: checkpoint(options, result))
        log(f"6. POST /api/v1/reports, {options.write_clients} clients for {options.write_duration:g} s")
        out["writes"] = writes(options, server.port, token)
        checkpoint(options, result)
    finally:
        path.unlink(missing_ok=True)


# The legacy file, the import and its floor ----------------------------------------------------------------


def import_section(options, out: dict, path: Path, log: Callable) -> bool:
    """The legacy file, ``import_reports`` against its floor, VACUUM ANALYZE and the sizes; whether the
    report tables hold reports to search afterwards."""
    import duckdb

    from bench import report_import_floor
    from bench.database import BenchError, manage

    rows = report_rows(options)
    log(f"6. writing a legacy reports file of about {rows:,} rows ({path.name})")
    started = time.perf_counter()
    report_import_floor.write_legacy_reports(path, rows, options.seed)
    seconds = time.perf_counter() - started
    with duckdb.connect(str(path), read_only=True) as con:
        table = report_import_floor.LEGACY_TABLE
        written = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    out["legacy_file"] = {
        "rows": written,
        "seconds": round(seconds, 2),
        "rows_per_s": round(written / seconds, 1) if seconds else None,
        "bytes": path.stat().st_size,
    }
    log("6. import_reports into the empty report tables, then the floor (binary COPY + indexes)")
    try:
        out["import"] = report_import_floor.measure(options.url, path)
    except BenchError as error:
        out["import"] = {"error": str(error)[:500]}
    stored = counts()
    if not stored["reports"]:  # a failed import: load what can be, so that the queries still run
        log("6. the import wrote nothing: import_reports --skip-invalid for the queries")
        done = manage(options.url, "import_reports", str(path), "--skip-invalid", check=False)
        out["import"]["restored"] = f"import_reports --skip-invalid exited {done.returncode}"
        stored = counts()
    out["stored"] = stored
    log(f"6. {stored['reports']:,} reports, {stored['versions']:,} versions; VACUUM ANALYZE")
    out["vacuum_analyze_seconds"] = vacuum_analyze(options.url)
    out["sizes"] = sizes()
    return stored["reports"] > 0


def counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM report), (SELECT count(*) FROM report_version)")
        reports, versions = cursor.fetchone()
    return {"reports": reports, "versions": versions}


def vacuum_analyze(url: str) -> float:
    """VACUUM ANALYZE of the report tables (docs/importing.md: the importer ANALYZEs, but only a VACUUM
    sets the visibility map that index-only and bitmap scans rely on after a bulk load)."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        for table in SEARCH_TABLES:
            connection.execute(f"VACUUM (ANALYZE) {table}")
    return round(time.perf_counter() - started, 2)


def sizes() -> list[dict]:
    from django.db import connection

    found = []
    with connection.cursor() as cursor:
        for name, kind in RELATIONS:
            cursor.execute(
                "SELECT pg_relation_size(c.oid), pg_table_size(c.oid), pg_total_relation_size(c.oid) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = %s AND n.nspname = current_schema()",
                [name],
            )
            row = cursor.fetchone()
            if row is None:
                found.append({"name": name, "kind": kind, "missing": True})
                continue
            entry = {"name": name, "kind": kind, "bytes": row[0]}
            if kind == "table":
                entry.update(table_bytes=row[1], total_bytes=row[2])
            found.append(entry)
    return found


# Searches, detail, options ---------------------------------------------------------------------------------


def capture(request: Request, token: str | None) -> tuple[int, list[str]]:
    """The status and the report-table statements of answering ``request`` in this process, caches emptied
    (``bench.floor.capture`` for the report tables: every statement on them, filter options included)."""
    from bench.floor import answer_in_process, reset_process_caches

    reset_process_caches()
    status, captured = answer_in_process(request, token)
    return status, floor_statements(captured)


def floor_statements(captured: list[str]) -> list[str]:
    """The report-table statements, each with the ``SET LOCAL`` that preceded it in its transaction (the
    search counts with sequential scans off) as a ``SET`` before it and a ``RESET`` after: the floor runs
    in autocommit, where ``SET LOCAL`` would do nothing."""
    statements: list[str] = []
    pending: list[str] = []
    for sql in captured:
        if sql.upper().startswith("SET LOCAL "):
            pending.append(sql[len("SET LOCAL ") :])
        elif REPORT_TABLE.search(sql):
            names = [setting.split("=")[0].split(" TO ")[0].strip() for setting in pending]
            statements += [*(f"SET {setting}" for setting in pending), sql, *(f"RESET {n}" for n in names)]
            pending = []
    return statements


def bump_write_version() -> bool:
    """Move the reports' write version on, as every report write does, so that no process serves a cached
    total (``server.reports.write_version``); False where the product has no such version."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [WRITE_VERSION])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(f"SELECT nextval('{WRITE_VERSION}')")
    return True


def cold(options, client: Client, request: Request) -> dict:
    """Requests each made just after the write version moved: every total counted afresh, as after any
    write. At most ``cold_requests`` of them, bounded by the budget."""
    samples, errors = [], []
    started = time.perf_counter()
    for _ in range(cold_requests(options)):
        if over_budget(started, options.budget, len(samples)):
            break
        if not bump_write_version():
            return {"n": 0, "skipped": "no report write version: totals are not cached"}
        began = time.perf_counter()
        status, body = client.send(request)
        samples.append((time.perf_counter() - began) * 1000)
        if (message := problem(request, status, body)) is not None:
            errors.append(message)
    result = summarize(samples)
    result["errors"] = len(errors)
    if errors:
        result["error"] = errors[0]
    return result


def cold_requests(options) -> int:
    return max(3, min(COLD_REQUESTS, options.requests // 10))


def graphql_missing(client: Client, request: Request) -> str | None:
    """Why the schema cannot answer ``request`` (no such field or type yet), or None when it can."""
    status, body = client.send(request)
    if status == 404:
        return "HTTP 404: no /graphql"
    with contextlib.suppress(ValueError):
        errors = json.loads(body).get("errors") or []
        messages = "; ".join(str(error.get("message")) for error in errors)
        if any(marker in messages for marker in _UNAVAILABLE):
            return "not in the schema yet: " + messages[:300]
    return None


def measure(
    options, client: Client, token: str | None, request: Request, floors: dict, cached: bool = False
) -> dict:
    """``latency`` of ``request``, then the floor of its SQL (shared between APIs doing the same work);
    ``cached``: a search, whose total the API caches until the next write: also measured ``cold``."""
    from django.db import connection

    from bench import floor
    from server.core.db import without_statement_timeout

    measured = latency(client, request, options.warmup, options.requests, options.budget)
    if measured.get("unavailable") or not measured.get("n"):
        return measured
    if cached:
        measured["cold"] = cold(options, client, request)
    bump_write_version()  # the capture must see the uncached path, whatever ran in this process before
    status, statements = capture(request, token)
    measured["floor_capture_status"] = status
    key = floor.same_work_key(statements)
    if key not in floors:
        try:
            # The SQL's own time, even past the API's STATEMENT_TIMEOUT_MS (which cuts the API's request).
            with without_statement_timeout(connection):
                floors[key] = floor.measure(
                    statements, options.warmup, options.floor_requests, options.budget
                )
        except Exception as error:  # e.g. a statement the captured request never finished
            floors[key] = {"error": f"{type(error).__name__}: {error}"[:300]}
            connection.close()
    measured["floor"] = floors[key]
    if floors[key].get("p50_ms") is not None and measured.get("p50_ms") is not None:
        measured["overhead_ms"] = round(measured["p50_ms"] - floors[key]["p50_ms"], 3)
    return measured


def queries_section(options, out: dict, port: int, token: str | None, log: Callable, save: Callable) -> None:
    from django.db import connection

    from bench import reports_mix
    from server.core.db import without_statement_timeout

    with without_statement_timeout(connection), connection.cursor() as cursor:
        samples = reports_mix.draw_samples(cursor)
        log("6. exact totals of the mix in SQL (one pass of LIKE over every document)")
        started = time.perf_counter()
        expected = reports_mix.exact_totals(cursor, reports_mix.build_mix(samples))
        out["exact_totals_seconds"] = round(time.perf_counter() - started, 1)
    out["samples"] = {key: str(value) for key, value in samples.__dict__.items()}
    client = Client(port, token)
    mix = reports_mix.build_mix(samples, expected)
    missing = graphql_missing(client, next(q for q in mix if q.key == "exam_id").graphql)  # a fast one
    out["graphql"] = {"reports_field": "unavailable: " + missing if missing else "available"}
    queries: list[dict] = []
    out["queries"] = queries
    for query in mix:
        log(f"6. {query.label}")
        entry: dict = {"key": query.key, "label": query.label, "expected_total": expected[query.key]}
        entry["share"] = round(expected[query.key] / samples.reports, 4) if samples.reports else None
        floors: dict = {}
        entry["rest"] = measure(options, client, token, query.rest, floors, cached=True)
        if missing:
            entry["graphql"] = {"n": 0, "unavailable": True, "error": missing}
        else:
            entry["graphql"] = measure(options, client, token, query.graphql, floors, cached=True)
        queries.append(entry)
        rest, gql = entry["rest"], entry["graphql"]
        log(
            f"   p95 ms: REST {rest.get('p95_ms')} (cold {(rest.get('cold') or {}).get('p95_ms')}), "
            f"GraphQL {gql.get('p95_ms')} (cold {(gql.get('cold') or {}).get('p95_ms')})"
        )
        save()
    rest, gql = reports_mix.detail_requests(samples)
    log(f"6. detail of {samples.detail_id}")
    out["detail"] = {"report_id": samples.detail_id}
    for api, request in (("rest", rest), ("graphql", gql)):
        out["detail"][api] = measure(options, client, token, request, {})
    log("6. filter options")
    out["options"] = {
        "rest": latency(client, reports_mix.options_request(), options.warmup, options.requests)
    }
    client.close()
    save()


# Writes -----------------------------------------------------------------------------------------------------


def write_material(seed: int) -> tuple[list[str], list[str]]:
    """Existing exam_ids to write reports for, and about 1 KB report texts (the demo reports, padded)."""
    from django.db import connection

    from bench.report_import_floor import _padded
    from server.reports.demo_data import generate_reports

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM medical_examinations_fact")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT exam_id, equipment_type, exam_description, order_datetime FROM medical_examinations_fact "
            "ORDER BY exam_id OFFSET %s LIMIT %s",
            [max(total // 3 - WRITE_EXAM_IDS // 2, 0), WRITE_EXAM_IDS],
        )
        studies = cursor.fetchall()
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    texts = [
        _padded(rng, r.versions[-1].content) for r in itertools.islice(generate_reports(studies, seed), 64)
    ]
    return [study[0] for study in studies], texts or ["No acute abnormality. " * 50]


def writes(options, port: int, token: str | None) -> dict:
    """``write_clients`` threads posting reports for ``write_duration`` seconds: mostly new reports, some new
    versions (draft → preliminary → final) of reports the same thread wrote; any non-2xx is an error."""
    exam_ids, texts = write_material(options.seed)
    clients, seconds = options.write_clients, options.write_duration
    deadline_box: list[float] = []
    start = threading.Barrier(clients + 1, action=lambda: deadline_box.append(time.perf_counter() + seconds))
    tallies = [{"created": 0, "versions": 0, "errors": 0, "warmup": 0} for _ in range(clients)]
    samples: list[list[float]] = [[] for _ in range(clients)]
    first_error: list[str] = []
    headers = {"Content-Type": "application/json"}

    def body_of(rng: random.Random, mine: list[list], serial: int) -> tuple[bytes, list | None]:
        if mine and rng.random() < WRITE_VERSION_SHARE:
            report = mine[rng.randrange(len(mine))]
            status = rng.choice(_NEXT[report[1]])
            content = report[2] + f"\nAddendum {serial}: revised."
            fields = {"report_id": report[0], "exam_id": report[3], "content": content, "status": status}
            return json.dumps(fields, ensure_ascii=False).encode(), [*report[:1], status, content, report[3]]
        exam_id = exam_ids[rng.randrange(len(exam_ids))]
        content = texts[rng.randrange(len(texts))] + f"\nBench note {serial}."
        status = rng.choices(("draft", "preliminary", "final"), weights=(5, 3, 2))[0]
        fields = {"exam_id": exam_id, "content": content, "status": status}
        return json.dumps(fields, ensure_ascii=False).encode(), [None, status, content, exam_id]

    def run(index: int) -> None:
        rng = random.Random(options.seed * 1000 + index)  # noqa: S311
        client = Client(port, token)
        mine: list[list] = []  # [report_id, status, content, exam_id] of this thread's unsigned reports
        tally = tallies[index]
        serial = 0

        def send(measured: bool) -> None:
            nonlocal serial
            serial += 1
            body, report = body_of(rng, mine, serial)
            started = time.perf_counter()
            try:
                status, answer = client.send(Request("POST", "/api/v1/reports", body, headers))
            except OSError as error:
                status, answer = 0, f"{type(error).__name__}: {error}".encode()
                client.close()
            if measured:
                samples[index].append((time.perf_counter() - started) * 1000)
            if not 200 <= status < 300:
                tally["errors"] += measured
                if not first_error:
                    first_error.append(f"HTTP {status}: {answer[:200].decode('utf-8', 'replace')}")
                return
            new = report[0] is None
            report[0] = report[0] or json.loads(answer)["report_id"]
            tally["warmup"] += not measured
            if new:
                tally["created"] += measured
            else:
                tally["versions"] += measured
                mine[:] = [r for r in mine if r[0] != report[0]]
            if report[1] in _NEXT:
                mine.append(report)

        send(measured=False)  # connect and warm outside the measured window
        start.wait()
        while time.perf_counter() < deadline_box[0]:
            send(measured=True)
        client.close()

    before = counts()
    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    started, cpu_started = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    after = counts()
    created = sum(t["created"] for t in tallies)
    versions = sum(t["versions"] for t in tallies)
    latencies = summarize([sample for chunk in samples for sample in chunk])
    result = {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "writes": created + versions,
        "new_reports": created,
        "new_versions": versions,
        "errors": sum(t["errors"] for t in tallies),
        "writes_per_s": round((created + versions) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": latencies.get("p50_ms"),
        "p95_ms": latencies.get("p95_ms"),
        "client_cpu_percent": round(cpu * 100 / elapsed, 1) if elapsed else 0.0,  # of one core
        "warmup_writes": sum(t["warmup"] for t in tallies),  # one new report per client, not counted
        "stored_reports_added": after["reports"] - before["reports"],
        "stored_versions_added": after["versions"] - before["versions"],
    }
    if first_error:
        result["error"] = first_error[0]
    return result
