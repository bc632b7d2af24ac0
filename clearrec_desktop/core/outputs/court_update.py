"""The court's case-management update file: the filed rows as CSV and XLSX.

It carries dates of birth and CII numbers: it is the confidential companion of the filing,
for the clerk. The .xlsx is what a clerk opens (XlsxWriter, built in memory: records never
reach a temporary file): dates and numbers typed, columns sized, a filter, a frozen header, an
empty order-date column for the clerk, and a legend sheet for the action codes. The CSV is
UTF-8 with a byte-order mark (so Excel reads names such as NGUYỄN correctly). In both, text that
a spreadsheet would run as a formula stays text: the CSV prefixes it with an apostrophe, the
.xlsx stores it as a string cell.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import polars as pl

from ..errors import InputError
from ..safety import local_path
from .filing import Selection, _check_selection
from .pleading import _count_no

UPDATE_COLUMNS = ("packet", "document", "exhibit", "row", "action", "relief_basis", "new_level", "track",
                  "court_case_number", "courthouse", "county", "name", "aka", "dob", "cii_number", "conviction_date",
                  "count", "code_section", "code_section_original", "level", "basis_or_ground", "corrected",
                  "order_date", "conviction_id")
DATE_COLUMNS = ("dob", "conviction_date", "order_date")
INT_COLUMNS = ("row", "count")
ACTIONS = {
    "dismiss_statute": "Dismiss and seal: the conduct is now lawful (HS 11361.8(b) or (f) as the basis column says)",
    "dismiss_policy": "Dismiss in furtherance of justice on the People's motion (PC 1385) and seal: office criteria",
    "redesignate_misdemeanor": "Redesignate as a misdemeanor for all purposes (HS 11361.8(f), (h))",
    "redesignate_infraction": "Redesignate as an infraction for all purposes (HS 11361.8(f), (h))",
    "resentence_misdemeanor": "Recall the sentence and resentence as a misdemeanor (HS 11361.8(b), (h))",
    "resentence_infraction": "Recall the sentence and resentence as an infraction (HS 11361.8(b), (h))",
    "redesignate_policy": "Redesignate (new_level column) at the People's request under the office's criteria",
    "challenged": "Challenged by the People (Exhibit B): no change until the Court decides the challenge",
}
COLUMN_NOTES = {
    "packet": "Courthouse of the packet the row is printed in (ALL: one packet for every courthouse)",
    "document": "File name of the motion packet that prints the row",
    "exhibit": "A: relief requested; B: challenged",
    "row": "Row number in that exhibit of that packet",
    "action": "What the Court is asked to do (see the action codes below)",
    "relief_basis": "statute_dismissal, statute_redesignation, policy_dismissal or policy_redesignation",
    "new_level": "M or I after a redesignation or resentencing",
    "order_date": "Left empty for the clerk: the date the Court signs the order",
    "corrected": "Facts printed as an attorney corrected them from the court file (the office keeps both)",
}
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_CELL_CHARS = 32_767
_FIRST_SAFE_DATE = date(1900, 3, 1)  # Excel's serials are wrong before this (the 1900 leap-year bug)


def court_update_rows(selection: Selection, *, by_courthouse: bool = False,
                      packet_files: dict[str | None, str] | None = None) -> pl.DataFrame:
    """The exhibit rows as a table for the court's case-management update; ``packet`` and
    ``row`` match the printed exhibits (numbered per courthouse packet when by_courthouse),
    ``document`` names the packet file that prints the row."""
    _check_selection(selection)
    packet_files = packet_files or {}
    packets = [(c, selection.for_courthouse(c)) for c in selection.courthouses] if by_courthouse \
        else [(None, selection)]
    out: dict[str, list] = {c: [] for c in UPDATE_COLUMNS}

    def add(packet, exhibit, row_no, r, action, basis_code, new_level, basis):
        values = {"packet": packet or "ALL", "document": packet_files.get(packet, ""), "exhibit": exhibit,
                  "row": row_no, "action": action, "relief_basis": basis_code, "new_level": new_level,
                  "track": r["relief_track"], "court_case_number": r["court_case_number"],
                  "courthouse": r["courthouse"], "county": r["county"], "name": r["primary_name"] or r["name"],
                  "aka": r["aka"], "dob": r["dob"], "cii_number": r["cii_number"],
                  "conviction_date": r["conviction_date"], "count": _count_no(r["count_key"]),
                  "code_section": r["code_section"], "code_section_original": r["code_section_original"],
                  "level": r["level"], "basis_or_ground": basis, "corrected": r.get("corrected", "") or "",
                  "order_date": "", "conviction_id": r["conviction_id"]}
        for k, v in values.items():
            out[k].append(v)

    for packet, sel in packets:
        for i, r in enumerate(sel.granted.iter_rows(named=True), start=1):
            new_level = {"reduce_to_misdemeanor": "M", "reduce_to_infraction": "I"}.get(r["filing_relief"], "")
            action = r["group"] if r["group"] != "resentence" else \
                f"resentence_{'infraction' if new_level == 'I' else 'misdemeanor'}"
            add(packet, "A", i, r, action, r["relief_basis"], new_level, r["basis"])
        for i, r in enumerate(sel.challenged.iter_rows(named=True), start=1):
            add(packet, "B", i, r, "challenged", "", "", f"{r['ground']}: {r['ground_reason']}")
    schema = {c: (pl.Int64 if c == "row" else pl.String) for c in UPDATE_COLUMNS}
    return pl.DataFrame(out, schema=schema)


def _safe_text(value: object) -> str:
    text = _ILLEGAL_XML.sub("", "" if value is None else str(value))
    return text[:_EXCEL_CELL_CHARS]


def court_update_csv(frame: pl.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, CRLF; a value a spreadsheet would run as a formula
    (= + - @, tab, carriage return first) gets a leading apostrophe and stays text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow(["'" + v if isinstance(v, str) and _FORMULA_START.match(v) else v for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _as_date(text: str) -> date | None:
    try:
        d = date.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return d if d >= _FIRST_SAFE_DATE else None


def court_update_xlsx(frame: pl.DataFrame) -> bytes:
    """The update file as a workbook a clerk opens: typed cells, widths, filter, frozen header,
    a legend sheet. Built in memory (XlsxWriter ``in_memory``); every text cell is written as a
    string, so nothing in it is ever a formula."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    wb.set_properties({"title": "Court update file", "comments": "Confidential: dates of birth and CII numbers",
                       "author": "ClearRec Desktop"})
    head = wb.add_format({"bold": True, "bg_color": "#E0E0E0", "border": 1, "text_wrap": True, "valign": "top"})
    date_fmt = wb.add_format({"num_format": "mm/dd/yyyy"})
    text_fmt = wb.add_format({"num_format": "@"})
    ws = wb.add_worksheet("court update")
    columns = list(frame.columns)
    widths = [max(8, len(c) + 2) for c in columns]
    for j, name in enumerate(columns):
        ws.write_string(0, j, name, head)
    for i, row in enumerate(frame.iter_rows(), start=1):
        for j, (name, value) in enumerate(zip(columns, row)):
            if value is None or value == "":
                if name in DATE_COLUMNS:  # e.g. the order date, left for the clerk: typed as a date
                    ws.write_blank(i, j, None, date_fmt)
                continue
            if name in DATE_COLUMNS and (d := _as_date(value)) is not None:
                ws.write_datetime(i, j, d, date_fmt)
                widths[j] = max(widths[j], 11)
            elif name in INT_COLUMNS and (isinstance(value, int) or str(value).isdigit()):
                ws.write_number(i, j, int(value))
            else:
                text = _safe_text(value)
                ws.write_string(i, j, text)
                widths[j] = max(widths[j], min(60, len(text) + 2))
    for j, name in enumerate(columns):
        fmt = date_fmt if name in DATE_COLUMNS else (None if name in INT_COLUMNS else text_fmt)
        ws.set_column(j, j, widths[j], fmt)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(frame.height, 1), len(columns) - 1)

    legend = wb.add_worksheet("legend")
    legend.set_column(0, 0, 26)
    legend.set_column(1, 1, 100)
    legend.write_string(0, 0, "Confidential", head)
    legend.write_string(0, 1, "This file holds dates of birth and CII numbers (criminal offender record "
                              "information): for the court's records update only.", head)
    legend.write_string(2, 0, "action code", head)
    legend.write_string(2, 1, "meaning", head)
    for i, (code, text) in enumerate(ACTIONS.items(), start=3):
        legend.write_string(i, 0, code)
        legend.write_string(i, 1, text)
    start = 4 + len(ACTIONS)
    legend.write_string(start, 0, "column", head)
    legend.write_string(start, 1, "meaning", head)
    for i, (col, text) in enumerate(COLUMN_NOTES.items(), start=start + 1):
        legend.write_string(i, 0, col)
        legend.write_string(i, 1, text)
    wb.close()
    return buf.getvalue()


def write_court_update(selection: Selection, csv_path: Path | None, xlsx_path: Path | None, *,
                       by_courthouse: bool = False, packet_files: dict[str | None, str] | None = None) -> list[Path]:
    frame = court_update_rows(selection, by_courthouse=by_courthouse, packet_files=packet_files)
    written = []
    if csv_path is not None:
        written.append(write_bytes(Path(csv_path), court_update_csv(frame)))
    if xlsx_path is not None:
        written.append(write_bytes(Path(xlsx_path), court_update_xlsx(frame)))
    return written


def write_bytes(path: Path, data: bytes) -> Path:
    path = local_path(path, must_exist=False)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"{path.name}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    return path

