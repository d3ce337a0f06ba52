"""``manage.py import_reports PATH``: the legacy reports (a DuckDB table, or its CSV or JSON Lines export).

A thin shell around ``importers.reports.service.import_reports`` (``importers.command`` holds what it shares
with ``import_studies``).
"""

from __future__ import annotations

from importers.command import ImportCommand
from importers.reports.service import import_reports
from importers.reports.source import FORMATS, TABLE


class Command(ImportCommand):
    help = (
        "Import the legacy reports from a DuckDB database (.duckdb), a CSV or a JSON Lines (.jsonl) export, "
        "validated and all-or-nothing."
    )
    formats = FORMATS
    default_table = TABLE
    skip_invalid_help = (
        "write the valid reports and skip (and list) the invalid rows' reports, instead of aborting"
    )

    def handle(self, *args, **options) -> None:
        self.run_import(import_reports, options)
