"""The 18 study fields in the order of the legacy contract: the one list every layer iterates."""

from __future__ import annotations

STUDY_FIELDS: tuple[str, ...] = (
    "exam_id",
    "medical_record_no",
    "application_order_no",
    "patient_name",
    "patient_gender",
    "patient_birth_date",
    "patient_age",
    "exam_status",
    "exam_source",
    "exam_item",
    "exam_description",
    "exam_room",
    "exam_equipment",
    "equipment_type",
    "order_datetime",
    "check_in_datetime",
    "report_certification_datetime",
    "certified_physician",
)

# Column order of the legacy DuckDB table (docs/legacy-data.md §1), without its data_load_time: fixtures and
# benchmarks write legacy files in this order, as the old loader did.
LEGACY_COLUMN_ORDER: tuple[str, ...] = (
    "exam_id",
    "medical_record_no",
    "application_order_no",
    "patient_name",
    "patient_gender",
    "patient_birth_date",
    "patient_age",
    "exam_status",
    "exam_source",
    "exam_room",
    "exam_item",
    "exam_description",
    "order_datetime",
    "exam_equipment",
    "equipment_type",
    "check_in_datetime",
    "report_certification_datetime",
    "certified_physician",
)

DATETIME_FIELDS: tuple[str, ...] = ("order_datetime", "check_in_datetime", "report_certification_datetime")

# PostgreSQL types of STUDY_FIELDS, for binary COPY (which needs them declared).
POSTGRES_COPY_TYPES: tuple[str, ...] = tuple(
    "date"
    if name == "patient_birth_date"
    else "int2"
    if name == "patient_age"
    else "timestamp"
    if name in DATETIME_FIELDS
    else "text"
    for name in STUDY_FIELDS
)
