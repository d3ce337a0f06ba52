"""Synthetic studies shaped like the hospital's real data (docs/legacy-data.md §3), for demos, tests and
benchmarks. Real patient data is never needed and never committed.

Deterministic for a seed: the same ``(rows, seed)`` always gives the same rows, in the same order. Patients
are derived from their number by integer hashing rather than kept in a list, so memory stays flat at any size.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

SURNAMES = (
    "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁趙顏柯翁魏孫戴"
)
GIVEN_CHARS = (
    "志明俊傑家豪建宏冠宇承恩柏翰宗翰怡君淑芬美玲雅婷佳穎"
    "欣怡雅雯惠如秀英麗華淑惠宜蓁詩涵子晴品妍宥廷睿哲信宏文彬國強"
)
LATIN_NAMES = ("John Smith", "Maria Garcia", "Nguyen Van An", "Siti Aminah", "David Lee", "Anna Kowalski")
PHYSICIANS = tuple(
    s + g
    for s, g in zip(
        "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周", ["建志", "美惠", "國華", "文雄", "淑貞"] * 4, strict=True
    )
)


@dataclass(frozen=True)
class Modality:
    code: str
    weight: int
    rooms: tuple[str, ...]
    equipment: tuple[str, ...]
    exams: tuple[tuple[str, str], ...]  # (order code, description)


MODALITIES = (
    Modality(
        "CR",
        24,
        ("CR-1", "CR-2", "CR-3", "CR(ER)"),
        ("Fuji FCR XL-2", "Konica Regius 210"),
        (
            ("300101001", "Chest PA View"),
            ("300101002", "Chest AP View"),
            ("300103010", "KUB"),
            ("3001L5S01", "L-Spine AP+LAT"),
            ("3001K0N02", "Knee AP+LAT (Bil)"),
        ),
    ),
    Modality(
        "DX",
        12,
        ("DX-1", "DX-2", "DX(ER)"),
        ("GE Definium 656", "Siemens Ysio Max"),
        (("300102001", "Chest PA View"), ("300102015", "Skull AP+LAT"), ("3001H1P02", "Hip AP View")),
    ),
    Modality(
        "CT",
        18,
        ("CT(ER)", "CT750", "CT64", "CT-1", "CT-2"),
        ("GE Revolution CT", "Siemens SOMATOM Force"),
        (
            ("300727239", "Brain CT  Routine(-C)"),
            ("3007H7H32", "Aorta CTA (-C,+C)"),
            ("300727301", "Chest CT (+C)"),
            ("300727412", "Abdomen CT (-C,+C)"),
            ("3007L1S20", "L-Spine CT (-C)"),
        ),
    ),
    Modality(
        "MR",
        8,
        ("MR3T-1", "MR3T-2", "MR1.5T"),
        ("Siemens Skyra 3T", "GE Signa 1.5T"),
        (
            ("300830101", "Brain MRI (-C,+C)"),
            ("3008L5S11", "L-Spine MRI (-C)"),
            ("300830550", "Knee MRI (-C)"),
        ),
    ),
    Modality(
        "US",
        20,
        ("US-1", "US-2", "US-3", "US(ER)"),
        ("Philips EPIQ 7", "GE LOGIQ E10"),
        (("300901010", "Abdomen Sono"), ("300901022", "Thyroid Sono"), ("300901035", "Breast Sono (Bil)")),
    ),
    Modality("MG", 5, ("MG-1",), ("Hologic Selenia Dimensions",), (("301001001", "Mammography (Bil)"),)),
    Modality("NM", 3, ("NM-1", "NM-2"), ("Siemens Symbia T6",), (("301101005", "Whole Body Bone Scan"),)),
    Modality(
        "XA", 3, ("Angio-1", "Angio-2"), ("Philips Azurion 7",), (("301201010", "Cerebral Angiography"),)
    ),
    Modality("RF", 3, ("RF-1",), ("Shimadzu Sonialvision G4",), (("301301001", "UGI Series"),)),
    Modality("PT", 1, ("PET-1",), ("GE Discovery MI",), (("301401001", "FDG PET/CT Whole Body"),)),
)
# Every (modality, exam, room, equipment) combination with its share, so that one draw picks all four.
EXAM_SETUPS = tuple(
    (m.code, item, description, room, equipment)
    for m in MODALITIES
    for item, description in m.exams
    for room in m.rooms
    for equipment in m.equipment
)
EXAM_SETUP_CUM = list(
    accumulate(
        m.weight / (len(m.exams) * len(m.rooms) * len(m.equipment))
        for m in MODALITIES
        for _ in range(len(m.exams) * len(m.rooms) * len(m.equipment))
    )
)

SOURCES = ("門診", "住院", "急診", "健檢")
SOURCE_CUM = list(accumulate((55, 20, 18, 7)))

# Status, and which of (check-in, report certification) it implies.
STATUSES = (
    ("終審報告", True, True),
    ("初步報告", True, False),
    ("檢查完成", True, False),
    ("已報到", True, False),
    ("已排程", False, False),
    ("已開單", False, False),
)
STATUS_CUM = list(accumulate((88, 3, 3, 2, 2, 2)))

FIRST_ORDER = dt.datetime(2018, 1, 1, 7, 0, 0)
LAST_ORDER = dt.datetime(2025, 11, 30, 22, 0, 0)
EXAM_ID_BASE = 20_000_000_000

_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """A 64-bit integer hash (splitmix64's finaliser): cheap, deterministic, well spread."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


Patient = tuple[str, str, str | None, dt.date | None]  # record number, name, gender, birth date


@lru_cache(maxsize=250_000)
def patient(number: int, seed: int) -> Patient:
    """Patient ``number`` of the population of ``seed``, derived without any stored state."""
    h = _mix(number * 1_000_003 + seed)
    if h % 200 == 0:
        name = LATIN_NAMES[(h >> 8) % len(LATIN_NAMES)]
    else:
        given_length = 1 if (h >> 8) % 10 == 0 else 2 if (h >> 8) % 10 < 9 else 3
        chars = [GIVEN_CHARS[(h >> (16 + 6 * i)) % len(GIVEN_CHARS)] for i in range(given_length)]
        name = SURNAMES[(h >> 12) % len(SURNAMES)] + "".join(chars)
    gender_roll = (h >> 40) % 200
    gender = None if gender_roll == 0 else "U" if gender_roll == 1 else ("M" if gender_roll % 2 else "F")
    birth_date = None
    if (h >> 48) % 100:
        birth_date = dt.date(1925, 1, 1) + dt.timedelta(
            days=(h >> 20) % (FIRST_ORDER.date() - dt.date(1925, 1, 1)).days
        )
    return f"{(h >> 3) % 10_000_000:08d}", name, gender, birth_date


def _age(birth_date: dt.date | None, on: dt.datetime) -> int | None:
    if birth_date is None or birth_date > on.date():
        return None
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def generate_studies(rows: int, seed: int = 0) -> Iterator[tuple]:
    """Yield ``rows`` studies as tuples in ``STUDY_FIELDS`` order, in order time, with unique exam_ids."""
    rand = random.Random(seed).random
    patients = max(1, rows * 3 // 10)  # about three exams per patient, as in the real data
    span = (LAST_ORDER - FIRST_ORDER).total_seconds()
    step = span / max(rows, 1)
    for index in range(rows):
        order_at = FIRST_ORDER + dt.timedelta(seconds=int(index * step + rand() * step))
        source = SOURCES[bisect(SOURCE_CUM, rand() * SOURCE_CUM[-1])]
        if source != "急診" and not 7 <= order_at.hour < 22:
            order_at = order_at.replace(hour=7 + order_at.hour % 15)
        modality, item, description, room, equipment = EXAM_SETUPS[
            bisect(EXAM_SETUP_CUM, rand() * EXAM_SETUP_CUM[-1])
        ]
        status, checked_in, certified = STATUSES[bisect(STATUS_CUM, rand() * STATUS_CUM[-1])]
        # Repeat patients: a skewed draw makes some patients come back often.
        record_no, name, gender, birth_date = patient(int(rand() ** 2 * patients), seed)
        check_in_at = report_at = physician = None
        if checked_in:
            wait = rand() * (90 * 60 if source == "急診" else 3 * 86_400) + 300
            check_in_at = order_at + dt.timedelta(seconds=int(wait))
        if certified:
            report_at = check_in_at + dt.timedelta(
                seconds=int(rand() * (4 * 3600 if source == "急診" else 2 * 86_400) + 900)
            )
            physician = PHYSICIANS[int(rand() * len(PHYSICIANS))]
        exam_id = f"{EXAM_ID_BASE + index:011d}"
        order_no = exam_id if rand() < 0.85 else f"{EXAM_ID_BASE * 2 + index:011d}"
        yield (
            exam_id,
            record_no,
            order_no,
            name,
            gender,
            birth_date,
            _age(birth_date, order_at),
            status,
            source,
            item,
            description,
            room,
            equipment,
            modality,
            order_at,
            check_in_at,
            report_at,
            physician,
        )
