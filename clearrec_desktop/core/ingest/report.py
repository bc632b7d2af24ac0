"""What an import found: per-file figures, rejected lines and data-quality warnings.

The report names files, lines and columns, never a value from a record (names, dates of birth,
CII and SSN stay out of it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

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
    "q_dob_after_conviction": "date of birth after the conviction date (impossible): age unknown, rules that use age go to review",
    "q_level_from_toc": "conviction level blank; taken from the type of charge (OFFENSE_TOC)",
    "q_county_variant": "county name in another case or spacing (matched anyway)",
    "q_no_case_number": "conviction without a court case number",
    "q_possible_duplicate_person": "two DOJ subject ids with the same name and date of birth (never merged)",
}
# What each warning means for the screening, for the import report on screen.
WARNING_MEANING = {
    "q_padded": "Harmless: the spaces were removed before reading the values.",
    "q_null_placeholder": "Harmless: the word NULL was read as an empty field.",
    "q_section_variant": "Harmless: the section was read in its standard form; the original text is kept.",
    "q_qualifier": "The conviction is screened as the offense attempted or conspired; check such cases.",
    "q_lookalike": "These rows are not Prop 64 offenses and are not screened.",
    "q_wrong_code": "These convictions go to attorney review: the code recorded does not fit the section.",
    "q_charge_from_comment": "The charge comes from free text; check such cases in Review.",
    "q_other_cannabis_in_comment": "These convictions are flagged for attorney review.",
    "q_date_partial": "Outcomes that depend on the conviction date go to attorney review.",
    "q_date_unknown": "Outcomes that depend on the conviction date go to attorney review.",
    "q_dob_unknown": "Rules that use the person's age cannot be applied; those cases go to review.",
    "q_dob_after_conviction": "The person's age is unknown; rules that use age send the case to review.",
    "q_level_from_toc": "The felony / misdemeanor level was taken from the type of charge.",
    "q_county_variant": "Harmless: the county was matched despite the different spelling.",
    "q_no_case_number": "Court documents cannot name these convictions by case number; check them.",
    "q_possible_duplicate_person": "Records are never merged; these cases are flagged for review.",
}


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
