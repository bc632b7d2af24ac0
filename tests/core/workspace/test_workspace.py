"""The encrypted workspace: encryption at rest, decisions, undo/redo, audit chain, crash safety."""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import random
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.workspace import store
from clearrec_desktop.core.workspace.schema import (
    GENESIS_HASH,
    NotAWorkspace,
    WorkspaceBusy,
    WrongPassphrase,
)
from clearrec_desktop.core.workspace.store import Workspace, verify_workspace_audit

PASS = "correct horse battery"
FAKE_NAME = "QUILLON ZARATHUSTRA-VEX"  # synthetic person; must never be readable outside the cipher
FAKE_REASON = "Spoke with Quillon about the 2019 case"
REPO_ROOT = Path(__file__).resolve().parents[3]


class FakeClock:
    """Deterministic clock: one second per call."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "subject_id": ["S1", "S1", "S2"],
            "name": [FAKE_NAME, FAKE_NAME, "DOE JANE"],
            "dob": ["1980-02-03", "1980-02-03", "1975-01-01"],
            "code_section": ["HS 11357(a)", "HS 11359", "HS 11360"],
        }
    )


def _results(outcomes: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"conviction_id": list(outcomes), "outcome": list(outcomes.values()), "name": [FAKE_NAME] * len(outcomes)},
        schema={"conviction_id": pl.String, "outcome": pl.String, "name": pl.String},
    )


def _add_run(ws: Workspace, outcomes: dict[str, str]) -> int:
    import_id = ws.add_import("extract.dat", "ab" * 32, 1234, {"lines_read": 3, "lines_rejected": 0}, _rows())
    return ws.add_run([import_id], "statutory", "id = 'statutory'\n", "SACRAMENTO", date(2026, 11, 1),
                      _results(outcomes), {"convictions": {"total": len(outcomes)}})


def _raw(path: Path, passphrase: str = PASS):
    """A connection behind the program's back (the workspace must be closed: exclusive lock)."""
    conn = sqlcipher.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = '{passphrase}'")
    return conn


@pytest.fixture
def wpath(tmp_path: Path) -> Path:
    return tmp_path / "project.clearrec"


@pytest.fixture
def ws(wpath: Path):
    workspace = Workspace.create(wpath, PASS, county="SACRAMENTO", clock=FakeClock())
    yield workspace
    workspace.close()


# ------------------------------------------------------------------ create / open


def test_create_open_round_trip(wpath: Path) -> None:
    with Workspace.create(wpath, PASS, county="SACRAMENTO", clock=FakeClock()) as ws:
        assert ws.info()["county"] == "SACRAMENTO"
        run_id = _add_run(ws, {"S1/C1/001": "dismiss", "S1/C1/002": "reduce"})
        ws.set_office(
            {"district_attorney": "A. Prosecutor", "courthouses": ["Main", "North"], "phone": "555-0100"}
        )
        ws.set_setting("reviewer_name", "DDA Lee")
        ws.add_note("check the minute order", conviction_id="S1/C1/001")
        first_at = ws.audit_entries()[0]["at"]
    assert first_at == "2026-11-01T09:00:01.000000+00:00"

    with Workspace.open(wpath, PASS) as ws:
        (imp,) = ws.imports()
        assert imp["source_name"] == "extract.dat" and imp["size"] == 1234 and imp["sha256"] == "ab" * 32
        assert (imp["lines_read"], imp["rows_imported"], imp["lines_rejected"]) == (3, 3, 0)
        assert imp["report"] == {"lines_read": 3, "lines_rejected": 0}
        assert ws.load_import_rows(imp["import_id"]).equals(_rows())
        run = ws.latest_run()
        assert run["run_id"] == run_id and run["import_ids"] == [imp["import_id"]]
        assert run["as_of"] == "2026-11-01" and run["profile_text"] == "id = 'statutory'\n"
        assert ws.load_results(run_id).equals(_results({"S1/C1/001": "dismiss", "S1/C1/002": "reduce"}))
        office = ws.get_office()
        assert office["district_attorney"] == "A. Prosecutor" and office["courthouses"] == ["Main", "North"]
        assert office["email"] == ""
        assert ws.get_setting("reviewer_name") == "DDA Lee" and ws.reviewer() == "DDA Lee"
        assert ws.notes("S1/C1/001")[0]["text"] == "check the minute order"
        assert ws.check_integrity() == (True, [])
        assert [e["action"] for e in ws.audit_entries()] == [
            "workspace_created", "import", "run", "office_changed", "setting_changed", "note",
        ]


def test_create_refuses_existing_path_and_short_passphrase(wpath: Path) -> None:
    wpath.write_bytes(b"something")
    with pytest.raises(InputError, match="already exists"):
        Workspace.create(wpath, PASS)
    assert wpath.read_bytes() == b"something"
    with pytest.raises(InputError, match="at least"):
        Workspace.create(wpath.with_name("other.clearrec"), "short")
    assert not wpath.with_name("other.clearrec").exists()


def test_wrong_passphrase_refused_with_clear_message(wpath: Path) -> None:
    Workspace.create(wpath, PASS).close()
    with pytest.raises(WrongPassphrase) as caught:
        Workspace.open(wpath, "not the passphrase")
    assert isinstance(caught.value, InputError)
    message = str(caught.value)
    assert "wrong passphrase" in message and wpath.name in message and "not the passphrase" not in message
    Workspace.open(wpath, PASS).close()  # the failed attempt changed nothing


def test_files_that_are_not_workspaces(tmp_path: Path) -> None:
    plain = tmp_path / "plain.clearrec"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(NotAWorkspace, match="unencrypted SQLite"):
        Workspace.open(plain, PASS)

    text = tmp_path / "notes.clearrec"
    text.write_text("just some text\n")
    with pytest.raises(NotAWorkspace, match="not a ClearRec workspace"):
        Workspace.open(text, PASS)

    other = tmp_path / "other.clearrec"  # encrypted with our passphrase, but someone else's schema
    conn = _raw(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(NotAWorkspace, match="not a ClearRec workspace"):
        Workspace.open(other, PASS)

    with pytest.raises(InputError, match="web addresses"):
        Workspace.open("https://example.invalid/x.clearrec", PASS)


def test_second_open_is_refused_while_in_use(ws: Workspace, wpath: Path) -> None:
    with pytest.raises(WorkspaceBusy, match="another ClearRec"):
        Workspace.open(wpath, PASS)


def test_file_is_encrypted_and_carries_no_readable_records(ws: Workspace, wpath: Path) -> None:
    rows = _rows()
    # Control: the bytes we store for this frame do contain the name before encryption,
    # so not finding it in the file below is down to the cipher, not to compression.
    chunks, _, _ = store._frame_to_chunks(rows)
    assert FAKE_NAME.encode() in b"".join(bytes(c) for c in chunks)

    ws.add_import("extract.dat", "cd" * 32, 10, {"lines_read": 3, "first_rejected": FAKE_NAME}, rows)
    ws.record_decision("S1/C1/001", "defer", proposed="dismiss", reason=FAKE_REASON, notes=FAKE_NAME)
    ws.add_note(f"called {FAKE_NAME}")

    def on_disk() -> bytes:
        files = [p for p in wpath.parent.iterdir() if p.name.startswith(wpath.name)]
        assert not [p for p in files if p.name not in (wpath.name, wpath.name + "-wal")], files
        return b"".join(p.read_bytes() for p in files)

    for data in (on_disk(), (ws.close(), on_disk())[1]):  # while open (WAL) and after close
        assert not data.startswith(b"SQLite format 3")
        for needle in (FAKE_NAME, "QUILLON", FAKE_REASON, "HS 11359", "decision_events"):
            assert needle.encode("utf-8") not in data
            assert needle.encode("utf-16-le") not in data
    assert wpath.read_bytes()[:16] != b"SQLite format 3\x00"


# ------------------------------------------------------------------ decisions


def test_decision_reasons_grounds_and_refusals(ws: Workspace) -> None:
    _add_run(ws, {"A": "dismiss", "B": "reduce", "C": "review", "D": "ineligible"})
    assert ws.record_decision("A", "accept") > 0  # proposal taken from the latest run
    assert ws.record_decision("B", "reduce") > 0  # equals the proposal: no reason needed
    audit_before = len(ws.audit_entries())

    with pytest.raises(InputError, match="reason is required"):
        ws.record_decision("B", "dismiss")
    with pytest.raises(InputError, match="reason is required"):
        ws.record_decision("C", "challenge", ground="not_eligible", reason="   ")
    with pytest.raises(InputError, match="needs a ground"):
        ws.record_decision("D", "challenge", reason="x")
    with pytest.raises(InputError, match="needs a ground"):
        ws.record_decision("D", "challenge", ground="because", reason="x")
    with pytest.raises(InputError, match="only given with a challenge"):
        ws.record_decision("C", "dismiss", ground="public_safety", reason="x")
    with pytest.raises(InputError, match="unknown decision"):
        ws.record_decision("C", "approve")
    with pytest.raises(InputError, match="nothing to accept"):
        ws.record_decision("NOT-IN-RUN", "accept")
    assert len(ws.audit_entries()) == audit_before  # refusals leave no trace
    assert ws.decision_history("C") == []

    ws.record_decision("B", "dismiss", reason="companion count dismissed", reviewer="DDA Park")
    ws.record_decision("D", "challenge", ground="public_safety", reason="pending 1170.18 review", notes="n")
    current = {r["conviction_id"]: r for r in ws.current_decisions().iter_rows(named=True)}
    assert set(current) == {"A", "B", "D"}
    assert current["A"]["decision"] == "accept" and current["A"]["outcome"] == "dismiss"
    assert current["B"]["outcome"] == "dismiss" and current["B"]["reason"] == "companion count dismissed"
    assert current["B"]["reviewer"] == "DDA Park" and current["B"]["proposed"] == "reduce"
    assert current["D"]["ground"] == "public_safety" and current["D"]["notes"] == "n"
    assert current["A"]["reviewer"] == ws.reviewer() and current["A"]["decided_at"].startswith("2026-11-01T09:")
    history = ws.decision_history("B")
    assert [h["decision"] for h in history] == ["reduce", "dismiss"]
    assert [h["effective"] for h in history] == [False, True]
    audit = ws.audit_entries("decision")[-1]["details"]
    assert audit["conviction"] == ws.ref("D") and "D" not in json.dumps(audit) and audit["departs"] and audit["has_reason"]
    assert "pending 1170.18 review" not in json.dumps(ws.audit_entries())


def test_undo_redo_is_recorded_and_audited(ws: Workspace, wpath: Path) -> None:
    assert ws.undo() is None and ws.redo() is None
    e1 = ws.record_decision("A", "dismiss", proposed="dismiss")
    e2 = ws.record_decision("A", "reduce", proposed="dismiss", reason="priors")
    e3 = ws.record_decision("B", "accept", proposed="reduce")

    undone = ws.undo()
    assert undone["kind"] == "undo" and undone["target_event_id"] == e3 and undone["conviction_id"] == "B"
    assert ws.decision_for("B") is None
    assert ws.undo()["target_event_id"] == e2
    assert ws.decision_for("A")["event_id"] == e1  # back to the earlier decision
    assert ws.redo()["target_event_id"] == e2
    assert ws.decision_for("A")["event_id"] == e2 and ws.can_redo()

    undo_audit = ws.audit_entries("undo")
    assert [a["details"]["target_event_id"] for a in undo_audit] == [e3, e2]
    assert ws.audit_entries("redo")[0]["details"] == {
        "event_id": ws.decision_history("A")[-1]["event_id"], "target_event_id": e2, "conviction": ws.ref("A"),
    }
    assert [h["kind"] for h in ws.decision_history("A")] == ["decision", "decision", "undo", "redo"]
    ws.close()

    with Workspace.open(wpath, PASS) as again:  # the stacks are rebuilt from the log
        assert again.can_undo() and again.can_redo()
        assert again.redo()["target_event_id"] == e3
        assert again.decision_for("B")["event_id"] == e3
        again.undo()
        e4 = again.record_decision("C", "defer", proposed="review", reason="waiting on file")
        assert not again.can_redo()  # a new decision clears the redo stack
        assert again.undo()["target_event_id"] == e4
        assert again.verify_audit()[0]


def test_undo_redo_matches_a_reference_model(ws: Workspace, wpath: Path) -> None:
    rng = random.Random(6464)
    events: dict[int, str] = {}  # event id -> conviction
    undo_stack: list[int] = []
    redo_stack: list[int] = []

    def expected() -> dict[str, int]:
        effective: dict[str, int] = {}
        for event_id in undo_stack:  # the undo stack holds the effective decisions, oldest first
            effective[events[event_id]] = event_id
        return effective

    for _ in range(120):
        op = rng.choices(["decide", "undo", "redo"], weights=[5, 3, 2])[0]
        if op == "decide":
            cid = f"S{rng.randint(1, 6)}/C/001"
            event_id = ws.record_decision(cid, rng.choice(["dismiss", "reduce"]), proposed="dismiss", reason="r")
            events[event_id] = cid
            undo_stack.append(event_id)
            redo_stack.clear()
        elif op == "undo":
            got = ws.undo()
            assert (got and got["target_event_id"]) == (undo_stack[-1] if undo_stack else None)
            if undo_stack:
                redo_stack.append(undo_stack.pop())
        else:
            got = ws.redo()
            assert (got and got["target_event_id"]) == (redo_stack[-1] if redo_stack else None)
            if redo_stack:
                undo_stack.append(redo_stack.pop())
        current = ws.current_decisions()
        assert dict(zip(current["conviction_id"], current["event_id"])) == expected()
    ws.close()
    with Workspace.open(wpath, PASS) as again:
        current = again.current_decisions()
        assert dict(zip(current["conviction_id"], current["event_id"])) == expected()
        assert again.can_undo() == bool(undo_stack) and again.can_redo() == bool(redo_stack)


def test_decisions_survive_close_and_reopen(ws: Workspace, wpath: Path) -> None:
    ids = [ws.record_decision(f"S{i}/C/001", "defer", proposed="review", reason=f"r{i}") for i in range(5)]
    before = ws.current_decisions()
    ws.close()
    with Workspace.open(wpath, PASS) as again:
        assert again.current_decisions().equals(before)
        assert again.decision_history("S3/C/001")[0]["event_id"] == ids[3]


def test_concurrent_callers_are_serialised(ws: Workspace) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                ws.record_decision(f"T{n}/C/{i:03d}", "dismiss", proposed="dismiss")
                ws.current_decisions()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert ws.current_decisions().height == 60 and ws.verify_audit()[0]


# ------------------------------------------------------------------ runs


def test_compare_runs(ws: Workspace) -> None:
    old = _add_run(ws, {"A": "dismiss", "B": "reduce", "C": "review", "D": "ineligible"})
    new = _add_run(ws, {"B": "reduce", "C": "dismiss", "D": "ineligible", "E": "review"})
    diff = ws.compare_runs(old, new)
    assert diff.columns == ["conviction_id", "change", "old_outcome", "new_outcome"]
    assert diff.rows() == [
        ("A", "gone", "dismiss", None),
        ("C", "outcome_changed", "review", "dismiss"),
        ("E", "new", None, "review"),
    ]
    assert ws.compare_runs(new, new).height == 0
    assert [r["run_id"] for r in ws.runs()] == [old, new]


def test_decisions_attach_to_convictions_across_runs(ws: Workspace) -> None:
    first = _add_run(ws, {"A": "dismiss", "B": "reduce", "C": "review"})
    ws.record_decision("A", "accept")
    ws.record_decision("C", "challenge", ground="not_eligible", reason="super-strike prior")
    second = _add_run(ws, {"B": "reduce", "C": "dismiss", "D": "review"})  # updated extract: A gone

    current = ws.current_decisions()
    assert current["conviction_id"].to_list() == ["A", "C"]
    gone = ws.decisions_without_conviction(second)
    assert gone["conviction_id"].to_list() == ["A"]
    assert ws.decisions_without_conviction(first).height == 0
    # the proposal now comes from the newer run: D is proposed for review, which has nothing to accept
    with pytest.raises(InputError, match="nothing to accept"):
        ws.record_decision("D", "accept")
    ws.record_decision("D", "defer", reason="waiting for the court file")
    assert ws.decision_for("D")["proposed"] == "review"
    assert ws.decision_for("C")["reason"] == "super-strike prior"


def test_add_run_checks_its_results(ws: Workspace) -> None:
    with pytest.raises(ValueError, match="repeats a conviction_id"):
        ws.add_run([], "p", "", None, "2026-11-01",
                   pl.DataFrame({"conviction_id": ["A", "A"], "outcome": ["x", "y"]}), {})
    with pytest.raises(ValueError, match="lacks column"):
        ws.add_run([], "p", "", None, "2026-11-01", pl.DataFrame({"conviction_id": ["A"]}), {})
    with pytest.raises(KeyError):
        ws.add_run([99], "p", "", None, "2026-11-01", pl.DataFrame({"conviction_id": ["A"], "outcome": ["x"]}), {})
    assert ws.runs() == []


# ------------------------------------------------------------------ audit trail


def test_audit_hash_chain_is_reproducible(ws: Workspace) -> None:
    _add_run(ws, {"A": "dismiss"})
    ws.log_event("export", {"format": "xlsx", "convictions": 1})
    prev = GENESIS_HASH
    for entry in ws.audit_entries():
        payload = json.dumps(
            [entry["seq"], entry["at"], entry["actor"], entry["action"], entry["details"], entry["prev_hash"]],
            sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        )
        assert entry["prev_hash"] == prev
        assert entry["hash"] == hashlib.sha256(payload.encode()).hexdigest()
        prev = entry["hash"]
    assert ws.audit_head() == prev


def test_audit_tampering_is_found(ws: Workspace, wpath: Path) -> None:
    _add_run(ws, {"A": "dismiss", "B": "reduce"})
    ws.record_decision("A", "accept")
    ws.record_decision("B", "accept")
    ok, bad, message = ws.verify_audit()
    assert ok and bad is None and "intact" in message
    ws.close()
    assert verify_workspace_audit(wpath, PASS)[0]

    conn = _raw(wpath)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET details = ? WHERE seq = 3", (json.dumps({"run_id": 99}),))
    conn.close()
    ok, bad, message = verify_workspace_audit(wpath, PASS)
    assert (ok, bad) == (False, 3) and "entry 3" in message


def test_audit_truncation_is_found(ws: Workspace, wpath: Path) -> None:
    ws.record_decision("A", "dismiss", proposed="dismiss")
    ws.record_decision("B", "dismiss", proposed="dismiss")
    ws.close()
    conn = _raw(wpath)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    conn.close()
    assert verify_workspace_audit(wpath, PASS)[:2] == (False, 3)


def test_audit_table_refuses_update_delete_and_forged_inserts(ws: Workspace, wpath: Path) -> None:
    ws.log_event("document", {"kind": "petition", "convictions": 2})
    ws.record_decision("A", "dismiss", proposed="dismiss")
    ws.close()
    conn = _raw(wpath)
    with pytest.raises(sqlcipher.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 1")
    with pytest.raises(sqlcipher.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE seq = 2")
    with pytest.raises(sqlcipher.IntegrityError, match="does not extend the chain"):
        conn.execute(
            "INSERT INTO audit VALUES (4, 'x', 'x', 'export', '{}', ?, ?)", (GENESIS_HASH, GENESIS_HASH)
        )
    with pytest.raises(sqlcipher.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM decision_events")
    with pytest.raises(sqlcipher.IntegrityError, match="append-only"):
        conn.execute("UPDATE decision_events SET decision = 'accept'")
    conn.close()
    assert verify_workspace_audit(wpath, PASS)[0]


def test_audit_and_logs_carry_no_personal_data(ws: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _add_run(ws, {"S1/C1/001": "dismiss"})
    ws.record_decision("S1/C1/001", "defer", reason=FAKE_REASON, notes=FAKE_NAME)
    ws.add_note(FAKE_NAME, conviction_id="S1/C1/001")
    for bad in ({"name": FAKE_NAME}, {"people": [{"DOB": "1980-01-01"}]}, {"cii_number": "A1"}):
        with pytest.raises(ValueError, match="personal data"):
            ws.log_event("export", bad)
    with pytest.raises(ValueError, match="recorded by the workspace"):
        ws.log_event("decision", {})
    trail = json.dumps(ws.audit_entries())
    for needle in (FAKE_NAME, "QUILLON", "Quillon", "1980-02-03"):
        assert needle not in trail
        assert needle not in caplog.text
    # Not even the conviction id (for county files it holds the CII and the case number): an
    # opaque id keyed with the workspace's secret (issue 13.6).
    assert "S1/C1/001" not in trail and "S1" not in json.dumps([e["details"] for e in ws.audit_entries()])
    assert ws.ref("S1/C1/001") in trail and ws.conviction_refs()[ws.ref("S1/C1/001")] == "S1/C1/001"


# ------------------------------------------------------------------ crash safety

_CHILD = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[2])
    from clearrec_desktop.core.workspace.store import Workspace
    ws = Workspace.open(sys.argv[1], os.environ["CLEARREC_TEST_PASSPHRASE"])
    prefix, i = sys.argv[3], 0
    while True:
        cid = f"{prefix}/{i:06d}"
        event_id = ws.record_decision(cid, "reduce", proposed="dismiss", reason="r", notes="n" * 200)
        print("d", event_id, cid, flush=True)
        if i % 5 == 4:
            print("u", ws.undo()["event_id"], cid, flush=True)
        i += 1
    """
)


def test_acknowledged_decisions_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.clearrec"
    Workspace.create(path, PASS).close()
    rng = random.Random(1164)
    env = {**os.environ, "CLEARREC_TEST_PASSPHRASE": PASS}
    acknowledged: list[tuple[str, int, str]] = []
    for round_no in range(10):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path), str(REPO_ROOT), f"R{round_no}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        first = child.stdout.readline()  # blocks until the child is inside its loop
        assert first, child.stderr.read().decode()
        time.sleep(rng.uniform(0.0, 0.2))
        child.kill()  # SIGKILL on POSIX
        rest, _ = child.communicate()
        lines = (first + rest).decode().split("\n")[:-1]  # a last line without newline was never acknowledged
        acked = [(kind, int(event_id), cid) for kind, event_id, cid in (line.split() for line in lines)]
        assert acked, f"round {round_no}: nothing acknowledged"
        acknowledged += acked

        with Workspace.open(path, PASS) as ws:
            assert ws.check_integrity() == (True, []), f"round {round_no}"
            assert ws.verify_audit()[0], f"round {round_no}"
            for kind, event_id, cid in acked:
                kinds = {h["event_id"]: h["kind"] for h in ws.decision_history(cid)}
                assert kinds.get(event_id) == ("decision" if kind == "d" else "undo"), (round_no, event_id)

    # Every event committed together with its audit entry, none without.
    conn = _raw(path)
    events = {r[0] for r in conn.execute("SELECT event_id FROM decision_events")}
    audited = {json.loads(r[0])["event_id"] for r in conn.execute(
        "SELECT details FROM audit WHERE action IN ('decision', 'undo', 'redo')")}
    conn.close()
    assert events == audited and {e for _, e, _ in acknowledged} <= events


# ------------------------------------------------------------------ offline


def test_workspace_module_imports_no_network_code() -> None:
    package = REPO_ROOT / "clearrec_desktop" / "core" / "workspace"
    imported = set()
    for node in (n for f in package.glob("*.py") for n in ast.walk(ast.parse(f.read_text(encoding="utf-8")))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {"socket", "ssl", "urllib", "http", "requests", "httpx", "ftplib", "smtplib", "pickle"}
