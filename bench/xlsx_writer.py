"""A minimal streaming .xlsx writer with a shared-strings table, for benchmark files of 470,000 rows.

openpyxl's write-only mode stores every string inline, which real exports from Excel and the hospital system
do not, and which openpyxl's reader parses some twenty times slower: a benchmark on such a file would measure
the writer's choice, not the importer. This writes what Excel writes (shared strings, date cells with a date
format), streaming the sheet so that memory holds only the distinct strings.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'styles" Target="styles.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
    # Style 1 is the built-in date-time format 22 ("m/d/yy h:mm"), which readers recognise as a date.
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        "</styleSheet>"
    ),
}


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write one sheet: str cells as shared strings, int/float as numbers, datetimes as date cells."""
    strings: dict[str, int] = {}
    columns = [_column(i) for i in range(len(header))]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in _STATIC.items():
            archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            for number, row in enumerate((header, *()), start=1):
                sheet.write(_row(number, row, columns, strings))
            for number, row in enumerate(rows, start=2):
                sheet.write(_row(number, row, columns, strings))
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as shared:
            shared.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
                % (len(strings), len(strings))
            )
            for text in strings:
                shared.write(f'<si><t xml:space="preserve">{escape(text)}</t></si>'.encode())
            shared.write(b"</sst>")


def _row(number: int, row: Sequence[object], columns: list[str], strings: dict[str, int]) -> bytes:
    cells = []
    for column, value in zip(columns, row, strict=False):
        ref = f"{column}{number}"
        if value is None:
            continue
        if isinstance(value, str):
            index = strings.setdefault(value, len(strings))
            cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
        elif isinstance(value, dt.datetime):
            serial = (value - EXCEL_EPOCH) / dt.timedelta(days=1)
            cells.append(f'<c r="{ref}" s="1"><v>{serial!r}</v></c>')
        elif isinstance(value, bool):
            cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
        else:
            cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'.encode()
