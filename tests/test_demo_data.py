"""The synthetic data generator: deterministic, shaped like the real data, loaded by the bulk path."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from server.studies.columns import STUDY_FIELDS
from server.studies.demo_data import generate_studies
from server.studies.models import Study

ROWS = 3000


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [dict(zip(STUDY_FIELDS, row, strict=True)) for row in generate_studies(ROWS, seed=7)]


def test_same_seed_gives_the_same_rows_and_another_seed_others():
    assert list(generate_studies(500, seed=3)) == list(generate_studies(500, seed=3))
    assert list(generate_studies(500, seed=3)) != list(generate_studies(500, seed=4))


def test_exam_ids_are_unique_11_digit_strings(rows):
    ids = [r["exam_id"] for r in rows]
    assert len(set(ids)) == ROWS
    assert all(re.fullmatch(r"\d{11}", i) for i in ids)
    same = sum(r["application_order_no"] == r["exam_id"] for r in rows)
    assert 0.7 * ROWS < same < ROWS  # often, not always, equal


def test_names_are_mostly_chinese_and_patients_come_back(rows):
    chinese = sum(bool(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", r["patient_name"])) for r in rows)
    assert chinese > 0.95 * ROWS
    visits = Counter(r["medical_record_no"] for r in rows)
    assert len(visits) < 0.6 * ROWS
    assert max(visits.values()) >= 5


def test_the_value_mix_is_that_of_the_legacy_data(rows):
    statuses = Counter(r["exam_status"] for r in rows)
    assert statuses.most_common(1)[0][0] == "終審報告"
    assert statuses["終審報告"] > 0.8 * ROWS
    assert {r["exam_source"] for r in rows} == {"門診", "急診", "住院", "健檢"}
    assert {r["equipment_type"] for r in rows} >= {"CT", "MR", "CR", "DX", "US"}
    assert {r["patient_gender"] for r in rows} >= {"M", "F"}


def test_times_and_ages_are_consistent(rows):
    for r in rows:
        order, check_in, report = (
            r["order_datetime"],
            r["check_in_datetime"],
            r["report_certification_datetime"],
        )
        assert order.microsecond == 0
        assert check_in is None or order < check_in
        assert report is None or (check_in is not None and check_in < report)
        assert (report is None) == (r["certified_physician"] is None)
        if r["exam_status"] == "終審報告":
            assert report is not None
        if r["patient_birth_date"] is not None:
            assert r["patient_birth_date"] <= order.date()
            assert 0 <= r["patient_age"] <= 150
        else:
            assert r["patient_age"] is None
    assert any(r["check_in_datetime"] is None for r in rows)
    years = {r["order_datetime"].year for r in rows}
    assert years == set(range(2018, 2026))


@pytest.mark.django_db
def test_the_command_loads_exactly_the_generated_rows():
    call_command("generate_demo_data", rows=25_000, seed=5, verbosity=0)  # large enough to defer indexes
    assert Study.objects.count() == 25_000
    expected = dict(zip(STUDY_FIELDS, list(generate_studies(25_000, seed=5))[12_345], strict=True))
    stored = Study.objects.get(pk=expected["exam_id"])
    assert {name: getattr(stored, name) for name in STUDY_FIELDS} == expected


@pytest.mark.django_db
def test_the_command_keeps_existing_data_unless_told():
    call_command("generate_demo_data", rows=10, verbosity=0)
    with pytest.raises(CommandError, match="already holds data"):
        call_command("generate_demo_data", rows=10, verbosity=0)
    call_command("generate_demo_data", rows=20, if_empty=True, verbosity=0)
    assert Study.objects.count() == 10
    call_command("generate_demo_data", rows=20, seed=1, replace=True, verbosity=0)
    assert Study.objects.count() == 20


@pytest.mark.django_db
def test_loading_demo_data_bumps_the_data_version():
    from server.core.data_version import current_data_version

    before = current_data_version()
    call_command("generate_demo_data", rows=5, verbosity=0)
    assert current_data_version() == before + 1


@pytest.mark.django_db
def test_demo_reports_are_deterministic_bilingual_and_valid_for_the_lifecycle():
    """generate_demo_data writes reports for most studies: English, Chinese or both, normal findings said by
    negation and some critical ones, BI-RADS and Lung-RADS categories, and amended and cancelled histories,
    every one a history the lifecycle allows (the bulk writer runs them through it)."""
    from server.reports.models import Report, ReportVersion

    call_command("generate_demo_data", rows=2000, seed=7, verbosity=0)
    first = sorted(ReportVersion.objects.values_list("report_id", "number", "status", "content_hash"))
    reports = Report.objects.count()
    assert 1700 < reports < 2000  # about nine in ten studies
    texts = list(ReportVersion.objects.values_list("content", flat=True))
    assert any("No pneumothorax" in t for t in texts) and any("未見氣胸" in t for t in texts)
    assert any("pneumothorax with" in t for t in texts) and any("硬腦膜下出血" in t for t in texts)
    assert any("BI-RADS" in t for t in texts) and any("Lung-RADS" in t for t in texts)
    statuses = dict(ReportVersion.objects.values_list("change").annotate(n=Count("id")))
    assert {"created", "amended", "status"} <= set(statuses)
    assert not Report.objects.filter(current__isnull=True).exists()
    assert ReportVersion.objects.exclude(findings=None).count() == ReportVersion.objects.count()

    call_command("generate_demo_data", rows=2000, seed=7, replace=True, verbosity=0)
    again = sorted(ReportVersion.objects.values_list("report_id", "number", "status", "content_hash"))
    assert again == first


@pytest.mark.django_db
def test_no_reports_leaves_the_reports_tables_alone():
    from server.reports.models import Report

    call_command("generate_demo_data", rows=50, seed=1, reports=False, verbosity=0)
    assert not Report.objects.exists()
