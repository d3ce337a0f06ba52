"""The reports import's fast path against the one it stands in for: the first load with its indexes and
foreign keys dropped and put back."""

from __future__ import annotations

import pytest
from django.db import connection

from importers.report import COMMITTED
from importers.reports import derive, postgres
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


@pytest.mark.django_db
def test_a_large_load_derives_its_rows_on_child_processes_and_stores_them_right(tmp_path, monkeypatch):
    monkeypatch.setattr(postgres, "LARGE", 1)
    monkeypatch.setattr(derive, "BATCH", 2)  # many batches, over two children
    monkeypatch.setattr(derive.os, "sched_getaffinity", lambda pid: {0, 1})
    pools: list[int] = []
    real_pool = derive.ProcessPoolExecutor

    def counted_pool(max_workers, **options):
        pools.append(max_workers)
        return real_pool(max_workers, **options)

    monkeypatch.setattr(derive, "ProcessPoolExecutor", counted_pool)
    rows = [row(f"R{n:04d}", text(n)) for n in range(1, 12)]
    rows += [row("R0003", text(3, " More."), version=2), row("R0009", text(9, " More."), version=2)]
    report = import_reports(write(tmp_path, rows))
    assert report.outcome == COMMITTED and pools == [2]
    assert (report.new_reports, report.new_versions) == (11, 2)
    for stored in Report.objects.select_related("current"):
        assert ReportSearch.objects.get(pk=stored.pk).tokens == search_row(stored).tokens
        versions = list(ReportVersion.objects.filter(report=stored).order_by("number"))
        assert stored.current_id == versions[-1].pk and [v.number for v in versions] == list(
            range(1, len(versions) + 1)
        )
    ids = sorted(ReportVersion.objects.values_list("id", flat=True))
    assert ids == list(range(ids[0], ids[0] + 13))  # every id given once, none skipped
