"""A report and its versions.

Every change of a report's content or status is a new ``ReportVersion``, never an update: a trigger refuses
UPDATE and DELETE on versions (migration 0002), as on the audit trail. ``Report.current`` points at the
latest version, so reading a report's current text reads one version, not all of them.

A report belongs to a study by ``exam_id``, a relation without a database constraint: a report may arrive
before its study (the legacy system sent some so, and the reporting workstation may), and is linked once the
study is imported, without being written again. ``Study.reports`` is the reverse relation.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now

from server.reports.lifecycle import CHANGES, STATUSES
from server.studies.fields import CodePointCharField, WallClockDateTimeField
from server.studies.models import Study

MAX_CONTENT_LENGTH = 100_000  # characters; longer content is refused (REST: 400)


class Report(models.Model):
    report_id = CodePointCharField(primary_key=True)
    study = models.ForeignKey(
        Study,
        to_field="exam_id",
        db_column="exam_id",
        db_constraint=False,  # a report may come before its study
        db_index=True,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="reports",
    )
    title = CodePointCharField(null=True, blank=True)
    report_type = CodePointCharField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    current = models.OneToOneField(
        "ReportVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "report"

    def __str__(self) -> str:
        return f"report {self.report_id}"


class ReportVersion(models.Model):
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = CodePointCharField(choices=[(status, status) for status in STATUSES])
    change = CodePointCharField(choices=[(change, change) for change in CHANGES])
    radiologist = CodePointCharField(null=True, blank=True)
    verified_at = WallClockDateTimeField(null=True, blank=True)
    stored_at = models.DateTimeField(db_default=Now())
    content = models.TextField()
    content_hash = models.CharField(max_length=64)  # SHA-256 hex of content
    # Sections split from the content when the version was stored (server.reports.sections).
    history = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: the text has no such section)
    technique = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: the text has no such section)
    comparison = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: the text has no such section)
    findings = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: the text has no such section)
    impression = models.TextField(null=True, blank=True)  # noqa: DJ001 (null: the text has no such section)

    class Meta:
        db_table = "report_version"
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_number_unique"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="report_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"
