"""The polars-backed table models: Qt's model rules, sorting, filtering, stable row ids."""

from __future__ import annotations

import polars as pl
import pytest
from gui_helpers import synthetic_results
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QTableView

from clearrec_desktop.gui.models import (
    BACKGROUND_ROLE,
    DISPLAY_ROLE,
    FONT_ROLE,
    REVIEW_COLUMNS,
    REVIEW_KEEP,
    ROW_ID,
    ROW_ID_ROLE,
    Column,
    FrameModel,
    decision_columns,
    decision_label,
    review_filter,
    review_frame,
)

# The C++ QAbstractItemModelTester reports through qWarning: make any warning fail the test.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")


NAME = [c.key for c in REVIEW_COLUMNS].index("name")


def review_model(n: int = 200) -> FrameModel:
    model = FrameModel(REVIEW_COLUMNS, keep=REVIEW_KEEP)
    model.set_frame(review_frame(synthetic_results(n), pl.DataFrame()))
    return model


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "python-tester"])
def test_review_model_passes_modeltester_through_changes(qtmodeltester, force_py):
    model = review_model()
    qtmodeltester.check(model, force_py=force_py)
    model.sort(2, Qt.SortOrder.DescendingOrder)
    model.set_filter(pl.col("outcome") == "dismiss")
    model.sort(6, Qt.SortOrder.AscendingOrder)
    model.update_where("conviction_id", model.record(0)["conviction_id"], {"decision": "accepted"})
    model.replace_column("decision", pl.Series(["x"] * model.frame().height))
    model.set_filter(None)
    model.set_frame(None)
    model.set_frame(review_frame(synthetic_results(30), pl.DataFrame()))


def test_empty_and_styled_models_pass_modeltester(qtmodeltester):
    empty = FrameModel([Column("a", "A")])
    qtmodeltester.check(empty, force_py=True)
    styled = FrameModel([Column("a", "A")], highlight="hl", bold="b")
    styled.set_frame(pl.DataFrame({"a": ["x", None, "z"], "hl": [True, False, None], "b": [False, True, False]}))
    qtmodeltester.check(styled, force_py=True)


def test_data_serves_display_and_styles_only():
    model = FrameModel([Column("a", "A"), Column("n", "N")], highlight="hl", bold="b")
    model.set_frame(pl.DataFrame({"a": ["x", None], "n": [5, None], "hl": [True, False], "b": [False, True]}))
    assert model.data(model.index(0, 0), DISPLAY_ROLE) == "x"
    assert model.data(model.index(0, 1), DISPLAY_ROLE) == "5"
    assert model.data(model.index(1, 0), DISPLAY_ROLE) == ""
    assert model.data(model.index(0, 0), BACKGROUND_ROLE) is not None
    assert model.data(model.index(1, 0), BACKGROUND_ROLE) is None
    assert model.data(model.index(1, 0), FONT_ROLE).bold()
    assert model.data(model.index(0, 0), FONT_ROLE) is None
    for role in (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.CheckStateRole):
        assert model.data(model.index(0, 0), role.value) is None
    assert model.data(model.index(1, 0), ROW_ID_ROLE) == 1
    assert model.headerData(0, Qt.Orientation.Horizontal, DISPLAY_ROLE) == "A"


def test_sort_and_filter_are_done_in_polars_with_stable_ties():
    model = review_model(500)
    model.sort(0, Qt.SortOrder.AscendingOrder)  # outcome: many ties
    shown = model.view_frame()
    assert shown.get_column("outcome").is_sorted()
    # ties keep row-id order
    for _, group in shown.group_by("outcome", maintain_order=True):
        assert group.get_column(ROW_ID).is_sorted()
    model.set_filter(pl.col("outcome") == "review")
    assert set(model.view_frame().get_column("outcome").to_list()) == {"review"}
    assert model.view_frame().get_column(ROW_ID).is_sorted()  # the sort is kept under a filter
    model.sort(0, Qt.SortOrder.DescendingOrder)
    model.set_filter(None)
    assert model.rowCount() == 500
    assert model.view_frame().get_column("outcome").is_sorted(descending=True)


def test_selection_follows_the_row_through_a_resort(qtbot):
    model = review_model(300)
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    rid = model.row_id(17)
    table.selectionModel().setCurrentIndex(
        model.index(17, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    model.sort(3, Qt.SortOrder.DescendingOrder)
    current = table.selectionModel().currentIndex()
    assert current.isValid()
    assert model.row_id(current.row()) == rid
    assert current.row() == model.row_of(rid)
    selected = table.selectionModel().selectedRows()
    assert [model.row_id(i.row()) for i in selected] == [rid]


def test_row_of_reports_filtered_out_rows():
    model = review_model(50)
    rid = model.view_frame().filter(pl.col("outcome") == "dismiss").item(0, ROW_ID)
    model.set_filter(pl.col("outcome") != "dismiss")
    assert model.row_of(rid) == -1


def test_update_where_repaints_only_the_row(qtbot):
    model = review_model(40)
    cid = model.record(5)["conviction_id"]
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.update_where("conviction_id", cid, {"decision": "accepted (dismiss)"})
    top, bottom = blocker.args[0], blocker.args[1]
    assert top.row() == bottom.row() == 5
    assert model.data(model.index(5, 1), DISPLAY_ROLE) == "accepted (dismiss)"
    assert model.frame().filter(pl.col("conviction_id") == cid).item(0, "decision") == "accepted (dismiss)"


def test_review_filter_each_dimension():
    frame = review_frame(synthetic_results(400), pl.DataFrame())
    def count(**kw):
        expr = review_filter(**kw)
        return frame.height if expr is None else frame.filter(expr).height

    assert count() == 400
    assert count(outcome="reduce") == frame.filter(pl.col("outcome") == "reduce").height
    assert count(flag="juvenile") == frame.filter(pl.col("flags").str.contains("juvenile")).height > 0
    assert count(flag="age_near") == 0  # whole flag ids, not substrings
    assert count(section="HS 11358") == frame.filter(pl.col("code_section") == "HS 11358").height
    assert count(courthouse="SOUTH COURTHOUSE") > 0
    decade = frame.item(0, "_decade")
    assert count(decade=decade) == frame.filter(pl.col("_decade") == decade).height
    assert count(status="undecided") == 400
    assert count(status="decided") == 0
    name = frame.item(3, "name")
    assert count(text=name.lower()) == frame.filter(pl.col("name") == name).height
    assert count(text="  " + frame.item(9, "cii_number") + " ") == 1
    assert count(text=frame.item(9, "court_case_number").lower()) >= 1
    assert count(outcome="dismiss", section="HS 11359") == frame.filter(
        (pl.col("outcome") == "dismiss") & (pl.col("code_section") == "HS 11359")).height


def test_decision_columns_and_status_filters():
    results = synthetic_results(6)
    ids = results.get_column("conviction_id")
    decisions = pl.DataFrame({
        "conviction_id": [ids[0], ids[1], ids[2], ids[3]],
        "decision": ["accept", "reduce", "defer", "challenge"],
        "proposed": ["dismiss", "dismiss", "dismiss", "ineligible"],
        "ground": [None, None, None, "public_safety"],
    })
    cols = decision_columns(ids, decisions)
    assert cols.get_column("decision").to_list() == [
        "accepted (dismiss)", "reduce", "deferred", "challenge: public safety", "", ""]
    assert cols.get_column("_departs").to_list() == [False, True, True, True, False, False]
    frame = review_frame(results, decisions)
    assert frame.filter(review_filter(status="accepted")).height == 1
    assert frame.filter(review_filter(status="departed")).height == 3
    assert frame.filter(review_filter(status="deferred")).height == 1
    assert frame.filter(review_filter(status="challenged")).height == 1
    assert frame.filter(review_filter(status="undecided")).height == 2
    assert decision_label(None, None, None) == ""


def test_decade_of_unknown_dates():
    results = synthetic_results(3).with_columns(pl.lit(None, dtype=pl.Date).alias("conviction_date"))
    assert review_frame(results, pl.DataFrame()).get_column("_decade").to_list() == ["unknown"] * 3


def test_parent_indexes_have_no_rows():
    model = review_model(5)
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.columnCount(model.index(0, 0)) == 0
    assert model.rowCount(QModelIndex()) == 5


def test_a_large_sort_runs_off_the_gui_thread(qtbot, monkeypatch, qtmodeltester):
    """Issue 14: sorting a large table never holds the window. Past ASYNC_SORT_ROWS the model
    sorts on a pool thread: the call returns at once, the old order stays shown and the GUI
    thread keeps handling events until the sorted frame is swapped in with the selection kept."""
    import threading

    from clearrec_desktop.gui import models

    monkeypatch.setattr(models, "ASYNC_SORT_ROWS", 100)
    model = review_model(3000)
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    rid = model.row_id(1234)
    table.selectionModel().setCurrentIndex(
        model.index(1234, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    threads, done = [], threading.Event()
    real = models.sorted_frame

    def slow_sort(frame, key, descending):
        threads.append(threading.current_thread() is not threading.main_thread())
        done.wait(5)          # held until the GUI thread has shown it is still responsive
        return real(frame, key, descending)

    monkeypatch.setattr(models, "sorted_frame", slow_sort)
    with qtbot.waitSignal(model.sorting, timeout=2000) as started:
        model.sort(NAME, Qt.SortOrder.AscendingOrder)   # by name
    assert started.args == [True] and model.is_sorting()
    assert model.view_frame().get_column(ROW_ID).is_sorted()     # the old order is still shown
    qtbot.wait(50)                                                # events flow meanwhile
    with qtbot.waitSignal(model.sorting, timeout=5000) as finished:
        done.set()
    assert finished.args == [False] and not model.is_sorting() and threads == [True]
    assert model.view_frame().get_column("name").is_sorted(nulls_last=True)
    current = table.selectionModel().currentIndex()
    assert model.row_id(current.row()) == rid
    # a change of the data while a sort runs drops that sort's answer and sorts again
    done.clear()
    model.sort(NAME, Qt.SortOrder.DescendingOrder)
    model.update_where("conviction_id", model.record(0)["conviction_id"], {"name": "ZZZZ"})
    with qtbot.waitSignal(model.sorting, timeout=5000):
        done.set()
    qtbot.waitUntil(lambda: not model.is_sorting(), timeout=5000)
    assert model.view_frame().get_column("name")[0] == "ZZZZ"
    assert model.view_frame().get_column("name").is_sorted(descending=True, nulls_last=True)
    qtmodeltester.check(model, force_py=True)
