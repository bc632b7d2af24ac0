"""Acceptance: create workspace -> import the demo extract -> review -> decide with and without an
override reason -> undo -> close -> reopen with the passphrase -> the decisions are there."""

from __future__ import annotations

import polars as pl
from gui_helpers import AS_OF, PASSPHRASE, answer_next_dialog, wait_idle
from PySide6.QtCore import QDate, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialogButtonBox

from clearrec_desktop.gui.dialogs import (
    DecisionDialog,
    NewWorkspaceDialog,
    PassphraseDialog,
)
from clearrec_desktop.gui.main_window import MainWindow
from clearrec_desktop.gui.models import DISPLAY_ROLE


def drop_file(window: MainWindow, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def activate(qtbot, window) -> None:
    """Shortcuts only reach the active window; offscreen Qt does not re-activate it by itself
    after a dialog closes, as a desktop's window manager does."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def decisions_by_id(window: MainWindow) -> dict[str, dict]:
    return {r["conviction_id"]: r for r in window.session.decisions.iter_rows(named=True)}


def test_whole_flow(qtbot, tmp_path, demo_extract):
    path = tmp_path / "sacramento.clearrec"
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    activate(qtbot, window)

    # -- File > New Workspace, through the dialog
    def fill_new(dialog: NewWorkspaceDialog) -> None:
        dialog.path_edit.setText(str(path))
        dialog.pass1.setText(PASSPHRASE)
        dialog.pass2.setText(PASSPHRASE + "x")
        dialog.county.setCurrentText("SACRAMENTO")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        assert dialog.isVisible() and "differ" in dialog.error.text()  # mismatch refused
        dialog.pass2.setText(PASSPHRASE)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    handled = answer_next_dialog(fill_new)
    window.new_action.trigger()
    assert handled and window.session.is_open
    assert not path.read_bytes().startswith(b"SQLite format 3")
    assert window.current_view() == "import"

    # -- drop the DOJ extract on the window; the worker reads it and offers its counties
    drop_file(window, demo_extract)
    wait_idle(qtbot, window.session)
    view = window.import_view
    assert view.county.count() > 1
    assert view.county.currentData() == "SACRAMENTO"  # the workspace's county is preselected
    assert view.as_of.isEnabled() and view.as_of.displayFormat() == "yyyy-MM-dd"
    view.as_of.setDate(QDate(AS_OF.year, AS_OF.month, AS_OF.day))
    assert view.profile.currentData() == "statutory"
    qtbot.mouseClick(view.screen_button, Qt.MouseButton.LeftButton)
    assert view.progress.isVisible()  # progress with Cancel while the worker runs
    wait_idle(qtbot, window.session)
    run = window.session.run
    assert run is not None and run.results.height > 0
    assert run.as_of == AS_OF and run.county == "SACRAMENTO"
    # the import report, then on to the overview
    assert view.report_box.isVisible()
    assert view.files_model.rowCount() == 1 and view.counties_model.rowCount() >= 1
    assert "rejected" in view.report_summary.text()
    assert view.rejected_model.rowCount() == len(run.report.rejected)
    qtbot.mouseClick(view.overview_button, Qt.MouseButton.LeftButton)
    assert window.current_view() == "overview"
    chart_total = sum(v for _, v in window.overview_view.outcome_chart.items())
    assert chart_total == run.results.height

    # -- review with the keyboard
    window.show_view("review")
    activate(qtbot, window)
    review = window.review_view
    table = review.table
    assert review.model.rowCount() == run.results.height
    outcome = review.filters["outcome"]
    outcome.setCurrentIndex(outcome.findData("dismiss"))
    assert review.model.rowCount() == run.results.filter(pl.col("outcome") == "dismiss").height
    review.select_row(0)
    table.setFocus()
    first = review.current_conviction_id()
    qtbot.keyClick(table, Qt.Key.Key_A)  # accept the proposal: no reason needed
    assert decisions_by_id(window)[first]["decision"] == "accept"
    assert review.model.data(review.model.index(0, 1), DISPLAY_ROLE) == "accepted (dismiss)"
    assert review.table.currentIndex().row() == 1  # moved on to the next case

    # departing from the proposal needs a reason: refused empty, accepted with one
    second = review.current_conviction_id()

    def give_reason(dialog: DecisionDialog) -> None:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        assert dialog.isVisible() and dialog.error.isVisible()
        dialog.reason.setPlainText("Plea agreement in the court file")
        dialog.notes.setPlainText("checked with the clerk")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    handled = answer_next_dialog(give_reason)
    qtbot.keyClick(table, Qt.Key.Key_R)
    assert handled
    activate(qtbot, window)
    d = decisions_by_id(window)[second]
    assert (d["decision"], d["reason"], d["notes"]) == ("reduce", "Plea agreement in the court file",
                                                        "checked with the clerk")

    # a challenge asks for the ground
    third = review.current_conviction_id()

    def challenge(dialog: DecisionDialog) -> None:
        dialog.grounds["public_safety"].setChecked(True)
        dialog.reason.setPlainText("Prior violent conduct in the file")
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    handled = answer_next_dialog(challenge)
    qtbot.keyClick(table, Qt.Key.Key_C)
    assert handled
    activate(qtbot, window)
    assert decisions_by_id(window)[third]["ground"] == "public_safety"

    # letters typed in the search box are text, not decisions
    review.search.setFocus()
    qtbot.keyClicks(review.search, "dr")
    assert len(window.session.decisions) == 3
    review.clear_filters()

    # -- undo (Ctrl+Z) withdraws the latest decision; redo puts it back; undo again
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert third not in decisions_by_id(window)
    assert review.current_conviction_id() == third  # the undone case is shown
    window.redo_action.trigger()
    assert third in decisions_by_id(window)
    window.undo_action.trigger()
    assert set(decisions_by_id(window)) == {first, second}

    # -- close, reopen: a wrong passphrase is refused and asked again
    window.close()
    assert not window.session.is_open
    window2 = MainWindow()
    qtbot.addWidget(window2)
    window2.show()
    assert str(path) in window2.recent_workspaces()

    def wrong_then_right(dialog: PassphraseDialog) -> None:
        def right(again: PassphraseDialog) -> None:
            assert "Wrong passphrase" in again.error.text() and again.error.isVisible()
            again.passphrase.setText(PASSPHRASE)
            again.accept()

        answer_next_dialog(right)
        dialog.passphrase.setText("not the passphrase")
        dialog.accept()

    handled = answer_next_dialog(wrong_then_right)
    assert window2.open_workspace(path)
    assert handled
    wait_idle(qtbot, window2.session)
    decided = decisions_by_id(window2)
    assert set(decided) == {first, second}
    assert decided[first]["decision"] == "accept"
    assert decided[second]["reason"] == "Plea agreement in the court file"
    assert window2.session.run is not None and window2.session.run.results.height == run.results.height
    # the review table shows them again
    labels = window2.review_view.model.frame().filter(pl.col("conviction_id").is_in([first, second]))
    assert sorted(labels.get_column("decision").to_list()) == ["accepted (dismiss)", "reduce"]
    # and the audit trail holds the decisions and undos, intact
    actions = window2.session.audit_frame().get_column("action").to_list()
    assert actions.count("decision") == 3 and actions.count("undo") == 2 and actions.count("redo") == 1
    ok, _bad, _msg = window2.activity_view.verify()
    assert ok
    window2.close()
