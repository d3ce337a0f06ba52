"""Model fields for the hospital's wall-clock times."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import lookups
from django.db.models.expressions import Col

# How many leading characters of a PrefixKeyedCharField its key column holds: 500 characters take at most
# 2,000 bytes, within a btree entry's 2,704 whatever the script.
PREFIX_KEY_LENGTH = 500
KEY_SUFFIX = "_key"


class WallClockDateTimeField(models.DateTimeField):
    """A local wall-clock time with no zone, stored and read back unchanged.

    On PostgreSQL the column is ``timestamp without time zone``: Django's default ``timestamptz`` would
    interpret the value in the session's ``TimeZone`` on the way in and out, so a session (or a ``psql``
    user, or a bulk loader) with another zone would see shifted times, and times in a DST gap would move.
    An aware datetime handed in is first expressed in the hospital's ``TIME_ZONE``.
    """

    description = "Wall-clock date and time without time zone"

    def db_type(self, connection) -> str:
        return "timestamp without time zone"

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
        return value


class CodePointCharField(models.CharField):
    """Text that PostgreSQL compares and sorts by code point (the ``"C"`` collation).

    Code-point order is what the legacy DuckDB backend sorted by, it is the same on every operating system
    (a glibc upgrade cannot silently reorder an index), and it makes btree builds and sorts cheaper. Case-
    insensitive matching (ILIKE, trigram search) is unaffected for the ASCII and CJK text of this data.
    """

    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        parameters["collation"] = "C"
        return parameters


@CodePointCharField.register_lookup
class TrigramIndexableIContains(lookups.IContains):
    """``icontains`` as ``col ILIKE '%term%'`` on PostgreSQL, so that the column's trigram index serves it.

    Django's own ``icontains`` is ``UPPER(col) LIKE UPPER(...)``, which no index on ``col`` can answer. Both
    fold ASCII case only under the "C" collation, so results are the same.
    """

    def as_postgresql(self, compiler, connection):
        lhs_sql, lhs_params = lookups.Lookup.process_lhs(self, compiler, connection)  # no UPPER() cast
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)  # '%' + escaped term + '%'
        return f"{lhs_sql} ILIKE {rhs_sql}", (*lhs_params, *rhs_params)


class PrefixKeyedCharField(CodePointCharField):
    """Text of any length, indexed through a generated sibling column ``<name>_key`` that holds its first
    ``PREFIX_KEY_LENGTH`` characters.

    A btree cannot hold a value over 2,704 bytes, so a plain index on the text would refuse a long one; and
    PostgreSQL never answers from an expression index alone (it wants the whole column for index-only
    scans), hence a stored column rather than an index on ``left(text, n)``. Equality, ``in`` and
    ``startswith`` are answered through the key: for a value shorter than the key length, ``key = value``
    exactly when ``text = value`` (a longer text's key is the full key length), so the key's index alone
    answers them; a value at least that long also compares the text itself.
    """


def _key_of(lookup: lookups.Lookup) -> Col | None:
    lhs = lookup.lhs
    if not isinstance(lhs, Col):
        return None
    return Col(lhs.alias, lhs.target.model._meta.get_field(lhs.target.name + KEY_SUFFIX))


@PrefixKeyedCharField.register_lookup
class KeyedExact(lookups.Exact):
    def as_sql(self, compiler, connection):
        key = _key_of(self)
        if key is None or not isinstance(self.rhs, str):
            return super().as_sql(compiler, connection)
        key_sql, key_params = compiler.compile(key)
        if len(self.rhs) < PREFIX_KEY_LENGTH:
            return f"{key_sql} = %s", (*key_params, self.rhs)
        sql, params = super().as_sql(compiler, connection)
        return f"({key_sql} = %s AND {sql})", (*key_params, self.rhs[:PREFIX_KEY_LENGTH], *params)


@PrefixKeyedCharField.register_lookup
class KeyedIn(lookups.In):
    def as_sql(self, compiler, connection):
        key = _key_of(self)
        if key is None or not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        values = {value for value in self.rhs if value is not None}
        if not values or not all(isinstance(value, str) for value in values):
            return super().as_sql(compiler, connection)
        short = sorted(value for value in values if len(value) < PREFIX_KEY_LENGTH)
        long = sorted(values.difference(short))
        parts, params = [], []
        if short:
            sql, part_params = compiler.compile(lookups.In(key, short))
            parts.append(sql)
            params.extend(part_params)
        if long:
            key_sql, key_params = compiler.compile(
                lookups.In(key, sorted({value[:PREFIX_KEY_LENGTH] for value in long}))
            )
            text_sql, text_params = compiler.compile(lookups.In(self.lhs, long))
            parts.append(f"({key_sql} AND {text_sql})")
            params.extend((*key_params, *text_params))
        return (parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"), tuple(params)


@PrefixKeyedCharField.register_lookup
class KeyedStartsWith(lookups.StartsWith):
    def as_sql(self, compiler, connection):
        key = _key_of(self)
        if key is None or not isinstance(self.rhs, str) or len(self.rhs) > PREFIX_KEY_LENGTH:
            return super().as_sql(compiler, connection)
        return compiler.compile(lookups.StartsWith(key, self.rhs))
