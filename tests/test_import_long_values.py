"""Long legacy text survives the round trip exactly, in every format and on both write paths; past the
documented limits (``TEXT_LIMITS``) a value is a clear problem of its row; and every way of finding a study by
its description still works when descriptions are long."""

from __future__ import annotations

import json
import random

import pytest
from django.db import connection

from importers.report import COMMITTED, ROLLED_BACK
from importers.service import import_studies
from server.core.data_version import bump_data_version
from server.studies.columns import STUDY_FIELDS
from server.studies.fields import PREFIX_KEY_LENGTH
from server.studies.models import TEXT_LIMITS, Study
from server.studies.search_profile import profile_of_table
from tests.conftest import study_values
from tests.graphql_support import gql
from tests.import_fixtures import TRADITIONAL, legacy, write_csv, write_duckdb_varchar, write_xlsx

pytestmark = pytest.mark.django_db

TEXT_FIELDS = tuple(TEXT_LIMITS)
RANDOM = random.Random(14)


def cjk(length: int) -> str:
    """Incompressible patient-like text: random characters of the CJK Unified Ideographs block."""
    return "".join(chr(RANDOM.randint(0x4E00, 0x9FFF)) for _ in range(length))


def astral(length: int) -> str:
    """Characters of 4 bytes each in UTF-8 (CJK Extension B), the worst case for a btree entry."""
    return "".join(chr(RANDOM.randint(0x20000, 0x2A6DF)) for _ in range(length))


def latin_name(length: int) -> str:
    words, size = [], 0
    while size < length:
        word = "".join(RANDOM.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(RANDOM.randint(3, 11)))
        words.append(word.capitalize())
        size += len(word) + 1
    name = " ".join(words)[:length]
    return name[:-1] + "x" if name.endswith(" ") else name  # never a space the import would strip


def long_study(exam_id: str) -> dict:
    """The issue's values (a 10,000-character description, a 300-character Latin name, a 200-character
    room), and every other text field at its limit in 4-byte characters (5,000 characters without one)."""
    study = study_values(exam_id)
    for name in TEXT_FIELDS:
        limit = TEXT_LIMITS[name]
        study[name] = astral(limit) if limit else cjk(5000)
    study["exam_id"] = exam_id + astral(TEXT_LIMITS["exam_id"] - len(exam_id))
    study["exam_description"] = cjk(10_000)
    study["patient_name"] = latin_name(300)
    study["exam_room"] = cjk(200)
    return study


def stored(exam_id: str) -> dict:
    study = Study.objects.get(pk=exam_id)
    return {name: getattr(study, name) for name in STUDY_FIELDS}


def write(fmt: str, path, studies: list[dict]):
    rows = [legacy(study) for study in studies]
    if fmt == "duckdb":
        return write_duckdb_varchar(path.with_suffix(".duckdb"), rows)
    if fmt == "xlsx":
        return write_xlsx(path.with_suffix(".xlsx"), TRADITIONAL, rows)
    return write_csv(path.with_suffix(".csv"), STUDY_FIELDS, rows)


@pytest.mark.parametrize("fmt", ["duckdb", "xlsx", "csv"])
def test_long_values_survive_the_round_trip_exactly(tmp_path, fmt, client):
    first, second = long_study("20251"), long_study("20252")
    assert len(first["exam_description"]) == 10_000 and len(first["patient_name"]) == 300
    # Into the empty table (COPY into it), then beside what it holds (COPY into staging and a merge).
    loaded = import_studies(write(fmt, tmp_path / "first", [first]))
    assert (loaded.outcome, loaded.inserted) == (COMMITTED, 1), loaded.error
    merged = import_studies(write(fmt, tmp_path / "second", [first, second]))
    assert (merged.outcome, merged.inserted, merged.unchanged) == (COMMITTED, 1, 1), merged.error
    assert "staging" in merged.write_path and "staging" not in loaded.write_path
    for study in (first, second):
        assert stored(study["exam_id"]) == study
    response = client.get(f"/api/v1/studies/{second['exam_id']}")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert {name: body[name] for name in TEXT_FIELDS} == {name: second[name] for name in TEXT_FIELDS}
    data = gql(
        "query($id: String!) { study(examId: $id) { examDescription patientName examRoom } }",
        {"id": second["exam_id"]},
    )
    assert data["study"] == {
        "examDescription": second["exam_description"],
        "patientName": second["patient_name"],
        "examRoom": second["exam_room"],
    }


@pytest.mark.parametrize("name", [name for name in TEXT_FIELDS if TEXT_LIMITS[name]])
def test_a_value_past_its_limit_is_a_problem_of_its_row(tmp_path, name):
    limit = TEXT_LIMITS[name]
    study = study_values("20253")
    study[name] = "7" * (limit + 1) if name == "exam_id" else "x" * (limit + 1)
    report = import_studies(write("csv", tmp_path / "over", [study, study_values("20254")]))
    assert report.outcome == ROLLED_BACK and Study.objects.count() == 0
    problem = {"row": 1, "field": name, "reason": f"too long: {limit + 1:,} characters, at most {limit:,}"}
    assert [{key: p[key] for key in problem} for p in report.invalid] == [problem]


LONG = cjk(3000)
AT_KEY = cjk(PREFIX_KEY_LENGTH)  # exactly the key's length: its key is the whole value
SAME_START = LONG[:PREFIX_KEY_LENGTH] + cjk(10)  # shares LONG's key, differs after it


@pytest.fixture
def descriptions() -> dict[str, str | None]:
    by_id = {
        "1": LONG,
        "2": AT_KEY,
        "3": SAME_START,
        "4": "Brain CT",
        "5": "Brain CT  Routine(-C)",
        "6": None,
    }
    for exam_id, description in by_id.items():
        Study.objects.create(**study_values(f"2026000000{exam_id}", exam_description=description))
    bump_data_version()
    return by_id


def found(lookup: dict) -> list[str]:
    data = gql(
        "query($f: StudyFilter) { studies(filters: $f) { results { examId } } }",
        {"f": {"examDescription": lookup}},
    )
    return sorted(row["examId"][-1] for row in data["studies"]["results"])


def test_description_lookups_find_exactly_the_matching_studies(descriptions):
    assert found({"exact": LONG}) == ["1"]
    assert found({"exact": SAME_START}) == ["3"]
    assert found({"exact": AT_KEY}) == ["2"]
    assert found({"exact": "Brain CT"}) == ["4"]
    assert found({"exact": LONG[:PREFIX_KEY_LENGTH]}) == []  # a key, not a description
    assert found({"inList": [LONG, "Brain CT", AT_KEY[:-1]]}) == ["1", "4"]
    assert found({"inList": [SAME_START, AT_KEY]}) == ["2", "3"]
    assert found({"startsWith": LONG[:PREFIX_KEY_LENGTH]}) == ["1", "3"]
    assert found({"startsWith": LONG[: PREFIX_KEY_LENGTH + 1]}) == ["1"]  # past the key: the text decides
    assert found({"startsWith": LONG[:2000]}) == ["1"]
    assert found({"startsWith": "Brain CT"}) == ["4", "5"]
    assert found({"iContains": LONG[2500:2520]}) == ["1"]
    assert found({"isNull": True}) == ["6"]


def test_free_text_and_the_search_profile_see_long_descriptions(descriptions, client):
    profile = profile_of_table(connection, Study._meta.db_table)
    assert profile.values["exam_description"] == sorted(v for v in descriptions.values() if v)
    term = LONG[2900:2910]  # only in the long description's tail, past its key
    response = client.get("/api/v1/studies/search", {"q": term})
    assert [row["exam_id"] for row in json.loads(response.content)["data"]] == ["20260000001"]
    response = client.get("/api/v1/studies/search", {"q": SAME_START[-10:]})
    assert [row["exam_id"] for row in json.loads(response.content)["data"]] == ["20260000003"]
