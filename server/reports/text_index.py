"""The reports' text index: how a report's current text is cut into index tokens, and how a search term
becomes a condition on them that means exactly "the report's text contains this term, ignoring case".

Trigram indexes do not serve the terms people type into a report search: one or two Chinese characters
(氣胸, 肺) over a kilobyte of text. So each report's *document* (its id, exam_id, title and current
content, lower-cased) is cut into tokens of three kinds, stored in a GIN-indexed array:

- every character (``肺``, ``a``): a one-character term is one token;
- every pair of adjacent characters without whitespace between them (``氣胸``, ``ct``): a two-character
  term is one token (terms never contain whitespace; they are split on it);
- every run of three or more ASCII letters and digits (``pneumothorax``, ``20240101001``): these are also
  kept, once each, in the *vocabulary* (``ReportSearchWord``), a table with a trigram index.

A term of three or more ASCII letters and digits occurs in a text exactly when it occurs inside one of the
text's runs, so it becomes "the tokens overlap the vocabulary words that contain the term" (``normal`` →
``{normal, abnormal, abnormality}``), looked up in the small vocabulary by its trigram index. Array
containment and overlap are exact operators: PostgreSQL counts their matches from the index alone, without
re-reading a single text, which is what keeps the exact total of a word found in most reports fast. Any
other term of three or more characters (Chinese, or with punctuation) must contain all its pairs, which
narrows the candidates to few, and is then checked against the stored document with ``LIKE``.

The vocabulary only grows: a word that left every report matches nothing, which costs a lookup, never a
wrong answer. A term whose vocabulary expansion is larger than ``MAX_EXPANSION`` (a few digits of an
exam_id) is searched the checked way instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WORD = re.compile(r"[a-z0-9]{3,}")
_WORD_TERM = re.compile(r"[a-z0-9]{3,}")
_WHITESPACE = re.compile(r"\s")
MAX_EXPANSION = 2000


def document_of(report_id: str, exam_id: str | None, title: str | None, content: str) -> str:
    """What a report search looks in: the contract names the full text, title, report_id and exam_id.
    Lines keep the fields apart, so no pair of characters spans two of them."""
    return "\n".join((report_id, exam_id or "", title or "", content)).lower()


def tokens_of(document: str) -> list[str]:
    """The document's distinct characters, pairs of adjacent non-space characters, and ASCII words."""
    tokens: set[str] = set()
    for part in _WHITESPACE.split(document):
        tokens.update(part)
        tokens.update(part[i : i + 2] for i in range(len(part) - 1))
    tokens.update(WORD.findall(document))
    return sorted(tokens)


def words_of(documents: Iterable[str]) -> set[str]:
    """The vocabulary entries of these documents."""
    words: set[str] = set()
    for document in documents:
        words.update(WORD.findall(document))
    return words


def is_word_term(term: str) -> bool:
    """A lower-cased term answered through the vocabulary (see the module docstring)."""
    return _WORD_TERM.fullmatch(term) is not None


def pairs_of(term: str) -> list[str]:
    """The tokens every document containing ``term`` has: the term itself when it is short, else its pairs."""
    if len(term) <= 2:
        return [term]
    return sorted({term[i : i + 2] for i in range(len(term) - 1)})
