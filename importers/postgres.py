"""The PostgreSQL write path: binary COPY, then set-based SQL, all in the caller's one transaction.

Two ways in, chosen under the table lock:

- **direct**, for ``replace`` and for any load into an empty table (the first migration): TRUNCATE, then
  ``COPY ... FREEZE`` straight into the table with its secondary indexes dropped and rebuilt afterwards
  (``bulk.indexes_deferred``), which costs about what a bare COPY plus index builds costs. Frozen rows make
  the rebuild about twice as fast.
- **staging**, for everything else (and every dry run): COPY into an unindexed temporary table, ``ANALYZE``
  it, classify against the table with one join, then one ``INSERT ... SELECT`` and (upsert) one
  ``UPDATE ... FROM``. Ten thousand rows into a million take a few seconds; a load larger than the table
  rebuilds the indexes instead of maintaining them row by row.

Statements go through Django's cursor, which on psycopg 3 binds parameters client-side: nothing is prepared
on the server, so each big statement is planned for its real parameters.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import ExitStack

from django.db import connections

from importers.intake import Intake
from importers.targets import REPLACE, Classification, Target, VerificationError
from server.core.data_version import data_version_key, stored_search_profile
from server.studies import bulk
from server.studies.columns import POSTGRES_COPY_TYPES, STUDY_FIELDS
from server.studies.search_profile import SearchProfile, profile_of_table

TABLE = bulk.STUDY_TABLE
STAGING = "importers_staging"
LATER = "importers_later"
ROW_COLUMN = (("row_no", "int4"),)
CONTENT = STUDY_FIELDS[1:]  # every field but the key


def _row(alias: str) -> str:
    return "(" + ", ".join(f"{alias}.{name}" for name in CONTENT) + ")"


def _create_temp(name: str) -> str:
    text = 'text COLLATE "C"'  # the table's collation, so that comparisons agree with it
    columns = ", ".join(
        f"{field} {text if kind == 'text' else kind}"
        for field, kind in zip(STUDY_FIELDS, POSTGRES_COPY_TYPES, strict=True)
    )
    return f"CREATE TEMP TABLE {name} ({columns}, row_no int4 NOT NULL) ON COMMIT DROP"


# Module-level statements, so that a test can break one and watch the whole import roll back.
DIFFERING_SQL = (
    f"SELECT DISTINCT d.exam_id FROM {LATER} d JOIN {{first}} f ON f.exam_id = d.exam_id "  # noqa: S608
    f"WHERE {_row('f')} IS DISTINCT FROM {_row('d')}"
)
# One pass over staging: 0 new, 1 identical to the stored row, 2 changed (with their exam_ids and rows).
CLASSIFY_SQL = (
    f"WITH c AS (SELECT s.exam_id, s.row_no, CASE WHEN t.exam_id IS NULL THEN 0 "  # noqa: S608
    f"WHEN {_row('t')} IS NOT DISTINCT FROM {_row('s')} THEN 1 ELSE 2 END AS k "
    f"FROM {STAGING} s LEFT JOIN {TABLE} t ON t.exam_id = s.exam_id) "
    "SELECT k, count(*), CASE WHEN k = 2 THEN array_agg(exam_id ORDER BY row_no) END, "
    "CASE WHEN k = 2 THEN array_agg(row_no ORDER BY row_no) END FROM c GROUP BY k"
)
INSERT_SQL = (
    f"INSERT INTO {TABLE} ({', '.join(STUDY_FIELDS)}) "  # noqa: S608
    f"SELECT {', '.join('s.' + name for name in STUDY_FIELDS)} FROM {STAGING} s "
    f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} t WHERE t.exam_id = s.exam_id)"
)
UPDATE_SQL = (
    f"UPDATE {TABLE} t SET ({', '.join(CONTENT)}, imported_at) = "  # noqa: S608
    f"({', '.join('s.' + name for name in CONTENT)}, statement_timestamp()) "
    f"FROM {STAGING} s WHERE t.exam_id = s.exam_id AND {_row('t')} IS DISTINCT FROM {_row('s')}"
)
MATCHING_SQL = (
    f"SELECT count(*) FROM {STAGING} s JOIN {TABLE} t ON t.exam_id = s.exam_id "  # noqa: S608
    f"WHERE {_row('t')} IS NOT DISTINCT FROM {_row('s')}"
)


class PostgresTarget(Target):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connections[self.using]
        self.deferred = ExitStack()
        self.loaded = 0
        self.discarded = 0
        self.indexes_rebuilt = False

    def _execute(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def _rowcount(self, sql: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.rowcount

    def begin(self) -> None:
        # The API's connections carry a statement_timeout; an import's COPY and index builds are long on
        # purpose. SET LOCAL lasts until this transaction ends, whatever way it ends.
        self._execute("SET LOCAL statement_timeout = 0")
        # exam_id also has a trigram GIN index, which can serve equality and which the planner, costing
        # it like any index, picks for these joins; but every 11-digit exam_id shares its trigrams with
        # most of the table, so each probe reads huge posting lists (measured: 10,000 probes into a million
        # rows took 457 s). GIN is reached only through bitmap scans, and no import statement wants one.
        self._execute("SET LOCAL enable_bitmapscan = off")
        # Self-conflicting, so two imports never interleave; readers carry on.
        self._execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")
        (self.before,) = self._execute(f"SELECT count(*) FROM {TABLE}")[0]  # noqa: S608
        self.direct = not self.dry_run and (self.mode == REPLACE or self.before == 0)
        if self.direct:
            bulk.truncate(self.connection)  # allows COPY FREEZE; rolled back with everything else
            self.write_path = "truncate + COPY FREEZE into the table"
            if self.large(self.expected_rows):
                self._rebuild_indexes_after()
        else:
            for name in (STAGING, LATER):
                self._execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
                self._execute(_create_temp(name))
            self.write_path = "COPY into staging + set-based merge"

    def load(self, intake: Intake) -> int:
        if self.direct:
            self.loaded = bulk.copy_rows(self.connection, TABLE, intake.stored_rows(False), freeze=True)
        else:
            rows = intake.stored_rows(True)
            self.loaded = bulk.copy_rows(self.connection, STAGING, rows, extra_columns=ROW_COLUMN)
            self._execute(f"ANALYZE {STAGING}")
        return self.loaded

    def differing(self, later: Sequence[tuple]) -> set[str]:
        if not later:
            return set()
        if self.direct:
            self._execute(f"DROP TABLE IF EXISTS pg_temp.{LATER}")
            self._execute(_create_temp(LATER))
        bulk.copy_rows(self.connection, LATER, later, extra_columns=ROW_COLUMN)
        sql = DIFFERING_SQL.format(first=TABLE if self.direct else STAGING)
        return {exam_id for (exam_id,) in self._execute(sql)}

    def discard(self, exam_ids: Collection[str]) -> None:
        if exam_ids:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {TABLE if self.direct else STAGING} WHERE exam_id = ANY(%s)",  # noqa: S608
                    [list(exam_ids)],
                )
                self.discarded += cursor.rowcount

    def classify(self) -> Classification:
        kept = self.loaded - self.discarded
        if self.direct or self.mode == REPLACE:
            return Classification(new=kept)
        if self.loaded * 10 < self.before:
            # A few rows against a large table: the planner prices thousands of primary-key probes above
            # one sequential scan of the whole table (measured: 1.2 s against 0.1 s for 10,000 rows into a
            # million), so the joins of this transaction probe the primary key instead.
            self._execute("SET LOCAL enable_hashjoin = off")
            self._execute("SET LOCAL enable_mergejoin = off")
        result = Classification()
        for kind, count, exam_ids, rows in self._execute(CLASSIFY_SQL):
            if kind == 0:
                result.new = count
            elif kind == 1:
                result.unchanged = count
            else:
                result.changed = list(zip(exam_ids, rows, strict=True))
        return result

    def apply(self, update_changed: bool, writes: int) -> tuple[int, int]:
        if self.direct:
            return self.loaded - self.discarded, 0
        # Rebuilding every index costs about as much as the table's size; maintaining them, per row written.
        if self.large(writes) and writes >= self.before:
            self._rebuild_indexes_after()
        inserted = self._rowcount(INSERT_SQL)
        updated = self._rowcount(UPDATE_SQL) if update_changed else 0
        return inserted, updated

    def _rebuild_indexes_after(self) -> None:
        self.deferred.enter_context(bulk.indexes_deferred(self.connection))
        self.indexes_rebuilt = True
        self.write_path += ", indexes rebuilt after"

    def finish(self) -> None:
        self.deferred.close()  # rebuilds any dropped index, inside the transaction
        if not self.indexes_rebuilt:  # rows went through the live indexes, which queued their GIN entries
            bulk.flush_gin_pending_lists(self.connection)
        if self.direct or self.large(self.loaded):
            bulk.analyze(self.connection)

    def search_profile(self) -> dict | None:
        # A full load scans the loaded table once (about 3 s per million rows, in the import rather than in
        # every API worker's first search); an incremental one profiles only its staged rows and merges
        # them into the profile stored with the current version, when there is one.
        stored = None if self.direct else stored_search_profile(data_version_key(self.using), self.using)
        before = SearchProfile.from_json(stored) if stored is not None else None
        if before is None:
            return profile_of_table(self.connection, TABLE).as_json()
        return before.merged(profile_of_table(self.connection, STAGING)).as_json()

    def verify(self, expected_total: int) -> int:
        (total,) = self._execute(f"SELECT count(*) FROM {TABLE}")[0]  # noqa: S608
        if total != expected_total:
            raise VerificationError(
                f"the table holds {total:,} studies after the import, {expected_total:,} expected"
            )
        if not self.direct:
            (kept,) = self._execute(f"SELECT count(*) FROM {STAGING}")[0]  # noqa: S608
            (matching,) = self._execute(MATCHING_SQL)[0]
            if matching != kept:
                raise VerificationError(
                    f"{kept - matching:,} of the {kept:,} imported studies are not in the table as imported"
                )
        # The temporary tables go at COMMIT; dropped here too in case a caller's transaction goes on.
        for name in (STAGING, LATER):
            self._execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        return total
