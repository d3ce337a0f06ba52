"""Free text: each term becomes, field by field, the cheapest condition that still means exactly
"the term occurs in this field, ignoring ASCII case".

PostgreSQL's trigram indexes cannot answer terms shorter than three characters, yet one- and two-character
Chinese terms (a surname, half a given name) are what people type. So, per field:

- ``patient_name`` is searched in a "tripled" form, every character written three times
  (``王小明`` → ``王王王小小小明明明``), which its trigram index covers (migration 0004). A name contains a
  term exactly when the tripled name contains the tripled term, and a tripled term of any length has whole
  trigrams.
- ``exam_description`` and ``exam_item`` hold few distinct values (tens to a few thousand), so a term is
  matched against those values in Python and becomes ``field IN (matching values)``.
- The identifiers (exam_id, chart and order numbers) keep their trigram indexes, which serve terms of three
  or more characters. A term that is not all digits is skipped for a field whose every value is digits
  (known once per data version), so a short Chinese term never forces a scan of the numbers.
- A term longer than a field's longest value cannot occur in it, and a term as long as the longest value
  occurs only as the whole value: an 11-digit exam_id becomes ``exam_id = term`` (a btree, 0.1 ms, where
  its trigrams, shared by most exam_ids, took 30 ms) and is not looked for in 8-digit chart numbers.
  Names are skipped for a term with a digit when no name has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg, BoolOr
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Func, Max, Q
from django.db.models.functions import Length

from server.studies.fields import CodePointCharField, TrigramIndexableIContains
from server.studies.models import Study
from server.studies.selectors.cache import cached

VALUE_SET_FIELDS = ("exam_description", "exam_item")
IDENTIFIER_FIELDS = ("exam_id", "medical_record_no", "application_order_no")
LENGTH_PRUNED_FIELDS = ("patient_name", *IDENTIFIER_FIELDS)
MAX_VALUE_SET = 20_000  # beyond this many distinct values, a plain substring test is cheaper
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold_case(text: str) -> str:
    """Lower-case ASCII only, as ILIKE does under the "C" collation and SQLite's LIKE does."""
    return text.translate(_ASCII_FOLD)


class Tripled(Func):
    """``regexp_replace(text, '(.)', '\\1\\1\\1', 'g')``: the exact expression of the name's trigram index."""

    template = "regexp_replace(%(expressions)s, '(.)', '\\1\\1\\1', 'g')"
    output_field = CodePointCharField()


@dataclass(frozen=True)
class SearchProfile:
    """Facts about the whole table that decide how a term is searched, true until the next import."""

    values: dict[str, list[str] | None]  # distinct values of VALUE_SET_FIELDS; None when too many
    digits_only: dict[str, bool]  # IDENTIFIER_FIELDS whose every value is ASCII digits
    longest: dict[str, int]  # the longest value of each LENGTH_PRUNED_FIELDS (0 when there is none)
    names_have_digits: bool


def search_profile() -> SearchProfile:
    """One scan of the table per data version (cached), so that a search costs no extra query after it."""
    return cached(("search_profile",), _compute_search_profile)


def _compute_search_profile() -> SearchProfile:
    lengths = {f"longest_{name}": Max(Length(name)) for name in LENGTH_PRUNED_FIELDS}
    if connection.vendor != "postgresql":  # SQLite: no aggregates of arrays; the slow path is fine there
        values = {
            name: sorted({v for v in Study.objects.values_list(name, flat=True) if v})
            for name in VALUE_SET_FIELDS
        }
        row = Study.objects.order_by().aggregate(**lengths)
        return SearchProfile(
            {k: v if len(v) <= MAX_VALUE_SET else None for k, v in values.items()},
            dict.fromkeys(IDENTIFIER_FIELDS, False),
            {name: row[f"longest_{name}"] or 0 for name in LENGTH_PRUNED_FIELDS},
            names_have_digits=True,
        )
    row = Study.objects.order_by().aggregate(
        **{
            f"values_{name}": ArrayAgg(
                name, distinct=True, filter=~Q(**{name: ""}) & Q(**{f"{name}__isnull": False})
            )
            for name in VALUE_SET_FIELDS
        },
        **{
            f"other_{name}": BoolOr(ExpressionWrapper(Q(**{f"{name}__regex": r"[^0-9]"}), BooleanField()))
            for name in IDENTIFIER_FIELDS
        },
        **lengths,
        names_have_digits=BoolOr(ExpressionWrapper(Q(patient_name__regex=r"[0-9]"), BooleanField())),
    )
    values = {name: row[f"values_{name}"] or [] for name in VALUE_SET_FIELDS}
    return SearchProfile(
        values={name: found if len(found) <= MAX_VALUE_SET else None for name, found in values.items()},
        digits_only={name: not row[f"other_{name}"] for name in IDENTIFIER_FIELDS},
        longest={name: row[f"longest_{name}"] or 0 for name in LENGTH_PRUNED_FIELDS},
        names_have_digits=bool(row["names_have_digits"]),
    )


def _too_long(field_name: str, term: str) -> bool:
    return len(term) > search_profile().longest[field_name]


def _name_condition(term: str) -> Q | None:
    profile = search_profile()
    if _too_long("patient_name", term) or (
        not profile.names_have_digits and any(ch in "0123456789" for ch in term)
    ):
        return None
    if connection.vendor != "postgresql":
        return Q(patient_name__icontains=term)
    return Q(TrigramIndexableIContains(Tripled("patient_name"), "".join(ch * 3 for ch in term)))


def _value_set_condition(field_name: str, term: str) -> Q | None:
    values = search_profile().values[field_name]
    if values is None:
        return Q(**{f"{field_name}__icontains": term})
    wanted = fold_case(term)
    matching = [value for value in values if wanted in fold_case(value)]
    return Q(**{f"{field_name}__in": matching}) if matching else None


def _identifier_condition(field_name: str, term: str) -> Q | None:
    if not (term.isascii() and term.isdigit()) and search_profile().digits_only[field_name]:
        return None
    if _too_long(field_name, term):
        return None
    if len(term) == search_profile().longest[field_name] and _caseless(term):
        return Q(**{field_name: term})  # only a whole value is that long; the field's btree finds it
    return Q(**{f"{field_name}__icontains": term})


def _caseless(term: str) -> bool:
    """True when ASCII case folding cannot change what ``term`` matches (digits, CJK, punctuation)."""
    return fold_case(term) == term.upper()


def term_condition(term: str) -> Q:
    """Studies in which ``term`` occurs in at least one searched field."""
    parts = [_name_condition(term)]
    parts += [_value_set_condition(name, term) for name in VALUE_SET_FIELDS]
    parts += [_identifier_condition(name, term) for name in IDENTIFIER_FIELDS]
    condition = Q()
    for part in parts:
        if part is not None:
            condition |= part
    return condition if condition else Q(pk__in=[])  # occurs nowhere: matches no study
