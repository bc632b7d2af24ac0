"""Accept many proposals at once (issue 19.3): a confirmation stating how many and which filter,
one audit event per case plus one listing them, undone as a whole."""

from __future__ import annotations

from gui_helpers import answer_next_dialog


def test_bulk_accept_of_all_shown_by_a_filter_is_confirmed_recorded_and_undone_as_one(screened_window, qtbot):
    window = screened_window
    view = window.review_view
    window.show_view("review")
    combo = view.filters["outcome"]
    index = next(i for i in range(combo.count()) if "dismiss" in combo.itemText(i).lower())
    combo.setCurrentIndex(index)
    view.apply_filters()
    shown = view.model.rowCount()
    assert shown > 1
    view.table.selectRow(0)  # one row selected: the offer is every case shown
    seen = {}

    def confirm(dialog):
        seen["text"] = " ".join(w.text() for w in dialog.findChildren(type(view.count_label)))
        dialog.accept()

    handled = answer_next_dialog(confirm)
    recorded = view.bulk_accept()
    assert handled and recorded == shown
    assert f"{shown:,}" in seen["text"] and "filter" in seen["text"].lower()
    ws = window.session.workspace
    assert window.session.decisions.height == shown
    assert len(ws.audit_entries("decision")) == shown
    (batch,) = ws.audit_entries("decision_batch")
    assert batch["details"]["count"] == shown and "filter" in batch["details"]["selection"]
    # one undo withdraws the whole batch
    window.session.undo()
    assert window.session.decisions.height == 0
    window.session.redo()
    assert window.session.decisions.height == shown


def test_cases_proposing_review_are_left_as_they_are(screened_window, errors):
    view = screened_window.review_view
    combo = view.filters["outcome"]
    combo.setCurrentIndex(next(i for i in range(combo.count()) if "review" in combo.itemText(i).lower()))
    view.apply_filters()
    assert view.model.rowCount() > 0
    view.table.selectRow(0)
    assert view.bulk_accept() == 0  # the error says there is nothing to accept
    assert screened_window.session.decisions.height == 0
    assert errors and "Nothing to accept" in errors[-1]
