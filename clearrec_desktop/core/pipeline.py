"""Import and screen in one call, and the output directory of `clearrec screen`.

The GUI runs ``run_screen`` on a worker thread; ``progress(fraction, message)`` is called from
that thread and ``cancel`` (a threading.Event) is checked between stages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from .. import __version__
from .errors import Cancelled, InputError
from .ingest import importer
from .ingest.normalise import normalise_county
from .ingest.report import ImportReport, note_formula_like
from .screen import profiles, screening, summary

log = logging.getLogger(__name__)


@dataclass
class ScreenRun:
    rows: pl.DataFrame
    results: pl.DataFrame
    report: ImportReport
    summary: dict
    profile: profiles.Profile
    county: str
    as_of: date


def _noop(fraction: float, message: str) -> None:
    pass


def check_county(county: str, report: ImportReport) -> str:
    key = normalise_county(county or "")
    present = {c for c in report.rows_by_county if c}
    if not report.rows:
        names = ", ".join(f.file for f in report.files) or "the file"
        if report.rejected:
            raise InputError(f"{names}: no record could be read: every line was rejected ({len(report.rejected):,}); "
                             "see the import report for the line numbers and reasons")
        raise InputError(f"{names}: holds a header line and no records; export the data again (the export may "
                         "have been cut off, or filtered down to nothing)")
    if not key:
        raise InputError("choose a county (--county); counties in the data: " + ", ".join(sorted(present)))
    if key not in present:
        listed = ", ".join(f"{c} ({report.counties.get(c, 0):,} convictions)" for c in sorted(present)) or "none"
        raise InputError(f"county {county!r} is not in the data; counties present: {listed}")
    return key


def import_only(files, *, mapping=None, progress=_noop, cancel=None):
    return importer.import_files(files, mapping=mapping, cancel=cancel, progress=progress)


def screen_rows(rows: pl.DataFrame, report: ImportReport, *, county: str, as_of: date,
                profile: profiles.Profile, progress=_noop, cancel=None) -> ScreenRun:
    """Screen already imported rows (the GUI re-screens with another profile or date this way)."""
    key = check_county(county, report)
    progress(0.6, "Screening convictions")
    results = screening.screen(rows, county=key, as_of=as_of, profile=profile, cancel=cancel)
    note_formula_like(results, report)
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    progress(0.9, "Summarising")
    inputs = [{"file": f.file, "path": f.path, "sha256": f.sha256, "size": f.size, "lines_read": f.lines_read,
               "rows_imported": f.rows_imported, "lines_rejected": len(f.rejected)} for f in report.files]
    summ = summary.summarise(rows, results, county=key, as_of=as_of, profile=profile, inputs=inputs, version=__version__)
    progress(1.0, "Done")
    return ScreenRun(rows=rows, results=results, report=report, summary=summ, profile=profile, county=key, as_of=as_of)


def run_screen(files, *, county: str, as_of: date, profile: profiles.Profile | None = None, mapping=None,
               progress=_noop, cancel=None) -> ScreenRun:
    profile = profile or profiles.load_profile()
    progress(0.0, "Importing")
    rows, report = importer.import_files(files, mapping=mapping, cancel=cancel,
                                         progress=lambda f, m: progress(f * 0.55, m))
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    log.info("imported %d rows from %d file(s), %d lines rejected", rows.height, len(report.files), len(report.rejected))
    return screen_rows(rows, report, county=county, as_of=as_of, profile=profile, progress=progress, cancel=cancel)


def write_outputs(run: ScreenRun, out_dir: Path) -> dict[str, Path]:
    """The output folder of `clearrec screen` (see outputs/run_folder.py)."""
    from .outputs.run_folder import write_run_folder

    return write_run_folder(run.results, run.report, run.summary, out_dir)
