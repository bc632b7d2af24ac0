"""Import DOJ extracts and mapped county files into one normalised row frame.

Output schema (one row per input row; see docs/architecture.md): person, cycle, step and
count keys, the court event, the parsed offence, level, dates with their quality, sentence
part, and ``q_*`` columns marking each data-quality repair so it can be reported and flagged.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..errors import Cancelled, InputError
from ..safety import local_path
from . import county_files, doj
from .normalise import flag_duplicate_people, normalise_doj
from .report import DUPLICATE_FLAG, FileReport, ImportReport, ReportAccumulator, file_sha256
from .rowstore import RowStore

# Files that would not fit in memory are refused up front rather than dying mid-import. Peak
# memory measured (docs/security.md, docs/performance.md): a DOJ extract is read in blocks and
# only what screening needs is kept, so its import costs a fixed part plus, at worst (every row a
# screened conviction: 325 MB of such rows peak at 0.99 GB), 1.5x its size; a statewide-looking
# file far less (5.3 GB, 10M rows: about 2 GB). A county CSV through a mapping 11.4x (600k rows,
# 85 MB -> 970 MB). A workbook (packed) about 30x (30k rows, 1.7 MB -> 50 MB), and never more
# than its grid allows (county_files.MAX_SHEET_CELLS). The import may plan on three quarters of
# the physical memory.
MEMORY_PER_FILE_BYTE = 1.5        # DOJ extracts, on top of MEMORY_BASE
MEMORY_BASE = 512 * 1024**2       # an import's fixed part: read blocks, screening one partition
MEMORY_PER_CSV_BYTE = 12          # county CSV files
MEMORY_PER_WORKBOOK_BYTE = 40
MAX_WORKBOOK_MEMORY = 1536 * 1024**2
MEMORY_SHARE = 0.75

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
    return None if memory is None else max(0, int((memory * MEMORY_SHARE - MEMORY_BASE) / MEMORY_PER_FILE_BYTE))


def _gb(n: float) -> str:
    return f"{n / 1024**3:.1f} GB"


def _streamed(path: Path, size: int, mapping=None) -> bool:
    """Whether the file is read as a DOJ extract, in blocks (reads at most its first 64 KB)."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        return False
    return not (mapping is not None and size and not is_doj_extract(path))


def memory_needed(path: Path, size: int, mapping=None) -> int:
    """About how much memory importing this file takes at its peak, beyond MEMORY_BASE for a DOJ
    extract (reads at most its first 64 KB)."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        # from the sheet's cells and text (issue 13.10), else from the packed size
        estimate = county_files.workbook_memory(path, mapping)
        return estimate if estimate is not None else min(size * MEMORY_PER_WORKBOOK_BYTE, MAX_WORKBOOK_MEMORY)
    if not _streamed(path, size, mapping):
        return size * MEMORY_PER_CSV_BYTE
    return int(size * MEMORY_PER_FILE_BYTE)


def check_fits_in_memory(paths: list[Path], sizes: list[int], mapping=None) -> None:
    """Refuse up front, saying why, an input this computer's memory cannot hold while importing."""
    memory = physical_memory()
    if memory is None:
        return  # unknown: nothing is refused on a guess
    usable = memory * MEMORY_SHARE
    variable = sum(memory_needed(p, n, mapping) for p, n in zip(paths, sizes))
    base = MEMORY_BASE if any(_streamed(p, n, mapping) for p, n in zip(paths, sizes)) else 0
    need = base + variable
    if need <= usable:
        return
    total = sum(sizes)
    per_byte = variable / max(total, 1)
    what = f"{paths[0].name} ({_gb(total)})" if len(paths) == 1 else \
        f"{', '.join(p.name for p in paths[:3])}{' ...' if len(paths) > 3 else ''} ({len(paths)} files, {_gb(total)} together)"
    raise InputError(
        f"{what}: too large to import on this computer: importing it needs about {_gb(need)} of memory "
        f"and this computer has {_gb(memory)}; split the extract (by county or date range) into parts "
        f"under {_gb(max(usable - base, 0) / max(per_byte, 1e-9))} and import them one at a time"
    )


@dataclass
class Imported:
    """What ``import_stream`` read: the rows (unless not kept), the report, and the possible
    duplicate people (subject ids, and where each first appears under a name and date of birth)."""

    rows: RowStore | None
    report: ImportReport
    duplicate_subjects: pl.Series
    duplicate_people: pl.DataFrame


def import_stream(paths, *, mapping: Path | dict | None = None, cancel=None, progress=None, on_block=None,
                  keep_rows: bool = True, count_convictions: bool = True) -> Imported:
    """Import every file in one pass, block by block; DOJ extracts are recognised by shape,
    other files need a mapping.

    Each normalised block goes to ``on_block`` (the screening facts are gathered there), into
    the report's counters and, with ``keep_rows``, into a ``RowStore``; no file is ever held
    whole. The blocks handed to ``on_block`` lack ``q_possible_duplicate_person``, which needs
    every row: it comes back in ``Imported`` and is applied when the store's groups are read.
    ``count_convictions=False``: the report's conviction counts per county are left for the
    caller to fill in (the screening facts count them)."""
    reports = []
    paths = [local_path(p) for p in paths]
    if not paths:
        raise InputError("choose at least one file to import")
    sizes = [p.stat().st_size for p in paths]
    check_fits_in_memory(paths, sizes, mapping)  # before any file is read
    store = RowStore() if keep_rows else None
    acc = ReportAccumulator(count_convictions=count_convictions)

    def take(frame: pl.DataFrame, file: str) -> None:
        acc.add(frame)
        if store is not None:
            store.add(frame, file)
        if on_block is not None:
            on_block(frame)

    for i, (path, size) in enumerate(zip(paths, sizes)):
        if progress:
            progress(i / max(len(paths), 1) * 0.9, f"Reading {path.name}")
        if size == 0:
            raise InputError(f"{path.name}: the file is empty")
        try:
            rep = _import_one(path, size, i, len(paths), mapping, cancel, progress, take)
        except MemoryError:
            raise InputError(f"{path.name}: this computer ran out of memory importing it ({_gb(size)}); "
                             "close other programs or split the extract") from None
        except OSError as exc:  # unreadable (permissions, a disk or share that went away)
            raise InputError(f"{path.name}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        rep.path = str(path)
        reports.append(rep)
    dup_subjects, dup_people = acc.duplicates()
    if store is not None:
        store.set_duplicates(dup_subjects)
    return Imported(rows=store, report=acc.report(reports, None if count_convictions else {}),
                    duplicate_subjects=dup_subjects,
                    duplicate_people=dup_people)


def import_files(paths, *, mapping: Path | dict | None = None, cancel=None, progress=None) -> tuple[pl.DataFrame, ImportReport]:
    """Import every file into one frame of rows (small imports and tests; the app streams)."""
    imported = import_stream(paths, mapping=mapping, cancel=cancel, progress=progress)
    rows = imported.rows.collect()
    if DUPLICATE_FLAG not in rows.columns:  # nothing at all was read (a header and nothing else)
        rows = flag_duplicate_people(rows)
    return rows, imported.report


def _import_one(path: Path, size: int, i: int, n_files: int, mapping, cancel, progress, take) -> FileReport:
    digest = file_sha256(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") or (mapping is not None and not is_doj_extract(path)):
        if mapping is None:
            raise InputError(f"{path.name}: not a DOJ extract; give a column mapping file (--mapping) to import a county file")
        frame, rep = county_files.import_mapped(path, mapping, cancel=cancel)
        rep.sha256, rep.size = digest, size
        take(frame, path.name)
        return rep
    rows = 0

    def sink(frame: pl.DataFrame) -> None:
        nonlocal rows
        rows += frame.height
        take(frame, path.name)

    res = doj.read_extract(path, columns=doj.USED_COLUMNS, cancel=cancel, sink=sink,
                           transform=lambda raw, n=path.name: normalise_doj(raw, n),
                           progress=progress and (lambda f, m: progress((i + f) / n_files * 0.9, m)))
    return FileReport(
        file=path.name, kind="doj", sha256=digest, size=size, lines_read=res.lines_read,
        rows_imported=rows, has_header=res.has_header, blank_lines=res.blank_lines,
        rejected=[{"file": r.file, "line": r.line, "reason": r.reason} for r in res.rejected],
        notes=list(res.notes),
    )


def is_doj_extract(path: Path) -> bool:
    """Whether a file has the DOJ extract's shape (its header, or 95 fields on the first line)."""
    with open(path, "rb") as f:
        head = f.read(65536).decode("utf-8", "replace").lstrip("\ufeff")
    first = head.split("\n", 1)[0].rstrip("\r")
    return doj.looks_like_header(first) or first.count(",") in (94, 95)
