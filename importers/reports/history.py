"""From legacy rows to report histories: each row checked, each uid's rows made into versions through the
status lifecycle (docs/importing.md, "Reports").

Rows come grouped by uid and ordered by version number (``source.LegacyReports.rows``), so one report's rows
are held at a time. A uid is imported whole or not at all: if any of its rows is invalid, or the lifecycle
refuses its history, every row of it is listed as a problem and skipped, since importing the rest would
store a history with a version missing, numbered wrongly, which a later import could not put right (versions
are immutable). Problems name the row, the uid, the field and why, never a value of the text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from importers.reports.source import BLANKS
from server.reports import lifecycle
from server.reports.models import MAX_CONTENT_LENGTH
from server.reports.services import content_hash

# The source system's status words, matched after stripping and lower-casing (docs/importing.md).
STATUS_WORDS = {
    lifecycle.FINAL: ("final", "finalized", "finalised", "verified", "signed", "approved", "已確認", "確認",
                      "已簽核", "終審報告", "正式報告"),
    lifecycle.PRELIMINARY: ("preliminary", "prelim", "初步報告", "初步", "初審報告"),
    lifecycle.DRAFT: ("draft", "草稿", "未確認"),
    lifecycle.AMENDED: ("amended", "corrected", "修正", "已修正", "修改"),
    lifecycle.CANCELLED: ("cancelled", "canceled", "取消", "已取消"),
}  # fmt: skip
STATUS_OF = {word: status for status, words in STATUS_WORDS.items() for word in words}
ID_LIMIT = 200  # uid and exam_id: btree-indexed, as the studies' identifiers (server/studies/models.py)
TEXT_LIMIT = 500  # title and report type
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")
# YYYY-MM-DD HH:MM:SS (or a T between), checked before ``fromisoformat`` (C, 20 times strptime's speed),
# which alone would also take dates without a time, fractions and zone offsets.
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}")


class Problem(NamedTuple):
    row: int
    uid: str
    field: str
    reason: str


@dataclass(slots=True)
class Version:
    row: int
    status: str  # as the lifecycle stores it
    change: str
    source_status: str  # the source's word, mapped: what the lifecycle was asked for
    radiologist: str | None
    verified_at: dt.datetime | None
    content: str
    content_hash: str


@dataclass(slots=True)
class History:
    """One uid's valid rows: the report's fields (from its latest row) and its distinct versions in order."""

    report_id: str
    exam_id: str | None
    title: str | None
    report_type: str | None
    created_at: dt.datetime | None  # the first row's; None: the import's own time
    versions: list[Version] = field(default_factory=list)
    duplicates: int = 0  # rows that repeat a version already kept (same content and status)


class _Row(NamedTuple):
    row: int
    uid: str
    exam_id: str | None
    title: str | None
    report_type: str | None
    content: str
    version: int
    verified_at: dt.datetime | None
    created_at: dt.datetime | None
    status: str
    radiologist: str | None


class UnsortedSource(Exception):
    """The rows did not come grouped by uid (a bug, not a bad file): nothing is written."""


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _datetime(value: str | None) -> dt.datetime | None:
    value = _text(value)
    if value is None:
        return None
    if _DATETIME.fullmatch(value):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("not a YYYY-MM-DD HH:MM:SS date and time")


def _status(metadata: dict, verified_at: dt.datetime | None) -> str:
    word = metadata.get("status")
    if word is None or (isinstance(word, str) and not word.strip()):
        return lifecycle.FINAL if verified_at is not None else lifecycle.DRAFT
    if not isinstance(word, str) or word.strip().lower() not in STATUS_OF:
        shown = word if isinstance(word, str) and len(word) <= 30 else type(word).__name__
        raise ValueError(f"unknown status {shown!r}: one of {', '.join(sorted(STATUS_OF))}")
    return STATUS_OF[word.strip().lower()]


class Histories:
    """Turns the sorted source rows into ``History`` objects, counting and listing as it goes."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.rows_read = 0
        self.skipped = 0
        self.duplicates = 0

    def __call__(self, batches: Iterable[list[tuple]], on_progress=None) -> Iterator[History]:
        group: list[tuple] = []
        previous_key: str | None = None
        for batch in batches:
            for raw in batch:
                self.rows_read += 1
                uid = raw[1].strip(BLANKS) if raw[1] is not None else ""
                if not uid:
                    self._problems([(raw[0], "", "uid", "empty")], 1)
                    continue
                if uid != previous_key:
                    if group:
                        history = self._history(group)
                        if history is not None:
                            yield history
                    if previous_key is not None and uid < previous_key:
                        raise UnsortedSource("the source rows did not come ordered by uid")
                    group, previous_key = [], uid
                group.append(raw)
            if on_progress is not None:
                on_progress(self.rows_read)
        if group:
            history = self._history(group)
            if history is not None:
                yield history

    def _problems(self, problems: list[tuple], rows: int) -> None:
        self.problems.extend(Problem(*problem) for problem in problems)
        self.skipped += rows

    def _history(self, group: list[tuple]) -> History | None:
        uid = group[0][1].strip(BLANKS)
        rows, problems = [], []
        for raw in group:
            checked = _check(uid, raw)
            if isinstance(checked, _Row):
                rows.append(checked)
            else:
                problems.extend(checked)
        if not problems:
            history, problems = _versions(uid, rows)
            if history is not None:
                self.duplicates += history.duplicates
                return history
        failed = {problem[0] for problem in problems}
        first = min(failed)
        problems.extend(
            (raw[0], uid, "uid", f"skipped with the rest of this report's history (row {first} is refused)")
            for raw in group
            if raw[0] not in failed
        )
        self._problems(sorted(problems), len(group))
        return None


def _check(uid: str, raw: tuple) -> _Row | list[tuple]:
    """One row's values, or its problems (row, uid, field, reason)."""
    row, _uid, exam_id, title, report_type, content, version, verified_at, created_at, metadata = raw
    problems = []

    def problem(name: str, reason: str) -> None:
        problems.append((row, uid, name, reason))

    limits = (("uid", uid, ID_LIMIT), ("report_id", exam_id, ID_LIMIT), ("title", title, TEXT_LIMIT),
              ("report_type", report_type, TEXT_LIMIT))  # fmt: skip
    for name, value, limit in limits:
        if value is not None and len(value.strip()) > limit:
            problem(name, f"longer than {limit} characters")
        if value is not None and "\x00" in value:
            problem(name, "contains a NUL character")
    if content is None or not content.strip():
        problem("content_raw", "empty")
    elif len(content) > MAX_CONTENT_LENGTH:
        problem("content_raw", f"longer than {MAX_CONTENT_LENGTH:,} characters ({len(content):,})")
    elif "\x00" in content:
        problem("content_raw", "contains a NUL character")
    number = (version or "").strip(BLANKS)
    if not _WHOLE_NUMBER.fullmatch(number):
        problem("version_number", "empty" if not number else "not a whole number")
    times = {}
    for name, value in (("verified_at", verified_at), ("created_at", created_at)):
        try:
            times[name] = _datetime(value)
        except ValueError as error:
            problem(name, str(error))
    meta: object = {}
    if metadata is not None and metadata.strip():
        try:
            meta = json.loads(metadata)
        except ValueError:
            problem("metadata", "not valid JSON")
        if not isinstance(meta, dict):
            problem("metadata", "not a JSON object")
            meta = {}
    status = ""
    try:
        status = _status(meta, times.get("verified_at"))
    except ValueError as error:
        problem("metadata.status", str(error))
    if problems:
        return problems
    radiologist = meta.get("radiologist")
    return _Row(
        row, uid, _text(exam_id), _text(title), _text(report_type), content, int(number),
        times["verified_at"], times["created_at"], status,
        radiologist.strip() or None if isinstance(radiologist, str) else None,
    )  # fmt: skip


def _versions(uid: str, rows: list[_Row]) -> tuple[History | None, list[tuple]]:
    """The uid's distinct versions through the lifecycle, or the problem of the row it refuses."""
    latest = rows[-1]
    history = History(uid, latest.exam_id, latest.title, latest.report_type, rows[0].created_at)
    seen: set[tuple[str, str]] = set()
    previous: Version | None = None
    for row in rows:
        digest = content_hash(row.content)
        if (digest, row.status) in seen:
            history.duplicates += 1
            continue
        try:
            if previous is None:
                transition = lifecycle.first_version(row.status)
            else:
                changed = digest != previous.content_hash
                transition = lifecycle.next_version(previous.status, row.status, changed)
        except (lifecycle.LifecycleViolation, lifecycle.UnknownStatus) as error:
            return None, [(row.row, uid, "metadata.status", f"the lifecycle refuses it: {error}")]
        if transition is None:  # same content, same status as the version before: no new version
            history.duplicates += 1
            continue
        seen.add((digest, row.status))
        previous = Version(
            row.row, transition.status, transition.change, row.status, row.radiologist, row.verified_at,
            row.content, digest,
        )  # fmt: skip
        history.versions.append(previous)
    return history, []
