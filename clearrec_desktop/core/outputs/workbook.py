"""The Excel review workbook of a screening run (Summary sheet + one sheet per outcome)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator, Sequence

import polars as pl

from ..errors import InputError
from .common import (
    _CHUNK_ROWS,
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
from .xlsx_package import CELL_CHARS, EXCEL_EPOCH, FIRST_SAFE_DATE, Sheet, Style, column_letter, row_xml, text_cell, write_package

# Characters XML 1.0 cannot hold (Excel calls the file corrupt), as a polars regex.
_ILLEGAL_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"

# The rows of the outcome sheets are rendered to sheet XML by polars expressions, a chunk of rows
# at a time (a Python object per cell would cost minutes for a million results); xlsx_package.py
# writes the parts around them. The rendering writes only inline strings (<is><t>), numbers and
# booleans (<v>): never a formula element, so text such as =HYPERLINK(...) can only ever be text.


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
            exprs.append(col.str.replace_all(_ILLEGAL_XML, "").str.slice(0, CELL_CHARS).alias(name))
    return frame.select(exprs)


def _cell_xml(name: str, kind: str, letter: str, rownum: pl.Expr) -> pl.Expr:
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
        serial = (d - pl.lit(EXCEL_EPOCH)).dt.total_days()
        as_text = col.dt.to_string("%Y-%m-%d") if kind == "date" else col
        return (pl.when(d.is_not_null() & (d >= pl.lit(FIRST_SAFE_DATE))).then(number(serial, Style.DATE))
                .when(as_text.is_null() | (as_text == "")).then(empty).otherwise(text(as_text)))
    if kind == "datetime":
        serial = (col - pl.lit(datetime(1899, 12, 30))).dt.total_microseconds().cast(pl.Float64) / 86_400_000_000
        return (pl.when(col.is_not_null() & (col >= pl.lit(datetime(1900, 3, 1)))).then(number(serial, Style.DATETIME))
                .when(col.is_null()).then(empty).otherwise(text(col.dt.to_string("%Y-%m-%d %H:%M:%S"))))
    raise AssertionError(kind)


def _header_xml(columns: Sequence[str]) -> bytes:
    cells = "".join(text_cell(f"{column_letter(i)}1", c, Style.HEADER) for i, c in enumerate(columns, 1))
    return f'<row r="1">{cells}</row>'.encode()


def _render_rows(frame: pl.DataFrame, first_row: int) -> bytes:
    """Sheet XML <row> elements for ``frame``, the first one numbered ``first_row``."""
    rownum = pl.int_range(first_row, first_row + pl.len()).cast(pl.String)
    cells = [
        _cell_xml(name, _column_kind(name, dtype), column_letter(i), rownum)
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


def _summary_rows(summary: dict, audit_head: str | None, decisions_view: pl.DataFrame | None,
                  sheets: list[tuple[str, int]], filing_progress: dict | None = None) -> list[str]:
    """The Summary sheet as <row> elements (label, values...)."""
    rows: list[str] = []

    def add(*values, font=None, header=False):
        rows.append(row_xml(len(rows) + 1, values, Style.HEADER if header else font))

    def blank():
        rows.append(f'<row r="{len(rows) + 1}"/>')

    def as_date(text):
        try:
            return date.fromisoformat(str(text))
        except (TypeError, ValueError):
            return text

    def num(v):
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else (None if v is None else str(v))

    profile = summary.get("profile") or {}
    add("ClearRec screening summary", font=Style.TITLE)
    add("Internal working file: holds personal data and unsuppressed counts. Publish the impact report instead.",
        font=Style.NOTE)
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
    add("Input files", font=Style.SECTION)
    add("File", "SHA-256", "Lines read", "Rows imported", "Lines rejected", header=True)
    for f in inputs:
        add(f.get("file"), f.get("sha256"), num(f.get("lines_read")), num(f.get("rows_imported")),
            num(f.get("lines_rejected")))

    conv = summary.get("convictions") or {}
    blank()
    add("Convictions screened", font=Style.SECTION)
    add("Total", num(conv.get("total")), font=Style.BOLD)
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
        add("People", font=Style.SECTION)
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
        add(f"By {title.lower()} (not suppressed)", font=Style.SECTION)
        add(title, *(label for _, label in metrics), header=True)
        for g, v in groups.items():
            add(g if g != "" else "(blank)", *(num((v or {}).get(k)) for k, _ in metrics))

    if decisions_view is not None and "decision" in decisions_view.columns:
        counts = decisions_view.group_by("decision").len().sort("decision", nulls_last=True)
        blank()
        add("Attorney decisions", font=Style.SECTION)
        add("Decision", "Convictions", header=True)
        for d, n in counts.iter_rows():
            add(d if d is not None else "(none yet)", int(n))

    if filing_progress:
        from ..workspace.filings import RULING_LABELS, STATUS_LABELS, STATUSES

        blank()
        add("Progress after filing (not suppressed)", font=Style.SECTION)
        add("Status", "Convictions", header=True)
        for st in STATUSES:
            add(STATUS_LABELS[st], num((filing_progress.get("by_status") or {}).get(st, 0)))
        blank()
        add("Court ruling", "Convictions", header=True)
        for r, n in (filing_progress.get("rulings") or {}).items():
            add(RULING_LABELS.get(r, r), num(n))
        for key, first in (("by_courthouse", "Courthouse"), ("by_month", "Month the step was reached")):
            groups = filing_progress.get(key) or {}
            if groups:
                blank()
                add(first, *(STATUS_LABELS[st] for st in STATUSES), header=True)
                for g in sorted(groups):
                    add(g, *(num((groups[g] or {}).get(st, 0)) for st in STATUSES))

    blank()
    add("Sheets", font=Style.SECTION)
    add("Sheet", "Rows", header=True)
    for name, n in sheets:
        add(name, n)
    add("Text beginning with = + - @ is stored as text, never as a formula. No SSN is exported.", font=Style.NOTE)
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
    filing_progress: dict | None = None,
) -> Path:
    """Write the review workbook: a Summary sheet, then one sheet per outcome in results order
    ("dismiss", "reduce", "review", "ineligible"; "dismiss (2)"... past ``max_rows_per_sheet``
    rows, header included). Decision columns are added when ``decisions`` is given (its
    latest row per conviction_id). ``filing_progress`` (``Workspace.progress_figures()``) adds
    the progress after filing to the Summary sheet. Returns the path written."""
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

    sheets: list[Sheet] = []
    listed: list[tuple[str, int]] = []
    total = max(view.height, 1)
    done = [0]

    def body(outcome: str, offset: int, length: int, sheet: str) -> Callable[[], Iterator[bytes]]:
        # A sheet's rows are selected only when it is written (one sheet's copy at a time) and
        # rendered a chunk at a time.
        def gen() -> Iterator[bytes]:
            part = view.lazy().filter(pl.col("outcome") == outcome).slice(offset, length).collect()
            yield _header_xml(part.columns)
            for start in range(0, part.height, _CHUNK_ROWS):
                _check_cancel(cancel)
                chunk = _xlsx_frame(part.slice(start, _CHUNK_ROWS))
                yield _render_rows(chunk, start + 2)
                done[0] += chunk.height
                _tick(progress, 0.02 + 0.9 * done[0] / total, f"Writing sheet {sheet}")
        return gen

    counts = {o: int(n) for o, n in view.group_by("outcome").len().iter_rows()}
    widths = _column_widths(view)
    for outcome in OUTCOMES:
        n = counts.get(outcome, 0)
        for i in range(max(1, -(-n // per_sheet))):
            name = outcome if i == 0 else f"{outcome} ({i + 1})"
            rows = min(per_sheet, n - i * per_sheet)
            sheets.append(Sheet(name, body(outcome, i * per_sheet, rows, name), last_row=rows + 1,
                                n_columns=len(view.columns), widths=widths.get(outcome) or widths[None],
                                freeze_header=True, autofilter=True))
            listed.append((name, rows))

    decisions_view = view if decisions is not None else None
    summary_rows = _summary_rows(summary, audit_head, decisions_view, listed, filing_progress)
    sheets.insert(0, Sheet("Summary", lambda: iter(["".join(summary_rows).encode("utf-8")]),
                           last_row=len(summary_rows), n_columns=7, widths=[34, 24, 18, 18, 18, 18, 18]))
    data = write_package(sheets)
    _check_cancel(cancel)
    _tick(progress, 0.97, "Saving the workbook")
    out.write_bytes(data)
    _tick(progress, 1.0, "Workbook saved")
    return out