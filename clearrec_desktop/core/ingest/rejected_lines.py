"""The text of an import's rejected lines, read back from the file on request.

The import report keeps only file, line number and reason (no record data is stored in it or
written by its export); a clerk who wants to see what was rejected reads the lines from the
original file, on this computer, when asked.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..safety import local_path


def read_lines(path, size: int, line_numbers, *, max_lines: int = 1000) -> dict[int, str]:
    """{line number: text} for up to ``max_lines`` of ``line_numbers`` (1 = the first line) of
    the file at ``path``, which must still have the ``size`` recorded at import. Text is decoded
    as UTF-8, falling back to Windows-1252, without the line break."""
    if not path:
        raise InputError("the import does not record where the file was read from")
    file = local_path(Path(path), what="file")
    if file.stat().st_size != int(size):
        raise InputError(f"{file.name} has changed since it was imported: its rejected lines cannot be shown")
    wanted = sorted({int(n) for n in line_numbers})[:max_lines]
    if not wanted:
        return {}
    targets, last, out = set(wanted), wanted[-1], {}
    with open(file, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number in targets:
                try:
                    text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("cp1252", "replace")
                out[number] = text.rstrip("\r\n")
            if number >= last:
                break
    return out
