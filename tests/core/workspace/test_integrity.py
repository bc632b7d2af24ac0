"""Issue 13: the attacks on the workspace that succeeded, each reproduced (docs/security.md).

2 backup and restore, a log that does not belong to the file, a copy taken while open;
5 an insider's edits behind the program's back, caught by `audit verify` (and `--against`);
6 no person named in the audit trail; 11 messages that name the real cause;
12 passphrases: Unicode forms, strength.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
import unicodedata
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from clearrec_desktop import cli
from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.workspace import schema
from clearrec_desktop.core.workspace.schema import NotAWorkspace, WorkspaceBusy, WrongPassphrase
from clearrec_desktop.core.workspace.store import Workspace, verify_workspace_audit

PASS = "correct horse battery"
REPO_ROOT = Path(__file__).resolve().parents[3]


def _raw(path: Path, passphrase: str = PASS):
    conn = sqlcipher.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = '{passphrase}'")
    return conn


def _results(n: int = 40) -> pl.DataFrame:
    outcomes = ["dismiss", "reduce", "review", "ineligible"]
    return pl.DataFrame({"conviction_id": [f"S{i}/C{i}/001" for i in range(n)],
                         "outcome": [outcomes[i % 4] for i in range(n)]})


def _populate(ws: Workspace, n: int = 40) -> None:
    import_id = ws.add_import("extract.dat", "ab" * 32, 1234, {"lines_read": n, "lines_rejected": 0},
                              pl.DataFrame({"subject_id": [f"S{i}" for i in range(n)]}))
    ws.add_run([import_id], "statutory", "id = 'statutory'\n", "SACRAMENTO", date(2026, 11, 1), _results(n),
               {"convictions": {"total": n}})
    for i in range(0, n, 4):  # dismiss proposals
        ws.record_decision(f"S{i}/C{i}/001", "accept")
    for i in range(2, 22, 4):  # five public-safety challenges of "review" rows
        ws.record_decision(f"S{i}/C{i}/001", "challenge", ground="public_safety", reason="prior violent record")
    ws.record_decision("S1/C1/001", "dismiss", reason="interest of justice")
    ws.undo()
    ws.redo()
    ws.undo()
    ws.add_note("called the court clerk", conviction_id="S3/C3/001")


@pytest.fixture
def populated(tmp_path: Path) -> Path:
    path = tmp_path / "case.clearrec"
    with Workspace.create(path, PASS, county="SACRAMENTO") as ws:
        _populate(ws)
        assert ws.verify_audit()[0]
    return path


def _restore(*args, **kwargs):
    from clearrec_desktop.core.workspace.store import restore_workspace

    return restore_workspace(*args, **kwargs)


def rewrite_chain(conn) -> None:
    """What someone holding the passphrase can do: drop the triggers, rewrite who did what and
    re-hash the whole chain consistently (meta too), then put the triggers back."""
    from clearrec_desktop.core.workspace.audit import audit_entry_hash
    from clearrec_desktop.core.workspace.schema import GENESIS_HASH

    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DROP TRIGGER audit_extends_chain")
    rows = conn.execute("SELECT seq, at, actor, action, details FROM audit ORDER BY seq").fetchall()
    conn.execute("DELETE FROM audit")
    prev = GENESIS_HASH
    for seq, at, actor, action, details in rows:
        actor = "someone else"  # the history rewritten: who did what
        h = audit_entry_hash(seq, at, actor, action, json.loads(details), prev)
        conn.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)", (seq, at, actor, action, details, prev, h))
        prev = h
    conn.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (prev,))
    from clearrec_desktop.core.workspace.schema import _SCHEMA
    import re
    for stmt in re.findall(r"CREATE TRIGGER audit.*?END;", _SCHEMA, re.S):
        conn.execute(stmt)


def _crash_session(path: Path, code: str) -> None:
    """Open the workspace in another process, run ``code`` with ``ws`` and die without closing."""
    child = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from clearrec_desktop.core.workspace.store import Workspace
        ws = Workspace.open({str(path)!r}, {PASS!r})
    """) + textwrap.dedent(code) + "\nos._exit(0)\n"
    subprocess.run([sys.executable, "-c", child], check=True, timeout=120)


# ------------------------------------------------------------------ 2: backup, restore, stale logs


def test_a_copy_put_back_beside_a_stale_log_opens_as_the_copy(populated: Path, tmp_path: Path) -> None:
    """Issue 13.2: closed copy taken at T0, work continued, a crash left NAME-wal, the copy put back."""
    copy = tmp_path / "copy-at-T0.clearrec"
    shutil.copy(populated, copy)
    with Workspace.open(copy, PASS, read_only=True) as ws:
        before = ws.current_decisions()
    _crash_session(populated, """
        for i in range(3, 40, 4):
            ws.record_decision(f"S{i}/C{i}/001", "challenge", ground="not_eligible", reason="r" * 300)
        ws.add_import("more.dat", "cd" * 32, 99, {}, __import__("polars").DataFrame({"x": list(range(50_000))}))
    """)
    wal = Path(f"{populated}-wal")
    assert wal.stat().st_size > 0
    shutil.copy(copy, populated)  # the copy put back; the crashed session's log is still beside it

    with Workspace.open(populated, PASS) as ws:
        assert len(ws.notices) == 1 and "case.clearrec-wal" in ws.notices[0] and "not applied" in ws.notices[0]
        aside = [p for p in tmp_path.iterdir() if ".set-aside-" in p.name]
        assert len(aside) == 1 and aside[0].name in ws.notices[0]
        assert ws.current_decisions().equals(before)
        ok, _, message = ws.verify_audit()
        assert ok, message
        ws.record_decision("S5/C5/001", "reduce", reason="after the restore")
    with Workspace.open(populated, PASS) as ws:  # the stale log never came back into the file
        assert ws.notices == [] and ws.verify_audit()[0]
        assert ws.current_decisions().height == before.height + 1


def test_a_crash_log_that_belongs_is_still_applied(populated: Path) -> None:
    _crash_session(populated, 'ws.record_decision("S3/C3/001", "reduce", reason="kept")')
    with Workspace.open(populated, PASS) as ws:
        assert ws.notices == []
        assert ws.decision_for("S3/C3/001")["decision"] == "reduce"
        assert ws.verify_audit()[0]


def test_backup_while_open_is_complete_and_restore_keeps_what_it_replaces(populated: Path, tmp_path: Path) -> None:
    backup = tmp_path / "backups" / "case-backup.clearrec"
    backup.parent.mkdir()
    steps = []
    with Workspace.open(populated, PASS) as ws:
        ws.record_decision("S7/C7/001", "reduce", reason="in the log only")  # not yet in the main file
        head = ws.audit_head()
        decisions = ws.current_decisions()
        assert ws.backup(backup, progress=lambda f, m: steps.append(f)) == backup
        assert steps and steps[-1] == 1.0
        assert ws.audit_entries("backup")[-1]["details"] == {"file": backup.name, "head": head}
        with pytest.raises(InputError, match="already exists"):
            ws.backup(backup)
        ws.record_decision("S11/C11/001", "reduce", reason="after the backup")
    assert not list(backup.parent.glob(".*"))  # no temporary file left
    with Workspace.open(backup, PASS, read_only=True) as copy:
        assert copy.audit_head() == head and copy.current_decisions().equals(decisions)
        assert copy.verify_audit()[0]

    # Restore over the workspace: the replaced file is kept (with its log), never deleted.
    _crash_session(populated, 'ws.record_decision("S15/C15/001", "reduce", reason="crashed session")')
    restored, aside = _restore(backup, populated, PASS)
    assert restored == populated and aside is not None and aside.exists() and ".replaced-" in aside.name
    with Workspace.open(populated, PASS) as ws:
        assert ws.notices == [] and ws.current_decisions().equals(decisions)
        assert ws.audit_entries("restored")[-1]["details"]["from"] == backup.name
        assert ws.verify_audit()[0]
    with Workspace.open(aside, PASS) as old:  # its own log went with it
        assert old.decision_for("S15/C15/001")["reason"] == "crashed session"


def test_restore_refuses_a_workspace_in_use(populated: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.clearrec"
    with Workspace.open(populated, PASS) as ws:
        ws.backup(backup)
        with pytest.raises(WorkspaceBusy, match="close it there first"):
            _restore(backup, populated, PASS)


def test_a_file_manager_copy_taken_while_open_does_not_pass_verify(populated: Path, tmp_path: Path, monkeypatch,
                                                                   capsys) -> None:
    copy = tmp_path / "explorer-copy.clearrec"
    with Workspace.open(populated, PASS) as ws:
        ws.record_decision("S7/C7/001", "reduce", reason="only in the log")
        shutil.copy(populated, copy)  # the main file only, as a file manager copies what it is shown
    ok, _, message = verify_workspace_audit(copy, PASS)
    assert not ok and "incomplete" in message and "explorer-copy.clearrec-wal" in message
    assert "missing" in message
    monkeypatch.setenv("CLEARREC_PASSPHRASE", PASS)
    assert cli.main(["audit", "verify", str(copy)]) == 3
    assert "incomplete" in capsys.readouterr().out
    # The real file, closed, is complete.
    assert verify_workspace_audit(populated, PASS)[0]


def test_cli_backup_and_restore(populated: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLEARREC_PASSPHRASE", PASS)
    dest = tmp_path / "copy.clearrec"
    assert cli.main(["workspace", "backup", str(populated), str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"to {dest}" in out and "audit head" in out
    target = tmp_path / "restored.clearrec"
    assert cli.main(["workspace", "restore", str(dest), str(target)]) == 0
    assert f"restored {target}" in capsys.readouterr().out
    assert cli.main(["audit", "verify", str(target)]) == 0
    with pytest.raises(SystemExit):  # the passphrase is never an argument
        cli.build_parser().parse_args(["workspace", "backup", str(populated), str(dest), "--passphrase", PASS])


# ------------------------------------------------------------------ 5: an insider with the passphrase


def _challenges_to_accept(conn) -> None:
    conn.execute("DROP TRIGGER decision_events_no_update")
    conn.execute("UPDATE decision_events SET decision = 'accept', reason = NULL, ground = NULL WHERE decision = 'challenge'")


def _drop_decision_triggers(conn) -> None:
    conn.execute("DROP TRIGGER decision_events_no_update")
    conn.execute("DROP TRIGGER decision_events_no_delete")


def _delete_undo_redo(conn) -> None:
    conn.execute("DROP TRIGGER decision_events_no_delete")
    conn.execute("DELETE FROM decision_events WHERE kind IN ('undo', 'redo')")


def _rewrite_results(conn) -> None:
    """36-row style attack: ineligible -> dismiss in the stored results, checksum recomputed."""
    import hashlib
    import io

    frame_id, = conn.execute("SELECT results_frame_id FROM runs WHERE run_id = 1").fetchone()
    data = b"".join(r[0] for r in conn.execute(
        "SELECT data FROM frame_chunks WHERE frame_id = ? ORDER BY chunk_no", (frame_id,)))
    frame = pl.read_ipc(io.BytesIO(data))
    frame = frame.with_columns(pl.col("outcome").replace("ineligible", "dismiss"))
    buf = io.BytesIO()
    frame.write_ipc(buf, compression="zstd")
    new = buf.getvalue()
    conn.execute("DELETE FROM frame_chunks WHERE frame_id = ?", (frame_id,))
    conn.execute("INSERT INTO frame_chunks VALUES (?, 0, ?)", (frame_id, new))
    conn.execute("UPDATE frames SET n_bytes = ?, sha256 = ? WHERE frame_id = ?",
                 (len(new), hashlib.sha256(new).hexdigest(), frame_id))


def _cut_tail(conn) -> None:
    """Cut the chain's last three entries and fix the stored count and head."""
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq > (SELECT MAX(seq) - 3 FROM audit)")
    seq, head = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("UPDATE meta SET value = ? WHERE key = 'audit_count'", (str(seq),))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (head,))


def _replace_trigger(conn) -> None:
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN 0 BEGIN SELECT 1; END")


ATTACKS = {
    "challenges_to_accept": (_challenges_to_accept, ["differs from audit entry", "decision 'accept'", "reason removed"]),
    "decision_triggers_dropped": (_drop_decision_triggers, ["decision_events_no_update", "decision_events_no_delete"]),
    "undo_redo_deleted": (_delete_undo_redo, ["undo recorded by audit entry", "redo recorded by audit entry"]),
    "results_rewritten": (_rewrite_results, ["results of run 1 was altered", "checksum was recomputed"]),
    "chain_tail_cut": (_cut_tail, ["has no entry in the audit trail"]),
    "trigger_replaced": (_replace_trigger, ["trigger audit_no_update was replaced"]),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_verify_catches_edits_behind_the_programs_back(populated: Path, attack: str, monkeypatch, capsys) -> None:
    edit, expected = ATTACKS[attack]
    conn = _raw(populated)
    edit(conn)
    conn.close()
    ok, _, message = verify_workspace_audit(populated, PASS)
    assert not ok
    for text in expected:
        assert text in message, message
    monkeypatch.setenv("CLEARREC_PASSPHRASE", PASS)
    assert cli.main(["audit", "verify", str(populated)]) == 3
    out = capsys.readouterr().out
    assert "problem(s) found" in out and all(text in out for text in expected)


def test_verify_counts_each_altered_decision(populated: Path) -> None:
    conn = _raw(populated)
    _challenges_to_accept(conn)
    conn.close()
    with Workspace.open(populated, PASS, read_only=True) as ws:
        report = ws.verify_report()
    assert sum("decision 'accept' (trail: 'challenge')" in p for p in report.problems) == 5


def test_a_damaged_page_mid_file_fails_verify(populated: Path) -> None:
    size = populated.stat().st_size
    with open(populated, "r+b") as fh:  # one byte in the last page
        fh.seek(size - 4096 + 200)
        byte = fh.read(1)
        fh.seek(size - 4096 + 200)
        fh.write(bytes([byte[0] ^ 0x01]))
    try:
        ok, _, message = verify_workspace_audit(populated, PASS)
    except NotAWorkspace as exc:  # the damaged page may hold something the open itself reads
        ok, message = False, str(exc)
    assert not ok and f"page {size // 4096}" in message, message


def test_against_a_printed_head_catches_a_rewritten_chain(populated: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """The whole chain rewritten consistently passes the chain check; the head printed on a page does not."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    with Workspace.open(populated, PASS) as ws:
        head = ws.audit_head()
    pdf = tmp_path / "packet.pdf"
    page = canvas.Canvas(str(pdf), pagesize=letter)
    page.setFont("Helvetica", 6)
    page.drawString(72, 40, f"Audit chain head: {head}")
    page.save()
    monkeypatch.setenv("CLEARREC_PASSPHRASE", PASS)
    for against in (str(pdf), head):
        assert cli.main(["audit", "verify", str(populated), "--against", against]) == 0
        assert "still contains it" in capsys.readouterr().out

    conn = _raw(populated)
    rewrite_chain(conn)
    conn.close()
    assert verify_workspace_audit(populated, PASS)[0]  # consistent throughout: only a printed head catches it
    assert cli.main(["audit", "verify", str(populated), "--against", str(pdf)]) == 3
    assert "NOT in this workspace's history" in capsys.readouterr().out


# ------------------------------------------------------------------ 6: no person in the trail


def test_the_trail_names_no_conviction_and_ids_are_keyed(tmp_path: Path) -> None:
    """County conviction ids hold the CII and the court case number; the trail holds neither."""
    cid = "C987654321/SAC-19-0042/001"
    with Workspace.create(tmp_path / "a.clearrec", PASS) as a, Workspace.create(tmp_path / "b.clearrec", PASS) as b:
        for ws in (a, b):
            import_id = ws.add_import("cms.csv", "ab" * 32, 10, {}, pl.DataFrame({"x": [1]}))
            ws.add_run([import_id], "statutory", "x", "SACRAMENTO", date(2026, 1, 1),
                       pl.DataFrame({"conviction_id": [cid], "outcome": ["dismiss"]}), {})
            ws.record_decision(cid, "accept")
            ws.undo()
            ws.add_note("n", conviction_id=cid)
            trail = json.dumps(ws.audit_entries())
            for part in ("987654321", "SAC-19-0042", cid):
                assert part not in trail
        assert a.ref(cid) != b.ref(cid)  # keyed per workspace: nothing to look up elsewhere
        assert a.conviction_refs() == {a.ref(cid): cid}


def test_name_and_birth_date_ids_are_not_a_plain_hash(tmp_path: Path) -> None:
    import hashlib

    from clearrec_desktop.core.ingest import county_files

    plain = "N" + hashlib.sha256(b"TESTERPAT|19600115").hexdigest()[:15].upper()
    default = county_files.person_key("TESTER, PAT", "19600115")
    with county_files.person_ids_keyed(b"k" * 32):
        keyed = county_files.person_key("TESTER, PAT", "19600115")
        assert county_files.person_key("TESTER, PAT", "19600115") == keyed  # stable under one key
    with county_files.person_ids_keyed(b"j" * 32):
        other = county_files.person_key("TESTER, PAT", "19600115")
    assert plain not in (default, keyed, other) and len({default, keyed, other}) == 3
    assert all(k.startswith("N") and len(k) == 16 for k in (default, keyed, other))


# ------------------------------------------------------------------ 11: messages


def test_one_flipped_byte_on_page_one_is_not_called_a_wrong_passphrase(populated: Path) -> None:
    with open(populated, "r+b") as fh:
        fh.seek(100)
        b = fh.read(1)
        fh.seek(100)
        fh.write(bytes([b[0] ^ 0x01]))
    with pytest.raises(NotAWorkspace) as caught:
        Workspace.open(populated, PASS)
    assert not isinstance(caught.value, WrongPassphrase)
    assert "passphrase is right" in str(caught.value) and "page 1 of the file is damaged" in str(caught.value)
    assert "Restore" in str(caught.value)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        Workspace.open(populated, "another long passphrase")


def test_a_truncated_workspace_says_it_was_cut_short(populated: Path, monkeypatch, capsys) -> None:
    os.truncate(populated, (populated.stat().st_size // 4096 - 3) * 4096)
    with pytest.raises(NotAWorkspace, match="cut short"):
        Workspace.open(populated, PASS)
    monkeypatch.setenv("CLEARREC_PASSPHRASE", PASS)
    assert cli.main(["audit", "verify", str(populated)]) == 2
    err = capsys.readouterr().err
    assert "cut short" in err and "internal error" not in err
    os.truncate(populated, populated.stat().st_size - 100)  # not even whole pages
    with pytest.raises(NotAWorkspace, match="cut short"):
        Workspace.open(populated, PASS)


def test_disk_full_while_storing_an_import_names_the_disk(populated: Path) -> None:
    with Workspace.open(populated, PASS) as ws:
        pages = ws._db().execute("PRAGMA page_count").fetchone()[0]
        ws._db().execute(f"PRAGMA max_page_count = {pages + 5}")  # SQLite's "disk full" for this file
        head, count = ws.audit_head(), len(ws.imports())
        big = pl.DataFrame({"x": [os.urandom(64).hex() for _ in range(20_000)]})
        with pytest.raises(schema.WorkspaceWriteFailed) as caught:
            ws.add_import("big.dat", "ef" * 32, 10, {}, big)
        message = str(caught.value)
        assert "full" in message and "nothing of this change was stored" in message
        assert "rollback" not in message and "transaction" not in message
        assert ws.audit_head() == head and len(ws.imports()) == count
        ws._db().execute("PRAGMA max_page_count = 1073741823")
        ws.record_decision("S3/C3/001", "reduce", reason="after freeing space")
        assert ws.verify_audit()[0]


def test_a_read_only_workspace_opens_read_only_and_verifies(populated: Path, tmp_path: Path) -> None:
    """Issue 13.11: read-only media (or a file without write permission) opens read-only and verifies."""
    folder = tmp_path / "media"
    folder.mkdir()
    target = folder / "case.clearrec"
    shutil.copy(populated, target)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from clearrec_desktop.core.workspace.store import Workspace
        from clearrec_desktop.core.workspace.schema import WorkspaceReadOnly
        ws = Workspace.open({str(target)!r}, {PASS!r})
        print(ws.read_only, "opened read-only" in ws.notices[0])
        print(ws.verify_audit()[0], ws.current_decisions().height)
        try:
            ws.record_decision("S3/C3/001", "reduce", reason="x")
        except WorkspaceReadOnly as exc:
            print("refused:", exc)
        ws.close()
    """)
    if os.geteuid() == 0:  # root ignores file modes: mount the folder read-only (as on a CD or a locked share)
        cmd = ["unshare", "-m", "sh", "-c", 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && '
               'exec "$2" -c "$3"', "sh", str(folder), sys.executable, code]
    else:
        os.chmod(target, 0o444)
        os.chmod(folder, 0o555)
        cmd = [sys.executable, "-c", code]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(folder, 0o755)
        os.chmod(target, 0o644)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == "True True" and lines[1].startswith("True ")
    assert lines[2].startswith("refused:") and "read-only" in lines[2]
    assert sorted(p.name for p in folder.iterdir()) == ["case.clearrec"]


def test_symlink_loop_is_named(tmp_path: Path) -> None:
    from clearrec_desktop.core.safety import local_path

    loop = tmp_path / "loop.clearrec"
    loop.symlink_to(tmp_path / "other")
    (tmp_path / "other").symlink_to(loop)
    with pytest.raises(InputError) as caught:
        Workspace.open(loop, PASS)
    assert "symbolic link" in str(caught.value) and "loop" in str(caught.value)
    assert "no such" not in str(caught.value)
    with pytest.raises(InputError, match="symbolic link"):
        local_path(loop)


def test_audit_verify_without_a_terminal(populated: Path) -> None:
    """Issue 19.4: no EOFError, no GetPassWarning: the environment variable, or a clear message."""
    env = {k: v for k, v in os.environ.items() if k != "CLEARREC_PASSPHRASE"}
    cmd = [sys.executable, "-c", "import sys; from clearrec_desktop.cli import main; sys.exit(main(sys.argv[1:]))",
           "audit", "verify", str(populated)]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, env=env,
                          cwd=REPO_ROOT)
    assert proc.returncode == 2, proc.stderr
    assert "passphrase is needed" in proc.stderr and "CLEARREC_PASSPHRASE" in proc.stderr
    assert "EOFError" not in proc.stderr and "GetPassWarning" not in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          env={**env, "CLEARREC_PASSPHRASE": PASS}, cwd=REPO_ROOT)
    assert proc.returncode == 0 and "intact" in proc.stdout, proc.stderr


# ------------------------------------------------------------------ 12: passphrases


@pytest.mark.parametrize("weak", ["12345678", " " * 8, "password1", "sacramento2024", "aaaaaaaaaaaa"])
def test_weak_passphrases_are_refused_with_advice(tmp_path: Path, weak: str) -> None:
    with pytest.raises(InputError) as caught:
        Workspace.create(tmp_path / "w.clearrec", weak, county="SACRAMENTO")
    assert "words" in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_passphrases_typed_in_another_unicode_form_open(tmp_path: Path) -> None:
    nfc = unicodedata.normalize("NFC", "Señora Peña café niño 77")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    path = tmp_path / "w.clearrec"
    Workspace.create(path, nfd).close()  # typed decomposed (macOS), stored composed
    for typed in (nfc, nfd):
        with Workspace.open(path, typed) as ws:
            assert ws.verify_audit()[0]


def test_a_workspace_keyed_before_normalisation_still_opens(tmp_path: Path) -> None:
    """Created by the earlier version with the passphrase exactly as typed (decomposed)."""
    nfd = unicodedata.normalize("NFD", "Ángela Muñoz jalapeño 42")
    path = tmp_path / "old.clearrec"
    with Workspace.create(path, "temporary passphrase 99") as ws:
        ws.record_decision("A", "dismiss", proposed="dismiss")
    conn = _raw(path, "temporary passphrase 99")
    conn.execute("PRAGMA rekey = '" + nfd + "'")  # the key as the old code derived it
    conn.close()
    for typed in (nfd, unicodedata.normalize("NFC", nfd)):
        with Workspace.open(path, typed) as ws:
            assert ws.decision_for("A")["decision"] == "dismiss"


def test_zxcvbn_stays_offline() -> None:
    import zxcvbn

    network = {"socket", "ssl", "http", "urllib", "requests", "httpx", "aiohttp", "ftplib", "smtplib"}
    for source in Path(zxcvbn.__file__).parent.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in network for n in names), (source, names)
    probe = ("import sys\nevents = []\n"
             "sys.addaudithook(lambda e, a: events.append(e) if e.startswith(('socket.', 'urllib.', 'http.')) else None)\n"
             "from clearrec_desktop.core.workspace.keys import passphrase_problem\n"
             "assert passphrase_problem('12345678') and passphrase_problem('correct horse battery') is None\n"
             "print('events:' + ','.join(sorted(set(events))))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert proc.returncode == 0 and proc.stdout.strip() == "events:", proc.stderr
