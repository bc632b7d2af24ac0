"""Recognise ClearRec's own output files, so importing one says what it is instead of
treating it as a county file to map (issue 19.6)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..safety import local_path

_OUTCOME_SHEETS = {"dismiss", "reduce", "review", "ineligible"}
_RESULT_COLUMNS = {"conviction_id", "outcome", "reasons"}


def _xlsx_sheet_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            text = z.read("xl/workbook.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return []
    return re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', text)


def _first_line(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.readline(64 * 1024).decode("utf-8-sig", "replace")
    except OSError:
        return ""


def describe(path) -> str | None:
    """A sentence saying which ClearRec output ``path`` is and what to import instead, or None
    when it is not one of ClearRec's own files."""
    path = local_path(path, what="file")
    suffix = path.suffix.lower()
    what = None
    if suffix in (".xlsx", ".xlsm"):
        names = _xlsx_sheet_names(path)
        base = {re.sub(r" \(\d+\)$", "", n).lower() for n in names}
        if names and names[0] == "Summary" and base & _OUTCOME_SHEETS:
            what = "ClearRec's review workbook (the results of a screening run, one sheet per outcome)"
    elif suffix in (".csv", ".txt"):
        header = {h.strip().strip('"') for h in _first_line(path).split(",")}
        if _RESULT_COLUMNS <= header:
            what = "a results file written by ClearRec (one row per screened conviction)"
    if what is None:
        return None
    return (f"{path.name} is {what}, not an extract. Import the DOJ extract or the county case export "
            "the results were made from; to see these results, open the workspace that made them.")
