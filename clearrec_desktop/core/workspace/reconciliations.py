"""A reconciliation's own tables kept beside its run: the side-by-side table (one row per
conviction, both sources' values) and the links (scores, status, the fields that made them).

The run itself (results with ``provenance``, summary with the counts) is an ordinary run
(``Workspace.add_run``); this module adds what only a reconciliation has, so the desktop app
can show the lists and the links again after the workspace is reopened. A table of its own,
created the first time it is used (like ``links.py``); each save is an audit entry carrying
the digests of both frames, so a changed table is noticed. The tables hold keys and record
fields (case numbers, sections, dates), never a name, a date of birth or a CII number.
"""

from __future__ import annotations

import polars as pl

AUDIT_ACTION = "reconciliation_tables"

_TABLE = """
CREATE TABLE IF NOT EXISTS run_reconciliations (
    run_id INTEGER PRIMARY KEY REFERENCES runs(run_id),
    table_frame_id INTEGER NOT NULL REFERENCES frames(frame_id),
    links_frame_id INTEGER NOT NULL REFERENCES frames(frame_id)
)
"""


def _has_table(conn) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_reconciliations'"
                        ).fetchone() is not None


def save_reconciliation(ws, run_id: int, table: pl.DataFrame, links: pl.DataFrame) -> None:
    """Keep a run's reconciliation table and links (once per run)."""
    with ws._write() as conn:
        conn.execute(_TABLE)
        if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
            raise KeyError(f"no run {run_id} in this workspace")
        table_id, links_id = ws._store_frame(table), ws._store_frame(links)
        conn.execute("INSERT INTO run_reconciliations (run_id, table_frame_id, links_frame_id) VALUES (?, ?, ?)",
                     (run_id, table_id, links_id))
        ws._append_audit(AUDIT_ACTION, {"run_id": run_id, "convictions": table.height, "links": links.height,
                                        "table_sha256": ws._frame_sha256(table_id),
                                        "links_sha256": ws._frame_sha256(links_id)})


def load_reconciliation(ws, run_id: int) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """(table, links) of a reconciliation run, or None when the run is not one."""
    with ws._lock:
        conn = ws._db()
        if not _has_table(conn):
            return None
        row = conn.execute("SELECT table_frame_id, links_frame_id FROM run_reconciliations WHERE run_id = ?",
                           (run_id,)).fetchone()
        if row is None:
            return None
        return ws._load_frame(row[0]), ws._load_frame(row[1])
