"""Writing many reports at once (the demo generator; the legacy importer next): batches of reports, their
versions, then the pointers to the current versions, in the caller's transaction.

The versions' statuses go through the lifecycle (``lifecycle.first_version`` / ``next_version``), which also
names each change, so a bulk write can store no history that ``save_report`` would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from server.reports import lifecycle
from server.reports.demo_data import DemoReport
from server.reports.models import Report, ReportVersion
from server.reports.search_rows import index_reports
from server.reports.sections import split_sections
from server.reports.services import content_hash

BATCH = 1000


def write_reports(reports: Iterable[DemoReport], using: str = "default") -> tuple[int, int]:
    """Store every report with its versions; returns (reports, versions). Existing ids raise, never skip."""
    written = versions_written = 0
    pending = iter(reports)
    while batch := list(islice(pending, BATCH)):
        Report.objects.using(using).bulk_create(
            [
                Report(report_id=r.report_id, study_id=r.exam_id, title=r.title, report_type=r.report_type)
                for r in batch
            ]
        )
        versions = [version for report in batch for version in _history(report)]
        stored = ReportVersion.objects.using(using).bulk_create(versions)
        current = {version.report_id: version.pk for version in stored}  # the last of each report's
        Report.objects.using(using).bulk_update(
            [Report(report_id=report_id, current_id=pk) for report_id, pk in current.items()], ["current"]
        )
        index_reports(current, using=using)
        written += len(batch)
        versions_written += len(stored)
    return written, versions_written


def _history(report: DemoReport) -> list[ReportVersion]:
    versions, previous = [], None
    for number, version in enumerate(report.versions, start=1):
        if previous is None:
            transition = lifecycle.first_version(version.status)
        else:
            changed = version.content != previous.content
            transition = lifecycle.next_version(previous.status, version.status, changed)
            if transition is None:
                raise lifecycle.LifecycleViolation(f"version {number} of {report.report_id} changes nothing")
        versions.append(
            ReportVersion(
                report_id=report.report_id,
                number=number,
                status=transition.status,
                change=transition.change,
                radiologist=report.radiologist,
                verified_at=version.verified_at,
                content=version.content,
                content_hash=content_hash(version.content),
                **split_sections(version.content),
            )
        )
        previous = version
    return versions
