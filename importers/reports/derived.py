"""What a stored version and a search row are computed from a report's text: hash and index tokens.

``tokens_and_words`` gives exactly ``server.reports.text_index.tokens_of`` (and the words ``words_of`` takes)
in about half the time, which matters: tokens are most of an import's Python time at a million reports. The
document is encoded once as UTF-32, so that every pair of adjacent characters is one 64-bit integer (two
``memoryview`` casts, one per parity) and every character one 32-bit integer: sets of integers are built at C
speed, and only the few hundred distinct ones are turned back into strings, through a cache shared by all
documents that also remembers which ones hold whitespace (and so are no token). The tests compare the two on
generated reports and on whitespace, combining marks and astral characters.
"""

from __future__ import annotations

import hashlib
import re

from server.reports.text_index import WORD

_WHITESPACE = re.compile(r"\s")  # what text_index splits on
_CACHE_LIMIT = 2_000_000
_strings: dict[int, str] = {}  # pair (>= 0) or -(character + 1) -> the token, or "" when it holds whitespace


def content_hash(content: str) -> str:
    """SHA-256 of the text as stored (the legacy ``content_hash`` column is not trusted)."""
    return hashlib.sha256(content.encode()).hexdigest()


def _token(key: int) -> str:
    if len(_strings) >= _CACHE_LIMIT:
        _strings.clear()
    text = chr(-key - 1) if key < 0 else key.to_bytes(8, "little").decode("utf-32-le")
    token = _strings[key] = "" if _WHITESPACE.search(text) else text
    return token


def tokens_and_words(document: str) -> tuple[list[str], list[str]]:
    """(``tokens_of(document)``, the document's vocabulary words, with repeats)."""
    length = len(document)
    view = memoryview(document.encode("utf-32-le"))
    pairs = set(view[: 8 * (length // 2)].cast("Q"))
    pairs.update(view[4 : 4 + 8 * ((length - 1) // 2)].cast("Q"))
    words = WORD.findall(document)
    tokens = set(words)
    strings = _strings
    for key in pairs:
        token = strings.get(key)
        if token is None:
            token = _token(key)
        if token:
            tokens.add(token)
    for character in set(view.cast("I")):
        key = -character - 1
        token = strings.get(key)
        if token is None:
            token = _token(key)
        if token:
            tokens.add(token)
    return sorted(tokens), words
