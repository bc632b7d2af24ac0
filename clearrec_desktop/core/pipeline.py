"""Import and screen in one call, and the output directory of `clearrec screen`.

The GUI runs ``run_screen`` on a worker thread; ``progress(fraction, message)`` is called from
that thread and ``cancel`` (a threading.Event) is checked between stages.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from .. import __version__
from . import importer, profiles, screening, summary
from .errors import Cancelled, InputError
from .normalise import normalise_county
from .safety import local_path

log = logging.getLogger(__name__)


@dataclass
class ScreenRun:
    rows: pl.DataFrame
    results: pl.DataFrame
    report: importer.ImportReport
    summary: dict
    profile: profiles.Profile
    county: str
    as_of: date


def _noop(fraction: float, message: str) -> None:
    pass


def check_county(county: str, report: importer.ImportReport) -> str:
    key = normalise_county(county or "")
    present = {c for c in report.rows_by_county if c}
    if not key:
        raise InputError("choose a county (--county); counties in the data: " + ", ".join(sorted(present)))
    if key not in present:
        listed = ", ".join(f"{c} ({report.counties.get(c, 0):,} convictions)" for c in sorted(present)) or "none"
        raise InputError(f"county {county!r} is not in the data; counties present: {listed}")
    return key


def import_only(files, *, mapping=None, progress=_noop, cancel=None):
    return importer.import_files(files, mapping=mapping, cancel=cancel, progress=progress)


def screen_rows(rows: pl.DataFrame, report: importer.ImportReport, *, county: str, as_of: date,
                profile: profiles.Profile, progress=_noop, cancel=None) -> ScreenRun:
    """Screen already imported rows (the GUI re-screens with another profile or date this way)."""
    key = check_county(county, report)
    progress(0.6, "Screening convictions")
    results = screening.screen(rows, county=key, as_of=as_of, profile=profile, cancel=cancel)
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


def results_for_csv(results: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text so every spreadsheet and script reads them the same way."""
    return results.with_columns([pl.col(c).dt.to_string("%Y-%m-%d") for c, t in results.schema.items() if t == pl.Date])


def write_outputs(run: ScreenRun, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "results": out_dir / "results.csv",
        "rejected": out_dir / "rejected.csv",
        "summary": out_dir / "summary.json",
        "report": out_dir / "import-report.txt",
        "report_json": out_dir / "import-report.json",
    }
    results_for_csv(run.results).write_csv(paths["results"])
    with open(paths["rejected"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source_file", "source_line", "reason"])
        for r in run.report.rejected:
            w.writerow([r["file"], r["line"], r["reason"]])
    paths["summary"].write_text(json.dumps(run.summary, indent=2, default=str), encoding="utf-8")
    paths["report"].write_text(run.report.to_text(), encoding="utf-8")
    paths["report_json"].write_text(importer.report_json(run.report), encoding="utf-8")
    return paths


def read_screen_output(out_dir) -> tuple[pl.DataFrame, dict]:
    """Read a `clearrec screen` output folder back: results.csv as text exactly as written
    (count keys and CII numbers keep their zeros) and summary.json. Documents and exports
    start here."""
    d = local_path(out_dir, what="folder")
    if not d.is_dir():
        raise InputError(f"{d}: not a folder; give the screening output folder")
    res_path, sum_path = d / "results.csv", d / "summary.json"
    for p in (res_path, sum_path):
        if not p.is_file():
            raise InputError(f"{d}: no {p.name}; give a folder written by `clearrec screen`")
    try:
        summ = json.loads(sum_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{sum_path.name}: cannot be read as a screening summary ({type(exc).__name__})") from None
    if not isinstance(summ, dict):
        raise InputError(f"{sum_path.name}: not a screening summary")
    missing = [k for k in ("county", "as_of", "profile", "inputs") if k not in summ]
    if missing:
        raise InputError(f"{sum_path.name}: not a screening summary (missing {', '.join(repr(k) for k in missing)})")
    try:
        date.fromisoformat(str(summ["as_of"]))
        results = pl.read_csv(res_path, infer_schema=False, glob=False)
    except ValueError:
        raise InputError(f"{sum_path.name}: as_of is not an ISO date") from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{res_path.name}: cannot be read as a results file ({type(exc).__name__})") from None
    return results, summ
