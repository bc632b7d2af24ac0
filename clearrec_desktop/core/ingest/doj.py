"""The DOJ bulk extract: its 95 columns and a line-level reader.

The reader goes through the file once, in blocks. Each block is split into physical lines and
every line is checked against the shape of one record (95 RFC 4180 fields) in a single regex
pass; a block whose lines all pass is parsed by polars in one call, and the parser must give
back exactly one row per line. Only the lines that fail are looked at one by one: a quoted
field may hold line breaks, so a line with an open quote is joined with the following lines
into one record when that makes a valid record; any other line is rejected alone, with its
physical line number, never taking its neighbours with it. Text is UTF-8, or Windows-1252
when the file is not valid UTF-8 (the import report says so).
"""

from __future__ import annotations

import csv
import io
import queue
import re
import threading
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
    frame: pl.DataFrame | None        # DOJ columns (str) + source_line; None when blocks went to a sink
    lines_read: int                   # physical lines, header included
    has_header: bool
    rejected: list[Rejected] = field(default_factory=list)
    blank_lines: int = 0
    encoding: str = "utf-8"           # or "cp1252"
    notes: list[str] = field(default_factory=list)   # for the import report


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
                 progress=None, sink=None) -> ReadResult:
    """Read a DOJ extract; malformed lines are rejected one by one with their line numbers.

    The file is read once, in blocks of about ``BLOCK_BYTES`` (``_read_block`` says how each
    block is proved to be split into records correctly). ``transform`` (the importer's
    normalisation) is applied to each block as soon as it is parsed. With ``sink`` each
    transformed block is handed to it and nothing is kept, so memory stays near one block;
    without, the blocks are concatenated into ``ReadResult.frame``.
    """
    name = path.name
    _check_text_file(path)
    first = _first_line(path)
    has_header = looks_like_header(first)
    if has_header or looks_like_other_header(first):
        check_header(first, name)
    state = _ReadState(name=name, columns=columns)
    frames: list[pl.DataFrame] = []
    size = max(path.stat().st_size, 1)

    def parsed_blocks():
        carry, carried, line_no = b"", 0, (2 if has_header else 1)
        for chunk, n_chunk, n_lines, done, last in _iter_chunks(path, has_header, cancel):
            state.lines_read += n_lines
            state.decide_encoding(chunk)
            chunk = state.decode(chunk)
            block, n = (carry + chunk, carried + n_chunk) if carried else (chunk, n_chunk)
            parsed, used = _read_block(block, n, line_no, last, state)
            line_no += used
            # the lines not used start a record that goes on in the next block: read them again with it
            carry, carried = _tail(block, n - used), n - used
            yield parsed, done

    # the next block is read and parsed while this one is normalised and handed on
    for parsed, done in _ahead(parsed_blocks()):
        for frame in parsed:
            out = transform(frame) if transform else frame
            if sink is not None:
                sink(out)
            else:
                frames.append(out)
        if progress:
            progress(done / size, f"Reading {name}")
    if state.lines_read == 0:
        raise InputError(f"{name}: the file is empty")
    if state.records == 0 and state.rejected:
        # Nothing fits: one message for the whole file rather than a rejection per line.
        counts = sorted(state.field_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        common = counts[0][0] if counts else None
        if common is not None and common != N_COLUMNS:
            raise InputError(
                f"{name}: not a DOJ extract - lines have {common} fields, the DOJ layout has 95 "
                f"({'missing' if common < N_COLUMNS else 'extra'} {abs(N_COLUMNS - common)} column(s)"
                f"{', e.g. ' + ', '.join(DOJ_COLUMNS[common:common + 5]) if common < N_COLUMNS else ''})"
            )
        raise InputError(f"{name}: no line could be read as a DOJ record")
    if state.records == 0:  # a header and nothing else: an empty block, so the columns are known
        empty = _with_line_columns(_parse(b"", columns), [], [], [])
        out = transform(empty) if transform else empty
        if sink is not None:
            sink(out)
        else:
            frames.append(out)
    frame = None
    if sink is None:
        frame = pl.concat(frames) if len(frames) > 1 else frames[0]
    notes = []
    if state.encoding == "cp1252":
        notes.append("the file is not UTF-8; it was read as Windows-1252 (cp1252) text")
    return ReadResult(frame=frame, lines_read=state.lines_read, has_header=has_header, rejected=state.rejected,
                      blank_lines=state.blank, encoding=state.encoding, notes=notes)


def _ahead(items, depth: int = 1):
    """Iterate ``items`` on a helper thread, ``depth`` items ahead of the caller (polars lets go
    of the GIL, so the two overlap on two cores). An error there is raised here, in order; if
    the caller stops early, the thread stops at its next item."""
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        out.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            out.put((done, None))
        except BaseException as exc:  # handed to the caller with its traceback
            out.put((done, exc))

    thread = threading.Thread(target=run, name="clearrec-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = out.get()
            if item is done:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():   # let it see the stop flag (it may be waiting to put an item)
            try:
                out.get_nowait()
            except queue.Empty:
                pass
            thread.join(0.05)


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


# Bytes of the file read and checked at a time; the reader's memory is a few times this.
BLOCK_BYTES = 16 * 1024 * 1024
# A quoted field may hold line breaks, so a record may span lines; one spanning more than this
# is not taken as a record (its first line is rejected and the following lines read on their own).
MAX_RECORD_LINES = 200

# One field: text without quotes, commas or the control characters the reader refuses, or a
# quoted field ("" inside is a quote); a record is exactly 95 fields. The rule of
# ``_structure_exprs`` (which explains a failure) as one pattern a regex engine matches in a
# single linear pass over the line.
_FIELD = r'(?:[^",\x00\x1e\x1f]*|"(?:[^"\x00\x1e\x1f]|"")*")'
_RECORD = rf"^{_FIELD}(?:,{_FIELD}){{{N_COLUMNS - 1}}}$"
_RECORD_RE = re.compile(rf"{_FIELD}(?:,{_FIELD}){{{N_COLUMNS - 1}}}")  # fullmatch; quoted fields may hold \n


@dataclass
class _ReadState:
    name: str
    columns: list[str] | None
    encoding: str = "utf-8"
    decided: bool = False        # a non-ASCII block has been seen and the encoding chosen
    lines_read: int = 0
    records: int = 0
    blank: int = 0
    rejected: list = field(default_factory=list)
    field_counts: dict = field(default_factory=dict)   # fields on a rejected line -> lines

    def decide_encoding(self, block: bytes) -> None:
        """UTF-8 first; a file whose first non-ASCII block is not valid UTF-8 is Windows-1252
        (what Excel or Notepad write when a Windows PC re-saves the file)."""
        if self.decided or block.isascii():
            return
        self.decided = True
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            self.encoding = "cp1252"

    def decode(self, block: bytes) -> bytes:
        if self.encoding == "cp1252" and not block.isascii():
            return block.decode("cp1252", errors="replace").encode("utf-8")
        return block


def _iter_chunks(path: Path, has_header: bool, cancel):
    """Yield (bytes of whole lines, lines in those bytes, lines read, bytes read so far, last)
    of about ``BLOCK_BYTES`` each, ending with a ``last`` one (maybe empty). The byte-order mark
    and the header line are left out of the bytes but the header counts as read (line 1). Only
    \\n ends a line, as everywhere in the reader."""
    done = 0
    carry = b""
    first = True
    with open(path, "rb") as fh:
        while True:
            _check_cancel(cancel)
            chunk = fh.read(BLOCK_BYTES)
            done += len(chunk)
            if chunk:
                cut = chunk.rfind(b"\n")
                if cut < 0:
                    carry += chunk
                    continue
                # one copy at most: the part of the last read that was not a whole line, and this one
                block = carry + memoryview(chunk)[:cut + 1] if carry or cut + 1 < len(chunk) else chunk
                carry = chunk[cut + 1:]
            else:  # end of file: a last line without a line break
                block = carry + b"\n" if carry else b""
                carry = b""
            if first and block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
            n = block.count(b"\n")
            read = n
            if first and has_header and n:
                block = block[block.index(b"\n") + 1:]
                n -= 1
            first = first and not read
            yield block, n, read, done, not chunk
            if not chunk:
                return


def _tail(block: bytes, lines: int) -> bytes:
    """The last ``lines`` lines of ``block`` (which ends with a line break)."""
    if lines <= 0:
        return b""
    pos = len(block) - 1
    for _ in range(lines):
        pos = block.rfind(b"\n", 0, pos)
    return block[pos + 1:]


def _lines(block: bytes) -> pl.DataFrame:
    """One row per physical line of ``block`` (blank lines as null, the CR of CRLF removed).

    The unit separator (0x1F) splits a line here, so a line holding one would be seen cut short
    while the parser reads all of it; ``_cut`` marks such lines so they are rejected."""
    if not block:
        return pl.DataFrame(schema={"line": pl.String, "_cut": pl.String})
    return pl.read_csv(io.BytesIO(block), has_header=False, separator="\x1f", quote_char=None,
                       schema={"line": pl.String, "_cut": pl.String}, truncate_ragged_lines=True,
                       missing_columns="insert", encoding="utf8-lossy", glob=False)


def _with_line_columns(frame: pl.DataFrame, numbers, padded, null_placeholder) -> pl.DataFrame:
    return frame.with_columns(pl.Series("source_line", numbers, dtype=pl.UInt32),
                              pl.Series("q_padded", padded, dtype=pl.Boolean),
                              pl.Series("q_null_placeholder", null_placeholder, dtype=pl.Boolean))


def _read_block(block: bytes, n: int, first: int, last: bool, state: _ReadState) -> tuple[list[pl.DataFrame], int]:
    """Parse the records of one block of ``n`` lines whose first line is line ``first``. Returns the frames
    and how many of the block's lines were used: the rest, the start of a record that goes on
    in the next block, is read again with it.

    Fast path: every line matches ``_RECORD`` (exactly 95 fields, sound quoting, no refused
    character), so each line is one whole record and polars parses the block in one call; the
    parser must then give exactly one row per line. Otherwise only the lines that do not match
    are looked at one by one: a line with an open quote is joined with the lines after it while
    the quote stays open and kept as one record when the join is one valid record (a quoted
    field holding line breaks); any other line is rejected alone."""
    lines = _lines(block)
    if lines.height != n:
        raise InputError(f"{state.name}: the file could not be split into lines reliably; check its line endings")
    checks = lines.select(
        (pl.col("line").str.contains(_RECORD) & pl.col("_cut").is_null()).fill_null(False).alias("ok"),
        # cheap per-line signals for the import report, taken while the line is at hand
        pl.col("line").str.contains(r" ,|, |^ | $").fill_null(False).alias("q_padded"),
        pl.col("line").str.contains(r"(?:^|,)\s*NULL\s*(?:,|$)").fill_null(False).alias("q_null_placeholder"),
    )
    numbers = pl.int_range(first, first + n, eager=True, dtype=pl.UInt32)
    if n and checks["ok"].all():
        # the parser must agree: one row per line (if not, the lines are parsed again in
        # halves below to find the one it reads differently)
        frame = _parse(block, state.columns)
        if frame.height == n:
            state.records += n
            return [_with_line_columns(frame, numbers, checks["q_padded"], checks["q_null_placeholder"])], n
    keep = checks["ok"].to_list()
    text, cut = lines["line"], lines["_cut"]
    bad = checks["ok"].not_().arg_true().to_list()
    why = lines[bad].select(_structure_exprs()).rows() if bad else []
    joined: list[tuple[int, str]] = []
    used = n
    resume = 0  # lines before this index are settled (kept, joined or rejected)
    for k, (n_fields, bad_quotes, bad_chars) in zip(bad, why):
        if k < resume:
            continue  # part of a record joined above
        line = text[k]
        if line is None or line.strip() == "":
            state.blank += 1
            continue
        if not bad_chars and line.count('"') % 2 == 1:
            parts, j, open_quote = [line], k, True
            while open_quote and j + 1 < n and j + 2 - k <= MAX_RECORD_LINES and cut[j + 1] is None:
                j += 1
                parts.append(text[j] or "")
                open_quote = open_quote ^ (parts[-1].count('"') % 2 == 1)
            if open_quote and j + 1 == n and not last and n - k < MAX_RECORD_LINES:
                used = k
                keep[k:] = [False] * (n - k)
                break
            if not open_quote:
                record = "\n".join(parts)
                if _RECORD_RE.fullmatch(record):
                    joined.append((first + k, record))
                    keep[k:j + 1] = [False] * (j + 1 - k)
                    resume = j + 1
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
        state.rejected.append(Rejected(state.name, first + k, reason))
        if n_fields is not None:
            state.field_counts[n_fields] = state.field_counts.get(n_fields, 0) + 1
    frames = []
    mask = pl.Series(keep, dtype=pl.Boolean)
    if mask.any():
        frames += _parse_lines(_kept_bytes(block, keep), numbers.filter(mask),
                               checks["q_padded"].filter(mask), checks["q_null_placeholder"].filter(mask), state)
    if joined:
        frames.append(_with_line_columns(_parse_records([r for _, r in joined], state.columns),
                                         [ln for ln, _ in joined], [False] * len(joined), [False] * len(joined)))
        state.records += len(joined)
    if len(frames) > 1:
        frames = [pl.concat(frames, how="vertical").sort("source_line")]
    return frames, used


def _kept_bytes(block: bytes, keep: list[bool]) -> bytes:
    """The lines of ``block`` whose ``keep`` is true, as one buffer: the runs of kept lines are
    cut out whole (only the line starts up to the last dropped line are looked for)."""
    runs, pos, run_start = [], 0, None
    last_drop = max((i for i, k in enumerate(keep) if not k), default=-1)
    for i in range(last_drop + 1):
        end = block.index(b"\n", pos) + 1
        if keep[i]:
            if run_start is None:
                run_start = pos
        elif run_start is not None:
            runs.append(block[run_start:pos])
            run_start = None
        pos = end
    if run_start is None:
        run_start = pos
    runs.append(block[run_start:])
    return b"".join(runs)


def _parse_lines(data: bytes, numbers: pl.Series, padded: pl.Series, nulls: pl.Series,
                 state: _ReadState) -> list[pl.DataFrame]:
    """Parse lines that each passed the record check; the parser must give one row per line.
    Where it does not (a character the check lets through but the parser reads as a line
    break), halve the lines until the culprit is alone, and reject it alone."""
    frame = _parse(data, state.columns)
    if frame.height == len(numbers):
        state.records += len(numbers)
        return [_with_line_columns(frame, numbers, padded, nulls)]
    if len(numbers) == 1:
        state.rejected.append(Rejected(state.name, int(numbers[0]),
                                       "holds a character the CSV parser reads as a line break (e.g. a lone carriage return)"))
        return []
    h = len(numbers) // 2
    cut = _tail(data, len(numbers) - h)
    head = data[:len(data) - len(cut)]
    return (_parse_lines(head, numbers[:h], padded[:h], nulls[:h], state)
            + _parse_lines(cut, numbers[h:], padded[h:], nulls[h:], state))


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


def _split(record: str) -> list[str]:
    try:
        return next(csv.reader([record], strict=True))
    except (csv.Error, StopIteration):
        return []
