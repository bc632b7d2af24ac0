"""The clerk's confirmations and splits of reconciliation links, kept in the workspace.

A table of its own (created the first time it is used, so older workspaces gain it without a
migration), append-only like the decision log: each confirm, split or withdrawal is a row and
an entry in the hash-chained audit trail (action ``link_decision``), written in one
transaction. The latest word on a link is the one in force. Links are named by the stable
keys of ``reconcile.linkage`` (county person key or county record key; DOJ subject id or DOJ
record key), never by a name, a date of birth or a CII number, so the decisions survive
re-imports of either file and keep personal data out of the audit trail. A free-text reason
stays in the table, not in the audit trail (like notes).
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..reconcile.linkage import DECISIONS, KINDS, LinkDecision

WITHDRAW = "withdraw"
AUDIT_ACTION = "link_decision"

_TABLE = f"""
CREATE TABLE IF NOT EXISTS link_decisions (
    decision_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({", ".join(repr(k) for k in KINDS)})),
    county_key TEXT NOT NULL,
    doj_key TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ({", ".join(repr(d) for d in (*DECISIONS, WITHDRAW))})),
    reason TEXT,
    audit_seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS link_decisions_by_link ON link_decisions (kind, county_key, doj_key, decision_id);
CREATE TRIGGER IF NOT EXISTS link_decisions_no_update BEFORE UPDATE ON link_decisions
BEGIN SELECT RAISE(ABORT, 'link decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS link_decisions_no_delete BEFORE DELETE ON link_decisions
BEGIN SELECT RAISE(ABORT, 'link decisions are append-only'); END;
"""
_COLS = ("decision_id", "at", "reviewer", "kind", "county_key", "doj_key", "decision", "reason", "audit_seq")


def _ensure(conn) -> None:
    # one statement at a time: executescript would commit the caller's transaction
    for stmt in _TABLE.split(";\n"):
        if stmt.strip():
            conn.execute(stmt)


def _has_table(conn) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'link_decisions'").fetchone() is not None


def record_link_decision(ws, kind: str, county_key: str, doj_key: str, decision: str, *, reason: str | None = None) -> int:
    """Confirm or split a link (or withdraw an earlier word on it); returns the decision id."""
    if kind not in KINDS:
        raise InputError(f"a link is a {' or a '.join(KINDS)} link, not {kind!r}")
    if decision not in (*DECISIONS, WITHDRAW):
        raise InputError(f"a link decision is {', '.join(DECISIONS)} or {WITHDRAW}, not {decision!r}")
    if not (isinstance(county_key, str) and county_key and isinstance(doj_key, str) and doj_key):
        raise InputError("a link decision needs both the county key and the DOJ key")
    reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
    with ws._write() as conn:
        _ensure(conn)
        at = ws._now()
        # The keys can be built from a CII number or a case number: the trail holds opaque ids.
        seq = ws._append_audit(AUDIT_ACTION, {"kind": kind, "county": ws.ref(county_key, "link"),
                                              "doj": ws.ref(doj_key, "link"),
                                              "decision": decision, "with_reason": reason is not None}, at=at)
        return conn.execute(
            "INSERT INTO link_decisions (at, reviewer, kind, county_key, doj_key, decision, reason, audit_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (at, ws.reviewer(), kind, county_key, doj_key, decision, reason, seq)).lastrowid


def link_decision_history(ws) -> list[dict[str, Any]]:
    """Every link decision, oldest first."""
    with ws._lock:
        conn = ws._db()
        if not _has_table(conn):
            return []
        rows = conn.execute(f"SELECT {', '.join(_COLS)} FROM link_decisions ORDER BY decision_id").fetchall()
    return [dict(zip(_COLS, r)) for r in rows]


def link_decisions(ws) -> list[LinkDecision]:
    """The decisions in force (the latest word on each link, withdrawals removed), for
    ``reconcile.linkage.link``."""
    latest: dict[tuple[str, str, str], str] = {}
    for row in link_decision_history(ws):
        latest[(row["kind"], row["county_key"], row["doj_key"])] = row["decision"]
    return [LinkDecision(kind=k, county_key=c, doj_key=d, decision=v)
            for (k, c, d), v in sorted(latest.items()) if v != WITHDRAW]
