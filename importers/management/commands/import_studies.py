"""``manage.py import_studies PATH``: load a legacy DuckDB database, an Excel export or a CSV file.

A thin shell around ``importers.service.import_studies`` (``importers.command`` holds what it shares with
``import_reports``): options in, progress and a summary out, and an exit code an operator's script can test.
"""

from __future__ import annotations

from django.core.management.base import CommandParser

from importers.command import ImportCommand
from importers.readers import FORMATS
from importers.service import import_studies
from importers.targets import INSERT, MODES


class Command(ImportCommand):
    help = (
        "Import studies from a legacy DuckDB database (.duckdb), an Excel export (.xlsx) or a CSV file, "
        "validated and all-or-nothing."
    )
    formats = FORMATS
    default_table = "medical_examinations_fact"
    skip_invalid_help = (
        "write the valid rows and skip (and list) invalid and conflicting ones, instead of aborting"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--sheet", help="Excel: the sheet to read (default the first)")
        parser.add_argument(
            "--mode",
            choices=MODES,
            default=INSERT,
            help="insert: add new exam_ids, a changed existing one is a conflict (default); upsert: also "
            "update changed ones; replace: swap the whole table's content",
        )

    def handle(self, *args, **options) -> None:
        self.run_import(import_studies, options, sheet=options["sheet"], mode=options["mode"])
