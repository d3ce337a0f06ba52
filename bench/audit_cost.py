"""What the audit trail adds to a search: ``python -m bench.audit_cost [--requests N]``.

Runs the same authenticated REST search in-process (Django's test client, no network) with the audit event
written, and with ``record_event`` replaced by a no-op, against a throwaway database on the server named by
``BENCH_DATABASE_URL`` (default: the local PostgreSQL), and prints both medians and their difference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

BENCH_DB = "studies_audit_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + BENCH_DB
    os.environ.setdefault("SECRET_KEY", "audit-bench-" + "x" * 40)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"  # Django's test client
    import django
    import psycopg

    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    try:
        django.setup()
        measure(args.rows, args.requests)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")


def measure(rows: int, requests: int) -> None:
    from django.core.management import call_command
    from django.test import Client

    from server.access import audit
    from server.access.services import create_user
    from server.access.tokens import issue_token

    call_command("migrate", verbosity=0)
    call_command("generate_demo_data", rows=rows, seed=1, reports=False, verbosity=0)
    user = create_user("audit-bench", "viewer", "a long bench password 123")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user).raw}")
    url = "/api/v1/studies/search?exam_source=急診&page_size=20"

    def timed() -> list[float]:
        for _ in range(50):  # warm-up: connections, caches, code paths
            client.get(url)
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        return samples

    with_audit = timed()
    original = audit.record_event
    audit.record_event = lambda *args, **kwargs: None
    try:
        without_audit = timed()
    finally:
        audit.record_event = original
    on, off = statistics.median(with_audit), statistics.median(without_audit)
    print(f"search p50 with the audit event:    {on:7.2f} ms  ({requests} requests)")
    print(f"search p50 without the audit event: {off:7.2f} ms")
    print(f"added by the audit trail:           {on - off:7.2f} ms per search")


if __name__ == "__main__":
    main()
