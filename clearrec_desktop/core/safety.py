"""Local-path checks and resource lookup.

polars and openpyxl will happily fetch a URL with their own HTTP clients, which slip past any
Python-level socket guard, so every path a user gives goes through ``local_path`` before a
library sees it.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from pathlib import Path

from .errors import InputError

# scheme://..., and Windows UNC / device paths that could reach another machine.
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def local_path(value: str | os.PathLike, *, must_exist: bool = True, what: str = "file") -> Path:
    """Return a resolved local path, refusing URLs and network shares."""
    text = os.fspath(value)
    if _URL_RE.match(text) or "://" in text:
        raise InputError(f"{text!s}: only files on this computer can be used, not web addresses")
    if text.startswith(("\\\\", "//")):
        raise InputError(f"{text!s}: network shares cannot be used; copy the {what} to this computer first")
    path = Path(text).expanduser()
    _refuse_link_loop(path, what)
    if must_exist:
        if not path.exists():
            raise InputError(f"{path}: no such {what}")
        if path.is_dir() and what == "file":
            raise InputError(f"{path}: is a folder, not a file")
    return path.resolve()


def _refuse_link_loop(path: Path, what: str) -> None:
    """A symbolic link that loops (or a chain too long to follow) looks like a missing file to
    Path.exists(); say what it is."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP or getattr(exc, "winerror", None) == 1921:  # ERROR_CANT_RESOLVE_FILENAME
            raise InputError(f"{path}: is a symbolic link that loops back on itself (or a chain of links too long "
                             f"to follow), so there is no {what} behind it; point the link at the real {what} or "
                             "choose the file itself") from None
    except ValueError:
        pass


def resources_dir() -> Path:
    """The bundled resources: profiles, code-section lists and the demo extract."""
    env = os.environ.get("CLEARREC_RESOURCES")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller one-folder build
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(relative: str) -> Path:
    return resources_dir() / relative
