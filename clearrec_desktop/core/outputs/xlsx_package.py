"""A small .xlsx writer: the SpreadsheetML package (ECMA-376 part 1) built in memory with the
standard library's zipfile, for sheets whose rows the caller renders as XML.

Why not a library: measured on 100,000 results (docs/performance.md), XlsxWriter's in-memory
mode took 11.5 s and 814 MB and openpyxl's write-only mode 19 s, against 1.8 s for rows rendered
by polars expressions; for a million results that is minutes and gigabytes. Both libraries keep
large sheets small only by spooling rows to temporary files, which would put records on disk in
plaintext (never allowed here). So the rows are rendered by polars (workbook.py) and this module
writes the few fixed parts around them: content types, relationships, the workbook, one styles
part and each sheet's frame (dimension, frozen header, column widths, autofilter). The court
update file, which is small, uses XlsxWriter.

Cells are only ever inline strings, numbers or booleans: never a formula element, so a value
such as ``=HYPERLINK(...)`` can only be text.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Iterable, Iterator
from xml.sax.saxutils import escape

from ..errors import InputError

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

EXCEL_EPOCH = date(1899, 12, 30)
# Excel's serial numbers are wrong before 1 March 1900 (its 1900 leap-year bug): such dates are
# written as ISO text instead.
FIRST_SAFE_DATE = date(1900, 3, 1)
CELL_CHARS = 32_767                    # the most characters Excel keeps in a cell
ILLEGAL_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Style:
    """Indices into the fixed cellXfs of ``STYLES_XML``."""

    DEFAULT, HEADER, DATE, DATETIME, BOLD, TITLE, SECTION, NOTE = range(8)


DATE_FORMAT = "mm/dd/yyyy"
DATETIME_FORMAT = "mm/dd/yyyy hh:mm"

STYLES_XML = f"""{_XML_HEAD}<styleSheet xmlns="{_MAIN}">
<numFmts count="2"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/><numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/></numFmts>
<fonts count="5">
<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="14"/><color rgb="FF1F3A5F"/><name val="Calibri"/><family val="2"/></font>
<font><b/><sz val="12"/><color rgb="FF1F3A5F"/><name val="Calibri"/><family val="2"/></font>
<font><i/><sz val="11"/><color rgb="FF555555"/><name val="Calibri"/><family val="2"/></font>
</fonts>
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="FFDCE4EE"/><bgColor indexed="64"/></patternFill></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="8">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="0" fontId="4" fillId="0" borderId="0" xfId="0" applyFont="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def clean_text(value: str) -> str:
    """Text as a cell can hold it: no characters XML 1.0 forbids, at most 32,767 characters."""
    return ILLEGAL_XML_CHARS.sub("", value)[:CELL_CHARS]


def text_cell(ref: str, value: str, style: int | None = None) -> str:
    text = clean_text(value)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def cell(ref: str, value, style: int | None = None) -> str:
    """One cell from a Python value: text, a number, a boolean or a date (as an Excel serial)."""
    if value is None:
        return ""
    s = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>' if value == value and abs(value) != float("inf") else ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        if value < FIRST_SAFE_DATE:
            return text_cell(ref, value.isoformat(), style)
        return f'<c r="{ref}" s="{style or Style.DATE}"><v>{(value - EXCEL_EPOCH).days}</v></c>'
    return text_cell(ref, str(value), style)


def row_xml(row_number: int, values: Iterable, styles: Iterable[int | None] | int | None = None) -> str:
    """A <row> of Python values from column A on; ``styles`` one per value or one for all."""
    values = list(values)
    per = list(styles) if isinstance(styles, (list, tuple)) else [styles] * len(values)
    cells = "".join(cell(f"{column_letter(i)}{row_number}", v, st) for i, (v, st) in enumerate(zip(values, per), 1))
    return f'<row r="{row_number}">{cells}</row>'


@dataclass
class Sheet:
    name: str
    rows: Callable[[], Iterator[bytes]]      # the <row> elements, produced when the sheet is written
    last_row: int                            # for the dimension and the autofilter
    n_columns: int
    widths: list[float] = field(default_factory=list)
    freeze_header: bool = False
    autofilter: bool = False


def _sheet_frame(sheet: Sheet, selected: bool) -> tuple[bytes, bytes]:
    last = f"{column_letter(max(sheet.n_columns, 1))}{max(sheet.last_row, 1)}"
    view = '<sheetView workbookViewId="0"' + (' tabSelected="1"' if selected else "") + ">"
    if sheet.freeze_header:
        view += ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                 '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>')
    view += "</sheetView>"
    cols = "".join(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(sheet.widths, 1))
    head = (f'{_XML_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="A1:{last}"/>'
            f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")
    tail = "</sheetData>" + (f'<autoFilter ref="A1:{last}"/>' if sheet.autofilter else "") + "</worksheet>"
    return head.encode(), tail.encode()


def _quoted_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def write_package(sheets: list[Sheet], *, creator: str = "ClearRec") -> bytes:
    """The whole .xlsx file as bytes (nothing touches the disk)."""
    import io

    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    names = [s.name for s in sheets]
    if len({n.lower() for n in names}) != len(names) or any(len(n) > 31 or re.search(r"[\[\]:*?/\\]", n) for n in names):
        raise ValueError("sheet names must be unique, at most 31 characters, without [ ] : * ? / \\")
    n = len(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
    content_types = (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}"
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>')
    root_rels = (
        f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
        'Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>')
    core = (
        f'{_XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>' + escape(creator) + "</dc:creator></cp:coreProperties>")
    app = (f'{_XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           "<Application>" + escape(creator) + "</Application></Properties>")
    sheet_entries = "".join(f'<sheet name="{escape(s.name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                            for i, s in enumerate(sheets, 1))
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{escape(_quoted_sheet(s.name))}!$A$1:${column_letter(max(s.n_columns, 1))}${max(s.last_row, 1)}</definedName>"
        for i, s in enumerate(sheets) if s.autofilter)
    workbook = (f'{_XML_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
                f"<sheets>{sheet_entries}</sheets>" + (f"<definedNames>{filters}</definedNames>" if filters else "")
                + "</workbook>")
    wb_rels = (f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL}">'
               + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                         for i in range(1, n + 1))
               + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>')

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1) as z:
        for name, text in (("[Content_Types].xml", content_types), ("_rels/.rels", root_rels),
                           ("docProps/core.xml", core), ("docProps/app.xml", app), ("xl/workbook.xml", workbook),
                           ("xl/_rels/workbook.xml.rels", wb_rels), ("xl/styles.xml", STYLES_XML)):
            z.writestr(name, text)
        for i, sheet in enumerate(sheets, 1):
            head, tail = _sheet_frame(sheet, selected=i == 1)
            try:
                # no zip64 for the entry itself: Excel reads such entries badly, and an outcome sheet
                # (at most 1,048,576 rows) stays well under 4 GiB of XML
                with z.open(f"xl/worksheets/sheet{i}.xml", "w") as dest:
                    dest.write(head)
                    for chunk in sheet.rows():
                        dest.write(chunk)
                    dest.write(tail)
            except RuntimeError as exc:
                if "too large" in str(exc):
                    raise InputError(f"sheet {sheet.name!r} is too large for one Excel file; export fewer rows") from None
                raise
    return buf.getvalue()
