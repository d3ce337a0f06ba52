"""The text index's tokens against their plain definition (``server.reports.text_index``): the fast
implementation must give exactly these, on generated reports and on whitespace, combining marks and astral
characters."""

from __future__ import annotations

import re

from server.reports.demo_data import generate_reports
from server.reports.text_index import WORD, tokens_and_words, tokens_of
from server.studies.demo_data import generate_studies


def plain_tokens(document: str) -> list[str]:
    """Every character, every pair of adjacent non-space characters, every ASCII word of 3+ characters."""
    tokens: set[str] = set()
    for part in re.split(r"\s", document):
        tokens.update(part)
        tokens.update(part[i : i + 2] for i in range(len(part) - 1))
    tokens.update(WORD.findall(document))
    return sorted(tokens)


NASTY = [
    "", "a", "ab", "a b", " a\tb\n", "x\u3000y\u00a0z\u2028w", "e\u0301 \u0130stanbul \u01c5",
    "x\x1cy\x85z\x0bq", "👨\u200d👩\u200d👧 \U0001f600\U0001f600", "ab\r\ncd\tef  gh",
    "肺 氣胸 未見氣胸。 ct123 abc_def", "\ud7ff\ue000",
]  # fmt: skip


def test_the_tokens_are_exactly_the_plain_definition():
    studies = ((s[0], s[13], s[10], s[14]) for s in generate_studies(300, 5))
    documents = [report.versions[-1].content.lower() for report in generate_reports(studies, 5)]
    for document in documents + NASTY + [document * 3 + "\n" for document in NASTY]:
        tokens, words = tokens_and_words(document)
        assert tokens == plain_tokens(document) == tokens_of(document), repr(document)
        assert words == WORD.findall(document)
