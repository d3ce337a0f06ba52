"""The reports import's fast paths against the code they stand in for: the tokens against
``text_index.tokens_of``, and the first load with its indexes and foreign keys dropped and put back."""

from __future__ import annotations

import pytest
from django.db import connection

from importers.report import COMMITTED
from importers.reports import postgres
from importers.reports.derived import tokens_and_words
from importers.reports.service import import_reports
from server.reports.demo_data import generate_reports
from server.reports.models import Report, ReportSearch, ReportVersion
from server.reports.search_rows import search_row
from server.reports.services import save_report
from server.reports.text_index import WORD, tokens_of
from server.studies.demo_data import generate_studies
from tests.test_import_reports import history, row, text, write

NASTY = [
    "", "a", "ab", "a b", " a\tb\n", "x\u3000y\u00a0z\u2028w", "e\u0301 \u0130stanbul \u01c5",
    "x\x1cy\x85z\x0bq", "👨\u200d👩\u200d👧 \U0001f600\U0001f600", "ab\r\ncd\tef  gh",
    "肺 氣胸 未見氣胸。 ct123 abc_def", "\ud7ff\ue000",
]  # fmt: skip


def test_the_tokens_are_exactly_text_index_tokens():
    studies = ((s[0], s[13], s[10], s[14]) for s in generate_studies(300, 5))
    documents = [report.versions[-1].content.lower() for report in generate_reports(studies, 5)]
    for document in documents + NASTY + [document * 3 + "\n" for document in NASTY]:
        tokens, words = tokens_and_words(document)
        assert tokens == tokens_of(document), repr(document)
        assert words == WORD.findall(document)


def indexes_and_keys() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'report%' "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text LIKE 'report%' ORDER BY 1, 2"
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_a_large_first_load_rebuilds_indexes_and_foreign_keys_and_the_api_follows_on(tmp_path, monkeypatch):
    before = indexes_and_keys()
    monkeypatch.setattr(postgres, "LARGE", 1)
    rows = [row(f"R{n:04d}", text(n)) for n in range(1, 6)]
    rows += [row("R0001", text(1, " More."), version=2)]
    report = import_reports(write(tmp_path, rows))
    assert report.outcome == COMMITTED and "indexes and foreign keys rebuilt" in report.write_path
    assert indexes_and_keys() == before
    assert history("R0001") == [(1, "final", "created"), (2, "amended", "amended")]
    for stored in Report.objects.select_related("current"):
        assert ReportSearch.objects.get(pk=stored.pk).tokens == search_row(stored).tokens
    # The API's next version takes the next id of the sequence the import moved on.
    saved = save_report(report_id="R0002", exam_id="20250000002", content="new text", status="final")
    assert saved.version == 2
    assert ReportVersion.objects.order_by("-id").first().report_id == "R0002"
