"""Keeping ``ReportSearch`` (each report's searched current state) and the vocabulary in step with the
reports: every write that changes a report's current version rewrites its search row in the same
transaction, so a search never sees a version that is not current nor misses one that is."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from django.db import DEFAULT_DB_ALIAS, connections

from server.reports import write_version
from server.reports.models import Report, ReportSearch
from server.reports.text_index import document_of, tokens_of, words_of

BATCH = 1000


def search_row(report: Report) -> ReportSearch:
    """The search row of a report read with its ``current`` version."""
    version = report.current
    document = document_of(report.report_id, report.study_id, report.title, version.content)
    return ReportSearch(
        report_id=report.report_id,
        exam_id=report.study_id,
        report_type=report.report_type,
        status=version.status,
        radiologist=version.radiologist,
        verified_at=version.verified_at,
        created_at=report.created_at,
        document=document,
        tokens=tokens_of(document),
    )


def index_reports(report_ids: Iterable[str], using: str = DEFAULT_DB_ALIAS) -> int:
    """Write (or rewrite) the search rows of these reports from their current versions; returns how many."""
    written = 0
    pending = iter(report_ids)
    while batch := list(islice(pending, BATCH)):
        reports = list(
            Report.objects.using(using).select_related("current").filter(pk__in=batch, current__isnull=False)
        )
        if reports:
            sql, params = index_ctes(reports)
            with connections[using].cursor() as cursor:
                cursor.execute(f"WITH {sql} {write_version.MOVE_SQL}", params)
            write_version.moved_in_statement(using)
            written += len(reports)
    return written


_COLUMNS = ("report_id", "exam_id", "report_type", "status", "radiologist", "verified_at", "created_at",
            "document", "tokens")  # fmt: skip
# A report not stored yet has no created_at to give: its row gets the statement's time (the column's default,
# Django's Now()), and so does its search row, written by the same statement.
# Arrays of tokens and words go as one space-joined string (neither holds whitespace), split by PostgreSQL:
# psycopg spells a list of a few hundred strings into the statement in Python, a millisecond of a write.
_PLACEHOLDER = {"created_at": "COALESCE(%s, statement_timestamp())", "tokens": "string_to_array(%s, ' ')"}
_PLACEHOLDERS = "(" + ", ".join(_PLACEHOLDER.get(column, "%s") for column in _COLUMNS) + ")"
# The vocabulary's new words and the search rows, as the CTEs of a statement (one round trip on every API
# write). Our own names only; ``{rows}`` becomes one placeholder group per row.
_CTES = (
    "words AS (INSERT INTO report_search_word (word) SELECT unnest(string_to_array(%s, ' ')) ORDER BY 1 "  # noqa: S608
    f"ON CONFLICT DO NOTHING), search AS (INSERT INTO report_search ({', '.join(_COLUMNS)}) VALUES {{rows}} "
    "ON CONFLICT (report_id) DO UPDATE SET "
    + ", ".join(f"{column} = EXCLUDED.{column}" for column in _COLUMNS[1:])
    + ")"
)


def index_ctes(reports: list[Report]) -> tuple[str, list]:
    """(SQL, parameters) of the CTEs that write these reports' search rows and new vocabulary words, for a
    statement of the caller's (which may store the versions in the same round trip). Each report is held
    with its ``current`` version; one whose row is not stored yet (``created_at`` None) gets the time its
    row will get.

    Plain SQL, not ``bulk_create``: on every API write, model instances for a row and a hundred words, and a
    conversion of each of its few hundred tokens, were a fifth of the write's Python time."""
    rows = [search_row(report) for report in reports]
    words = " ".join(words_of(row.document for row in rows))
    values = [_value(row, column) for row in rows for column in _COLUMNS]
    return _CTES.format(rows=", ".join([_PLACEHOLDERS] * len(rows))), [words, *values]


def _value(row: ReportSearch, column: str) -> object:
    return " ".join(row.tokens) if column == "tokens" else getattr(row, column)
