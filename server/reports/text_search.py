"""A search term as a condition on ``ReportSearch`` that means exactly "the report's current document
contains this term, ignoring case" (the tokens are ``server.reports.text_index``'s; its docstring says why
they are what they are):

- a term of one or two characters is one token: ``tokens @> {term}``, answered by the GIN index alone;
- a term of three or more ASCII letters and digits occurs only inside a vocabulary word, so it becomes
  ``tokens && {the vocabulary words containing it}``, also answered by the index alone, however many reports
  hold it; the words are found in the vocabulary's trigram index;
- any other term (Chinese, punctuation, or a fragment in too many words) must contain all its pairs, which
  narrows the candidates, and is then checked with ``LIKE`` on the stored document (Django escapes ``%``,
  ``_`` and ``\\``).

Terms are lower-cased as the document is (``str.lower``), so case never matters, in any script.
"""

from __future__ import annotations

from django.db.models import Q

from server.reports.models import ReportSearchWord
from server.reports.text_index import WORD

# A fragment found in more vocabulary words than this ("ion") is checked against the documents instead:
# an overlap with thousands of words would cost more than it saves.
MAX_VOCABULARY_MATCHES = 1_000


def term_condition(term: str) -> Q:
    """Reports whose current document contains ``term`` (one whitespace-free term of a search)."""
    term = term.lower()
    if len(term) <= 2:
        return Q(tokens__contains=[term])
    if WORD.fullmatch(term):
        words = list(
            ReportSearchWord.objects.filter(word__contains=term).values_list("word", flat=True)[
                : MAX_VOCABULARY_MATCHES + 1
            ]
        )
        if not words:
            return Q(pk__in=[])  # no report has ever held it
        if len(words) <= MAX_VOCABULARY_MATCHES:
            return Q(tokens__overlap=words)
    pairs = sorted({term[i : i + 2] for i in range(len(term) - 1)})
    return Q(tokens__contains=pairs) & Q(document__contains=term)
