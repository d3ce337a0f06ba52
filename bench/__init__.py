"""Performance measurements; never run by CI (only their smoke test is).

- ``python -m bench`` (``make bench``, docs/performance.md): one table. Sections: 1 data (the project's
  generator and a legacy all-VARCHAR DuckDB file of the same rows), 2 import (``import_studies`` against the
  COPY floor), 3 query latency of REST and GraphQL beside the database's own time for the same SQL,
  4 throughput with 16 concurrent clients, 5 CSV export. It runs in a dedicated database
  (``BENCH_DATABASE_URL``, default ``postgresql://postgres@127.0.0.1:5432/studies_bench``) that it creates
  and drops itself; the API is served by gunicorn with 2 workers, as in production.
- The importers' measurements against their budgets (docs/importing.md).
"""
