"""Import DOJ extracts and mapped county files into one normalised row frame.

Output schema (one row per input row; see docs/architecture.md): person, cycle, step and
count keys, the court event, the parsed offence, level, dates with their quality, sentence
part, and ``q_*`` columns marking each data-quality repair so it can be reported and flagged.
"""

from __future__ import annotations

import hashlib
import json
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

# Limits for files that would not fit in memory: refuse up front rather than die mid-import.
MAX_FILE_BYTES = 6 * 1024**3


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


def _check_size(path: Path) -> int:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"{path.name}: {size / 1024**3:.1f} GB is larger than this program can import safely "
            f"({MAX_FILE_BYTES / 1024**3:.0f} GB); split the extract by county or date range"
        )
    return size


def import_files(paths, *, mapping: Path | dict | None = None, cancel=None, progress=None) -> tuple[pl.DataFrame, ImportReport]:
    """Import every file; DOJ extracts are recognised by shape, other files need a mapping."""
    frames, reports = [], []
    paths = [local_path(p) for p in paths]
    for i, path in enumerate(paths):
        if progress:
            progress(i / max(len(paths), 1) * 0.9, f"Reading {path.name}")
        size = _check_size(path)
        if size == 0:
            raise InputError(f"{path.name}: the file is empty")
        digest = file_sha256(path)
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") or (mapping is not None and not _is_doj(path)):
            from . import county_files
            if mapping is None:
                raise InputError(f"{path.name}: not a DOJ extract; give a column mapping file (--mapping) to import a county file")
            frame, rep = county_files.import_mapped(path, mapping, cancel=cancel)
            rep.sha256, rep.size = digest, size
        else:
            res = doj.read_extract(path, columns=doj.USED_COLUMNS, cancel=cancel)
            frame = normalise_doj(res.frame, path.name)
            rep = FileReport(
                file=path.name, kind="doj", sha256=digest, size=size, lines_read=res.lines_read,
                rows_imported=res.frame.height, has_header=res.has_header, blank_lines=res.blank_lines,
                rejected=[{"file": r.file, "line": r.line, "reason": r.reason} for r in res.rejected],
            )
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        frames.append(frame)
        reports.append(rep)
    rows = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    rows = flag_duplicate_people(rows)
    return rows, build_report(rows, reports)


def _is_doj(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(65536).decode("utf-8", "replace").lstrip("\ufeff")
    first = head.splitlines()[0] if head else ""
    return doj.looks_like_header(first) or first.count(",") in (94, 95)


def normalise_doj(raw: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Raw DOJ string columns -> the internal schema."""
    text_cols = [c for c in doj.USED_COLUMNS]
    padded = pl.any_horizontal([pl.col(c).str.ends_with(" ") | pl.col(c).str.starts_with(" ") for c in text_cols])
    null_ph = pl.any_horizontal([pl.col(c).str.strip_chars().str.to_uppercase() == "NULL" for c in text_cols])
    df = raw.with_columns(
        padded.fill_null(False).alias("q_padded"),
        null_ph.fill_null(False).alias("q_null_placeholder"),
        pl.col("STP_ORI_CNTY_NAME").alias("_county_raw"),
    ).with_columns([clean(c).alias(c) for c in text_cols])

    # The convicted charge: CONV_OFFENSE_DESCR when filled, else OFFENSE_DESCR, else the comment.
    descr = pl.coalesce(pl.col("CONV_OFFENSE_DESCR"), pl.col("OFFENSE_DESCR"))
    see_comment = descr.is_null() | descr.str.to_uppercase().str.contains("SEE COMMENT")
    comment_charge = comment_charge_text(pl.col("COMMENT_TEXT"))
    from_comment = see_comment & comment_charge.str.contains(r"^\d{3,6}")
    offence_text = pl.when(from_comment).then(comment_charge).when(see_comment).then(None).otherwise(descr)
    qual_list = pl.concat_str([pl.col("CONV_OFFENSE_QUAL_LST"), pl.col("OFFENSE_QUAL_LST")], ignore_nulls=True).str.to_uppercase()

    df = df.with_columns(
        offence_text.alias("offence_text"),
        from_comment.fill_null(False).alias("q_charge_from_comment"),
    ).with_columns(parse_offence(pl.col("offence_text"), "_o"))
    df = df.with_columns(
        pl.coalesce(
            pl.col("_oqual"),
            pl.when(qual_list.str.contains("ATT")).then(pl.lit("attempt"))
            .when(qual_list.str.contains("CONSP")).then(pl.lit("conspiracy")),
        ).alias("qualifier"),
        canonical_section(pl.col("_ocode"), pl.col("_onum"), pl.col("_osub")).alias("code_section"),
        # the number alone decides candidacy: 11357.5 and 211360 are different numbers
        pl.col("_onum").alias("section_num"),
        pl.col("_osub").alias("section_sub"),
        pl.when(pl.col("_ocode").is_null() & pl.col("_onum").is_in(CANNABIS_SECTIONS)).then(pl.lit("HS"))
        .otherwise(pl.col("_ocode")).alias("law_code"),
        # the text as found, for display and documents (only the section part of the description)
        pl.col("offence_text").str.replace(r"\s*-\s*[A-Z]{2}.*$", "").str.strip_chars().alias("code_section_original"),
    )
    comment_sec = comment_cannabis_section(pl.col("COMMENT_TEXT"))
    base_num = pl.col("section_num").str.split(".").list.first()
    df = df.with_columns(
        pl.col("section_num").is_in(CANNABIS_SECTIONS).alias("_cannabis_num"),
        (pl.col("section_num").str.contains(r"\.") & base_num.is_in(CANNABIS_SECTIONS)
         | pl.col("section_num").str.contains(r"^\d+(1135[7-9]|11360)$")).fill_null(False).alias("q_lookalike"),
        (comment_sec.is_not_null() & ~pl.col("q_charge_from_comment")
         & (comment_sec != pl.col("section_num")).fill_null(True)).fill_null(False).alias("q_other_cannabis_in_comment"),
        comment_sec.alias("comment_cannabis_section"),
    ).with_columns(
        (pl.col("_cannabis_num") & (pl.col("law_code") != "HS")).fill_null(False).alias("q_wrong_code"),
        pl.col("qualifier").is_not_null().alias("q_qualifier"),
        (pl.col("_cannabis_num") & (pl.col("code_section_original").str.replace_all(r"\s", "")
                                    != pl.concat_str([pl.col("section_num"), pl.col("section_sub").fill_null("").str.to_uppercase(),
                                                      pl.lit("HS")]))).fill_null(False).alias("q_section_variant"),
    )

    disp = pl.col("DISP_DESCR").str.to_uppercase()
    step_type = pl.col("STP_TYPE_DESCR").str.to_uppercase()
    df = df.with_columns(
        *date_and_quality(pl.col("PRI_DOB"), "dob"),
        *date_and_quality(pl.col("CYC_DATE"), "cycle_date"),
        *date_and_quality(pl.col("STP_EVENT_DATE"), "step_date"),
        *date_and_quality(pl.col("DISP_DATE"), "_disp_date"),
        *level_expr(),
        disp.str.starts_with("CONVICTED").fill_null(False).alias("convicted"),
        county_expr("STP_ORI_CNTY_NAME").alias("county"),
        step_type.alias("step_type"),
    )
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

    out = df.select(
        pl.lit(file_name).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        pl.col("SUBJECT_ID").alias("subject_id"),
        pl.col("CII_NUMBER").alias("cii_number"),
        pl.col("PRI_NAME").alias("name"),
        "dob", "dob_quality",
        pl.col("GENDER").str.to_uppercase().alias("gender"),
        pl.coalesce(pl.col("RACE_DESCR"), pl.col("RACE_CODE")).str.to_uppercase().alias("race"),
        pl.col("CYC_ORDER").alias("cycle"),
        "cycle_date",
        pl.col("STP_ORDER").alias("step"),
        "step_type", "step_date",
        "county",
        pl.coalesce(pl.col("STP_ORI_DESCR"), pl.col("STP_ORI_CODE")).alias("courthouse"),
        pl.col("STP_ORI_CODE").alias("agency_code"),
        pl.col("CNT_ORDER").alias("count_key"),
        pl.coalesce(pl.col("OFN"), pl.col("FE_NUM_CRT_CASE")).alias("court_case_number"),
        pl.col("DISP_DESCR").alias("disposition"),
        "convicted",
        "offence_text", "code_section", "code_section_original", "section_num", "section_sub", "law_code",
        "qualifier", "level", "conviction_date", "conviction_date_quality",
        pl.col("SENT_LOC_DESCR").str.to_uppercase().alias("sent_type"),
        pl.col("SENT_LENGTH").cast(pl.Int64, strict=False).alias("sent_length"),
        pl.col("SENT_TIME_CODE").str.to_uppercase().alias("sent_unit"),
        pl.col("CYC_AGE").cast(pl.Int64, strict=False).alias("cycle_age"),
        pl.col("COMMENT_TEXT").alias("comment"),
        "comment_cannabis_section",
        "q_padded", "q_null_placeholder", "q_section_variant", "q_qualifier", "q_lookalike", "q_wrong_code",
        "q_charge_from_comment", "q_other_cannabis_in_comment",
        (pl.col("convicted") & (pl.col("conviction_date_quality") == "partial")).alias("q_date_partial"),
        (pl.col("convicted") & pl.col("conviction_date_quality").is_in(["unknown", "invalid"])).alias("q_date_unknown"),
        (pl.col("dob_quality") != "full").alias("q_dob_unknown"),
        "q_dob_after_conviction",
        (pl.col("convicted") & pl.col("q_level_from_toc")).alias("q_level_from_toc"),
        (pl.col("_county_raw") != pl.col("county")).fill_null(False).alias("q_county_variant"),
        (pl.col("convicted") & pl.col("OFN").is_null() & pl.col("FE_NUM_CRT_CASE").is_null()).alias("q_no_case_number"),
    )
    return out


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
        rows.filter(pl.col("convicted")).unique(["subject_id", "count_key"])
        .group_by("county").len().sort("len", descending=True)
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
