"""The core app's one model: the data version that caches of whole-table facts are keyed by."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now


class DataVersion(models.Model):
    """A counter that every write to the studies table bumps, in the same transaction.

    Studies change only through imports and the demo generator, so anything derived from the whole table
    (filter options, cached totals) stays valid while the version is unchanged: caches are keyed by it. It
    lives in the database, not in a process, so every API worker sees a bump at once.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(db_default=Now())
    # server.studies.search_profile: facts for free-text search, stored by the write that bumped the version
    # (null when that write did not compute them; readers then scan the table once).
    search_profile = models.JSONField(null=True, blank=True)

    class Meta:
        # Created by the studies app's migrations, before the model moved here (core 0001): the name stays.
        db_table = "studies_data_version"

    def __str__(self) -> str:
        return f"data version {self.version}"
