"""Header mapping and the value parsers of the importers: no database needed."""

from __future__ import annotations

import datetime as dt

import pytest

from importers import values
from importers.headers import FIELD_LABELS, HeaderError, map_headers
from importers.normalise import BLANK, RowNormaliser
from server.studies.columns import STUDY_FIELDS
from tests.import_fixtures import SIMPLIFIED, TRADITIONAL, legacy, studies


@pytest.mark.parametrize("labels", [TRADITIONAL, SIMPLIFIED, list(STUDY_FIELDS)])
def test_every_label_set_maps_every_field(labels):
    header = map_headers(labels)
    assert header.positions == {name: index for index, name in enumerate(STUDY_FIELDS)}
    assert header.warnings == ()


def test_stray_and_full_width_spaces_and_case_are_ignored():
    labels = [" 檢查流水號", "姓名 ", "開單日期／時間", "狀　態", "來源\t", "Exam Item", "EXAM_DESCRIPTION"]
    header = map_headers(labels)
    assert list(header.positions) == [
        "exam_id",
        "patient_name",
        "order_datetime",
        "exam_status",
        "exam_source",
        "exam_item",
        "exam_description",
    ]


def test_unknown_headers_are_named_in_a_warning_and_known_extras_are_not():
    header = map_headers([*TRADITIONAL, "備註", None, "data_load_time"], expected_extra=["data_load_time"])
    assert header.unknown == ("備註",)
    assert header.warnings == (
        "columns not recognised and ignored: '備註'",
        "1 column(s) without a header label ignored",
    )


def test_missing_required_headers_are_all_named():
    labels = [label for label in TRADITIONAL if label not in {"姓名", "檢查項目"}]
    with pytest.raises(HeaderError) as caught:
        map_headers(labels)
    assert caught.value.missing == ("patient_name", "exam_item")
    assert "patient_name (姓名)" in str(caught.value) and "exam_item (檢查項目)" in str(caught.value)


def test_two_columns_for_one_field_are_refused():
    with pytest.raises(HeaderError, match="columns 1 and 19 both hold exam_id"):
        map_headers([*TRADITIONAL, "exam_id"])


def test_simplified_labels_of_the_legacy_document():
    for label in ("性别", "年龄", "状态", "来源", "检查室", "检查项目", "检查描述", "开单日期/时间", "仪器"):
        assert any(label in labels for labels in FIELD_LABELS.values())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-11-06 10:30:00", dt.datetime(2025, 11, 6, 10, 30)),
        ("2025-11-06T10:30:00", dt.datetime(2025, 11, 6, 10, 30)),
        ("2025/11/06 10:30", dt.datetime(2025, 11, 6, 10, 30)),
        ("2025/1/6 8:05", dt.datetime(2025, 1, 6, 8, 5)),
        (" 2025-11-06 10:30:59 ", dt.datetime(2025, 11, 6, 10, 30, 59)),
        ("2025-11-06 10:30:00.250000", dt.datetime(2025, 11, 6, 10, 30, 0, 250000)),
        (dt.datetime(2025, 3, 30, 2, 30), dt.datetime(2025, 3, 30, 2, 30)),  # an Excel date cell
        ("", None),
        (None, None),
    ],
)
def test_wall_clock_times_are_taken_exactly(raw, expected):
    assert values.wall_clock(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("2025-02-30 10:00:00", "'2025-02-30 10:00:00' is not a real date and time"),
        ("2025-11-06 24:00:00", "is not a real date and time"),
        ("yesterday", "the value is not a datetime"),
        ("2025-11-06", "has no time of day"),
        ("2025-11-06T10:30:00+08:00", "is not a datetime"),
        (dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "time-zone offset"),
        (45967.5, "a float where a date and time was expected"),
    ],
)
def test_bad_times_say_why(raw, reason):
    with pytest.raises(values.BadValue, match=reason.replace("(", r"\(").replace("+", r"\+")):
        values.wall_clock(raw)


def test_birth_dates_ages_and_text():
    assert values.birth_date("19580314") == dt.date(1958, 3, 14)
    assert values.birth_date(19580314) == dt.date(1958, 3, 14)
    assert values.birth_date("1958-03-14") == dt.date(1958, 3, 14)
    assert values.birth_date(dt.datetime(1958, 3, 14)) == dt.date(1958, 3, 14)
    with pytest.raises(values.BadValue, match="not a real date"):
        values.birth_date("19581340")
    assert [values.age(v) for v in ("67", 67, 67.0, " 0 ", "150", "", None)] == [
        67,
        67,
        67,
        0,
        150,
        None,
        None,
    ]
    for bad, reason in (
        ("abc", "not a whole number"),
        ("151", "outside 0–150"),
        ("-1", "outside"),
        (6.5, "whole"),
    ):
        with pytest.raises(values.BadValue, match=reason):
            values.age(bad)
    assert values.text(12345678901) == "12345678901"
    assert values.text(12345678901.0) == "12345678901"
    assert values.text("  門診 ") == "門診"
    assert values.text("   ") is None
    with pytest.raises(values.BadValue, match="Excel keeps only 15"):
        values.text(1.2345678901234567e17)
    with pytest.raises(values.BadValue, match="date cell"):
        values.text(dt.datetime(2025, 1, 1))


def test_the_normaliser_collects_every_problem_of_a_row_and_ignores_blank_rows():
    normalise = RowNormaliser()
    row = legacy(studies(1)[0])
    assert normalise(1, row) == tuple(studies(1)[0].values())
    bad = list(row)
    bad[STUDY_FIELDS.index("patient_name")] = None
    bad[STUDY_FIELDS.index("patient_age")] = "abc"
    bad[STUDY_FIELDS.index("exam_room")] = "x" * 501
    assert normalise(2, bad) is None
    assert [(p.row, p.exam_id, p.field) for p in normalise.problems] == [
        (2, row[0], "patient_name"),
        (2, row[0], "patient_age"),
        (2, row[0], "exam_room"),
    ]
    assert normalise.problems[2].reason == "too long: 501 characters, at most 500"
    assert normalise(3, [None, " ", *[None] * 16]) is BLANK
    assert normalise.invalid_rows == 1
