"""Writing reports (HackSoft's "services"): every write of a report, from the API or an import, goes through
``save_report``, which stores a new immutable version or nothing.

One transaction per write, with its audit event and an existing report's row locked: two writers of the
same report take turns, and the second sees the first's version, so ``expected_version`` (the API's
``If-Match``) refuses a write made against a version that is no longer current instead of silently
overwriting it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import HttpRequest
from django.utils import timezone

from server.access import audit
from server.reports import lifecycle, write_version
from server.reports.models import MAX_CONTENT_LENGTH, Report, ReportVersion
from server.reports.search_rows import index_ctes
from server.reports.sections import SECTIONS, split_sections

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# A version in these statuses is signed: it carries when, given or taken as the moment it is stored.
_SIGNING = frozenset({lifecycle.PRELIMINARY, lifecycle.FINAL, lifecycle.AMENDED})


class InvalidReport(ValueError):
    """A write the API refuses as malformed (400); the message is safe to show."""


class ReportChanged(Exception):
    """The report's current version is not the one the writer expected (412): nothing was stored."""


@dataclass(frozen=True)
class SavedReport:
    report_id: str
    version: int
    action: str  # CREATED, UPDATED or UNCHANGED


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def save_report(
    *,
    exam_id: str,
    content: str,
    status: str,
    report_id: str | None = None,
    radiologist: str | None = None,
    title: str | None = None,
    report_type: str | None = None,
    verified_at: dt.datetime | None = None,
    expected_version: int | None = None,
    on_saved: Callable[[SavedReport], object] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> SavedReport:
    """Store a new version of ``report_id`` (a new report without one) when its content or status differ
    from the current version's, and nothing when both are the same: a resent message is harmless.

    ``on_saved(saved)`` runs inside the write's transaction, for the caller's audit event: the write and
    its event commit together or not at all, and with one commit (one WAL flush) rather than two.

    Raises InvalidReport (empty or oversized content), lifecycle.UnknownStatus, lifecycle.LifecycleViolation
    (409) and ReportChanged (412); none of them leaves anything written.
    """
    if not content.strip():
        raise InvalidReport("content must not be empty")
    if len(content) > MAX_CONTENT_LENGTH:
        raise InvalidReport(f"content must be at most {MAX_CONTENT_LENGTH} characters, not {len(content)}")
    if not exam_id or not exam_id.strip():
        raise InvalidReport("exam_id must not be empty")
    if status not in lifecycle.STATUSES:
        raise lifecycle.UnknownStatus(f"Unknown status {status!r}: one of {', '.join(lifecycle.STATUSES)}")
    digest = content_hash(content)
    with transaction.atomic(using=using):
        if report_id is None:  # the id is ours, so no other writer can hold this report: nothing to lock
            # created_at None: its row, and so its search row, take the statement's time (``_store``).
            report = Report(
                report_id=uuid.uuid4().hex,
                study_id=exam_id,
                title=title,
                report_type=report_type,
                created_at=None,
            )
            current = None
        else:
            report = _locked(report_id, exam_id, title, report_type, using)
            current = report.current
        if expected_version is not None and expected_version != (current.number if current else None):
            raise ReportChanged("Report has changed")
        if current is None:
            transition = lifecycle.first_version(status)
            number, action = 1, CREATED
        else:
            if report.study_id != exam_id:
                raise lifecycle.LifecycleViolation("A report's exam_id cannot change")
            transition = lifecycle.next_version(current.status, status, digest != current.content_hash)
            if transition is None:
                return _saved(SavedReport(report.report_id, current.number, UNCHANGED), on_saved)
            number, action = current.number + 1, UPDATED
        for name, value in (("title", title), ("report_type", report_type)):
            if value is not None:
                setattr(report, name, value)
        report.current = ReportVersion(
            report=report,
            number=number,
            status=transition.status,
            change=transition.change,
            radiologist=radiologist,
            verified_at=_signed_at(transition.status, verified_at),
            content=content,
            content_hash=digest,
            **split_sections(content),
        )
        _store(report, new=report_id is None, using=using)
        return _saved(SavedReport(report.report_id, number, action), on_saved)


def audit_write(request: HttpRequest | None, status: int, saved: SavedReport, exam_id: str) -> None:
    """The audit event of a write: who wrote which report and version, never the text."""
    audit.record_event(
        audit.REPORT_WRITE,
        status,
        request,
        parameters={"report_id": saved.report_id, "version": saved.version, "action": saved.action},
        record_count=1,
        exam_ids=[exam_id],
    )


def _saved(saved: SavedReport, on_saved: Callable[[SavedReport], object] | None) -> SavedReport:
    if on_saved is not None:
        on_saved(saved)
    return saved


def _locked(report_id: str, exam_id: str, title: str | None, report_type: str | None, using: str) -> Report:
    """The report, its row locked until the transaction ends, created (without a version) if it is new.
    A concurrent first write of the same id waits for the other's commit, then finds its report."""
    reports = Report.objects.using(using).select_for_update(of=("self",)).select_related("current")
    report = reports.filter(pk=report_id).first()
    if report is None:
        Report.objects.using(using).bulk_create(
            [Report(report_id=report_id, study_id=exam_id, title=title, report_type=report_type)],
            ignore_conflicts=True,
        )
        report = reports.get(pk=report_id)
    return report


_VERSION_COLUMNS = ("report_id", "number", "status", "change", "radiologist", "verified_at", "content",
                    "content_hash", *SECTIONS)  # fmt: skip
_INSERT_VERSION = (
    f"version AS (INSERT INTO report_version ({', '.join(_VERSION_COLUMNS)}) "  # noqa: S608 (our own names)
    f"VALUES ({', '.join(['%s'] * len(_VERSION_COLUMNS))}) RETURNING id)"
)
# A new report's row points at its version from the start: the foreign keys are checked at commit.
_INSERT_REPORT = (
    "report_row AS (INSERT INTO report (report_id, exam_id, title, report_type, current_id) "
    "SELECT %s, %s, %s, %s, id FROM version)"
)
_UPDATE_REPORT = (
    "report_row AS (UPDATE report SET current_id = (SELECT id FROM version), title = %s, report_type = %s "
    "WHERE report_id = %s)"
)


def _store(report: Report, *, new: bool, using: str) -> None:
    """One statement (one round trip) stores ``report.current``, points the report's row at it (inserting
    the row of a new report), rewrites the search row and the vocabulary, and moves the write version."""
    version = report.current
    version_values = [report.report_id, *(getattr(version, name) for name in _VERSION_COLUMNS[1:])]
    if new:
        report_sql, report_values = _INSERT_REPORT, [report.report_id, report.study_id, report.title,
                                                     report.report_type]  # fmt: skip
    else:
        report_sql, report_values = _UPDATE_REPORT, [report.title, report.report_type, report.report_id]
    index_sql, index_values = index_ctes([report])
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"WITH {_INSERT_VERSION}, {report_sql}, {index_sql} "  # noqa: S608 (our own SQL)
            f"SELECT (SELECT id FROM version), {write_version.MOVE_EXPRESSION}",
            [*version_values, *report_values, *index_values],
        )
        version.id = cursor.fetchone()[0]
    write_version.moved_in_statement(using)


def _signed_at(status: str, given: dt.datetime | None) -> dt.datetime | None:
    """When the version was signed: as given, else now for a signed status; never for a draft."""
    if status == lifecycle.DRAFT:
        return None
    if given is None and status in _SIGNING:
        return timezone.now().replace(microsecond=0)  # the hospital's wall-clock time (USE_TZ is off)
    return given
