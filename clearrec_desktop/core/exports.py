"""Exports of a screening run: Excel workbook, DOJ-layout results, impact report PDF, results CSV.

Everything here is built in memory and written only to the path the user chose: no temporary
files (openpyxl's own worksheet writer spools every sheet to a plaintext temp file, so the
workbook is saved through ``_MemoryExcelWriter`` below). No Qt and no network modules.

An SSN is never exported: results carry none, any column named like one is dropped, and the
DOJ layout keeps its two SSN columns (the layout must stay 95 columns) with blank values.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence
from xml.sax.saxutils import escape as _xml_escape

import polars as pl
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from .errors import Cancelled, InputError
from .safety import local_path

OUTCOMES = ("dismiss", "reduce", "review", "ineligible")
RELIEF_OUTCOMES = ("dismiss", "reduce")
EXCEL_MAX_ROWS = 1_048_576  # rows per worksheet in Excel, header included

# results.csv columns shown as Excel dates / numbers (text stays text when it does not parse).
DATE_COLUMNS = ("dob", "conviction_date", "cycle_date", "sentence_end")
INT_COLUMNS = ("source_line", "count", "age_at_offence", "age_at_conviction")
# decisions frame column -> column name in the exports
DECISION_COLUMNS = {
    "decision": "decision",
    "reason": "decision_reason",
    "ground": "decision_ground",
    "notes": "decision_notes",
    "reviewer": "reviewer",
    "decided_at": "decided_at",
}

# The result columns appended to the 95 DOJ columns, and the results / decision column each
# comes from. Fixed, so the layout is always 95 + len(DOJ_RESULT_COLUMNS) whatever was decided.
# Decision notes and the reviewer stay in the office: this file goes to the court.
DOJ_RESULT_COLUMNS = {
    "CLEARREC_CONVICTION_ID": "conviction_id",
    "CLEARREC_COURT_CASE_NUMBER": "court_case_number",
    "CLEARREC_CODE_SECTION": "code_section",
    "CLEARREC_LEVEL": "level",
    "CLEARREC_OUTCOME": "outcome",
    "CLEARREC_RELIEF": "relief",
    "CLEARREC_RELIEF_TRACK": "relief_track",
    "CLEARREC_REASONS": "reasons",
    "CLEARREC_RULES": "rules",
    "CLEARREC_CITATIONS": "citations",
    "CLEARREC_FLAGS": "flags",
    "CLEARREC_DECISION": "decision",
    "CLEARREC_DECISION_GROUND": "decision_ground",
    "CLEARREC_DECISION_REASON": "decision_reason",
}

SUPPRESS_BELOW = 11
SUPPRESSED = "<11"

Progress = Callable[[float, str], None]

_SSN_RE = re.compile(r"(^|_)SSN($|_)", re.IGNORECASE)
# Characters XML 1.0 cannot hold (openpyxl refuses them; Excel calls the file corrupt).
_ILLEGAL_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_ILLEGAL_XML_PY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_CELL_CHARS = 32_767
_EXCEL_EPOCH = date(1899, 12, 30)
# Excel's serial numbers are wrong before 1 March 1900 (the 1900 leap-year bug): such dates,
# which only junk data produces, are written as ISO text instead.
_FIRST_SAFE_DATE = date(1900, 3, 1)
_DATE_FORMAT = "mm/dd/yyyy"
_DATETIME_FORMAT = "mm/dd/yyyy hh:mm"
_CHUNK_ROWS = 20_000


# --------------------------------------------------------------------------------------------
# shared helpers


def _output_path(path: str | Path, what: str) -> Path:
    p = local_path(path, must_exist=False, what=what)
    if p.is_dir():
        raise InputError(f"{p}: is a folder; give a file name for the {what}")
    if not p.parent.is_dir():
        raise InputError(f"{p.parent}: no such folder for the {what}")
    return p


def _tick(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def _drop_ssn(frame: pl.DataFrame) -> pl.DataFrame:
    """Results never carry an SSN; this drops one should a caller's frame hold it anyway."""
    return frame.drop([c for c in frame.columns if _SSN_RE.search(c)])


def _with_decisions(results: pl.DataFrame, decisions: pl.DataFrame | None) -> pl.DataFrame:
    """Attach the latest decision of each conviction (decision columns renamed, see
    DECISION_COLUMNS). Without a decisions frame the results are returned unchanged."""
    if decisions is None:
        return results
    if "conviction_id" not in decisions.columns:
        raise InputError("the decisions have no conviction_id column")
    if "conviction_id" not in results.columns:
        raise InputError("the results have no conviction_id column")
    present = [c for c in DECISION_COLUMNS if c in decisions.columns]
    d = decisions.select("conviction_id", *present)
    if "decided_at" in present:
        d = d.sort("decided_at", nulls_last=False, maintain_order=True)
    d = d.unique("conviction_id", keep="last", maintain_order=True)
    d = d.rename({c: DECISION_COLUMNS[c] for c in present})
    d = d.with_columns([pl.lit(None, pl.String).alias(DECISION_COLUMNS[c]) for c in DECISION_COLUMNS if c not in present])
    d = d.select("conviction_id", *DECISION_COLUMNS.values())
    base = results.drop([c for c in DECISION_COLUMNS.values() if c in results.columns])
    return base.join(d, on="conviction_id", how="left", maintain_order="left")


# --------------------------------------------------------------------------------------------
# Excel workbook
#
# The workbook is an openpyxl write-only workbook (styles, sheet views, column widths,
# autofilter, the package parts all come from openpyxl). The rows of the outcome sheets are
# rendered to sheet XML by polars expressions, a chunk of rows at a time: openpyxl's per-cell
# objects cost about 8 us a cell, four minutes for a million results. The rendering writes
# only inline strings (<is><t>), numbers and booleans (<v>): never a formula element, so text
# such as =HYPERLINK(...) can only ever be text.


@dataclass
class _SheetSpec:
    rows: list[list] | None = None                       # small sheet: openpyxl cells
    body: Callable[[], Iterator[bytes]] | None = None      # large sheet: pre-rendered <row>s


class _MemoryExcelWriter(ExcelWriter):
    """openpyxl's ExcelWriter with ``write_worksheet`` replaced: the original spools each sheet
    to a plaintext temporary file. Here small sheets are built in a BytesIO and large ones are
    streamed straight into their zip entry (which is itself in memory)."""

    _SHEETDATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")

    def __init__(self, workbook, archive, specs: dict[str, _SheetSpec]):
        super().__init__(workbook, archive)
        self._specs = specs

    def write_worksheet(self, ws):
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        spec = self._specs[ws.title]
        out = io.BytesIO()
        writer = WorksheetWriter(ws, out=out)
        writer.write_top()
        xf = writer.xf.send(True)
        with xf.element("sheetData"):
            for idx, cells in enumerate(spec.rows or (), 1):
                writer.write_row(xf, cells, idx)
        writer.xf.send(None)
        writer.write_tail()
        writer.close()
        xml = out.getvalue()
        name = ws.path[1:]
        if spec.body is None:
            self._archive.writestr(name, xml)
        else:
            head, tail = self._split(xml)
            try:
                with self._archive.open(name, "w") as dest:
                    dest.write(head + b"<sheetData>")
                    for chunk in spec.body():
                        dest.write(chunk)
                    dest.write(b"</sheetData>" + tail)
            except RuntimeError as exc:  # zipfile: an entry over 4 GiB needs zip64, which Excel reads badly
                if "too large" in str(exc):
                    raise InputError(f"sheet {ws.title!r} is too large for one Excel file; export fewer rows") from None
                raise
        ws._rels = writer._rels
        self.manifest.append(ws)

    @classmethod
    def _split(cls, xml: bytes) -> tuple[bytes, bytes]:
        parts = cls._SHEETDATA.split(xml)
        if len(parts) != 2:
            raise RuntimeError("unexpected worksheet skeleton from openpyxl")
        return parts[0], parts[1]


def _set_dimension(ws, ref: str) -> None:
    """Give the sheet a <dimension> element (openpyxl's writer asks the sheet for it; write-only
    sheets cannot compute one), so readers that trust it, e.g. openpyxl read-only, see every row."""
    ws.calculate_dimension = lambda: ref


def _clean_text(value: str) -> str:
    return _ILLEGAL_XML_PY.sub("", value)[:_EXCEL_CELL_CHARS]


def _cell(ws, row: int, column: int, value, *, font=None, fill=None, number_format: str | None = None):
    """An openpyxl cell for the small sheets. Strings are always stored as text (data type
    's'), so a value starting with = + - @ can never become a formula or an error value."""
    cell = Cell(ws, row=row, column=column)
    if isinstance(value, str):
        cell._value = _clean_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if number_format is not None:
        cell.number_format = number_format
    return cell


class _Styles:
    def __init__(self, wb, ws):
        self.bold = Font(bold=True)
        self.title = Font(bold=True, size=14, color="1F3A5F")
        self.section = Font(bold=True, size=12, color="1F3A5F")
        self.note = Font(italic=True, color="555555")
        self.header_fill = PatternFill("solid", fgColor="DCE4EE")

        def sid(**attrs) -> int:
            c = Cell(ws)
            for k, v in attrs.items():
                setattr(c, k, v)
            return c.style_id

        self.header_id = sid(font=self.bold, fill=self.header_fill, alignment=Alignment(vertical="top"))
        self.date_id = sid(number_format=_DATE_FORMAT)
        self.datetime_id = sid(number_format=_DATETIME_FORMAT)


def _column_kind(name: str, dtype: pl.DataType) -> str:
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype == pl.String and name in DATE_COLUMNS:
        return "datestr"
    if dtype == pl.String and name in INT_COLUMNS:
        return "intstr"
    return "str"


def _xlsx_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns the renderer understands: text cleaned, odd types turned into text."""
    exprs = []
    for name, dtype in frame.schema.items():
        kind = _column_kind(name, dtype)
        col = pl.col(name)
        if kind == "datetime":
            if getattr(dtype, "time_zone", None):
                col = col.dt.replace_time_zone(None)
            exprs.append(col.cast(pl.Datetime("us")).alias(name))
        elif kind in ("date", "bool", "int", "float"):
            exprs.append(col)
        else:
            if dtype != pl.String:
                col = col.cast(pl.String)
            exprs.append(col.str.replace_all(_ILLEGAL_XML, "").str.slice(0, _EXCEL_CELL_CHARS).alias(name))
    return frame.select(exprs)


def _cell_xml(name: str, kind: str, letter: str, rownum: pl.Expr, styles: _Styles) -> pl.Expr:
    col = pl.col(name)
    ref = [pl.lit(f'<c r="{letter}'), rownum]

    def text(value: pl.Expr) -> pl.Expr:
        escaped = (value.str.replace_all("&", "&amp;", literal=True)
                   .str.replace_all("<", "&lt;", literal=True)
                   .str.replace_all(">", "&gt;", literal=True))
        space = pl.when(value.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit(""))
        return pl.concat_str([*ref, pl.lit('" t="inlineStr"><is><t'), space, pl.lit(">"), escaped, pl.lit("</t></is></c>")])

    def number(value: pl.Expr, style: int | None = None) -> pl.Expr:
        s = f'" s="{style}"><v>' if style is not None else '"><v>'
        return pl.concat_str([*ref, pl.lit(s), value.cast(pl.String), pl.lit("</v></c>")])

    empty = pl.lit("")
    if kind == "str":
        return pl.when(col.is_null() | (col == "")).then(empty).otherwise(text(col))
    if kind == "int":
        return pl.when(col.is_null()).then(empty).otherwise(number(col))
    if kind == "float":
        return pl.when(col.is_null() | ~col.is_finite()).then(empty).otherwise(number(col))
    if kind == "bool":
        return pl.when(col.is_null()).then(empty).otherwise(
            pl.concat_str([*ref, pl.lit('" t="b"><v>'), col.cast(pl.Int8).cast(pl.String), pl.lit("</v></c>")]))
    if kind == "intstr":
        n = col.str.strip_chars().cast(pl.Int64, strict=False)
        return (pl.when(n.is_not_null()).then(number(n))
                .when(col.is_null() | (col == "")).then(empty).otherwise(text(col)))
    if kind in ("date", "datestr"):
        d = col if kind == "date" else col.str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        serial = (d - pl.lit(_EXCEL_EPOCH)).dt.total_days()
        as_text = col.dt.to_string("%Y-%m-%d") if kind == "date" else col
        return (pl.when(d.is_not_null() & (d >= pl.lit(_FIRST_SAFE_DATE))).then(number(serial, styles.date_id))
                .when(as_text.is_null() | (as_text == "")).then(empty).otherwise(text(as_text)))
    if kind == "datetime":
        serial = (col - pl.lit(datetime(1899, 12, 30))).dt.total_microseconds().cast(pl.Float64) / 86_400_000_000
        return (pl.when(col.is_not_null() & (col >= pl.lit(datetime(1900, 3, 1)))).then(number(serial, styles.datetime_id))
                .when(col.is_null()).then(empty).otherwise(text(col.dt.to_string("%Y-%m-%d %H:%M:%S"))))
    raise AssertionError(kind)


def _header_xml(columns: Sequence[str], style_id: int) -> bytes:
    cells = "".join(
        f'<c r="{get_column_letter(i)}1" s="{style_id}" t="inlineStr"><is><t>{_xml_escape(_clean_text(c))}</t></is></c>'
        for i, c in enumerate(columns, 1)
    )
    return f'<row r="1">{cells}</row>'.encode()


def _render_rows(frame: pl.DataFrame, first_row: int, styles: _Styles) -> bytes:
    """Sheet XML <row> elements for ``frame``, the first one numbered ``first_row``."""
    rownum = pl.int_range(first_row, first_row + pl.len()).cast(pl.String)
    cells = [
        _cell_xml(name, _column_kind(name, dtype), get_column_letter(i), rownum, styles)
        for i, (name, dtype) in enumerate(frame.schema.items(), 1)
    ]
    row = pl.concat_str([pl.lit('<row r="'), rownum, pl.lit('">'), *cells, pl.lit("</row>")])
    return frame.select(row.alias("xml")).get_column("xml").str.join("").item().encode("utf-8")


def _column_widths(view: pl.DataFrame) -> dict[str | None, list[float]]:
    """Column widths per outcome (from the longest value, capped), and for an empty sheet (None)."""
    lengths = view.group_by("outcome").agg(
        pl.col(c).cast(pl.String).str.len_chars().max().fill_null(0).alias(c) for c in view.columns if c != "outcome")
    per_outcome = {r["outcome"]: r for r in lengths.iter_rows(named=True)}
    per_outcome[None] = {}
    out: dict[str | None, list[float]] = {}
    for outcome, longest in per_outcome.items():
        widths = []
        for name, dtype in view.schema.items():
            kind = _column_kind(name, dtype)
            if kind in ("date", "datestr"):
                w = max(len(name), 10) + 2
            elif kind == "datetime":
                w = max(len(name), 16) + 2
            else:
                value = len(outcome or "") if name == "outcome" else int(longest.get(name) or 0)
                w = max(len(name), value) + 2
            widths.append(float(min(max(w, 8), 60)))
        out[outcome] = widths
    return out


def _summary_rows(ws, summary: dict, styles: _Styles, audit_head: str | None,
                  decisions_view: pl.DataFrame | None, sheets: list[tuple[str, int]]) -> list[list]:
    """The Summary sheet as rows of openpyxl cells (label, values...)."""
    rows: list[list] = []

    def add(*values, font=None, header=False):
        r = len(rows) + 1
        cells = []
        for c, v in enumerate(values, 1):
            if v is None:
                continue
            fmt = _DATE_FORMAT if isinstance(v, date) else None
            cells.append(_cell(ws, r, c, v, font=styles.bold if header else font,
                               fill=styles.header_fill if header else None, number_format=fmt))
        rows.append(cells)

    def blank():
        rows.append([])

    def as_date(text):
        try:
            return date.fromisoformat(str(text))
        except (TypeError, ValueError):
            return text

    def num(v):
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else (None if v is None else str(v))

    profile = summary.get("profile") or {}
    add("ClearRec screening summary", font=styles.title)
    add("Internal working file: holds personal data and unsuppressed counts. Publish the impact report instead.",
        font=styles.note)
    blank()
    add("County", summary.get("county"))
    add("Evaluation date (as of)", as_date(summary.get("as_of")))
    add("Policy profile", profile.get("title") or profile.get("id"))
    add("Profile id", profile.get("id"))
    add("Profile source", profile.get("source"))
    add("Tool", " ".join(str(x) for x in (summary.get("tool"), summary.get("version")) if x))
    add("Audit chain head (SHA-256)", audit_head or summary.get("audit_head") or "not recorded")

    inputs = summary.get("inputs") or []
    blank()
    add("Input files", font=styles.section)
    add("File", "SHA-256", "Lines read", "Rows imported", "Lines rejected", header=True)
    for f in inputs:
        add(f.get("file"), f.get("sha256"), num(f.get("lines_read")), num(f.get("rows_imported")),
            num(f.get("lines_rejected")))

    conv = summary.get("convictions") or {}
    blank()
    add("Convictions screened", font=styles.section)
    add("Total", num(conv.get("total")), font=styles.bold)
    for key, title in (("by_outcome", "Outcome"), ("by_relief", "Relief"), ("by_track", "Relief track"),
                       ("by_section", "Code section"), ("by_level", "Level")):
        counts = conv.get(key) or {}
        if not counts:
            continue
        blank()
        add(title, "Convictions", header=True)
        for k, v in counts.items():
            add(k if k != "" else "(blank)", num(v))

    people = summary.get("people") or {}
    everything = summary.get("dismiss_everything") or {}
    if people or everything:
        blank()
        add("People", font=styles.section)
        add("Measure", "This profile", "Dismiss everything", header=True)
        for key, title in (("with_conviction", "With a cannabis conviction"), ("with_relief", "With some relief"),
                           ("no_felony_left", "Left with no felony"), ("no_conviction_left", "Left with no conviction"),
                           ("none_in_7_years", "No conviction in the last 7 years")):
            other = people.get(key) if key == "with_conviction" else everything.get(key)
            add(title, num(people.get(key)), num(other))

    breakdowns = summary.get("breakdowns") or {}
    for dim, title in (("race", "Race / ethnicity"), ("gender", "Gender"), ("age_band", "Age band"),
                       ("decade", "Decade of conviction")):
        groups = breakdowns.get(dim) or {}
        if not groups:
            continue
        metrics = [(k, label) for k, label in BREAKDOWN_METRICS if any(k in (v or {}) for v in groups.values())]
        blank()
        add(f"By {title.lower()} (not suppressed)", font=styles.section)
        add(title, *(label for _, label in metrics), header=True)
        for g, v in groups.items():
            add(g if g != "" else "(blank)", *(num((v or {}).get(k)) for k, _ in metrics))

    if decisions_view is not None and "decision" in decisions_view.columns:
        counts = decisions_view.group_by("decision").len().sort("decision", nulls_last=True)
        blank()
        add("Attorney decisions", font=styles.section)
        add("Decision", "Convictions", header=True)
        for d, n in counts.iter_rows():
            add(d if d is not None else "(none yet)", int(n))

    blank()
    add("Sheets", font=styles.section)
    add("Sheet", "Rows", header=True)
    for name, n in sheets:
        add(name, n)
    add("Text beginning with = + - @ is stored as text, never as a formula. No SSN is exported.", font=styles.note)
    return rows


def write_workbook(
    results: pl.DataFrame,
    summary: dict,
    path: str | Path,
    *,
    decisions: pl.DataFrame | None = None,
    audit_head: str | None = None,
    progress: Progress | None = None,
    cancel=None,
    max_rows_per_sheet: int = EXCEL_MAX_ROWS,
) -> Path:
    """Write the review workbook: a Summary sheet, then one sheet per outcome in results order
    ("dismiss", "reduce", "review", "ineligible"; "dismiss (2)"... past ``max_rows_per_sheet``
    rows, header included). Decision columns are added when ``decisions`` is given (its
    latest row per conviction_id). Returns the path written."""
    if max_rows_per_sheet < 2 or max_rows_per_sheet > EXCEL_MAX_ROWS:
        raise ValueError("max_rows_per_sheet must be between 2 and 1,048,576")
    out = _output_path(path, "workbook")
    if "outcome" not in results.columns:
        raise InputError("the results have no outcome column")
    _tick(progress, 0.0, "Preparing the workbook")

    view = _drop_ssn(_with_decisions(results, decisions))
    unknown = view.filter(~pl.col("outcome").is_in(OUTCOMES) | pl.col("outcome").is_null()).height
    if unknown:
        raise InputError(f"the results have {unknown:,} row(s) with an outcome other than {', '.join(OUTCOMES)}")
    per_sheet = max_rows_per_sheet - 1

    wb = Workbook(write_only=True)
    wb.properties.creator = "ClearRec"
    summary_ws = wb.create_sheet("Summary")
    styles = _Styles(wb, summary_ws)
    specs: dict[str, _SheetSpec] = {}
    sheets: list[tuple[str, int]] = []
    total = max(view.height, 1)
    done = [0]

    def body(outcome: str, offset: int, length: int, sheet: str) -> Callable[[], Iterator[bytes]]:
        # A sheet's rows are selected only when it is written (one sheet's copy at a time) and
        # rendered a chunk at a time.
        def gen() -> Iterator[bytes]:
            part = view.lazy().filter(pl.col("outcome") == outcome).slice(offset, length).collect()
            yield _header_xml(part.columns, styles.header_id)
            for start in range(0, part.height, _CHUNK_ROWS):
                _check_cancel(cancel)
                chunk = _xlsx_frame(part.slice(start, _CHUNK_ROWS))
                yield _render_rows(chunk, start + 2, styles)
                done[0] += chunk.height
                _tick(progress, 0.02 + 0.9 * done[0] / total, f"Writing sheet {sheet}")
        return gen

    last_col = get_column_letter(max(len(view.columns), 1))
    counts = {o: int(n) for o, n in view.group_by("outcome").len().iter_rows()}
    widths = _column_widths(view)
    for outcome in OUTCOMES:
        n = counts.get(outcome, 0)
        for i in range(max(1, -(-n // per_sheet))):
            name = outcome if i == 0 else f"{outcome} ({i + 1})"
            rows = min(per_sheet, n - i * per_sheet)
            ws = wb.create_sheet(name)
            for c, w in enumerate(widths.get(outcome) or widths[None], 1):
                ws.column_dimensions[get_column_letter(c)].width = w
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = f"A1:{last_col}{rows + 1}"
            _set_dimension(ws, f"A1:{last_col}{rows + 1}")
            specs[name] = _SheetSpec(body=body(outcome, i * per_sheet, rows, name))
            sheets.append((name, rows))

    for c, w in enumerate((34, 24, 18, 18, 18, 18, 18), 1):
        summary_ws.column_dimensions[get_column_letter(c)].width = w
    decisions_view = view if decisions is not None else None
    summary_rows = _summary_rows(summary_ws, summary, styles, audit_head, decisions_view, sheets)
    _set_dimension(summary_ws, f"A1:G{len(summary_rows)}")
    specs["Summary"] = _SheetSpec(rows=summary_rows)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1) as archive:
        _MemoryExcelWriter(wb, archive, specs).write_data()
    _check_cancel(cancel)
    _tick(progress, 0.97, "Saving the workbook")
    out.write_bytes(buf.getbuffer())
    _tick(progress, 1.0, "Workbook saved")
    return out


# --------------------------------------------------------------------------------------------
# DOJ-layout results


def _doj_columns() -> list[str]:
    from .doj import DOJ_COLUMNS

    return list(DOJ_COLUMNS)


def write_doj_results(
    rows_raw: pl.DataFrame,
    results: pl.DataFrame,
    path: str | Path,
    *,
    decisions: pl.DataFrame | None = None,
    progress: Progress | None = None,
    cancel=None,
) -> Path:
    """Every imported row in the DOJ layout (its 95 columns, raw text as read) followed by the
    result columns of DOJ_RESULT_COLUMNS, as CSV, in import order.

    ``rows_raw`` holds the 95 DOJ columns plus ``subject_id`` and ``count_key`` (CNT_ORDER,
    trimmed). Every sentence-part row of a screened count gets that count's result; rows that
    were not screened (arrests, other counties, other offences) get empty result columns.

    REQ_SSN and PRI_SSN stay in the layout (consumers expect 95 columns) but their values are
    always blank: an SSN must never leave the program.

    Other values are written unaltered, even text a spreadsheet would run as a formula: this is
    a data file for court and DOJ systems; the workbook is the file meant for Excel.
    """
    out = _output_path(path, "DOJ-layout results file")
    doj_cols = _doj_columns()
    missing = [c for c in (*doj_cols, "subject_id", "count_key") if c not in rows_raw.columns]
    if missing:
        raise InputError(
            f"the imported rows lack {len(missing)} DOJ-layout column(s) (e.g. {missing[0]}); "
            "the DOJ layout needs DOJ extract input")
    for c in ("subject_id", "count_key"):
        if c not in results.columns:
            raise InputError(f"the results have no {c} column")
    _tick(progress, 0.0, "Matching results to the imported rows")

    res = _with_decisions(results, decisions)
    key = [pl.col("subject_id").cast(pl.String).str.strip_chars().alias("_sid"),
           pl.col("count_key").cast(pl.String).str.strip_chars().alias("_ckey")]
    res_cols = []
    for out_name, src in DOJ_RESULT_COLUMNS.items():
        if src in res.columns:
            res_cols.append(pl.col(src).cast(pl.String).alias(out_name))
        else:
            res_cols.append(pl.lit(None, pl.String).alias(out_name))
    res = res.select(*key, *res_cols)
    dupes = res.select(pl.struct("_sid", "_ckey").is_duplicated().sum()).item()
    if dupes:
        raise InputError(f"the results hold {dupes:,} rows for counts screened more than once; re-run the screening")

    keys = rows_raw.select(*key)
    unmatched = res.join(keys.unique(), on=["_sid", "_ckey"], how="anti").height
    if unmatched:
        raise InputError(
            f"{unmatched:,} screened count(s) have no row in the imported files; "
            "export from the same input files the screening used")
    aligned = keys.join(res, on=["_sid", "_ckey"], how="left", maintain_order="left").drop("_sid", "_ckey")
    if aligned.height != rows_raw.height:  # cannot happen with unique keys; never write a wrong file
        raise AssertionError("DOJ-layout join changed the row count")
    ssn_blank = [pl.lit(None, pl.String).alias(c) if _SSN_RE.search(c) else pl.col(c).cast(pl.String) for c in doj_cols]
    table = pl.concat([rows_raw.select(ssn_blank), aligned], how="horizontal")

    total = max(table.height, 1)
    try:
        with open(out, "wb") as f:
            table.head(0).write_csv(f)
            for start in range(0, table.height, 100_000):
                _check_cancel(cancel)
                table.slice(start, 100_000).write_csv(f, include_header=False)
                _tick(progress, 0.05 + 0.95 * min(start + 100_000, total) / total, "Writing the DOJ-layout results")
    except BaseException:
        out.unlink(missing_ok=True)  # never leave half a file where the user will find it
        raise
    _tick(progress, 1.0, "DOJ-layout results saved")
    return out


def export_doj_results_from_dir(
    screen_out_dir: str | Path,
    path: str | Path,
    *,
    inputs: Sequence[str | Path] | None = None,
    decisions: pl.DataFrame | None = None,
    progress: Progress | None = None,
    cancel=None,
) -> Path:
    """The DOJ-layout results of a finished screening run: re-reads the DOJ extracts the run
    used (checked against the SHA-256 and row counts in summary.json) and writes every row with
    its result. Each input is looked for, by its file name, among ``inputs``, then at the path
    summary.json records (if any), then in the output folder, its parent folder and the current
    folder; the SHA-256 check makes sure a file found that way is the one screened."""
    from .doj import read_extract
    from .importer import file_sha256

    from .pipeline import read_screen_output

    d = local_path(screen_out_dir, what="folder")
    results, summary = read_screen_output(d)
    given = {Path(p).name: local_path(p) for p in (inputs or ())}
    frames = []
    entries = summary.get("inputs") or []
    if not entries:
        raise InputError("summary.json lists no input files")
    for i, entry in enumerate(entries):
        name = entry.get("file") or ""
        candidates = [given.get(name), entry.get("path") and Path(entry["path"]), d / name, d.parent / name,
                      Path.cwd() / name]
        src = next((local_path(c) for c in candidates if c and name and Path(c).is_file()), None)
        if src is None:
            raise InputError(f"{name}: cannot find this input of the screening; give the input files (the DOJ "
                             "layout re-reads them)")
        _tick(progress, 0.4 * i / len(entries), f"Re-reading {src.name}")
        if entry.get("sha256") and file_sha256(src) != entry["sha256"]:
            raise InputError(f"{src.name}: the file changed since the screening (SHA-256 differs); re-run the screening")
        read = read_extract(src, cancel=cancel)
        if entry.get("rows_imported") is not None and read.frame.height != int(entry["rows_imported"]):
            raise InputError(f"{src.name}: {read.frame.height:,} rows read, the screening imported {entry['rows_imported']:,}")
        frames.append(read.frame.with_columns(
            pl.lit(src.name).alias("source_file"),
            pl.col("source_line").cast(pl.Int64),
            pl.col("SUBJECT_ID").str.strip_chars().alias("subject_id"),
            pl.col("CNT_ORDER").str.strip_chars().alias("count_key"),
        ))
        _check_cancel(cancel)
    rows_raw = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]

    def sub(fraction: float, message: str) -> None:
        _tick(progress, 0.4 + 0.6 * fraction, message)

    return write_doj_results(rows_raw, results, path, decisions=decisions, progress=sub, cancel=cancel)


# --------------------------------------------------------------------------------------------
# results CSV (the GUI's filtered view)

_FORMULA_START = r"^[=+\-@\t\r]"


def write_results_csv(results_view: pl.DataFrame, path: str | Path, *, excel_safe: bool = True) -> Path:
    """The results view as shown (same rows, same columns, same order), as CSV; no SSN column.

    With ``excel_safe`` a text value starting with = + - @ (or a tab / carriage return) gets a
    leading apostrophe, so a spreadsheet opening the CSV shows it as text instead of running it
    as a formula (CSV cannot mark a cell as text otherwise).
    """
    out = _output_path(path, "CSV file")
    frame = _drop_ssn(results_view)
    if excel_safe:
        frame = frame.with_columns([
            pl.when(pl.col(c).str.contains(_FORMULA_START)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
            for c, t in frame.schema.items() if t == pl.String
        ])
    try:
        frame.write_csv(out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


# --------------------------------------------------------------------------------------------
# impact report: the figures first (impact_figures), then the PDF (build_impact_report)

OUTCOME_LABELS = {"dismiss": "Dismiss and seal", "reduce": "Reduce (redesignate)",
                  "review": "Attorney review", "ineligible": "Not eligible"}
LEVEL_LABELS = {"F": "Felony", "M": "Misdemeanor", "I": "Infraction", "": "Unknown"}
GENDER_LABELS = {"M": "Male", "F": "Female", "MALE": "Male", "FEMALE": "Female"}
PEOPLE_MEASURES = (
    ("with_relief", "People with some relief"),
    ("no_felony_left", "People left with no felony"),
    ("no_conviction_left", "People left with no conviction"),
    ("none_in_7_years", "People with no conviction in the last 7 years"),
)
BREAKDOWNS = (("race", "Race / ethnicity"), ("gender", "Gender"), ("age_band", "Age on the evaluation date"),
              ("decade", "Decade of conviction"))
# Breakdown columns, in table order; a table shows those its groups have.
BREAKDOWN_METRICS = (
    ("people", "People"),
    ("convictions", "Convictions"),
    ("with_relief", "People with relief"),
    ("no_felony_left", "People left with no felony"),
    ("no_conviction_left", "People left with no conviction"),
    ("convictions_relieved", "Convictions with relief"),
)


def pub(value) -> str:
    """A count as published: 1-10 become "<11" (as in summary.json "publishable"; zero
    discloses nothing and stays 0); text such as "<11" passes through; None is "n/a"."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return SUPPRESSED if 0 < value < SUPPRESS_BELOW else f"{int(value):,}"
    return str(value)


def _as_int(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _shown(value) -> int | None:
    """The number a published cell shows, or None when it shows none (suppressed, n/a)."""
    n = _as_int(value)
    if n is None and isinstance(value, str) and value.replace(",", "").isdigit():
        n = int(value.replace(",", ""))
    return None if n is None or 0 < n < SUPPRESS_BELOW else n


def _report_frame(results: pl.DataFrame, as_of: date | None) -> pl.DataFrame:
    """The columns the report computes from, dates parsed (results.csv may be read as text)."""
    from .summary import AGE_BANDS as age_bands

    def text(name: str) -> pl.Expr:
        return (pl.col(name).cast(pl.String) if name in results.columns else pl.lit(None, pl.String)).alias(name)

    def as_date(name: str) -> pl.Expr:
        if name in results.columns and results.schema[name] == pl.Date:
            return pl.col(name)
        return text(name).str.strip_chars().str.to_date("%Y-%m-%d", strict=False).alias(name)

    frame = results.select(*(text(c) for c in ("subject_id", "outcome", "code_section", "level", "race", "gender",
                                               "conviction_date_quality")),
                           as_date("conviction_date"), as_date("dob"))
    if as_of is not None:
        ref = pl.lit(as_of)
        age = (ref.dt.year().cast(pl.Int32) - pl.col("dob").dt.year().cast(pl.Int32)
               - ((ref.dt.month().cast(pl.Int32) * 100 + ref.dt.day().cast(pl.Int32))
                  < (pl.col("dob").dt.month().cast(pl.Int32) * 100 + pl.col("dob").dt.day().cast(pl.Int32))).cast(pl.Int32))
    else:
        age = pl.lit(None, pl.Int32)
    band = pl.lit("unknown")
    for lo, hi, label in reversed(age_bands):
        band = pl.when((age >= lo) & (age < hi)).then(pl.lit(label)).otherwise(band)
    decade = pl.when(pl.col("conviction_date").is_not_null()).then(
        (pl.col("conviction_date").dt.year() // 10 * 10).cast(pl.String) + pl.lit("s")).otherwise(pl.lit("unknown"))
    return frame.with_columns(
        band.alias("age_band"), decade.alias("decade"),
        pl.col("outcome").is_in(RELIEF_OUTCOMES).fill_null(False).alias("_relief"),
    )


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    grouped = frame.group_by(pl.col(column).fill_null("")).len().sort("len", column, descending=[True, False])
    return {k: int(n) for k, n in grouped.iter_rows()}


def _breakdown(frame: pl.DataFrame, dim: str) -> dict[str, dict[str, int]]:
    """Per group: people, convictions, people with some relief (not for decades: a person can
    have convictions in several), convictions with relief."""
    aggs = [pl.col("subject_id").n_unique().alias("people"), pl.len().alias("convictions")]
    if dim != "decade":
        aggs.append(pl.col("subject_id").filter(pl.col("_relief")).n_unique().alias("with_relief"))
    aggs.append(pl.col("_relief").sum().alias("convictions_relieved"))
    g = frame.group_by(pl.col(dim).fill_null("unknown")).agg(aggs)
    return {r[dim]: {k: int(v) for k, v in r.items() if k != dim} for r in g.iter_rows(named=True)}


def _brief_rule(text: str) -> str:
    """First sentence of a rule description plus its citation: "If ...: review. [HS 11361.8]"."""
    cite = re.search(r"\[([^\]]+)\]\s*$", text)
    rest = text[: cite.start()] if cite else text
    first = re.split(r"(?<=[a-z)\]])\.\s+(?=[A-Z])", rest.strip(), maxsplit=1)[0].strip().rstrip(".")
    return first + "." + (f" [{cite.group(1)}]" if cite else "")


def impact_figures(summary: dict, results: pl.DataFrame, *, rules: Sequence[str] | None = None) -> dict:
    """Every figure of the impact report, from summary.json where it has them ("publishable"
    first), computed from the results frame with polars otherwise. Conviction counts are raw
    numbers; people figures and breakdown cells may already be suppressed text ("<11")."""
    as_of = _iso_date(summary.get("as_of"))
    frame = _report_frame(results, as_of)
    conv = summary.get("convictions") or {}
    publishable = summary.get("publishable") or {}
    breakdowns = summary.get("breakdowns") or {}

    people = dict(summary.get("people") or {})
    people.update(publishable.get("people") or {})
    if people.get("with_conviction") is None:
        people["with_conviction"] = frame.select(pl.col("subject_id").n_unique()).item()
    if people.get("with_relief") is None:
        people["with_relief"] = frame.filter(pl.col("_relief")).select(pl.col("subject_id").n_unique()).item()
    everything = dict(summary.get("dismiss_everything") or {})
    everything["with_conviction"] = people["with_conviction"]
    if everything.get("with_relief") is None:  # dismissing everything relieves everyone screened
        everything["with_relief"] = people["with_conviction"]

    groups = {}
    for dim, _ in BREAKDOWNS:
        source = publishable.get(dim) or breakdowns.get(dim) or _breakdown(frame, dim)
        groups[dim] = {g: {k: pub(v) for k, v in (vals or {}).items()} for g, vals in source.items()}

    date_range = conv.get("date_range")
    if isinstance(date_range, (list, tuple)) and len(date_range) == 2:
        first, last = (_iso_date(d) for d in date_range)
    else:
        dated = frame.filter(pl.col("conviction_date_quality").is_null() | (pl.col("conviction_date_quality") == "full"))
        first, last = dated.select(pl.col("conviction_date").min().alias("a"), pl.col("conviction_date").max().alias("b")).row(0)

    profile = summary.get("profile") or {}
    if rules is None:
        rules = [_brief_rule(r) for r in profile.get("rules") or [] if isinstance(r, str)]
    inputs = summary.get("inputs") or []
    return {
        "county": summary.get("county") or "",
        "as_of": as_of,
        "profile": profile,
        "rules": list(rules),
        "inputs": inputs,
        "lines_read": sum(_as_int(f.get("lines_read")) or 0 for f in inputs),
        "rows_imported": sum(_as_int(f.get("rows_imported")) or 0 for f in inputs),
        "lines_rejected": sum(_as_int(f.get("lines_rejected")) or 0 for f in inputs),
        "first_conviction": first,
        "last_conviction": last,
        "total": conv.get("total") if conv.get("total") is not None else frame.height,
        "by_outcome": conv.get("by_outcome") or _counts(frame, "outcome"),
        "by_section": conv.get("by_section") or _counts(frame, "code_section"),
        "by_level": conv.get("by_level") or _counts(frame, "level"),
        "people": people,
        "dismiss_everything": everything,
        "groups": groups,
        "publishable_note": publishable.get("note"),
    }


def _iso_date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _fmt_date(d) -> str:
    if isinstance(d, date):
        return f"{d:%B} {d.day}, {d.year}"
    return str(d) if d else "unknown"


def _is_unknown(group: str) -> bool:
    return group.strip().lower() in ("", "unknown", "(blank)", "null")


def _group_order(dim: str, groups: Mapping[str, Mapping]) -> list[str]:
    """Age bands and decades in their natural order, other groups largest first; unknown last."""
    def key(g: str):
        low = g.strip().lower()
        if dim in ("age_band", "decade"):
            m = re.search(r"\d+", low)
            n = -1 if low.startswith("under") else (int(m.group()) if m else 10**6)
            return (_is_unknown(g), n, low)
        return (_is_unknown(g), -(_shown(groups[g].get("people")) or 0), low)
    return sorted(groups, key=key)


def _group_label(dim: str, g: str) -> str:
    if _is_unknown(g):
        return "Unknown"
    if dim == "gender":
        return GENDER_LABELS.get(g.strip().upper(), g.title())
    if dim == "race":
        return g.title()
    return g[:1].upper() + g[1:]


def build_impact_report(
    summary: dict,
    results: pl.DataFrame,
    *,
    audit_head: str | None = None,
    rules: Sequence[str] | None = None,
) -> bytes:
    """The impact report for publication, as PDF bytes. Every count from 1 to 10 is shown as
    "<11" in tables and charts alike, and no figure is shown from which one could be derived
    (rates need both counts shown). ``rules`` are the profile's rules in brief, one line each;
    by default the first sentence of each rule recorded in summary.json."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import (
        CondPageBreak, KeepTogether, ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
    )

    fig = impact_figures(summary, results, rules=rules)
    navy = colors.HexColor("#1F3A5F")
    accent = colors.HexColor("#2E7D6B")
    light = colors.HexColor("#9FB4CC")
    axis_grey = colors.HexColor("#8A96A3")
    pale = colors.HexColor("#EEF3F8")
    rule_grey = colors.HexColor("#C8D0DA")
    text_grey = colors.HexColor("#4A5563")
    width = LETTER[0] - 1.6 * inch

    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10.5, textColor=text_grey)
    kicker = ParagraphStyle("kicker", parent=body, fontName="Helvetica-Bold", fontSize=10, textColor=accent)
    h1 = ParagraphStyle("h1", parent=body, fontName="Helvetica-Bold", fontSize=20, leading=24, textColor=navy,
                        spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontName="Helvetica-Bold", fontSize=13, leading=16, textColor=navy,
                        spaceBefore=12, spaceAfter=6)
    h3 = ParagraphStyle("h3", parent=body, fontName="Helvetica-Bold", fontSize=10.5, leading=13, textColor=navy,
                        spaceBefore=8, spaceAfter=4)
    head_cell = ParagraphStyle("head_cell", parent=body, fontName="Helvetica-Bold", fontSize=8, leading=9.5,
                               textColor=colors.white, alignment=TA_RIGHT)
    tile_num = ParagraphStyle("tile_num", parent=body, fontName="Helvetica-Bold", fontSize=18, leading=22,
                              textColor=navy)
    tile_label = ParagraphStyle("tile_label", parent=small, leading=10)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(_xml_escape(text), style)

    def share(n, of) -> str:
        n, of = _shown(n), _shown(of)
        return f"{100 * n / of:.1f}%" if n is not None and of else ""

    def table(rows: list[list], widths: list[float], *, bold_last: bool = False) -> Table:
        t = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
        style = [
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
            ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("BACKGROUND", (0, 0), (-1, 0), navy),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, rule_grey),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        style += [("BACKGROUND", (0, r), (-1, r), pale) for r in range(2, len(rows), 2)]
        if bold_last:
            style += [("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 8.5), ("LINEABOVE", (0, -1), (-1, -1), 0.8, navy)]
        t.setStyle(TableStyle(style))
        return t

    def note_if_suppressed(*tables: list[list]) -> list:
        if any(c == SUPPRESSED for rows in tables for row in rows for c in row):
            return [Spacer(1, 2), p("\u201c<11\u201d: from 1 to 10, not shown to protect privacy.", small)]
        return []

    def side_by_side(left, right, widths) -> Table:
        return Table([[left, right]], colWidths=widths, hAlign="LEFT",
                     style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])

    def bar_chart(title: str, labels: list[str], series: list[list], names: list[str], w: float, h: float,
                  palette: list) -> Drawing:
        """Horizontal bars labelled with their published value; a suppressed value has no bar."""
        d = Drawing(w, h)
        d.add(String(0, h - 11, title, fontName="Helvetica-Bold", fontSize=9.5, fillColor=navy))
        legend_h = 14 if len(series) > 1 else 0
        chart = HorizontalBarChart()
        chart.x, chart.y = 118, 18 + legend_h
        chart.width, chart.height = w - chart.x - 40, h - 34 - legend_h
        # within a group the first series is drawn lowest: reverse so groups read like the legend
        order = list(reversed(range(len(series))))
        chart.data = [[_shown(v) or 0 for v in series[i]] for i in order]
        chart.barLabelFormat = "values"
        chart.barLabelArray = [[pub(v) for v in series[i]] for i in order]
        chart.barLabels.fontName = "Helvetica"
        chart.barLabels.fontSize = 7
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
        chart.categoryAxis.categoryNames = labels
        chart.categoryAxis.labels.fontName = "Helvetica"
        chart.categoryAxis.labels.fontSize = 7.5
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -4
        chart.categoryAxis.reverseDirection = 1
        chart.categoryAxis.strokeColor = axis_grey
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax = max([v for s in chart.data for v in s] + [10]) * 1.18
        chart.valueAxis.labels.fontName = "Helvetica"
        chart.valueAxis.labels.fontSize = 6.5
        chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
        chart.valueAxis.strokeColor = axis_grey
        chart.valueAxis.visibleGrid = 1
        chart.valueAxis.gridStrokeColor = colors.HexColor("#E3E8EE")
        chart.valueAxis.gridStrokeWidth = 0.4
        chart.groupSpacing = 6
        chart.barSpacing = 1
        for j, i in enumerate(order):
            chart.bars[j].fillColor = palette[i]
            chart.bars[j].strokeColor = None
        d.add(chart)
        x = chart.x
        for name, color in zip(names if len(series) > 1 else (), palette):
            d.add(Rect(x, 2, 8, 8, fillColor=color, strokeColor=None))
            d.add(String(x + 11, 3, name, fontName="Helvetica", fontSize=7.5, fillColor=colors.black))
            x += 25 + len(name) * 4.1
        return d

    county = fig["county"].title() if fig["county"] else "County"
    profile = fig["profile"]
    profile_title = profile.get("title") or profile.get("id") or "not recorded"
    people, everything, total = fig["people"], fig["dismiss_everything"], fig["total"]
    by_outcome = fig["by_outcome"]
    story: list = []

    # --- page 1: the headline figures
    story += [
        p(f"{county.upper()} COUNTY", kicker),
        p("Cannabis Conviction Relief: Impact Report", h1),
        p(f"Proposition 64 relief under Health and Safety Code sections 11361.8 and 11361.9. Evaluation date "
          f"{_fmt_date(fig['as_of'])}. Policy: {profile_title}.", body),
        Spacer(1, 10),
    ]
    tiles = [(total, "cannabis convictions screened"),
             (people.get("with_conviction"), "people with a cannabis conviction"),
             (people.get("with_relief"), "people receiving some relief"),
             (people.get("no_conviction_left"), "people left with no conviction")]
    story.append(Table([[[p(pub(n), tile_num), p(label, tile_label)] for n, label in tiles]],
                       colWidths=[width / 4] * 4, hAlign="LEFT", style=[
                           ("BACKGROUND", (0, 0), (-1, -1), pale),
                           ("LINEABOVE", (0, 0), (-1, 0), 2, accent),
                           ("LINEAFTER", (0, 0), (-2, 0), 3, colors.white),
                           ("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 8),
                           ("TOPPADDING", (0, 0), (-1, -1), 7),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))

    story.append(p("Outcome of every conviction screened", h2))
    outcome_rows = [["Outcome", "Convictions", "Share"]]
    outcome_rows += [[OUTCOME_LABELS[o], pub(by_outcome.get(o, 0)), share(by_outcome.get(o, 0), total)] for o in OUTCOMES]
    outcome_rows.append(["Total", pub(total), ""])
    story.append(side_by_side(
        [table(outcome_rows, [1.55 * inch, 0.85 * inch, 0.6 * inch], bold_last=True), *note_if_suppressed(outcome_rows)],
        bar_chart("Convictions by outcome", [OUTCOME_LABELS[o] for o in OUTCOMES],
                  [[by_outcome.get(o, 0) for o in OUTCOMES]], ["Convictions"], 3.4 * inch, 1.65 * inch, [navy]),
        [3.25 * inch, width - 3.25 * inch]))

    story.append(p("What relief means for people", h2))
    story.append(p("A person is counted once however many convictions they have, and their whole record is "
                   "considered. The comparison shows the same figures if every cannabis conviction screened "
                   "were dismissed.", small))
    story.append(Spacer(1, 4))
    people_rows = [["Measure", "This policy", "Dismiss everything", "Difference"],
                   ["People with a cannabis conviction", pub(people.get("with_conviction")),
                    pub(everything.get("with_conviction")), ""]]
    for key, label in PEOPLE_MEASURES:
        a, b = _shown(people.get(key)), _shown(everything.get(key))
        diff = "" if a is None or b is None else (f"{b - a:+,}" if b - a == 0 or abs(b - a) >= SUPPRESS_BELOW else SUPPRESSED)
        people_rows.append([label, pub(people.get(key)), pub(everything.get(key)), diff])
    story.append(table(people_rows, [3.1 * inch, 1.1 * inch, 1.35 * inch, 1.1 * inch]))
    story += note_if_suppressed(people_rows)
    story.append(Spacer(1, 8))
    story.append(bar_chart(
        "People: this policy compared with dismissing everything",
        ["With some relief", "Left with no felony", "Left with no conviction", "None in the last 7 years"],
        [[people.get(k) for k, _ in PEOPLE_MEASURES], [everything.get(k) for k, _ in PEOPLE_MEASURES]],
        ["This policy", "Dismiss everything"], width, 2.1 * inch, [navy, light]))

    # --- the data and the policy
    story.append(CondPageBreak(3 * inch))
    story.append(p("The data", h2))
    n_files = len(fig["inputs"])
    story.append(p(
        f"Criminal-history records of every person with a cannabis conviction in {county} County "
        f"({n_files} input file{'s' if n_files != 1 else ''}), screened as of {_fmt_date(fig['as_of'])}. "
        f"Convictions screened are dated from {_fmt_date(fig['first_conviction'])} to "
        f"{_fmt_date(fig['last_conviction'])}. {fig['lines_read']:,} lines read, {fig['rows_imported']:,} record "
        f"rows imported, {fig['lines_rejected']:,} malformed lines set aside.", body))
    story.append(Spacer(1, 4))
    file_rows = [["Input file", "Lines read", "Rows imported", "Lines rejected"]]
    for f in fig["inputs"]:
        file_rows.append([str(f.get("file", "")), *(f"{_as_int(f.get(k)):,}" if _as_int(f.get(k)) is not None else ""
                                                     for k in ("lines_read", "rows_imported", "lines_rejected"))])
    story.append(table(file_rows, [3.1 * inch, 1.1 * inch, 1.1 * inch, 1.1 * inch]))

    sections = sorted(fig["by_section"].items(), key=lambda kv: (_is_unknown(kv[0]), kv[0]))
    section_label = {k: "Unknown" if _is_unknown(k) else k for k, _ in sections}
    section_rows = [["Code section", "Convictions"]] + [[section_label[k], pub(v)] for k, v in sections]
    levels = sorted(fig["by_level"].items(), key=lambda kv: ("FMI".find(kv[0]) if kv[0] in ("F", "M", "I") else 9, kv[0]))
    level_rows = [["Level", "Convictions"]] + [
        [LEVEL_LABELS.get(k) or ("Unknown" if _is_unknown(k) else k), pub(v)] for k, v in levels]
    right = [table(level_rows, [1.3 * inch, 0.9 * inch])]
    if sections:
        right += [Spacer(1, 10), bar_chart("Convictions by code section", [section_label[k] for k, _ in sections],
                                           [[v for _, v in sections]], ["Convictions"], width - 2.75 * inch,
                                           max(1.2, 0.35 + 0.2 * len(sections)) * inch, [accent])]
    story.append(KeepTogether([
        p("Convictions by code section and level", h2),
        side_by_side(table(section_rows, [1.6 * inch, 0.9 * inch]), right, [2.75 * inch, width - 2.75 * inch]),
        *note_if_suppressed(section_rows, level_rows)]))

    story.append(p("The policy applied", h2))
    story.append(p(f"Profile: {profile_title}" + (f" ({profile['id']})" if profile.get("id") else "")
                   + ". Rules are applied in order to each conviction; the first that matches decides.", body))
    if fig["rules"]:
        story.append(ListFlowable([ListItem(p(r, small), leftIndent=14) for r in fig["rules"]], bulletType="1",
                                  bulletFontSize=8, leftIndent=16))

    # --- who is affected
    intro = [p("Who is affected", h2),
             p("People with a cannabis conviction screened, their convictions, and what relief means for them, "
               "by group.", small)]
    for dim, title in BREAKDOWNS:
        groups = fig["groups"].get(dim) or {}
        if not groups:
            continue
        order = _group_order(dim, groups)
        metrics = [(k, label) for k, label in BREAKDOWN_METRICS if any(k in v for v in groups.values())]
        if any(k == "with_relief" for k, _ in metrics):
            metrics = [m for m in metrics if m[0] != "convictions_relieved"]
            rate = ("with_relief", "people", "Relief rate (people)")
        else:
            rate = ("convictions_relieved", "convictions", "Share relieved")
        rows = [[title] + [label for _, label in metrics] + [rate[2]]]
        for g in order:
            v = groups[g]
            rows.append([_group_label(dim, g), *(pub(v.get(k)) for k, _ in metrics), share(v.get(rate[0]), v.get(rate[1]))])
        n_num = len(rows[0]) - 1
        label_w = min(2.0 * inch, width - n_num * 0.8 * inch)
        t = table([[p(rows[0][0], ParagraphStyle("hl", parent=head_cell, alignment=0))]
                   + [p(h, head_cell) for h in rows[0][1:]]] + rows[1:],
                  [label_w] + [(width - label_w) / n_num] * n_num)
        story.append(KeepTogether([*intro, p(f"By {title[0].lower() + title[1:]}", h3), t, *note_if_suppressed(rows)]))
        intro = []
        if dim == "race":
            shown = [g for g in order if _shown(groups[g].get("people")) is not None and not _is_unknown(g)]
            if shown and any("with_relief" in groups[g] for g in shown):
                story += [Spacer(1, 8), bar_chart(
                    "People and people with some relief, by race / ethnicity", [_group_label(dim, g) for g in shown],
                    [[groups[g].get("people") for g in shown], [groups[g].get("with_relief") for g in shown]],
                    ["People", "People with some relief"], width, max(1.5, 0.45 + 0.3 * len(shown)) * inch,
                    [navy, accent])]

    notes = [
        "Counts from 1 to 10 are shown as \u201c<11\u201d to protect the privacy of the people concerned, and "
        "charts draw no bar for them; rates are given only where both counts are shown.",
        "People figures look at each person's whole record. A person can appear in more than one decade of "
        "conviction. \u201cAttorney review\u201d convictions await a prosecutor's decision and may still "
        "receive relief.",
    ]
    if fig.get("publishable_note"):
        notes.append(f"Suppression rule recorded with the run: {fig['publishable_note']}.")
    run_line = f"Screening run: {summary.get('tool') or 'clearrec'} {summary.get('version') or ''}".rstrip()
    head = audit_head or summary.get("audit_head")
    if head:
        run_line += f"; audit chain head {head}"
    story.append(Spacer(1, 10))
    story.append(KeepTogether([p("About these figures", h3), *(p(n, small) for n in notes), Spacer(1, 3),
                               p(run_line + ".", small)]))

    footer = f"{county} County \u00b7 Cannabis conviction relief impact report \u00b7 evaluation date {_fmt_date(fig['as_of'])}"

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setStrokeColor(rule_grey)
        canvas.setLineWidth(0.5)
        canvas.line(doc.leftMargin, 0.6 * inch, LETTER[0] - doc.rightMargin, 0.6 * inch)
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(text_grey)
        canvas.drawString(doc.leftMargin, 0.45 * inch, footer)
        canvas.drawRightString(LETTER[0] - doc.rightMargin, 0.45 * inch, f"Page {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=LETTER, leftMargin=0.8 * inch, rightMargin=0.8 * inch, topMargin=0.7 * inch,
        bottomMargin=0.85 * inch, title=f"{county} County cannabis conviction relief impact report",
        author=f"{county} County", subject="Proposition 64 relief (HS 11361.8, 11361.9)", creator="ClearRec",
        invariant=1,  # same run, same bytes: no creation time or random document id
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


def write_impact_report(summary: dict, results: pl.DataFrame, path: str | Path, *,
                        audit_head: str | None = None, rules: Sequence[str] | None = None) -> Path:
    out = _output_path(path, "impact report")
    out.write_bytes(build_impact_report(summary, results, audit_head=audit_head, rules=rules))
    return out


# --------------------------------------------------------------------------------------------
# from a screening output directory (the `clearrec export` command)


def export_from_dir(
    screen_out_dir: str | Path,
    *,
    xlsx: str | Path | None = None,
    doj_results: str | Path | None = None,
    impact_report: str | Path | None = None,
    inputs: Sequence[str | Path] | None = None,
    decisions: pl.DataFrame | None = None,
    audit_head: str | None = None,
    rules: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel=None,
) -> list[Path]:
    """Export a screening output directory (results.csv + summary.json) to the requested
    files; returns the paths written. ``inputs`` locates the DOJ extracts for the DOJ layout."""
    if not (xlsx or doj_results or impact_report):
        raise InputError("nothing to export: give --xlsx, --doj-results or --impact-report")
    from .pipeline import read_screen_output

    d = local_path(screen_out_dir, what="folder")
    results, summary = read_screen_output(d)
    written = []
    if xlsx:
        written.append(write_workbook(results, summary, xlsx, decisions=decisions, audit_head=audit_head,
                                      progress=progress, cancel=cancel))
    if doj_results:
        written.append(export_doj_results_from_dir(d, doj_results, inputs=inputs, decisions=decisions,
                                                    progress=progress, cancel=cancel))
    if impact_report:
        written.append(write_impact_report(summary, results, impact_report, audit_head=audit_head, rules=rules))
    return written
