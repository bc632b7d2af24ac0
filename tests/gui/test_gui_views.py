"""The views over a screened workspace: filters, the case detail, policy, activity, keyboard."""

from __future__ import annotations

import polars as pl
import pytest
from gui_helpers import AS_OF, PASSPHRASE, answer_next_dialog, wait_idle
from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QWidget,
)

from clearrec_desktop.core.screen import profiles
from clearrec_desktop.core.workspace.schema import WrongPassphrase
from clearrec_desktop.gui.main_window import MainWindow
from clearrec_desktop.gui.session import Session


@pytest.fixture
def screened(qtbot, tmp_path, demo_extract):
    """A main window with a workspace holding one statutory run of the demo extract."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.create_workspace(tmp_path / "ws.clearrec", PASSPHRASE, "SACRAMENTO")
    task = window.session.screen_files([demo_extract], AS_OF, profiles.load_profile("statutory"), "SACRAMENTO")
    errors = []
    task.failed.connect(lambda message, details: errors.append(message + "\n" + details))
    wait_idle(qtbot, window.session)
    assert window.session.run is not None, errors
    yield window
    window.close()


def test_wrong_passphrase_is_refused(tmp_path):
    path = tmp_path / "w.clearrec"
    session = Session()
    session.create_workspace(path, PASSPHRASE, "SACRAMENTO")
    session.close_workspace()
    with pytest.raises(WrongPassphrase):
        session.open_workspace(path, "not it at all")
    assert not session.is_open
    session.open_workspace(path, PASSPHRASE)
    assert session.is_open
    session.close_workspace()


def test_review_filters_search_and_count(screened, qtbot):
    review = screened.review_view
    results = screened.session.run.results
    total = results.height
    assert review.count_label.text() == f"{total:,} of {total:,} convictions shown"
    section = review.filters["section"]
    pick = results.item(0, "code_section")
    section.setCurrentIndex(section.findData(pick))
    assert review.model.rowCount() == results.filter(pl.col("code_section") == pick).height
    review.clear_filters()
    assert review.model.rowCount() == total
    # search by CII (case-insensitive), applied when typing pauses
    cii = results.item(5, "cii_number")
    review.search.setText(cii.lower())
    qtbot.waitUntil(lambda: review.model.rowCount() == results.filter(pl.col("cii_number") == cii).height)
    assert review.current_record()["cii_number"] == cii  # the first hit is shown in detail
    review.clear_filters()
    # every filter offers only values present in the results
    decades = [review.filters["decade"].itemData(i) for i in range(1, review.filters["decade"].count())]
    assert decades and all(d.endswith("s") or d == "unknown" for d in decades)


def test_case_detail_shows_person_reasons_and_highlighted_evidence(screened):
    review = screened.review_view
    run = screened.session.run
    # a person with history in another county
    other = run.rows.filter(pl.col("county") != "SACRAMENTO").get_column("subject_id").unique()
    pick = run.results.filter(pl.col("subject_id").is_in(other.implode()) & (pl.col("evidence") != ""))
    assert pick.height, "the demo extract has people with other counties' events"
    record = pick.row(0, named=True)
    assert review.show_conviction(record["conviction_id"])
    html = review.detail.toPlainText()
    assert record["name"] in html and record["cii_number"] in html
    first_reason = record["reasons"].split(" | ")[0]
    assert first_reason[: first_reason.rfind("[")].strip() in html
    citation = first_reason[first_reason.rfind("[") + 1:-1]
    assert citation in html
    history = review.history_model.frame()
    subject_rows = run.rows.filter(pl.col("subject_id") == record["subject_id"])
    assert history.height == subject_rows.height  # the whole record, every county
    assert set(history.get_column("county").drop_nulls()) == set(subject_rows.get_column("county").drop_nulls())
    evidence = set(record["evidence"].split(";"))
    highlighted = set(history.filter(pl.col("_hl")).get_column("_ref"))
    assert highlighted == evidence
    assert set(history.filter(pl.col("_evidence") == "●").get_column("_ref")) == evidence
    row = review.history_model.row_of(history.filter(pl.col("_hl")).item(0, "_row_id"))
    assert review.history_model.data(review.history_model.index(row, 0), Qt.ItemDataRole.BackgroundRole.value) is not None
    assert history.filter(pl.col("_this") == "▶").height >= 1
    assert history.filter(pl.col("_bold")).height >= 1  # cannabis counts marked


def test_accept_is_off_for_review_outcomes_and_keys_stay_out_of_filters(screened, qtbot):
    review = screened.review_view
    outcome = review.filters["outcome"]
    outcome.setCurrentIndex(outcome.findData("review"))
    if review.model.rowCount() == 0:
        pytest.skip("no review outcome in the demo run")
    review.select_row(0)
    assert not review.actions["accept"].isEnabled()
    assert review.actions["defer"].isEnabled()
    # focus on a filter: the letter keys belong to the combo, not to the decision shortcuts
    screened.activateWindow()
    qtbot.waitUntil(screened.isActiveWindow)
    outcome.setFocus()
    qtbot.keyClick(outcome, Qt.Key.Key_D)
    assert screened.session.decisions.height == 0


def test_defer_records_at_once_and_note_is_kept(screened, qtbot):
    """Deferring departs from nothing (issue 18.4): no dialog, no reason; a note can follow."""
    review = screened.review_view
    review.select_row(0)
    cid = review.current_conviction_id()
    assert review.decide("defer")
    assert screened.session.decisions.filter(pl.col("conviction_id") == cid).item(0, "decision") == "defer"
    screened.session.add_note(cid, "Called the public defender")
    review.show_conviction(cid)
    assert "Called the public defender" in review.detail.toPlainText()


def test_policy_view_explains_rescreens_and_compares(screened, qtbot):
    policy = screened.policy_view
    screened.show_view("policy")
    statutory = profiles.load_profile("statutory")
    text = policy.rules.toPlainText()
    for rule in statutory.active_rules:
        assert f"[{rule.id}]" in text
    others = [p for p in profiles.list_profiles() if p.id != "statutory"]
    assert others, "more than one profile ships"
    other = others[0]
    policy.profile_a.setCurrentIndex(policy.profile_a.findData("statutory"))
    policy.profile_b.setCurrentIndex(policy.profile_b.findData(other.id))
    task = policy.compare()
    with qtbot.waitSignal(task.finished, timeout=60000):
        pass
    wait_idle(qtbot, screened.session)
    changed = policy.changed_model.frame()
    moves = policy.moves_model.frame()
    assert moves.get_column("count").sum() == changed.height
    assert f"{changed.height:,}</b> of" in policy.compare_summary.text()
    assert changed.filter(pl.col("outcome_a") == pl.col("outcome_b")).height == 0
    # screen again with the other profile and a later date: a new run, decisions kept
    review = screened.review_view
    review.filters["outcome"].setCurrentIndex(review.filters["outcome"].findData("dismiss"))
    review.select_row(0)
    cid = review.current_conviction_id()
    assert review.decide("accept")
    policy.profile.setCurrentIndex(policy.profile.findData(other.id))
    policy.as_of.setDate(QDate(2027, 1, 15))
    first_run = screened.session.run.run_id
    policy.rescreen()
    wait_idle(qtbot, screened.session)
    run = screened.session.run
    assert run.run_id == first_run + 1 and run.profile_id == other.id and run.as_of.isoformat() == "2027-01-15"
    assert run.changes is not None
    assert screened.session.decisions.filter(pl.col("conviction_id") == cid).height == 1
    assert "2027-01-15" in screened.status_run.text()


def test_activity_lists_filters_and_verifies(screened):
    activity = screened.activity_view
    screened.show_view("activity")  # the trail is read when the view is shown
    actions = set(screened.session.audit_frame().get_column("action"))
    assert {"workspace_created", "import", "run"} <= actions
    combo = activity.action_filter
    combo.setCurrentIndex(combo.findData("run"))
    assert activity.model.rowCount() == 1
    ok, bad, _ = activity.verify()
    assert ok and bad is None
    assert "intact" in activity.verify_result.text()
    # the trail never holds a name, date of birth or CII
    text = " ".join(screened.session.audit_frame().get_column("details").to_list())
    person = screened.session.run.results.row(0, named=True)
    assert person["name"] not in text and person["cii_number"] not in text


def test_import_report_export_is_written_and_audited(screened, tmp_path):
    target = tmp_path / "report.txt"
    screened.import_view.write_report(target, screened.session.run.report)
    assert target.read_text(encoding="utf-8").startswith("IMPORT REPORT")
    assert "export" in set(screened.session.audit_frame().get_column("action"))
    folder = tmp_path / "out"
    screened.write_results(folder)
    assert (folder / "results.csv").is_file() and (folder / "summary.json").is_file()


def test_every_control_has_an_accessible_name(screened):
    screened.show()
    missing = []
    for key in screened.view_keys():
        screened.show_view(key)
        QApplication.processEvents()
        for w in screened.findChildren(QWidget):
            if not w.isVisible() or w.focusPolicy() == Qt.FocusPolicy.NoFocus:
                continue
            if isinstance(w, QAbstractButton) and w.text().strip():
                continue
            if w.accessibleName().strip():
                continue
            if isinstance(w.parentWidget(), QComboBox) or w.objectName().startswith("qt_"):
                continue  # a combo's own popup parts
            labelled = any(isinstance(lab, QLabel) and lab.buddy() is w for lab in screened.findChildren(QLabel))
            if not labelled:
                missing.append(f"{key}: {type(w).__name__}")
    assert missing == []


def test_layout_and_recent_files_go_to_the_temporary_settings(screened, temp_qsettings):
    screened.close()
    settings = QSettings()
    assert settings.fileName().startswith(str(temp_qsettings))
    assert not settings.value("window/geometry").isEmpty()
    assert settings.value("review/splitter") is not None
    assert settings.value("recent/workspaces")


def test_demo_mode_screens_the_bundled_extract(qtbot, demo_extract, monkeypatch):
    import clearrec_desktop.gui.main_window as mw

    monkeypatch.setattr(mw, "demo_extract_path", lambda: demo_extract)
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_demo()
    wait_idle(qtbot, window.session)
    run = window.session.run
    assert run is not None and run.profile_id == "statutory"
    assert run.as_of.isoformat() == "2026-11-01"
    assert "2026-11-01" in window.status_run.text()
    title = window.windowTitle()
    assert "demo" in title.lower() and "ClearRec" not in title  # Qt adds the app name itself
    demo_dir = window._demo_dir.name
    window.close()
    import os

    assert not os.path.exists(demo_dir)  # the temporary workspace is removed on close


def test_session_decisions_match_the_workspace_after_edits(screened):
    session = screened.session
    results = session.run.results.filter(pl.col("outcome").is_in(["dismiss", "reduce"]))
    ids = results.get_column("conviction_id").to_list()[:4]
    session.decide(ids[0], "accept")
    session.decide(ids[1], "defer", reason="file requested", notes="n")
    session.decide(ids[0], "challenge", reason="r", ground="not_eligible")
    session.decide(ids[2], "accept")
    session.undo()
    session.undo()
    session.redo()
    session.decide(ids[3], "accept")
    session.add_note(ids[3], "a note")

    def norm(frame):
        return frame.sort("conviction_id").to_dicts()

    assert norm(session.decisions) == norm(session.workspace.current_decisions())
    assert session.decisions.filter(pl.col("conviction_id") == ids[0]).item(0, "decision") == "challenge"


def test_mapping_dialog_previews_and_requires(qtbot):
    from clearrec_desktop.gui.dialogs import MappingDialog

    header = ["Person ID", "Name", "DOB", ""]
    rows = [["7", "A,B", "19800101"], ["8", "C,D", "", "x"]]  # ragged rows are padded
    fields = [("court_case_number", "Court case number", True), ("name", "Name", False),
              ("dob", "Date of birth", False)]
    dialog = MappingDialog(None, "county.csv", header, rows, fields,
                           {"columns": {"name": "Name", "dob": "DOB"}, "options": {}}, ["SACRAMENTO", "YOLO"])
    qtbot.addWidget(dialog)
    assert dialog.preview_model.rowCount() == 2 and dialog.preview_model.columnCount() == 4
    assert dialog.preview_model.headerData(3, Qt.Orientation.Horizontal) == "(column 4)"
    assert dialog.combos["name"].currentText() == "Name"
    assert dialog.combos["court_case_number"].currentText() == MappingDialog.NOT_IN_FILE
    dialog._check()
    assert dialog.result() != MappingDialog.DialogCode.Accepted and "Court case number" in dialog.error.text()
    dialog.combos["court_case_number"].setCurrentText("Person ID")
    dialog.date_format.setCurrentText("MM/DD/YYYY")
    dialog.county.setCurrentText("YOLO")
    dialog._check()
    assert dialog.result() == MappingDialog.DialogCode.Accepted
    assert dialog.mapping() == {"columns": {"court_case_number": "Person ID", "name": "Name", "dob": "DOB"},
                                "options": {"date_format": "MM/DD/YYYY", "county": "YOLO"}}


def test_county_file_import_through_the_mapping_step(screened, qtbot):
    from clearrec_desktop.core.safety import resource_path

    source = resource_path("mappings/example-cms.csv")
    view = screened.import_view
    seen = {}

    def confirm(dialog):
        seen["guessed"] = {f: c.currentText() for f, c in dialog.combos.items()}
        seen["rows"] = dialog.preview_model.rowCount()
        dialog.date_format.setCurrentText("MM/DD/YYYY")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    handled = answer_next_dialog(confirm)
    view.read_files([source])
    assert handled
    wait_idle(qtbot, screened.session)
    assert seen["guessed"]["court_case_number"] == "Court Case #"  # the importer's guess is offered
    assert seen["guessed"]["code_section"] == "Charge"
    assert seen["rows"] > 0
    pending = screened.session.pending
    assert pending is not None and pending.report.files[0].kind == "mapped"
    assert view.county.findData("SACRAMENTO") >= 0
    # the next file with the same columns gets the saved mapping, date format included
    again = {}

    def check_saved(dialog):
        again["date_format"] = dialog.date_format.currentText()
        dialog.reject()

    handled = answer_next_dialog(check_saved)
    assert view.read_files([source]) is None  # cancelled at the mapping step
    assert handled and again["date_format"] == "MM/DD/YYYY"
    # screening the mapped file stores it like an extract
    view.county.setCurrentIndex(view.county.findData("SACRAMENTO"))
    view.start_screen(mode="replace")  # the second import replaces the first here
    wait_idle(qtbot, screened.session)
    assert screened.session.run.run_id == 2


def test_which_files_need_a_mapping(tmp_path, demo_extract):
    assert not Session.needs_mapping(demo_extract)
    county = tmp_path / "county.csv"
    county.write_text("Court Number,Name,DOB,Charge\n1,\"A,B\",19800101,11357 HS\n", encoding="utf-8")
    assert Session.needs_mapping(county)
    sheet = tmp_path / "county.xlsx"
    sheet.write_bytes(b"PK\x03\x04")
    assert Session.needs_mapping(sheet)


def test_saved_mappings_live_in_the_workspace(screened):
    session = screened.session
    session.save_mapping("abc", {"name": "Name"})
    assert session.saved_mapping("abc") == {"name": "Name"}
    assert session.workspace.get_setting("import_mappings") == {"abc": {"name": "Name"}}
    assert session.saved_mapping("other") is None


def test_a_refused_file_gives_a_message_not_a_crash(screened, tmp_path, monkeypatch, qtbot):
    from clearrec_desktop.gui.dialogs import ErrorDialog

    shown = []
    monkeypatch.setattr(ErrorDialog, "exec", lambda self: shown.append(self.message) or 0)
    missing = tmp_path / "no-such-extract.dat"
    screened.import_view.read_files([missing])
    wait_idle(qtbot, screened.session)
    assert shown and "no-such-extract.dat" in shown[0]
    assert screened.session.run is not None  # the workspace and its run are untouched


def test_a_result_for_a_closed_workspace_is_dropped(qtbot, tmp_path):
    import threading

    session = Session()
    session.create_workspace(tmp_path / "w.clearrec", PASSPHRASE, "SACRAMENTO")
    got = []
    # control: delivered while the workspace is open
    task = session.runner.start("quick", lambda progress, cancel: "first")
    session._deliver(task, got.append)
    qtbot.waitUntil(lambda: got == ["first"])
    qtbot.waitUntil(lambda: not session.runner.busy)
    # the result is queued when the workspace closes: it must not land in the closed session
    started, release = threading.Event(), threading.Event()

    def work(progress, cancel):
        started.set()
        release.wait(5)
        return "second"

    task = session.runner.start("slow", work)
    session._deliver(task, got.append)
    finished = []
    task.finished.connect(lambda: finished.append(True))
    assert started.wait(5)  # past the cancel check: it will succeed
    release.set()
    session.close_workspace()
    qtbot.waitUntil(lambda: bool(finished))
    assert got == ["first"]


def test_review_tab_order_and_shortcuts_in_the_case_area(screened, qtbot):
    screened.show_view("review")
    screened.activateWindow()
    qtbot.waitUntil(screened.isActiveWindow)
    review = screened.review_view
    order = [review.search, *review.filters.values(), review.clear_button, review.table, review.detail,
             *[b for b in review.decision_buttons if b.isEnabled()], review.history]
    review.search.setFocus()
    qtbot.waitUntil(review.search.hasFocus)
    for expected in order[1:]:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focus = QApplication.focusWidget()
        assert focus is expected or expected.isAncestorOf(focus), (expected, focus)
    # J in the history moves to the next case
    review.select_row(0)
    first = review.current_conviction_id()
    review.history.setFocus()
    qtbot.keyClick(review.history, Qt.Key.Key_J)
    assert review.current_conviction_id() != first
    assert review.table.currentIndex().row() == 1


def test_overview_warns_when_the_county_has_no_convictions(screened):
    import dataclasses

    run = screened.session.run
    empty = dataclasses.replace(run, results=run.results.clear(), county="ALPINE",
                                summary={**run.summary, "convictions": {"total": 0}})
    screened.session._on_run_ready(empty)
    lines = screened.overview_view.warning_lines()
    assert any("No convictions found for the chosen county (ALPINE)" in line for line in lines)
    assert any("workspace was created for SACRAMENTO" in line for line in lines)
    assert screened.overview_view.warnings.isVisibleTo(screened.overview_view)
    assert screened.review_view.model.rowCount() == 0
    assert "No conviction selected" in screened.review_view.detail.toPlainText()
