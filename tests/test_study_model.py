"""The Study model on PostgreSQL: every field round-trips exactly, nulls included, and wall-clock times
never move, whatever the process's or the database session's time zone."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.db import IntegrityError, connection, transaction

from server.studies.columns import STUDY_FIELDS
from server.studies.models import Study
from tests.conftest import study_values

pytestmark = pytest.mark.django_db

NULLABLE = [f.name for f in Study._meta.get_fields() if getattr(f, "null", False) and f.name in STUDY_FIELDS]


def test_the_model_has_the_contract_fields_in_order():
    model_fields = [f.name for f in Study._meta.concrete_fields if f.name in STUDY_FIELDS]
    assert model_fields == list(STUDY_FIELDS)
    assert Study._meta.db_table == "medical_examinations_fact"
    assert Study._meta.pk.name == "exam_id"


def test_every_field_round_trips_exactly():
    values = study_values()
    Study.objects.create(**values)
    stored = Study.objects.get(pk=values["exam_id"])
    assert {name: getattr(stored, name) for name in STUDY_FIELDS} == values
    assert isinstance(stored.patient_age, int)
    assert type(stored.patient_birth_date) is dt.date
    assert stored.imported_at is not None


def test_every_nullable_field_round_trips_null():
    assert set(NULLABLE) == {
        "medical_record_no",
        "application_order_no",
        "patient_gender",
        "patient_birth_date",
        "patient_age",
        "exam_description",
        "exam_room",
        "exam_equipment",
        "equipment_type",
        "check_in_datetime",
        "report_certification_datetime",
        "certified_physician",
    }
    values = study_values(**dict.fromkeys(NULLABLE))
    Study.objects.create(**values)
    stored = Study.objects.get(pk=values["exam_id"])
    assert {name: getattr(stored, name) for name in STUDY_FIELDS} == values


def test_required_fields_refuse_null():
    for name in ("patient_name", "exam_status", "exam_source", "exam_item", "order_datetime"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Study.objects.create(**study_values(**{name: None}))


def test_age_outside_0_to_150_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Study.objects.create(**study_values(patient_age=151))
    Study.objects.create(**study_values(exam_id="x-age-0", patient_age=0))


def test_str_never_shows_the_patient_name():
    assert "王小明" not in str(Study(**study_values()))


def test_text_sorts_by_code_point_like_the_legacy_backend():
    for exam_id, name in (("1", "b"), ("2", "B"), ("3", "王"), ("4", "a")):
        Study.objects.create(**study_values(exam_id=exam_id, patient_name=name))
    assert list(Study.objects.order_by("patient_name").values_list("patient_name", flat=True)) == [
        "B",
        "a",
        "b",
        "王",
    ]


@pytest.fixture(params=["UTC", "America/New_York"])
def process_time_zone(request):
    """Run the test under another TZ for this process, as a misconfigured host would."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


@pytest.mark.parametrize("session_time_zone", ["UTC", "Pacific/Auckland"])
def test_wall_clock_time_is_kept_exactly(process_time_zone, session_time_zone):
    wall_clock = dt.datetime(2025, 11, 6, 10, 30, 0)
    with connection.cursor() as cursor:
        cursor.execute("SET timezone = %s", [session_time_zone])
    Study.objects.create(**study_values(order_datetime=wall_clock, check_in_datetime=None))
    assert Study.objects.get().order_datetime == wall_clock
    assert Study.objects.filter(order_datetime=wall_clock).count() == 1
    with connection.cursor() as cursor:
        # What any other client (psql, a report tool, a bulk loader) sees, in any session zone.
        cursor.execute("SET timezone = 'Asia/Kolkata'")
        cursor.execute("SELECT order_datetime::text FROM medical_examinations_fact")
        assert cursor.fetchone() == ("2025-11-06 10:30:00",)


def test_a_time_in_a_daylight_saving_gap_is_kept(settings):
    # 02:30 did not exist in Berlin on 2025-03-30; a timestamptz column would move it to 03:30.
    settings.TIME_ZONE = "Europe/Berlin"
    gap = dt.datetime(2025, 3, 30, 2, 30, 0)
    with connection.cursor() as cursor:
        cursor.execute("SET timezone = 'Europe/Berlin'")
    Study.objects.create(**study_values(order_datetime=gap))
    assert Study.objects.get().order_datetime == gap


def test_an_aware_datetime_is_stored_as_the_hospital_wall_clock():
    aware = dt.datetime(2025, 11, 6, 2, 30, tzinfo=dt.UTC)
    Study.objects.create(**study_values(order_datetime=aware))
    assert Study.objects.get().order_datetime == dt.datetime(2025, 11, 6, 10, 30)  # Asia/Taipei is UTC+8
