"""Section 2: the legacy DuckDB file through ``import_studies`` against the floor (placeholder until the
importer lands)."""

from __future__ import annotations


def run(options, legacy_file, log) -> dict:
    return {"skipped": "import_studies is not there yet"}
