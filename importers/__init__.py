"""Loading the legacy DuckDB database and Excel/CSV exports into the studies table (docs/importing.md)."""
