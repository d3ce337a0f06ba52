"""``python -m bench [--rows N] [--skip-import] [--quick] [--reports-only | --skip-reports]``: run the
benchmark, print its table, save JSON."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from bench import database, report
from bench.run import VAR_DIR, Options, log, run

QUICK_ROWS = 50_000
WRITE_SECONDS, QUICK_WRITE_SECONDS = 20.0, 10.0


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rows", type=int, help="studies to generate (default 1,000,000; --quick: 50,000)")
    parser.add_argument("--quick", action="store_true", help="a short run: fewer rows, requests and seconds")
    parser.add_argument(
        "--skip-import", action="store_true", help="skip the legacy file and the import section"
    )
    reports = parser.add_mutually_exclusive_group()
    reports.add_argument(
        "--reports-only",
        action="store_true",
        help="generate the studies, then only the reports section (6): skip sections 2 to 5",
    )
    reports.add_argument("--skip-reports", action="store_true", help="skip the reports section (6)")
    parser.add_argument(
        "--report-rows", type=int, help="legacy report rows to import (default: as many as --rows)"
    )
    parser.add_argument(
        "--write-duration", type=float, help="seconds of the report writes (default 20; --quick: 10)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--requests", type=int, help="measured requests per query and API (default 200)")
    parser.add_argument("--warmup", type=int, help="unmeasured requests first (default 20)")
    parser.add_argument("--duration", type=float, help="seconds of each throughput run (default 10)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients of the throughput runs")
    parser.add_argument("--floor-requests", type=int, help="repetitions of each floor (default 50)")
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds one series may take before stopping short of --requests (0: no bound; default 60)",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the benchmark database in place")
    parser.add_argument("--output", type=Path, default=VAR_DIR / "latest.json", help="where the JSON goes")
    args = parser.parse_args(argv)
    quick = args.quick
    rows = args.rows if args.rows is not None else QUICK_ROWS if quick else 1_000_000
    if rows < 1:
        parser.error("--rows must be at least 1")
    if args.report_rows is not None and args.report_rows < 1:
        parser.error("--report-rows must be at least 1")
    return Options(
        rows=rows,
        seed=args.seed,
        quick=quick,
        skip_import=args.skip_import,
        warmup=args.warmup if args.warmup is not None else 5 if quick else 20,
        requests=args.requests if args.requests is not None else 50 if quick else 200,
        duration=args.duration if args.duration is not None else 3.0 if quick else 10.0,
        clients=args.clients,
        floor_requests=args.floor_requests if args.floor_requests is not None else 20 if quick else 50,
        budget=args.budget or None,
        keep_db=args.keep_db,
        reports=not args.skip_reports,
        reports_only=args.reports_only,
        report_rows=args.report_rows,
        write_duration=args.write_duration or (QUICK_WRITE_SECONDS if quick else WRITE_SECONDS),
        url=database.bench_url(),
        output=args.output,
        work_dir=args.output.parent,
    )


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Stopped by a signal (even as a background job, where SIGINT is ignored), the run still stops its
    # gunicorn and drops its database on the way out.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        options = parse(argv)
        result = run(options, argv)
    except database.BenchError as error:
        log(f"error: {error}")
        return 1
    except KeyboardInterrupt as error:
        log(f"stopped ({error or 'interrupted'}); gunicorn stopped and the benchmark database dropped")
        return 130
    report.write_json(result, options.output)
    print(report.render(result), end="")
    log(f"wrote {options.output}")
    return 0
