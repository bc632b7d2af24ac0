"""The output folder of `clearrec screen`: results.csv, rejected.csv, summary.json, import report.

Written as one set: every file goes to a temporary name in the same folder, is flushed to disk,
and only then renamed into place, summary.json last. summary.json carries the SHA-256 and size
of every other file (``files``, the manifest), so a folder whose files do not belong together
(a disk that filled up mid-write, a crash between two renames, a file edited or replaced) is
refused by documents and exports (``read_screen_output``) instead of being trusted.

results.csv and rejected.csv are opened by people in spreadsheets: a text value that would run
as a formula gets a leading apostrophe (``common.neutralise_formulas``), which
``read_screen_output`` takes off again.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
from datetime import date
from pathlib import Path

import polars as pl

from ..errors import InputError
from ..ingest.report import report_json
from ..safety import local_path
from .common import neutralise_cell, neutralise_formulas, restore_formulas

MANIFEST = "files"
_NAMES = {"results": "results.csv", "rejected": "rejected.csv", "summary": "summary.json",
          "report": "import-report.txt", "report_json": "import-report.json"}


def results_for_csv(results: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text so every spreadsheet and script reads them the same way."""
    return results.with_columns([pl.col(c).dt.to_string("%Y-%m-%d") for c, t in results.schema.items() if t == pl.Date])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_run_folder(results: pl.DataFrame, report, summary: dict, out_dir: Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in _NAMES.items()}
    tag = secrets.token_hex(4)
    temps = {key: out_dir / f".{name}.{tag}.part" for key, name in _NAMES.items()}
    try:
        neutralise_formulas(results_for_csv(results)).write_csv(temps["results"])
        with open(temps["rejected"], "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["source_file", "source_line", "reason"])
            for r in report.rejected:
                w.writerow([neutralise_cell(str(r["file"])), r["line"], neutralise_cell(str(r["reason"]))])
        temps["report"].write_text(report.to_text(), encoding="utf-8")
        temps["report_json"].write_text(report_json(report), encoding="utf-8")
        manifest = {}
        for key in ("results", "rejected", "report", "report_json"):
            _fsync(temps[key])
            manifest[_NAMES[key]] = {"sha256": _sha256(temps[key]), "bytes": temps[key].stat().st_size}
        temps["summary"].write_text(json.dumps({**summary, MANIFEST: manifest}, indent=2, default=str),
                                    encoding="utf-8")
        _fsync(temps["summary"])
        # The data files first, the manifest last: a folder caught between two renames holds a
        # summary.json whose manifest does not match, and is refused.
        for key in ("results", "rejected", "report", "report_json", "summary"):
            os.replace(temps[key], paths[key])
        _fsync_dir(out_dir)
    except OSError as exc:
        for t in temps.values():
            t.unlink(missing_ok=True)
        reason = "the disk is full" if exc.errno == 28 else (exc.strerror or type(exc).__name__)
        raise InputError(f"{out_dir}: the screening output could not be written ({reason}); the files already in "
                         "the folder were left as they were") from None
    except BaseException:
        for t in temps.values():
            t.unlink(missing_ok=True)
        raise
    return paths


def check_manifest(d: Path, summ: dict) -> None:
    """Refuse a folder whose files are not the ones summary.json was written with. Folders
    written before manifests existed have none and are read as they are."""
    manifest = summ.get(MANIFEST)
    if manifest is None:
        return
    if not isinstance(manifest, dict) or "results.csv" not in manifest:
        raise InputError(f"{d}: summary.json's list of files is damaged; run `clearrec screen` again")
    for name, entry in manifest.items():
        path = d / Path(str(name)).name
        if not path.is_file():
            raise InputError(f"{d}: {path.name} is missing although summary.json lists it; run `clearrec screen` again")
        ok = isinstance(entry, dict) and path.stat().st_size == entry.get("bytes") and _sha256(path) == entry.get("sha256")
        if not ok:
            raise InputError(
                f"{d}: {path.name} is not the file summary.json was written with (cut short, changed, or left from "
                "another run, e.g. after the disk filled up); run `clearrec screen` again into this folder")


def read_screen_output(out_dir) -> tuple[pl.DataFrame, dict]:
    """Read a `clearrec screen` output folder back: results.csv as text exactly as written
    (count keys and CII numbers keep their zeros) and summary.json, after checking the files
    against summary.json's manifest. Documents and exports start here."""
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
    check_manifest(d, summ)
    try:
        date.fromisoformat(str(summ["as_of"]))
        results = pl.read_csv(res_path, infer_schema=False, glob=False)
    except ValueError:
        raise InputError(f"{sum_path.name}: as_of is not an ISO date") from None
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{res_path.name}: cannot be read as a results file ({type(exc).__name__})") from None
    return restore_formulas(results), summ
