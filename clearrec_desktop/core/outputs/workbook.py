"""The Excel review workbook of a screening run (Summary sheet + one sheet per outcome)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator, Sequence
from xml.sax.saxutils import escape as _xml_escape

import polars as pl
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from ..errors import InputError
from .common import (
    _CHUNK_ROWS,
    _DATE_FORMAT,
    _DATETIME_FORMAT,
    _EXCEL_CELL_CHARS,
    _EXCEL_EPOCH,
    _FIRST_SAFE_DATE,
    _ILLEGAL_XML,
    _ILLEGAL_XML_PY,
    DATE_COLUMNS,
    EXCEL_MAX_ROWS,
    INT_COLUMNS,
    OUTCOMES,
    Progress,
    _check_cancel,
    _drop_ssn,
    _output_path,
    _tick,
    _with_decisions,
)
from .impact_report import BREAKDOWN_METRICS

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
