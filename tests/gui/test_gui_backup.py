"""File > Back Up and File > Restore, the stale-log notice, and the new-workspace passphrase
check (issue 13 points 2 and 12)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from gui_helpers import AS_OF, PASSPHRASE, wait_idle
from PySide6.QtWidgets import QApplication, QMessageBox

from clearrec_desktop.core.screen import profiles
from clearrec_desktop.gui.dialogs import NewWorkspaceDialog
from clearrec_desktop.gui.main_window import MainWindow

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(qtbot, tmp_path, demo_extract):
    win = MainWindow()
    qtbot.addWidget(win)
    win.create_workspace(tmp_path / "case.clearrec", PASSPHRASE, "SACRAMENTO")
    win.session.screen_files([demo_extract], AS_OF, profiles.load_profile("statutory"), "SACRAMENTO")
    wait_idle(qtbot, win.session)
    assert win.session.run is not None
    yield win
    win.close()


def _decide(win, n: int) -> list[str]:
    ids = win.session.run.results.filter(win.session.run.results["outcome"] == "dismiss")["conviction_id"][:n]
    for cid in ids:
        win.session.decide(cid, "accept")
    return list(ids)


def test_back_up_while_open_and_restore_from_the_file_menu(window, qtbot, tmp_path):
    assert window.backup_action.isEnabled() and window.restore_action.isEnabled()
    menu_texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Back Up Workspace…" in menu_texts and "&Restore Workspace…" in menu_texts
    decided = _decide(window, 3)
    backup = tmp_path / "backup.clearrec"
    task = window.back_up(backup)
    assert task is not None
    wait_idle(qtbot, window.session)
    assert backup.exists() and window.session.is_open  # the workspace stayed open throughout
    assert "Backed up to" in window.statusBar().currentMessage()
    assert window.session.workspace.audit_entries("backup")[-1]["details"]["file"] == backup.name

    _decide(window, 6)  # work after the backup, then restore over the open workspace
    path = window.session.workspace.path
    task = window.restore(backup, path, PASSPHRASE)
    assert task is not None
    wait_idle(qtbot, window.session)
    qtbot.waitUntil(lambda: window.session.is_open and window.session.run is not None, timeout=60000)
    wait_idle(qtbot, window.session)
    assert set(window.session.decisions["conviction_id"].to_list()) == set(decided)
    kept = [p for p in tmp_path.iterdir() if ".replaced-" in p.name and p.suffix == ".clearrec"]
    assert len(kept) == 1 and kept[0].name in window.statusBar().currentMessage()
    assert window.session.verify_audit()[0]


def test_opening_beside_a_stale_log_says_so(window, qtbot, tmp_path):
    path = window.session.workspace.path
    window.close_workspace()
    copy = tmp_path / "copy.clearrec"
    shutil.copy(path, copy)
    child = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from clearrec_desktop.core.workspace.store import Workspace
        ws = Workspace.open({str(path)!r}, {PASSPHRASE!r})
        ws.add_note("in the crashed session")
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", child], check=True, timeout=120)
    shutil.copy(copy, path)
    assert window.open_workspace(path, PASSPHRASE)
    wait_idle(qtbot, window.session)
    box = window.findChild(QMessageBox, "workspace_notices")
    assert box is not None and "does not belong" in box.text() and "set-aside" in box.text()
    box.accept()
    assert window.session.workspace.notes() == []


@pytest.mark.parametrize("weak", ["12345678", "        ", "sacramento2026"])
def test_new_workspace_dialog_refuses_weak_passphrases(qtbot, tmp_path, weak):
    dialog = NewWorkspaceDialog(None, ["SACRAMENTO"], str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.path_edit.setText(str(tmp_path / "new.clearrec"))
    dialog.county.setCurrentText("SACRAMENTO")
    dialog.pass1.setText(weak)
    dialog.pass2.setText(weak)
    assert "easy to guess" in dialog.problem() or "only spaces" in dialog.problem()
    assert "not accepted" in dialog.strength.text()
    dialog.pass1.setText("lantern orchard velvet 1987 quay")
    dialog.pass2.setText("lantern orchard velvet 1987 quay")
    assert dialog.problem() == "" and dialog.strength.text().startswith(("strong", "very strong"))
    QApplication.processEvents()


def test_imports_into_a_workspace_key_name_and_birth_date_ids_with_its_secret(qtbot, tmp_path):
    """13.6: the same county file read again into the same workspace keeps its ids (decisions
    stay attached); another workspace gives other ids; neither is the plain hash of old."""
    import hashlib

    from clearrec_desktop.gui.session import Session

    csv_file = tmp_path / "people.csv"
    csv_file.write_text("Case,Name,DOB,Charge,Date,Disp,County\n"
                        'C1,"DOE, JANE",01/02/1970,11357(b) HS,03/04/2015,Convicted,Sacramento\n')
    mapping = {"columns": {"court_case_number": "Case", "name": "Name", "dob": "DOB", "code_section": "Charge",
                           "conviction_date": "Date", "disposition": "Disp", "county": "County"},
               "options": {"date_format": "MM/DD/YYYY"}}

    def read(session: Session) -> str:
        session.read_files([csv_file], mapping)
        wait_idle(qtbot, session)
        return session.pending.rows.collect()["subject_id"][0]

    ids = []
    for name in ("a.clearrec", "b.clearrec", "a.clearrec"):
        session = Session()
        if (tmp_path / name).exists():
            session.open_workspace(tmp_path / name, PASSPHRASE)
        else:
            session.create_workspace(tmp_path / name, PASSPHRASE, "SACRAMENTO")
        ids.append(read(session))
        session.close_workspace()
    plain = "N" + hashlib.sha256(b"DOEJANE|19700102").hexdigest()[:15].upper()
    assert ids[0] == ids[2] != ids[1] and plain not in ids
