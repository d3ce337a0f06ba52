"""``manage.py import_reports PATH``: the legacy reports (a DuckDB table, or its CSV or JSON Lines export).

A thin shell around ``importers.reports.service.import_reports``, as ``import_studies`` is around its
service: options in, progress and a summary out, exit code 0 when committed (or a clean dry run), 1 otherwise.
"""

from __future__ import annotations

from django.core.checks import Tags
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from importers.progress import Progress
from importers.report import COMMITTED
from importers.reports.service import import_reports
from importers.reports.source import FORMATS, TABLE


class Command(BaseCommand):
    requires_system_checks = [Tags.models]  # as import_studies: the URL checks would load both APIs
    help = (
        "Import the legacy reports from a DuckDB database (.duckdb), a CSV or a JSON Lines (.jsonl) export, "
        "validated and all-or-nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the file to import")
        parser.add_argument("--format", choices=FORMATS, help="the file's format (default: by its extension)")
        parser.add_argument("--table", help=f"DuckDB: the table to read (default {TABLE})")
        parser.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="write the valid reports and skip (and list) the invalid rows' reports, instead of aborting",
        )
        parser.add_argument(
            "--report", metavar="FILE.json", help="write the full JSON report here (owner-only, mode 600)"
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, **options) -> None:
        progress: Progress | None = None

        def total_hint(total: int | None) -> None:
            nonlocal progress
            if options["verbosity"] > 0:
                progress = Progress(self.stdout._out, total)  # a bar on a terminal, lines otherwise

        report = import_reports(
            options["path"],
            fmt=options["format"],
            table=options["table"],
            skip_invalid=options["skip_invalid"],
            dry_run=options["dry_run"],
            report_path=options["report"],
            using=options["database"],
            total_hint=total_hint,
            on_progress=lambda done: progress and progress(done),
            on_phase=lambda text: progress and progress.phase(text),
        )
        if progress is not None:
            progress.done()
        if options["verbosity"] > 0:
            for line in report.summary_lines():
                self.stdout.write(line)
            if options["report"]:
                self.stdout.write(f"  report: {options['report']}")
        if report.outcome == COMMITTED or (report.dry_run and report.ok):
            return
        raise CommandError(report.error or "the import did not complete")
