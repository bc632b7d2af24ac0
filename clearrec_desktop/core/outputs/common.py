"""What every export shares: the results with decisions attached, output paths, progress and
cancel, no SSN ever; and the results CSV of the review view.

Everything here is built in memory and written only to the path the user chose: no temporary
files (openpyxl's own worksheet writer spools every sheet to a plaintext temp file, so the
workbook is saved through ``_MemoryExcelWriter`` below). No Qt and no network modules.

An SSN is never exported: results carry none, any column named like one is dropped, and the
DOJ layout keeps its two SSN columns (the layout must stay 95 columns) with blank values.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import polars as pl

from ..errors import Cancelled, InputError
from ..safety import local_path

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
# results CSV (the GUI's filtered view)

# A cell a spreadsheet would run as a formula (or DDE) when it opens a CSV by double-click.
_FORMULA_START = r"^[=+\-@\t\r]"
# Neutralised with a leading apostrophe; a value that already starts with apostrophes before
# such a character gets one more, so the change can be undone exactly (restore_formulas).
_NEUTRALISE = r"^'*[=+\-@\t\r]"
_NEUTRALISED = r"^'+[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (shown as
    text). For files meant for people (results.csv, rejected.csv, the review CSV); files meant
    for machines (the DOJ layout, the court update) keep values as read."""
    return frame.with_columns([
        pl.when(pl.col(c).str.contains(_NEUTRALISE)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in frame.schema.items() if t == pl.String
    ])


def restore_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """The inverse of neutralise_formulas (documents and exports read results.csv back)."""
    return frame.with_columns([
        pl.when(pl.col(c).str.contains(_NEUTRALISED)).then(pl.col(c).str.slice(1)).otherwise(pl.col(c)).alias(c)
        for c, t in frame.schema.items() if t == pl.String
    ])


def neutralise_cell(value: str) -> str:
    return "'" + value if isinstance(value, str) and re.match(_NEUTRALISE, value) else value


def write_results_csv(results_view: pl.DataFrame, path: str | Path, *, excel_safe: bool = True) -> Path:
    """The results view as shown (same rows, same columns, same order), as CSV; no SSN column.

    With ``excel_safe`` a text value starting with = + - @ (or a tab / carriage return) gets a
    leading apostrophe, so a spreadsheet opening the CSV shows it as text instead of running it
    as a formula (CSV cannot mark a cell as text otherwise).
    """
    out = _output_path(path, "CSV file")
    frame = _drop_ssn(results_view)
    if excel_safe:
        frame = neutralise_formulas(frame)
    try:
        frame.write_csv(out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out
