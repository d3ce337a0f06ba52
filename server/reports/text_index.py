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
wrong answer. ``server.reports.text_search`` turns search terms into these conditions.

``tokens_of`` is on every write's path and is most of an import's Python time at a million reports, so it
works on the document encoded once as UTF-32: every pair of adjacent characters is then one 64-bit integer
(two ``memoryview`` casts, one per parity) and every character one 32-bit integer, so the sets are built at
C speed and only the few hundred distinct keys become strings, through a cache shared by all documents that
also remembers which keys hold whitespace (and so are no token). ``tests/test_text_index.py`` holds the plain
definition it must equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WORD = re.compile(r"[a-z0-9]{3,}")
_WHITESPACE = re.compile(r"\s")
_CACHE_LIMIT = 2_000_000
_strings: dict[int, str] = {}  # pair (>= 0) or -(character + 1) -> the token, or "" when it holds whitespace


def document_of(report_id: str, exam_id: str | None, title: str | None, content: str) -> str:
    """What a report search looks in: the contract names the full text, title, report_id and exam_id.
    Lines keep the fields apart, so no pair of characters spans two of them."""
    return "\n".join((report_id, exam_id or "", title or "", content)).lower()


def tokens_of(document: str) -> list[str]:
    """The document's distinct characters, pairs of adjacent non-space characters, and ASCII words."""
    return tokens_and_words(document)[0]


def tokens_and_words(document: str) -> tuple[list[str], list[str]]:
    """(``tokens_of(document)``, the document's vocabulary words, with repeats), in one pass for the
    importer, which needs both."""
    length = len(document)
    view = memoryview(document.encode("utf-32-le"))
    pairs = set(view[: 8 * (length // 2)].cast("Q"))
    pairs.update(view[4 : 4 + 8 * ((length - 1) // 2)].cast("Q"))
    words = WORD.findall(document)
    tokens = set(words)
    keys = [*pairs, *(-character - 1 for character in set(view.cast("I")))]
    for key in keys:
        token = _strings.get(key)
        if token is None:
            token = _token(key)
        if token:
            tokens.add(token)
    return sorted(tokens), words


def _token(key: int) -> str:
    if len(_strings) >= _CACHE_LIMIT:
        _strings.clear()
    text = chr(-key - 1) if key < 0 else key.to_bytes(8, "little").decode("utf-32-le")
    token = _strings[key] = "" if _WHITESPACE.search(text) else text
    return token


def words_of(documents: Iterable[str]) -> set[str]:
    """The vocabulary entries of these documents."""
    words: set[str] = set()
    for document in documents:
        words.update(WORD.findall(document))
    return words
