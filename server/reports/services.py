"""Writing reports (HackSoft's "services"): every write of a report, from the API or an import, goes through
``save_report``, which stores a new immutable version or nothing.

One transaction per write, with the report's row locked: two writers of the same report take turns, and
the second sees the first's version, so ``expected_version`` (the API's ``If-Match``) refuses a write made
against a version that is no longer current instead of silently overwriting it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from server.reports import lifecycle
from server.reports.models import MAX_CONTENT_LENGTH, Report, ReportVersion
from server.reports.search_rows import index_loaded
from server.reports.sections import split_sections

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
    using: str = DEFAULT_DB_ALIAS,
) -> SavedReport:
    """Store a new version of ``report_id`` (a new report without one) when its content or status differ
    from the current version's, and nothing when both are the same: a resent message is harmless.

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
    report_id = report_id or uuid.uuid4().hex
    digest = content_hash(content)
    with transaction.atomic(using=using):
        # A concurrent first write of the same id waits here for the other's commit, then finds its report.
        Report.objects.using(using).bulk_create(
            [Report(report_id=report_id, study_id=exam_id, title=title, report_type=report_type)],
            ignore_conflicts=True,
        )
        report = (
            Report.objects.using(using)
            .select_for_update(of=("self",))
            .select_related("current")
            .get(pk=report_id)
        )
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
                return SavedReport(report_id, current.number, UNCHANGED)
            number, action = current.number + 1, UPDATED
        version = ReportVersion.objects.using(using).create(
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
        report.current = version
        fields = ["current"]
        for name, value in (("title", title), ("report_type", report_type)):
            if value is not None and getattr(report, name) != value:
                setattr(report, name, value)
                fields.append(name)
        report.save(using=using, update_fields=fields)
        index_loaded([report], using=using)
    return SavedReport(report_id, number, action)


def _signed_at(status: str, given: dt.datetime | None) -> dt.datetime | None:
    """When the version was signed: as given, else now for a signed status; never for a draft."""
    if status == lifecycle.DRAFT:
        return None
    if given is None and status in _SIGNING:
        return timezone.now().replace(microsecond=0)  # the hospital's wall-clock time (USE_TZ is off)
    return given
