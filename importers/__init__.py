"""Loading the legacy DuckDB database and Excel/CSV exports into the studies table (issue 3)."""
