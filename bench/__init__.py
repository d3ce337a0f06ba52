"""The performance benchmark of issue 7: ``python -m bench`` (``make bench``) prints one table.

Sections: 1 data (the project's generator and a legacy all-VARCHAR DuckDB file of the same rows), 2 import
(``import_studies`` against the COPY floor), 3 query latency of REST and GraphQL beside the database's own
time for the same SQL, 4 throughput with 16 concurrent clients, 5 CSV export. Everything runs in a dedicated
database (``BENCH_DATABASE_URL``, default ``postgresql://postgres@127.0.0.1:5432/studies_bench``) that the
benchmark creates and drops itself; the API is served by gunicorn with 2 workers, as in production.
"""
