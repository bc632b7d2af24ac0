"""Reading county workbooks (.xlsx, .xlsm, .xls, .ods) safely, with calamine (fastexcel).

Cached cell values only: formulas are never evaluated and macros never run. A workbook's parts
are checked before anything is decompressed in full (zip bombs, absurd sheet extents), so a
34 KB file cannot ask for gigabytes.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import polars as pl

from ..errors import InputError
from .county_mapping import Mapping

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
# The memory a sheet will take once read is estimated from what its XML holds, before calamine
# sees it: every cell holding a value, every byte of text it will hold (a shared string counts
# once per cell that uses it, an .ods cell once per repeated column and row) and every row
# (screening works per row). Measured on 1,000,000 x 10 (docs/security.md): import 1.6 GB
# (about 150 bytes a cell over 150 MB for the program), import and screening 3.4 GB (1.8 KB
# more a row); planned with 180 a cell, 4 per byte of text and 1,800 a row: 4.2 GB.
MEMORY_BASE = 150 * 1024**2
MEMORY_PER_CELL = 180
MEMORY_PER_TEXT_BYTE = 4
MEMORY_PER_ROW = 1800
MAX_WORKBOOK_MEMORY = 6 * 1024**3     # a full 10.5-million-cell grid stays under it; a crafted sheet does not

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


_TAG = re.compile(rb"<[^>]*>")
_SHARED_REF = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\st\s*=\s*["']s["'][^>]*>\s*<(?:[A-Za-z_][\w.-]*:)?v>\s*(\d+)\s*<""")
_SHARED_ATTR = re.compile(rb"""\st\s*=\s*["']s["']""")
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


@dataclass
class SheetCost:
    """What a sheet asks of memory, from its XML (see MEMORY_PER_CELL)."""
    cells: int = 0           # cells holding a value
    text_bytes: int = 0      # text the cells will hold (inline, numbers, and shared strings per use)
    has_formulas: bool = False
    rows: int = 0

    @property
    def memory(self) -> int:
        return (MEMORY_BASE + self.cells * MEMORY_PER_CELL + self.text_bytes * MEMORY_PER_TEXT_BYTE
                + self.rows * MEMORY_PER_ROW)


def _shared_string_lengths(zf: zipfile.ZipFile) -> list[int]:
    """UTF-8 length of every shared string, in order (streamed: the strings are not kept)."""
    name = next((n for n in zf.namelist() if n.lower().endswith("sharedstrings.xml")), None)
    if name is None:
        return []
    out: list[int] = []
    with zf.open(name) as fh:
        for event, el in ElementTree.iterparse(fh, events=("end",)):
            if _local(el.tag) == "si":
                out.append(sum(len(t.encode("utf-8")) for t in el.itertext()))
                el.clear()
    return out


def _check_xlsx_extent(path: Path, sheet: _Sheet) -> SheetCost:
    """Bound the grid calamine will build: scan the sheet's XML for the first and last cell
    holding anything (empty ``<c/>`` cells are ignored, as calamine ignores them), and count
    the cells and text it will hold (``SheetCost``)."""
    lo_r = lo_c = 1 << 62
    hi_r = hi_c = 0
    row = col = 0
    columns: dict[bytes, int] = {}
    pattern = None
    cost = SheetCost()
    shared_cells = 0
    with zipfile.ZipFile(path) as zf, zf.open(sheet.part) as fh:
        carry = b""
        while True:
            chunk = fh.read(1 << 20)
            buf = carry + chunk
            cut = len(buf) if not chunk else buf.rfind(b">") + 1
            if pattern is None:
                root = _XML_ROOT.search(buf)
                pattern = re.compile(b"<" + re.escape(root.group(1) or b"" if root else b"") + _XML_CELL)
            done = buf[:cut]
            cost.text_bytes += len(_TAG.sub(b"", done))
            shared_cells += len(_SHARED_ATTR.findall(done))
            if not cost.has_formulas and _FORMULA_TAG.search(done):
                cost.has_formulas = True
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
                cost.cells += 1
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
                break
        cost.rows = hi_r - lo_r + 1 if hi_r else 0
        if shared_cells:
            lengths = _shared_string_lengths(zf)
            # An upper bound first (every shared cell the longest string); count each use only
            # when that bound is too high to accept.
            bound = SheetCost(cost.cells, cost.text_bytes + shared_cells * max(lengths, default=0), rows=cost.rows)
            if bound.memory <= MAX_WORKBOOK_MEMORY:
                cost = SheetCost(bound.cells, bound.text_bytes, cost.has_formulas, cost.rows)
            else:
                cost.text_bytes += _shared_string_uses(zf, sheet.part, lengths)
    return cost


def _shared_string_uses(zf: zipfile.ZipFile, part: str, lengths: list[int]) -> int:
    """Bytes of text the sheet's shared-string cells will hold, each use counted."""
    total = 0
    with zf.open(part) as fh:
        carry = b""
        while True:
            chunk = fh.read(1 << 20)
            buf = carry + chunk
            cut = len(buf) if not chunk else buf.rfind(b">") + 1
            for m in _SHARED_REF.finditer(buf, 0, cut):
                i = int(m.group(1)) if len(m.group(1)) < 12 else -1
                total += lengths[i] if 0 <= i < len(lengths) else 0
            carry = buf[cut:][-4096:] if chunk else b""
            if not chunk:
                return total


def check_memory(path: Path, sheet_name: str, cost: SheetCost, usable: int | None = None) -> None:
    """Refuse a sheet whose reading would take more memory than any county workbook needs (or
    than this computer can give), before a byte of it is expanded."""
    limit = MAX_WORKBOOK_MEMORY if usable is None else min(MAX_WORKBOOK_MEMORY, usable)
    if cost.memory > limit:
        raise InputError(
            f"{path.name}: sheet {sheet_name!r} would take about {cost.memory / 1024**3:,.1f} GB of memory to read "
            f"({cost.cells:,} cells holding {cost.text_bytes / 1024**2:,.0f} MB of text), more than the "
            f"{limit / 1024**3:,.1f} GB this program allows one workbook; remove what the import does not need "
            "(long repeated texts, unused columns) or save the sheet as CSV")


def _check_ods_extent(path: Path) -> SheetCost:
    """The same bound for every table of an .ods: rows and cells may be repeated
    (``number-rows-repeated``, ``number-columns-repeated``) and calamine expands the repeats,
    text and all (the cost of the largest table is returned)."""
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

    worst = SheetCost()
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        table, row_pos, rows, cols = "", 0, 0, 0
        cost = SheetCost()
        stack: list = []
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            tag = local(el.tag)
            if event == "start":
                stack.append(el)
                if tag == "table":
                    table = next((v for k, v in el.attrib.items() if local(k) == "name"), "")
                    row_pos, rows, cols = 0, 0, 0
                    cost = SheetCost()
                continue
            stack.pop()
            if tag == "table" and cost.memory > worst.memory:
                worst = cost
            if tag == "table-row":
                pos = last = 0
                n = repeat(el, "rows")
                for cell in el:
                    if local(cell.tag) not in ("table-cell", "covered-table-cell"):
                        continue
                    times = repeat(cell, "columns")
                    pos += times
                    if len(cell) or any(local(k) == "value-type" for k in cell.attrib):
                        last = pos
                        text = sum(len(t.encode("utf-8")) for t in cell.itertext())
                        text += sum(len(v) for k, v in cell.attrib.items() if local(k).endswith("value"))
                        cost.cells += times * n
                        cost.text_bytes += text * times * n
                if cost.memory > MAX_WORKBOOK_MEMORY:
                    check_memory(path, table, cost)
                row_pos += n
                if last:
                    rows, cols = row_pos, max(cols, last)
                    cost.rows = rows
                    if rows * cols > MAX_ODS_CELLS:
                        raise _extent_error(path, table, rows, cols, MAX_ODS_CELLS)
                if stack:
                    stack[-1].remove(el)  # done with the row: keep memory flat
    return worst


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


def _formulas_without_values(path: Path, part: str) -> tuple[list[tuple[int, int]], int]:
    """Cells holding a formula but no saved value (a workbook written by a program that does not
    calculate, or saved without recalculating): calamine reads them as empty, so a name would
    silently vanish. Returns their (row, column) numbers and the first column holding a value
    (where calamine's grid starts)."""
    found: list[tuple[int, int]] = []
    first_col = 1 << 30
    with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
        row_no = col_no = 0
        for event, el in ElementTree.iterparse(fh, events=("start", "end")):
            tag = _local(el.tag)
            if event == "start":
                if tag == "row":
                    row_no, col_no = int(el.get("r") or row_no + 1), 0
                continue
            if tag != "c":
                if tag == "row":
                    el.clear()
                continue
            ref = el.get("r") or ""
            m = re.match(r"([A-Za-z]{1,3})(\d+)$", ref)
            col_no = _column_number(m.group(1).encode()) if m else col_no + 1
            kids = {_local(ch.tag): "".join(ch.itertext()) for ch in el}
            has_value = bool(kids.get("v") or kids.get("is"))
            if has_value:
                first_col = min(first_col, col_no)
            elif "f" in kids:
                found.append((int(m.group(2)) if m else row_no, col_no))
            el.clear()
    return found, (first_col if first_col < 1 << 30 else 1)


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


_COST_CACHE: dict[tuple, SheetCost] = {}


def workbook_memory(path: Path, mapping: Mapping | None = None) -> int | None:
    """The memory reading the sheet the mapping names (or the first visible one) will take,
    estimated from its XML (``SheetCost``); the importer plans with it before reading. None
    when it cannot be told (an .xls file, a damaged workbook: refused when read, with the reason)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".ods"):
        return None
    try:
        _check_zip(path)
        return _sheet_cost(path, mapping).memory
    except Exception:
        return None


def _sheet_cost(path: Path, mapping: Mapping | None, chosen: "_Sheet | None" = None) -> SheetCost:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, chosen.name if chosen else None,
           repr(getattr(mapping, "options", {}).get("sheet")) if mapping is not None else None)
    if key in _COST_CACHE:
        return _COST_CACHE[key]
    suffix = path.suffix.lower()
    if suffix == ".ods":
        cost = _check_ods_extent(path)
    elif suffix in (".xlsx", ".xlsm"):
        if chosen is None:
            wanted = mapping.options.get("sheet") if mapping is not None else None
            chosen = _choose_sheet(_xlsx_sheets(path), wanted, path.name)
        cost = _check_xlsx_extent(path, chosen) if chosen.part else SheetCost()
    else:
        cost = SheetCost()  # .xls: bounded by the format (65,536 x 256 cells)
    if len(_COST_CACHE) > 32:
        _COST_CACHE.clear()
    _COST_CACHE[key] = cost
    return cost


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
                header_row: int | None = None, formulas: list | None = None) -> tuple[pl.DataFrame, int, int, list[str]]:
    """(every row of the sheet as text from its first non-empty row, that row's number,
    header position in the frame, notes). ``formulas`` receives the (row number, frame column)
    of every cell holding a formula without a saved value."""
    suffix = path.suffix.lower()
    notes: list[str] = []
    try:
        if suffix in (".xlsx", ".xlsm", ".ods"):
            _check_zip(path)
        if suffix == ".ods":
            # before calamine lists the sheets, which reads them all
            check_memory(path, "(every table)", _sheet_cost(path, mapping))
        sheets = _sheet_list(path)
        chosen = _choose_sheet(sheets, sheet if sheet is not None else mapping.options.get("sheet"), path.name)
        cost = SheetCost()
        if chosen.part:
            cost = _sheet_cost(path, mapping, chosen)
            check_memory(path, chosen.name, cost)
        if cost.has_formulas and formulas is not None:
            cells, first_col = _formulas_without_values(path, chosen.part)
            formulas.extend((r, c - first_col, _column_letters(c) + str(r)) for r, c in cells)
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
