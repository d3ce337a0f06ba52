"""The database itself: the schema comes from the migrations alone, and the locale lets trigrams work."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_character_type_gives_chinese_text_trigrams():
    with connection.cursor() as cursor:
        cursor.execute("SELECT show_trgm('王小明')")
        (trigrams,) = cursor.fetchone()
    assert len(trigrams) >= 3, "a C character type yields no trigrams for Chinese text"


def test_the_search_fields_have_trigram_indexes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'medical_examinations_fact' "
            "AND indexdef LIKE '%gin_trgm_ops%' ORDER BY 1"
        )
        names = [row[0] for row in cursor.fetchall()]
    assert names == [
        "study_application_order_no_trgm_idx",
        "study_exam_id_trgm_idx",
        "study_medical_record_no_trgm_idx",
        "study_patient_name_tripled_trgm_idx",
    ]


def test_models_and_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migrations_apply_from_zero_and_back():
    call_command("migrate", "studies", "zero", verbosity=0)
    assert "medical_examinations_fact" not in connection.introspection.table_names()
    call_command("migrate", verbosity=0)
    assert "medical_examinations_fact" in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'study_%%_trgm_idx'")
        assert cursor.fetchone() == (4,)


@pytest.mark.django_db(transaction=True)
def test_migrate_runs_without_the_statement_timeout_and_restores_it(monkeypatch):
    """An index build or table rewrite on a full table outlasts any search's timeout; it must not be
    cancelled half-way (migration 0009 took 18 s at 1,000,000 studies, against a 5 s timeout)."""
    from django.db.migrations.executor import MigrationExecutor

    seen = []
    migrate = MigrationExecutor.migrate

    def spy(self, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen.append(cursor.fetchone()[0])
        return migrate(self, *args, **kwargs)

    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '5s'")
    monkeypatch.setattr(MigrationExecutor, "migrate", spy)
    call_command("migrate", "studies", "0008", verbosity=0)
    call_command("migrate", verbosity=0)
    assert seen == ["0", "0"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"
