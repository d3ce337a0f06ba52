"""Writes store the free-text search profile with the data version, so no API worker scans the table for it.

A full load stores the profile of the loaded table; an incremental import merges its staged rows into the
stored one (which may then overstate, never understate); a write that stores none leaves searches to compute
it. Each is compared with a scan of the table (``profile_of_table``), the computation searches used before.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from importers.report import COMMITTED
from importers.service import import_studies
from server.core import cache
from server.core.data_version import bump_data_version
from server.core.models import DataVersion
from server.studies.search_profile import SearchProfile, profile_of_table
from server.studies.selectors import StudyFilters, search_studies
from server.studies.selectors.text_search import search_profile
from tests.import_fixtures import legacy, studies, write_duckdb_varchar

pytestmark = pytest.mark.django_db


def stored() -> SearchProfile | None:
    data = DataVersion.objects.get(id=1).search_profile
    return None if data is None else SearchProfile.from_json(data)


def scanned() -> SearchProfile:
    return profile_of_table(connection, "medical_examinations_fact")


def test_a_load_into_the_empty_table_stores_the_profile_of_what_it_loaded(tmp_path):
    path = write_duckdb_varchar(tmp_path / "first.duckdb", [legacy(s) for s in studies(60, seed=41)])
    assert import_studies(path).outcome == COMMITTED
    assert stored() == scanned()
    assert stored().longest["exam_id"] == 11 and stored().digits_only["medical_record_no"]


def test_an_incremental_import_merges_its_rows_into_the_stored_profile(tmp_path):
    first = studies(60, seed=42)
    assert (
        import_studies(write_duckdb_varchar(tmp_path / "a.duckdb", [legacy(s) for s in first])).outcome
        == COMMITTED
    )
    later = [
        dict(study, exam_id=f"3{index:010d}", exam_description="Whole body PET-CT new protocol")
        for index, study in enumerate(studies(5, seed=43))
    ]
    later[0]["medical_record_no"] = "TW-0001"  # the chart numbers are no longer all digits
    later[1]["patient_name"] = "王2"  # nor are the names free of digits
    assert (
        import_studies(write_duckdb_varchar(tmp_path / "b.duckdb", [legacy(s) for s in later])).outcome
        == COMMITTED
    )
    profile = stored()
    assert profile == scanned()  # nothing was removed, so the merge is exact here
    assert "Whole body PET-CT new protocol" in profile.values["exam_description"]
    assert not profile.digits_only["medical_record_no"] and profile.names_have_digits


def test_searches_use_the_stored_profile_without_scanning(tmp_path, django_assert_max_num_queries):
    rows = studies(30, seed=44)
    import_studies(write_duckdb_varchar(tmp_path / "c.duckdb", [legacy(s) for s in rows]))
    cache.clear()
    # The data version (twice outside a request, which reads it once), then the stored profile.
    with django_assert_max_num_queries(3) as captured:
        profile = search_profile()
    assert profile == stored()
    assert not any("array_agg" in query["sql"] for query in captured.captured_queries)
    found = search_studies(StudyFilters(search=rows[3]["exam_id"]))
    assert [s.exam_id for s in found.results] == [rows[3]["exam_id"]]


def test_a_write_that_stores_no_profile_leaves_searches_to_compute_it(tmp_path):
    import_studies(write_duckdb_varchar(tmp_path / "d.duckdb", [legacy(s) for s in studies(20, seed=45)]))
    bump_data_version()  # as a write that did not compute it
    assert stored() is None
    cache.clear()
    assert search_profile() == scanned()


def test_the_demo_generator_stores_the_profile():
    call_command("generate_demo_data", rows=300, seed=3, replace=True, verbosity=0)
    assert stored() == scanned()


def test_a_value_list_over_the_cap_is_dropped_even_with_an_empty_value(tmp_path, monkeypatch):
    """The capped loose index scan must not count '' against the cap, or a list one value short of complete
    would be taken as complete, and a search would skip the missing value's studies."""
    from server.studies import search_profile as module

    rows = studies(6, seed=46)
    for index, study in enumerate(rows):
        study["exam_description"] = f"Exam {index}" if index < 4 else ""  # 4 values and the empty string
    import_studies(write_duckdb_varchar(tmp_path / "e.duckdb", [legacy(s) for s in rows]))
    monkeypatch.setattr(module, "MAX_VALUE_SET", 4)
    assert scanned().values["exam_description"] == ["Exam 0", "Exam 1", "Exam 2", "Exam 3"]
    monkeypatch.setattr(module, "MAX_VALUE_SET", 3)
    assert scanned().values["exam_description"] is None  # too many: searched by substring instead


def test_a_profile_stored_in_another_shape_is_scanned_again(tmp_path):
    import_studies(write_duckdb_varchar(tmp_path / "f.duckdb", [legacy(s) for s in studies(10, seed=47)]))
    DataVersion.objects.filter(id=1).update(search_profile={"values": {}, "renamed_field": True})
    cache.clear()
    assert search_profile() == scanned()
    assert SearchProfile.from_json({"values": {}}) is None
