"""The reports import's fast path against the one it stands in for: the first load with its indexes and
foreign keys dropped and put back."""

from __future__ import annotations

import pytest
from django.db import connection

from importers.report import COMMITTED
from importers.reports import postgres
from importers.reports.service import import_reports
from server.reports.models import Report, ReportSearch, ReportVersion
from server.reports.search_rows import search_row
from server.reports.services import save_report
from tests.test_import_reports import history, row, text, write


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
