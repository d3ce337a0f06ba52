"""Load test: concurrent clients on the benchmark's query mix against a production-style server.

    python -m bench.load --database-url postgresql://postgres@127.0.0.1:5432/DB --clients 32 --seconds 60

Starts gunicorn (bench.server: production settings, DEBUG off, 2 workers, loopback only) on an existing,
migrated database that already holds studies (``manage.py generate_demo_data --rows 100000``; its name must
contain "bench", as bench.database requires of every database it works on), creates an
admin user and token in it, then runs ``--clients`` threads for ``--seconds``; each client sends the mix's
REST and GraphQL requests in turn (each client starting at a different place) on a kept-alive connection.
It reports latency percentiles, the error count (any answer but a good 200) and each worker's RSS after the
warm-up and at the end. It exits 1 on any error, or if a worker grew by more than ``--max-rss-growth-mb``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench.client import Client, Request, problem
from bench.database import ROOT, setup_django
from bench.server import Server, proc_status

DEFAULT_RSS_GROWTH_MB = 64  # the bound stated in docs/operations.md: per worker, warm-up to end


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def requests_of_the_mix() -> list[tuple[str, Request]]:
    from django.db import connection

    from bench.mix import build_mix, draw_samples

    with connection.cursor() as cursor:
        samples = draw_samples(cursor)
    requests = []
    for query in build_mix(samples):
        if query.rest is not None:
            requests.append((f"rest {query.key}", query.rest))
        if query.graphql is not None:
            requests.append((f"graphql {query.key}", query.graphql))
    return requests


def admin_token() -> str:
    import secrets

    from server.access.services import create_user
    from server.access.tokens import issue_token

    user = create_user(f"load-{secrets.token_hex(4)}", "admin", secrets.token_urlsafe(24))
    return issue_token(user).raw


def rss_mb(pids: list[int]) -> dict[int, float]:
    return {pid: round(proc_status(pid).get("VmRSS", 0) / 2**20, 1) for pid in pids}


def run(url: str, clients: int, seconds: float, warmup_seconds: float, max_growth_mb: float) -> dict:
    setup_django(url)
    requests = requests_of_the_mix()
    token = admin_token()
    log_path = ROOT / "var" / "load" / "server.log"
    with Server(url=url, log_path=log_path) as server:
        workers = server.worker_pids()
        # Warm-up: every request of the mix once per worker, so each worker's caches and imports are in place
        # before the starting RSS is read.
        warm = Client(server.port, token)
        until = time.monotonic() + warmup_seconds
        while time.monotonic() < until:
            for _, request in requests:
                warm.send(request)
        warm.close()
        rss_start = rss_mb(workers)

        latencies: list[list[float]] = [[] for _ in range(clients)]
        errors: Counter[str] = Counter()
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds
        rss_peak = dict(rss_start)

        def client_loop(index: int) -> None:
            client = Client(server.port, token, timeout=30)
            position = index * 7
            try:
                while time.monotonic() < stop_at:
                    label, request = requests[position % len(requests)]
                    position += 1
                    started = time.perf_counter()
                    try:
                        status, body = client.send(request)
                    except OSError as error:
                        with lock:
                            errors[f"{label}: {type(error).__name__}"] += 1
                        client.close()
                        client = Client(server.port, token, timeout=30)
                        continue
                    latencies[index].append((time.perf_counter() - started) * 1000)
                    message = problem(request, status, body)
                    if message is not None:
                        with lock:
                            errors[f"{label}: {message[:120]}"] += 1
            finally:
                client.close()

        threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for pid, value in rss_mb(workers).items():
                rss_peak[pid] = max(rss_peak.get(pid, 0), value)
            time.sleep(1)
        elapsed = time.monotonic() - started
        rss_end = rss_mb(workers)
        alive = server.worker_pids()

    samples = [value for per_client in latencies for value in per_client]
    growth = {pid: round(rss_end.get(pid, 0) - rss_start.get(pid, 0), 1) for pid in workers}
    result = {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(samples),
        "requests_per_second": round(len(samples) / elapsed, 1) if elapsed else 0,
        "distinct_requests_in_mix": len(requests),
        "latency_ms": {
            "p50": round(percentile(samples, 0.50), 1),
            "p90": round(percentile(samples, 0.90), 1),
            "p95": round(percentile(samples, 0.95), 1),
            "p99": round(percentile(samples, 0.99), 1),
            "max": round(max(samples, default=0), 1),
        },
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(10)),
        "workers": len(workers),
        "workers_replaced": sorted(set(workers) - set(alive)),
        "worker_rss_mb_start": rss_start,
        "worker_rss_mb_end": rss_end,
        "worker_rss_mb_peak": rss_peak,
        "worker_rss_growth_mb": growth,
        "max_rss_growth_mb": max_growth_mb,
    }
    result["ok"] = (
        result["errors"] == 0
        and not result["workers_replaced"]
        and all(value <= max_growth_mb for value in growth.values())
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LOAD_DATABASE_URL") or os.environ.get("DATABASE_URL"),
        help="a migrated PostgreSQL database with studies (default: LOAD_DATABASE_URL, then DATABASE_URL)",
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup-seconds", type=float, default=10)
    parser.add_argument("--max-rss-growth-mb", type=float, default=DEFAULT_RSS_GROWTH_MB)
    parser.add_argument("--output", type=Path, default=ROOT / "var" / "load" / "latest.json")
    options = parser.parse_args(argv)
    if not options.database_url or not options.database_url.startswith("postgres"):
        parser.error("--database-url (or LOAD_DATABASE_URL) must name a PostgreSQL database")
    host = options.database_url.split("@")[-1].split("/")[0].split(":")[0]
    if host not in {"127.0.0.1", "localhost", "::1", "[::1]", ""}:
        parser.error("the load test runs against a loopback database only")
    result = run(
        options.database_url,
        options.clients,
        options.seconds,
        options.warmup_seconds,
        options.max_rss_growth_mb,
    )
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print("OK" if result["ok"] else "FAILED: errors, replaced workers or RSS growth beyond the bound")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
