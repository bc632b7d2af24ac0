"""The DOJ bulk extract: its 95 columns and a line-level reader.

The reader splits the file into physical lines first (polars, native speed), validates every
line's field count with RFC 4180 quoting, and only then parses the good lines as CSV. That is
what lets one malformed line be rejected alone, with its physical line number, instead of a
stray quote swallowing the rest of the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .errors import InputError

DOJ_COLUMNS: list[str] = [
    "RECORD_ID", "SUBJECT_STATUS", "SUBJECT_ID", "REQ_SEG_SEP", "REQ_CII_NUMBER", "REQ_NAME",
    "REQ_GENDER", "REQ_DOB", "REQ_CDL", "REQ_SSN", "PII_SEG_SEP", "CII_NUMBER", "PRI_NAME",
    "GENDER", "PRI_DOB", "PRI_SSN", "PRI_CDL", "PRI_IDN", "PRI_INN", "FBI_NUMBER", "PDR_SEG_SEP",
    "RACE_CODE", "RACE_DESCR", "EYE_COLOR_CODE", "EYE_COLOR_DESCR", "HAIR_COLOR_CODE",
    "HAIR_COLOR_DESCR", "HEIGHT", "WEIGHT", "SINGLE_SOURCE", "MULTI_SOURCE", "POB_CODE",
    "POB_NAME", "POB_TYPE", "CITIZENSHIP_LIST", "CYC_SEG_SEP", "CYC_ORDER", "CYC_DATE",
    "STP_SEG_SEP", "STP_ORDER", "STP_EVENT_DATE", "STP_TYPE_CODE", "STP_TYPE_DESCR",
    "STP_ORI_TYPE", "STP_ORI_TYPE_DESCR", "STP_ORI_CODE", "STP_ORI_DESCR", "STP_ORI_CNTY_CODE",
    "STP_ORI_CNTY_NAME", "CNT_SEG_SEP", "CNT_ORDER", "DISP_DATE", "OFN", "OFFENSE_CODE",
    "OFFENSE_DESCR", "OFFENSE_TOC", "OFFENSE_QUAL_LST", "DISP_OFFENSE_CODE", "DISP_OFFENSE_DESCR",
    "DISP_OFFENSE_TOC", "DISP_OFFENSE_QUAL_LST", "CONV_OFFENSE_ORDER", "CONV_OFFENSE_CODE",
    "CONV_OFFENSE_DESCR", "CONV_OFFENSE_TOC", "CONV_OFFENSE_QUAL_LST", "FE_NUM_ORDER",
    "FE_NUM_ARR_AGY", "FE_NUM_BNCH_WARR", "FE_NUM_CITE", "FE_NUM_DOCKET", "FE_NUM_INCIDENT",
    "FE_NUM_BOOKING", "FE_NUM_NUMBER", "FE_NUM_REMAND", "FE_NUM_OOS_INN", "FE_NUM_CRT_CASE",
    "FE_NUM_WARRANT", "DISP_ORDER", "DISP_CODE", "DISP_DESCR", "CONV_STAT_CODE",
    "CONV_STAT_DESCR", "SENT_SEG_SEP", "SENT_ORDER", "SENT_LOC_CODE", "SENT_LOC_DESCR",
    "SENT_LENGTH", "SENT_TIME_CODE", "SENT_TIME_DESCR", "CYC_AGE", "CII_TYPE", "CII_TYPE_ALPHA",
    "COMMENT_TEXT", "END_OF_REC",
]
N_COLUMNS = len(DOJ_COLUMNS)
assert N_COLUMNS == 95

# The columns screening reads; the rest are kept only when the caller asks for the raw layout.
USED_COLUMNS: list[str] = [
    "SUBJECT_ID", "CII_NUMBER", "PRI_NAME", "GENDER", "PRI_DOB", "RACE_DESCR", "RACE_CODE",
    "CYC_ORDER", "CYC_DATE", "STP_ORDER", "STP_EVENT_DATE", "STP_TYPE_DESCR", "STP_ORI_CODE",
    "STP_ORI_DESCR", "STP_ORI_CNTY_NAME", "CNT_ORDER", "DISP_DATE", "OFN", "OFFENSE_DESCR",
    "OFFENSE_TOC", "OFFENSE_QUAL_LST", "DISP_OFFENSE_DESCR", "CONV_OFFENSE_DESCR",
    "CONV_OFFENSE_TOC", "CONV_OFFENSE_QUAL_LST", "FE_NUM_CRT_CASE", "DISP_DESCR",
    "CONV_STAT_DESCR", "SENT_LOC_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "CYC_AGE",
    "COMMENT_TEXT",
]

# A quoted field starts right after a comma: "..." with "" as an escaped quote. Replacing each
# with a marker leaves only structural commas; any quote left over is bad quoting, and so is
# text glued to a closing quote.
_QUOTED = r',"(?:[^"]|"")*"'
_MARK = "\x1e"


@dataclass
class Rejected:
    file: str
    line: int
    reason: str


@dataclass
class ReadResult:
    frame: pl.DataFrame               # DOJ columns (str) + source_line
    lines_read: int                   # physical lines, header included
    has_header: bool
    rejected: list[Rejected] = field(default_factory=list)
    blank_lines: int = 0


def _line_frame(data: bytes | Path) -> pl.DataFrame:
    """One row per physical line (blank lines kept as null, CRLF and BOM removed)."""
    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    return pl.read_csv(
        source, has_header=False, separator="\x1f", quote_char=None,
        new_columns=["line"], schema={"line": pl.String}, truncate_ragged_lines=True,
        encoding="utf8-lossy", glob=False,
    )


def _structure_exprs() -> list[pl.Expr]:
    body = (pl.lit(",") + pl.col("line")).str.replace_all(_QUOTED, "," + _MARK)
    return [
        body.str.count_matches(",", literal=True).alias("n_fields"),
        (body.str.contains('"', literal=True) | body.str.contains(_MARK + "[^,]")).alias("bad_quotes"),
    ]


def looks_like_header(first_line: str | None) -> bool:
    return bool(first_line) and first_line.lstrip("\ufeff").strip().upper().startswith("RECORD_ID")


def check_header(first_line: str, file_name: str) -> None:
    """A header that is not the DOJ header means this is not an extract: say what is missing."""
    names = [n.strip().upper() for n in next(csv.reader([first_line.lstrip("\ufeff")]))]
    while names and names[-1] == "":
        names.pop()  # trailing comma on the header line
    missing = [c for c in DOJ_COLUMNS if c not in names]
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise InputError(f"{file_name}: not a DOJ extract - the header lacks {len(missing)} of the 95 DOJ columns ({shown})")
    if names != DOJ_COLUMNS:
        raise InputError(f"{file_name}: the header has the DOJ columns in an unexpected order; re-export the extract unchanged")


def read_extract(path: Path, *, columns: list[str] | None = None, cancel=None) -> ReadResult:
    """Read a DOJ extract; malformed lines are rejected one by one with their line numbers."""
    name = path.name
    lines = _line_frame(path).with_row_index("source_line", offset=1)
    lines_read = lines.height
    if lines_read == 0:
        raise InputError(f"{name}: the file is empty")
    first = lines["line"][0]
    has_header = looks_like_header(first)
    if has_header:
        check_header(first, name)
        lines = lines.slice(1)
    lines = lines.with_columns(_structure_exprs())
    ok_mask = (pl.col("n_fields") == N_COLUMNS) & ~pl.col("bad_quotes") & pl.col("line").is_not_null()
    bad = lines.filter(~ok_mask)
    good = lines.filter(ok_mask)

    if good.height == 0 and bad.height:
        # Nothing fits: one message for the whole file rather than a rejection per line.
        counts = bad.filter(pl.col("line").is_not_null())["n_fields"].value_counts(sort=True)
        if counts.height:
            common = counts.row(0)[0]
            if common != N_COLUMNS:
                raise InputError(
                    f"{name}: not a DOJ extract - lines have {common} fields, the DOJ layout has 95 "
                    f"({'missing' if common < N_COLUMNS else 'extra'} {abs(N_COLUMNS - common)} column(s)"
                    f"{', e.g. ' + ', '.join(DOJ_COLUMNS[common:common + 5]) if common < N_COLUMNS else ''})"
                )
        raise InputError(f"{name}: no line could be read as a DOJ record")

    rejected, rescued, blank = _diagnose(bad, name)
    if cancel is not None and cancel.is_set():
        from .errors import Cancelled
        raise Cancelled()

    if bad.height == 0:
        # Common case: parse the file itself; rows line up with the good physical lines.
        frame = _parse(path, has_header, columns)
        frame = frame.with_columns(good["source_line"].alias("source_line"))
    else:
        buf = io.BytesIO()
        good.select("line").write_csv(buf, include_header=False, quote_style="never")
        frame = _parse(buf.getvalue(), False, columns)
        frame = frame.with_columns(good["source_line"].alias("source_line"))
        if rescued:
            extra = _parse_records([r for _, r in rescued], columns)
            extra = extra.with_columns(pl.Series("source_line", [ln for ln, _ in rescued], dtype=pl.UInt32))
            frame = pl.concat([frame, extra]).sort("source_line")
    if frame.height != good.height + len(rescued):  # never mis-number silently
        raise InputError(f"{name}: the file could not be split into records reliably; check its line endings")
    return ReadResult(frame=frame, lines_read=lines_read, has_header=has_header, rejected=rejected, blank_lines=blank)


def _parse(source: bytes | Path, has_header: bool, columns: list[str] | None) -> pl.DataFrame:
    src = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    wanted = columns or DOJ_COLUMNS
    return pl.read_csv(
        src, has_header=False, skip_rows=1 if has_header else 0, new_columns=DOJ_COLUMNS,
        schema={c: pl.String for c in DOJ_COLUMNS},
        encoding="utf8-lossy", quote_char='"', glob=False, truncate_ragged_lines=False,
    ).select(wanted)


def _parse_records(records: list[str], columns: list[str] | None) -> pl.DataFrame:
    wanted = columns or DOJ_COLUMNS
    rows = [_split(r) for r in records]
    return pl.DataFrame({c: [row[DOJ_COLUMNS.index(c)] for row in rows] for c in wanted}, schema={c: pl.String for c in wanted})


def _diagnose(bad: pl.DataFrame, name: str) -> tuple[list[Rejected], list[tuple[int, str]], int]:
    """Explain each bad line. A quoted field with a line break inside it spans two physical
    lines; such a pair that makes one valid record is kept (numbered by its first line).
    Blank lines carry no data: they are counted, not rejected."""
    rejected: list[Rejected] = []
    rescued: list[tuple[int, str]] = []
    blank = 0
    rows = bad.select("source_line", "line", "n_fields", "bad_quotes").rows()
    i = 0
    while i < len(rows):
        line_no, text, n_fields, bad_quotes = rows[i]
        if text is None or text.strip() == "":
            blank += 1
            i += 1
            continue
        if text.count('"') % 2 == 1 and i + 1 < len(rows) and rows[i + 1][0] == line_no + 1 and rows[i + 1][1]:
            joined = text + "\n" + rows[i + 1][1]
            if joined.count('"') % 2 == 0 and len(_split(joined)) == N_COLUMNS:
                rescued.append((line_no, joined))
                i += 2
                continue
        if bad_quotes:
            reason = "stray or unbalanced double quote (bad quoting)"
        else:
            reason = f"has {n_fields} fields, expected {N_COLUMNS}"
        rejected.append(Rejected(name, line_no, reason))
        i += 1
    return rejected, rescued, blank


def _split(record: str) -> list[str]:
    try:
        return next(csv.reader([record], strict=True))
    except (csv.Error, StopIteration):
        return []
