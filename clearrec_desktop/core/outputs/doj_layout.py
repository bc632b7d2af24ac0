"""Every imported row in the DOJ layout (95 columns) with the result columns appended."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import polars as pl

from ..errors import InputError
from ..ingest.doj import DOJ_COLUMNS, read_extract
from ..ingest.report import file_sha256
from ..safety import local_path
from .common import (
    _SSN_RE,
    DOJ_RESULT_COLUMNS,
    Progress,
    _check_cancel,
    _output_path,
    _tick,
    _with_decisions,
)
from .run_folder import read_screen_output

# --------------------------------------------------------------------------------------------
# DOJ-layout results


def _doj_columns() -> list[str]:
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
