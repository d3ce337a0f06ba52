"""Writes that other parts of the product call (HackSoft's "services"); reads live in ``selectors``."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F
from django.db.models.functions import Now

from server.studies.models import DataVersion


def bump_data_version(using: str = DEFAULT_DB_ALIAS) -> int:
    """Mark the studies table as changed; call it inside the transaction that changed it.

    Returns the new version. Caches keyed by the old version are thereby invalid in every process.
    """
    DataVersion.objects.using(using).get_or_create(id=1)
    DataVersion.objects.using(using).filter(id=1).update(version=F("version") + 1, changed_at=Now())
    return DataVersion.objects.using(using).values_list("version", flat=True).get(id=1)


def current_data_version(using: str = DEFAULT_DB_ALIAS) -> int:
    """The number of changes so far; 0 before anything was ever loaded."""
    return DataVersion.objects.using(using).filter(id=1).values_list("version", flat=True).first() or 0


def data_version_key(using: str = DEFAULT_DB_ALIAS) -> tuple:
    """What caches of whole-table facts are keyed by: the version and when it changed.

    The time makes the key unique even if a rolled-back transaction (a failed import, a test) had bumped the
    counter to the same number over different data.
    """
    # Read once per API request: a plain statement, since building it through the ORM took 0.8 of its 0.9 ms.
    with connections[using].cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, None)


_VERSION_SQL = f"SELECT version, changed_at FROM {DataVersion._meta.db_table} WHERE id = 1"  # noqa: S608
