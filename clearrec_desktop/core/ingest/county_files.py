"""County case-management files (CSV or Excel, one row per charge) through a column mapping.

A mapping names the file's column for each field (``FIELDS``) plus a few options. The importer
builds a DOJ-shaped raw frame from the mapped columns (all text, ``doj.USED_COLUMNS``) and hands
it to ``normalise.normalise_doj``, so code sections, qualifiers, dates, levels and counties are
normalised exactly as for DOJ extracts. What county files lack is synthesised here: the person
key, the cycle / step / count keys, the "CONVICTED" disposition prefix and the sentence parts.

Spreadsheets are read with calamine (through fastexcel / ``pl.read_excel``): cached cell values
only, formulas are never evaluated and macros never run. Nothing personal (names, dates of
birth, CII numbers) goes into an error message or a report note: they name the file, the line
and the column only.
"""

from __future__ import annotations

import contextvars
import csv
import hashlib
import hmac
import math
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from ..errors import Cancelled, InputError
from ..safety import local_path
from . import doj
from .county_mapping import (
    DEFAULT_CONVICTED,
    DEFAULT_NOT_CONVICTED,
    FIELDS,
    Mapping,
    _strptime_format,
    check_mapping,
    load_mapping,
)
from .normalise import normalise_doj
from .report import FileReport
from .spreadsheets import (
    MAX_CSV_BYTES,
    MAX_SPREADSHEET_BYTES,
    MAX_WORKBOOK_MEMORY,
    SPREADSHEET_SUFFIXES,
    _load_sheet,
)
from .spreadsheets import workbook_memory as _workbook_memory


def workbook_memory(path: Path, mapping=None) -> int | None:
    """The estimated memory of importing a workbook (``spreadsheets.SheetCost``), or None."""
    try:
        m = load_mapping(mapping) if mapping is not None else None
    except Exception:
        m = None
    estimate = _workbook_memory(Path(path), m)
    # Above the per-workbook bound the read refuses it with the reason (a crafted workbook).
    return None if estimate is None else min(estimate, MAX_WORKBOOK_MEMORY)

_MAX_QUOTED_SPAN = 50                 # physical lines one quoted field may run over
_CSV_BATCH_ROWS = 50_000

_PLACEHOLDERS = ("NULL", "N/A", "NONE")
# Python's csv refuses fields over 128 KB by default, which would reject a line with a long
# quoted note as "bad quoting"; the file as a whole is bounded by MAX_CSV_BYTES.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024**2))

# --- reading the table -------------------------------------------------------------------------

@dataclass
class _Table:
    frame: pl.DataFrame          # one String column per mapped field + source_line
    lines_read: int
    blank_lines: int
    rejected: list[dict]
    notes: list[str]


def _file_kind(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        return "spreadsheet"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path.name}: this is a spreadsheet or other binary file, not CSV text; "
                         "if it is a workbook, rename it to .xlsx (or .xls) and import it again")
    return "csv"


def _resolve(mapping: Mapping, header: list[str], file_name: str, header_line: int) -> dict[str, int]:
    """Field -> column index in the file; mapped columns missing from the header are an error."""
    names = [h.strip() if h else "" for h in header]
    found, missing = {}, []
    for f, col in mapping.columns.items():
        hits = [i for i, h in enumerate(names) if h == col] or \
               [i for i, h in enumerate(names) if h.casefold() == col.casefold()]
        if len(hits) > 1:
            raise InputError(f"{file_name}: the column {col!r} appears {len(hits)} times in the header (line {header_line}); "
                             "rename one of them in the file")
        if hits:
            found[f] = hits[0]
        else:
            missing.append(col)
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        if found:
            have = [n[:40] for n in names if n][:40]
            raise InputError(f"{file_name}: the mapped column(s) {shown} are not in the file; "
                             f"its columns are: {', '.join(repr(n) for n in have)}")
        # Nothing matched: the row may be data rather than a header, so its values are not shown.
        raise InputError(f"{file_name}: none of the mapped columns ({shown}) is in the header row (line {header_line}); "
                         "check that the file has a header row and that the mapping is for this file")
    return found


def _decode(data: bytes, notes: list[str], name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append("the file is UTF-16 text (read as such)")
        text = data.decode("utf-16", errors="replace")  # a cut-short or damaged file must not stop the import
        if "\ufffd" in text:
            notes.append("some characters could not be read as UTF-16 (shown as \ufffd)")
        return text
    if b"\x00" in data[:65536]:
        raise InputError(f"{name}: this is a binary file, not CSV text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        notes.append("the file is not UTF-8; it was read as Windows-1252 (cp1252) text")
        return data.decode("cp1252", errors="replace")


def _split_lines(text: str) -> list[str]:
    if "\n" not in text and "\r" in text:  # classic Mac line ends
        lines = text.split("\r")
    else:
        lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the line end of the last line is not a line
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Feed:
    """Physical lines for csv.reader, counted, and never more than ``stop`` (so one stray quote
    cannot swallow the rest of the file)."""

    __slots__ = ("lines", "i", "stop")

    def __init__(self, lines: list[str], i: int):
        self.lines, self.i, self.stop = lines, i, i

    def __iter__(self):
        return self

    def __next__(self) -> str:
        i = self.i
        if i >= self.stop:
            raise StopIteration
        self.i = i + 1
        return self.lines[i] + "\n"  # the line end keeps line breaks inside quoted fields


def _iter_records(lines: list[str], start: int, delim: str, n_fields: int, cancel=None):
    """Yield (line number, fields or None, reason) for each non-blank record from ``lines[start]``;
    blank lines yield (line number, None, None). A quoted field may run over several physical
    lines; a line that cannot be read is reported alone and reading resumes on the next line."""
    total = len(lines)
    feed = _Feed(lines, start)
    reader = csv.reader(feed, delimiter=delim, strict=True)
    done = 0
    while feed.i < total:
        begin = feed.i
        done += 1
        if cancel is not None and done % 65536 == 0 and cancel.is_set():
            raise Cancelled()
        if not lines[begin].strip():
            feed.i = begin + 1
            yield begin + 1, None, None
            continue
        feed.stop = min(total, begin + _MAX_QUOTED_SPAN)
        try:
            rec = next(reader)
        except csv.Error as exc:
            open_quote = feed.i - begin > 1 or "unexpected end of data" in str(exc)
            reason = ("unbalanced double quote (bad quoting)" if open_quote
                      else "text after a closing double quote (bad quoting)")
        else:
            if len(rec) == n_fields:
                yield begin + 1, rec, None
                continue
            reason = (f"has {len(rec)} fields, expected {n_fields} like the header" if feed.i - begin == 1
                      else "unbalanced double quote (bad quoting)")
        # Report the first line alone and read on from the next one with a fresh reader.
        yield begin + 1, None, reason
        feed.i = begin + 1
        reader = csv.reader(feed, delimiter=delim, strict=True)


def _header_index(lines: list[str], header_row: int | None, name: str) -> int:
    if header_row is not None:
        if header_row > len(lines) or not lines[header_row - 1].strip():
            raise InputError(f"{name}: the header row (line {header_row}) is empty or beyond the end of the file")
        return header_row - 1
    for i, line in enumerate(lines):
        if line.strip():
            return i
    raise InputError(f"{name}: the file is empty")


def _csv_header(lines: list[str], h: int, delim: str, name: str) -> list[str]:
    try:
        header = next(csv.reader([lines[h]], delimiter=delim, strict=True))
    except csv.Error:
        raise InputError(f"{name}: the header (line {h + 1}) could not be read (bad quoting)") from None
    return [x.strip() for x in header]


def _read_csv(path: Path, mapping: Mapping, cancel) -> _Table:
    notes: list[str] = []
    lines = _split_lines(_decode(path.read_bytes(), notes, path.name))
    opts = mapping.options
    h = _header_index(lines, opts.get("header_row"), path.name)
    delim = opts.get("delimiter") or _sniff_delimiter(lines[h])
    header = _csv_header(lines, h, delim, path.name)
    cols = _resolve(mapping, header, path.name, h + 1)
    fields, idx = list(cols), list(cols.values())
    values: list[list[str]] = [[] for _ in fields]
    line_nos: list[int] = []
    rejected: list[dict] = []
    chunks: list[pl.DataFrame] = []
    blank = 0

    def flush() -> None:  # into polars every so often: Python strings cost several times more memory
        chunks.append(pl.DataFrame([pl.Series(f, v, dtype=pl.String) for f, v in zip(fields, values)]
                                   + [pl.Series("source_line", line_nos, dtype=pl.Int64)]))
        for v in values:
            v.clear()
        line_nos.clear()

    for line_no, rec, reason in _iter_records(lines, h + 1, delim, len(header), cancel):
        if rec is None:
            if reason is None:
                blank += 1
            else:
                rejected.append({"file": path.name, "line": line_no, "reason": reason})
            continue
        if not any(x.strip() for x in rec):  # a line of bare delimiters
            blank += 1
            continue
        for k, ci in enumerate(idx):
            values[k].append(rec[ci])
        line_nos.append(line_no)
        if len(line_nos) >= _CSV_BATCH_ROWS:
            flush()
    flush()
    frame = pl.concat(chunks) if len(chunks) > 1 else chunks[0]
    return _Table(frame, len(lines), blank, rejected, notes)

def _read_spreadsheet(path: Path, mapping: Mapping, cancel) -> _Table:
    formulas: list[tuple[int, int, str]] = []
    frame, first, h, notes = _load_sheet(path, mapping, formulas=formulas)
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    header = [("" if v is None else str(v)) for v in frame.drop("_blank").row(h)]
    cols = _resolve(mapping, header, path.name, first + h)
    data = frame.slice(h + 1).with_row_index("_i")
    n_blank = int(data["_blank"].sum())
    out = data.filter(~pl.col("_blank")).select(
        *[pl.col(frame.columns[i]).alias(f) for f, i in cols.items()],
        (pl.col("_i").cast(pl.Int64) + (first + h + 1)).alias("source_line"),
    )
    rejected: list[dict] = []
    if formulas:
        # A formula without a saved value reads as an empty cell: a name or a date would vanish
        # without a word. Such a row is kept out of the import until the workbook is saved by a
        # spreadsheet program (which stores the values); elsewhere it is only noted.
        mapped = set(cols.values())
        bad: dict[int, list[str]] = {}
        elsewhere = 0
        for row_no, col_index, ref in formulas:
            if row_no > first + h and col_index in mapped:
                bad.setdefault(row_no, []).append(ref)
            else:
                elsewhere += 1
        for row_no in sorted(bad):
            rejected.append({"file": path.name, "line": row_no, "reason":
                             f"cell {', '.join(bad[row_no][:3])} holds a formula with no saved value (the workbook "
                             "was not calculated and saved by a spreadsheet program); open it in Excel or LibreOffice, "
                             "save it, and import it again"})
        if bad:
            out = out.filter(~pl.col("source_line").is_in(list(bad)))
            notes.append(f"{len(bad):,} row(s) left out until fixed: a mapped cell holds a formula with no saved value "
                         "(open the workbook in a spreadsheet program, save it, and import it again)")
        if elsewhere:
            notes.append(f"{elsewhere:,} cell(s) outside the mapped columns hold a formula with no saved value (ignored)")
    return _Table(out, first + frame.height - 1, n_blank, rejected, notes)


# --- values ------------------------------------------------------------------------------------

_TIME_TAIL = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AP]M)?)$", re.I)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_US = re.compile(r"^(\d{1,2})([/-])(\d{1,2})\2(\d{4})$")
_SERIAL = re.compile(r"^(\d{4,5})(?:\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(text: str | None, date_format: str | None = None, *, spreadsheet: bool = False) -> str | None:
    """A date as ``YYYYMMDD``; text that is not a date is returned unchanged, so normalisation
    marks it invalid and the conviction goes to review (an unknown date never gives relief)."""
    if text is None:
        return None
    s = text.strip()
    core = _TIME_TAIL.sub("", s).strip()
    ymd = None
    if date_format:
        fmt = _strptime_format(date_format)
        for candidate in (s, core):
            try:
                d = datetime.strptime(candidate, fmt)
                ymd = (d.year, d.month, d.day)
                break
            except ValueError:
                continue
    if ymd is None and (m := _ISO.match(core)):  # unambiguous, and how calamine writes Excel dates
        ymd = (int(m[1]), int(m[2]), int(m[3]))
    if ymd is None and not date_format:
        if m := _COMPACT.match(core):
            ymd = (int(m[1]), int(m[2]), int(m[3]))
        elif m := _US.match(core):
            ymd = (int(m[4]), int(m[1]), int(m[3]))
    if ymd is None and spreadsheet and (m := _SERIAL.match(s)):
        serial = int(m[1])
        if 3654 <= serial <= 73415:  # 1910-01-01 .. 2100-12-31: a number stored in a date column
            d = date.fromordinal(_EXCEL_EPOCH.toordinal() + serial)
            ymd = (d.year, d.month, d.day)
    if ymd is None:
        return s
    try:
        d = date(*ymd)
    except ValueError:
        return s
    # calamine shows a time-only cell (or serial 0/1) as 1899-12-30/31: not a date
    if not (1880 <= d.year <= 2100) or (spreadsheet and d < date(1900, 1, 1)):
        return s
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


_LEVELS = {
    "F": "FELONY", "FEL": "FELONY", "FELONY": "FELONY",
    "M": "MISDEMEANOR", "MIS": "MISDEMEANOR", "MISD": "MISDEMEANOR", "MISDEMEANOR": "MISDEMEANOR",
    "MISDEMEANOUR": "MISDEMEANOR",
    "I": "INFRACTION", "INF": "INFRACTION", "INFR": "INFRACTION", "INFRACTION": "INFRACTION",
}


def parse_level(text: str | None) -> str | None:
    """F/FEL/FELONY -> FELONY, M/MISD/MISDEMEANOR -> MISDEMEANOR, I/INF/INFRACTION -> INFRACTION;
    anything else is unknown (blank), which sends the conviction to review."""
    if text is None:
        return None
    return _LEVELS.get(re.sub(r"[^A-Z]", "", text.upper()))


def disposition_text(text: str | None, convicted=DEFAULT_CONVICTED, not_convicted=DEFAULT_NOT_CONVICTED) -> str | None:
    """DISP_DESCR for a county disposition: ``CONVICTED-`` + the text for a conviction, else the
    text (never starting with CONVICTED, which the normaliser reads as a conviction)."""
    if text is None:
        return None
    original = text.strip()
    up = " ".join(original.upper().split())
    is_conv = any(up.startswith(c.upper()) for c in convicted) and not any(x.upper() in up for x in not_convicted)
    if is_conv:
        return "CONVICTED-" + original
    return ("NOT COUNTED AS A CONVICTION: " + original) if up.startswith("CONVICTED") else original


_UNIT_RE = (r"(?P<n>\d+(?:\.\d+)?)\s*(?P<u>DAYS?|DYS?|D|WEEKS?|WKS?|WK|W|MONTHS?|MTHS?|MOS?|MO|M|YEARS?|YRS?|YR|Y)"
            r"(?![A-Z])")
_LOCATIONS = (  # first match wins
    ("SUSPENDED", r"SUSP"),
    ("CREDIT TIME SERVED", r"TIME SERVED|\bCTS\b|\bCREDIT\b"),
    ("PRISON", r"PRISON|\bCDCR?\b|\bDOC\b|\bSTATE\s+PRIS"),
    ("PROBATION", r"\bPROB"),
    ("JAIL", r"JAIL|\bCJ\b|\bCUSTODY\b"),
    ("FINE", r"\bFINE|\$"),
    ("RESTITUTION", r"RESTITUTION"),
)
_NO_TIME = ("SUSPENDED", "CREDIT TIME SERVED", "FINE", "RESTITUTION")
_SPLIT = re.compile(r";|\+|&|\bAND\b|/|,(?!\d{3}\b)")


def parse_sentence(text: str | None) -> tuple[str | None, str | None, str | None]:
    """(SENT_LENGTH, SENT_TIME_CODE D/M/Y, SENT_LOC_DESCR) of the longest timed part of a free-text
    sentence ("90 DAYS JAIL; 3 YRS PROBATION" -> 3, Y, PROBATION). A part without a time (a fine,
    time served, a suspended term) ends at the conviction. Anything not understood, or jail,
    prison or probation without a length, makes the whole sentence unknown (all blank)."""
    if text is None or not text.strip():
        return None, None, None
    parts = [p.strip() for p in _SPLIT.split(text.upper())]
    timed, untimed = [], []
    for part in parts:
        if not part:
            continue
        loc = next((name for name, rx in _LOCATIONS if re.search(rx, part)), None)
        times = list(re.finditer(_UNIT_RE, part))
        if loc is None or len(times) > 1:
            return None, None, None
        if loc in _NO_TIME:
            untimed.append(loc)
            continue
        if not times:
            return None, None, None
        length, unit = _length_unit(float(times[0]["n"]), times[0]["u"])
        timed.append((_days(length, unit), length, unit, loc))
    if timed:
        _, length, unit, loc = max(timed, key=lambda t: t[0])
        return str(length), unit, loc
    if untimed:
        return None, None, untimed[0]
    return None, None, None


def _length_unit(n: float, u: str) -> tuple[int, str]:
    u = u[0]
    if u == "W":
        n, u = n * 7, "D"
    if n != int(n):  # 1.5 YEARS -> 18 M; fractions of days round up (a later end is the safe side)
        if u == "Y" and (n * 12) == int(n * 12):
            return int(n * 12), "M"
        return math.ceil(n * (365.25 if u == "Y" else 30.44 if u == "M" else 1)), "D"
    return int(n), u


def _days(length: int, unit: str) -> float:
    return length * {"D": 1.0, "M": 30.44, "Y": 365.25}[unit]


def _gender(text: str | None) -> str | None:
    if text is None:
        return None
    up = text.strip().upper()
    return {"MALE": "M", "FEMALE": "F"}.get(up, up)  # the DOJ extract writes M / F / X


def _county(text: str | None) -> str | None:
    if text is None:
        return None
    up = " ".join(text.upper().split())
    up = re.sub(r"\s+COUNTY$", "", up)
    return up or None


# People known only by name and date of birth get an id keyed with a secret, never a plain
# hash of the two (which anyone could recompute by guessing a name and a date): the workspace's
# own secret when the import is for a workspace (``person_ids_keyed``), so re-imports keep
# their ids; otherwise a secret made for this run of the program, so one run's ids agree
# across its files and mean nothing outside it.
_PROCESS_PERSON_KEY = secrets.token_bytes(32)
_person_key_var: contextvars.ContextVar[bytes | None] = contextvars.ContextVar("clearrec_person_key", default=None)


@contextmanager
def person_ids_keyed(key: bytes | str | None):
    """Key the name + date-of-birth ids of the imports run inside this block (this thread)."""
    if isinstance(key, str):
        key = bytes.fromhex(key) if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", key) else key.encode("utf-8")
    token = _person_key_var.set(key or None)
    try:
        yield
    finally:
        _person_key_var.reset(token)


def person_key(name: str, dob: str) -> str | None:
    """A stable id from name (its letters) and date of birth (as imported, normally YYYYMMDD);
    the N prefix keeps it apart from DOJ subject ids."""
    letters = re.sub(r"[^A-Z]", "", (name or "").upper())
    if not letters or not (dob or "").strip():
        return None
    return _hash_key(letters + "|" + dob.strip().upper())


def _hash_key(key: str | None) -> str | None:
    if key is None:
        return None
    secret = _person_key_var.get() or _PROCESS_PERSON_KEY
    return "N" + hmac.new(secret, key.encode("utf-8"), hashlib.sha256).hexdigest()[:15].upper()


def _map_unique(df: pl.DataFrame, keys: list[str], fn, outs: list[str]) -> pl.DataFrame:
    """Apply a Python function once per distinct key tuple and join the results back."""
    uniq = df.select(keys).unique()
    results = [fn(*row) for row in uniq.iter_rows()]
    cols = list(zip(*results)) if results else [() for _ in outs]
    table = uniq.with_columns([pl.Series(o, list(c), dtype=pl.String) for o, c in zip(outs, cols)])
    looked = df.select(keys).join(table, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return df.with_columns(looked.select(outs).get_columns())


# --- the import --------------------------------------------------------------------------------

def import_mapped(path: Path, mapping, *, cancel=None):
    """Read a county file through ``mapping`` into the internal schema (as ``importer.normalise_doj``
    produces it). Returns (rows, FileReport); sha256 is left for the caller to fill in."""
    path = local_path(path)
    m = load_mapping(mapping)
    check_mapping(m, path.name)
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path.name}: the file is empty")
    kind = _file_kind(path)
    limit = MAX_SPREADSHEET_BYTES if kind == "spreadsheet" else MAX_CSV_BYTES
    if size > limit:
        raise InputError(f"{path.name}: {size / 1024**2:,.0f} MB is larger than the {limit // 1024**2} MB this program "
                         f"imports from one county {'spreadsheet' if kind == 'spreadsheet' else 'file'}; "
                         "split it (e.g. by year) or export only the mapped columns")
    table = _read_spreadsheet(path, m, cancel) if kind == "spreadsheet" else _read_csv(path, m, cancel)
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    raw, rejected, notes = _doj_shaped(table, m, spreadsheet=kind == "spreadsheet", file_name=path.name)
    rejected = sorted(table.rejected + rejected, key=lambda r: r["line"])
    frame = normalise_doj(raw, path.name)
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    report = FileReport(
        file=path.name, kind="mapped", sha256="", size=size, lines_read=table.lines_read,
        rows_imported=frame.height, has_header=True, blank_lines=table.blank_lines, rejected=rejected,
    )
    report.notes = table.notes + notes
    return frame, report


def _doj_shaped(table: _Table, m: Mapping, *, spreadsheet: bool, file_name: str) -> tuple[pl.DataFrame, list[dict], list[str]]:
    """The mapped columns -> DOJ columns (text) + source_line + q_padded / q_null_placeholder."""
    opts, notes = m.options, []
    df = table.frame
    fields = [f for f in FIELDS if f in df.columns]
    padded = [pl.col(f) != pl.col(f).str.strip_chars() for f in fields]
    placeholder = [pl.col(f).str.strip_chars().str.to_uppercase().is_in(_PLACEHOLDERS) for f in fields]
    df = df.with_columns(
        (pl.any_horizontal(padded).fill_null(False) if fields else pl.lit(False)).alias("q_padded"),
        (pl.any_horizontal(placeholder).fill_null(False) if fields else pl.lit(False)).alias("q_null_placeholder"),
    )
    cleaned = []
    for f in FIELDS:
        if f in fields:
            s = pl.col(f).str.strip_chars()
            cleaned.append(pl.when((s == "") | s.str.to_uppercase().is_in(_PLACEHOLDERS)).then(None).otherwise(s).alias(f))
        else:
            cleaned.append(pl.lit(None, dtype=pl.String).alias(f))
    df = df.with_columns(cleaned)

    fmt = opts.get("date_format")
    df = _map_unique(df, ["conviction_date"], lambda v: (parse_date(v, fmt, spreadsheet=spreadsheet),), ["_date"])
    df = _map_unique(df, ["dob"], lambda v: (parse_date(v, fmt, spreadsheet=spreadsheet),), ["_dob"])
    df = _map_unique(df, ["level"], lambda v: (parse_level(v),), ["_level"])
    convicted = tuple(opts.get("convicted") or DEFAULT_CONVICTED)
    not_convicted = tuple(opts["not_convicted"]) if "not_convicted" in opts else DEFAULT_NOT_CONVICTED
    if "disposition" in m.columns:
        df = _map_unique(df, ["disposition"], lambda v: (disposition_text(v, convicted, not_convicted),), ["_disp"])
    else:
        df = df.with_columns(pl.lit("CONVICTED").alias("_disp"))
        notes.append("no disposition column is mapped: every row is treated as a conviction")
    df = _map_unique(df, ["sentence"], parse_sentence, ["_sent_len", "_sent_unit", "_sent_loc"])
    # name + DOB -> a keyed id (see _hash_key), with hashlib: polars' hash may change between versions
    letters = pl.col("name").str.to_uppercase().str.replace_all("[^A-Z]", "")
    df = df.with_columns(pl.when(letters != "").then(pl.concat_str([letters, pl.lit("|"), pl.col("_dob").str.to_uppercase()]))
                         .alias("_nk"))
    df = _map_unique(df, ["_nk"], lambda k: (_hash_key(k),), ["_nkey"])
    df = _map_unique(df, ["gender"], lambda v: (_gender(v),), ["_gender"])
    df = _map_unique(df, ["county"], lambda v: (_county(v),), ["_county"])
    fallback_county = _county(opts.get("county"))
    df = df.with_columns(
        pl.coalesce(pl.col("subject_id"), pl.lit("C") + pl.col("cii_number"), pl.col("_nkey")).alias("_sid"),
        pl.coalesce(pl.col("_county"), pl.lit(fallback_county, dtype=pl.String)).alias("_county"),
    )

    # Counts for the notes (no values: they may be personal).
    def count(expr: pl.Expr) -> int:
        return int(df.select(expr.fill_null(False).sum()).item() or 0) if df.height else 0

    n_level = count(pl.col("level").is_not_null() & pl.col("_level").is_null())
    if n_level:
        notes.append(f"{n_level:,} row(s) have a level that is not F, M or I (left blank: attorney review)")
    n_date = count(pl.col("conviction_date").is_not_null() & ~pl.col("_date").str.contains(r"^\d{8}$"))
    if n_date:
        notes.append(f"{n_date:,} row(s) have a conviction date that could not be read (attorney review)")
    n_sent = count(pl.col("sentence").is_not_null() & pl.col("_sent_loc").is_null())
    if n_sent:
        notes.append(f"{n_sent:,} row(s) have a sentence that could not be read (sentence unknown)")
    if "disposition" in m.columns:
        n_blank_disp = count(pl.col("disposition").is_null())
        if n_blank_disp:
            notes.append(f"{n_blank_disp:,} row(s) have no disposition and were not treated as convictions")
    n_named = count(pl.col("_sid").str.starts_with("N") & pl.col("subject_id").is_null() & pl.col("cii_number").is_null())
    if n_named:
        notes.append(f"{n_named:,} row(s) identify the person by name and date of birth only")
    n_no_county = count(pl.col("_county").is_null())
    if n_no_county:
        notes.append(f"{n_no_county:,} row(s) have no county")

    no_person = df.filter(pl.col("_sid").is_null())
    rejected = [{"file": file_name, "line": int(ln),
                 "reason": "no subject id, CII number, or name with date of birth to tell whose record it is"}
                for ln in no_person["source_line"].to_list()]
    df = df.filter(pl.col("_sid").is_not_null())

    # Keys. Everything is sorted on content first, so the order of rows in the file never
    # changes which case is cycle 1 or which charge is count 1.
    df = df.with_columns(
        pl.when(pl.col("court_case_number").is_not_null()).then(pl.col("court_case_number").str.to_uppercase())
        .otherwise(pl.lit("\x00") + pl.col("_date").fill_null("")).alias("_case"),
        pl.when(pl.col("_date").str.contains(r"^\d{8}$")).then(pl.col("_date")).otherwise(pl.lit("99999999")).alias("_sortdate"),
    )
    cases = (df.group_by("_sid", "_case").agg(pl.col("_sortdate").min().alias("_casedate"))
             .sort("_sid", "_casedate", "_case")
             .with_columns(pl.int_range(1, pl.len() + 1).over("_sid").alias("_cycle")))
    df = df.join(cases.select("_sid", "_case", "_cycle"), on=["_sid", "_case"], how="left", maintain_order="left")
    content = pl.concat_str([pl.col(c).fill_null("") for c in (
        "_sortdate", "code_section", "_level", "_disp", "sentence", "courthouse", "_county", "name", "_dob", "cii_number",
        "race", "_gender", "conviction_date", "level", "disposition", "dob", "county", "court_case_number", "subject_id")],
        separator="\x1f")
    # numbered on a narrow frame: sorting the wide one would copy every column twice
    counts = (df.select(pl.int_range(pl.len()).alias("_row"), "_sid", "_case", content.alias("_content"), "source_line")
              .sort("_sid", "_case", "_content", "source_line")
              .select("_row", pl.int_range(1, pl.len() + 1).over("_sid", "_case").alias("_count"))
              .sort("_row"))
    df = df.with_columns(counts["_count"])
    cyc = pl.col("_cycle").cast(pl.String).str.zfill(3)
    raw = df.select(
        pl.col("_sid").alias("SUBJECT_ID"),
        pl.col("cii_number").alias("CII_NUMBER"),
        pl.col("name").alias("PRI_NAME"),
        pl.col("_gender").alias("GENDER"),
        pl.col("_dob").alias("PRI_DOB"),
        pl.col("race").str.to_uppercase().alias("RACE_DESCR"),
        cyc.alias("CYC_ORDER"),
        pl.col("_date").alias("CYC_DATE"),
        pl.lit("001").alias("STP_ORDER"),
        pl.col("_date").alias("STP_EVENT_DATE"),
        pl.lit("COURT ACTION").alias("STP_TYPE_DESCR"),
        pl.col("courthouse").alias("STP_ORI_DESCR"),
        pl.col("_county").alias("STP_ORI_CNTY_NAME"),
        pl.concat_str([cyc, pl.lit("001"), pl.col("_count").cast(pl.String).str.zfill(3), pl.lit("000")]).alias("CNT_ORDER"),
        pl.col("court_case_number").alias("OFN"),
        pl.col("code_section").alias("OFFENSE_DESCR"),
        pl.col("_disp").alias("DISP_DESCR"),
        pl.col("_level").alias("CONV_STAT_DESCR"),
        pl.col("_sent_loc").alias("SENT_LOC_DESCR"),
        pl.col("_sent_len").alias("SENT_LENGTH"),
        pl.col("_sent_unit").alias("SENT_TIME_CODE"),
        "source_line", "q_padded", "q_null_placeholder",
    )
    raw = raw.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in doj.USED_COLUMNS if c not in raw.columns])
    return raw.select(*doj.USED_COLUMNS, "source_line", "q_padded", "q_null_placeholder"), rejected, notes


# --- preview -----------------------------------------------------------------------------------

_PREVIEW_BYTES = 4 * 1024**2


def preview(path, n: int = 20, *, sheet=None, header_row: int | None = None) -> tuple[list[str], list[list[str]]]:
    """The header and the first ``n`` rows as text, for the GUI's mapping step."""
    path = local_path(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: the file is empty")
    if _file_kind(path) == "spreadsheet":
        if path.stat().st_size > MAX_SPREADSHEET_BYTES:
            raise InputError(f"{path.name}: larger than the {MAX_SPREADSHEET_BYTES // 1024**2} MB this program imports "
                             "from one spreadsheet")
        frame, first, h, _ = _load_sheet(path, Mapping({}, {}), sheet=sheet, header_row=header_row)
        frame = frame.drop("_blank")
        header = ["" if v is None else str(v).strip() for v in frame.row(h)]
        rows = []
        for row in frame.slice(h + 1).iter_rows():
            if any(v is not None and str(v).strip() for v in row):
                rows.append(["" if v is None else _tidy(str(v)) for v in row])
            if len(rows) >= n:
                break
        return header, rows
    with open(path, "rb") as fh:
        data = fh.read(_PREVIEW_BYTES + 1)
    if len(data) > _PREVIEW_BYTES:
        data = data[: data.rfind(b"\n", 0, _PREVIEW_BYTES) + 1 or _PREVIEW_BYTES]
    lines = _split_lines(_decode(data, [], path.name))
    h = _header_index(lines, header_row, path.name)
    delim = _sniff_delimiter(lines[h])
    header = _csv_header(lines, h, delim, path.name)
    rows = []
    for _, rec, _ in _iter_records(lines, h + 1, delim, len(header)):
        if rec is not None and any(x.strip() for x in rec):
            rows.append([x.strip() for x in rec])
        if len(rows) >= n:
            break
    return header, rows


def _tidy(value: str) -> str:
    return value[:-9] if value.endswith(" 00:00:00") else value
