"""/studies/export: CSV bytes (BOM, header, nulls, quoting, file name) and XLSX read back with openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from rest_compat import export
from server.studies.columns import STUDY_FIELDS
from tests.rest_support import FIXED_STUDIES, load_fixed_studies

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/studies/export"
FILENAME = re.compile(r'^attachment; filename="studies_export_\d{8}_\d{6}\.(csv|xlsx)"$')
BY_ID = {row["exam_id"]: row for row in FIXED_STUDIES}


@pytest.fixture(autouse=True)
def fixed():
    return load_fixed_studies()


def body(response) -> bytes:
    # Read to the end, as a WSGI server does: the test client then closes the response (and so the
    # temporary file or the cursor behind it).
    return b"".join(response.streaming_content)


def status(response) -> int:
    body(response)
    return response.status_code


def csv_rows(response) -> list[list[str]]:
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_csv_is_a_streamed_download_with_the_contract_headers(client):
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert FILENAME.match(response["Content-Disposition"]).group(1) == "csv"
    assert response["Access-Control-Expose-Headers"] == "Content-Disposition"
    rows = csv_rows(response)
    assert rows[0] == list(STUDY_FIELDS)
    assert len(rows) == 1 + len(FIXED_STUDIES)


def test_csv_values_nulls_and_datetimes(client):
    rows = {row[0]: dict(zip(STUDY_FIELDS, row, strict=True)) for row in csv_rows(client.get(EXPORT))[1:]}
    nulls = rows["20250000002"]
    assert [name for name, value in nulls.items() if value == ""] == [
        name for name in STUDY_FIELDS if BY_ID["20250000002"][name] is None
    ]
    full = rows["20250000001"]
    assert full["order_datetime"] == "2025-11-06T10:30:00"
    assert full["patient_birth_date"] == "1958-03-14"
    assert full["patient_age"] == "67"
    assert full["patient_name"] == "王小明"
    assert rows["20250000005"]["exam_description"] == 'Brain CT, "contrast"'


def test_csv_follows_filters_and_sort(client):
    rows = csv_rows(client.get(EXPORT, {"exam_source[]": ["急診", "門診"], "sort": "order_datetime_asc"}))
    assert [row[0] for row in rows[1:]] == ["20250000006", "20250000001", "20250000005", "20250000003"]


def test_hand_picked_exam_ids(client):
    rows = csv_rows(client.get(EXPORT, {"exam_ids": ["20250000004", "20250000002", "nope"]}))
    assert [row[0] for row in rows[1:]] == ["20250000004", "20250000002"]
    rows = csv_rows(client.get(f"{EXPORT}?exam_ids[]=20250000003&exam_ids=20250000006&exam_ids="))
    assert {row[0] for row in rows[1:]} == {"20250000003", "20250000006"}
    # Combined with a filter, both apply.
    rows = csv_rows(client.get(EXPORT, {"exam_ids": ["20250000004", "20250000002"], "exam_source": "CT"}))
    assert [row[0] for row in rows[1:]] == ["20250000002"]


def test_an_empty_result_is_a_header_only_file(client):
    assert csv_rows(client.get(EXPORT, {"q": "no such patient"})) == [list(STUDY_FIELDS)]
    # A term longer than every searched value compiles to a condition without SQL (`IN ()`).
    assert csv_rows(client.get(EXPORT, {"q": "9" * 100})) == [list(STUDY_FIELDS)]
    assert body(client.get(EXPORT, {"q": "9" * 100, "format": "xlsx"})).startswith(b"PK")


def test_csv_streams_in_pieces_from_a_cursor(client, monkeypatch):
    """Many rows arrive in several pieces, each produced as the rows are read (not one big string)."""
    monkeypatch.setattr(export, "CSV_ROWS_PER_CHUNK", 2)
    response = client.get(EXPORT)
    pieces = list(response.streaming_content)
    assert len(pieces) == 4  # BOM and header with rows 1-2, rows 3-4, rows 5-6, the empty remainder


def test_the_filename_is_the_hospital_wall_clock_time(monkeypatch):
    monkeypatch.setattr("rest_compat.export.timezone.now", lambda: dt.datetime(2026, 1, 2, 3, 4, 5))
    assert export.export_filename("csv") == "studies_export_20260102_030405.csv"


def xlsx_rows(response) -> list[tuple]:
    data = body(response)
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    # Read-only mode ends a row at its last written cell: trailing nulls are simply absent.
    width = len(STUDY_FIELDS)
    return [row + (None,) * (width - len(row)) for row in workbook.active.iter_rows(values_only=True)]


def test_xlsx_round_trips_through_openpyxl(client):
    response = client.get(EXPORT, {"format": "xlsx", "sort": "order_datetime_asc"})
    assert response.status_code == 200
    assert response["Content-Type"] == export.XLSX_CONTENT_TYPE
    assert FILENAME.match(response["Content-Disposition"]).group(1) == "xlsx"
    assert response["Access-Control-Expose-Headers"] == "Content-Disposition"
    rows = xlsx_rows(response)
    assert rows[0] == STUDY_FIELDS
    expected = sorted(FIXED_STUDIES, key=lambda r: (r["order_datetime"], r["exam_id"]))
    for row, study in zip(rows[1:], expected, strict=True):
        values = dict(zip(STUDY_FIELDS, row, strict=True))
        for name in STUDY_FIELDS:
            want = study[name]
            if name == "patient_birth_date" and want is not None:
                want = dt.datetime.combine(want, dt.time())  # Excel has no date-only type
            assert values[name] == want, name


def test_xlsx_cells_are_typed_and_displayed_in_the_contract_format(client):
    data = body(client.get(EXPORT, {"format": "xlsx", "exam_ids": "20250000003"}))
    sheet = load_workbook(io.BytesIO(data)).active
    cells = {cell.column_letter: cell for cell in sheet[2]}
    header = {cell.value: cell.column_letter for cell in sheet[1]}
    order = cells[header["order_datetime"]]
    assert order.value == dt.datetime(2025, 11, 6, 23, 59, 59)
    assert order.number_format == 'yyyy-mm-dd"T"hh:mm:ss'
    assert cells[header["patient_birth_date"]].number_format == "yyyy-mm-dd"
    assert cells[header["patient_age"]].value == 35
    description = cells[header["exam_description"]]
    assert description.value == "=1+1 Brain MRI" and description.data_type == "s"  # text, not a formula
    assert cells[header["report_certification_datetime"]].value is None


def test_xlsx_drops_characters_xml_cannot_hold(client):
    from server.studies.models import Study

    Study.objects.filter(pk="20250000001").update(exam_description="Brain\x0bCT\x1f")
    rows = xlsx_rows(client.get(EXPORT, {"format": "xlsx", "exam_ids": "20250000001"}))
    assert rows[1][STUDY_FIELDS.index("exam_description")] == "BrainCT"


@override_settings(EXPORT_XLSX_MAX_ROWS=6)
def test_xlsx_at_the_limit_is_written(client):
    assert len(xlsx_rows(client.get(EXPORT, {"format": "xlsx"}))) == 7


@override_settings(EXPORT_XLSX_MAX_ROWS=5)
def test_xlsx_over_the_limit_is_refused_with_the_count_and_the_limit(client):
    response = client.get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Export too large: 6 rows match, and XLSX exports are limited to 5 rows; "
        "narrow the filters or export CSV"
    }
    # Narrowed below the limit, it is written; CSV has no limit by default.
    assert status(client.get(EXPORT, {"format": "xlsx", "exam_source": "急診"})) == 200
    assert status(client.get(EXPORT)) == 200


def test_rows_imported_between_the_count_and_the_write_are_not_cut_off(monkeypatch):
    """The writer itself refuses to go past the limit, so a file is never silently short."""
    rows = [tuple(study[name] for name in STUDY_FIELDS) for study in FIXED_STUDIES]
    with pytest.raises(export.ExportTooLarge):
        export.write_xlsx(iter(rows), io.BytesIO(), limit=5)


@override_settings(EXPORT_XLSX_MAX_ROWS=5)
def test_a_late_overflow_is_reported_with_a_fresh_count(client, monkeypatch):
    counts = iter([5, 6])
    monkeypatch.setattr("rest_compat.api._count", lambda filters: next(counts))
    response = client.get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 400
    assert "6 rows match" in response.json()["detail"]


@override_settings(EXPORT_CSV_MAX_ROWS=2)
def test_an_optional_csv_limit(client):
    response = client.get(EXPORT)
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Export too large: 6 rows match, and CSV exports are limited to 2 rows; narrow the filters"
    )
    assert status(client.get(EXPORT, {"exam_ids": ["20250000001", "20250000002"]})) == 200


@pytest.mark.parametrize("value", ["pdf", "CSV", "xls", "json"])
def test_unknown_formats_are_refused(client, value):
    response = client.get(EXPORT, {"format": value})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid parameter: format must be csv or xlsx"}
