"""The benchmark's one table (plain text, aligned) and its targets (docs/performance.md), PASS or FAIL."""

from __future__ import annotations

import json
from pathlib import Path

SECTIONS = ("1. Data", "2. Import", "3. Queries", "4. Throughput", "5. Export", "6. Reports")

# The performance targets at 1,000,000 studies on a 2-core machine (docs/performance.md).
LANDING_P50_MS = 10.0
OTHER_P95_MS = 100.0
OPTIONS_P50_MS = 2.0
OVERHEAD_MS = 5.0
IMPORT_RATIO = 1.5
INCREMENT_SECONDS = 5.0
EXPORT_ROWS_PER_S = 50_000
EXPORT_RSS_MB = 100.0
# The reports' targets (issue 16, "Speed"): at 1,000,000 reports beside 1,000,000 studies.
REPORT_P95_MS = 100.0
REPORT_DETAIL_OVERHEAD_MS = 5.0
REPORT_WRITES_PER_S = 300.0


def verdict(passed: bool | None) -> str:
    return "—" if passed is None else "PASS" if passed else "FAIL"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _int(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(cell).rjust(widths[i]) if i in right else str(cell).ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    return [line(header), "  ".join("-" * width for width in widths), *(line(row) for row in rows)]


def add_target(
    report: dict, section: str, name: str, value: float | None, limit: float, op: str
) -> bool | None:
    """Record one target; ``op`` is "<=", "<" or ">=". A missing figure is a failure, never a pass."""
    if value is None:
        passed = False
    elif op == "<=":
        passed = value <= limit
    elif op == "<":
        passed = value < limit
    else:
        passed = value >= limit
    report.setdefault("targets", []).append(
        {"section": section, "name": name, "value": value, "limit": limit, "op": op, "passed": passed}
    )
    return passed


def evaluate(report: dict) -> None:
    """Mark every target that this run measured."""
    report["targets"] = []
    imp = report.get("import") or {}
    if imp.get("ratio") is not None:
        imp["ratio_passed"] = add_target(report, "import", "import / floor", imp["ratio"], IMPORT_RATIO, "<=")
    if imp.get("increment"):
        seconds = imp["increment"].get("seconds")
        imp["increment"]["passed"] = add_target(
            report, "import", "new rows into the full table (s)", seconds, INCREMENT_SECONDS, "<"
        )
    for query in report.get("queries", []):
        for api in ("rest", "graphql"):
            result = query.get(api)
            if not result:
                continue
            stat, limit = query["target_stat"], query["target_ms"]
            result["passed"] = add_target(
                report, "queries", f"{query['label']} {api} {stat[:3]}", result.get(stat), limit, "<="
            )
            if stat != "p95_ms":  # every query of the mix: p95 <= 100 ms too
                result["p95_passed"] = add_target(
                    report, "queries", f"{query['label']} {api} p95", result.get("p95_ms"), OTHER_P95_MS, "<="
                )
            if query["page"] and result.get("overhead_ms") is not None:
                result["overhead_passed"] = add_target(
                    report,
                    "queries",
                    f"{query['label']} {api} overhead",
                    result["overhead_ms"],
                    OVERHEAD_MS,
                    "<=",
                )
    for run in report.get("throughput", []):
        run["passed"] = add_target(report, "throughput", f"{run['label']} errors", run.get("errors"), 0, "<=")
    export = report.get("export")
    if export and not export.get("skipped"):
        export["rate_passed"] = add_target(
            report, "export", "CSV rows/s", export.get("rows_per_s"), EXPORT_ROWS_PER_S, ">="
        )
        export["rss_passed"] = add_target(
            report, "export", "worker RSS growth (MB)", export.get("rss_growth_mb"), EXPORT_RSS_MB, "<"
        )
    _evaluate_reports(report)
    passed = sum(1 for target in report["targets"] if target["passed"])
    report["summary"] = {"targets": len(report["targets"]), "passed": passed}


def _evaluate_reports(report: dict) -> None:
    section = report.get("reports")
    if not section:
        return
    imp = section.get("import") or {}
    if "ratio" in imp or "error" in imp:
        imp["ratio_passed"] = add_target(
            report, "reports", "import_reports / floor", imp.get("ratio"), IMPORT_RATIO, "<="
        )
    for query in section.get("queries", []):
        for api in ("rest", "graphql"):
            result = query.get(api)
            if not result:
                continue
            name = f"reports {query['label']} {api}"
            result["passed"] = add_target(
                report, "reports", f"{name} p95", result.get("p95_ms"), REPORT_P95_MS, "<="
            )
            cold = result.get("cold") or {}
            if cold.get("n") or result.get("unavailable"):
                result["cold_passed"] = add_target(
                    report, "reports", f"{name} cold p95", cold.get("p95_ms"), REPORT_P95_MS, "<="
                )
            # Wrong totals are counted among the errors (the answers' checks); a missing series fails.
            errors = None if result.get("unavailable") or not result.get("n") else result.get("errors")
            if errors is not None:
                errors += cold.get("errors", 0)
            result["errors_passed"] = add_target(report, "reports", f"{name} errors/totals", errors, 0, "<=")
    detail = section.get("detail") or {}
    for api in ("rest", "graphql"):
        result = detail.get(api)
        if result:
            result["passed"] = add_target(
                report,
                "reports",
                f"reports detail {api} overhead",
                None if result.get("errors") else result.get("overhead_ms"),
                REPORT_DETAIL_OVERHEAD_MS,
                "<=",
            )
    writes = section.get("writes")
    if writes:
        writes["rate_passed"] = add_target(
            report, "reports", "POST /reports writes/s", writes.get("writes_per_s"), REPORT_WRITES_PER_S, ">="
        )
        writes["errors_passed"] = add_target(
            report, "reports", "POST /reports errors", writes.get("errors"), 0, "<="
        )


def render(report: dict) -> str:
    meta = report["meta"]
    out = [
        f"Radiology studies benchmark: {report['rows']:,} studies ({meta['mode']} run)",
        f"  {meta['command']}",
        f"  {meta['date']}; {meta['machine']}",
        f"  load average {meta['load_before']} before, {meta['load_after']} after",
        "",
    ]
    out += _data_section(report)
    out += _import_section(report)
    out += _query_section(report)
    out += _throughput_section(report)
    out += _export_section(report)
    out += _reports_section(report)
    summary = report.get("summary", {})
    failed = [t["name"] for t in report.get("targets", []) if not t["passed"]]
    out.append(
        f"Targets: {summary.get('passed', 0)} of {summary.get('targets', 0)} PASS"
        + (f"; FAIL: {', '.join(failed)}" if failed else "")
    )
    return "\n".join(out) + "\n"


def _data_section(report: dict) -> list[str]:
    data = report.get("data", {})
    rows = []
    for key, label in (
        ("generate", "generate_demo_data (COPY, indexes rebuilt)"),
        ("legacy_file", "legacy all-VARCHAR DuckDB file"),
    ):
        item = data.get(key)
        if not item:
            continue
        if item.get("skipped"):
            rows.append([label, "—", "—", "—", "skipped (" + item["skipped"] + ")"])
            continue
        size = f"{item['bytes'] / 2**20:,.0f} MB" if item.get("bytes") else ""
        rows.append([label, _int(item["rows"]), f"{item['seconds']:.1f}", _int(item["rows_per_s"]), size])
    lines = ["1. Data"]
    lines += ["  " + line for line in _table(["step", "rows", "s", "rows/s", ""], rows, {1, 2, 3})]
    return [*lines, ""]


def _import_section(report: dict) -> list[str]:
    imp = report.get("import")
    lines = ["2. Import"]
    if not imp or imp.get("skipped"):
        reason = (imp or {}).get("skipped", "not run")
        return [*lines, f"  skipped: {reason}", ""]
    rows = []
    for key, label in (
        ("importer", "import_studies, legacy DuckDB -> empty table"),
        ("floor", "floor: binary COPY into bare table + its indexes"),
    ):
        item = imp.get(key)
        if not item:
            rows.append([label, "—", "—", "—", "—", item_error(imp, key)])
            continue
        rows.append(
            [
                label,
                _int(item.get("rows")),
                f"{item['seconds']:.1f}",
                _int(item.get("rows_per_s")),
                _int(item.get("peak_rss_mb")),
                "",
            ]
        )
    if imp.get("ratio") is not None:
        rows.append(
            [
                "ratio import / floor",
                "",
                f"{imp['ratio']:.2f}x",
                "",
                "",
                f"<= {IMPORT_RATIO}x {verdict(imp.get('ratio_passed'))}",
            ]
        )
    if imp.get("restored"):
        rows.append(["(then " + imp["restored"] + ")", "", "", "", "", ""])
    inc = imp.get("increment")
    if inc:
        if inc.get("seconds") is None:
            error = (inc.get("error") or "").strip().splitlines() or [""]
            rows.append(["new rows into the full table", "—", "—", "—", "—", error[-1][:100]])
        else:
            rows.append(
                [
                    "new rows into the full table",
                    _int(inc["rows"]),
                    f"{inc['seconds']:.1f}",
                    _int(inc["rows_per_s"]),
                    _int(inc.get("peak_rss_mb")),
                    f"< {INCREMENT_SECONDS:.0f} s {verdict(inc.get('passed'))}",
                ]
            )
    header = ["step", "rows", "s", "rows/s", "peak RSS MB", "target"]
    lines += ["  " + line for line in _table(header, rows, {1, 2, 3, 4})]
    return [*lines, ""]


def item_error(section: dict, key: str) -> str:
    return str(section.get(f"{key}_error") or section.get("error") or "not measured")[:100]


def _query_section(report: dict) -> list[str]:
    meta = report["meta"]
    lines = [
        f"3. Queries on {meta.get('rows_queried', report['rows']):,} studies (ms; gunicorn, 2 workers; "
        f"{meta['requests']} sequential requests per API after {meta['warmup']} warm-up; "
        f"floor = the API's SQL on the studies table (page + exact count) run by psycopg, "
        f"{meta.get('floor_requests', meta['requests'])} times)"
    ]
    header = [
        "query",
        "n",
        "REST p50",
        "p95",
        "p99",
        "GQL p50",
        "p95",
        "p99",
        "floor p50",
        "p95",
        "ovh REST",
        "ovh GQL",
        "target",
        "result",
    ]
    rows = []
    if "queries" not in report:
        return [lines[0].split(" on ")[0], "  not run", ""]
    for query in report.get("queries", []):
        rest, gql = query.get("rest") or {}, query.get("graphql") or {}
        floor = query.get("floor") or {}
        stat = "p50" if query["target_stat"] == "p50_ms" else "p95"
        target = f"{stat}<={query['target_ms']:g}"
        if query["page"]:
            target += f", ovh<={OVERHEAD_MS:g}"
        results = []
        for name, result in (("REST", rest), ("GQL", gql)):
            if not result:
                continue
            checks = [result.get(k) for k in ("passed", "p95_passed", "overhead_passed") if k in result]
            if result.get("unavailable"):
                results.append(f"{name} n/a")
            else:
                ok = all(checks) and not result.get("errors")
                results.append(
                    f"{name} {verdict(ok)}" + (f" ({result['errors']} err)" if result.get("errors") else "")
                )
        counts = [item["n"] for item in (rest, gql) if item.get("n")]
        floor_counts = [item["n"] for item in (query.get("floors") or {}).values() if item.get("n")]
        n = min(counts, default=0)
        short = n < meta["requests"] or min(floor_counts, default=0) < meta.get("floor_requests", 0)
        rows.append(
            [
                query["label"],
                f"{n}*" if short else str(n),
                _ms(rest.get("p50_ms")),
                _ms(rest.get("p95_ms")),
                _ms(rest.get("p99_ms")),
                _ms(gql.get("p50_ms")),
                _ms(gql.get("p95_ms")),
                _ms(gql.get("p99_ms")),
                _ms(floor.get("p50_ms")),
                _ms(floor.get("p95_ms")),
                _ms(rest.get("overhead_ms")) if query["page"] else "",
                _ms(gql.get("overhead_ms")) if query["page"] else "",
                target,
                ", ".join(results),
            ]
        )
    lines += ["  " + line for line in _table(header, rows, set(range(1, 12)))]
    lines += [
        "  n: measured requests per API (the fewer of the two); * = a series stopped short by --budget.",
        "  ovh: API p50 minus the floor p50 of that API's own SQL (the floor column shows REST's SQL;",
        "  GraphQL's is in the JSON). Filter options' floor: computing them uncached (the API caches them).",
    ]
    client = report.get("client", {})
    if client:
        lines.append(
            f"  the client's own CPU per request: {client.get('cpu_ms_per_request', '—')} ms"
            " (median over the mix)"
        )
    return [*lines, ""]


def _throughput_section(report: dict) -> list[str]:
    runs = report.get("throughput", [])
    lines = ["4. Throughput"]
    if not runs:
        return [*lines, "  not run", ""]
    rows = [
        [
            run["label"],
            str(run["clients"]),
            f"{run['seconds']:.1f}",
            _int(run["requests"]),
            f"{run['rps']:.0f}",
            _ms(run.get("p50_ms")),
            _ms(run.get("p95_ms")),
            str(run["errors"]),
            f"{run['client_cpu_percent']:.0f}%",
            "errors = 0 " + verdict(run.get("passed")),
        ]
        for run in runs
    ]
    header = [
        "request",
        "clients",
        "s",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "errors",
        "client CPU",
        "target",
    ]
    lines += ["  " + line for line in _table(header, rows, set(range(1, 9)))]
    return [*lines, ""]


def _export_section(report: dict) -> list[str]:
    export = report.get("export")
    lines = ["5. Export"]
    if not export or export.get("skipped"):
        return [*lines, "  skipped: " + str((export or {}).get("skipped", "not run")), ""]
    if export.get("error"):
        return [*lines, "  failed: " + export["error"], ""]
    rows = [
        [
            "CSV of all rows",
            _int(export["rows"]),
            f"{export['seconds']:.1f}",
            _int(export["rows_per_s"]),
            f">= {EXPORT_ROWS_PER_S:,} {verdict(export.get('rate_passed'))}",
        ],
        [
            "worker RSS growth (MB)",
            "",
            "",
            f"{export['rss_growth_mb']:.1f}",
            f"< {EXPORT_RSS_MB:g} MB {verdict(export.get('rss_passed'))}"
            f" (peak {export['peak_rss_mb']:.0f} MB)",
        ],
    ]
    lines += ["  " + line for line in _table(["step", "rows", "s", "rows/s", "target"], rows, {1, 2, 3})]
    return [*lines, ""]


def _mb(value: int | None) -> str:
    return "—" if value is None else f"{value / 2**20:,.1f}"


def _reports_section(report: dict) -> list[str]:
    section = report.get("reports")
    if not section:
        return ["6. Reports", "  not run", ""]
    stored = section.get("stored") or {}
    lines = [
        f"6. Reports: {stored.get('reports', 0):,} reports, {stored.get('versions', 0):,} versions "
        f"(a legacy file of {section['rows']:,} rows), beside {report['rows']:,} studies"
    ]
    rows = []
    legacy = section.get("legacy_file")
    if legacy:
        size = f"{legacy['bytes'] / 2**20:,.0f} MB file"
        rows.append(["legacy DuckDB file", _int(legacy["rows"]), f"{legacy['seconds']:.1f}", "", size])
    imp = section.get("import") or {}
    if imp.get("error"):
        rows.append(["import_reports -> empty report tables", "—", "—", "—", imp["error"][:100]])
    elif imp:
        floor = imp.get("floor") or {}
        rows.append(
            [
                "import_reports -> empty report tables",
                _int(floor.get("versions")),
                f"{imp['import_seconds']:.1f}",
                _int(imp.get("import_peak_rss_mb")),
                "",
            ]
        )
        rows.append(
            [
                f"floor: binary COPY FREEZE + {floor.get('indexes', '?')} indexes",
                _int(floor.get("versions")),
                f"{imp['floor_seconds']:.1f}",
                "",
                f"COPY {floor.get('copy_seconds', 0):.1f} s + indexes {floor.get('index_seconds', 0):.1f} s",
            ]
        )
    if imp.get("ratio") is not None or imp.get("error"):
        ratio = f"{imp['ratio']:.2f}x" if imp.get("ratio") is not None else "—"
        rows.append(
            ["ratio import / floor", "", ratio, "", f"<= {IMPORT_RATIO}x {verdict(imp.get('ratio_passed'))}"]
        )
    if imp.get("restored"):
        rows.append(["(then " + imp["restored"] + ")", "", "", "", ""])
    if section.get("vacuum_analyze_seconds") is not None:
        rows.append(
            ["VACUUM ANALYZE of the report tables", "", f"{section['vacuum_analyze_seconds']:.1f}", "", ""]
        )
    lines += ["  " + line for line in _table(["step", "rows", "s", "peak RSS MB", ""], rows, {1, 2, 3})]
    sizes = section.get("sizes") or []
    if sizes:
        size_rows = [
            [
                item["name"],
                item["kind"],
                _mb(item.get("bytes")),
                _mb(item.get("table_bytes")) if "table_bytes" in item else "",
                _mb(item.get("total_bytes")) if "total_bytes" in item else "",
            ]
            for item in sizes
        ]
        lines += [""] + [
            "  " + line
            for line in _table(["relation", "", "MB", "+ TOAST MB", "+ indexes MB"], size_rows, {2, 3, 4})
        ]
        tokens = next((item for item in sizes if item["name"] == "report_search_tokens"), {})
        lines += [
            "  1-2 character terms: trigrams cannot serve them, so each report's document is cut into tokens",
            "  (every character, every adjacent pair, every ASCII word of 3+), an array under one GIN index",
            f"  (report_search_tokens, {_mb(tokens.get('bytes'))} MB); longer ASCII words go through the"
            " trigram-indexed vocabulary.",
        ]
    queries = section.get("queries") or []
    if queries:
        meta = report["meta"]
        lines += [
            "",
            f"  search mix (ms; {meta['requests']} sequential requests per API after {meta['warmup']}"
            " warm-up; floor = the request's SQL on the report tables run by psycopg)",
            f"  GraphQL reports field: {(section.get('graphql') or {}).get('reports_field', '?')[:100]}",
        ]
        header = ["query", "share", "total", "n", "REST p50", "p95", "cold p95", "GQL p50", "p95", "cold p95",
                  "floor p50", "ovh REST", "target", "result"]  # fmt: skip
        query_rows = []
        for query in queries:
            rest, gql = query.get("rest") or {}, query.get("graphql") or {}
            floor = rest.get("floor") or gql.get("floor") or {}
            results = []
            for name, result in (("REST", rest), ("GQL", gql)):
                if result.get("unavailable"):
                    results.append(f"{name} n/a")
                    continue
                ok = all(
                    bool(result.get(k)) for k in ("passed", "errors_passed", "cold_passed") if k in result
                )
                results.append(
                    f"{name} {verdict(ok)}" + (f" ({result['errors']} err)" if result.get("errors") else "")
                )
            counts = [item["n"] for item in (rest, gql) if item.get("n")]
            n = min(counts, default=0)
            share = query.get("share")
            query_rows.append(
                [
                    query["label"],
                    "—" if share is None else f"{share:.1%}",
                    _int(query.get("expected_total")),
                    f"{n}*" if n < meta["requests"] else str(n),
                    _ms(rest.get("p50_ms")),
                    _ms(rest.get("p95_ms")),
                    _ms((rest.get("cold") or {}).get("p95_ms")),
                    _ms(gql.get("p50_ms")),
                    _ms(gql.get("p95_ms")),
                    _ms((gql.get("cold") or {}).get("p95_ms")),
                    _ms(floor.get("p50_ms")),
                    _ms(rest.get("overhead_ms")),
                    f"p95<={REPORT_P95_MS:g}, exact",
                    ", ".join(results),
                ]
            )
        detail = section.get("detail") or {}
        for api, name in (("rest", "REST"), ("graphql", "GQL")):
            result = detail.get(api)
            if not result:
                continue
            floor = result.get("floor") or {}
            cells = [_ms(result.get("p50_ms")), _ms(result.get("p95_ms"))]
            query_rows.append(
                [
                    f"detail ({name})",
                    "",
                    "",
                    str(result.get("n", 0)),
                    *(cells if api == "rest" else ["", ""]),
                    "",
                    *(cells if api == "graphql" else ["", ""]),
                    "",
                    _ms(floor.get("p50_ms")),
                    _ms(result.get("overhead_ms")),
                    f"ovh<={REPORT_DETAIL_OVERHEAD_MS:g}",
                    verdict(result.get("passed"))
                    + (f" ({result['errors']} err)" if result.get("errors") else ""),
                ]
            )
        options = (section.get("options") or {}).get("rest")
        if options:
            query_rows.append(
                ["filter options (REST)", "", "", str(options.get("n", 0)), _ms(options.get("p50_ms")),
                 _ms(options.get("p95_ms")), "", "", "", "", "", "", "(no target)",
                 f"{options['errors']} err" if options.get("errors") else ""]
            )  # fmt: skip
        lines += ["  " + line for line in _table(header, query_rows, set(range(1, 12)))]
        lines += [
            "  p50/p95: repeated requests, the total then cached by the API until the next report write;",
            "  cold: each request just after the write version moved (as a write moves it): counted afresh.",
            "  total: the exact count in SQL (LIKE over every document; the filters on current versions);",
            "  share: of all reports; an answer whose total disagrees is an error. ovh: API p50 minus the",
            "  floor p50 (REST's SQL includes the filter options every search answers; GraphQL's floors are",
            "  in the JSON).",
        ]
    writes = section.get("writes")
    if writes:
        lines += [
            "",
            f"  POST /api/v1/reports, {writes['clients']} clients for {writes['seconds']:.1f} s: "
            f"{writes['writes']:,} writes ({writes['new_reports']:,} new reports, "
            f"{writes['new_versions']:,} new versions), {writes['writes_per_s']:.0f} writes/s "
            f"(>= {REPORT_WRITES_PER_S:g} {verdict(writes.get('rate_passed'))}), "
            f"p50 {_ms(writes.get('p50_ms'))} ms, p95 {_ms(writes.get('p95_ms'))} ms, "
            f"{writes['errors']} errors (= 0 {verdict(writes.get('errors_passed'))}); "
            f"the client's own CPU {writes.get('client_cpu_percent', 0):.0f}% of a core",
        ]
        if writes.get("error"):
            lines.append("  first error: " + writes["error"][:150])
    return [*lines, ""]


def write_json(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
