"""The streaming .xlsx reader: the same cells openpyxl reads, from every way a workbook may be written, and a
clean refusal of a broken or hostile file."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from importers.readers.base import SourceError
from importers.readers.xlsx_source import XlsxSource
from importers.report import COMMITTED, ROLLED_BACK
from importers.service import import_studies
from server.studies.columns import STUDY_FIELDS
from server.studies.models import Study
from tests.import_fixtures import TRADITIONAL, legacy, studies, write_xlsx

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def read_all(path: Path, sheet: str | None = None) -> list[tuple]:
    with XlsxSource(path, sheet) as source:
        return [tuple(source.labels), *source._rows]


def read_by_openpyxl(path: Path, sheet: str | None = None) -> list[tuple]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = []
    for row in (workbook[sheet] if sheet else workbook.worksheets[0]).iter_rows(values_only=True):
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        rows.append(tuple(cells))
    workbook.close()
    while rows and rows[-1] == ():
        rows.pop()
    return rows


MIXED_ROWS = [
    ["00012", 12345678901, 1.5, dt.datetime(2025, 1, 2, 3, 4, 5), None, True, " 王小明 ", -7],
    [],
    [None, None, "only the third cell"],
    ["=1+1", dt.date(2020, 2, 29), dt.time(10, 30), 1e20, "line\nbreak", "", False],
]


@pytest.mark.parametrize("write_only", [False, True], ids=["shared-strings", "inline-strings"])
def test_reads_what_openpyxl_reads_from_a_workbook_it_wrote(tmp_path, write_only):
    path = tmp_path / "mixed.xlsx"
    workbook = openpyxl.Workbook(write_only=write_only)
    sheet = workbook.create_sheet("Data") if write_only else workbook.active
    for row in [["a", "b", "c", "d", "e", "f", "g", "h"], *MIXED_ROWS]:
        sheet.append(row)
    workbook.save(path)
    expected = read_by_openpyxl(path)
    assert read_all(path) == expected
    assert expected[1][:2] == ("00012", 12345678901)  # the comparison covers typed cells


def _package(path: Path, parts: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def handwritten_workbook(path: Path, sheet_xml: str, shared: str = "", extra: dict | None = None) -> Path:
    """A package as other writers make it: ``x:``-prefixed elements, absolute targets, 1904 dates."""
    return _package(
        path,
        {
            "_rels/.rels": f'<Relationships xmlns="{RELS}"><Relationship Id="r1" '
            f'Type="{DOC}/officeDocument" Target="/xl/book.xml"/></Relationships>',
            "xl/book.xml": f'<x:workbook xmlns:x="{MAIN}" xmlns:r="{DOC}"><x:workbookPr date1904="1"/>'
            '<x:sheets><x:sheet name="匯出" sheetId="1" r:id="s1"/></x:sheets></x:workbook>',
            "xl/_rels/book.xml.rels": f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="s1" Type="{DOC}/worksheet" Target="/xl/sheets/one.xml"/>'
            f'<Relationship Id="s2" Type="{DOC}/sharedStrings" Target="strings.xml"/>'
            f'<Relationship Id="s3" Type="{DOC}/styles" Target="styles.xml"/></Relationships>',
            "xl/strings.xml": f'<x:sst xmlns:x="{MAIN}">{shared}</x:sst>',
            "xl/styles.xml": f'<x:styleSheet xmlns:x="{MAIN}"><x:numFmts count="1">'
            '<x:numFmt numFmtId="164" formatCode="00000000000"/></x:numFmts><x:cellXfs count="3">'
            '<x:xf numFmtId="0"/><x:xf numFmtId="22"/><x:xf numFmtId="164"/></x:cellXfs></x:styleSheet>',
            "xl/sheets/one.xml": f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>{sheet_xml}'
            "</x:sheetData></x:worksheet>",
            **(extra or {}),
        },
    )


def test_a_handwritten_package_rich_text_phonetics_types_and_the_1904_epoch(tmp_path):
    shared = (
        "<x:si><x:t>姓名</x:t></x:si>"
        "<x:si><x:r><x:t>王</x:t></x:r><x:r><x:t xml:space='preserve'>小明 </x:t></x:r>"
        "<x:rPh sb='0' eb='1'><x:t>おう</x:t></x:rPh></x:si>"
    )
    sheet = (
        '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="C1" t="inlineStr"><x:is><x:t>備註</x:t>'
        "</x:is></x:c></x:row>"
        '<x:row r="4"><x:c r="A4" t="s"><x:v>1</x:v></x:c><x:c r="B4" s="1"><x:v>1.5</x:v></x:c>'
        '<x:c r="C4" s="2"><x:v>1234567890</x:v></x:c><x:c r="D4" t="b"><x:v>1</x:v></x:c>'
        '<x:c r="E4" t="e"><x:v>#N/A</x:v></x:c><x:c r="F4" t="str"><x:f>A4</x:f><x:v>王小明</x:v></x:c>'
        '<x:c r="G4" t="d"><x:v>2025-11-06T10:30:00</x:v></x:c><x:c r="H4"><x:v>2.5E3</x:v></x:c></x:row>'
    )
    path = handwritten_workbook(tmp_path / "other.xlsx", sheet, shared)
    with XlsxSource(path, None) as source:
        assert (source.variant, source.expected_rows) == ("sheet '匯出'", None)  # no <dimension>
        assert source.labels == ["姓名", None, "備註"]
        rows = list(source._rows)
    assert rows == [
        (),
        (),
        (
            "王小明 ",  # the phonetic guide is not part of the text
            dt.datetime(1904, 1, 2, 12),  # serial 1.5 in the 1904 system
            "01234567890",  # a zero-padded ID keeps the zeros the sheet shows
            True,
            "#N/A",
            "王小明",
            dt.datetime(2025, 11, 6, 10, 30),
            2500.0,
        ),
    ]


def test_a_zero_padded_chart_number_is_imported_as_shown(tmp_path, db):
    study = studies(1, seed=21)[0]
    row = legacy(study)
    path = tmp_path / "his.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(TRADITIONAL)
    sheet.append(row)
    cell = sheet.cell(row=2, column=STUDY_FIELDS.index("medical_record_no") + 1, value=1234567)
    cell.number_format = "0000000000"
    workbook.save(path)
    report = import_studies(path)
    assert report.outcome == COMMITTED, report.error
    assert Study.objects.get().medical_record_no == "0001234567"


def test_a_style_with_a_malformed_number_format_id_reads_as_plain(tmp_path):
    path = handwritten_workbook(
        tmp_path / "odd.xlsx",
        '<x:row r="1"><x:c r="A1" s="1"><x:v>42</x:v></x:c></x:row>',
        extra={
            "xl/styles.xml": f'<x:styleSheet xmlns:x="{MAIN}"><x:cellXfs count="2"><x:xf numFmtId="0"/>'
            '<x:xf numFmtId="x"/></x:cellXfs></x:styleSheet>'
        },
    )
    with XlsxSource(path, None) as source:
        assert source.labels == [42]


def test_a_dimension_gives_the_expected_row_count(tmp_path):
    path = write_xlsx(tmp_path / "his.xlsx", ["a"], [["x"], ["y"], ["z"]])
    with XlsxSource(path, None) as source:
        assert source.expected_rows == 3


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda path: path.write_bytes(b"not a zip"),
            "cannot open 'bad.xlsx' as an .xlsx workbook: not a zip",
        ),
        (
            lambda path: handwritten_workbook(
                path, "", extra={"xl/book.xml": '<!DOCTYPE x [<!ENTITY a "aaaa">]><x/>'}
            ),
            "declares XML entities",
        ),
        (
            lambda path: _package(path, {"_rels/.rels": f'<Relationships xmlns="{RELS}"/>', "x.xml": "<x/>"}),
            "cannot open 'bad.xlsx' as an .xlsx workbook",
        ),
    ],
    ids=["not-a-zip", "entity-declaration", "no-workbook"],
)
def test_a_broken_or_hostile_package_is_refused_cleanly(tmp_path, make, message):
    path = tmp_path / "bad.xlsx"
    make(path)
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(".", r"\.")):
        XlsxSource(path, None)


HEADER_STRINGS = "".join(f"<x:si><x:t>{label}</x:t></x:si>" for label in TRADITIONAL)
HEADER_ROW = (
    '<x:row r="1">'
    + "".join(f'<x:c t="s"><x:v>{index}</x:v></x:c>' for index in range(len(TRADITIONAL)))
    + "</x:row>"
)


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ('<x:row r="2"><x:c><x:v>1', "not well-formed XML"),
        (
            '<x:row r="2"><x:c t="s"><x:v>王小明</x:v></x:c></x:row>',
            "sheet row 2 has a cell that cannot be read",
        ),
    ],
    ids=["truncated", "bad-string-index"],
)
def test_a_sheet_broken_half_way_rolls_back_without_quoting_cells(tmp_path, db, rows, reason):
    path = handwritten_workbook(tmp_path / "cut.xlsx", HEADER_ROW + rows, HEADER_STRINGS)
    report = import_studies(path)
    assert report.outcome == ROLLED_BACK
    assert reason in report.error and "王小明" not in report.error
    assert Study.objects.count() == 0
