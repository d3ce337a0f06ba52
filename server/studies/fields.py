"""Model fields for the hospital's wall-clock times."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import lookups


class WallClockDateTimeField(models.DateTimeField):
    """A local wall-clock time with no zone, stored and read back unchanged.

    On PostgreSQL the column is ``timestamp without time zone``: Django's default ``timestamptz`` would
    interpret the value in the session's ``TimeZone`` on the way in and out, so a session (or a ``psql``
    user, or a bulk loader) with another zone would see shifted times, and times in a DST gap would move.
    An aware datetime handed in is first expressed in the hospital's ``TIME_ZONE``.
    """

    description = "Wall-clock date and time without time zone"

    def db_type(self, connection) -> str:
        if connection.vendor == "postgresql":
            return "timestamp without time zone"
        return super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
        if connection.vendor == "postgresql":
            return value
        return connection.ops.adapt_datetimefield_value(value)


class CodePointCharField(models.CharField):
    """Text that PostgreSQL compares and sorts by code point (the ``"C"`` collation).

    Code-point order is what the legacy DuckDB backend sorted by, it is the same on every operating system
    (a glibc upgrade cannot silently reorder an index), and it makes btree builds and sorts cheaper. Case-
    insensitive matching (ILIKE, trigram search) is unaffected for the ASCII and CJK text of this data.
    """

    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters


@CodePointCharField.register_lookup
class TrigramIndexableIContains(lookups.IContains):
    """``icontains`` as ``col ILIKE '%term%'`` on PostgreSQL, so that the column's trigram index serves it.

    Django's own ``icontains`` is ``UPPER(col) LIKE UPPER(...)``, which no index on ``col`` can answer. Both
    fold ASCII case only under the "C" collation, so results are the same; SQLite keeps Django's SQL.
    """

    def as_postgresql(self, compiler, connection):
        lhs_sql, lhs_params = lookups.Lookup.process_lhs(self, compiler, connection)  # no UPPER() cast
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)  # '%' + escaped term + '%'
        return f"{lhs_sql} ILIKE {rhs_sql}", (*lhs_params, *rhs_params)
