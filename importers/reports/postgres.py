"""The reports' write path on PostgreSQL, in the caller's one transaction (see ``importers.postgres`` for the
studies' equivalent, whose choices this follows).

- **direct**, for a load into empty report tables (the first import of the legacy reports): TRUNCATE, then
  binary ``COPY ... FREEZE`` straight into ``report``, ``report_version`` and ``report_search``, with the
  secondary indexes and the foreign keys dropped and put back afterwards (building an index, or checking a
  foreign key with one join, costs a fraction of doing either row by row; a deferred foreign key would queue
  a check per row until COMMIT). Version ids are taken from the table's own sequence, which is moved past
  them, so the API's next version follows on.
- **staging**, for everything else (and every dry run): COPY into temporary tables of the same shape, then
  set-based SQL: one statement marks the new reports, one counts the versions an existing report already has
  (same content hash and status), and ``INSERT ... SELECT`` writes the rest. Versions missing from a stored
  report go through the lifecycle again from its current version, in Python (they are few: an export taken
  after the last import), and those reports' search rows are rewritten by ``index_reports``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections

from importers.reports.derive import derived
from importers.reports.history import History
from importers.reports.rows import (
    REPORT_COLUMNS,
    REPORT_EXTRA,
    SEARCH_COLUMNS,
    SEARCH_EXTRA,
    VERSION_COLUMNS,
    VERSION_EXTRA,
    Copier,
    copy_statement,
)  # fmt: skip
from importers.targets import VerificationError
from server.reports import lifecycle, write_version
from server.reports.search_rows import index_reports
from server.studies import bulk

REPORT, VERSION, SEARCH, WORD = "report", "report_version", "report_search", "report_search_word"
STG_REPORT, STG_VERSION, STG_SEARCH = "reports_stg_report", "reports_stg_version", "reports_stg_search"
STG_APPEND, STG_WORD = "reports_stg_append", "reports_stg_word"
BATCH_REPORTS = 2000
LARGE = 20_000  # from this many reports, indexes are rebuilt rather than maintained (as for studies)
_TEXT = 'text COLLATE "C"'


def _temp(name: str, columns: tuple[tuple[str, str], ...], extra: str = "") -> str:
    body = ", ".join(f"{column} {_TEXT if kind == 'text' else kind}" for column, kind in columns)
    return f"CREATE TEMP TABLE {name} ({body}{extra}) ON COMMIT DROP"


# Module-level statements, so that a test can break one and watch the whole import roll back.
MARK_NEW_SQL = (
    f"UPDATE {STG_REPORT} s SET is_new = true "  # noqa: S608
    f"WHERE NOT EXISTS (SELECT 1 FROM {REPORT} r WHERE r.report_id = s.report_id)"
)
# Each staged version of a stored report: whether the report has it already (same content and status).
KNOWN_SQL = (
    f"SELECT v.report_id, v.number, v.source_status, v.content_hash, v.row_no, EXISTS (SELECT 1 "  # noqa: S608
    f"FROM {VERSION} k WHERE k.report_id = v.report_id AND k.content_hash = v.content_hash "
    "AND k.status = v.status) "
    f"FROM {STG_VERSION} v JOIN {STG_REPORT} s ON s.report_id = v.report_id AND NOT s.is_new "
    "ORDER BY v.report_id, v.number"
)
STORED_SQL = (
    f"SELECT r.report_id, r.exam_id, c.status, c.content_hash, "  # noqa: S608
    f"(SELECT max(number) FROM {VERSION} m WHERE m.report_id = r.report_id) "
    f"FROM {REPORT} r LEFT JOIN {VERSION} c ON c.id = r.current_id WHERE r.report_id = ANY(%s)"
)
EXAM_IDS_SQL = f"SELECT report_id, exam_id FROM {STG_REPORT} WHERE report_id = ANY(%s)"  # noqa: S608
_VERSION_FIELDS = ", ".join(name for name, _ in VERSION_COLUMNS[1:])
INSERT_REPORTS_SQL = (
    f"INSERT INTO {REPORT} (report_id, exam_id, title, report_type, created_at) "  # noqa: S608
    f"SELECT report_id, exam_id, title, report_type, created_at FROM {STG_REPORT} WHERE is_new"
)
INSERT_VERSIONS_SQL = (
    f"INSERT INTO {VERSION} ({_VERSION_FIELDS}) SELECT {', '.join('v.' + n for n, _ in VERSION_COLUMNS[1:])} "  # noqa: S608
    f"FROM {STG_VERSION} v JOIN {STG_REPORT} s ON s.report_id = v.report_id AND s.is_new "
    "ORDER BY v.report_id, v.number"
)
APPEND_VERSIONS_SQL = (
    f"INSERT INTO {VERSION} ({_VERSION_FIELDS}) SELECT v.report_id, a.number, a.status, a.change, "  # noqa: S608
    f"{', '.join('v.' + n for n, _ in VERSION_COLUMNS[5:])} "
    f"FROM {STG_APPEND} a JOIN {STG_VERSION} v ON v.report_id = a.report_id AND v.row_no = a.row_no "
    "ORDER BY a.report_id, a.number"
)
CURRENT_SQL = (
    f"UPDATE {REPORT} r SET current_id = m.id FROM (SELECT DISTINCT ON (report_id) report_id, id "  # noqa: S608
    f"FROM {VERSION} WHERE report_id IN (SELECT report_id FROM {STG_REPORT} WHERE is_new "
    f"UNION SELECT report_id FROM {STG_APPEND}) ORDER BY report_id, number DESC) m "
    "WHERE r.report_id = m.report_id"
)
RETITLE_SQL = (
    f"UPDATE {REPORT} r SET title = coalesce(s.title, r.title), "  # noqa: S608
    f"report_type = coalesce(s.report_type, r.report_type) FROM {STG_REPORT} s "
    f"WHERE s.report_id = r.report_id AND s.report_id IN (SELECT report_id FROM {STG_APPEND})"
)
_SEARCH_FIELDS = ", ".join(name for name, _ in SEARCH_COLUMNS)
INSERT_SEARCH_SQL = (
    f"INSERT INTO {SEARCH} ({_SEARCH_FIELDS}) SELECT {', '.join('x.' + n for n, _ in SEARCH_COLUMNS)} "  # noqa: S608
    f"FROM {STG_SEARCH} x JOIN {STG_REPORT} s ON s.report_id = x.report_id AND s.is_new"
)
INSERT_WORDS_SQL = (
    f"INSERT INTO {WORD} (word) SELECT DISTINCT unnest(x.words) FROM {STG_SEARCH} x "  # noqa: S608
    f"JOIN {STG_REPORT} s ON s.report_id = x.report_id AND s.is_new ORDER BY 1 ON CONFLICT DO NOTHING"
)
MERGE_WORDS_SQL = f"INSERT INTO {WORD} (word) SELECT word FROM {STG_WORD} ORDER BY 1 ON CONFLICT DO NOTHING"  # noqa: S608


@dataclass
class Loaded:
    """What the stream held: reports, their versions, repeated rows (counted by ``history.Histories``)."""

    reports: int = 0
    versions: int = 0


@dataclass
class Classified:
    new_reports: int = 0
    new_versions: int = 0  # beyond the first version of each new report, plus versions appended
    unchanged_versions: int = 0  # staged versions that the stored report already has
    appended: list[tuple] = field(default_factory=list)  # (report_id, number, status, change, row_no)
    problems: list[tuple] = field(default_factory=list)  # (row, uid, field, reason)


@contextmanager
def foreign_keys_dropped(connection, tables: tuple[str, ...]) -> Iterator[None]:
    """Drop the foreign keys from and to ``tables`` for the block; adding them back checks every row once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[])) "
            "ORDER BY 1, 2",
            [list(tables), list(tables)],
        )
        constraints = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    with connection.cursor() as cursor:
        for table, name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


class ReportsTarget:
    """One import's writes of reports, inside the caller's transaction; see the module docstring."""

    def __init__(self, using: str, dry_run: bool) -> None:
        self.using = using
        self.dry_run = dry_run
        self.connection = connections[using]
        self.deferred = ExitStack()
        self.direct = self.large = False
        self.reports_before = self.versions_before = 0
        self.words: set[str] = set()
        self.loaded = Loaded()
        self.write_path = ""
        self.appended_ids: list[str] = []

    def _execute(self, sql: str, params=None) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def _rowcount(self, sql: str, params=None) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def begin(self, expected_rows: int | None) -> None:
        self._execute("SET LOCAL statement_timeout = 0")
        # Self-conflicting: two imports (or an import and an API write) take turns; readers carry on.
        self._execute(f"LOCK TABLE {REPORT}, {VERSION}, {SEARCH}, {WORD} IN SHARE ROW EXCLUSIVE MODE")
        (self.reports_before, self.versions_before, words) = self._execute(
            f"SELECT (SELECT count(*) FROM {REPORT}), (SELECT count(*) FROM {VERSION}), "  # noqa: S608
            f"(SELECT count(*) FROM (SELECT 1 FROM {WORD} LIMIT 1) w)"
        )[0]
        raw = self.connection.connection
        with raw.cursor() as cursor:  # psycopg's own: an aware time, whatever Django's USE_TZ
            self.now = cursor.execute("SELECT transaction_timestamp()").fetchone()[0]
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.direct = not self.dry_run and self.reports_before == 0 and self.versions_before == 0
        large = self.large = expected_rows is None or expected_rows >= LARGE
        if self.direct:
            self._execute(f"TRUNCATE {REPORT}, {VERSION}, {SEARCH}")  # empty already; allows COPY FREEZE
            self.words_direct = words == 0
            if self.words_direct:
                self._execute(f"TRUNCATE {WORD}")
            self.write_path = "truncate + COPY FREEZE into the tables"
            if large:
                tables = (REPORT, VERSION, SEARCH, *((WORD,) if self.words_direct else ()))
                self.deferred.enter_context(foreign_keys_dropped(self.connection, (REPORT, VERSION, SEARCH)))
                for table in tables:
                    self.deferred.enter_context(bulk.indexes_deferred(self.connection, table))
                self.write_path += ", indexes and foreign keys rebuilt after"
            (self.next_id,) = self._execute(f"SELECT nextval(pg_get_serial_sequence('{VERSION}', 'id'))")[0]
            tables = (REPORT, VERSION, SEARCH)
            extras = ((), (), ())
        else:
            self._execute(
                _temp(STG_REPORT, REPORT_COLUMNS + REPORT_EXTRA, ", is_new bool NOT NULL DEFAULT false")
            )
            self._execute(_temp(STG_VERSION, VERSION_COLUMNS + VERSION_EXTRA))
            self._execute(_temp(STG_SEARCH, SEARCH_COLUMNS + SEARCH_EXTRA))
            self.write_path = "COPY into staging + set-based merge"
            self.next_id = 1  # staged ids are not used: the table's identity numbers what is inserted
            tables = (STG_REPORT, STG_VERSION, STG_SEARCH)
            extras = (REPORT_EXTRA, VERSION_EXTRA, SEARCH_EXTRA)
        self.staging_extras = not self.direct
        self.copier = Copier(
            raw,
            [
                (copy_statement(table, columns + extra, self.direct), [kind for _, kind in columns + extra])
                for table, columns, extra in zip(
                    tables, (REPORT_COLUMNS, VERSION_COLUMNS, SEARCH_COLUMNS), extras, strict=True
                )
            ],
        )

    def load(self, histories: Iterator[History]) -> Loaded:
        """COPY every history, ``BATCH_REPORTS`` reports at a time."""
        trim = (len(REPORT_COLUMNS), len(VERSION_COLUMNS), len(SEARCH_COLUMNS))
        reports, versions, searches = [], [], []
        try:
            for report, history_rows, search, words in derived(
                self._numbered(histories), self.now, self.zone, parallel=self.large
            ):
                if self.direct:
                    self.words.update(words)
                    reports.append(report[: trim[0]])
                    versions.extend(row[: trim[1]] for row in history_rows)
                    searches.append(search[: trim[2]])
                else:
                    reports.append(report)
                    versions.extend(history_rows)
                    searches.append(search)
                self.loaded.reports += 1
                self.loaded.versions += len(history_rows)
                if len(reports) >= BATCH_REPORTS:
                    self.copier.submit([reports, versions, searches])
                    reports, versions, searches = [], [], []
            if reports:
                self.copier.submit([reports, versions, searches])
        finally:
            self.copier.close()
        if not self.direct:
            for table in (STG_REPORT, STG_VERSION, STG_SEARCH):
                self._execute(f"ANALYZE {table}")
        return self.loaded

    def _numbered(self, histories: Iterator[History]) -> Iterator[tuple[History, int]]:
        """Each history with the id of its first version (the ids of a direct load are ours to give)."""
        for history in histories:
            yield history, self.next_id
            self.next_id += len(history.versions)

    def classify(self) -> Classified:
        """New reports, and for stored ones which staged versions they have and which go on the end."""
        if self.direct:
            return Classified(self.loaded.reports, self.loaded.versions - self.loaded.reports)
        result = Classified()
        self._execute(MARK_NEW_SQL)
        result.new_reports, versions = self._execute(
            f"SELECT count(*), coalesce(sum(versions), 0) FROM {STG_REPORT} WHERE is_new"  # noqa: S608
        )[0]
        result.new_versions = versions - result.new_reports
        missing: dict[str, list[tuple]] = {}
        for report_id, _number, source_status, digest, row, known in self._execute(KNOWN_SQL):
            if known:
                result.unchanged_versions += 1
            else:
                missing.setdefault(report_id, []).append((source_status, digest, row))
        if missing:
            exam_ids = dict(self._execute(EXAM_IDS_SQL, [list(missing)]))
            for report_id, stored_exam, status, digest, number in self._execute(STORED_SQL, [list(missing)]):
                self._append(result, report_id, missing[report_id], (stored_exam, status, digest, number),
                             exam_ids.get(report_id))  # fmt: skip
        return result

    def _append(
        self, result: Classified, report_id: str, versions: list[tuple], stored: tuple, exam_id
    ) -> None:
        """The lifecycle from the stored current version on, for the versions a stored report lacks."""
        stored_exam, status, digest, number = stored
        appended = []
        try:
            if stored_exam != exam_id:
                raise lifecycle.LifecycleViolation("A report's exam_id cannot change")
            for source_status, version_hash, row in versions:
                if status is None:
                    transition = lifecycle.first_version(source_status)
                else:
                    transition = lifecycle.next_version(status, source_status, version_hash != digest)
                if transition is None:
                    result.unchanged_versions += 1
                    continue
                number = (number or 0) + 1
                appended.append((report_id, number, transition.status, transition.change, row))
                status, digest = transition.status, version_hash
        except (lifecycle.LifecycleViolation, lifecycle.UnknownStatus) as error:
            rows = [row for *_, row in versions]
            field_name = "report_id" if "exam_id" in str(error) else "metadata.status"
            result.problems.append((rows[0], report_id, field_name, f"against the stored report: {error}"))
            result.problems.extend(
                (
                    row,
                    report_id,
                    "uid",
                    f"skipped with the rest of this report's new versions (row {rows[0]})",
                )
                for row in rows[1:]
            )
            return
        result.appended.extend(appended)
        result.new_versions += len(appended)

    def apply(self, classified: Classified) -> None:
        """Write what ``classify`` found new (the direct path wrote it already)."""
        if self.direct:
            self._write_words_direct()
            return
        if self.reports_before and classified.new_reports >= max(LARGE, self.reports_before):
            for table in (REPORT, VERSION, SEARCH):
                self.deferred.enter_context(bulk.indexes_deferred(self.connection, table))
            self.write_path += ", indexes rebuilt after"
        self._execute(_temp(STG_APPEND, (("report_id", "text"), ("number", "int4"), ("status", "text"),
                                         ("change", "text"), ("row_no", "int4"))))  # fmt: skip
        if classified.appended:
            with (
                self.connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {STG_APPEND} FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.set_types(["text", "int4", "text", "text", "int4"])
                for row in classified.appended:
                    copy.write_row(row)
        self._execute(INSERT_REPORTS_SQL)
        self._execute(INSERT_VERSIONS_SQL)
        self._execute(APPEND_VERSIONS_SQL)
        self._execute(CURRENT_SQL)
        self._execute(RETITLE_SQL)
        self._execute(INSERT_SEARCH_SQL)
        self._execute(INSERT_WORDS_SQL)
        self.appended_ids = sorted({row[0] for row in classified.appended})
        if self.appended_ids:
            index_reports(self.appended_ids, using=self.using)

    def _write_words_direct(self) -> None:
        if self.words_direct:
            target, statement = WORD, f"COPY {WORD} (word) FROM STDIN (FORMAT BINARY, FREEZE)"
        else:
            self._execute(f"CREATE TEMP TABLE {STG_WORD} (word text) ON COMMIT DROP")
            target, statement = STG_WORD, f"COPY {STG_WORD} (word) FROM STDIN (FORMAT BINARY)"
        with self.connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.set_types(["text"])
            for word in sorted(self.words):
                copy.write_row((word,))
        if target == STG_WORD:
            self._execute(MERGE_WORDS_SQL)

    def finish(self, wrote: bool) -> None:
        """Rebuild what was dropped, move the id sequence on, refresh statistics or merge GIN lists."""
        rebuilt = bool(self.deferred._exit_callbacks)
        self.deferred.close()
        if wrote:
            write_version.bump(self.using)  # cached totals no longer hold
        if self.direct and wrote:
            self._execute(f"SELECT setval(pg_get_serial_sequence('{VERSION}', 'id'), %s)", [self.next_id - 1])
        if rebuilt or self.direct:
            for table in (REPORT, VERSION, SEARCH, WORD):
                bulk.analyze(self.connection, table)
        elif wrote:
            bulk.flush_gin_pending_lists(self.connection, SEARCH)
            bulk.flush_gin_pending_lists(self.connection, WORD)

    def verify(self, new_reports: int, new_versions: int) -> tuple[int, int]:
        """The tables hold what the import says it wrote; returns (reports, versions) now stored."""
        reports, versions, searches, uncurrent = self._execute(
            f"SELECT (SELECT count(*) FROM {REPORT}), (SELECT count(*) FROM {VERSION}), "  # noqa: S608
            f"(SELECT count(*) FROM {SEARCH}), (SELECT count(*) FROM {REPORT} WHERE current_id IS NULL)"
        )[0]
        expected = (self.reports_before + new_reports, self.versions_before + new_reports + new_versions)
        if (reports, versions) != expected:
            raise VerificationError(
                f"{reports:,} reports and {versions:,} versions after the import, "
                f"{expected[0]:,} and {expected[1]:,} expected"
            )
        if searches != reports or uncurrent:
            raise VerificationError(
                f"{searches:,} search rows for {reports:,} reports, {uncurrent:,} without a current version"
            )
        return reports, versions
