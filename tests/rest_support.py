"""A small, fixed, hand-written set of studies for the REST facade's tests, and request helpers."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from server.core.data_version import bump_data_version
from server.studies import bulk
from server.studies.columns import STUDY_FIELDS
from tests.conftest import bearer_headers, study_values

NO_OPTIONAL = {
    "medical_record_no": None,
    "application_order_no": None,
    "patient_gender": None,
    "patient_birth_date": None,
    "patient_age": None,
    "exam_description": None,
    "exam_room": None,
    "exam_equipment": None,
    "equipment_type": None,
    "check_in_datetime": None,
    "report_certification_datetime": None,
    "certified_physician": None,
}

FIXED_STUDIES: list[dict] = [
    # Everything filled in: the contract's own example times.
    study_values("20250000001"),
    # Every optional field null; an older system's English status and a modality as the source.
    study_values(
        "20250000002",
        patient_name="Smith John",
        exam_status="completed",
        exam_source="CT",
        exam_item="CT Chest",
        order_datetime=dt.datetime(2025, 11, 5, 8, 0, 0),
        **NO_OPTIONAL,
    ),
    # The last second of 2025-11-06: a date-only end_date must include it.
    study_values(
        "20250000003",
        medical_record_no="00654321",
        patient_name="林美華",
        patient_gender="F",
        patient_birth_date=dt.date(1990, 1, 2),
        patient_age=35,
        exam_status="已報到",
        exam_source="急診",
        exam_item="MR Brain",
        exam_description="=1+1 Brain MRI",  # text that spreadsheets would take for a formula
        exam_room="MR3T",
        exam_equipment="Siemens Skyra",
        equipment_type="MR",
        order_datetime=dt.datetime(2025, 11, 6, 23, 59, 59),
        check_in_datetime=dt.datetime(2025, 11, 7, 0, 10, 0),
        report_certification_datetime=None,
        certified_physician=None,
    ),
    # The first second of the next day.
    study_values(
        "20250000004",
        medical_record_no="00777777",
        patient_name="王大同",
        patient_age=80,
        patient_birth_date=dt.date(1945, 6, 30),
        exam_status="終審報告",
        exam_source="住院",
        exam_item="US Abdomen",
        exam_description="Abdomen US",
        exam_room="US1",
        exam_equipment="Philips EPIQ",
        equipment_type="US",
        order_datetime=dt.datetime(2025, 11, 7, 0, 0, 0),
        check_in_datetime=dt.datetime(2025, 11, 7, 0, 30, 0),
        report_certification_datetime=dt.datetime(2025, 11, 7, 9, 15, 0),
    ),
    # The same patient and order time as the first: ties are broken by exam_id; no check-in (sorts last).
    study_values(
        "20250000005",
        exam_item="300727240",
        exam_description='Brain CT, "contrast"',
        check_in_datetime=None,
        report_certification_datetime=None,
        certified_physician=None,
    ),
    # A boy of 12 in the emergency room, CT, reported by another physician.
    study_values(
        "20250000006",
        medical_record_no="00999999",
        patient_name="陳小弟",
        patient_birth_date=dt.date(2013, 8, 8),
        patient_age=12,
        exam_source="急診",
        exam_status="已報到",
        order_datetime=dt.datetime(2025, 11, 4, 14, 5, 6),
        check_in_datetime=dt.datetime(2025, 11, 4, 14, 20, 0),
        report_certification_datetime=dt.datetime(2025, 11, 4, 16, 0, 0),
        certified_physician="張文華",
    ),
]


def load_fixed_studies() -> list[dict]:
    """Write FIXED_STUDIES (inside the test's transaction) and mark the data as changed."""
    bulk.write_studies(tuple(row[name] for name in STUDY_FIELDS) for row in FIXED_STUDIES)
    bump_data_version()
    return FIXED_STUDIES


def ids_of(response) -> list[str]:
    return [study["exam_id"] for study in response.json()["data"]]


def lenient_client() -> Client:
    """A client, logged in as an admin, that answers 500 instead of raising the view's exception."""
    return Client(raise_request_exception=False, **bearer_headers())
