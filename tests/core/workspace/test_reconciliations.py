"""A reconciliation run's table and links kept beside the run (workspace/reconciliations.py)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from clearrec_desktop.core.workspace import reconciliations
from clearrec_desktop.core.workspace.store import Workspace

PASS = "correct horse battery staple"


def test_saved_with_the_run_audited_and_read_back(tmp_path):
    path = tmp_path / "w.clearrec"
    table = pl.DataFrame({"conviction_id": ["a", "b"], "provenance": ["county_only", "both"],
                          "doj_conviction_date": [None, date(2001, 2, 3)]})
    links = pl.DataFrame({"kind": ["conviction"], "county_key": ["C1"], "doj_key": ["D1"], "score": [0.9]})
    with Workspace.create(path, PASS, county="SACRAMENTO") as ws:
        rows = pl.DataFrame({"subject_id": ["1"], "source_file": ["x.csv"]})
        imp = ws.add_import("x.csv", "0" * 64, 1, {}, rows)
        plain = ws.add_run([imp], "statutory", "text", "SACRAMENTO", date(2025, 1, 1),
                           pl.DataFrame({"conviction_id": ["a"], "outcome": ["dismiss"]}), {})
        assert reconciliations.load_reconciliation(ws, plain) is None  # before the table exists
        run = ws.add_run([imp], "statutory", "text", "SACRAMENTO", date(2025, 1, 1),
                         pl.DataFrame({"conviction_id": ["a", "b"], "outcome": ["dismiss", "review"]}), {})
        reconciliations.save_reconciliation(ws, run, table, links)
        with pytest.raises(KeyError):
            reconciliations.save_reconciliation(ws, 99, table, links)
        entry = ws.audit_entries("reconciliation_tables")[-1]
        assert entry["details"]["run_id"] == run and entry["details"]["convictions"] == 2
    with Workspace.open(path, PASS) as ws:
        got = reconciliations.load_reconciliation(ws, run)
        assert got is not None and got[0].equals(table) and got[1].equals(links)
        assert reconciliations.load_reconciliation(ws, plain) is None  # an ordinary run
        assert ws.verify_audit()[0]
        report = ws.verify_report()
        assert report.ok, report.problems


def test_verify_notices_a_changed_reconciliation_table(tmp_path):
    path = tmp_path / "w.clearrec"
    with Workspace.create(path, PASS, county="SACRAMENTO") as ws:
        imp = ws.add_import("x.csv", "0" * 64, 1, {}, pl.DataFrame({"subject_id": ["1"], "source_file": ["x.csv"]}))
        run = ws.add_run([imp], "statutory", "text", "SACRAMENTO", date(2025, 1, 1),
                         pl.DataFrame({"conviction_id": ["a"], "outcome": ["dismiss"]}), {})
        reconciliations.save_reconciliation(ws, run, pl.DataFrame({"conviction_id": ["a"]}),
                                            pl.DataFrame({"kind": ["person"]}))
        # the table's frame swapped for another one (the links' frame) behind the app's back
        with ws._lock:
            conn = ws._db()
            conn.execute("UPDATE run_reconciliations SET table_frame_id = links_frame_id")
            conn.commit()
        report = ws.verify_report()
    assert not report.ok and any("reconciliation table of run" in p for p in report.problems)
