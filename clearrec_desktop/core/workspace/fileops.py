"""The workspace file on disk: connecting with the right key, saying what is wrong with a file
that will not open, the write-ahead log that does not belong to the file, backup and restore.

The write-ahead log (``NAME-wal``) holds the work of the session that wrote it until it is
checkpointed into the file. SQLite cannot tell a log that belongs to the file from one left by
a crash of a session on another copy of the file (a backup put back after a crash): it would
apply it and mix two states. So every session starts by writing a fresh random token into the
file (``meta.session_token``) and checkpointing it there before it writes anything else: every
log that session leaves carries the same token. On open, when a log is present, the token read
from the file alone (``immutable=1`` ignores the log) is compared with the token seen through
the log; a log whose token differs (or that cannot be read with the file) is renamed aside,
never applied, and named in a notice.

``meta.in_use`` is 1 from the start of a session to its clean close: a file found with 1 and no
log beside it was copied while open (or lost its log), and what was done in that session is
missing from it.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from sqlcipher3 import dbapi2 as sqlcipher

from .schema import WorkspaceBusy, WorkspaceDamaged, WrongPassphrase

log = logging.getLogger(__name__.replace(".fileops", ".store"))

WAL_HEADER_BYTES = 32


def quote_literal(text: str) -> str:
    # PRAGMA takes no bound parameters; an SQL string literal doubles its quotes.
    return "'" + text.replace("'", "''") + "'"


def error_name(exc: BaseException) -> str:
    return str(getattr(exc, "sqlite_errorname", "") or "")


def is_busy(exc: BaseException) -> bool:
    return error_name(exc) in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc) or "busy" in str(exc)


def is_not_a_database(exc: BaseException) -> bool:
    return error_name(exc) == "SQLITE_NOTADB" or "file is not a database" in str(exc)


def is_corrupt(exc: BaseException) -> bool:
    return error_name(exc).startswith("SQLITE_CORRUPT") or "malformed" in str(exc)


def is_full(exc: BaseException) -> bool:
    return error_name(exc) == "SQLITE_FULL" or "disk is full" in str(exc)


def is_read_only(exc: BaseException) -> bool:
    return error_name(exc).startswith("SQLITE_READONLY") or "readonly" in str(exc) or "read-only" in str(exc)


def quiet(conn: Any) -> None:
    # SQLCipher >= 4.6 prints decryption failures (every wrong passphrase) to stderr.
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
    except sqlcipher.Error:
        pass


def busy_error(path: Path) -> WorkspaceBusy:
    return WorkspaceBusy(f"{path.name}: is open in another ClearRec window or command; close it there first")


def wal_path(path: Path) -> Path:
    return Path(f"{path}-wal")


def shm_path(path: Path) -> Path:
    return Path(f"{path}-shm")


def connect(target: Path, passphrase: str, *, mode: str = "rw") -> Any:
    """A keyed connection that has read the schema. ``mode``: "rw" (exclusive lock), "ro"
    (read-only, reads the log), "immutable" (read-only, ignores the log and all locks)."""
    if mode == "rw":
        conn = sqlcipher.connect(str(target), isolation_level=None, check_same_thread=False, timeout=1.0)
    else:
        uri = target.as_uri() + ("?mode=ro" if mode == "ro" else "?immutable=1")
        conn = sqlcipher.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=1.0)
    try:
        quiet(conn)
        conn.execute(f"PRAGMA key = {quote_literal(passphrase)}")
        if mode == "rw":
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def connect_first(target: Path, candidates: list[str], *, mode: str) -> tuple[Any, str]:
    """Connect with the first passphrase form that opens the file; explain a file that will not."""
    for passphrase in candidates:
        try:
            return connect(target, passphrase, mode=mode), passphrase
        except sqlcipher.DatabaseError as exc:
            if is_busy(exc):
                raise busy_error(target) from None
            if is_not_a_database(exc):
                continue
            if is_corrupt(exc):
                raise diagnose_damage(target, passphrase) from None
            raise
    raise diagnose_refusal(target, candidates) from None


def _failed_pages(target: Path, passphrase: str) -> tuple[list[int], int]:
    """Pages failing SQLCipher's authentication (HMAC) check, and the pages in the file."""
    conn = sqlcipher.connect(target.as_uri() + "?immutable=1", uri=True, isolation_level=None)
    try:
        quiet(conn)
        conn.execute(f"PRAGMA key = {quote_literal(passphrase)}")
        bad = []
        for (text,) in conn.execute("PRAGMA cipher_integrity_check"):
            digits = "".join(ch if ch.isdigit() else " " for ch in str(text)).split()
            if digits:
                bad.append(int(digits[-1]))
        return bad, max(target.stat().st_size // 4096, 1)
    finally:
        conn.close()


def _pages_text(pages: list[int]) -> str:
    shown = ", ".join(str(p) for p in pages[:5]) + (f" and {len(pages) - 5:,} more" if len(pages) > 5 else "")
    return f"page{'s' if len(pages) > 1 else ''} {shown}"


def diagnose_refusal(target: Path, candidates: list[str]) -> Exception:
    """The key did not open page 1: a wrong passphrase, or page 1 damaged (then every other
    page still authenticates with the key)."""
    for passphrase in candidates:
        try:
            bad, total = _failed_pages(target, passphrase)
        except sqlcipher.Error:
            continue
        if total > 1 and len(bad) < total:
            return WorkspaceDamaged(
                f"{target.name}: the passphrase is right but {_pages_text(bad)} of the file "
                f"{'are' if len(bad) > 1 else 'is'} damaged (the first page holds the workspace's header); "
                "restore the workspace from a backup (File > Restore...) and keep this file for IT")
    return WrongPassphrase(f"{target.name}: wrong passphrase for this workspace (or the file is not a ClearRec workspace)")


def diagnose_damage(target: Path, passphrase: str) -> Exception:
    """The key is right but SQLite finds the file malformed: damaged pages, or cut short."""
    try:
        bad, _ = _failed_pages(target, passphrase)
    except sqlcipher.Error:
        bad = []
    if bad:
        return WorkspaceDamaged(
            f"{target.name}: {_pages_text(bad)} of the workspace {'are' if len(bad) > 1 else 'is'} damaged "
            "(altered on disk, or a failing disk); restore it from a backup (File > Restore...) and keep this "
            "file for IT")
    if size_cut_short(target, passphrase):
        return WorkspaceDamaged(
            f"{target.name}: the workspace file is cut short ({target.stat().st_size:,} bytes): it ends before its "
            "last page, as after a copy that did not finish or a full disk; restore it from a backup "
            "(File > Restore...) or copy it again from where it came from")
    return WorkspaceDamaged(
        f"{target.name}: the workspace is damaged (SQLite finds its structure malformed); restore it from a "
        "backup (File > Restore...) and keep this file for IT")


def size_cut_short(target: Path, passphrase: str) -> bool:
    """SQLite refuses a file shorter than its header says; with writable_schema it reads the
    pages that are there: if that works, the file was truncated."""
    conn = sqlcipher.connect(target.as_uri() + "?immutable=1", uri=True, isolation_level=None)
    try:
        quiet(conn)
        conn.execute(f"PRAGMA key = {quote_literal(passphrase)}")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher.Error:
        return False
    finally:
        conn.close()


def _meta_values(conn: Any, *keys: str) -> dict[str, str | None]:
    try:
        rows = conn.execute(
            f"SELECT key, value FROM meta WHERE key IN ({', '.join('?' for _ in keys)})", keys).fetchall()
    except sqlcipher.Error:
        return {k: None for k in keys}
    found = dict(rows)
    return {k: found.get(k) for k in keys}


def log_has_frames(target: Path) -> bool:
    wal = wal_path(target)
    try:
        return wal.stat().st_size > WAL_HEADER_BYTES
    except OSError:
        return False


def file_state(target: Path, candidates: list[str]) -> dict[str, str | None] | None:
    """meta of the file alone (the log ignored): session token and in-use flag; None when it
    cannot be read (the normal open then says why)."""
    for passphrase in candidates:
        try:
            conn = connect(target, passphrase, mode="immutable")
        except sqlcipher.Error:
            continue
        try:
            return _meta_values(conn, "session_token", "in_use", "session_opened_at", "session_opened_by")
        finally:
            conn.close()
    return None


def foreign_log(target: Path, candidates: list[str], main_token: str | None) -> str | None:
    """Why the log beside the file does not belong to it, or None when it does."""
    shm = shm_path(target)
    had_shm = shm.exists()
    try:
        for passphrase in candidates:
            try:
                conn = connect(target, passphrase, mode="ro")
            except sqlcipher.DatabaseError as exc:
                if is_busy(exc):
                    raise busy_error(target) from None
                if is_not_a_database(exc):
                    continue
                return "it cannot be read together with the file"
            try:
                token = _meta_values(conn, "session_token")["session_token"]
            finally:
                conn.close()
            if token != main_token:
                return "it was written by another session than the one that last wrote this file"
            return None
        return "it cannot be read together with the file"
    finally:
        if not had_shm:
            shm.unlink(missing_ok=True)


def set_aside_log(target: Path, why: str, now: Callable[[], datetime]) -> str:
    """Rename the log (and its index) aside; the notice names the new file."""
    stamp = now().strftime("%Y%m%d-%H%M%S")
    wal = wal_path(target)
    aside = wal.with_name(f"{wal.name}.set-aside-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = wal.with_name(f"{wal.name}.set-aside-{stamp}-{n}")
    os.replace(wal, aside)
    shm = shm_path(target)
    if shm.exists():
        os.replace(shm, shm.with_name(aside.name.replace("-wal.", "-shm.")))
    log.warning("a write-ahead log that does not belong to %s was set aside", target.name)
    return (f"{target.name}: the log file beside it ({wal.name}) does not belong to this copy of the workspace ({why}), "
            f"so it was not applied; it was renamed {aside.name}. The workspace opened as the file itself holds "
            "it. If work is missing, restore the backup it belongs to.")


def remove_new_empty_log(target: Path, had_wal: bool, had_shm: bool) -> None:
    """A read-only connection creates an empty log and its index; remove them if it did."""
    try:
        wal = wal_path(target)
        if not had_wal and wal.exists() and wal.stat().st_size == 0:
            wal.unlink()
        if not had_shm:
            shm_path(target).unlink(missing_ok=True)
    except OSError:
        pass


def writable(target: Path) -> bool:
    return os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)
