"""The distinct values of an indexed column by a loose index scan (PostgreSQL).

``SELECT DISTINCT`` reads every row: about 0.1 s per column at 1,000,000 studies (the six filter options'
columns took 0.46 s, and 4 s at 10,000,000), for a few dozen or hundred values. A recursive query that asks
the column's btree for the smallest value above the last one descends the index once per distinct value
instead: about a millisecond, whatever the table's size.
Without a btree led by the column each step would be a full scan, so every caller's column has one (a test
checks it for the filter options).
"""

from __future__ import annotations


def distinct_values_sql(table: str, column: str, cap: int | None = None) -> str:
    """SQL giving one row, one column: the sorted array of the distinct non-empty values of ``column``
    (quoted names of ours, never input). With ``cap``, at most ``cap + 1`` values, so that a caller can tell
    "more than ``cap``" at the price of ``cap`` descents. The scan starts above ``''``, so an empty string is
    never one of the values."""
    bound = f" AND n <= {int(cap)}" if cap is not None else ""
    return (
        f"WITH RECURSIVE v(x, n) AS (SELECT min({column}), 1 FROM {table} WHERE {column} > '' "  # noqa: S608
        f"UNION ALL SELECT (SELECT min({column}) FROM {table} WHERE {column} > v.x), n + 1 FROM v "
        f"WHERE v.x IS NOT NULL{bound}) "
        "SELECT array_agg(x ORDER BY x) FROM v WHERE x IS NOT NULL"
    )
