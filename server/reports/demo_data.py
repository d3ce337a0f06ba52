"""Synthetic radiology reports for the demo studies, for demos, tests and the analysers to come.

Deterministic for a seed: the same studies and seed always give the same reports. Each report is in English,
Traditional Chinese or both, with history, technique, findings and impression sections; findings are normal
or abnormal, some abnormal ones critical (pneumothorax, intracranial haemorrhage, ...), and normal ones say
so by negation ("No pneumothorax.", "未見氣胸。"), which the critical-findings analyser must tell apart.
Mammograms carry a BI-RADS category and chest CTs a Lung-RADS one. Most reports end final; some are still
draft or preliminary, some were amended (a second, signed version), a few were cancelled.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from server.reports import lifecycle
from server.studies.demo_data import PHYSICIANS

# Of every hundred studies, how many have a report.
REPORTED_PERCENT = 90

_NORMAL = {
    "CT": [
        ("No pneumothorax or pleural effusion.", "未見氣胸或肋膜積液。"),
        ("No intracranial haemorrhage.", "無明顯顱內出血。"),
    ],
    "MR": [
        ("No acute infarct.", "未見急性梗塞。"),
        ("No mass effect or midline shift.", "無占位效應或中線偏移。"),
    ],
    "XR": [("No pneumothorax.", "未見氣胸。"), ("No acute fracture.", "未見急性骨折。")],
    "US": [("No focal hepatic lesion.", "肝臟未見局部病灶。"), ("No hydronephrosis.", "未見水腎。")],
    "MG": [("No suspicious mass or calcification.", "未見可疑腫塊或鈣化。")],
}
_ABNORMAL = [
    ("A 6 mm nodule in the right upper lobe.", "右上肺葉六毫米結節。", False),
    ("Mild degenerative change of the lumbar spine.", "腰椎輕度退化性變化。", False),
    ("Fatty liver, moderate.", "中度脂肪肝。", False),
    ("Gallbladder stones without cholecystitis.", "膽結石，無膽囊炎。", False),
    ("Large right pneumothorax with mediastinal shift.", "右側大量氣胸合併縱膈腔偏移。", True),
    ("Acute subdural haemorrhage over the left convexity.", "左側急性硬腦膜下出血。", True),
    ("Free intraperitoneal air, suspicious for perforation.", "腹腔內游離氣體，疑似穿孔。", True),
    ("Possible pulmonary embolism in the right lower lobe artery.", "右下肺動脈疑似肺栓塞。", True),
]
_HISTORY = [("Cough for two weeks.", "咳嗽兩週。"), ("Fall, head injury.", "跌倒，頭部外傷。"),
            ("Abdominal pain.", "腹痛。"), ("Routine screening.", "例行篩檢。")]  # fmt: skip
_BIRADS = ("0", "1", "2", "3", "4A", "4B", "4C", "5")
_LUNG_RADS = ("1", "2", "3", "4A", "4B", "4X")


@dataclass(frozen=True)
class DemoVersion:
    status: str
    content: str
    verified_at: dt.datetime | None


@dataclass(frozen=True)
class DemoReport:
    report_id: str
    exam_id: str
    title: str
    report_type: str
    radiologist: str
    versions: tuple[DemoVersion, ...]


def generate_reports(
    studies: Iterable[tuple[str, str | None, str, dt.datetime]], seed: int = 0
) -> Iterator[DemoReport]:
    """A report for most of ``studies`` ((exam_id, equipment type, exam description, order time) each)."""
    rng = random.Random(f"reports-{seed}")
    for exam_id, modality, description, ordered in studies:
        if rng.randrange(100) >= REPORTED_PERCENT:
            continue
        modality = modality if modality in _NORMAL else "XR"
        language = rng.choices(("en", "zh", "both"), weights=(5, 3, 2))[0]
        text = _text(rng, modality, description, language)
        signed = ordered + dt.timedelta(hours=rng.randint(2, 72), minutes=rng.randint(0, 59))
        radiologist = PHYSICIANS[rng.randrange(len(PHYSICIANS))]
        versions = _versions(rng, text, signed, language)
        yield DemoReport(f"RPT{exam_id}", exam_id, description, modality, radiologist, versions)


def _text(rng: random.Random, modality: str, description: str, language: str) -> str:
    history = rng.choice(_HISTORY)
    findings: list[tuple[str, str]] = [(en, zh) for en, zh in rng.sample(_NORMAL[modality], 1)]
    abnormal = rng.random() < 0.45
    if abnormal:
        en, zh, _critical = rng.choice(_ABNORMAL)
        findings.append((en, zh))
    impression = (
        ("Abnormal study; see findings.", "異常，詳見所見。") if abnormal else ("Normal study.", "正常。")
    )
    category = ""
    if modality == "MG":
        category = f"BI-RADS {rng.choice(_BIRADS)}"
    elif modality == "CT" and "chest" in description.lower():
        category = f"Lung-RADS {rng.choice(_LUNG_RADS)}"
    english = "\n".join(
        [
            f"EXAM: {description}",
            f"Clinical history: {history[0]}",
            "Technique: Standard protocol.",
            "Findings:",
            *(en for en, _ in findings),
            f"IMPRESSION: {impression[0]}" + (f" {category}." if category else ""),
        ]
    )
    chinese = "\n".join(
        [
            f"臨床資料：{history[1]}",
            "檢查所見：",
            *(zh for _, zh in findings),
            f"診斷：{impression[1]}" + (f"{category}。" if category else ""),
        ]
    )
    return {"en": english, "zh": chinese, "both": english + "\n\n" + chinese}[language]


def _versions(rng: random.Random, text: str, signed: dt.datetime, language: str) -> tuple[DemoVersion, ...]:
    roll = rng.random()
    if roll < 0.05:
        return (DemoVersion(lifecycle.DRAFT, text, None),)
    if roll < 0.12:
        return (DemoVersion(lifecycle.PRELIMINARY, text, signed),)
    final = DemoVersion(lifecycle.FINAL, text, signed)
    if roll < 0.20:
        addendum = (
            "\nAddendum: discussed with the referring physician."
            if language != "zh"
            else "\n補充：已通知主治醫師。"
        )
        later = signed + dt.timedelta(hours=rng.randint(1, 48))
        return (final, DemoVersion(lifecycle.AMENDED, text + addendum, later))
    if roll < 0.22:
        return (final, DemoVersion(lifecycle.CANCELLED, text, signed))
    return (final,)
