"""The workspace's tables, constants and error types (see store.py for the file itself)."""

from __future__ import annotations

import re

import polars as pl

from ..errors import InputError

WORKSPACE_SUFFIX = ".clearrec"
SCHEMA_VERSION = 1
APP_MARKER = "clearrec-workspace"
APPLICATION_ID = 0x436C5263  # "ClRc" in the (encrypted) SQLite header
MIN_PASSPHRASE_LENGTH = 8

DECISIONS = ("accept", "dismiss", "reduce", "challenge", "defer")
CHALLENGE_GROUNDS = ("not_eligible", "public_safety")
OUTCOMES = ("dismiss", "reduce", "review", "ineligible")
REVIEWER_SETTING = "reviewer_name"

OFFICE_FIELDS = (
    "district_attorney",
    "state_bar_number",
    "office",
    "address",
    "phone",
    "email",
    "court",
    "county",
    "courthouses",
    "public_defender",
    # added with the court documents (issue 12); an older workspace simply has them unset
    "deputy",
    "deputy_state_bar_number",
    "public_defender_address",
    "city_attorneys",  # one prosecuting city attorney per line ("name, address")
)

# Facts of the record a decision may correct, with the source of the corrected value. The
# table is created the first time a correction is recorded, so a workspace made before it opens
# unchanged (and one without the table simply has no corrections).
CORRECTABLE_FIELDS = ("code_section", "level", "conviction_date", "court_case_number", "name")
_CORRECTIONS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS decision_corrections (
    event_id INTEGER NOT NULL REFERENCES decision_events(event_id),
    field TEXT NOT NULL CHECK (field IN ({", ".join(repr(f) for f in CORRECTABLE_FIELDS)})),
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (event_id, field)
);
CREATE TRIGGER IF NOT EXISTS decision_corrections_no_update BEFORE UPDATE ON decision_corrections
BEGIN SELECT RAISE(ABORT, 'decision log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decision_corrections_no_delete BEFORE DELETE ON decision_corrections
BEGIN SELECT RAISE(ABORT, 'decision log is append-only'); END;
"""

GENESIS_HASH = "0" * 64
# Actions the workspace records itself; other modules may not forge them through log_event.
_INTERNAL_ACTIONS = frozenset(
    {"workspace_created", "import", "run", "decision", "decision_batch", "undo", "redo", "note", "office_changed", "setting_changed",
     "backup", "restored", "opened_without_log", "link_decision",
     # filings.py (issue 16)
     "filing_recorded", "filing_withdrawn", "ruling", "rulings_imported", "doj_reported", "lookup", "status_letter"}
)
# Keys that would put a person's identifying data into the audit trail.
_FORBIDDEN_DETAIL_KEYS = frozenset(
    {
        "name", "full_name", "first_name", "last_name", "middle_name", "aka", "alias",
        "dob", "date_of_birth", "birth_date", "birthdate",
        "cii", "cii_number", "ssn", "social_security_number",
    }
)
_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_SQLITE_HEADER = b"SQLite format 3\x00"
_CHUNK_BYTES = 16 * 1024 * 1024  # frames are split so no single BLOB nears SQLite's 1 GB limit
_FRAME_FORMAT = "arrow-ipc-zstd"

_DECISION_SCHEMA = {
    "conviction_id": pl.String,
    "decision": pl.String,
    "proposed": pl.String,
    "outcome": pl.String,
    "reason": pl.String,
    "ground": pl.String,
    "notes": pl.String,
    "reviewer": pl.String,
    "decided_at": pl.String,
    "event_id": pl.Int64,
}

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE frames (
    frame_id INTEGER PRIMARY KEY,
    format TEXT NOT NULL,
    n_rows INTEGER NOT NULL,
    n_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE frame_chunks (
    frame_id INTEGER NOT NULL REFERENCES frames(frame_id),
    chunk_no INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (frame_id, chunk_no)
);

CREATE TABLE imports (
    import_id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    lines_read INTEGER,
    rows_imported INTEGER NOT NULL,
    lines_rejected INTEGER,
    report_json TEXT NOT NULL,
    rows_frame_id INTEGER NOT NULL REFERENCES frames(frame_id)
);

CREATE TABLE runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    profile_text TEXT NOT NULL,
    profile_sha256 TEXT NOT NULL,
    county TEXT,
    as_of TEXT NOT NULL,
    n_results INTEGER NOT NULL,
    summary_json TEXT NOT NULL,
    results_frame_id INTEGER NOT NULL REFERENCES frames(frame_id)
);
CREATE TABLE run_imports (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    import_id INTEGER NOT NULL REFERENCES imports(import_id),
    position INTEGER NOT NULL,
    PRIMARY KEY (run_id, import_id)
);

CREATE TABLE decision_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('decision', 'undo', 'redo')),
    conviction_id TEXT NOT NULL,
    decision TEXT CHECK (decision IS NULL OR decision IN ({", ".join(repr(d) for d in DECISIONS)})),
    proposed TEXT,
    reason TEXT,
    ground TEXT CHECK (ground IS NULL OR ground IN ({", ".join(repr(g) for g in CHALLENGE_GROUNDS)})),
    notes TEXT,
    reviewer TEXT NOT NULL,
    target_event_id INTEGER REFERENCES decision_events(event_id),
    CHECK ((kind = 'decision') = (target_event_id IS NULL)),
    CHECK ((kind = 'decision') = (decision IS NOT NULL))
);
CREATE INDEX decision_events_by_conviction ON decision_events (conviction_id, event_id);
CREATE TRIGGER decision_events_no_update BEFORE UPDATE ON decision_events
BEGIN SELECT RAISE(ABORT, 'decision log is append-only'); END;
CREATE TRIGGER decision_events_no_delete BEFORE DELETE ON decision_events
BEGIN SELECT RAISE(ABORT, 'decision log is append-only'); END;

CREATE TABLE notes (
    note_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    author TEXT NOT NULL,
    conviction_id TEXT,
    text TEXT NOT NULL
);
CREATE INDEX notes_by_conviction ON notes (conviction_id, note_id);

CREATE TABLE office (id INTEGER PRIMARY KEY CHECK (id = 1), details_json TEXT NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
CREATE TRIGGER audit_extends_chain BEFORE INSERT ON audit
WHEN NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit), 0) + 1
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}')
BEGIN SELECT RAISE(ABORT, 'audit entry does not extend the chain'); END;
"""


class WrongPassphrase(InputError):
    """The passphrase does not open this workspace."""


class NotAWorkspace(InputError):
    """The file is not a ClearRec workspace (or is damaged beyond opening)."""


def requires_reason(decision: str, proposed: str | None) -> bool:
    """A reason is required whenever the decision departs from the engine's proposal. Accepting
    follows it and deferring decides nothing (the case stays open), so neither needs one."""
    return decision not in ("accept", "defer") and decision != proposed


class WorkspaceBusy(InputError):
    """Another ClearRec window or command has the workspace open."""


class WorkspaceDamaged(NotAWorkspace):
    """The passphrase is right but the file is damaged or cut short."""


class WorkspaceReadOnly(InputError):
    """A change was asked of a workspace opened read-only."""


class WorkspaceWriteFailed(InputError):
    """The disk refused a write (full, removed, read-only); nothing of that change was stored."""
