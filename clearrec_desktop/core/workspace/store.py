"""The encrypted workspace file: imports, screening runs, attorney decisions, audit trail.

One SQLCipher database per project (``*.clearrec``). ``PRAGMA key`` is given the passphrase,
so SQLCipher derives the page key with its KDF and a per-file random salt; every page, the
write-ahead log included, is encrypted and authenticated, and the file carries no SQLite
header. Nothing is ever written in plaintext beside it: temporary tables and sorts stay in
memory, and frames are stored as Arrow IPC bytes built in memory (never pickle).

Durability: WAL journal with ``synchronous=FULL``; every public write is one transaction that
is committed before the method returns, so a decision the GUI shows as recorded survives a
crash or SIGKILL.

Threading: one sqlite connection per ``Workspace``; every public method takes an internal
lock, so calls from different threads are serialised and safe, but a long write (a large
import) blocks other callers for its duration. The GUI should still route writes through its
single-worker pool and never call from the GUI thread for large frames. The file is opened in
exclusive locking mode, so a second process (another window, ``clearrec audit verify``) gets
``WorkspaceBusy`` instead of a second writer.

Decisions are an append-only event log (``decision``, ``undo``, ``redo`` events); the undo and
redo stacks and the effective decision per conviction are derived by replaying it, so they
survive close and reopen.

The audit trail is an append-only table guarded by triggers and chained with SHA-256 (see
``audit_entry_hash``). Audit details never carry names, dates of birth, CII or SSN: convictions
are referred to by ``conviction_id`` and free text (reasons, notes) is never copied there.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import logging
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path, PurePath
from typing import Any

import polars as pl
from sqlcipher3 import dbapi2 as sqlcipher

from ..errors import InputError
from ..safety import local_path
from . import backup as backups
from . import fileops
from .audit import _canonical_json, _check_detail_keys, audit_entry_hash
from .decisions import DecisionLog
from .filings import FilingLog
from .keys import check_new_passphrase, derived_key, new_id_key, opaque_ref, passphrase_candidates
from .schema import (
    _ACTION_RE,
    _CHUNK_BYTES,
    _FRAME_FORMAT,
    _INTERNAL_ACTIONS,
    _SCHEMA,
    _SHA256_RE,
    _SQLITE_HEADER,
    APP_MARKER,
    APPLICATION_ID,
    GENESIS_HASH,
    OFFICE_FIELDS,
    REVIEWER_SETTING,
    SCHEMA_VERSION,
    NotAWorkspace,
    WorkspaceReadOnly,
    WorkspaceWriteFailed,
)

log = logging.getLogger(__name__)

def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


_quote_literal = fileops.quote_literal


def _check_passphrase(passphrase: Any, *, creating: bool, context: tuple[str, ...] = ()) -> str:
    if creating:
        return check_new_passphrase(passphrase, context=context)
    if not isinstance(passphrase, str) or not passphrase:
        raise InputError("a workspace passphrase is required")
    if "\x00" in passphrase:
        raise InputError("the passphrase cannot contain a NUL character")
    return passphrase


def _frame_to_chunks(frame: pl.DataFrame) -> tuple[list[memoryview], int, str]:
    buf = io.BytesIO()
    frame.write_ipc(buf, compression="zstd")
    view = buf.getbuffer()
    digest = hashlib.sha256(view).hexdigest()
    chunks = [view[i : i + _CHUNK_BYTES] for i in range(0, len(view), _CHUNK_BYTES)] or [view[:0]]
    return chunks, len(view), digest


# An import's rows: one Arrow IPC stream per chunk, each a row group readable alone.
_GROUPS_FORMAT = "arrow-ipc-zstd-groups"
_GROUP_ROWS = 250_000


def _group_chunks(frame: pl.DataFrame) -> Iterable[bytes]:
    """A frame as one or more encoded row groups, each under the chunk size."""
    for start in range(0, max(frame.height, 1), _GROUP_ROWS):
        part = frame.slice(start, _GROUP_ROWS)
        buf = io.BytesIO()
        part.write_ipc(buf, compression="zstd")
        if buf.tell() > _CHUNK_BYTES and part.height > 1:
            half = part.height // 2
            yield from _group_chunks(part.slice(0, half))
            yield from _group_chunks(part.slice(half))
        else:
            yield buf.getvalue()


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("line counts in the import report must be integers")
    return value


# --------------------------------------------------------------------------- workspace


class Workspace(DecisionLog, FilingLog):
    """An open workspace file. Build with ``Workspace.create`` or ``Workspace.open``; close it."""

    def __init__(self, path: Path, conn: Any, clock: Callable[[], datetime] | None, *,
                 read_only: bool = False) -> None:
        self._path = path
        self._conn = conn
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        self._os_user: str | None = None
        self._read_only = read_only
        self._id_key: str | None = None
        self._key_form: str | None = None  # the passphrase form that opened the file (for backups)
        # What the caller should tell the user (a log set aside, opened read-only...).
        self.notices: list[str] = []
        # The previous session, when it did not end with a clean close (see fileops).
        self.unclosed_session: dict[str, Any] | None = None
        # Derived from the decision log (see _replay_decisions).
        self._undo_stack: list[int] = []
        self._redo_stack: list[int] = []
        self._active: dict[str, list[int]] = {}
        self._event_conviction: dict[int, str] = {}
        self._proposals: tuple[int, pl.DataFrame] | None = None  # (run_id, conviction_id/outcome)
        self._person_index = None  # filings.PersonIndex of the latest run, built on the first lookup

    # ----------------------------------------------------------------- open / create / close

    @classmethod
    def create(
        cls,
        path: str | Path,
        passphrase: str,
        *,
        county: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Workspace:
        """Create a new encrypted workspace; refuses an existing path and a weak passphrase.

        The passphrase is NFC-normalised before the key is derived (see keys.py)."""
        target = local_path(path, must_exist=False, what="workspace")
        passphrase = _check_passphrase(passphrase, creating=True, context=(county or "", target.stem))
        for existing in (target, fileops.wal_path(target), Path(f"{target}-journal")):
            if existing.exists():
                raise InputError(f"{existing}: already exists; choose another name for the new workspace")
        if not target.parent.is_dir():
            raise InputError(f"{target.parent}: no such folder")
        conn = None
        try:
            conn = sqlcipher.connect(str(target), isolation_level=None, check_same_thread=False, timeout=1.0)
            fileops.quiet(conn)
            if not conn.execute("PRAGMA cipher_version").fetchall():
                # A plain SQLite build would ignore the key and write the records in clear.
                raise RuntimeError("the SQLite library in use has no SQLCipher encryption")
            conn.execute(f"PRAGMA key = {_quote_literal(passphrase)}")
            _configure(conn)
            ws = cls(target, conn, clock)
            ws._key_form = passphrase
            now = ws._now()
            meta = {
                "app": APP_MARKER,
                "schema_version": str(SCHEMA_VERSION),
                "workspace_id": str(uuid.uuid4()),
                "created_at": now,
                "county": county or "",
                "audit_count": "0",
                "audit_head": GENESIS_HASH,
                "id_key": new_id_key(),
                "session_token": secrets.token_hex(16),
                "in_use": "1",
                "session_opened_at": now,
                "session_opened_by": ws._os_login(),
            }
            # executescript commits first and leaves our BEGIN open: schema, meta and the first
            # audit entry land in a single transaction.
            conn.executescript("BEGIN IMMEDIATE;\n" + _SCHEMA)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            ws._id_key = meta["id_key"]
            ws._append_audit(
                "workspace_created",
                {
                    "schema_version": SCHEMA_VERSION,
                    "county": county or None,
                    "cipher_version": conn.execute("PRAGMA cipher_version").fetchone()[0],
                },
                at=now,
            )
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with open(target, "rb") as fh:
                if fh.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER:
                    raise RuntimeError("the workspace was written without encryption")
        except BaseException:
            if conn is not None:
                conn.close()
            for leftover in (target, fileops.wal_path(target), fileops.shm_path(target)):
                leftover.unlink(missing_ok=True)
            raise
        log.info("created workspace %s", target.name)
        return ws

    @classmethod
    def open(
        cls,
        path: str | Path,
        passphrase: str,
        *,
        clock: Callable[[], datetime] | None = None,
        read_only: bool | None = None,
    ) -> Workspace:
        """Open an existing workspace. Raises WrongPassphrase, NotAWorkspace (WorkspaceDamaged)
        or WorkspaceBusy, each with a message saying what to do.

        ``read_only``: None opens read-only when the file or its folder cannot be written (a
        notice says so); True never writes to the file (``audit verify``). A log beside the file
        that does not belong to it is set aside, never applied (``notices`` names it)."""
        target = local_path(path, must_exist=True, what="workspace")
        if target.is_dir():
            raise NotAWorkspace(f"{target}: is a folder, not a ClearRec workspace")
        _check_passphrase(passphrase, creating=False)
        size = target.stat().st_size
        with open(target, "rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
        if head == _SQLITE_HEADER:
            raise NotAWorkspace(f"{target.name}: is an unencrypted SQLite database, not a ClearRec workspace")
        wal = fileops.wal_path(target)
        has_wal = wal.exists()
        # SQLCipher files are whole pages (512-byte multiples); 0 bytes only before a first checkpoint.
        if size == 0 and not has_wal:
            raise NotAWorkspace(f"{target.name}: is empty: not a ClearRec workspace (or a copy that never finished)")
        if size % 512:
            raise NotAWorkspace(
                f"{target.name}: is not a ClearRec workspace, or a copy of one that was cut short "
                f"({size:,} bytes is not a whole number of pages); restore it from a backup (File > Restore...)")
        notices: list[str] = []
        can_write = fileops.writable(target)
        if read_only is None:
            read_only = not can_write
            if read_only:
                notices.append(f"{target.name}: opened read-only: the file or its folder cannot be written "
                               "(permissions, or read-only media); copy it to a folder you can write to, to work in it")
        candidates = passphrase_candidates(passphrase)
        state = None
        if size and fileops.log_has_frames(target):
            state = fileops.file_state(target, candidates)
            if state is not None:
                why = fileops.foreign_log(target, candidates, state["session_token"])
                if why is not None:
                    if can_write:
                        notices.append(fileops.set_aside_log(target, why, _utc_now))
                    else:
                        notices.append(f"{target.name}: the log beside it ({wal.name}) does not belong to this "
                                       f"copy ({why}) and was ignored")
                    has_wal = False
        mode = "rw"
        if read_only:
            mode = "ro" if fileops.wal_path(target).exists() and can_write else "immutable"
        had_wal, had_shm = fileops.wal_path(target).exists(), fileops.shm_path(target).exists()
        conn, used = fileops.connect_first(target, candidates, mode=mode)
        try:
            if not read_only:
                try:
                    _configure(conn)
                except sqlcipher.DatabaseError as exc:
                    if fileops.is_busy(exc):
                        raise fileops.busy_error(target) from None
                    raise
            ws = cls(target, conn, clock, read_only=read_only)
            ws._key_form = used
            ws.notices = notices
            ws._check_identity()
            ws._translate_errors(ws._replay_decisions)
            if state is None:  # no log: the connection sees the file alone
                state = {k: ws._meta(k) for k in ("in_use", "session_opened_at", "session_opened_by")}
            if state.get("in_use") == "1":
                ws.unclosed_session = {
                    "opened_at": state.get("session_opened_at"),
                    "opened_by": state.get("session_opened_by"),
                    "log_found": has_wal,
                }
            if not read_only:
                ws._start_session()
        except BaseException:
            conn.close()
            if read_only:
                fileops.remove_new_empty_log(target, had_wal, had_shm)
            raise
        ws._had_log = (had_wal, had_shm)
        log.info("opened workspace %s%s", target.name, " read-only" if read_only else "")
        return ws

    def _os_login(self) -> str:
        try:
            return getpass.getuser()
        except Exception:  # no login name on some service accounts
            return "unknown"

    def _start_session(self) -> None:
        """Fold any replayed log into the file, then mark the file as in use by a new session
        whose token every log it writes will carry (see fileops)."""
        conn = self._db()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        missing_log = self.unclosed_session is not None and not self.unclosed_session["log_found"]
        with self._write() as conn:
            if self._meta("id_key") is None:  # a workspace made before opaque ids
                conn.execute("INSERT INTO meta (key, value) VALUES ('id_key', ?)", (new_id_key(),))
            values = {"session_token": secrets.token_hex(16), "in_use": "1", "session_opened_at": self._now(),
                      "session_opened_by": self._os_login()}
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                values.items())
            if missing_log:
                # Kept in the trail: this file lacks what its last session did after it opened.
                self._append_audit("opened_without_log", {"session_opened_at": self.unclosed_session["opened_at"]})
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if missing_log:
            self.notices.append(
                f"{self._path.name}: this file was still in use by ClearRec (since "
                f"{self.unclosed_session['opened_at']}) when it was copied or when the program stopped, and its log "
                f"({fileops.wal_path(self._path).name}) is not beside it: anything recorded after that time is "
                "missing. If a complete copy exists, restore it instead (File > Restore...).")

    def _check_identity(self) -> None:
        has_meta = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        app = self._meta("app") if has_meta else None
        if app != APP_MARKER:
            raise NotAWorkspace(f"{self._path.name}: is an encrypted database but not a ClearRec workspace")
        version = int(self._meta("schema_version") or 0)
        if version > SCHEMA_VERSION:
            raise InputError(
                f"{self._path.name}: was made by a newer ClearRec (workspace format {version});"
                " update ClearRec to open it"
            )

    def close(self) -> None:
        """Mark the session closed, checkpoint the log into the main file and close. Safe to call twice."""
        with self._lock:
            if self._conn is None:
                return
            try:
                if not self._read_only:
                    with self._write() as conn:
                        conn.execute("UPDATE meta SET value = '0' WHERE key = 'in_use'")
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except (sqlcipher.Error, InputError):
                log.warning("checkpoint on close failed; the log is replayed on next open")
            self._conn.close()
            self._conn = None
            if self._read_only:
                fileops.remove_new_empty_log(self._path, *getattr(self, "_had_log", (True, True)))
            log.info("closed workspace %s", self._path.name)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def closed(self) -> bool:
        return self._conn is None

    def info(self) -> dict[str, Any]:
        """Workspace id, creation time, county, format and cipher version."""
        with self._lock:
            conn = self._db()
            return {
                "path": str(self._path),
                "workspace_id": self._meta("workspace_id"),
                "created_at": self._meta("created_at"),
                "county": self._meta("county") or None,
                "schema_version": int(self._meta("schema_version") or 0),
                "cipher_version": conn.execute("PRAGMA cipher_version").fetchone()[0],
            }

    @property
    def county(self) -> str | None:
        with self._lock:
            return self._meta("county") or None

    def check_integrity(self) -> tuple[bool, list[str]]:
        """SQLite integrity_check, SQLCipher page-HMAC check and foreign keys: (ok, problems)."""
        with self._lock:
            conn = self._db()
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall() if row[0] != "ok"]
            problems += [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
            problems += [
                f"foreign key: {row[0]} row {row[1]} -> {row[2]}"
                for row in conn.execute("PRAGMA foreign_key_check").fetchall()
            ]
            return (not problems, problems)

    # ----------------------------------------------------------------- internals

    def _db(self) -> Any:
        if self._conn is None:
            raise RuntimeError("the workspace is closed")
        return self._conn

    def _now(self) -> str:
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")

    def ref(self, value: str, kind: str = "conviction") -> str:
        """The opaque id the audit trail uses for a conviction id or a link key (see keys.py)."""
        if self._id_key is None:
            self._id_key = self._meta("id_key")
            if self._id_key is None:
                raise WorkspaceReadOnly(f"{self._path.name}: open the workspace for writing once to give it its keys")
        return opaque_ref(self._id_key, kind, str(value))

    def person_id_key(self) -> str | None:
        """The secret that keys name + date-of-birth person ids of imports into this workspace
        (``county_files.person_ids_keyed``): derived from the workspace's own secret."""
        with self._lock:
            key = self._id_key or self._meta("id_key")
        return None if key is None else derived_key(key, "person ids")

    def conviction_refs(self) -> dict[str, str]:
        """Opaque id -> conviction id, for every conviction a decision or note names (the
        Activity view shows the conviction; the trail holds only the opaque id)."""
        with self._lock:
            ids = {r[0] for r in self._db().execute("SELECT DISTINCT conviction_id FROM decision_events")}
            ids |= {r[0] for r in self._db().execute(
                "SELECT DISTINCT conviction_id FROM notes WHERE conviction_id IS NOT NULL")}
            if self._meta("id_key") is None:
                return {}
            return {self.ref(c): c for c in ids}

    def _meta(self, key: str) -> str | None:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def read_only(self) -> bool:
        return self._read_only

    def _write_error(self, exc: BaseException) -> Exception | None:
        """A user-facing error for a write the disk or the file refused, or None."""
        name = self._path.name
        if fileops.is_full(exc):
            return WorkspaceWriteFailed(
                f"{name}: the disk holding the workspace is full, so nothing of this change was stored; "
                "free some space on it (or move the workspace to a larger disk) and try again")
        if fileops.is_read_only(exc):
            return WorkspaceReadOnly(
                f"{name}: the workspace cannot be written (read-only file, folder or media); nothing was stored")
        if fileops.is_corrupt(exc):
            return fileops.diagnose_damage(self._path, self._key_form or "")
        if fileops.error_name(exc).startswith("SQLITE_IOERR") or "disk I/O error" in str(exc):
            return WorkspaceWriteFailed(
                f"{name}: the disk reported an error while writing the workspace (removed, disconnected or failing), "
                "so nothing of this change was stored; check the disk and open the workspace again")
        return None

    def _translate_errors(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except sqlcipher.DatabaseError as exc:
            mapped = self._write_error(exc)
            if mapped is None:
                raise
            raise mapped from None

    @contextmanager
    def _write(self):
        """One committed transaction; the caller's in-memory state changes after it returns.

        SQLite ends the transaction itself when the disk is full or fails; what the user then
        sees is the cause (disk full, read-only, damaged), never "no transaction is active"."""
        with self._lock:
            conn = self._db()
            if self._read_only:
                raise WorkspaceReadOnly(
                    f"{self._path.name}: the workspace is open read-only; nothing can be changed in it")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlcipher.DatabaseError as exc:
                raise (self._write_error(exc) or exc) from None
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlcipher.Error:
                        log.warning("rollback failed after a refused write")
                if isinstance(exc, sqlcipher.DatabaseError):
                    mapped = self._write_error(exc)
                    if mapped is not None:
                        raise mapped from None
                raise

    def _append_audit(self, action: str, details: Mapping[str, Any], *, at: str | None = None) -> int:
        """Append one chained entry; must run inside a write transaction."""
        conn = self._db()
        details = json.loads(_canonical_json(dict(details)))  # normalise dates/tuples once
        row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev_hash = (row[0] + 1, row[1]) if row else (1, GENESIS_HASH)
        at = at or self._now()
        actor = self.reviewer()
        digest = audit_entry_hash(seq, at, actor, action, details, prev_hash)
        conn.execute(
            "INSERT INTO audit (seq, at, actor, action, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, at, actor, action, _canonical_json(details), prev_hash, digest),
        )
        # The head is kept in meta too, so cutting entries off the end is noticed by verify_audit.
        conn.executemany(
            "UPDATE meta SET value = ? WHERE key = ?", ((str(seq), "audit_count"), (digest, "audit_head"))
        )
        return seq

    def _store_frame(self, frame: pl.DataFrame) -> int:
        conn = self._db()
        chunks, n_bytes, digest = _frame_to_chunks(frame)
        cur = conn.execute(
            "INSERT INTO frames (format, n_rows, n_bytes, sha256) VALUES (?, ?, ?, ?)",
            (_FRAME_FORMAT, frame.height, n_bytes, digest),
        )
        frame_id = cur.lastrowid
        conn.executemany(
            "INSERT INTO frame_chunks (frame_id, chunk_no, data) VALUES (?, ?, ?)",
            ((frame_id, i, chunk) for i, chunk in enumerate(chunks)),
        )
        return frame_id

    def _frame_sha256(self, frame_id: int) -> str:
        return self._db().execute("SELECT sha256 FROM frames WHERE frame_id = ?", (frame_id,)).fetchone()[0]

    def _store_frame_groups(self, frames: Iterable[pl.DataFrame]) -> tuple[int, int]:
        """Store frames as one table of row groups, each chunk one self-contained Arrow IPC
        stream (so one group can be read alone); returns (frame_id, rows)."""
        conn = self._db()
        cur = conn.execute("INSERT INTO frames (format, n_rows, n_bytes, sha256) VALUES (?, 0, 0, '')",
                           (_GROUPS_FORMAT,))
        frame_id = cur.lastrowid
        digest, n_rows, n_bytes, chunk_no = hashlib.sha256(), 0, 0, 0
        for frame in frames:
            for data in _group_chunks(frame):
                digest.update(data)
                conn.execute("INSERT INTO frame_chunks (frame_id, chunk_no, data) VALUES (?, ?, ?)",
                             (frame_id, chunk_no, data))
                chunk_no += 1
                n_bytes += len(data)
            n_rows += frame.height
        conn.execute("UPDATE frames SET n_rows = ?, n_bytes = ?, sha256 = ? WHERE frame_id = ?",
                     (n_rows, n_bytes, digest.hexdigest(), frame_id))
        return frame_id, n_rows

    def _frame_chunks(self, frame_id: int) -> tuple[str, list[bytes]]:
        """The format and the checked chunks of a stored table."""
        conn = self._db()
        row = conn.execute("SELECT format, n_bytes, sha256 FROM frames WHERE frame_id = ?", (frame_id,)).fetchone()
        if row is None or row[0] not in (_FRAME_FORMAT, _GROUPS_FORMAT):
            raise NotAWorkspace(f"{self._path.name}: a stored table is missing or in an unknown format")
        chunks = [bytes(chunk) for (chunk,) in conn.execute(
            "SELECT data FROM frame_chunks WHERE frame_id = ? ORDER BY chunk_no", (frame_id,))]
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)
        if sum(len(c) for c in chunks) != row[1] or digest.hexdigest() != row[2]:
            raise NotAWorkspace(f"{self._path.name}: a stored table is damaged; run an integrity check")
        return row[0], chunks

    def _load_frame(self, frame_id: int) -> pl.DataFrame:
        fmt, chunks = self._frame_chunks(frame_id)
        if fmt == _GROUPS_FORMAT:
            frames = [pl.read_ipc(io.BytesIO(c)) for c in chunks]
            return pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
        return pl.read_ipc(io.BytesIO(b"".join(chunks)))

    # ----------------------------------------------------------------- reviewer and settings

    def reviewer(self) -> str:
        """The settings override (``reviewer_name``) or else the operating-system user."""
        with self._lock:
            row = self._db().execute(
                "SELECT value_json FROM settings WHERE key = ?", (REVIEWER_SETTING,)
            ).fetchone()
            if row:
                name = json.loads(row[0])
                if isinstance(name, str) and name.strip():
                    return name.strip()
            if self._os_user is None:
                try:
                    self._os_user = getpass.getuser()
                except Exception:  # no login name on some service accounts
                    self._os_user = "unknown"
            return self._os_user

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db().execute("SELECT value_json FROM settings WHERE key = ?", (key,)).fetchone()
            return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value; ``None`` removes the setting. Audited by key only."""
        if not isinstance(key, str) or not key:
            raise ValueError("a setting key must be a non-empty string")
        with self._write() as conn:
            if value is None:
                conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                conn.execute(
                    "INSERT INTO settings (key, value_json) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json",
                    (key, _canonical_json(value)),
                )
            self._append_audit("setting_changed", {"key": key, "cleared": value is None})

    # ----------------------------------------------------------------- office details

    def get_office(self) -> dict[str, Any]:
        """All office fields; unset ones are ``""`` (``courthouses``: ``[]``)."""
        with self._lock:
            row = self._db().execute("SELECT details_json FROM office WHERE id = 1").fetchone()
            stored = json.loads(row[0]) if row else {}
            return {f: stored.get(f, [] if f == "courthouses" else "") for f in OFFICE_FIELDS}

    def set_office(self, details: Mapping[str, Any]) -> None:
        """Update the given office fields (others keep their value); audited by field name only."""
        unknown = sorted(set(details) - set(OFFICE_FIELDS))
        if unknown:
            raise InputError(f"unknown office field(s): {', '.join(unknown)}")
        cleaned: dict[str, Any] = {}
        for field, value in details.items():
            if field == "courthouses":
                if value is None:
                    value = []
                if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                    raise InputError("office field 'courthouses' must be a list of names")
                cleaned[field] = [v.strip() for v in value if v.strip()]
            else:
                if value is None:
                    value = ""
                if not isinstance(value, str):
                    raise InputError(f"office field '{field}' must be text")
                cleaned[field] = value.strip()
        with self._write() as conn:
            current = self.get_office()
            changed = sorted(f for f, v in cleaned.items() if current[f] != v)
            if not changed:
                return
            current.update(cleaned)
            conn.execute(
                "INSERT INTO office (id, details_json) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET details_json = excluded.details_json",
                (_canonical_json(current),),
            )
            self._append_audit("office_changed", {"fields": changed})

    # ----------------------------------------------------------------- imports

    def add_import(
        self,
        source_name: str,
        sha256: str,
        size: int,
        report: Mapping[str, Any],
        rows: pl.DataFrame | Iterable[pl.DataFrame],
    ) -> int:
        """Store one imported file: its identity, import report and normalised rows.

        ``rows``: one frame, or its row groups one at a time (a ``RowStore``'s groups), so a
        large import is never held whole; the rows are stored as row groups either way
        (``import_row_groups`` reads them back one by one)."""
        if not isinstance(source_name, str) or not source_name.strip():
            raise ValueError("source_name must be the imported file's name")
        sha256 = str(sha256).lower()
        if not _SHA256_RE.match(sha256):
            raise ValueError("sha256 must be 64 hex digits")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("size must be a byte count")
        if isinstance(rows, pl.DataFrame):
            rows = [rows]
        elif isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
            raise TypeError("rows must be a polars DataFrame or its row groups")
        report = dict(report)
        lines_read = _optional_int(report.get("lines_read"))
        lines_rejected = _optional_int(report.get("lines_rejected"))
        report_json = _canonical_json(report)
        name = PurePath(source_name).name or source_name
        with self._write() as conn:
            frame_id, n_rows = self._store_frame_groups(rows)
            at = self._now()
            import_id = conn.execute(
                "INSERT INTO imports (source_name, size, sha256, imported_at, lines_read, rows_imported,"
                " lines_rejected, report_json, rows_frame_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, size, sha256, at, lines_read, n_rows, lines_rejected, report_json, frame_id),
            ).lastrowid
            self._append_audit(
                "import",
                {
                    "import_id": import_id,
                    "source_name": name,
                    "sha256": sha256,
                    "size": size,
                    "lines_read": lines_read,
                    "rows_imported": n_rows,
                    "lines_rejected": lines_rejected,
                    # binds the stored rows to this entry: audit verify recomputes it
                    "rows_sha256": self._frame_sha256(frame_id),
                },
                at=at,
            )
        log.info("stored import %d (%d rows)", import_id, n_rows)
        return import_id

    def imports(self) -> list[dict[str, Any]]:
        """Every import, oldest first, without its rows."""
        with self._lock:
            cur = self._db().execute(
                "SELECT import_id, source_name, size, sha256, imported_at, lines_read, rows_imported,"
                " lines_rejected, report_json FROM imports ORDER BY import_id"
            )
            out = []
            for row in cur.fetchall():
                keys = ("import_id", "source_name", "size", "sha256", "imported_at", "lines_read",
                        "rows_imported", "lines_rejected")
                entry = dict(zip(keys, row[:8]))
                entry["report"] = json.loads(row[8])
                out.append(entry)
            return out

    def load_import_rows(self, import_id: int) -> pl.DataFrame:
        """Every row of an import as one frame (small imports; see ``import_row_groups``)."""
        with self._lock:
            return self._load_frame(self._rows_frame_id(import_id))

    def import_row_groups(self, import_id: int) -> list[bytes]:
        """An import's rows as row groups: each one Arrow IPC stream (zstd), checked against the
        stored digest, to be decoded one at a time (an import stored before row groups is one)."""
        with self._lock:
            fmt, chunks = self._frame_chunks(self._rows_frame_id(import_id))
        return chunks if fmt == _GROUPS_FORMAT else [b"".join(chunks)]

    def _rows_frame_id(self, import_id: int) -> int:
        row = self._db().execute("SELECT rows_frame_id FROM imports WHERE import_id = ?", (import_id,)).fetchone()
        if row is None:
            raise KeyError(f"no import {import_id} in this workspace")
        return row[0]

    # ----------------------------------------------------------------- runs

    def add_run(
        self,
        import_ids: Iterable[int],
        profile_id: str,
        profile_text: str,
        county: str | None,
        as_of: date | str,
        results: pl.DataFrame,
        summary: Mapping[str, Any],
    ) -> int:
        """Store one screening run. ``results`` needs unique string ``conviction_id`` and ``outcome``."""
        import_ids = [int(i) for i in import_ids]
        if len(set(import_ids)) != len(import_ids):
            raise ValueError("import_ids lists an import twice")
        if not isinstance(results, pl.DataFrame):
            raise TypeError("results must be a polars DataFrame")
        missing = {"conviction_id", "outcome"} - set(results.columns)
        if missing:
            raise ValueError(f"results frame lacks column(s): {', '.join(sorted(missing))}")
        results = results.with_columns(pl.col("conviction_id").cast(pl.String), pl.col("outcome").cast(pl.String))
        ids = results.get_column("conviction_id")
        if ids.null_count():
            raise ValueError("results frame has rows without a conviction_id")
        if ids.n_unique() != results.height:
            raise ValueError("results frame repeats a conviction_id")
        if isinstance(as_of, datetime):
            as_of = as_of.date()
        as_of_text = as_of.isoformat() if isinstance(as_of, date) else date.fromisoformat(str(as_of)).isoformat()
        profile_sha = hashlib.sha256(profile_text.encode("utf-8")).hexdigest()
        summary_json = _canonical_json(dict(summary))
        by_outcome = {
            str(k): int(v)
            for k, v in results.get_column("outcome").fill_null("").value_counts().iter_rows()
        }
        with self._write() as conn:
            for import_id in import_ids:
                if conn.execute("SELECT 1 FROM imports WHERE import_id = ?", (import_id,)).fetchone() is None:
                    raise KeyError(f"no import {import_id} in this workspace")
            frame_id = self._store_frame(results)
            at = self._now()
            run_id = conn.execute(
                "INSERT INTO runs (created_at, profile_id, profile_text, profile_sha256, county, as_of,"
                " n_results, summary_json, results_frame_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (at, profile_id, profile_text, profile_sha, county, as_of_text, results.height, summary_json,
                 frame_id),
            ).lastrowid
            conn.executemany(
                "INSERT INTO run_imports (run_id, import_id, position) VALUES (?, ?, ?)",
                ((run_id, import_id, pos) for pos, import_id in enumerate(import_ids)),
            )
            self._append_audit(
                "run",
                {
                    "run_id": run_id,
                    "import_ids": import_ids,
                    "profile_id": profile_id,
                    "profile_sha256": profile_sha,
                    "county": county,
                    "as_of": as_of_text,
                    "convictions": results.height,
                    "by_outcome": by_outcome,
                    "results_sha256": self._frame_sha256(frame_id),
                    "summary_sha256": hashlib.sha256(summary_json.encode("utf-8")).hexdigest(),
                },
                at=at,
            )
        self._proposals = None
        log.info("stored run %d (%d convictions)", run_id, results.height)
        return run_id

    def _run_dicts(self, where: str = "", params: tuple = ()) -> list[dict[str, Any]]:
        conn = self._db()
        rows = conn.execute(
            "SELECT run_id, created_at, profile_id, profile_text, profile_sha256, county, as_of, n_results,"
            f" summary_json FROM runs {where} ORDER BY run_id",
            params,
        ).fetchall()
        out = []
        for row in rows:
            keys = ("run_id", "created_at", "profile_id", "profile_text", "profile_sha256", "county", "as_of",
                    "n_results")
            entry = dict(zip(keys, row[:8]))
            entry["summary"] = json.loads(row[8])
            entry["import_ids"] = [
                r[0]
                for r in conn.execute(
                    "SELECT import_id FROM run_imports WHERE run_id = ? ORDER BY position", (row[0],)
                )
            ]
            out.append(entry)
        return out

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first, without its results frame."""
        with self._lock:
            return self._run_dicts()

    def latest_run(self) -> dict[str, Any] | None:
        with self._lock:
            row = self._db().execute("SELECT MAX(run_id) FROM runs").fetchone()
            if row[0] is None:
                return None
            return self._run_dicts("WHERE run_id = ?", (row[0],))[0]

    def load_results(self, run_id: int) -> pl.DataFrame:
        with self._lock:
            row = self._db().execute("SELECT results_frame_id FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise KeyError(f"no run {run_id} in this workspace")
            return self._load_frame(row[0])

    def compare_runs(self, old_run_id: int, new_run_id: int) -> pl.DataFrame:
        """Convictions that are ``new``, ``gone`` or ``outcome_changed`` between two runs."""
        with self._lock:
            old = self.load_results(old_run_id).select("conviction_id", pl.col("outcome").alias("old_outcome"))
            new = self.load_results(new_run_id).select("conviction_id", pl.col("outcome").alias("new_outcome"))
        old = old.with_columns(pl.lit(True).alias("_in_old"))
        new = new.with_columns(pl.lit(True).alias("_in_new"))
        change = (
            pl.when(pl.col("_in_old").is_null())
            .then(pl.lit("new"))
            .when(pl.col("_in_new").is_null())
            .then(pl.lit("gone"))
            .when(pl.col("old_outcome").ne_missing(pl.col("new_outcome")))
            .then(pl.lit("outcome_changed"))
        )
        return (
            old.join(new, on="conviction_id", how="full", coalesce=True)
            .with_columns(change.alias("change"))
            .filter(pl.col("change").is_not_null())
            .select("conviction_id", "change", "old_outcome", "new_outcome")
            .sort("conviction_id")
        )

    def add_note(self, text: str, *, conviction_id: str | None = None) -> int:
        """A free-text note on the workspace or one conviction (the text never enters the audit trail)."""
        if not isinstance(text, str) or not text.strip():
            raise InputError("a note cannot be empty")
        with self._write() as conn:
            at = self._now()
            note_id = conn.execute(
                "INSERT INTO notes (at, author, conviction_id, text) VALUES (?, ?, ?, ?)",
                (at, self.reviewer(), conviction_id, text.strip()),
            ).lastrowid
            self._append_audit(
                "note", {"note_id": note_id, "conviction": None if conviction_id is None else self.ref(conviction_id)},
                at=at)
        return note_id

    def notes(self, conviction_id: str | None = None) -> list[dict[str, Any]]:
        """Notes, oldest first: all of them, or those on one conviction."""
        with self._lock:
            sql = "SELECT note_id, at, author, conviction_id, text FROM notes"
            params: tuple = ()
            if conviction_id is not None:
                sql += " WHERE conviction_id = ?"
                params = (conviction_id,)
            rows = self._db().execute(sql + " ORDER BY note_id", params).fetchall()
            return [dict(zip(("note_id", "at", "author", "conviction_id", "text"), r)) for r in rows]

    # ----------------------------------------------------------------- audit trail

    def log_event(self, action: str, details: Mapping[str, Any] | None = None) -> int:
        """Append an audit entry for another module (``export``, ``document``...). Returns its seq.

        Details must be JSON data without personal identifiers; refer to convictions by
        conviction_id. Keys such as ``name``, ``dob``, ``cii`` or ``ssn`` are refused.
        """
        if not isinstance(action, str) or not _ACTION_RE.match(action):
            raise ValueError("an audit action is a short lower-case identifier")
        if action in _INTERNAL_ACTIONS:
            raise ValueError(f"audit action '{action}' is recorded by the workspace itself")
        details = dict(details or {})
        _check_detail_keys(details)
        with self._write():
            return self._append_audit(action, details)

    def audit_entries(self, action: str | None = None) -> list[dict[str, Any]]:
        """Audit entries oldest first, optionally of one action; details parsed."""
        with self._lock:
            sql = "SELECT seq, at, actor, action, details, prev_hash, hash FROM audit"
            params: tuple = ()
            if action is not None:
                sql += " WHERE action = ?"
                params = (action,)
            rows = self._db().execute(sql + " ORDER BY seq", params).fetchall()
        keys = ("seq", "at", "actor", "action", "details", "prev_hash", "hash")
        return [dict(zip(keys, (*r[:4], json.loads(r[4]), *r[5:]))) for r in rows]

    def audit_head(self) -> str:
        """Hash of the latest audit entry (print it on documents to anchor the chain)."""
        with self._lock:
            row = self._db().execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            return row[0] if row else GENESIS_HASH

    def verify_audit(self) -> tuple[bool, int | None, str]:
        """Verify the chain and everything it speaks for (verify.py): (ok, first bad seq or None, message)."""
        report = self.verify_report()
        return report.ok, report.first_bad_seq, report.summary()

    def verify_report(self):
        """Every difference between the workspace and its audit trail (a ``verify.VerifyReport``)."""
        from .verify import verify

        return self._translate_errors(verify, self)

    # ----------------------------------------------------------------- backup

    def backup(self, dest: str | Path, *, progress: Callable[[float, str], None] | None = None,
               cancel=None, overwrite: bool = False) -> Path:
        """A complete, consistent copy of this workspace at ``dest`` while it stays open (SQLite's
        online backup). Written beside ``dest`` under a temporary name, checked, then renamed."""
        return backups.backup_workspace(self, dest, progress=progress, cancel=cancel, overwrite=overwrite)


def _configure(conn: Any) -> None:
    # Exclusive locking: one process at a time, and WAL needs no shared-memory file.
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    conn.execute("PRAGMA temp_store = MEMORY")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise RuntimeError(f"could not switch the workspace to WAL journaling ({mode})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def verify_workspace_audit(path: str | Path, passphrase: str) -> tuple[bool, int | None, str]:
    """Open a workspace read-only, verify it (see verify.py) and close it (``clearrec audit verify``).

    Raises WrongPassphrase, NotAWorkspace or WorkspaceBusy (all InputError) when it cannot be opened.
    """
    with Workspace.open(path, passphrase, read_only=True) as ws:
        return ws.verify_audit()


def restore_workspace(backup: str | Path, workspace: str | Path, passphrase: str, *,
                      progress: Callable[[float, str], None] | None = None, cancel=None,
                      clock: Callable[[], datetime] | None = None) -> tuple[Path, Path | None]:
    """Put ``backup`` in place of ``workspace`` (which may not exist yet). Returns the restored
    path and where the replaced file was kept (None when there was none)."""
    source = local_path(backup, must_exist=True, what="backup")
    target = local_path(workspace, must_exist=False, what="workspace")
    if source == target:
        raise InputError(f"{target.name}: the backup and the workspace to restore are the same file")
    if target.is_dir():
        raise InputError(f"{target}: is a folder; give the workspace file to restore")
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder for the workspace")
    if target.exists() and fileops.wal_path(target).exists():
        backups.refuse_if_open(target, passphrase)
    now = (clock or (lambda: datetime.now(timezone.utc)))()
    tmp = backups.temp_beside(target, "restore")
    with Workspace.open(source, passphrase, read_only=True) as src:
        ok, _, message = src.verify_audit()
        if not ok:
            raise InputError(f"{source.name}: the backup does not verify ({message}); nothing was replaced")
        try:
            head = backups.copy_into(src._db(), tmp, src._key_form, progress, cancel, "Restoring")
        except BaseException as exc:
            backups.cleanup(tmp)
            mapped = backups.disk_error(exc, target, "restored workspace")
            if mapped is not None:
                raise mapped from None
            raise
    aside = None
    try:
        if target.exists():
            stamp = now.strftime("%Y%m%d-%H%M%S")
            aside = target.with_name(f"{target.stem}.replaced-{stamp}{target.suffix}")
            n = 1
            while aside.exists():
                n += 1
                aside = target.with_name(f"{target.stem}.replaced-{stamp}-{n}{target.suffix}")
            os.replace(target, aside)
            # Its log goes with it (renamed alike, it still belongs to it and opens with it).
            for old, new in ((fileops.wal_path(target), fileops.wal_path(aside)),
                             (fileops.shm_path(target), fileops.shm_path(aside))):
                if old.exists():
                    os.replace(old, new)
        else:
            for stray in (fileops.wal_path(target), fileops.shm_path(target)):
                if stray.exists():  # a log without its file: never applied to the restored one
                    os.replace(stray, stray.with_name(f"{stray.name}.set-aside-{now.strftime('%Y%m%d-%H%M%S')}"))
        os.replace(tmp, target)
        backups.fsync_dir(target.parent)
    except BaseException:
        backups.cleanup(tmp)
        raise
    with Workspace.open(target, passphrase) as restored:
        with restored._write():
            restored._append_audit("restored", {"from": source.name, "head": head,
                                                "replaced": aside.name if aside else None})
    if progress is not None:
        progress(1.0, "Restored")
    log.info("restored workspace %s from a backup", target.name)
    return target, aside
