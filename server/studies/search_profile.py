"""Facts about the whole studies table that decide how a free-text term is searched (see
``selectors/text_search.py``): the distinct descriptions and items, which identifiers are all digits, the
longest value of each pruned field, and whether any name has a digit.

Computing them scans the table (3.4 s at 1,000,000 studies), and every API worker would pay that on the
first search after each import. So the writes that bump the data version store them with it: a full load
computes them over the loaded table inside its transaction, an incremental import over its staged rows only
and merges them with the stored ones. A merged profile may overstate (a value an upsert replaced stays
listed, a longest value stays long), which only makes a search test a little more; it never understates, so
no match is ever pruned. Readers fall back to the scan when nothing is stored (tests that write rows
directly).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db.backends.base.base import BaseDatabaseWrapper

from server.studies.fields import KEY_SUFFIX, PREFIX_KEY_LENGTH, PrefixKeyedCharField
from server.studies.loose_index_scan import distinct_values_sql
from server.studies.models import Study

VALUE_SET_FIELDS = ("exam_description", "exam_item")
IDENTIFIER_FIELDS = ("exam_id", "medical_record_no", "application_order_no")
LENGTH_PRUNED_FIELDS = ("patient_name", *IDENTIFIER_FIELDS)
STUDY_TABLE = Study._meta.db_table
MAX_VALUE_SET = 20_000  # beyond this many distinct values, a plain substring test is cheaper


@dataclass(frozen=True)
class SearchProfile:
    """True of the table until the next import (or an overstatement of it; see the module docstring)."""

    values: dict[str, list[str] | None]  # distinct values of VALUE_SET_FIELDS; None when too many
    digits_only: dict[str, bool]  # IDENTIFIER_FIELDS whose every value is ASCII digits
    longest: dict[str, int]  # the longest value of each LENGTH_PRUNED_FIELDS (0 when there is none)
    names_have_digits: bool

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SearchProfile | None:
        """None for a profile stored in another shape (by an older release): the caller scans instead."""
        try:
            return cls(**data)
        except TypeError:
            return None

    def merged(self, other: SearchProfile) -> SearchProfile:
        """A profile true of both tables' rows together."""

        def union(a: list[str] | None, b: list[str] | None) -> list[str] | None:
            if a is None or b is None:
                return None
            joined = sorted(set(a) | set(b))
            return joined if len(joined) <= MAX_VALUE_SET else None

        return SearchProfile(
            values={name: union(self.values[name], other.values[name]) for name in VALUE_SET_FIELDS},
            digits_only={
                name: self.digits_only[name] and other.digits_only[name] for name in IDENTIFIER_FIELDS
            },
            longest={name: max(self.longest[name], other.longest[name]) for name in LENGTH_PRUNED_FIELDS},
            names_have_digits=self.names_have_digits or other.names_have_digits,
        )


def _scan_sql(table: str, with_values: bool) -> str:
    values = [f"array_agg(DISTINCT {name}) FILTER (WHERE {name} <> '')" for name in VALUE_SET_FIELDS]
    other = [f"bool_or({name} ~ '[^0-9]')" for name in IDENTIFIER_FIELDS]
    lengths = [f"max(length({name}))" for name in LENGTH_PRUNED_FIELDS]
    columns = ", ".join(
        [*(values if with_values else []), *other, *lengths, "bool_or(patient_name ~ '[0-9]')"]
    )
    return f"SELECT {columns} FROM {table}"  # noqa: S608 (a table name of ours, never input)


def _distinct_by_index(cursor, table: str, name: str) -> list[str]:
    """The distinct values of ``name`` by a loose scan of its btree (at most ``MAX_VALUE_SET + 1``).

    A prefix-keyed field's btree is on its key column, which holds whole values except for those at least
    the key's length; those few are read in full through the same index."""
    if not isinstance(Study._meta.get_field(name), PrefixKeyedCharField):
        cursor.execute(distinct_values_sql(table, name, cap=MAX_VALUE_SET))
        return cursor.fetchone()[0] or []
    key = name + KEY_SUFFIX
    cursor.execute(distinct_values_sql(table, key, cap=MAX_VALUE_SET))
    keys = cursor.fetchone()[0] or []
    whole = [value for value in keys if len(value) < PREFIX_KEY_LENGTH]
    if len(whole) == len(keys):
        return whole
    cursor.execute(
        f"SELECT array_agg(DISTINCT {name}) FROM {table} WHERE {key} = ANY(%s)",  # noqa: S608 (names of ours)
        [[value for value in keys if len(value) >= PREFIX_KEY_LENGTH]],
    )
    return whole + (cursor.fetchone()[0] or [])


def profile_of_table(connection: BaseDatabaseWrapper, table: str) -> SearchProfile:
    """The profile of ``table`` (the studies table or an import's staging table), on PostgreSQL.

    On the studies table the distinct values come from their btree indexes and the rest from one scan that
    PostgreSQL can split over parallel workers (DISTINCT aggregates cannot be): at 1,000,000 rows about
    1 s instead of 3. A staging table has no indexes, and is small, so one scan does it all.
    """
    quoted = connection.ops.quote_name(table)
    by_index = table == STUDY_TABLE
    with connection.cursor() as cursor:
        cursor.execute(_scan_sql(quoted, with_values=not by_index))
        row = list(cursor.fetchone())
        if by_index:
            values = [_distinct_by_index(cursor, quoted, name) for name in VALUE_SET_FIELDS]
        else:
            values = [row.pop(0) or [] for _ in VALUE_SET_FIELDS]
    other = [row.pop(0) for _ in IDENTIFIER_FIELDS]
    lengths = [row.pop(0) or 0 for _ in LENGTH_PRUNED_FIELDS]
    return SearchProfile(
        values={
            name: sorted(found) if len(found) <= MAX_VALUE_SET else None
            for name, found in zip(VALUE_SET_FIELDS, values, strict=True)
        },
        digits_only={name: not found for name, found in zip(IDENTIFIER_FIELDS, other, strict=True)},
        longest=dict(zip(LENGTH_PRUNED_FIELDS, lengths, strict=True)),
        names_have_digits=bool(row.pop(0)),
    )


def table_profile_json(connection: BaseDatabaseWrapper, table: str = STUDY_TABLE) -> dict | None:
    """The profile to store with a data-version bump after a full load."""
    return profile_of_table(connection, table).as_json()
