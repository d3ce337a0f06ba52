"""Reports and their versions: the status lifecycle, sections split from English and Chinese text, and the
one write path (``server.reports.services.save_report``) on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import DatabaseError, connection, transaction

from server.reports import lifecycle
from server.reports.lifecycle import LifecycleViolation, UnknownStatus, next_version
from server.reports.models import MAX_CONTENT_LENGTH, Report, ReportSearch, ReportSearchWord, ReportVersion
from server.reports.search_rows import search_row
from server.reports.sections import split_sections
from server.reports.services import InvalidReport, ReportChanged, content_hash, save_report
from server.reports.text_index import words_of
from server.studies.models import Study
from tests.conftest import study_values

ENGLISH = """EXAM: CT chest without contrast\r
Clinical history: Cough for two weeks.\r
Technique: Axial images, 1 mm.\r
Comparison: None.\r
Findings:\r
No pneumothorax.\r
A 6 mm nodule in the right upper lobe.\r
IMPRESSION: 1. Right upper lobe nodule, Lung-RADS 2.\r
"""
CHINESE = "臨床資料：咳嗽兩週\n檢查所見：\n右上肺葉六毫米結節，未見氣胸。\n診斷：右上肺葉結節。"


# --- lifecycle --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "requested", "changed", "stored", "change"),
    [
        ("draft", "draft", True, "draft", "edited"),
        ("draft", "preliminary", False, "preliminary", "status"),
        ("draft", "final", True, "final", "edited"),
        ("preliminary", "final", False, "final", "status"),
        ("final", "final", True, "amended", "amended"),  # a change to a signed report is an amendment
        ("final", "amended", True, "amended", "amended"),
        ("amended", "final", True, "amended", "amended"),
        ("final", "cancelled", False, "cancelled", "status"),
        ("draft", "cancelled", False, "cancelled", "status"),
    ],
)
def test_the_lifecycle_allows_these_changes(current, requested, changed, stored, change):
    transition = next_version(current, requested, changed)
    assert (transition.status, transition.change) == (stored, change)


@pytest.mark.parametrize(
    ("current", "requested"),
    [("final", "draft"), ("final", "preliminary"), ("preliminary", "draft"), ("amended", "draft")],
)
def test_the_lifecycle_refuses_going_back(current, requested):
    with pytest.raises(LifecycleViolation, match=f"A {current} report cannot become {requested}"):
        next_version(current, requested, True)


def test_a_cancelled_report_cannot_change_and_nothing_starts_amended_or_cancelled():
    for requested in lifecycle.STATUSES:
        if requested != "cancelled":
            with pytest.raises(LifecycleViolation, match="A cancelled report cannot change"):
                next_version("cancelled", requested, False)
    for status in ("amended", "cancelled"):
        with pytest.raises(LifecycleViolation, match=f"cannot start as {status}"):
            lifecycle.first_version(status)


def test_the_same_status_and_content_is_no_version_and_an_unknown_status_is_refused():
    assert next_version("final", "final", False) is None
    with pytest.raises(UnknownStatus, match="'signed'"):
        next_version("draft", "signed", True)


# --- sections ---------------------------------------------------------------------------------------------


def test_sections_are_split_from_english_headings():
    sections = split_sections(ENGLISH)
    assert sections == {
        "history": "Cough for two weeks.",
        "technique": "Axial images, 1 mm.",
        "comparison": "None.",
        "findings": "No pneumothorax.\nA 6 mm nodule in the right upper lobe.",
        "impression": "1. Right upper lobe nodule, Lung-RADS 2.",
    }


def test_sections_are_split_from_chinese_headings_with_full_width_colons():
    sections = split_sections(CHINESE)
    assert sections["history"] == "咳嗽兩週"
    assert sections["findings"] == "右上肺葉六毫米結節，未見氣胸。"
    assert sections["impression"] == "右上肺葉結節。"
    assert sections["technique"] is None


@pytest.mark.parametrize(
    ("text", "findings", "impression"),
    [
        ("Imaging findings: clear lungs\nImpression/Conclusion: normal", "clear lungs", "normal"),
        ("FINDINGS\nclear\nIMP: normal", "clear", "normal"),
        ("The findings: are normal.\nConclusion:", None, None),  # mid-line, and an empty section
        ("影像發現：無異常\n結論：正常", "無異常", "正常"),
        ("no headings at all", None, None),
    ],
)
def test_headings_start_a_line_and_empty_sections_are_null(text, findings, impression):
    sections = split_sections(text)
    assert (sections["findings"], sections["impression"]) == (findings, impression)


# --- the write path ---------------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db  # the write path needs the database; the pure tests above do not


def _save(**overrides):
    values = {"exam_id": "20250000001", "content": ENGLISH, "status": "draft", "radiologist": "陳建志"}
    return save_report(**{**values, **overrides})


@pytestmark_db
def test_a_new_report_gets_its_first_version_with_sections_and_hash():
    saved = _save(report_id="R1", title="CT chest", report_type="CT")
    assert (saved.report_id, saved.version, saved.action) == ("R1", 1, "created")
    report = Report.objects.select_related("current").get(pk="R1")
    version = report.current
    assert (version.number, version.status, version.change) == (1, "draft", "created")
    assert version.content == ENGLISH and version.content_hash == content_hash(ENGLISH)
    assert version.findings.startswith("No pneumothorax") and version.impression.startswith("1. Right")
    assert version.verified_at is None  # a draft is not signed
    assert (report.title, report.report_type, report.study_id) == ("CT chest", "CT", "20250000001")


@pytestmark_db
def test_without_a_report_id_the_server_assigns_one():
    first, second = _save(), _save()
    assert first.report_id != second.report_id and len(first.report_id) == 32


@pytestmark_db
def test_a_resent_write_is_unchanged_and_a_change_is_a_new_version():
    _save(report_id="R1")
    assert _save(report_id="R1").action == "unchanged"
    assert ReportVersion.objects.filter(report_id="R1").count() == 1
    signed_at = dt.datetime(2025, 11, 6, 15, 45, 59)
    final = _save(report_id="R1", status="final", verified_at=signed_at)
    assert (final.version, final.action) == (2, "updated")
    amended = _save(report_id="R1", status="final", content=ENGLISH + "Addendum: discussed with Dr Lin.")
    assert amended.version == 3
    versions = list(ReportVersion.objects.filter(report_id="R1").order_by("number"))
    assert [(v.number, v.status, v.change) for v in versions] == [
        (1, "draft", "created"),
        (2, "final", "status"),
        (3, "amended", "amended"),
    ]
    assert versions[1].verified_at == signed_at
    assert versions[2].verified_at is not None  # signed when stored, as none was given
    assert Report.objects.get(pk="R1").current_id == versions[2].pk
    assert versions[0].content == ENGLISH  # the old version is kept as it was


@pytestmark_db
def test_if_match_refuses_a_write_against_an_old_version_and_stores_nothing():
    _save(report_id="R1")
    _save(report_id="R1", status="preliminary")
    with pytest.raises(ReportChanged):
        _save(report_id="R1", status="final", expected_version=1)
    with pytest.raises(ReportChanged):
        _save(report_id="NEW", expected_version=1)  # a report that does not exist has no version 1
    assert ReportVersion.objects.filter(report_id="R1").count() == 2
    assert not Report.objects.filter(pk="NEW").exists()
    assert _save(report_id="R1", status="final", expected_version=2).version == 3


@pytestmark_db
def test_a_forbidden_change_and_bad_content_store_nothing():
    _save(report_id="R1", status="final")
    with pytest.raises(LifecycleViolation, match="A final report cannot become draft"):
        _save(report_id="R1", status="draft", content="changed")
    with pytest.raises(LifecycleViolation, match="exam_id cannot change"):
        _save(report_id="R1", exam_id="20250000002", status="final", content="changed")
    with pytest.raises(InvalidReport, match="must not be empty"):
        _save(report_id="R2", content=" \n ")
    with pytest.raises(InvalidReport, match=f"at most {MAX_CONTENT_LENGTH} characters"):
        _save(report_id="R2", content="x" * (MAX_CONTENT_LENGTH + 1))
    with pytest.raises(UnknownStatus):
        _save(report_id="R2", status="signed")
    assert ReportVersion.objects.count() == 1 and not Report.objects.filter(pk="R2").exists()


@pytestmark_db
def test_a_stored_version_cannot_be_changed_or_deleted_even_by_sql():
    _save(report_id="R1")
    for statement in ("UPDATE report_version SET content = 'tampered'", "DELETE FROM report_version"):
        refused = pytest.raises(DatabaseError, match="immutable")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert ReportVersion.objects.get().content == ENGLISH


@pytestmark_db
def test_a_report_may_come_before_its_study_and_is_linked_when_the_study_arrives():
    _save(report_id="EARLY", exam_id="20990000001")
    report = Report.objects.get(pk="EARLY")
    assert report.study_id == "20990000001"
    assert not Study.objects.filter(pk="20990000001").exists()
    Study.objects.create(**study_values("20990000001"))
    assert list(Study.objects.get(pk="20990000001").reports.values_list("pk", flat=True)) == ["EARLY"]


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_the_same_version_cannot_both_win():
    """Both read version 1 and send If-Match 1 at the same moment: one stores version 2, the other is told
    the report has changed, and nothing is lost or stored twice."""
    _save(report_id="R1")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(text: str) -> None:
        barrier.wait()
        try:
            _save(report_id="R1", content=text, expected_version=1)
            outcomes.append("stored")
        except ReportChanged:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(text,)) for text in ("first edit", "second edit")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "stored"]
    assert ReportVersion.objects.filter(report_id="R1").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_first_writes_of_the_same_new_id_make_one_report():
    barrier = threading.Barrier(2)
    actions: list[str] = []

    def write() -> None:
        barrier.wait()
        try:
            actions.append(_save(report_id="SAME").action)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(actions) == ["created", "unchanged"]
    assert ReportVersion.objects.filter(report_id="SAME").count() == 1


def _search_row_is_what_search_row_makes(report_id: str) -> None:
    report = Report.objects.select_related("current").get(pk=report_id)
    fields = [field.attname for field in ReportSearch._meta.concrete_fields]
    stored = ReportSearch.objects.values_list(*fields).get(pk=report_id)
    assert stored == tuple(getattr(search_row(report), name) for name in fields)
    assert set(words_of([stored[fields.index("document")]])) <= set(
        ReportSearchWord.objects.values_list("word", flat=True)
    )


@pytest.mark.django_db(transaction=True)  # committed for real: the foreign keys are checked at commit
def test_each_write_stores_its_version_report_row_and_search_row_together():
    created = _save()  # a server-assigned id: its row, version and search row in one statement
    _search_row_is_what_search_row_makes(created.report_id)
    updated = _save(report_id=created.report_id, status="final", title="CT chest", report_type="CT")
    _search_row_is_what_search_row_makes(created.report_id)
    report = Report.objects.select_related("current").get(pk=created.report_id)
    assert (report.current.number, report.title, report.report_type) == (updated.version, "CT chest", "CT")
    assert _save(report_id=created.report_id, status="final").action == "unchanged"  # keeps title and type
    assert Report.objects.values_list("title", "report_type").get(pk=created.report_id) == ("CT chest", "CT")


@pytestmark_db
@pytest.mark.parametrize("report_id", [None, "R1", "NEW"])
def test_a_write_whose_audit_event_fails_stores_nothing(report_id):
    if report_id == "R1":
        _save(report_id="R1")
    before = (Report.objects.count(), ReportVersion.objects.count(), ReportSearch.objects.count())

    def failing_audit(saved):
        raise DatabaseError("audit trail unavailable")

    with pytest.raises(DatabaseError, match="audit trail unavailable"):
        _save(report_id=report_id, status="final", on_saved=failing_audit)
    assert (Report.objects.count(), ReportVersion.objects.count(), ReportSearch.objects.count()) == before
