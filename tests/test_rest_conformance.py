"""Every Study object the API writes, over a generated data set, against the contract's table of keys."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.db import transaction

from server.core.data_version import bump_data_version
from server.studies import bulk
from server.studies.columns import STUDY_FIELDS
from server.studies.demo_data import generate_studies
from server.studies.models import Study

ROWS = 1200
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The contract's table: key → (JSON type, nullable, format).
CONTRACT = {
    "exam_id": (str, False, None),
    "medical_record_no": (str, True, None),
    "application_order_no": (str, True, None),
    "patient_name": (str, False, None),
    "patient_gender": (str, True, None),
    "patient_birth_date": (str, True, DATE),
    "patient_age": (int, True, None),
    "exam_status": (str, False, None),
    "exam_source": (str, False, None),
    "exam_item": (str, False, None),
    "exam_description": (str, True, None),
    "exam_room": (str, True, None),
    "exam_equipment": (str, True, None),
    "equipment_type": (str, True, None),
    "order_datetime": (str, False, DATETIME),
    "check_in_datetime": (str, True, DATETIME),
    "report_certification_datetime": (str, True, DATETIME),
    "certified_physician": (str, True, None),
}


def expected_json_value(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker) -> dict[str, dict]:
    rows = list(generate_studies(ROWS, seed=5))
    with django_db_blocker.unblock():
        with transaction.atomic():
            bulk.write_studies(rows)
            bump_data_version()
        yield {row[0]: dict(zip(STUDY_FIELDS, row, strict=True)) for row in rows}
        with transaction.atomic():
            Study.objects.all().delete()
            bump_data_version()


pytestmark = pytest.mark.django_db


def check_study(pairs: list[tuple[str, object]], source: dict) -> None:
    assert list(CONTRACT) == list(STUDY_FIELDS)
    assert [key for key, _ in pairs] == list(CONTRACT), "keys and their order"
    for key, value in pairs:
        json_type, nullable, pattern = CONTRACT[key]
        if value is None:
            assert nullable, f"{key} is null"
            assert source[key] is None, f"{key} null but the row has a value"
            continue
        assert type(value) is json_type, f"{key}: {type(value).__name__}"
        assert value not in ("", "null"), key
        if pattern is not None:
            assert pattern.match(value), f"{key}: {value!r}"
        assert value == expected_json_value(source[key]), key


def test_every_study_of_every_page_conforms(client, generated):
    assert sum(1 for row in generated.values() for value in row.values() if value is None) > 0
    seen: list[str] = []
    page = 1
    while True:
        response = client.get("/api/v1/studies/search", {"page": page, "page_size": 100})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        body = json.loads(response.content, object_pairs_hook=lambda pairs: pairs)
        top = dict(body)
        assert [key for key, _ in body] == ["data", "total", "page", "page_size", "filters"]
        assert top["total"] == ROWS and top["page"] == page and top["page_size"] == 100
        if not top["data"]:
            break
        for pairs in top["data"]:
            exam_id = dict(pairs)["exam_id"]
            check_study(pairs, generated[exam_id])
            seen.append(exam_id)
        page += 1
    assert len(seen) == ROWS and set(seen) == set(generated), "every study exactly once"
    newest_first = sorted(
        generated.values(), key=lambda r: (r["order_datetime"], r["exam_id"]), reverse=True
    )
    assert seen == [r["exam_id"] for r in newest_first]


def test_detail_conforms_for_a_sample(client, generated):
    for exam_id in list(generated)[::97]:
        response = client.get(f"/api/v1/studies/{exam_id}")
        assert response.status_code == 200
        check_study(json.loads(response.content, object_pairs_hook=lambda pairs: pairs), generated[exam_id])


def test_the_search_filters_are_the_whole_tables_distinct_values(client, generated):
    filters = client.get("/api/v1/studies/search", {"q": "no-such-patient"}).json()["filters"]
    for key, field in (
        ("exam_statuses", "exam_status"),
        ("exam_sources", "exam_source"),
        ("exam_items", "exam_item"),
    ):
        assert filters[key] == sorted({row[field] for row in generated.values() if row[field]}), key


def test_the_csv_export_holds_the_same_values(client, generated):
    response = client.get("/api/v1/studies/export")
    data = b"".join(response.streaming_content)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(STUDY_FIELDS) and len(rows) == ROWS + 1
    for row in rows[1:]:
        source = generated[row[0]]
        for key, cell in zip(STUDY_FIELDS, row, strict=True):
            value = expected_json_value(source[key])
            assert cell == ("" if value is None else str(value)), key
