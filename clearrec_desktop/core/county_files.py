"""County case-management files (CSV or Excel, one row per charge) through a column mapping.

A mapping names the file's column for each field (``FIELDS``) plus a few options. The importer
builds a DOJ-shaped raw frame from the mapped columns (all text, ``doj.USED_COLUMNS``) and hands
it to ``importer.normalise_doj``, so code sections, qualifiers, dates, levels and counties are
normalised exactly as for DOJ extracts. What county files lack is synthesised here: the person
key, the cycle / step / count keys, the "CONVICTED" disposition prefix and the sentence parts.

Spreadsheets are read with calamine (through fastexcel / ``pl.read_excel``): cached cell values
only, formulas are never evaluated and macros never run. Nothing personal (names, dates of
birth, CII numbers) goes into an error message or a report note: they name the file, the line
and the column only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import tomllib
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import polars as pl

from . import doj
from .errors import Cancelled, InputError
from .safety import local_path

FIELDS = ("subject_id", "name", "dob", "cii_number", "court_case_number", "courthouse", "county",
          "conviction_date", "code_section", "level", "disposition", "sentence", "race", "gender")
REQUIRED = ("court_case_number", "conviction_date", "code_section")
LABELS = {
    "subject_id": "Person / subject id", "name": "Name", "dob": "Date of birth", "cii_number": "CII number",
    "court_case_number": "Court case number", "courthouse": "Courthouse", "county": "County",
    "conviction_date": "Conviction date", "code_section": "Charge (code section)", "level": "Level (F/M/I)",
    "disposition": "Disposition", "sentence": "Sentence", "race": "Race", "gender": "Gender",
}
OPTIONS = ("date_format", "county", "sheet", "header_row", "convicted", "not_convicted", "delimiter")
DEFAULT_CONVICTED = ("CONVICTED", "CONVICTION", "GUILTY", "PLED GUILTY", "PLEA", "NOLO")
# A disposition containing one of these is never a conviction, whatever it starts with:
# "PLEA OF NOT GUILTY" starts with PLEA, "CONVICTION VACATED" with CONVICTION.
DEFAULT_NOT_CONVICTED = ("NOT GUILTY", "ACQUIT", "VACATED", "REVERSED", "WITHDRAWN")

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
# Refused up front: a county file is a few hundred thousand rows, far below these. Importing a
# CSV peaks at about 11x its size in memory (300k rows, 43 MB: 0.47 GB), so 200 MB needs ~2.2 GB.
MAX_CSV_BYTES = 200 * 1024**2
MAX_SPREADSHEET_BYTES = 200 * 1024**2
MAX_UNZIPPED_BYTES = 1024**3          # all parts of an .xlsx / .ods together, once decompressed
MAX_ZIP_MEMBERS = 10_000
_BOMB_RATIO = 100                     # unpacked / packed size of one part
_BOMB_MIN_BYTES = 16 * 1024**2        # parts smaller than this unpacked are never refused for their ratio
# calamine holds a sheet as a dense grid of every cell between the first and last value (about
# 50 bytes a cell measured for .xlsx, 100 for .ods), so the grid is bounded before it is read: a
# two-cell sheet with values in A1 and XFD1048576 would ask for 17 billion cells and abort.
MAX_SHEET_CELLS = 10 * 1024**2        # e.g. 400,000 rows x 26 columns: about 550 MB
MAX_ODS_CELLS = MAX_SHEET_CELLS // 2  # calamine's .ods cells take about twice the memory
_MAX_QUOTED_SPAN = 50                 # physical lines one quoted field may run over
_CSV_BATCH_ROWS = 50_000

_PLACEHOLDERS = ("NULL", "N/A", "NONE")
# Python's csv refuses fields over 128 KB by default, which would reject a line with a long
# quoted note as "bad quoting"; the file as a whole is bounded by MAX_CSV_BYTES.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024**2))


# --- the mapping -------------------------------------------------------------------------------

@dataclass
class Mapping:
    columns: dict[str, str]                     # field -> the file's column header
    options: dict = field(default_factory=dict)  # date_format, county, sheet, header_row, convicted, ...

    def to_dict(self) -> dict:
        return {"columns": dict(self.columns), "options": dict(self.options)}


def mapping_fields() -> list[tuple[str, str, bool]]:
    """(field id, label, required) for the GUI's mapping step."""
    return [(f, LABELS[f], f in REQUIRED) for f in FIELDS]


def load_mapping(source) -> Mapping:
    """A mapping from a TOML file ([columns], [options]), a dict of that shape, a flat dict
    {field: column} (what the GUI's mapping dialog returns), or a Mapping."""
    if isinstance(source, Mapping):
        return _parse_mapping(source.to_dict(), "the column mapping")
    if isinstance(source, dict):
        return _parse_mapping(source, "the column mapping")
    path = local_path(source, what="mapping file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: the mapping file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not a valid mapping file ({exc})") from None
    return _parse_mapping(data, path.name)


def _parse_mapping(data: dict, where: str) -> Mapping:
    if "columns" in data and isinstance(data["columns"], dict):
        columns, options = data["columns"], data.get("options", {}) or {}
        extra = [k for k in data if k not in ("columns", "options")]
        if extra:
            raise InputError(f"{where}: unknown section(s) {', '.join(map(str, extra))}; a mapping has [columns] and [options]")
    else:  # flat {field: column}, optionally with "options"
        columns = {k: v for k, v in data.items() if k != "options"}
        options = data.get("options", {}) or {}
    unknown = [k for k in columns if k not in FIELDS]
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}; "
                         f"the fields are {', '.join(FIELDS)}")
    cols = {}
    for f in FIELDS:  # field order, blank entries meaning "not in this file"
        v = columns.get(f)
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if not isinstance(v, str):
            raise InputError(f"{where}: the column for {f} must be a column name in quotes")
        cols[f] = v.strip()
    if not isinstance(options, dict):
        raise InputError(f"{where}: [options] must be a table")
    return Mapping(cols, _check_options(options, where))


def _check_options(options: dict, where: str) -> dict:
    unknown = [k for k in options if k not in OPTIONS]
    if unknown:
        raise InputError(f"{where}: unknown option(s) {', '.join(map(str, unknown))}; the options are {', '.join(OPTIONS)}")
    out: dict = {}
    for k, v in options.items():
        if v is None or v == "":
            continue
        bad = f"{where}: option {k} "
        if k in ("date_format", "county"):
            if not isinstance(v, str):
                raise InputError(bad + "must be text")
            if k == "date_format" and "%" not in _strptime_format(v):
                raise InputError(bad + "must be like MM/DD/YYYY or %m/%d/%Y")
        elif k == "sheet":
            if isinstance(v, bool) or not isinstance(v, (str, int)) or (isinstance(v, int) and v < 1):
                raise InputError(bad + "must be a sheet name or a sheet number (1 = the first)")
        elif k == "header_row":
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(bad + "must be a row number (1 = the first row)")
        elif k in ("convicted", "not_convicted"):
            if isinstance(v, str):
                v = [v]
            if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
                raise InputError(bad + "must be a list of texts")
            if k == "convicted" and not v:
                raise InputError(bad + "must name at least one disposition")
            v = [x.strip() for x in v]
        elif k == "delimiter":
            v = "\t" if isinstance(v, str) and v.lower() in ("tab", "\\t") else v
            if not isinstance(v, str) or len(v) != 1 or v in ('"', "\r", "\n"):
                raise InputError(bad + "must be one character (or \"tab\")")
        out[k] = v
    return out


def save_mapping(mapping, path) -> None:
    """Write the mapping as TOML, readable by ``load_mapping``."""
    m = load_mapping(mapping)
    path = local_path(path, must_exist=False, what="mapping file")
    lines = ["# ClearRec column mapping: file column for each field, then import options", "", "[columns]"]
    lines += [f"{f} = {_toml_value(c)}" for f, c in m.columns.items()]
    if m.options:
        lines += ["", "[options]"]
        lines += [f"{k} = {_toml_value(m.options[k])}" for k in OPTIONS if k in m.options]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    # a JSON string is a TOML basic string, except that TOML wants DEL escaped too
    return json.dumps(str(v), ensure_ascii=False).replace("\x7f", "\\u007f")


# --- guessing a mapping from the headers -------------------------------------------------------

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "subject_id": ("subject id", "subject", "person id", "person number", "defendant id", "party id", "def id",
                   "master id", "individual id"),
    "name": ("name", "defendant name", "defendant", "full name", "party name", "def name", "person name"),
    "dob": ("dob", "birth date", "date of birth", "birthdate", "dob date"),
    "cii_number": ("cii", "cii number", "cii no", "cii num", "cii nbr", "state id"),
    "court_case_number": ("case number", "case no", "case nbr", "case num", "court case number", "court case",
                          "court number", "court no", "docket", "docket number", "case", "case id"),
    "courthouse": ("courthouse", "court", "court name", "court location", "branch", "location"),
    "county": ("county", "county name"),
    "conviction_date": ("conviction date", "conv date", "date convicted", "disposition date", "dispo date",
                        "disp date", "judgment date", "sentence date", "sentencing date"),
    "code_section": ("charge", "statute", "code section", "section", "charge code", "offense code", "offence code",
                     "violation", "conviction charge", "offense", "offence", "charge statute", "code"),
    "level": ("level", "charge level", "offense level", "degree", "class", "severity", "f m", "fmi", "charge class"),
    "disposition": ("disposition", "dispo", "disp", "finding", "outcome", "result", "charge disposition"),
    "sentence": ("sentence", "sentence text", "sentencing", "sentence description"),
    "race": ("race", "ethnicity", "race ethnicity"),
    "gender": ("gender", "sex"),
}
_DATE_FIELDS = ("dob", "conviction_date")


def _words(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("#", " number ")).split()
    return " ".join("date" if w == "dt" else w for w in words)


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Best-effort {field: header} from header names; each header and field used at most once."""
    scored = []
    for hi, header in enumerate(headers):
        words = _words(header or "")
        if not words:
            continue
        tokens = set(words.split())
        for fi, (f, synonyms) in enumerate(_SYNONYMS.items()):
            # a date column only ever fills a date field, and the other way round
            is_date = bool(tokens & {"date", "dob", "birthdate"})
            if is_date != (f in _DATE_FIELDS):
                continue
            for rank, syn in enumerate(synonyms):
                if words == syn:
                    score = 3
                elif set(syn.split()) <= tokens:
                    score = 2 if len(syn.split()) > 1 else 1
                else:
                    continue
                scored.append((-score, rank, fi, hi, f, header))
                break
    out: dict[str, str] = {}
    used: set[int] = set()
    for _, _, _, hi, f, header in sorted(scored):
        if f not in out and hi not in used:
            out[f] = header
            used.add(hi)
    return {f: out[f] for f in FIELDS if f in out}


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


# --- spreadsheets ------------------------------------------------------------------------------

@dataclass
class _Sheet:
    name: str
    visible: bool
    part: str | None  # the worksheet's zip member (xlsx / xlsm only)


def _check_zip(path: Path) -> None:
    """Refuse a damaged workbook or a zip bomb before calamine sees it. The declared sizes are
    checked, then every part is decompressed once: zipfile stops at the declared size and
    checks the CRC, so a part that lies about its size fails here too."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise InputError(f"{name}: the workbook has {len(infos):,} parts, more than a spreadsheet has; refused")
            if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
                raise InputError(_too_big_unzipped(name))
            for info in infos:
                # Real sheets pack 5-30x; a part packed hundreds of times smaller is a bomb that
                # calamine would hold in memory whole (declared sizes are enforced when read below).
                if info.file_size > _BOMB_MIN_BYTES and info.file_size > _BOMB_RATIO * max(info.compress_size, 1):
                    raise InputError(f"{name}: a part of the workbook unpacks to {info.file_size / 1024**2:,.0f} MB from "
                                     f"{info.compress_size / 1024**2:,.1f} MB, which no spreadsheet does (a zip bomb); refused")
                with zf.open(info) as member:
                    while member.read(1 << 20):
                        pass
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError, RuntimeError):
        raise InputError(_not_a_workbook(path)) from None


# <row ...> or <c ...> after the sheet's namespace prefix: the tag, the r="A1" reference if any,
# and the rest of the attributes (ending in "/" for an empty cell)
_XML_CELL = rb"""(row|c)(?=[\s/>])(?:[^>]*?\sr\s*=\s*["']([A-Za-z]*)([0-9]*)["'])?([^>]*)>"""
_XML_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_MAX_XML_TAG = 8 * 1024**2


_FAR = 1 << 40  # a reference too long to be real: far enough to be refused


def _row_number(digits: bytes) -> int:
    return int(digits) if len(digits) <= 9 else _FAR


def _column_number(letters: bytes) -> int:
    if len(letters) > 3:
        return _FAR
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _extent_error(path: Path, sheet: str, rows: int, cols: int, limit: int = MAX_SHEET_CELLS) -> InputError:
    return InputError(
        f"{path.name}: sheet {sheet!r} spans {rows:,} rows x {cols:,} columns, more than the {limit:,} cells "
        "this program reads from one sheet; delete stray cells far from the data, or save the sheet as CSV")


def _check_xlsx_extent(path: Path, sheet: _Sheet) -> None:
    """Bound the grid calamine will build: scan the sheet's XML for the first and last cell
    holding anything (empty ``<c/>`` cells are ignored, as calamine ignores them)."""
    lo_r = lo_c = 1 << 62
    hi_r = hi_c = 0
    row = col = 0
    columns: dict[bytes, int] = {}
    pattern = None
    with zipfile.ZipFile(path) as zf, zf.open(sheet.part) as fh:
        carry = b""
        while True:
            chunk = fh.read(1 << 20)
            buf = carry + chunk
            cut = len(buf) if not chunk else buf.rfind(b">") + 1
            if pattern is None:
                root = _XML_ROOT.search(buf)
                pattern = re.compile(b"<" + re.escape(root.group(1) or b"" if root else b"") + _XML_CELL)
            for tag, letters, digits, rest in pattern.findall(buf, 0, cut):
                if tag == b"row":
                    row, col = (_row_number(digits) if digits and not letters else row + 1), 0
                    continue
                if letters:
                    col = columns.get(letters) or columns.setdefault(letters, _column_number(letters))
                else:
                    col += 1
                if rest.endswith(b"/"):
                    continue  # <c .../>: no value
                r_here = _row_number(digits) if digits else row
                if r_here > hi_r:
                    hi_r = r_here
                if r_here < lo_r:
                    lo_r = r_here
                if col > hi_c:
                    hi_c = col
                if col < lo_c:
                    lo_c = col
            if hi_r and (hi_r - lo_r + 1) * (hi_c - lo_c + 1) > MAX_SHEET_CELLS:
                raise _extent_error(path, sheet.name, hi_r - lo_r + 1, hi_c - lo_c + 1)
            rest = buf[cut:]
            lt = rest.rfind(b"<")
            carry = rest[lt:] if lt >= 0 else b""  # only an unfinished tag matters; text is skipped
            if len(carry) > _MAX_XML_TAG:
                raise InputError(_not_a_workbook(path))
            if not chunk:
                return


def _check_ods_extent(path: Path) -> None:
    """The same bound for every table of an .ods: rows and cells may be repeated
    (``number-rows-repeated``, ``number-columns-repeated``) and calamine expands the repeats."""
    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def repeat(el, what: str) -> int:
        for k, v in el.attrib.items():
            if local(k) == f"number-{what}-repeated":
                try:
                    return max(int(v), 1)
                except ValueError:
                    return 1
        return 1

    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        table, row_pos, rows, cols = "", 0, 0, 0
        stack: list = []
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            tag = local(el.tag)
            if event == "start":
                stack.append(el)
                if tag == "table":
                    table = next((v for k, v in el.attrib.items() if local(k) == "name"), "")
                    row_pos, rows, cols = 0, 0, 0
                continue
            stack.pop()
            if tag == "table-row":
                pos = last = 0
                for cell in el:
                    if local(cell.tag) not in ("table-cell", "covered-table-cell"):
                        continue
                    pos += repeat(cell, "columns")
                    if len(cell) or any(local(k) == "value-type" for k in cell.attrib):
                        last = pos
                n = repeat(el, "rows")
                row_pos += n
                if last:
                    rows, cols = row_pos, max(cols, last)
                    if rows * cols > MAX_ODS_CELLS:
                        raise _extent_error(path, table, rows, cols, MAX_ODS_CELLS)
                if stack:
                    stack[-1].remove(el)  # done with the row: keep memory flat


def _too_big_unzipped(name: str) -> str:
    return (f"{name}: the workbook unpacks to more than {MAX_UNZIPPED_BYTES // 1024**2:,} MB "
            "(damaged, or a zip bomb); refused")


def _not_a_workbook(path: Path) -> str:
    with open(path, "rb") as fh:
        ole = fh.read(4) == b"\xd0\xcf\x11\xe0"
    if ole and path.suffix.lower() in (".xlsx", ".xlsm"):
        return (f"{path.name}: cannot be read as an .xlsx workbook; it is password-protected or an old .xls "
                "file saved under the wrong name (remove the password, or save it as .xlsx)")
    return f"{path.name}: cannot be read as a {path.suffix.lower() or 'spreadsheet'} workbook (damaged, or another kind of file)"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xlsx_sheets(path: Path) -> list[_Sheet]:
    """Worksheets in workbook order with their visibility and zip part, from the workbook XML
    (the package relationships say where the workbook and each sheet live)."""
    with zipfile.ZipFile(path) as zf:
        def xml(part: str):
            return ElementTree.fromstring(zf.read(part))

        def rels(part: str) -> dict[str, tuple[str, str]]:
            p = PurePosixPath(part)
            rel_part = str(p.parent / "_rels" / (p.name + ".rels")).lstrip("/")
            if rel_part.startswith("./"):
                rel_part = rel_part[2:]
            out = {}
            for r in xml(rel_part).iter():
                if _local(r.tag) == "Relationship":
                    target = r.get("Target", "")
                    full = target.lstrip("/") if target.startswith("/") else _join(p.parent, target)
                    out[r.get("Id", "")] = (r.get("Type", ""), full)
            return out

        root_rels = rels("")
        wb_part = next((t for typ, t in root_rels.values() if typ.endswith("/officeDocument")), "xl/workbook.xml")
        wb_rels = rels(wb_part)
        sheets = []
        for el in xml(wb_part).iter():
            if _local(el.tag) != "sheet":
                continue
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
            typ, part = wb_rels.get(rid, ("", None))
            if typ and not typ.endswith("/worksheet"):
                continue  # chart sheets hold no rows
            state = (el.get("state") or "visible").lower()
            sheets.append(_Sheet(el.get("name", ""), state == "visible", part))
        return sheets


def _join(base: PurePosixPath, target: str) -> str:
    parts: list[str] = [p for p in str(base).split("/") if p and p != "."]
    for seg in target.split("/"):
        if seg == "..":
            if parts:
                parts.pop()
        elif seg and seg != ".":
            parts.append(seg)
    return "/".join(parts)


_CELL_ROW = re.compile(r"[A-Z]+(\d+)$")


def _xlsx_first_row(path: Path, part: str) -> int:
    """Spreadsheet row number of the first cell holding a value. calamine starts its range
    there, so this turns calamine's row positions back into the row numbers Excel shows."""
    with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
        row_no = 0
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            tag = _local(el.tag)
            if event == "start" and tag == "row":
                row_no = int(el.get("r") or row_no + 1)
            elif event == "end" and tag == "c":
                if any(_local(ch.tag) in ("v", "is") and "".join(ch.itertext()) != "" for ch in el):
                    m = _CELL_ROW.match(el.get("r") or "")
                    return int(m.group(1)) if m else row_no
                el.clear()
            elif event == "end" and tag == "sheetData":
                break
    return 1


def _sheet_list(path: Path) -> list[_Sheet]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_sheets(path)
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    out = []
    for name in reader.sheet_names:
        sheet = reader.load_sheet(name, header_row=None, n_rows=1, dtypes="string")
        out.append(_Sheet(name, sheet.visible == "visible", None))
    return out


def _choose_sheet(sheets: list[_Sheet], wanted, name: str) -> _Sheet:
    if wanted is None:
        visible = [s for s in sheets if s.visible]
        if not visible:
            raise InputError(f"{name}: every sheet is hidden; name the sheet to read in the mapping (options.sheet)")
        return visible[0]
    if isinstance(wanted, int):
        if wanted > len(sheets):
            raise InputError(f"{name}: has {len(sheets)} sheet(s), so there is no sheet number {wanted}")
        return sheets[wanted - 1]
    for s in sheets:
        if s.name == wanted:
            return s
    for s in sheets:
        if s.name.strip().casefold() == wanted.strip().casefold():
            return s
    raise InputError(f"{name}: no sheet named {wanted!r}; its sheets are {', '.join(repr(s.name) for s in sheets)}")


def _load_sheet(path: Path, mapping: Mapping, n_rows: int | None = None, sheet=None,
                header_row: int | None = None) -> tuple[pl.DataFrame, int, int, list[str]]:
    """(every row of the sheet as text from its first non-empty row, that row's number,
    header position in the frame, notes)."""
    suffix = path.suffix.lower()
    notes: list[str] = []
    try:
        if suffix in (".xlsx", ".xlsm", ".ods"):
            _check_zip(path)
        if suffix == ".ods":
            _check_ods_extent(path)  # before calamine lists the sheets, which reads them all
        sheets = _sheet_list(path)
        chosen = _choose_sheet(sheets, sheet if sheet is not None else mapping.options.get("sheet"), path.name)
        if chosen.part:
            _check_xlsx_extent(path, chosen)
        first = _xlsx_first_row(path, chosen.part) if chosen.part else 1
        read_options = {"n_rows": n_rows} if n_rows else {}
        frame = pl.read_excel(path, sheet_name=chosen.name, engine="calamine", has_header=False,
                              infer_schema_length=0, drop_empty_rows=False, drop_empty_cols=False,
                              raise_if_empty=False, read_options=read_options)
    except InputError:
        raise
    except Exception:  # calamine / zip / XML errors: the file, not the program, is at fault
        raise InputError(_not_a_workbook(path)) from None
    if not chosen.part:
        notes.append(f"row numbers count from the first non-empty row of the sheet ({suffix} files do not say where it is)")
    if any(not s.visible for s in sheets):
        notes.append(f"sheet {chosen.name!r} read; hidden sheets ignored" if chosen.visible
                     else f"hidden sheet {chosen.name!r} read, as the mapping names it")
    frame = frame.with_columns(pl.all().cast(pl.String))
    filled = [pl.col(c).str.strip_chars().fill_null("") != "" for c in frame.columns]
    frame = frame.with_columns((~pl.any_horizontal(filled) if filled else pl.lit(True)).alias("_blank"))
    hr = header_row if header_row is not None else mapping.options.get("header_row")
    if hr is not None:
        h = hr - first
        if h < 0 or h >= frame.height or frame["_blank"][h]:
            raise InputError(f"{path.name}: the header row (row {hr}) of sheet {chosen.name!r} is empty")
    else:
        nonblank = frame["_blank"].not_().arg_true()
        if nonblank.len() == 0:
            raise InputError(f"{path.name}: sheet {chosen.name!r} is empty")
        h = int(nonblank[0])
    return frame, first, h, notes


def _read_spreadsheet(path: Path, mapping: Mapping, cancel) -> _Table:
    frame, first, h, notes = _load_sheet(path, mapping)
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
    return _Table(out, first + frame.height - 1, n_blank, [], notes)


# --- values ------------------------------------------------------------------------------------

_TIME_TAIL = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AP]M)?)$", re.I)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_US = re.compile(r"^(\d{1,2})([/-])(\d{1,2})\2(\d{4})$")
_SERIAL = re.compile(r"^(\d{4,5})(?:\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def _strptime_format(fmt: str) -> str:
    """``MM/DD/YYYY`` style (or a strptime format as is) -> strptime format."""
    if "%" in fmt:
        return fmt
    out = fmt
    for token, directive in (("YYYY", "%Y"), ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("M", "%m"), ("D", "%d")):
        out = out.replace(token, directive)
    return out


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
    return "N" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:15].upper()


def _map_unique(df: pl.DataFrame, keys: list[str], fn, outs: list[str]) -> pl.DataFrame:
    """Apply a Python function once per distinct key tuple and join the results back."""
    uniq = df.select(keys).unique()
    results = [fn(*row) for row in uniq.iter_rows()]
    cols = list(zip(*results)) if results else [() for _ in outs]
    table = uniq.with_columns([pl.Series(o, list(c), dtype=pl.String) for o, c in zip(outs, cols)])
    looked = df.select(keys).join(table, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return df.with_columns(looked.select(outs).get_columns())


# --- the import --------------------------------------------------------------------------------

def check_mapping(mapping: Mapping, file_name: str) -> None:
    """Required fields, a way to tell people apart, and a county."""
    missing = [f for f in REQUIRED if f not in mapping.columns]
    if missing:
        raise InputError(f"{file_name}: the column mapping has no column for the required field(s) "
                         f"{', '.join(missing)}")
    c = mapping.columns
    if not ("subject_id" in c or "cii_number" in c or ("name" in c and "dob" in c)):
        raise InputError(f"{file_name}: the column mapping needs a way to tell people apart: "
                         "a subject_id column, a cii_number column, or both name and dob")
    if "county" not in c and not (mapping.options.get("county") or "").strip():
        raise InputError(f"{file_name}: the column mapping has no county column; map one or set options.county")


def import_mapped(path: Path, mapping, *, cancel=None):
    """Read a county file through ``mapping`` into the internal schema (as ``importer.normalise_doj``
    produces it). Returns (rows, FileReport); sha256 is left for the caller to fill in."""
    from . import importer

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
    frame = importer.normalise_doj(raw, path.name)
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    from .importer import FileReport

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
    # name + DOB -> an id, hashed with hashlib: polars' hash may change between versions
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
