"""Backup and restore of a workspace, with SQLite's online backup API.

A backup is a page-by-page copy taken through the open connection, so it is consistent even
while the workspace is in use (unlike a file-manager copy, which misses the log): it is written
under a temporary name beside the destination, checked, given a session token of its own (so a
log left by the original can never be applied to it, see fileops) and only then renamed into
place. The source's audit trail records the backup and the head it copied.

Restore (``store.restore_workspace``) copies a backup over a workspace the same way. The file
it replaces is never deleted: it is renamed ``NAME.replaced-YYYYMMDD-HHMMSS.clearrec`` together
with its log, and the restored workspace's trail records the restore.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any, Callable

from sqlcipher3 import dbapi2 as sqlcipher

from ..errors import Cancelled, InputError
from ..safety import local_path
from . import fileops

log = logging.getLogger(__name__.replace(".backup", ".store"))

_PAGES_PER_STEP = 1024  # 4 MB a step: progress and cancel between steps


def fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_destination(dest: Path, what: str, overwrite: bool) -> None:
    if dest.is_dir():
        raise InputError(f"{dest}: is a folder; give a file name for the {what}")
    if not dest.parent.is_dir():
        raise InputError(f"{dest.parent}: no such folder for the {what}")
    if dest.exists() and not overwrite:
        raise InputError(f"{dest}: already exists; choose another name for the {what}")


def copy_into(src_conn: Any, tmp: Path, key: str, progress, cancel, what: str) -> str:
    """Copy src into a new file ``tmp`` keyed with ``key``; returns the copy's audit head."""
    dst = sqlcipher.connect(str(tmp), isolation_level=None, check_same_thread=False)
    try:
        fileops.quiet(dst)
        dst.execute(f"PRAGMA key = {fileops.quote_literal(key)}")

        def step(status, remaining, total):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if progress is not None and total:
                progress(0.9 * (total - remaining) / total, f"{what}: {total - remaining:,} of {total:,} pages")

        src_conn.backup(dst, pages=_PAGES_PER_STEP, progress=step)
        # Its own session token: a log left beside the original never applies to the copy.
        dst.execute("BEGIN IMMEDIATE")
        dst.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (("session_token", secrets.token_hex(16)), ("in_use", "0")))
        dst.execute("COMMIT")
        problems = [r[0] for r in dst.execute("PRAGMA quick_check") if r[0] != "ok"]
        problems += [r[0] for r in dst.execute("PRAGMA cipher_integrity_check")]
        if problems:
            raise InputError(f"the copy failed its check ({problems[0]}); nothing was replaced")
        row = dst.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return row[0] if row else ""
    finally:
        dst.close()


def temp_beside(dest: Path, kind: str) -> Path:
    return dest.with_name(f".{dest.name}.{kind}-{secrets.token_hex(4)}")


def cleanup(tmp: Path) -> None:
    for p in (tmp, fileops.wal_path(tmp), fileops.shm_path(tmp), Path(f"{tmp}-journal")):
        p.unlink(missing_ok=True)


def disk_error(exc: BaseException, dest: Path, what: str) -> InputError | None:
    if isinstance(exc, OSError) or fileops.is_full(exc) or "disk I/O" in str(exc):
        reason = "the disk is full" if fileops.is_full(exc) or getattr(exc, "errno", None) == 28 else \
            "the disk refused the write"
        return InputError(f"{dest.name}: the {what} could not be written ({reason}); nothing was replaced")
    return None


def backup_workspace(ws, dest: str | Path, *, progress: Callable[[float, str], None] | None = None,
                     cancel=None, overwrite: bool = False) -> Path:
    target = local_path(dest, must_exist=False, what="backup")
    if target == ws.path or target in (fileops.wal_path(ws.path), fileops.shm_path(ws.path)):
        raise InputError(f"{target.name}: a backup must be another file than the workspace itself")
    _check_destination(target, "backup", overwrite)
    tmp = temp_beside(target, "backup")
    try:
        with ws._lock:
            head = ws.audit_head()
            copied = copy_into(ws._db(), tmp, ws._key_form, progress, cancel, "Backing up")
        if copied != head:
            raise InputError(f"{target.name}: the copy does not end at the workspace's audit head; nothing was replaced")
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException as exc:
        cleanup(tmp)
        mapped = disk_error(exc, target, "backup")
        if mapped is not None:
            raise mapped from None
        raise
    if not ws.read_only:
        with ws._write():
            ws._append_audit("backup", {"file": target.name, "head": head})
    if progress is not None:
        progress(1.0, "Backed up")
    log.info("backed up workspace %s", ws.path.name)
    return target


def refuse_if_open(target: Path, passphrase: str) -> None:
    """A workspace in use always has its log beside it: if it is locked, refuse."""
    from .keys import passphrase_candidates

    had_shm = fileops.shm_path(target).exists()
    try:
        for form in passphrase_candidates(passphrase):
            try:
                fileops.connect(target, form, mode="ro").close()
                return
            except sqlcipher.DatabaseError as exc:
                if fileops.is_busy(exc):
                    raise fileops.busy_error(target) from None
                if not fileops.is_not_a_database(exc):
                    return
    finally:
        if not had_shm:
            fileops.shm_path(target).unlink(missing_ok=True)
