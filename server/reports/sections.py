"""Sections of a report's text (findings, impression, history, technique, comparison), split on write.

Reports come as one text, English and Chinese mixed, with sections headed by lines such as ``Findings:``,
``IMPRESSION:``, ``Imp:``, ``檢查所見：`` or ``診斷：``. A heading starts a line, ignores case, and ends with
an ASCII or full-width colon (or nothing, alone on its line); its section runs to the next heading, and text
on the heading's own line belongs to it. Text before the first heading belongs to no section. A section that
occurs twice keeps both parts, in order.
"""

from __future__ import annotations

import re

SECTIONS = ("history", "technique", "comparison", "findings", "impression")

_HEADINGS = {
    "findings": ["findings", "finding", "imaging findings", "檢查所見", "影像發現", "發現", "所見"],
    "impression": [
        "impression",
        "impressions",
        "impression/conclusion",
        "imp",
        "conclusion",
        "conclusions",
        "diagnosis",
        "診斷",
        "印象",
        "結論",
    ],
    "history": [
        "history",
        "clinical history",
        "clinical information",
        "indication",
        "indications",
        "病史",
        "臨床資料",
    ],
    "technique": ["technique", "procedure", "檢查方法", "技術"],
    "comparison": ["comparison", "comparisons", "比較"],
}
_NAME_OF = {heading: name for name, headings in _HEADINGS.items() for heading in headings}
# Longest first: "imaging findings" wins over "findings", "impression/conclusion" over "impression".
_ALTERNATIVES = "|".join(re.escape(heading) for heading in sorted(_NAME_OF, key=len, reverse=True))
_HEADING = re.compile(
    rf"^[ \t\u3000]*(?P<heading>{_ALTERNATIVES})[ \t\u3000]*(?:[:：][ \t\u3000]*|$)",
    re.IGNORECASE | re.MULTILINE,
)


def split_sections(text: str) -> dict[str, str | None]:
    """Each of SECTIONS' text, stripped, or None when the text has no such section (or it is empty)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts: dict[str, list[str]] = {name: [] for name in SECTIONS}
    matches = list(_HEADING.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip()
        if body:
            parts[_NAME_OF[match.group("heading").lower()]].append(body)
    return {name: "\n\n".join(found) if found else None for name, found in parts.items()}
