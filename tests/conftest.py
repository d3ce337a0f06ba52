"""Shared test set-up: the suite runs on a real PostgreSQL (``make test`` provides one)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A temporary folder others may enter: a cluster started by root runs as its own user, who cannot
    pass pytest's own temporary folders (mode 700)."""
    folder = Path(tempfile.mkdtemp(prefix="studies-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def study_values(exam_id: str = "20250000001", **overrides) -> dict:
    """A complete, valid study as model keyword arguments; tests override what they care about."""
    values = {
        "exam_id": exam_id,
        "medical_record_no": "00123456",
        "application_order_no": exam_id,
        "patient_name": "王小明",
        "patient_gender": "M",
        "patient_birth_date": dt.date(1958, 3, 14),
        "patient_age": 67,
        "exam_status": "終審報告",
        "exam_source": "門診",
        "exam_item": "300727239",
        "exam_description": "Brain CT  Routine(-C)",
        "exam_room": "CT750",
        "exam_equipment": "GE Revolution CT",
        "equipment_type": "CT",
        "order_datetime": dt.datetime(2025, 11, 6, 10, 30, 0),
        "check_in_datetime": dt.datetime(2025, 11, 6, 11, 2, 15),
        "report_certification_datetime": dt.datetime(2025, 11, 6, 15, 45, 59),
        "certified_physician": "陳建志",
    }
    values.update(overrides)
    return values


@pytest.fixture(autouse=True)
def _fresh_query_cache():
    """Tests write studies without an import, so the per-version query cache must not outlive a test."""
    from server.core import cache

    cache.clear()
    yield
    cache.clear()


def bearer_headers(role: str = "admin", username: str | None = None) -> dict[str, str]:
    """An ``Authorization`` header of a fresh user with ``role``, created in the current test's database."""
    from server.access.services import create_user
    from server.access.tokens import issue_token

    user = create_user(username or f"test-{role}", role, "a long test password 123")
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user).raw}"}


@pytest.fixture
def client(db):
    """Django's test client, logged in as an admin: the API refuses anonymous callers. Tests of access
    control itself use ``anonymous_client`` or ``bearer_headers``."""
    from django.test import Client

    return Client(**bearer_headers())


@pytest.fixture
def anonymous_client():
    from django.test import Client

    return Client()


@contextmanager
def studies_in_database(generated: list[tuple], django_db_blocker) -> Iterator[list[dict]]:
    """Commit ``generated`` rows for a whole test module and remove them afterwards; yields them as dicts,
    for computations that check the API independently of its own code."""
    from django.db import transaction

    from server.core.data_version import bump_data_version
    from server.studies import bulk
    from server.studies.columns import STUDY_FIELDS
    from server.studies.models import Study

    with django_db_blocker.unblock():
        with transaction.atomic():
            bulk.write_studies(generated)
            bump_data_version()  # cached totals and options follow the data version
        try:
            yield [dict(zip(STUDY_FIELDS, row, strict=True)) for row in generated]
        finally:
            with transaction.atomic():
                Study.objects.all().delete()
                bump_data_version()
