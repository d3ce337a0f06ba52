"""A report and its versions.

Every change of a report's content or status is a new ``ReportVersion``, never an update: a trigger refuses
UPDATE and DELETE on versions (migration 0002), as on the audit trail. ``Report.current`` points at the
latest version, so reading a report's current text reads one version, not all of them.

A report belongs to a study by ``exam_id``, a relation without a database constraint: a report may arrive
before its study (the legacy system sent some so, and the reporting workstation may), and is linked once the
study is imported, without being written again. ``Study.reports`` is the reverse relation.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
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
    # No index of its own (nor its LIKE twin): report_version_number_unique (report, number) serves every
    # lookup by report, and two more indexes were two more writes on every version stored.
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="versions", db_index=False)
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


class ReportSearch(models.Model):
    """Each report's current state, as searched: the current version's filter and sort fields beside the
    document and its tokens (``server.reports.text_index``). One row per report, rewritten with each new
    version by the write that stores it, so a search reads one narrow table and never a superseded text.

    The document and tokens are stored out of line (``toast_tuple_target``, migration 0003): a count that
    the token index answers then reads only small rows, or none."""

    report = models.OneToOneField(
        Report, primary_key=True, db_column="report_id", on_delete=models.CASCADE, related_name="+"
    )
    exam_id = CodePointCharField(null=True, blank=True)
    report_type = CodePointCharField(null=True, blank=True)
    status = CodePointCharField()
    radiologist = CodePointCharField(null=True, blank=True)
    verified_at = WallClockDateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    document = models.TextField()
    tokens = ArrayField(models.TextField())

    class Meta:
        db_table = "report_search"
        indexes = [
            GinIndex(fields=["tokens"], name="report_search_tokens"),
            models.Index(
                models.OrderBy(models.F("verified_at"), descending=True, nulls_last=True),
                "report_id",
                name="report_search_verified",
            ),
            # ascending, nulls last (PostgreSQL's default for ASC)
            models.Index(fields=["verified_at", "report_id"], name="report_search_verified_asc"),
            models.Index(fields=["created_at", "report_id"], name="report_search_created"),
            models.Index(fields=["-created_at", "report_id"], name="report_search_created_desc"),
            models.Index(fields=["exam_id"], name="report_search_exam_id"),
            models.Index(fields=["status", "verified_at"], name="report_search_status"),
            models.Index(fields=["radiologist"], name="report_search_radiologist"),
            models.Index(fields=["report_type"], name="report_search_report_type"),
        ]

    def __str__(self) -> str:
        return f"search row of {self.report_id}"


class ReportSearchWord(models.Model):
    """The vocabulary of the text index: every ASCII word of three or more characters any report has had.
    It only grows (see ``server.reports.text_index``)."""

    word = models.TextField(primary_key=True)

    class Meta:
        db_table = "report_search_word"
        indexes = [GinIndex(fields=["word"], opclasses=["gin_trgm_ops"], name="report_search_word_trgm")]

    def __str__(self) -> str:
        return self.word
