"""Response shapes, for the OpenAPI document. The views write their JSON themselves (``presentation``), so
these describe it; ``tests/test_rest_contract.py`` checks that both list the same keys in the same order."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Schema

WallClockDateTime = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$",
        examples=["2025-11-06T10:30:00"],
        description="Hospital wall-clock time, no zone, no fraction.",
    ),
]
Date = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["1958-03-14"])]


class StudyOut(Schema):
    exam_id: str
    medical_record_no: str | None
    application_order_no: str | None
    patient_name: str
    patient_gender: str | None
    patient_birth_date: Date | None
    patient_age: int | None
    exam_status: str
    exam_source: str
    exam_item: str
    exam_description: str | None
    exam_room: str | None
    exam_equipment: str | None
    equipment_type: str | None
    order_datetime: WallClockDateTime
    check_in_datetime: WallClockDateTime | None
    report_certification_datetime: WallClockDateTime | None
    certified_physician: str | None


class SearchFiltersOut(Schema):
    exam_statuses: list[str]
    exam_sources: list[str]
    exam_items: list[str]


class SearchOut(Schema):
    data: list[StudyOut]
    total: int = Field(description="All matching records, before paging.")
    page: int
    page_size: int
    filters: SearchFiltersOut = Field(description="Distinct non-empty values in the whole table, sorted.")


class FilterOptionsOut(Schema):
    exam_statuses: list[str]
    exam_sources: list[str]
    exam_items: list[str]
    equipment_types: list[str]
    exam_rooms: list[str]
    exam_equipments: list[str]


class HealthOut(Schema):
    status: str = Field(examples=["ok"])
    version: str
    database: str = Field(examples=["ok"], description="`ok`, or a short reason")


class ErrorOut(Schema):
    detail: str


class ValidationErrorItem(Schema):
    type: str
    loc: list[str]
    msg: str
    input: Any


class ValidationErrorOut(Schema):
    detail: list[ValidationErrorItem]
