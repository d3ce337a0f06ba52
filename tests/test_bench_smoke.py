"""Smoke test of the benchmark harness: every section runs and reports, on a couple thousand rows.

It runs the harness's sections against the test database (already migrated) with a real gunicorn, a handful of
requests per query and half-second throughput runs, then checks the table holds every section and that nothing
answered with an error. The figures themselves mean nothing at this size.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.conf import global_settings
from django.db import connection

from bench import report
from bench.run import Options, new_report, run_sections

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROWS = 2_000
REPORT_ROWS = 300


def database_url() -> str:
    settings = connection.settings_dict
    credentials = quote(settings["USER"] or "", safe="")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"], safe="")
    host = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    return f"postgresql://{credentials}@{host}/{quote(settings['NAME'], safe='')}"


def test_the_harness_measures_every_section(tmp_path, settings):
    # The benchmark user is created here and logs in through gunicorn, whose production settings do not
    # know the test suite's fast MD5 hasher.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    options = Options(
        rows=ROWS,
        seed=7,
        quick=True,
        warmup=1,
        requests=3,
        floor_requests=3,
        duration=0.5,
        clients=4,
        increment_rows=200,
        report_rows=REPORT_ROWS,
        write_clients=2,
        write_duration=0.5,
        url=database_url(),
        output=tmp_path / "latest.json",
        work_dir=tmp_path,
    )
    result = run_sections(options, new_report(options, ["--smoke"]))
    table = report.render(result)
    report.write_json(result, options.output)

    for section in report.SECTIONS:
        assert section in table
    assert result["data"]["generate"]["rows"] == ROWS
    imported = result["import"]
    if not imported.get("skipped"):
        assert "error" not in imported["importer"], imported["importer"]
        assert imported["importer"]["rows"] == ROWS
        assert imported["floor"]["rows"] == ROWS
        assert imported["increment"]["rows"] == options.increment_rows, imported["increment"]
    for query in result["queries"]:
        for api in ("rest", "graphql"):
            measured = query.get(api)
            if measured is None:
                continue
            assert not measured.get("unavailable"), (query["key"], api, measured)
            assert measured["errors"] == 0, (query["key"], api, measured.get("error"))
            assert measured["n"] == options.requests
        assert query["floor"]["n"] == options.floor_requests, query["key"]
    assert {query["key"] for query in result["queries"]} >= {"landing", "fragment2", "detail", "statistics"}
    assert len(result["throughput"]) == 6
    for run in result["throughput"]:
        assert run["errors"] == 0, run
        assert run["requests"] > 0, run
    export = result["export"]
    assert "error" not in export, export
    assert export["rows"] == export["expected_rows"] >= ROWS
    reports = result["reports"]
    assert reports["legacy_file"]["rows"] >= REPORT_ROWS
    assert "error" not in reports["import"], reports["import"]
    assert reports["import"]["ratio"] > 0
    assert reports["stored"]["reports"] > 0
    assert {item["name"] for item in reports["sizes"]} >= {"report_search", "report_search_tokens"}
    assert {query["key"] for query in reports["queries"]} == {
        "char1", "char2", "word3", "english", "phrase", "radiologist", "exam_id", "month_final", "page500"
    }  # fmt: skip
    for query in reports["queries"]:
        for api in ("rest", "graphql"):
            measured = query[api]
            if api == "graphql" and measured.get("unavailable"):  # the reports field may not be there yet
                continue
            assert measured["errors"] == 0, (query["key"], api, measured.get("error"))  # totals exact too
            assert measured["n"] == options.requests
            assert measured["cold"].get("errors", 0) == 0, (query["key"], api, measured["cold"])
        assert query["rest"]["floor"]["n"] == options.floor_requests, query["key"]
    assert reports["detail"]["rest"]["errors"] == 0, reports["detail"]["rest"]
    assert reports["options"]["rest"]["errors"] == 0
    writes = reports["writes"]
    assert writes["errors"] == 0 and writes["writes"] > 0, writes
    assert options.output.exists()
    assert "PASS" in table or "FAIL" in table
