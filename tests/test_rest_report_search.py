"""``GET /api/v1/reports/search``: free text in any script over current versions only, the filters, the four
orders, paging, hostile input, the response's shape and its audit event."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.test import Client

from server.access.models import AuditEvent
from server.reports import search, text_search, write_version
from server.reports.search import ReportFilters, ReportSort, search_reports
from server.reports.services import save_report
from server.studies.models import Study
from tests.conftest import bearer_headers, study_values

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/search"
VOLATILE = re.compile(r'"(created_at|updated_at)":"[0-9T:-]{19}"')


@pytest.fixture
def viewer():
    return Client(**bearer_headers("viewer"))


def save(report_id: str, content: str, status: str = "final", **fields):
    fields.setdefault("exam_id", f"E{report_id}")
    if status != "draft":
        fields.setdefault("verified_at", dt.datetime(2025, 11, 6, 10, 0))
    return save_report(report_id=report_id, content=content, status=status, **fields)


def found(viewer, **params) -> list[str]:
    response = viewer.get(URL, params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] >= len(body["data"])
    return [report["report_id"] for report in body["data"]]


def test_terms_of_one_two_and_more_characters_in_chinese_and_english(viewer):
    save("A", "Findings: small right pneumothorax.\n印象：右側氣胸。")
    save("B", "Findings: no pneumothorax. Lungs are clear.\n印象：未見氣胸，肺野清晰。")
    save("C", "Impression: ABNORMAL liver echo.\n脂肪肝。")
    assert found(viewer, q="肺") == ["B"]  # one character
    assert found(viewer, q="氣胸", sort="created_at_asc") == ["A", "B"]  # two
    assert found(viewer, q="右側氣", sort="created_at_asc") == ["A"]  # three, not a word
    assert found(viewer, q="Pneumothorax", sort="created_at_asc") == ["A", "B"]  # any case
    assert found(viewer, q="normal") == ["C"]  # inside a word, case-insensitively
    assert found(viewer, q="x") == ["A", "B"]  # a letter alone, wherever it occurs
    assert found(viewer, q="pneumothorax 未見") == ["B"]  # every term must occur
    assert found(viewer, q="pneumothorax.") == ["A", "B"]  # punctuation is text like any other
    assert found(viewer, q="right-pneumothorax") == []  # the pairs occur, the term does not
    assert found(viewer, q="pneumothoraxes") == []
    assert found(viewer, q="qzv") == []  # in no vocabulary word


def test_report_id_exam_id_and_title_are_searched_too(viewer):
    save("RPT-2025-0042", "Normal study.", exam_id="20250000777", title="CT Brain")
    assert found(viewer, q="rpt-2025-0042") == ["RPT-2025-0042"]
    assert found(viewer, q="0000777") == ["RPT-2025-0042"]
    assert found(viewer, q="brain") == ["RPT-2025-0042"]


def test_only_the_current_version_is_searched(viewer):
    save("A", "Suspected pneumothorax.", status="preliminary")
    save("A", "No acute abnormality.", status="final")
    assert found(viewer, q="pneumothorax") == []
    assert found(viewer, q="acute") == ["A"]
    assert found(viewer, status="preliminary") == []


def test_hostile_terms_match_only_themselves(viewer):
    save("PCT", "Stenosis 50% of the lumen.")
    save("UND", "file_name and back\\slash")
    save("OTHER", "Stenosis 500 of the lumen, filename, back slash")
    assert found(viewer, q="50%") == ["PCT"]
    assert found(viewer, q="%") == ["PCT"]
    assert found(viewer, q="e_n") == ["UND"]
    assert found(viewer, q="_") == ["UND"]
    assert found(viewer, q="k\\s") == ["UND"]
    assert found(viewer, q="\\") == ["UND"]
    for bad, message in (("a\x00b", "q must not contain NUL characters"), ("x" * 201, "at most 200")):
        response = viewer.get(URL, {"q": bad})
        assert response.status_code == 400 and message in response.json()["detail"]


def test_filters_are_exact_and_repeatable_and_dates_bound_verified_at(viewer):
    signed = dt.datetime(2025, 11, 6, 23, 59, 59)
    save("A", "a", exam_id="E1", radiologist="陳建志", report_type="CT", verified_at=signed)
    save("B", "b", exam_id="E2", radiologist="林美惠", report_type="MR", status="preliminary",
         verified_at=dt.datetime(2025, 11, 7, 0, 0))  # fmt: skip
    save("C", "c", exam_id="E3", status="draft")
    assert found(viewer, exam_id=["E1", "E3"]) == ["A", "C"]
    assert found(viewer, status="draft") == ["C"]
    assert found(viewer, report_type="MR") == ["B"]
    assert found(viewer, radiologist="陳建") == []  # exact, not a fragment
    assert found(viewer, **{"radiologist[]": ["陳建志", "林美惠"]}) == ["B", "A"]
    assert found(viewer, start_date="2025-11-06", end_date="2025-11-06") == ["A"]  # the whole day
    assert found(viewer, start_date="2025-11-07") == ["B"]
    assert found(viewer, end_date="2025-11-06T23:59:58") == []
    response = viewer.get(URL, {"start_date": "2025-11-08", "end_date": "2025-11-07"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid parameter: start_date must not be after end_date"}
    assert viewer.get(URL, {"start_date": "7 Nov"}).status_code == 422


def test_the_four_orders_put_nulls_last_and_break_ties_by_report_id(viewer):
    save("B", "b", verified_at=dt.datetime(2025, 1, 2))
    save("A", "a", verified_at=dt.datetime(2025, 1, 2))
    save("C", "c", verified_at=dt.datetime(2025, 1, 3))
    save("D", "d", status="draft")
    assert found(viewer) == ["C", "A", "B", "D"]  # default: verified_at_desc
    assert found(viewer, sort="verified_at_asc") == ["A", "B", "C", "D"]
    assert found(viewer, sort="created_at_asc") == ["B", "A", "C", "D"]
    assert found(viewer, sort="created_at_desc") == ["D", "C", "A", "B"]
    response = viewer.get(URL, {"sort": "patient_name_asc"})
    assert response.status_code == 400 and "sort must be one of verified_at_desc" in response.json()["detail"]


@pytest.mark.parametrize(
    "sort",
    [ReportSort(), ReportSort(descending=False), ReportSort("created_at"), ReportSort("created_at", False)],
    ids=str,
)
def test_sorted_matches_and_a_walk_along_the_index_give_the_same_pages(monkeypatch, sort):
    for number in range(12):
        verified = dt.datetime(2025, 1, 1 + number % 4) if number % 5 else None
        save(f"R{number:02}", "x", status="final" if verified else "draft", verified_at=verified)
    def pages() -> list[list[str]]:
        return [[r.report_id for r in search_reports(None, sort, offset, 5).results] for offset in (0, 5, 10)]

    monkeypatch.setattr(search, "walk_along_index", lambda *args: False)
    sorted_small = pages()
    monkeypatch.setattr(search, "walk_along_index", lambda *args: True)
    assert pages() == sorted_small
    assert sorted(rid for page in sorted_small for rid in page) == [f"R{number:02}" for number in range(12)]


def test_paging_bounds_and_a_page_past_the_end(viewer):
    save("A", "a")
    body = viewer.get(URL, {"page": 2, "page_size": 1}).json()
    assert body["data"] == [] and body["total"] == 1 and (body["page"], body["page_size"]) == (2, 1)
    for params, detail in (
        ({"page": 0}, "Invalid parameter: page must be > 0"),
        ({"page_size": 101}, "Invalid parameter: page_size must be between 1 and 100"),
    ):
        response = viewer.get(URL, params)
        assert response.status_code == 400 and response.json() == {"detail": detail}


def test_the_response_shape(viewer, snapshot):
    Study.objects.create(**study_values("20250000001"))
    save("R1", "Findings:\nNo pneumothorax.\nImpression: Normal chest.", exam_id="20250000001",
         radiologist="陳建志", title="CT chest", report_type="CT")  # fmt: skip
    save("R2", "Before its study.", exam_id="20990000009", status="draft", report_type="XR")
    response = viewer.get(URL, {"sort": "created_at_asc"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    assert VOLATILE.sub(r'"\1":"<time>"', response.content.decode()) == snapshot


def test_a_search_is_audited_with_the_report_ids_it_returned(viewer):
    save("A", "pneumothorax", exam_id="E1")
    save("B", "clear", exam_id="E2")
    viewer.get(URL, {"q": "pneumothorax"})
    event = AuditEvent.objects.filter(action="report.search").latest("id")
    assert event.parameters == {"q": ["pneumothorax"], "report_ids": ["A"]}
    assert (event.status_code, event.record_count, event.exam_ids) == (200, 1, ["E1"])


def test_searching_needs_a_token():
    assert Client().get(URL).status_code == 401


ALPHABET = "aAbB肺氣胸 _%\\-.1"


def test_every_term_finds_exactly_the_reports_whose_text_contains_it(monkeypatch):
    """Against the definition, on random texts and terms, through every path of ``term_condition``."""
    rng = random.Random(7)
    documents = {}
    for number in range(40):
        content = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 30))).strip() or "a"
        save(f"R{number:02}", content, exam_id="0")
        documents[f"R{number:02}"] = f"r{number:02}\n0\n\n{content}".lower()
    letters = ALPHABET.replace(" ", "")
    terms = {"".join(rng.choice(letters) for _ in range(rng.randint(1, 4))) for _ in range(150)}
    for limit in (text_search.MAX_VOCABULARY_MATCHES, 0):  # 0: every word term checked against the text
        monkeypatch.setattr(text_search, "MAX_VOCABULARY_MATCHES", limit)
        for term in sorted(terms):
            expected = sorted(rid for rid, document in documents.items() if term.lower() in document)
            page = search_reports(ReportFilters(search=term), ReportSort("created_at", False), 0, 100)
            assert sorted(r.report_id for r in page.results) == expected, term
            assert page.total == len(expected)


def test_totals_are_cached_yet_every_write_is_counted_at_once(viewer):
    save("A", "pneumothorax")
    assert viewer.get(URL, {"q": "pneumothorax"}).json()["total"] == 1
    assert viewer.get(URL, {"q": "pneumothorax"}).json()["total"] == 1  # from the cache
    save("B", "pneumothorax")
    assert viewer.get(URL, {"q": "pneumothorax"}).json()["total"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_moves_the_version_again_after_its_commit():
    before = write_version.current()
    save("A", "text")  # its own transaction, committed
    assert write_version.current() == before + 2
    save("A", "text")  # unchanged: nothing written, nothing moves
    assert write_version.current() == before + 2


def test_the_plan_walks_the_index_when_the_page_is_found_sooner_than_all_matches_are_sorted():
    million = 1_000_000
    assert search.walk_along_index(million, 0, 20, text=False, table_rows=million)  # no filter
    assert search.walk_along_index(50_000, 0, 20, text=True, table_rows=million)  # a common term
    assert not search.walk_along_index(3_000, 0, 20, text=True, table_rows=million)  # a rare one
    assert not search.walk_along_index(50_000, 9_980, 20, text=True, table_rows=million)  # page 500 of it
    assert search.walk_along_index(200_000, 9_980, 20, text=False, table_rows=million)  # of a status
    assert not search.walk_along_index(1, 0, 20, text=False, table_rows=0)  # before any ANALYZE
