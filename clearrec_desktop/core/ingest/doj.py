"""The DOJ bulk extract: its 95 columns and a line-level reader.

The reader splits the file into physical lines first (polars, native speed), validates every
line's field count with RFC 4180 quoting, and only then parses the good lines as CSV. That is
what lets one malformed line be rejected alone, with its physical line number, instead of a
stray quote swallowing the rest of the file.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import InputError

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
# Python's csv (the header check, two-line records) refuses fields over 128 KB by default.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024**2))
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


def _scan_lines(source: Path) -> pl.LazyFrame:
    """One row per physical line (blank lines kept as null, CRLF and BOM removed), numbered.

    The unit separator (0x1F) splits a line here, so a line holding one would be seen cut short
    while the parser later reads all of it; ``_cut`` catches the rest so the line is rejected.
    """
    return pl.scan_csv(
        source, has_header=False, separator="\x1f", quote_char=None, schema={"line": pl.String, "_cut": pl.String},
        truncate_ragged_lines=True, missing_columns="insert", encoding="utf8-lossy", glob=False,
    ).with_row_index("source_line", offset=1)


def _structure_exprs() -> list[pl.Expr]:
    body = (pl.lit(",") + pl.col("line")).str.replace_all(_QUOTED, "," + _MARK)
    return [
        body.str.count_matches(",", literal=True).alias("n_fields"),
        (body.str.contains('"', literal=True) | body.str.contains(_MARK + "[^,]")).alias("bad_quotes"),
        # NUL, and the separators this check itself uses (0x1E marks quoted fields above)
        (pl.col("_cut").is_not_null() | pl.col("line").str.contains("\x00", literal=True)
         | pl.col("line").str.contains(_MARK, literal=True)).fill_null(False).alias("bad_chars"),
    ]


def looks_like_header(first_line: str | None) -> bool:
    return bool(first_line) and first_line.lstrip("\ufeff").strip().upper().startswith("RECORD_ID")


_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ./#()&-]*$")


def looks_like_other_header(first_line: str | None) -> bool:
    """Column names of some other file (all fields are names, none a value)."""
    if not first_line:
        return False
    fields = [f.strip() for f in _split(first_line.lstrip("\ufeff"))]
    while fields and fields[-1] == "":
        fields.pop()
    return len(fields) >= 3 and all(_NAME_RE.match(f) for f in fields)


def check_header(first_line: str, file_name: str) -> None:
    """A header that is not the DOJ header means this is not an extract: say what is missing."""
    try:
        names = [n.strip().upper() for n in next(csv.reader([first_line.lstrip("\ufeff")], strict=True))]
    except csv.Error:  # e.g. a lone carriage return inside the line
        raise InputError(f"{file_name}: the header line could not be read (bad quoting or a stray line break); "
                         "re-export the extract unchanged") from None
    while names and names[-1] == "":
        names.pop()  # trailing comma on the header line
    missing = [c for c in DOJ_COLUMNS if c not in names]
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise InputError(f"{file_name}: not a DOJ extract - the header lacks {len(missing)} of the 95 DOJ columns ({shown})")
    if names != DOJ_COLUMNS:
        raise InputError(f"{file_name}: the header has the DOJ columns in an unexpected order; re-export the extract unchanged")


def read_extract(path: Path, *, columns: list[str] | None = None, cancel=None, transform=None,
                 progress=None) -> ReadResult:
    """Read a DOJ extract; malformed lines are rejected one by one with their line numbers.

    A streaming pass checks every line's structure; then the good lines are parsed in batches
    of about 64 MB, and ``transform`` (the importer's normalisation) is applied to each batch
    as it is parsed, so memory stays near the size of the result, not of the file.
    """
    name = path.name
    _check_text_file(path)
    first = _first_line(path)
    has_header = looks_like_header(first)
    if has_header or looks_like_other_header(first):
        check_header(first, name)
    ok = (pl.col("n_fields") == N_COLUMNS) & ~pl.col("bad_quotes") & ~pl.col("bad_chars") & pl.col("line").is_not_null()
    shape = (_scan_lines(path).with_columns(_structure_exprs())
             .select("source_line", ok.fill_null(False).alias("ok"), "n_fields", "bad_quotes", "bad_chars",
                     # cheap per-line signals for the import report, taken while the line is at hand
                     pl.col("line").str.contains(r" ,|, |^ | $").fill_null(False).alias("q_padded"),
                     pl.col("line").str.contains(r"(?:^|,)\s*NULL\s*(?:,|$)").fill_null(False).alias("q_null_placeholder"))
             .collect(engine="streaming"))
    lines_read = shape.height
    if lines_read == 0:
        raise InputError(f"{name}: the file is empty")
    if has_header:
        shape = shape.slice(1)
    _check_cancel(cancel)
    good = shape.filter(pl.col("ok")).select("source_line", "q_padded", "q_null_placeholder")
    bad = shape.filter(~pl.col("ok")).select("source_line", "n_fields", "bad_quotes", "bad_chars")

    if good.height == 0 and bad.height:
        # Nothing fits: one message for the whole file rather than a rejection per line.
        counts = bad.filter(pl.col("n_fields").is_not_null())["n_fields"].value_counts(sort=True)
        common = counts.row(0)[0] if counts.height else None
        if common is not None and common != N_COLUMNS:
            raise InputError(
                f"{name}: not a DOJ extract - lines have {common} fields, the DOJ layout has 95 "
                f"({'missing' if common < N_COLUMNS else 'extra'} {abs(N_COLUMNS - common)} column(s)"
                f"{', e.g. ' + ', '.join(DOJ_COLUMNS[common:common + 5]) if common < N_COLUMNS else ''})"
            )
        raise InputError(f"{name}: no line could be read as a DOJ record")

    skip = set(bad["source_line"].to_list())
    if has_header:
        skip.add(1)
    bad_text: dict[int, str] = {}
    frames, pos = [], 0
    size = max(path.stat().st_size, 1)
    for batch, n_lines, done in _iter_batches(path, skip, bad_text, cancel):
        try:
            frame = _parse(batch, columns)
        except pl.exceptions.PolarsError:  # the line check passed something the parser cannot split
            frame = None
        if frame is None or frame.height != n_lines:  # never mis-number silently
            raise InputError(f"{name}: the file could not be split into records reliably; check its line endings")
        frame = frame.with_columns(good.slice(pos, n_lines).get_columns())
        pos += n_lines
        frames.append(transform(frame) if transform else frame)
        if progress:
            progress(done / size, f"Reading {name}")
    rejected, rescued, blank = _diagnose(bad, bad_text, name)
    if rescued:
        extra = _parse_records([r for _, r in rescued], columns).with_columns(
            pl.Series("source_line", [ln for ln, _ in rescued], dtype=good["source_line"].dtype),
            pl.lit(False).alias("q_padded"), pl.lit(False).alias("q_null_placeholder"))
        frames.append(transform(extra) if transform else extra)
    if not frames:  # a header and nothing else
        empty = _parse(b"", columns).with_columns(good.clear().get_columns())
        frames.append(transform(empty) if transform else empty)
    frame = pl.concat(frames) if len(frames) > 1 else frames[0]
    if rescued:
        frame = frame.sort("source_line")
    return ReadResult(frame=frame, lines_read=lines_read, has_header=has_header, rejected=rejected, blank_lines=blank)


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        from ..errors import Cancelled
        raise Cancelled()


def _first_line(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    # the first physical line as the reader numbers it: only \n ends a line (str.splitlines
    # would also cut at form feeds, \x1c-\x1e, U+2028...)
    return text.split("\n", 1)[0].rstrip("\r") if text.strip() else ""


# Bytes of text; anything else in more than 1% of the head (NUL, other controls) means binary.
_TEXT_BYTES = bytes([9, 10, 12, 13]) + bytes(range(32, 127)) + bytes(range(128, 256))
_BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"%PDF", b"7z\xbc\xaf", b"Rar!")


def _check_text_file(path: Path) -> None:
    """Refuse, with a reason, files the line reader would misread rather than reject."""
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    name = path.name
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name}: the file is UTF-16 text; a DOJ extract is plain text (ASCII or UTF-8) - "
                         "save or request it as UTF-8")
    if head.startswith(_BINARY_SIGNATURES) or len(head.translate(None, _TEXT_BYTES)) > len(head) // 100:
        raise InputError(f"{name}: this is a spreadsheet, archive or other binary file (or UTF-16 text), "
                         "not a DOJ extract; the extract is a text file of comma-separated values")
    bare_cr = head.count(b"\r") - head.count(b"\r\n")
    if bare_cr > 1 and bare_cr > head.count(b"\n"):
        # the records would be one line to the reader (only \n ends a line), rejected together
        raise InputError(f"{name}: lines end with a carriage return only (old Mac style); "
                         "save the extract with Windows or Unix line ends")


_BATCH_BYTES = 64 * 1024 * 1024


def _iter_batches(path: Path, skip: set[int], bad_text: dict[int, str], cancel):
    """Yield (bytes of good lines, how many, bytes read so far) in blocks of about 64 MB,
    keeping the skipped lines' text in ``bad_text`` for the rejection report. Blocks with no
    skipped line pass through untouched; only the others are split into lines."""
    marks = sorted(skip)
    line_no = done = 0
    carry = b""
    with open(path, "rb") as fh:
        if fh.read(3) != b"\xef\xbb\xbf":
            fh.seek(0)
        while True:
            _check_cancel(cancel)
            chunk = fh.read(_BATCH_BYTES)
            done += len(chunk)
            block = carry + chunk
            if not chunk:  # end of file: a last line without a line break
                if not block:
                    return
                block += b"\n"
                carry = b""
            else:
                cut = block.rfind(b"\n")
                if cut < 0:
                    carry = block
                    continue
                carry, block = block[cut + 1:], block[:cut + 1]
            n = block.count(b"\n")  # lines split on b"\n" only, as polars numbers them
            lo, hi = line_no + 1, line_no + n
            i = bisect.bisect_left(marks, lo)
            if i < len(marks) and marks[i] <= hi:
                keep = []
                for num, raw in enumerate(block.split(b"\n")[:-1], lo):
                    if num in skip:
                        text = raw.decode("utf-8", "replace").rstrip("\r")
                        if num != 1 or not looks_like_header(text):
                            bad_text[num] = text
                    else:
                        keep.append(raw)
                if keep:
                    yield b"\n".join(keep) + b"\n", len(keep), done
            else:
                yield block, n, done
            line_no = hi
            if not chunk:
                return


def _parse(source: bytes, columns: list[str] | None) -> pl.DataFrame:
    """Parse good lines (no header) into the wanted DOJ columns, all as text."""
    wanted = columns or DOJ_COLUMNS
    if isinstance(source, (bytes, bytearray)) and not source:
        return pl.DataFrame(schema={c: pl.String for c in wanted})
    src = io.BytesIO(source)
    positions = sorted(DOJ_COLUMNS.index(c) for c in wanted)
    frame = pl.read_csv(
        src, has_header=False, columns=positions,
        infer_schema=False, encoding="utf8-lossy", quote_char='"', glob=False, truncate_ragged_lines=False,
    )
    # polars names the columns differently for paths and buffers; they come in file order
    return frame.rename(dict(zip(frame.columns, [DOJ_COLUMNS[i] for i in positions]))).select(wanted)


def _parse_records(records: list[str], columns: list[str] | None) -> pl.DataFrame:
    wanted = columns or DOJ_COLUMNS
    rows = [_split(r) for r in records]
    return pl.DataFrame({c: [row[DOJ_COLUMNS.index(c)] for row in rows] for c in wanted}, schema={c: pl.String for c in wanted})


def _diagnose(bad: pl.DataFrame, text: dict[int, str], name: str) -> tuple[list[Rejected], list[tuple[int, str]], int]:
    """Explain each bad line. A quoted field with a line break inside it spans two physical
    lines; such a pair that makes one valid record is kept (numbered by its first line).
    Blank lines carry no data: they are counted, not rejected."""
    rejected: list[Rejected] = []
    rescued: list[tuple[int, str]] = []
    blank = 0
    rows = bad.rows()
    i = 0
    while i < len(rows):
        line_no, n_fields, bad_quotes, bad_chars = rows[i]
        line = text.get(line_no, "")
        if line.strip() == "":
            blank += 1
            i += 1
            continue
        nxt = rows[i + 1][0] if i + 1 < len(rows) else None
        if (line.count('"') % 2 == 1 and nxt == line_no + 1 and text.get(nxt)
                and not bad_chars and not rows[i + 1][3]):
            joined = line + "\n" + text[nxt]
            if joined.count('"') % 2 == 0 and len(_split(joined)) == N_COLUMNS:
                rescued.append((line_no, joined))
                i += 2
                continue
        if bad_chars:
            reason = "contains a NUL or separator control character (damaged or binary data)"
        elif bad_quotes:
            reason = "stray or unbalanced double quote (bad quoting)"
        else:
            reason = f"has {n_fields} fields, expected {N_COLUMNS}"
            if "\r" in line.rstrip("\r"):  # records run together at a lone carriage return (issue 13.11)
                reason = (f"holds {line.rstrip(chr(13)).count(chr(13)) + 1} records run together: a carriage return "
                          f"inside the line is taken for a line end by some programs and not by others ({n_fields} "
                          f"fields, expected {N_COLUMNS}); save the extract again with Windows or Unix line ends")
        rejected.append(Rejected(name, line_no, reason))
        i += 1
    return rejected, rescued, blank


def _split(record: str) -> list[str]:
    try:
        return next(csv.reader([record], strict=True))
    except (csv.Error, StopIteration):
        return []
