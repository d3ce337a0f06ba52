"""Keeping ``ReportSearch`` (each report's searched current state) and the vocabulary in step with the
reports: every write that changes a report's current version calls ``index_reports`` for it, in the same
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
        reports = (
            Report.objects.using(using).select_related("current").filter(pk__in=batch, current__isnull=False)
        )
        written += index_loaded(list(reports), using)
    return written


_COLUMNS = ("report_id", "exam_id", "report_type", "status", "radiologist", "verified_at", "created_at",
            "document", "tokens")  # fmt: skip
# One statement (one round trip on every API write): the vocabulary's new words, the search rows, and the
# move of the report write version (``write_version``) inside the transaction. Our own names only; ``{rows}``
# becomes one "(%s, ...)" per row.
_INDEX_SQL = (
    "WITH words AS (INSERT INTO report_search_word (word) SELECT unnest(%s::text[]) ORDER BY 1 "  # noqa: S608
    f"ON CONFLICT DO NOTHING), rows AS (INSERT INTO report_search ({', '.join(_COLUMNS)}) VALUES {{rows}} "
    "ON CONFLICT (report_id) DO UPDATE SET "
    + ", ".join(f"{column} = EXCLUDED.{column}" for column in _COLUMNS[1:])
    + f") {write_version.MOVE_SQL}"
)


def index_loaded(reports: list[Report], using: str = DEFAULT_DB_ALIAS) -> int:
    """``index_reports`` for reports the caller holds with their current version (``save_report`` has just
    stored it), without reading them again.

    Plain SQL, not ``bulk_create``: on every API write, model instances for a row and a hundred words, and a
    conversion of each of its few hundred tokens, were a fifth of the write's Python time."""
    if not reports:
        return 0
    rows = [search_row(report) for report in reports]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"] * len(rows))
    words = sorted(words_of(row.document for row in rows))
    values = [getattr(row, column) for row in rows for column in _COLUMNS]
    with connections[using].cursor() as cursor:
        cursor.execute(_INDEX_SQL.format(rows=placeholders), [words, *values])
    write_version.forget(using)  # moved by the statement above
    write_version.move_after_commit(using)  # cached totals no longer hold
    return len(rows)
