"""Time and peak memory of the exports on synthetic data (figures printed, nothing asserted).

    .venv/bin/python benchmarks/exports.py              # 1,000,000 results
    .venv/bin/python benchmarks/exports.py --rows 100000
    .venv/bin/python benchmarks/exports.py --libraries --rows 100000   # the same sheet by openpyxl / XlsxWriter

``--libraries`` writes the results as one sheet three ways (this program's writer, openpyxl's
public write-only mode, XlsxWriter in memory), the comparison behind core/outputs/xlsx_package.py.

Each export runs in its own child process so its peak memory (ru_maxrss) is its own; the
figure includes building the synthetic frames, printed separately. Files go to a temporary
folder that is removed afterwards (synthetic data only).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clearrec_desktop.core.ingest.doj import DOJ_COLUMNS  # noqa: E402
from clearrec_desktop.core.outputs import doj_layout, workbook  # noqa: E402

OUTCOMES = ["dismiss", "reduce", "review", "ineligible"]
RELIEF = ["dismiss_and_seal", "reduce_to_misdemeanor", None, None]
SECTIONS = ["HS 11357(a)", "HS 11357(b)", "HS 11358", "HS 11359", "HS 11360(a)", "HS 11360(b)"]
RACES = ["HISPANIC", "BLACK", "WHITE", "ASIAN", "OTHER"]
REASONS = [
    "Possession of up to 28.5 g by a person 21 or older is now lawful: dismiss and seal. [HS 11361.8(e)-(f); HS 11362.1]",
    "Felony possession for sale is now a misdemeanor: redesignate. [HS 11361.8(e)-(f); HS 11359(b)]",
    "Convicted on or after 11/9/2016, when Prop 64 was already in force: likely sentenced under the new law. [HS 11361.8(a)]",
    "Misdemeanor possession for sale is already the new-law level: no statutory relief. [HS 11361.8; HS 11359(b)]",
]


def pick(values: list, idx: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(idx % len(values))


def synthetic_results(n: int) -> pl.DataFrame:
    """One row per screened count, typed like pipeline.run_screen's results (Date / Int columns)."""
    i = pl.int_range(0, n, dtype=pl.Int64)
    sid = (i // 2 + 2_000_000).cast(pl.String)
    key = pl.format("001{}001000", (i % 2 + 2).cast(pl.String).str.zfill(3))
    o = (i * 7919) % 4
    conv = pl.lit(date(1975, 1, 1)) + pl.duration(days=(i * 37) % 15_000)
    return pl.select(
        pl.format("{}/CR{}/{}", sid, i.cast(pl.String).str.zfill(7), key).alias("conviction_id"),
        pl.lit("extract.dat").alias("source_file"),
        (i * 3 + 2).alias("source_line"),
        sid.alias("subject_id"),
        pl.format("A{}", sid).alias("cii_number"),
        pl.format("SYNTHETIC{},PERSON {}", i % 9973, i % 17).alias("name"),
        (pl.lit(date(1940, 1, 1)) + pl.duration(days=(i * 13) % 20_000)).alias("dob"),
        pick(["M", "M", "F"], i).alias("gender"),
        pick(RACES, i // 2).alias("race"),
        pl.format("CR{}", i.cast(pl.String).str.zfill(7)).alias("court_case_number"),
        pl.lit("SACRAMENTO SUPERIOR COURT").alias("courthouse"),
        pl.lit("SACRAMENTO").alias("county"),
        conv.alias("conviction_date"),
        pl.lit("full").alias("conviction_date_quality"),
        (conv - pl.duration(days=14)).alias("cycle_date"),
        key.alias("count_key"),
        pl.lit(1, pl.Int32).alias("count"),
        pick(SECTIONS, i).alias("code_section"),
        pick(["11357(A) HS", "11357(B)HS", "11358 HS", "11359 HS", "11360(A) HS", "11360(B) HS"], i).alias("code_section_original"),
        pl.lit(None, pl.String).alias("qualifier"),
        pick(["F", "M", "F", "I"], i).alias("level"),
        (20 + i % 40).cast(pl.Int32).alias("age_at_offence"),
        (20 + i % 40).cast(pl.Int32).alias("age_at_conviction"),
        (conv + pl.duration(days=1095)).alias("sentence_end"),
        pick(OUTCOMES, o).alias("outcome"),
        pick(RELIEF, o).alias("relief"),
        pick(["application", "application", "petition"], i).alias("relief_track"),
        pick(REASONS, o).alias("reasons"),
        pick(["remedy", "after_prop64", "remedy"], o).alias("rules"),
        pl.lit("HS 11361.8(e)-(f)").alias("citations"),
        pl.format("extract.dat:{}", (i * 3 + 2).cast(pl.String)).alias("evidence"),
        pick(["", "age_near_21", "", "charge_from_comment"], i).alias("flags"),
    )


def synthetic_raw_rows(results: pl.DataFrame) -> pl.DataFrame:
    """Imported DOJ rows behind the results: per count two sentence-part rows and one arrest row
    (about 3 rows a count, as in real extracts), 95 text columns with the blanks real files have."""
    n = results.height
    base = results.select("subject_id", "count_key", "court_case_number", "name", "source_line")
    parts = []
    for k, (step, sent) in enumerate((("001", None), ("002", "JAIL"), ("002", "PROBATION"))):
        cnt = pl.col("count_key") if step == "002" else pl.col("count_key").str.replace(r"^(\d{3})\d{3}", "${1}001")
        parts.append(base.select(
            pl.col("subject_id"), cnt.alias("count_key"), pl.col("court_case_number"), pl.col("name"),
            (pl.col("source_line") + k).alias("source_line"), pl.lit(sent, pl.String).alias("SENT_LOC_DESCR")))
    rows = pl.concat(parts).sort("source_line")
    filled = {
        "RECORD_ID": pl.lit("x"), "SUBJECT_STATUS": pl.lit("x"), "SUBJECT_ID": pl.col("subject_id"),
        "REQ_SEG_SEP": pl.lit("#"), "PII_SEG_SEP": pl.lit("#"), "CII_NUMBER": pl.format("A{}", pl.col("subject_id")),
        "PRI_NAME": pl.col("name"), "GENDER": pl.lit("M"), "PRI_DOB": pl.lit("19610412"),
        "PRI_SSN": pl.lit("555123456"), "PDR_SEG_SEP": pl.lit("#"), "RACE_DESCR": pl.lit("HISPANIC"),
        "CYC_SEG_SEP": pl.lit("#"), "CYC_ORDER": pl.lit("001"), "CYC_DATE": pl.lit("19890303"),
        "STP_SEG_SEP": pl.lit("#"), "STP_ORDER": pl.col("count_key").str.slice(3, 3),
        "STP_EVENT_DATE": pl.lit("19890303"), "STP_TYPE_DESCR": pl.lit("COURT ACTION"),
        "STP_ORI_CODE": pl.lit("CASCSACRAMENTO"), "STP_ORI_CNTY_NAME": pl.lit("SACRAMENTO"),
        "CNT_SEG_SEP": pl.lit("#"), "CNT_ORDER": pl.col("count_key"), "DISP_DATE": pl.lit("19890303"),
        "OFN": pl.col("court_case_number"), "OFFENSE_DESCR": pl.lit("11359 HS-POSSESS MARIJUANA FOR SALE"),
        "OFFENSE_TOC": pl.lit("F"), "DISP_DESCR": pl.lit("CONVICTED-JAIL"), "CONV_STAT_DESCR": pl.lit("FELONY"),
        "SENT_SEG_SEP": pl.lit("#"), "SENT_LOC_DESCR": pl.col("SENT_LOC_DESCR"), "SENT_LENGTH": pl.lit("90"),
        "SENT_TIME_CODE": pl.lit("D"), "END_OF_REC": pl.lit("#"),
    }
    raw = rows.select(
        *((filled[c] if c in filled else pl.lit(None, pl.String)).cast(pl.String).alias(c) for c in DOJ_COLUMNS),
        pl.lit("extract.dat").alias("source_file"), "source_line", "subject_id", "count_key",
    )
    assert raw.height == 3 * n
    return raw


def child(kind: str, rows: int, folder: Path) -> None:
    t0 = time.perf_counter()
    results = synthetic_results(rows)
    summary = {"county": "SACRAMENTO", "as_of": "2026-11-01", "profile": {"id": "statutory", "title": "Statutory"},
               "inputs": [{"file": "extract.dat", "sha256": "0" * 64, "lines_read": rows * 3 + 1,
                           "rows_imported": rows * 3, "lines_rejected": 0}]}
    raw = synthetic_raw_rows(results) if kind == "doj" else None
    built = time.perf_counter() - t0
    rss_built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t1 = time.perf_counter()
    if kind == "xlsx":
        out = workbook.write_workbook(results, summary, folder / "bench.xlsx")
        what = f"Excel workbook, {rows:,} results"
    elif kind == "openpyxl":
        from openpyxl import Workbook

        out = folder / "bench-openpyxl.xlsx"
        wb = Workbook(write_only=True)  # public API; it spools the sheet to a temporary file
        ws = wb.create_sheet("results")
        ws.append(results.columns)
        for row in results.iter_rows():
            ws.append(list(row))
        wb.save(out)
        what = f"openpyxl write-only, one sheet of {rows:,} results"
    elif kind == "xlsxwriter":
        import io

        import xlsxwriter

        buf = io.BytesIO()
        wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                       "strings_to_numbers": False})
        ws = wb.add_worksheet("results")
        date_format = wb.add_format({"num_format": "mm/dd/yyyy"})
        ws.write_row(0, 0, results.columns)
        for r, row in enumerate(results.iter_rows(), 1):
            for c, v in enumerate(row):
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                elif isinstance(v, date):
                    ws.write_datetime(r, c, v, date_format)
                elif v is not None:
                    ws.write_number(r, c, v)
        wb.close()
        out = folder / "bench-xlsxwriter.xlsx"
        out.write_bytes(buf.getvalue())
        what = f"XlsxWriter in memory, one sheet of {rows:,} results"
    else:
        out = doj_layout.write_doj_results(raw, results, folder / "bench-doj.csv")
        what = f"DOJ layout, {raw.height:,} rows ({rows:,} results)"
    took = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{what}: {took:.1f} s to export, file {out.stat().st_size / 1e6:.0f} MB; "
          f"peak RSS {peak:,.0f} MB (synthetic frames built in {built:.1f} s, {rss_built:,.0f} MB at that point)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="results to export (default 1,000,000)")
    ap.add_argument("--libraries", action="store_true",
                    help="compare the workbook writer with openpyxl write-only and XlsxWriter (try --rows 100000)")
    ap.add_argument("--only", choices=["xlsx", "doj", "openpyxl", "xlsxwriter"], help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only:
        child(args.only, args.rows, args.folder)
        return
    with tempfile.TemporaryDirectory(prefix="clearrec-bench-") as tmp:
        for kind in (("xlsx", "openpyxl", "xlsxwriter") if args.libraries else ("xlsx", "doj")):
            subprocess.run([sys.executable, __file__, "--only", kind, "--rows", str(args.rows), "--folder", tmp],
                           check=True)


if __name__ == "__main__":
    main()
