"""The examination record ("study"), on the legacy table name so that SQL written for it keeps working."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Left, Now

from server.studies.fields import (
    PREFIX_KEY_LENGTH,
    CodePointCharField,
    PrefixKeyedCharField,
    WallClockDateTimeField,
)

# The fields the free-text search (`q` in the REST contract) looks in, in one place for every consumer.
# On PostgreSQL each has a trigram GIN index (migration 0002) that serves a case-insensitive substring match.
SEARCHED_FIELDS = (
    "exam_id",
    "medical_record_no",
    "application_order_no",
    "patient_name",
    "exam_description",
    "exam_item",
)


# The longest text, in characters, that each field takes: the columns themselves are unbounded (the legacy
# columns are VARCHAR without a length), so these are the only limits, and they come from the btree indexes.
# A btree entry holds at most 2,704 bytes, and a character takes up to 4 bytes in UTF-8: 500 characters of a
# single-column index (2,000 bytes), and 400 + 200 of the (patient_name, exam_id) index, always fit, whatever
# the script. Real values are 2 to 60 characters. None: no limit at all (unindexed fields, and the
# description, whose index is on the first PREFIX_KEY_LENGTH characters). The importer reports a longer
# value as a problem of its row.
TEXT_LIMITS: dict[str, int | None] = {
    "exam_id": 200,
    "medical_record_no": 200,
    "application_order_no": 200,
    "patient_name": 400,
    "patient_gender": None,
    "exam_status": 500,
    "exam_source": 500,
    "exam_item": 500,
    "exam_description": None,
    "exam_room": 500,
    "exam_equipment": 500,
    "equipment_type": 500,
    "certified_physician": None,
}


class Study(models.Model):
    """One radiology examination, with the 18 fields of the legacy contract and when it was imported."""

    exam_id = CodePointCharField(primary_key=True)
    medical_record_no = CodePointCharField(null=True, blank=True)
    application_order_no = CodePointCharField(null=True, blank=True)
    patient_name = CodePointCharField()
    patient_gender = CodePointCharField(null=True, blank=True)
    patient_birth_date = models.DateField(null=True, blank=True)
    patient_age = models.SmallIntegerField(null=True, blank=True)
    exam_status = CodePointCharField()
    exam_source = CodePointCharField()
    exam_item = CodePointCharField()
    exam_description = PrefixKeyedCharField(null=True, blank=True)
    exam_room = CodePointCharField(null=True, blank=True)
    exam_equipment = CodePointCharField(null=True, blank=True)
    equipment_type = CodePointCharField(null=True, blank=True)
    order_datetime = WallClockDateTimeField()
    check_in_datetime = WallClockDateTimeField(null=True, blank=True)
    report_certification_datetime = WallClockDateTimeField(null=True, blank=True)
    certified_physician = CodePointCharField(null=True, blank=True)
    # The description's first characters, kept by the database itself: its btree serves equality and the
    # distinct values (see PrefixKeyedCharField), for descriptions of any length. Not a field of the contract.
    exam_description_key = models.GeneratedField(
        expression=Left("exam_description", PREFIX_KEY_LENGTH),
        output_field=CodePointCharField(null=True),
        db_persist=True,
    )
    imported_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "medical_examinations_fact"
        verbose_name_plural = "studies"
        ordering = ("-order_datetime", "-exam_id")
        # Each index is paid for on every load (measured: 0.75 to 2 s per btree per million rows), so only
        # those a query needs are kept. Filters on columns with a handful of values (status, source,
        # modality) match large groups: walking the order-time index and skipping non-matching rows finds a
        # page fastest, and totals are cached per data version. Those columns are indexed all the same, for
        # the drop-downs (with room and equipment): each worker reads their distinct values after every
        # import, by loose index scans (1.7 ms for all six at 10,000,000 studies, against 4 s of SELECT
        # DISTINCT; selectors/options.py).
        indexes = [
            # Sorts of the contract, each with exam_id as the tie-breaker so that paging is stable; the
            # order-time index also serves date ranges and the landing page.
            models.Index(fields=["-order_datetime", "-exam_id"], name="study_order_dt_idx"),
            # check_in_datetime is nullable and nulls sort last in both directions, so the descending sort has
            # an index of its own with NULLS LAST (migration 0002: Django cannot declare it).
            models.Index(fields=["check_in_datetime", "exam_id"], name="study_check_in_asc_idx"),
            models.Index(fields=["patient_name", "exam_id"], name="study_patient_name_idx"),
            # Few distinct values: free text is matched against the values and becomes `IN (...)` on these
            # (see selectors/text_search.py); they also serve the exact filters and the option lists.
            models.Index(fields=["exam_item"], name="study_item_idx"),
            models.Index(fields=["exam_description_key"], name="study_description_key_idx"),
            # The other drop-downs' fields (see above); exam_item's is the index above.
            models.Index(fields=["exam_status"], name="study_status_idx"),
            models.Index(fields=["exam_source"], name="study_source_idx"),
            models.Index(fields=["equipment_type"], name="study_equipment_type_idx"),
            models.Index(fields=["exam_room"], name="study_exam_room_idx"),
            models.Index(fields=["exam_equipment"], name="study_exam_equipment_idx"),
            # Exact chart and order numbers, the lookups a department makes most: the trigram indexes
            # (migration 0002) serve equality too, but an 11-digit number shares its trigrams with most
            # others, so one lookup read thousands of index entries (36 ms at 1,000,000 rows, against
            # 0.1 ms here). Free text as long as the longest value becomes `=` and uses these too.
            models.Index(fields=["medical_record_no"], name="study_medical_record_no_idx"),
            models.Index(fields=["application_order_no"], name="study_application_order_no_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(patient_age__isnull=True) | Q(patient_age__gte=0, patient_age__lte=150),
                name="study_patient_age_range",
            ),
        ]

    def __str__(self) -> str:
        # Never the patient's name: model reprs end up in logs and tracebacks.
        return f"Study {self.exam_id}"
