"""Which source column holds which study field, from the header labels the hospital's files really carry.

A loader that expected header names the real file did not have could not read it (docs/legacy-data.md §4), so
labels are matched loosely: Traditional or Simplified Chinese or the English field name, in any case, with
stray or full-width spaces and underscores ignored. Missing required columns are an error raised before a
single row is read; unrecognised columns are named in a warning, never silently dropped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from server.studies.columns import STUDY_FIELDS

# Traditional label first (the hospital system's own), then Simplified variants.
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "exam_id": ("檢查流水號", "检查流水号"),
    "medical_record_no": ("病歷號", "病历号"),
    "application_order_no": ("申請單號", "申请单号"),
    "patient_name": ("姓名",),
    "patient_gender": ("性別", "性别"),
    "patient_birth_date": ("生日",),
    "patient_age": ("年齡", "年龄"),
    "exam_status": ("狀態", "状态"),
    "exam_source": ("來源", "来源"),
    "exam_room": ("檢查室", "检查室"),
    "exam_item": ("檢查項目", "检查项目"),
    "exam_description": ("檢查描述", "检查描述"),
    "order_datetime": ("開單日期/時間", "开单日期/时间"),
    "equipment_type": ("儀器", "仪器"),
    "exam_equipment": ("檢查儀器", "检查仪器"),
    "check_in_datetime": ("報到時間", "报到时间"),
    "report_certification_datetime": ("報告認證時間", "报告认证时间"),
    "certified_physician": ("認證醫師", "认证医师"),
}

# What a study cannot be stored without (the model's NOT NULL columns).
REQUIRED_FIELDS: tuple[str, ...] = (
    "exam_id",
    "patient_name",
    "order_datetime",
    "exam_status",
    "exam_source",
    "exam_item",
)


def label_key(label: object) -> str:
    """The comparable form of a header label: NFKC (full-width to half-width), no spaces or underscores,
    case-folded. ``' 開單日期／時間 '`` and ``'開單日期/時間'`` give the same key, as do ``Exam_ID`` and
    ``exam id``."""
    text = unicodedata.normalize("NFKC", "" if label is None else str(label))
    return "".join(ch for ch in text if not ch.isspace() and ch != "_").casefold()


LABEL_TO_FIELD: dict[str, str] = {
    label_key(label): name for name, labels in FIELD_LABELS.items() for label in (*labels, name)
}
assert set(FIELD_LABELS) == set(STUDY_FIELDS)


class HeaderError(ValueError):
    """The header cannot be used: required columns missing, or two columns claiming one field."""

    def __init__(self, message: str, missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)


@dataclass(frozen=True)
class HeaderMap:
    """Source column index of each study field present, and what the header held besides."""

    positions: dict[str, int]
    unknown: tuple[str, ...] = ()
    absent_optional: tuple[str, ...] = ()
    unlabelled_columns: int = 0
    warnings: tuple[str, ...] = field(default=())

    def position(self, name: str) -> int | None:
        return self.positions.get(name)


def map_headers(labels: Sequence[object], expected_extra: Iterable[str] = ()) -> HeaderMap:
    """Match header ``labels`` (in column order) to study fields.

    ``expected_extra`` names columns the format is known to carry besides the fields (DuckDB's
    ``data_load_time``), which are skipped without a warning.
    """
    extra = {label_key(name) for name in expected_extra}
    positions: dict[str, int] = {}
    clashes: list[str] = []
    unknown: list[str] = []
    unlabelled = 0
    for index, label in enumerate(labels):
        key = label_key(label)
        if not key:
            unlabelled += 1
            continue
        name = LABEL_TO_FIELD.get(key)
        if name is None:
            if key not in extra:
                unknown.append(str(label).strip())
        elif name in positions:
            clashes.append(f"columns {positions[name] + 1} and {index + 1} both hold {name}")
        else:
            positions[name] = index
    missing = [name for name in REQUIRED_FIELDS if name not in positions]
    problems = []
    if missing:
        wanted = ", ".join(f"{name} ({FIELD_LABELS[name][0]})" for name in missing)
        found = ", ".join(repr(str(label).strip()) for label in labels if label_key(label)) or "none"
        problems.append(f"required columns missing: {wanted}; the header has {found}")
    problems.extend(clashes)
    if problems:
        raise HeaderError("; ".join(problems), missing)
    absent = tuple(name for name in STUDY_FIELDS if name not in positions)
    warnings = []
    if unknown:
        warnings.append("columns not recognised and ignored: " + ", ".join(repr(u) for u in unknown))
    if unlabelled:
        warnings.append(f"{unlabelled} column(s) without a header label ignored")
    return HeaderMap(positions, tuple(unknown), absent, unlabelled, tuple(warnings))
