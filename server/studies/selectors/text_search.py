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

from django.db import connections
from django.db.models import Func, Q

from server.core.cache import cached
from server.core.data_version import current_version, stored_search_profile
from server.studies.fields import CodePointCharField, TrigramIndexableIContains
from server.studies.models import Study
from server.studies.search_profile import (
    IDENTIFIER_FIELDS,
    VALUE_SET_FIELDS,
    SearchProfile,
    profile_of_table,
)

_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold_case(text: str) -> str:
    """Lower-case ASCII only, as ILIKE does under the "C" collation."""
    return text.translate(_ASCII_FOLD)


class Tripled(Func):
    """``regexp_replace(text, '(.)', '\\1\\1\\1', 'g')``: the exact expression of the name's trigram index."""

    template = "regexp_replace(%(expressions)s, '(.)', '\\1\\1\\1', 'g')"
    output_field = CodePointCharField()


def search_profile() -> SearchProfile:
    """Read (or, if the last write did not store it, computed) once per data version and process."""
    return cached(("search_profile",), _compute_search_profile)


def _compute_search_profile() -> SearchProfile:
    read = connections[Study.objects.db]  # the alias reads go to (a replica, if there are any)
    stored = stored_search_profile(current_version(), read.alias)
    profile = SearchProfile.from_json(stored) if stored is not None else None
    if profile is not None:  # stored by the import that made this version: no scan
        return profile
    return profile_of_table(read, Study._meta.db_table)


def _name_condition(profile: SearchProfile, term: str) -> Q | None:
    if len(term) > profile.longest["patient_name"] or (
        not profile.names_have_digits and any(ch in "0123456789" for ch in term)
    ):
        return None
    return Q(TrigramIndexableIContains(Tripled("patient_name"), "".join(ch * 3 for ch in term)))


def _value_set_condition(profile: SearchProfile, field_name: str, term: str) -> Q | None:
    values = profile.values[field_name]
    if values is None:
        return Q(**{f"{field_name}__icontains": term})
    wanted = fold_case(term)
    matching = [value for value in values if wanted in fold_case(value)]
    return Q(**{f"{field_name}__in": matching}) if matching else None


def _identifier_condition(profile: SearchProfile, field_name: str, term: str) -> Q | None:
    if not (term.isascii() and term.isdigit()) and profile.digits_only[field_name]:
        return None
    longest = profile.longest[field_name]
    if len(term) > longest:
        return None
    if len(term) == longest and _caseless(term):
        return Q(**{field_name: term})  # only a whole value is that long; the field's btree finds it
    return Q(**{f"{field_name}__icontains": term})


def _caseless(term: str) -> bool:
    """True when ASCII case folding cannot change what ``term`` matches (digits, CJK, punctuation)."""
    return fold_case(term) == term.upper()


def term_condition(term: str) -> Q:
    """Studies in which ``term`` occurs in at least one searched field."""
    profile = search_profile()  # once per term: outside a request, each call reads the data version
    parts = [_name_condition(profile, term)]
    parts += [_value_set_condition(profile, name, term) for name in VALUE_SET_FIELDS]
    parts += [_identifier_condition(profile, name, term) for name in IDENTIFIER_FIELDS]
    condition = Q()
    for part in parts:
        if part is not None:
            condition |= part
    return condition if condition else Q(pk__in=[])  # occurs nowhere: matches no study
