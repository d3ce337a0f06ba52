"""The parts of an .xlsx package that a sheet's cells refer to: sheet names, styles and shared strings.

An .xlsx file is a zip of XML parts (ECMA-376). The workbook part is found through ``_rels/.rels``; it names
the sheets, whose parts, like the styles and the shared-strings table, are found through the workbook's own
relationships. Everything here is small except the shared strings, which an export of the hospital system
fills with every distinct text cell (1.6 million strings, 85 MB of XML, for 470,000 rows); they are parsed
with expat in a few seconds, where openpyxl's reader takes over thirty.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH

# Element names come back as "namespace}local"; transitional and strict OOXML use different namespaces.
NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_ZERO_PADDED = re.compile(r"0{2,}")


class PackageError(Exception):
    """The file is not a readable .xlsx package; the message says which part failed and how."""


@dataclass(frozen=True)
class CellStyle:
    """What a cell's style means for its value: a date or a duration serial, or digits padded with zeros."""

    date: bool = False
    timedelta: bool = False
    zero_padded_width: int = 0


def refuse_entities(parser: expat.XMLParserType) -> None:
    """OOXML parts never declare a DTD; refusing one rules out entity-expansion bombs in a hostile file."""

    def refuse(*_args: object) -> None:
        raise PackageError("the file declares XML entities, which a spreadsheet never does")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attribute(element: ElementTree.Element, name: str) -> str | None:
    """An attribute by its local name, whatever its namespace prefix (``r:id``)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


class Package:
    """An opened .xlsx zip: its sheets by name, its date system, its cell styles and its shared strings."""

    def __init__(self, path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as error:
            raise PackageError(f"not a zip package ({error})") from None
        try:
            self._read_parts()
        except BaseException:
            self.zip.close()
            raise

    def _read_parts(self) -> None:
        documents = self._relationships("").get("officeDocument")
        if not documents:
            raise PackageError("the package names no workbook part")
        workbook_part = documents[0]
        workbook = self._xml(workbook_part)
        related = self._relationships(workbook_part)
        self.date1904 = any(
            _local(e.tag) == "workbookPr" and e.get("date1904", "").lower() in ("1", "true")
            for e in workbook.iter()
        )
        worksheets = set(related.get("worksheet", []))  # not chart sheets, which hold no cells
        targets = {rid: part for rid, part in self._targets(workbook_part) if part in worksheets}
        self.sheets = {
            sheet.get("name", ""): targets[_attribute(sheet, "id")]
            for sheet in workbook.iter()
            if _local(sheet.tag) == "sheet" and _attribute(sheet, "id") in targets
        }
        self.styles = self._styles(related.get("styles", [None])[0])
        shared = related.get("sharedStrings", [None])[0]
        self.shared_strings = self._shared_strings(shared) if shared else []

    @property
    def epoch(self):
        return MAC_EPOCH if self.date1904 else WINDOWS_EPOCH

    def open(self, part: str):
        try:
            return self.zip.open(part)
        except KeyError:
            raise PackageError(f"the part {part!r} is missing") from None

    def close(self) -> None:
        self.zip.close()

    def _xml(self, part: str) -> ElementTree.Element:
        """A small part as a tree; element and attribute names are "namespace}local"."""
        with self.open(part) as handle:
            data = handle.read()
        builder = ElementTree.TreeBuilder()
        parser = expat.ParserCreate(namespace_separator="}")
        refuse_entities(parser)
        parser.StartElementHandler = builder.start
        parser.EndElementHandler = builder.end
        parser.CharacterDataHandler = builder.data
        try:
            parser.Parse(data, True)
        except expat.ExpatError as error:
            raise PackageError(f"the part {part!r} is not well-formed XML ({error})") from None
        return builder.close()

    def _relationship_root(self, part: str) -> ElementTree.Element | None:
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", f"{name}.rels")
        return self._xml(rels) if rels in self.zip.namelist() else None

    def _targets(self, part: str) -> list[tuple[str, str]]:
        """(Id, resolved part name) of every relationship of ``part``."""
        root = self._relationship_root(part)
        folder = posixpath.dirname(part)
        found = []
        for rel in root.iter() if root is not None else ():
            target = rel.get("Target")
            if _local(rel.tag) == "Relationship" and target and rel.get("TargetMode") != "External":
                resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                found.append((rel.get("Id", ""), posixpath.normpath(resolved)))
        return found

    def _relationships(self, part: str) -> dict[str, list[str]]:
        """Resolved part names by relationship type (its last path segment: worksheet, styles, ...)."""
        root = self._relationship_root(part)
        if root is None:
            raise PackageError(f"the relationships of {part or 'the package'!r} are missing")
        targets = dict(self._targets(part))
        by_type: dict[str, list[str]] = {}
        for rel in root.iter():
            if rel.get("Id") in targets:
                kind = rel.get("Type", "").rstrip("/").rpartition("/")[2]
                by_type.setdefault(kind, []).append(targets[rel.get("Id")])
        return by_type

    def _styles(self, part: str | None) -> list[CellStyle]:
        """The style of each cell format index (a cell's ``s`` attribute)."""
        if part is None:
            return []
        root = self._xml(part)
        codes = dict(BUILTIN_FORMATS)
        for element in root.iter():
            if _local(element.tag) == "numFmt" and element.get("numFmtId", "").isdigit():
                codes[int(element.get("numFmtId"))] = element.get("formatCode", "")
        styles = []
        for group in root:
            if _local(group.tag) == "cellXfs":
                for xf in group:
                    number = xf.get("numFmtId", "0")
                    styles.append(_style_of(codes.get(int(number)) if number.isdigit() else None))
        return styles

    def _shared_strings(self, part: str) -> list[str]:
        """Each ``<si>``'s text: its ``<t>`` runs joined, phonetic guides (``<rPh>``) left out (as shown)."""
        strings: list[str] = []
        parts: list[str] = []
        depth = {"rPh": 0, "t": False}

        def start(name: str, _attrs: dict) -> None:
            local = name.rpartition("}")[2]
            if local == "t":
                depth["t"] = not depth["rPh"]
            elif local == "rPh":
                depth["rPh"] += 1
            elif local == "si":
                parts.clear()

        def end(name: str) -> None:
            local = name.rpartition("}")[2]
            if local == "si":
                strings.append("".join(parts))
            elif local == "t":
                depth["t"] = False
            elif local == "rPh":
                depth["rPh"] -= 1

        def data(text: str) -> None:
            if depth["t"]:
                parts.append(text)

        parser = expat.ParserCreate(namespace_separator="}")
        refuse_entities(parser)
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, data
        with self.open(part) as handle:
            try:
                parser.ParseFile(handle)
            except expat.ExpatError as error:
                raise PackageError(f"the shared strings are not well-formed XML ({error})") from None
        return strings


def _style_of(code: str | None) -> CellStyle:
    if code is None:
        return CellStyle()
    if is_timedelta_format(code):
        return CellStyle(date=True, timedelta=True)
    if is_date_format(code):
        return CellStyle(date=True)
    if _ZERO_PADDED.fullmatch(code):  # "00000000000": an ID whose leading zeros the sheet shows
        return CellStyle(zero_padded_width=len(code))
    return CellStyle()
