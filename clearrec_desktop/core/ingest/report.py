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
    acc = ReportAccumulator()
    acc.add(rows)
    return acc.report(files)


DUPLICATE_FLAG = "q_possible_duplicate_person"


class ReportAccumulator:
    """The import report's figures gathered block by block, so no file is ever held whole.

    Also finds the possible duplicate people (two subject ids, one normalised name and date of
    birth: ``normalise.flag_duplicate_people``), which can only be known once every row is in.
    Kept per block: counters, and per person or per conviction count a few narrow columns."""

    _COMPACT_PARTS = 16   # blocks between merges of the per-person tables (they repeat people)

    def __init__(self, *, count_convictions: bool = True) -> None:
        """``count_convictions=False``: the caller gives the conviction counts per county to
        ``report`` (the screening facts count them anyway), so they are not gathered here."""
        self._count = count_convictions
        self.rows = 0
        self._q: dict[str, int] = {}
        self._by_county: dict[str, int] = {}
        self._conv: list[pl.DataFrame] = []      # subject_id, count_key, county of convicted rows
        self._people: list[pl.DataFrame] = []    # subject_id, _nk, dob, first source_file / line
        self._per_subject: list[pl.DataFrame] = []  # subject_id, rows
        self._dups: tuple[pl.Series, pl.DataFrame] | None = None

    def add(self, rows: pl.DataFrame) -> None:
        from .normalise import name_key

        self.rows += rows.height
        self._dups = None
        q_cols = [c for c in rows.columns if c.startswith("q_") and c != DUPLICATE_FLAG]
        if rows.height:
            for k, v in rows.select([pl.col(c).sum() for c in q_cols]).row(0, named=True).items():
                self._q[k] = self._q.get(k, 0) + int(v or 0)
        else:
            for k in q_cols:
                self._q.setdefault(k, 0)
        for c, n in rows.group_by("county").len().iter_rows():
            self._by_county[c or ""] = self._by_county.get(c or "", 0) + n
        if self._count:
            self._conv.append(rows.lazy().filter(pl.col("convicted")).select("subject_id", "count_key", "county")
                              .unique(["subject_id", "count_key"], keep="first", maintain_order=True).collect())
        self._people.append(rows.lazy().select("subject_id", name_key(pl.col("name")).alias("_nk"), "dob",
                                               "source_file", "source_line")
                            .drop_nulls(["subject_id", "_nk", "dob"]).sort("source_file", "source_line")
                            .group_by("subject_id", "_nk", "dob", maintain_order=True)
                            .agg(pl.col("source_file").first(), pl.col("source_line").first()).collect())
        self._per_subject.append(rows.group_by("subject_id").len("rows"))
        if len(self._people) >= self._COMPACT_PARTS:
            self._compact()

    def _compact(self) -> None:
        if self._conv:
            self._conv = [pl.concat(self._conv).unique(["subject_id", "count_key"], keep="first", maintain_order=True)]
        self._people = [self._merge_people()]
        self._per_subject = [pl.concat(self._per_subject).group_by("subject_id").agg(pl.col("rows").sum())]

    def _merge_people(self) -> pl.DataFrame:
        if not self._people:
            return pl.DataFrame(schema={"subject_id": pl.String, "_nk": pl.String, "dob": pl.Date,
                                        "source_file": pl.String, "source_line": pl.Int64})
        return (pl.concat(self._people, how="vertical_relaxed").sort("source_file", "source_line")
                .group_by("subject_id", "_nk", "dob", maintain_order=True)
                .agg(pl.col("source_file").first(), pl.col("source_line").first()))

    def duplicates(self) -> tuple[pl.Series, pl.DataFrame]:
        """(subject ids of possible duplicate people, each one's first row per name and date of
        birth: subject_id, name key, dob, source_file, source_line)."""
        if self._dups is None:
            people = self._merge_people()
            self._people = [people]
            dupes = (people.group_by("_nk", "dob").agg(pl.col("subject_id").n_unique().alias("_n"), pl.col("subject_id"))
                     .filter(pl.col("_n") > 1).explode("subject_id").select("subject_id").unique().to_series())
            self._dups = (dupes.sort(), people.filter(pl.col("subject_id").is_in(dupes.implode())))
        return self._dups

    def report(self, files: list[FileReport], counties: dict[str, int] | None = None) -> ImportReport:
        """``counties``: conviction counts per county, when the accumulator was told not to count."""
        dupes, _ = self.duplicates()
        q = dict(self._q)
        if self._per_subject:
            per = pl.concat(self._per_subject).group_by("subject_id").agg(pl.col("rows").sum())
            self._per_subject = [per]
            q[DUPLICATE_FLAG] = int(per.filter(pl.col("subject_id").is_in(dupes.implode()))["rows"].sum() or 0)
        warnings = {k: v for k, v in q.items() if v and k in WARNINGS}
        if counties is None:
            conv = pl.concat(self._conv) if self._conv else pl.DataFrame(
                schema={"subject_id": pl.String, "count_key": pl.String, "county": pl.String})
            self._conv = [conv.unique(["subject_id", "count_key"], keep="first", maintain_order=True)]
            by_county = (self._conv[0].group_by("county").len()
                         .with_columns(pl.col("county").fill_null("")).sort(["len", "county"], descending=[True, False]))
            counties = {c: int(n) for c, n in by_county.iter_rows()}
        return ImportReport(
            files=files, rows=self.rows,
            counties=counties,
            rows_by_county=dict(sorted(self._by_county.items())),
            warnings=warnings,
        )


def report_json(report: ImportReport) -> str:
    return json.dumps(report.to_dict(), indent=2)


# A value a spreadsheet would run as a formula: = + - @ tab or CR first, other than a plain number.
_FORMULA_LIKE = r"^[=+\-@\t\r]"
_SIGNED_NUMBER = r"^[+-]?\d+(?:[.,]\d+)?$"


def note_formula_like(results: pl.DataFrame, report: ImportReport) -> None:
    """Add to each file's notes how many of its rows hold a record value that looks like a
    formula, and in which columns (never the values). Files for people show such values as
    text; the DOJ-layout file keeps them as read."""
    text = [c for c, t in results.schema.items() if t == pl.String and c != "source_file"]
    if not text or "source_file" not in results.columns or not results.height:
        return
    looks = {c: pl.col(c).str.contains(_FORMULA_LIKE) & ~pl.col(c).str.contains(_SIGNED_NUMBER) for c in text}
    hits = (results.lazy().select("source_file", *[e.fill_null(False).alias(c) for c, e in looks.items()])
            .filter(pl.any_horizontal(text)).collect())
    if not hits.height:
        return
    for f in report.files:
        mine = hits.filter(pl.col("source_file") == f.file)
        if not mine.height:
            continue
        columns = [c for c in text if mine[c].any()]
        note = (f"{mine.height:,} row(s) hold a value that a spreadsheet would run as a formula (starting with =, +, -, "
                f"@, a tab or a carriage return) in {', '.join(columns)}: results.csv and the other files for people "
                "show it as text (a leading apostrophe); the DOJ-layout file keeps it as read")
        if note not in f.notes:
            f.notes.append(note)
