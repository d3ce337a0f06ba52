"""``manage.py import_studies PATH``: load a legacy DuckDB database, an Excel export or a CSV file.

A thin shell around ``importers.service.import_studies``: options in, progress and a summary out, and an
exit code an operator's script can test (0 committed, or a clean dry run; 1 otherwise).
"""

from __future__ import annotations

from django.core.checks import Tags
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from importers.progress import Progress
from importers.readers import FORMATS
from importers.report import COMMITTED
from importers.service import import_studies
from importers.targets import INSERT, MODES


class Command(BaseCommand):
    # The model checks only: the URL checks import the whole GraphQL schema and REST API (about 2 s),
    # which a bulk load never touches and an operator should not wait for.
    requires_system_checks = [Tags.models]
    help = (
        "Import studies from a legacy DuckDB database (.duckdb), an Excel export (.xlsx) or a CSV file, "
        "validated and all-or-nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the file to import")
        parser.add_argument("--format", choices=FORMATS, help="the file's format (default: by its extension)")
        parser.add_argument("--table", help="DuckDB: the table to read (default medical_examinations_fact)")
        parser.add_argument("--sheet", help="Excel: the sheet to read (default the first)")
        parser.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
        parser.add_argument(
            "--mode",
            choices=MODES,
            default=INSERT,
            help="insert: add new exam_ids, a changed existing one is a conflict (default); upsert: also "
            "update changed ones; replace: swap the whole table's content",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="write the valid rows and skip (and list) invalid and conflicting ones, instead of aborting",
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

        report = import_studies(
            options["path"],
            fmt=options["format"],
            table=options["table"],
            sheet=options["sheet"],
            mode=options["mode"],
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
