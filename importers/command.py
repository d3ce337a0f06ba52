"""What the import commands (``import_studies``, ``import_reports``) share: their common options, the
progress bar, the printed summary, and an exit code an operator's script can test (0 committed, or a clean
dry run; 1 otherwise). Each command adds its own options and names its service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.checks import Tags
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from importers.progress import Progress
from importers.report import COMMITTED


class ImportCommand(BaseCommand):
    # The model checks only: the URL checks import the whole GraphQL schema and REST API (about 2 s),
    # which a bulk load never touches and an operator should not wait for.
    requires_system_checks = [Tags.models]
    formats: tuple[str, ...] = ()
    default_table = ""
    skip_invalid_help = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the file to import")
        parser.add_argument(
            "--format", choices=self.formats, help="the file's format (default: by its extension)"
        )
        parser.add_argument("--table", help=f"DuckDB: the table to read (default {self.default_table})")
        parser.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
        parser.add_argument("--skip-invalid", action="store_true", help=self.skip_invalid_help)
        parser.add_argument(
            "--report", metavar="FILE.json", help="write the full JSON report here (owner-only, mode 600)"
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def run_import(self, service: Callable[..., Any], options: dict[str, Any], **extra: Any) -> None:
        """Call ``service`` (an importer's entry point) with the common options and ``extra``, show its
        progress and summary, and fail the command unless it committed (or dry-ran cleanly)."""
        progress: Progress | None = None

        def total_hint(total: int | None) -> None:
            nonlocal progress
            if options["verbosity"] > 0:
                progress = Progress(self.stdout._out, total)  # a bar on a terminal, lines otherwise

        report = service(
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
            **extra,
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
