"""A report history as the rows of the three tables it is stored in, and the COPY statements that load them.

Row shapes are the tables' own columns (plus, for staging, what the merge needs: each version's source
status and row, each report's version count and first row, each search row's vocabulary words), so that the
direct path copies them straight into the tables and the staging path into temporary tables of the same
shape. The search row is ``server.reports.search_rows.search_row`` of the report once stored: the same
document, the same sorted tokens (``text_index.tokens_and_words``).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor

from importers.reports.history import History
from server.reports.sections import SECTIONS, split_sections
from server.reports.text_index import document_of, tokens_and_words

REPORT_COLUMNS = (("report_id", "text"), ("exam_id", "text"), ("title", "text"), ("report_type", "text"),
                  ("created_at", "timestamptz"), ("current_id", "int8"))  # fmt: skip
VERSION_COLUMNS = (
    ("id", "int8"), ("report_id", "text"), ("number", "int4"), ("status", "text"), ("change", "text"),
    ("radiologist", "text"), ("verified_at", "timestamp"), ("content", "text"), ("content_hash", "text"),
    *((name, "text") for name in SECTIONS),
)  # fmt: skip
SEARCH_COLUMNS = (("report_id", "text"), ("exam_id", "text"), ("report_type", "text"), ("status", "text"),
                  ("radiologist", "text"), ("verified_at", "timestamp"), ("created_at", "timestamptz"),
                  ("document", "text"), ("tokens", "text[]"))  # fmt: skip
# What staging rows carry beyond the table's columns.
REPORT_EXTRA = (("versions", "int4"), ("row_no", "int4"))
VERSION_EXTRA = (("source_status", "text"), ("row_no", "int4"))
SEARCH_EXTRA = (("words", "text[]"),)


def rows_of(
    history: History, first_id: int, created_default: dt.datetime, zone: dt.tzinfo
) -> tuple[tuple, list[tuple], tuple, list[str]]:
    """(report row, version rows, search row, vocabulary words), each row with its staging extras last."""
    created = history.created_at.replace(tzinfo=zone) if history.created_at is not None else created_default
    versions = []
    for number, version in enumerate(history.versions, start=1):
        sections = split_sections(version.content)
        versions.append(
            (first_id + number - 1, history.report_id, number, version.status, version.change,
             version.radiologist, version.verified_at, version.content, version.content_hash,
             *(sections[name] for name in SECTIONS), version.source_status, version.row)
        )  # fmt: skip
    current = history.versions[-1]
    document = document_of(history.report_id, history.exam_id, history.title, current.content)
    tokens, words = tokens_and_words(document)
    report = (history.report_id, history.exam_id, history.title, history.report_type, created,
              first_id + len(versions) - 1, len(versions), history.versions[0].row)  # fmt: skip
    search = (history.report_id, history.exam_id, history.report_type, current.status, current.radiologist,
              current.verified_at, created, document, tokens, words)  # fmt: skip
    return report, versions, search, words


def copy_statement(table: str, columns: tuple[tuple[str, str], ...], freeze: bool) -> str:
    names = ", ".join(name for name, _ in columns)
    return f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY{', FREEZE' if freeze else ''})"


class Copier:
    """Batches of rows COPYed on one worker thread while the caller computes the next batch.

    The work of a COPY is mostly PostgreSQL's (parsing, compressing and storing the text), in its own
    process: with the rows sent from a thread, that overlaps with the import's Python work instead of
    following it. The thread owns the connection while a batch is in flight; ``wait`` hands it back.
    """

    def __init__(self, raw_connection, statements: list[tuple[str, list[str]]]) -> None:
        self.connection = raw_connection
        self.statements = statements  # (COPY statement, types) per table, in the order of each batch's lists
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-reports-copy")
        self.pending: Future | None = None

    def submit(self, batches: list[list[tuple]]) -> None:
        self.wait()
        self.pending = self.executor.submit(self._copy, batches)

    def _copy(self, batches: list[list[tuple]]) -> None:
        with self.connection.cursor() as cursor:
            for (statement, types), rows in zip(self.statements, batches, strict=True):
                if not rows:
                    continue
                with cursor.copy(statement) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()  # re-raises a COPY's error here

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.executor.shutdown(wait=True)
