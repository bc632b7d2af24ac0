"""The court's case-management update file: the filed rows as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import polars as pl

from ..errors import InputError
from ..safety import local_path
from .filing import Selection, _check_selection
from .pleading import _count_no

# --------------------------------------------------------------------------- court update file

UPDATE_COLUMNS = ("packet", "exhibit", "row", "action", "new_level", "track", "court_case_number", "courthouse",
                  "county", "name", "aka", "dob", "cii_number", "conviction_date", "count", "code_section",
                  "code_section_original", "level", "basis_or_ground", "conviction_id")


def court_update_rows(selection: Selection, *, by_courthouse: bool = False) -> pl.DataFrame:
    """The exhibit rows as a table for the court's case-management update; ``packet`` and
    ``row`` match the printed exhibits (numbered per courthouse packet when by_courthouse)."""
    _check_selection(selection)
    packets = [(c, selection.for_courthouse(c)) for c in selection.courthouses] if by_courthouse \
        else [("ALL", selection)]
    out: dict[str, list] = {c: [] for c in UPDATE_COLUMNS}

    def add(packet, exhibit, row_no, r, action, new_level, basis):
        values = {"packet": packet, "exhibit": exhibit, "row": row_no, "action": action, "new_level": new_level,
                  "track": r["relief_track"], "court_case_number": r["court_case_number"],
                  "courthouse": r["courthouse"], "county": r["county"], "name": r["primary_name"] or r["name"],
                  "aka": r["aka"], "dob": r["dob"], "cii_number": r["cii_number"],
                  "conviction_date": r["conviction_date"], "count": _count_no(r["count_key"]),
                  "code_section": r["code_section"], "code_section_original": r["code_section_original"],
                  "level": r["level"], "basis_or_ground": basis, "conviction_id": r["conviction_id"]}
        for k, v in values.items():
            out[k].append(v)

    for packet, sel in packets:
        for i, r in enumerate(sel.granted.iter_rows(named=True), start=1):
            new_level = {"reduce_to_misdemeanor": "M", "reduce_to_infraction": "I"}.get(r["filing_relief"], "")
            action = r["group"] if r["group"] != "resentence" else \
                f"resentence_{'infraction' if new_level == 'I' else 'misdemeanor'}"
            add(packet, "A", i, r, action, new_level, r["basis"])
        for i, r in enumerate(sel.challenged.iter_rows(named=True), start=1):
            add(packet, "B", i, r, "challenged", "", f"{r['ground']}: {r['ground_reason']}")
    schema = {c: (pl.Int64 if c == "row" else pl.String) for c in UPDATE_COLUMNS}
    return pl.DataFrame(out, schema=schema)


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_bytes(frame: pl.DataFrame) -> bytes:
    """Write-only openpyxl workbook built entirely in memory.

    openpyxl streams sheet XML into a named temporary file; records must never touch a
    temporary file, so the sheet writer is given a BytesIO instead and the archive step
    takes the bytes from it. Every text cell is forced to a string cell, so a value such as
    ``=HYPERLINK(...)`` stays text and never becomes a formula.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.writer.excel import ExcelWriter

    class _MemorySheetWriter(WorksheetWriter):
        def __init__(self, ws):
            super().__init__(ws, out=io.BytesIO())

        def cleanup(self):
            pass

    class _MemoryExcelWriter(ExcelWriter):
        def write_worksheet(self, ws):
            from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            if not ws.closed:
                ws.close()
            writer = ws._writer
            ws._rels = writer._rels
            self._archive.writestr(ws.path[1:], writer.out.getvalue())
            self.manifest.append(ws)

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("court update")
    ws._writer = _MemorySheetWriter(ws)
    ws._writer.write_top()

    def cell(value):
        if isinstance(value, int):
            return value
        c = WriteOnlyCell(ws, value=None)
        c._value = _ILLEGAL_XML.sub("", "" if value is None else str(value))
        c.data_type = "s"  # never "f", whatever the text starts with
        return c

    ws.append([cell(c) for c in frame.columns])
    for row in frame.iter_rows():
        ws.append([cell(v) for v in row])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        _MemoryExcelWriter(wb, archive).write_data()
    return buf.getvalue()


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    # The CSV is for the court's case-management import, so values are kept exactly as they
    # are (no spreadsheet-formula escaping); the XLSX is the file meant to be opened by people.
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.iter_rows())
    return buf.getvalue().encode("utf-8")


def write_court_update(selection: Selection, csv_path: Path | None, xlsx_path: Path | None, *,
                       by_courthouse: bool = False) -> list[Path]:
    frame = court_update_rows(selection, by_courthouse=by_courthouse)
    written = []
    if csv_path is not None:
        written.append(_write(Path(csv_path), _csv_bytes(frame)))
    if xlsx_path is not None:
        written.append(_write(Path(xlsx_path), _xlsx_bytes(frame)))
    return written


def _write(path: Path, data: bytes) -> Path:
    path = local_path(path, must_exist=False)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    return path
