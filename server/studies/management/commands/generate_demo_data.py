"""``manage.py generate_demo_data --rows N [--seed S] [--no-reports]``: fill the studies table with synthetic
studies, and the reports tables with synthetic reports for most of them (``server.reports.demo_data``)."""

from __future__ import annotations

import time

from django.core.checks import Tags
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from server.core import db
from server.core.data_version import bump_data_version
from server.studies import bulk
from server.studies.demo_data import generate_studies
from server.studies.models import Study
from server.studies.search_profile import table_profile_json

# Below this many rows, rebuilding every index costs more than maintaining it row by row.
DEFER_INDEXES_FROM = 20_000


class Command(BaseCommand):
    # The model checks only: the URL checks import the whole GraphQL schema and REST API (about 2 s),
    # which a bulk load never touches and an operator should not wait for.
    requires_system_checks = [Tags.models]
    help = "Generate realistic synthetic studies (deterministic for a seed) into an empty studies table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, required=True, help="how many studies to generate")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--replace", action="store_true", help="delete the existing studies first")
        group.add_argument("--if-empty", action="store_true", help="do nothing if the table holds studies")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--no-reports", dest="reports", action="store_false", help="studies only (the benchmark's)"
        )

    def handle(
        self,
        *args,
        rows: int,
        seed: int,
        replace: bool,
        if_empty: bool,
        database: str,
        reports: bool,
        **options,
    ):
        if rows < 0:
            raise CommandError("--rows must be 0 or more")
        connection = connections[database]
        existing = Study.objects.using(database).exists()
        if existing and if_empty:
            self.stdout.write("The studies table already holds data; no demo data generated.")
            return
        if existing and not replace:
            raise CommandError("The studies table already holds data; use --replace to discard it first.")
        started = time.perf_counter()
        # A million rows and their index builds take longer than the API's STATEMENT_TIMEOUT_MS.
        with db.without_statement_timeout(connection), transaction.atomic(using=database):
            # Truncating (even an empty table) inside the transaction lets PostgreSQL take a frozen COPY.
            bulk.truncate(connection)
            if rows >= DEFER_INDEXES_FROM:
                with bulk.indexes_deferred(connection):
                    written = bulk.write_studies(generate_studies(rows, seed), using=database, freeze=True)
            else:
                written = bulk.write_studies(generate_studies(rows, seed), using=database, freeze=True)
            bulk.analyze(connection)
            bump_data_version(using=database, search_profile=table_profile_json(connection))
            made = _write_reports(database, seed) if reports else None
        elapsed = time.perf_counter() - started
        rate = written / elapsed if elapsed else 0
        also = f" and {made[0]:,} reports ({made[1]:,} versions)" if made else ""
        summary = f"Generated {written:,} studies{also} (seed {seed}) in {elapsed:.1f} s"
        summary += f" ({rate:,.0f} studies/s)."
        self.stdout.write(self.style.SUCCESS(summary))


def _write_reports(database: str, seed: int) -> tuple[int, int]:
    """Reports for the studies just written, in their transaction; the old demo reports go first."""
    from server.reports import bulk as report_bulk
    from server.reports.demo_data import generate_reports

    with connections[database].cursor() as cursor:
        # Deferred foreign-key checks of rows written earlier in this transaction must run before TRUNCATE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE report, report_version, report_search")
    studies = (
        Study.objects.using(database)
        .order_by("exam_id")
        .values_list("exam_id", "equipment_type", "exam_description", "order_datetime")
        .iterator(chunk_size=5000)
    )
    return report_bulk.write_reports(generate_reports(studies, seed), using=database)
