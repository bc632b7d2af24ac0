"""Import DOJ extracts and mapped county files into one normalised row frame.

Output schema (one row per input row; see docs/architecture.md): person, cycle, step and
count keys, the court event, the parsed offence, level, dates with their quality, sentence
part, and ``q_*`` columns marking each data-quality repair so it can be reported and flagged.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from . import doj
from .errors import Cancelled, InputError
from .normalise import (
    CANNABIS_SECTIONS, canonical_section, clean, comment_cannabis_section, comment_charge_text,
    county_expr, date_and_quality, level_expr, name_key, parse_offence,
)
from .safety import local_path

# Human wording of each data-quality warning counted in the import report.
WARNINGS = {
    "q_padded": "values padded with spaces (trimmed)",
    "q_null_placeholder": "NULL placeholders (read as blank)",
    "q_section_variant": "code section written in a non-standard way (normalised; original kept)",
    "q_qualifier": "attempt or conspiracy qualifier on the charge",
    "q_lookalike": "look-alike section that is not Prop 64 (e.g. 11357.5, 211360): not a candidate",
    "q_wrong_code": "cannabis section number under another code (e.g. 11360 PC): screened as review",
    "q_charge_from_comment": "charge taken from the comment text",
    "q_other_cannabis_in_comment": "comment names a different cannabis section: flagged for review",
    "q_date_partial": "partial conviction date (e.g. 19800000): decisions depending on it go to review",
    "q_date_unknown": "missing or unreadable conviction date: decisions depending on it go to review",
    "q_dob_unknown": "missing, partial or unreadable date of birth",
    "q_dob_after_conviction": "date of birth after the conviction date (impossible): sent to review",
    "q_level_from_toc": "conviction level blank; taken from the type of charge (OFFENSE_TOC)",
    "q_county_variant": "county name in another case or spacing (matched anyway)",
    "q_no_case_number": "conviction without a court case number",
    "q_possible_duplicate_person": "two DOJ subject ids with the same name and date of birth (never merged)",
}

# Files that would not fit in memory are refused up front rather than dying mid-import. Peak
# memory measured per byte of input (docs/security.md): a DOJ extract, read and screened, 2.7-3.4x
# (1M rows, 508 MiB -> 1.38-1.81 GB); a county CSV through a mapping 11.4x (600k rows, 85 MB -> 970 MB).
# A workbook (packed) about 30x (30k rows, 1.7 MB -> 50 MB), and never more than its grid allows
# (county_files.MAX_SHEET_CELLS). The import may plan on three quarters of the physical memory.
MEMORY_PER_FILE_BYTE = 3.5        # DOJ extracts
MEMORY_PER_CSV_BYTE = 12          # county CSV files
MEMORY_PER_WORKBOOK_BYTE = 40
MAX_WORKBOOK_MEMORY = 1536 * 1024**2
MEMORY_SHARE = 0.75


@dataclass
class FileReport:
    file: str
    kind: str                 # "doj" or "mapped"
    sha256: str
    size: int
    lines_read: int
    rows_imported: int
    has_header: bool
    blank_lines: int = 0
    rejected: list[dict] = field(default_factory=list)
    path: str = ""            # where it was read from (exports re-read the raw rows from it)
    notes: list[str] = field(default_factory=list)   # e.g. "read as Windows-1252", shown in the report


@dataclass
class ImportReport:
    files: list[FileReport]
    rows: int
    counties: dict[str, int]          # conviction counts per county present (court steps)
    rows_by_county: dict[str, int]    # every row per county
    warnings: dict[str, int]          # q_* id -> rows touched (only those > 0)

    @property
    def rejected(self) -> list[dict]:
        return [r for f in self.files for r in f.rejected]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warning_text"] = {k: WARNINGS[k] for k in self.warnings}
        return d

    def to_text(self) -> str:
        out = ["IMPORT REPORT", ""]
        for f in self.files:
            out.append(f"{f.file} ({f.kind}, sha256 {f.sha256[:16]}..., {f.size:,} bytes)")
            out.append(f"  lines read: {f.lines_read:,}  rows imported: {f.rows_imported:,}  "
                       f"lines rejected: {len(f.rejected):,}  blank lines: {f.blank_lines:,}  "
                       f"header: {'yes' if f.has_header else 'no'}")
            out += [f"  note: {n}" for n in f.notes]
        out += ["", "Convictions per county in the file:"]
        for c, n in sorted(self.counties.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  {c or '(blank)'}: {n:,}")
        out += ["", "Data-quality warnings (rows touched):"]
        if not self.warnings:
            out.append("  none")
        for k, n in self.warnings.items():
            out.append(f"  {n:>9,}  {WARNINGS[k]}")
        rej = self.rejected
        out += ["", f"Rejected lines: {len(rej):,}"]
        for r in rej[:1000]:
            out.append(f"  {r['file']} line {r['line']}: {r['reason']}")
        if len(rej) > 1000:
            out.append(f"  ... and {len(rej) - 1000:,} more (see rejected.csv)")
        return "\n".join(out) + "\n"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def physical_memory() -> int | None:
    """The computer's installed physical memory in bytes, or None when it cannot be measured."""
    try:
        if sys.platform == "win32":
            import ctypes

            class _MemoryStatusEx(ctypes.Structure):  # MEMORYSTATUSEX
                _fields_ = [("dwLength", ctypes.c_uint32), ("dwMemoryLoad", ctypes.c_uint32)] + [
                    (f, ctypes.c_ulonglong) for f in ("ullTotalPhys", "ullAvailPhys", "ullTotalPageFile",
                                                      "ullAvailPageFile", "ullTotalVirtual", "ullAvailVirtual",
                                                      "ullAvailExtendedVirtual")]

            status = _MemoryStatusEx()
            status.dwLength = ctypes.sizeof(status)
            if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
                return None
            return int(status.ullTotalPhys) or None
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")  # Linux and macOS
        return total if total > 0 else None
    except (AttributeError, OSError, ValueError):
        return None


def max_import_bytes() -> int | None:
    """The largest DOJ extract (all files together) this computer imports comfortably; None if unknown."""
    memory = physical_memory()
    return None if memory is None else int(memory * MEMORY_SHARE / MEMORY_PER_FILE_BYTE)


def _gb(n: float) -> str:
    return f"{n / 1024**3:.1f} GB"


def memory_needed(path: Path, size: int, mapping=None) -> int:
    """About how much memory importing this file takes at its peak (reads at most its first 64 KB)."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        return min(size * MEMORY_PER_WORKBOOK_BYTE, MAX_WORKBOOK_MEMORY)
    if mapping is not None and size and not is_doj_extract(path):
        return size * MEMORY_PER_CSV_BYTE
    return int(size * MEMORY_PER_FILE_BYTE)


def check_fits_in_memory(paths: list[Path], sizes: list[int], mapping=None) -> None:
    """Refuse up front, saying why, an input this computer's memory cannot hold while importing."""
    memory = physical_memory()
    if memory is None:
        return  # unknown: nothing is refused on a guess
    usable = memory * MEMORY_SHARE
    need = sum(memory_needed(p, n, mapping) for p, n in zip(paths, sizes))
    if need <= usable:
        return
    total = sum(sizes)
    what = f"{paths[0].name} ({_gb(total)})" if len(paths) == 1 else \
        f"{', '.join(p.name for p in paths[:3])}{' ...' if len(paths) > 3 else ''} ({len(paths)} files, {_gb(total)} together)"
    raise InputError(
        f"{what}: too large to import on this computer: importing it needs about {_gb(need)} of memory "
        f"and this computer has {_gb(memory)}; split the extract (by county or date range) into parts "
        f"under {_gb(total * usable / need)} and import them one at a time"
    )


def import_files(paths, *, mapping: Path | dict | None = None, cancel=None, progress=None) -> tuple[pl.DataFrame, ImportReport]:
    """Import every file; DOJ extracts are recognised by shape, other files need a mapping."""
    frames, reports = [], []
    paths = [local_path(p) for p in paths]
    if not paths:
        raise InputError("choose at least one file to import")
    sizes = [p.stat().st_size for p in paths]
    check_fits_in_memory(paths, sizes, mapping)  # before any file is read
    for i, (path, size) in enumerate(zip(paths, sizes)):
        if progress:
            progress(i / max(len(paths), 1) * 0.9, f"Reading {path.name}")
        if size == 0:
            raise InputError(f"{path.name}: the file is empty")
        try:
            frame, rep = _import_one(path, size, i, len(paths), mapping, cancel, progress)
        except MemoryError:
            raise InputError(f"{path.name}: this computer ran out of memory importing it ({_gb(size)}); "
                             "close other programs or split the extract") from None
        except OSError as exc:  # unreadable (permissions, a disk or share that went away)
            raise InputError(f"{path.name}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        rep.path = str(path)
        frames.append(frame)
        reports.append(rep)
    rows = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    rows = flag_duplicate_people(rows)
    return rows, build_report(rows, reports)


def _import_one(path: Path, size: int, i: int, n_files: int, mapping, cancel, progress):
    digest = file_sha256(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") or (mapping is not None and not is_doj_extract(path)):
        from . import county_files
        if mapping is None:
            raise InputError(f"{path.name}: not a DOJ extract; give a column mapping file (--mapping) to import a county file")
        frame, rep = county_files.import_mapped(path, mapping, cancel=cancel)
        rep.sha256, rep.size = digest, size
    else:
        res = doj.read_extract(path, columns=doj.USED_COLUMNS, cancel=cancel,
                               transform=lambda raw, n=path.name: normalise_doj(raw, n),
                               progress=progress and (lambda f, m: progress((i + f) / n_files * 0.9, m)))
        frame = res.frame
        rep = FileReport(
            file=path.name, kind="doj", sha256=digest, size=size, lines_read=res.lines_read,
            rows_imported=res.frame.height, has_header=res.has_header, blank_lines=res.blank_lines,
            rejected=[{"file": r.file, "line": r.line, "reason": r.reason} for r in res.rejected],
        )
    return frame, rep


def is_doj_extract(path: Path) -> bool:
    """Whether a file has the DOJ extract's shape (its header, or 95 fields on the first line)."""
    with open(path, "rb") as f:
        head = f.read(65536).decode("utf-8", "replace").lstrip("\ufeff")
    first = head.split("\n", 1)[0].rstrip("\r")
    return doj.looks_like_header(first) or first.count(",") in (94, 95)


def via_unique(df: pl.DataFrame, keys: list[str], exprs: list[pl.Expr]) -> pl.DataFrame:
    """Evaluate costly string expressions once per distinct key instead of once per row.

    Offence texts, dispositions and dates repeat heavily (a million rows hold a few hundred
    offence texts), so cleaning and parsing the distinct values and joining back is many times
    faster and needs far less memory. The expressions see the keys already trimmed and with
    NULL placeholders as nulls; the join uses the raw keys.
    """
    raw = df.select(keys).unique()
    work = raw.with_columns([clean(k) for k in keys if raw.schema[k] == pl.String]).with_columns(exprs)
    added = [c for c in work.columns if c not in keys]
    table = raw.with_columns(work.select(added).get_columns())
    looked_up = df.select(keys).join(table, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return df.with_columns(looked_up.select(added).get_columns())


# High-cardinality columns are trimmed row by row; everything else is cleaned per distinct value.
_ROW_CLEANED = ["SUBJECT_ID", "CII_NUMBER", "PRI_NAME", "CNT_ORDER", "OFN", "FE_NUM_CRT_CASE"]


def normalise_doj(raw: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Raw DOJ string columns -> the internal schema."""
    df = raw.with_columns([clean(c) for c in _ROW_CLEANED])
    if "q_padded" not in df.columns:
        df = df.with_columns(pl.lit(False).alias("q_padded"), pl.lit(False).alias("q_null_placeholder"))

    # The convicted charge: CONV_OFFENSE_DESCR when filled, else OFFENSE_DESCR, else the comment.
    descr = pl.coalesce(pl.col("CONV_OFFENSE_DESCR"), pl.col("OFFENSE_DESCR"))
    see_comment = descr.is_null() | descr.str.to_uppercase().str.contains("SEE COMMENT")
    comment_charge = comment_charge_text(pl.col("COMMENT_TEXT"))
    from_comment = (see_comment & comment_charge.str.contains(r"^\d{3,6}")).fill_null(False)
    offence_text = pl.when(from_comment).then(comment_charge).when(see_comment).then(None).otherwise(descr)
    qual_list = pl.concat_str([pl.col("CONV_OFFENSE_QUAL_LST"), pl.col("OFFENSE_QUAL_LST")], ignore_nulls=True).str.to_uppercase()
    df = via_unique(df, ["CONV_OFFENSE_DESCR", "OFFENSE_DESCR", "COMMENT_TEXT", "CONV_OFFENSE_QUAL_LST", "OFFENSE_QUAL_LST"], [
        offence_text.alias("offence_text"), from_comment.alias("q_charge_from_comment"),
        comment_cannabis_section(pl.col("COMMENT_TEXT")).alias("comment_cannabis_section"),
        pl.col("COMMENT_TEXT").alias("comment"),
        pl.when(qual_list.str.contains("ATT")).then(pl.lit("attempt"))
        .when(qual_list.str.contains("CONSP")).then(pl.lit("conspiracy")).alias("_qual_list"),
    ])
    cannabis_num = pl.col("section_num").is_in(CANNABIS_SECTIONS)
    base_num = pl.col("section_num").str.split(".").list.first()
    df = via_unique(df, ["offence_text"], [*parse_offence(pl.col("offence_text"), "_o")])
    df = via_unique(df, ["offence_text", "_onum", "_osub", "_ocode", "_oqual", "_qual_list"], [
        pl.coalesce(pl.col("_oqual"), pl.col("_qual_list")).alias("qualifier"),
        canonical_section(pl.col("_ocode"), pl.col("_onum"), pl.col("_osub")).alias("code_section"),
        # the number alone decides candidacy: 11357.5 and 211360 are different numbers
        pl.col("_onum").alias("section_num"),
        pl.col("_osub").alias("section_sub"),
        pl.when(pl.col("_ocode").is_null() & pl.col("_onum").is_in(CANNABIS_SECTIONS)).then(pl.lit("HS"))
        .otherwise(pl.col("_ocode")).alias("law_code"),
        # the text as found, for display and documents (the section part, without the literal)
        pl.col("offence_text").str.replace(r"\s*-\s*[A-Z]{2}.*$", "").str.strip_chars().alias("code_section_original"),
    ])
    df = via_unique(df, ["section_num", "section_sub", "law_code", "code_section_original", "qualifier",
                         "comment_cannabis_section", "q_charge_from_comment"], [
        ((pl.col("section_num").str.contains(r"\.") & base_num.is_in(CANNABIS_SECTIONS))
         | pl.col("section_num").str.contains(r"^\d+(1135[7-9]|11360)$")).fill_null(False).alias("q_lookalike"),
        (pl.col("comment_cannabis_section").is_not_null() & ~pl.col("q_charge_from_comment")
         & (pl.col("comment_cannabis_section") != pl.col("section_num")).fill_null(True)).fill_null(False)
        .alias("q_other_cannabis_in_comment"),
        (cannabis_num & (pl.col("law_code") != "HS")).fill_null(False).alias("q_wrong_code"),
        pl.col("qualifier").is_not_null().alias("q_qualifier"),
        (cannabis_num & (pl.col("code_section_original").str.replace_all(r"\s", "")
                         != pl.concat_str([pl.col("section_num"), pl.col("section_sub").fill_null("").str.to_uppercase(), pl.lit("HS")])))
        .fill_null(False).alias("q_section_variant"),
    ])

    for col, name in (("PRI_DOB", "dob"), ("CYC_DATE", "cycle_date"), ("STP_EVENT_DATE", "step_date"), ("DISP_DATE", "_disp_date")):
        df = via_unique(df, [col], date_and_quality(pl.col(col), name))
    df = via_unique(df, ["CONV_STAT_DESCR", "CONV_OFFENSE_TOC", "OFFENSE_TOC"], level_expr())
    df = via_unique(df, ["DISP_DESCR", "STP_TYPE_DESCR", "STP_ORI_CNTY_NAME", "STP_ORI_CODE", "STP_ORI_DESCR"], [
        pl.col("DISP_DESCR").str.to_uppercase().str.starts_with("CONVICTED").fill_null(False).alias("convicted"),
        pl.col("DISP_DESCR").alias("disposition"),
        county_expr("STP_ORI_CNTY_NAME").alias("county"),
        pl.col("STP_TYPE_DESCR").str.to_uppercase().alias("step_type"),
        pl.coalesce(pl.col("STP_ORI_DESCR"), pl.col("STP_ORI_CODE")).alias("courthouse"),
        pl.col("STP_ORI_CODE").alias("agency_code"),
    ])
    # q_county_variant compares the raw text with the normalised name
    df = df.with_columns((pl.col("STP_ORI_CNTY_NAME") != pl.col("county")).fill_null(False).alias("q_county_variant"))
    df = via_unique(df, ["GENDER", "RACE_DESCR", "RACE_CODE", "CYC_ORDER", "STP_ORDER"], [
        pl.col("GENDER").str.to_uppercase().alias("gender"),
        pl.coalesce(pl.col("RACE_DESCR"), pl.col("RACE_CODE")).str.to_uppercase().alias("race"),
        pl.col("CYC_ORDER").alias("cycle"), pl.col("STP_ORDER").alias("step"),
    ])
    df = via_unique(df, ["SENT_LOC_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "CYC_AGE"], [
        pl.col("SENT_LOC_DESCR").str.to_uppercase().alias("sent_type"),
        pl.col("SENT_LENGTH").cast(pl.Int64, strict=False).alias("sent_length"),
        pl.col("SENT_TIME_CODE").str.to_uppercase().alias("sent_unit"),
        pl.col("CYC_AGE").cast(pl.Int64, strict=False).alias("cycle_age"),
    ])
    # Conviction date: the court step's date; the disposition date only when the step has none.
    use_disp = (pl.col("step_date_quality") == "unknown") & (pl.col("_disp_date_quality") == "full")
    df = df.with_columns(
        pl.when(use_disp).then(pl.col("_disp_date")).otherwise(pl.col("step_date")).alias("conviction_date"),
        pl.when(use_disp).then(pl.lit("full")).otherwise(pl.col("step_date_quality")).alias("conviction_date_quality"),
    )
    impossible = pl.col("dob").is_not_null() & pl.col("conviction_date").is_not_null() & (pl.col("dob") >= pl.col("conviction_date"))
    df = df.with_columns(
        pl.when(pl.col("convicted") & impossible).then(pl.lit("impossible"))
        .otherwise(pl.col("conviction_date_quality")).alias("conviction_date_quality"),
        (pl.col("convicted") & impossible).alias("q_dob_after_conviction"),
    )

    return df.select(
        pl.lit(file_name).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        pl.col("SUBJECT_ID").alias("subject_id"),
        pl.col("CII_NUMBER").alias("cii_number"),
        pl.col("PRI_NAME").alias("name"),
        "dob", "dob_quality",
        "gender", "race", "cycle", "cycle_date", "step", "step_type", "step_date",
        "county", "courthouse", "agency_code",
        pl.col("CNT_ORDER").alias("count_key"),
        pl.coalesce(pl.col("OFN"), pl.col("FE_NUM_CRT_CASE")).alias("court_case_number"),
        "disposition", "convicted",
        "offence_text", "code_section", "code_section_original", "section_num", "section_sub", "law_code",
        "qualifier", "level", "conviction_date", "conviction_date_quality",
        "sent_type", "sent_length", "sent_unit", "cycle_age", "comment", "comment_cannabis_section",
        "q_padded", "q_null_placeholder", "q_section_variant", "q_qualifier", "q_lookalike", "q_wrong_code",
        "q_charge_from_comment", "q_other_cannabis_in_comment",
        (pl.col("convicted") & (pl.col("conviction_date_quality") == "partial")).alias("q_date_partial"),
        (pl.col("convicted") & pl.col("conviction_date_quality").is_in(["unknown", "invalid"])).alias("q_date_unknown"),
        (pl.col("dob_quality") != "full").alias("q_dob_unknown"),
        "q_dob_after_conviction",
        (pl.col("convicted") & pl.col("q_level_from_toc")).alias("q_level_from_toc"),
        "q_county_variant",
        (pl.col("convicted") & pl.col("OFN").is_null() & pl.col("FE_NUM_CRT_CASE").is_null()).alias("q_no_case_number"),
    )


def flag_duplicate_people(rows: pl.DataFrame) -> pl.DataFrame:
    """Two subject ids with the same normalised name and DOB: flag both, never merge."""
    key = rows.select("subject_id", name_key(pl.col("name")).alias("_nk"), "dob").unique().drop_nulls()
    dupes = (
        key.group_by("_nk", "dob").agg(pl.col("subject_id").n_unique().alias("_n"), pl.col("subject_id"))
        .filter(pl.col("_n") > 1).explode("subject_id").select("subject_id").unique()
    )
    return rows.with_columns(pl.col("subject_id").is_in(dupes["subject_id"].implode()).alias("q_possible_duplicate_person"))


def build_report(rows: pl.DataFrame, files: list[FileReport]) -> ImportReport:
    q_cols = [c for c in rows.columns if c.startswith("q_")]
    sums = rows.select([pl.col(c).sum() for c in q_cols]).row(0, named=True) if rows.height else {}
    warnings = {k: int(v) for k, v in sums.items() if v and k in WARNINGS}
    convictions = (
        rows.lazy().filter(pl.col("convicted")).select("subject_id", "count_key", "county").unique(["subject_id", "count_key"])
        .group_by("county").len().sort("len", descending=True).collect()
    )
    by_county = rows.group_by("county").len()
    return ImportReport(
        files=files, rows=rows.height,
        counties={(c or ""): int(n) for c, n in convictions.iter_rows()},
        rows_by_county={(c or ""): int(n) for c, n in by_county.iter_rows()},
        warnings=warnings,
    )


def report_json(report: ImportReport) -> str:
    return json.dumps(report.to_dict(), indent=2)
