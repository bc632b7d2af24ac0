"""The Reports view and File > Export: workbook, DOJ layout, impact report, review table CSV."""

from __future__ import annotations

import csv
import shutil

import polars as pl
from gui_helpers import wait_idle
from openpyxl import load_workbook
from pypdf import PdfReader
from PySide6.QtWidgets import QFileDialog, QMessageBox

from clearrec_desktop.core.ingest.doj import DOJ_COLUMNS
from clearrec_desktop.core.outputs.common import (
    DOJ_RESULT_COLUMNS,
    SUPPRESS_BELOW,
    SUPPRESSED,
)
from clearrec_desktop.gui.views.reports import shown


def save_as(monkeypatch, path) -> list:
    """Answer the next save dialogs with ``path``; returns the titles asked."""
    asked = []

    def fake(parent, title, *args, **kwargs):
        asked.append(title)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
    return asked


def finish(qtbot, window, errors) -> None:
    wait_idle(qtbot, window.session)
    assert not errors


def saved_message(window) -> QMessageBox:
    box = window.exports.last_message
    assert box is not None and box.isVisible()
    return box


def test_reports_view_shows_the_published_figures(screened_window, qtbot, errors):
    window = screened_window
    view = window.reports_view
    window.show_view("reports")
    qtbot.waitUntil(lambda: view.figures is not None, timeout=10000)
    run = window.session.run
    assert view.tiles[0][0].text() == f"{run.results.height:,}"
    assert view.tiles[1][0].text() == f"{run.summary['people']['with_conviction']:,}"
    outcome_counts = {row[0]: row[1] for row in view.outcome_table.cells()}
    by_outcome = run.summary["convictions"]["by_outcome"]
    assert outcome_counts["Dismiss and seal"] == f"{by_outcome['dismiss']:,}"

    # every breakdown cell and every bar label: "<11" or a count of at least 11 (or 0)
    suppressed = 0
    for dim, table in view.breakdown_tables.items():
        cells = [c for row in table.cells() for c in row[1:] if not c.endswith("%") and c]
        texts = [t for row in view.breakdown_charts[dim].texts() for t in row]
        for text in cells + texts:
            if text == SUPPRESSED:
                suppressed += 1
            else:
                n = int(text.replace(",", ""))
                assert n == 0 or n >= SUPPRESS_BELOW, (dim, text)
    assert suppressed > 0  # the demo has groups under 11 people
    # a suppressed group shows "<11" where the summary holds its true count
    race = run.summary["breakdowns"]["race"]
    small = next(g for g, v in race.items() if 0 < v["people"] < SUPPRESS_BELOW)
    row = next(r for r in view.breakdown_tables["race"].cells() if r[0].upper() == small or
               (r[0] == "Unknown" and small.upper() == "UNKNOWN"))
    assert row[1] == SUPPRESSED
    # rates only where both counts are shown
    for r in view.breakdown_tables["race"].cells():
        assert (r[-1] == "") == (shown(r[1]) is None or shown(r[3]) is None)
    people_chart = view.people_chart.texts()
    assert people_chart[0][0] == f"{run.summary['people']['with_relief']:,}"


def test_export_workbook_from_the_menu(screened_window, qtbot, errors, opened_urls, tmp_path, monkeypatch):
    window = screened_window
    session = window.session
    cid = session.run.results.filter(pl.col("outcome") == "reduce").item(0, "conviction_id")
    session.decide(cid, "dismiss", reason="the prior was dismissed")
    path = tmp_path / "book.xlsx"
    asked = save_as(monkeypatch, path)
    assert window.exports.xlsx_action.isEnabled() and window.exports.xlsx_action in window.export_menu.actions()
    window.exports.xlsx_action.trigger()
    finish(qtbot, window, errors)
    assert asked and path.is_file()
    book = load_workbook(path, read_only=True)
    summary = [[c for c in row if c is not None] for row in book["Summary"].iter_rows(values_only=True)]
    assert ["Audit chain head (SHA-256)", session.workspace.audit_entries()[-2]["hash"]] in summary
    header = next(book["reduce"].iter_rows(values_only=True))
    assert "decision" in header and "reviewer" in header
    rows = [dict(zip(header, r)) for r in book["reduce"].iter_rows(min_row=2, values_only=True)]
    decided = next(r for r in rows if r["conviction_id"] == cid)
    assert decided["decision"] == "dismiss" and decided["reviewer"] == session.reviewer()
    total = sum(book[n].max_row - 1 for n in book.sheetnames if n != "Summary")
    assert total == session.run.results.height
    book.close()
    # the message offers the folder
    box = saved_message(window)
    assert "book.xlsx" in box.text()
    folder_button = next(b for b in box.buttons() if "Folder" in b.text())
    folder_button.click()
    assert [u.toLocalFile() for u in opened_urls] == [str(tmp_path)]
    entry = session.workspace.audit_entries("export")[-1]["details"]
    assert entry["what"] == "xlsx" and entry["file"] == "book.xlsx" and entry["rows"] == session.run.results.height


def test_export_impact_report_from_the_menu_and_the_reports_view(screened_window, qtbot, errors, tmp_path,
                                                                 monkeypatch):
    window = screened_window
    path = tmp_path / "impact.pdf"
    save_as(monkeypatch, path)
    window.exports.impact_action.trigger()
    finish(qtbot, window, errors)
    text = "".join(p.extract_text() for p in PdfReader(path).pages)
    head = window.session.workspace.audit_entries()[-2]["hash"]  # the head when it was made
    assert "Impact Report" in text and head in text.replace("\n", "")
    saved_message(window).close()
    path.unlink()
    window.show_view("reports")
    window.reports_view.save_button.click()
    finish(qtbot, window, errors)
    assert path.is_file()
    whats = [e["details"]["what"] for e in window.session.workspace.audit_entries("export")]
    assert whats == ["impact_report", "impact_report"]


def test_export_review_table_as_filtered(screened_window, qtbot, errors, tmp_path, monkeypatch):
    window = screened_window
    review = window.review_view
    outcome = review.filters["outcome"]
    outcome.setCurrentIndex(outcome.findData("dismiss"))
    review.table.sortByColumn(4, review.table.horizontalHeader().sortIndicatorOrder())  # by case number
    review.table.horizontalHeader().hideSection(3)  # CII hidden
    path = tmp_path / "table.csv"
    save_as(monkeypatch, path)
    window.exports.csv_action.trigger()
    finish(qtbot, window, errors)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    model = review.model
    assert len(rows) - 1 == model.rowCount() == window.session.run.results.filter(pl.col("outcome") == "dismiss").height
    titles = [c.title for i, c in enumerate(model.columns()) if i != 3]
    assert rows[0] == titles
    shown_cases = [model.record(i)["court_case_number"] or "" for i in range(model.rowCount())]
    assert [r[titles.index("Case number")] for r in rows[1:]] == shown_cases
    entry = window.session.workspace.audit_entries("export")[-1]["details"]
    assert entry["what"] == "review_table_csv" and entry["rows"] == model.rowCount()


def test_export_doj_layout_asks_for_a_moved_extract(screened_window, qtbot, errors, tmp_path, monkeypatch):
    window = screened_window
    session = window.session
    moved = tmp_path / "elsewhere" / "extract-renamed.csv"
    moved.parent.mkdir()
    shutil.move(window.extract_copy, moved)
    path = tmp_path / "doj.csv"
    save_as(monkeypatch, path)
    located = []

    def locate(parent, title, start, *args, **kwargs):
        located.append(title)
        return str(moved), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(locate))
    window.exports.doj_action.trigger()
    qtbot.waitUntil(lambda: path.is_file() and not session.runner.busy, timeout=30000)
    assert not errors
    assert len(located) == 1 and "demo-extract.csv" in located[0] and "no longer" in located[0]
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.columns == list(DOJ_COLUMNS) + list(DOJ_RESULT_COLUMNS)
    assert frame.height == session.run.report.files[0].rows_imported
    screened = frame.filter(pl.col("CLEARREC_OUTCOME").is_not_null()).get_column("CLEARREC_CONVICTION_ID")
    assert set(screened.to_list()) == set(session.run.results.get_column("conviction_id").to_list())
    assert frame.get_column("REQ_SSN").null_count() == frame.height  # never an SSN
    entry = session.workspace.audit_entries("export")[-1]["details"]
    assert entry["what"] == "doj_results" and entry["rows"] == frame.height


def test_export_doj_layout_refuses_a_different_file(screened_window, qtbot, errors, tmp_path, monkeypatch):
    window = screened_window
    extract = window.extract_copy
    extract.write_bytes(extract.read_bytes() + b"\n")  # changed since the import
    other = tmp_path / "other.csv"
    other.write_bytes(extract.read_bytes())
    path = tmp_path / "doj.csv"
    save_as(monkeypatch, path)
    asked = []

    def locate(parent, title, *args, **kwargs):
        asked.append(title)
        return (str(other), "") if len(asked) == 1 else ("", "")  # a wrong file, then give up

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(locate))
    window.exports.doj_action.trigger()
    qtbot.waitUntil(lambda: len(asked) == 2 and not window.session.runner.busy, timeout=30000)
    assert "has changed" in asked[0] and "has changed" in asked[1]
    assert not path.exists() and not errors
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.session.workspace.audit_entries("export")


def test_export_actions_need_a_run(qtbot, tmp_path):
    from clearrec_desktop.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert not any(a.isEnabled() for a in window.exports.actions)
    window.close()
