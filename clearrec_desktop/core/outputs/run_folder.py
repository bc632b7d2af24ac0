"""The output folder of `clearrec screen`: results.csv, rejected.csv, summary.json, import report.

Documents and exports read a run back from here (``read_screen_output``).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import polars as pl

from ..errors import InputError
from ..ingest.report import report_json
from ..safety import local_path


def results_for_csv(results: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text so every spreadsheet and script reads them the same way."""
    return results.with_columns([pl.col(c).dt.to_string("%Y-%m-%d") for c, t in results.schema.items() if t == pl.Date])


def write_run_folder(results: pl.DataFrame, report, summary: dict, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "results": out_dir / "results.csv",
        "rejected": out_dir / "rejected.csv",
        "summary": out_dir / "summary.json",
        "report": out_dir / "import-report.txt",
        "report_json": out_dir / "import-report.json",
    }
    results_for_csv(results).write_csv(paths["results"])
    with open(paths["rejected"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source_file", "source_line", "reason"])
        for r in report.rejected:
            w.writerow([r["file"], r["line"], r["reason"]])
    paths["summary"].write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    paths["report"].write_text(report.to_text(), encoding="utf-8")
    paths["report_json"].write_text(report_json(report), encoding="utf-8")
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
