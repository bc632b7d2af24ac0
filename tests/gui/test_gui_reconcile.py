"""Issue 15 in the desktop app: import the demo DOJ extract and the demo county export together
-> reconcile (a task) -> the Reconciliation view shows the three lists -> a county-only
conviction opens in Review with its source shown -> one link confirmed and another split (both
in the audit trail, and applied when reconciled again) -> the supplemental packet holds only
the county-only convictions."""

from __future__ import annotations

import tomllib
from io import BytesIO

import polars as pl
import pytest
from gui_helpers import AS_OF, PASSPHRASE, answer_next_dialog, wait_idle
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialogButtonBox

from clearrec_desktop.core import demo_county
from clearrec_desktop.gui.dialogs import MappingDialog
from clearrec_desktop.gui.main_window import MainWindow
from clearrec_desktop.gui.models import DISPLAY_ROLE
from clearrec_desktop.gui.views.reconcile import ReconcileDialog


@pytest.fixture(scope="module")
def county_export(tmp_path_factory, request):
    """The county's export for the people of the demo DOJ extract, with its mapping."""
    doj = request.getfixturevalue("demo_extract")
    d = tmp_path_factory.mktemp("county")
    demo_county.write_county_export(doj, d / "county.csv", county="SACRAMENTO", seed=3,
                                    truth_path=d / "county.truth.csv", mapping_path=d / "county.mapping.toml")
    mapping = tomllib.loads((d / "county.mapping.toml").read_text(encoding="utf-8"))
    return d / "county.csv", {"columns": mapping["columns"], "options": mapping.get("options", {})}


def test_reconcile_walk(qtbot, tmp_path, demo_extract, county_export):
    county_file, mapping = county_export
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    s = window.session
    s.create_workspace(tmp_path / "rec.clearrec", PASSPHRASE, "SACRAMENTO")
    # the mapping the clerk saved for files with these columns is offered again
    _header, _rows, signature = s.preview_file(county_file)
    s.save_mapping(signature, mapping)

    # -- File > Reconcile: both files in the dialog, the mapping confirmed, the task runs
    def fill(dialog: ReconcileDialog) -> None:
        dialog.doj.setText(str(demo_extract))
        dialog.county_file.setText(str(county_file))
        dialog.county.setCurrentText("Sacramento")
        dialog.as_of.setDate(QDate(AS_OF.year, AS_OF.month, AS_OF.day))
        answer_next_dialog(lambda m: m.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
                           if isinstance(m, MappingDialog) else m.reject())
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    handled = answer_next_dialog(fill)
    window.reconcile_action.trigger()
    assert handled and isinstance(handled[0], ReconcileDialog)
    assert window.current_view() == "reconcile"
    view = window.reconcile_view
    wait_idle(qtbot, s, 120000)
    run = s.run
    assert run is not None and run.is_reconciliation
    lists = run.summary["reconciliation"]["lists"]
    assert lists["county_only"] > 0 and lists["doj_only"] > 0 and lists["both_disagreeing"] > 0

    # -- the view shows the counts of the three lists, each list reviewable
    for key in ("county_only", "doj_only", "both_disagreeing"):
        assert f"{lists[key]:,}" in view.count_labels[key].text()
        view.count_buttons[key].click()
        assert view.list_model.rowCount() == lists[key]
        assert set(view.list_model.frame()["provenance"]) == {key}

    # "both, disagreeing" side by side: DOJ's value and the county's for each differing field
    view.count_buttons["both_disagreeing"].click()
    view.list_table.selectRow(0)
    pair = view.pair_model.frame()
    differing = pair.filter(pl.col("_differs"))
    assert differing.height >= 1
    assert (differing["doj"] != differing["county"]).all()

    # -- a county-only case opens in Review with its source shown
    view.count_buttons["county_only"].click()
    view.list_table.selectRow(0)
    cid = view.current_conviction()
    view.list_table.setFocus()
    qtbot.keyClick(view.list_table, Qt.Key.Key_Return)  # Enter (or a double-click) opens it in Review
    assert window.current_view() == "review"
    review = window.review_view
    assert review.current_conviction_id() == cid
    record = review.current_record()
    assert record["provenance"] == "county_only"
    source_col = [c.key for c in review.model.columns()].index("source")
    assert review.model.data(review.model.index(review.table.currentIndex().row(), source_col), DISPLAY_ROLE) == "county only"
    # the Source filter: county only
    combo = review.filters["provenance"]
    combo.setCurrentIndex(combo.findData("county_only"))
    assert review.model.rowCount() == run.results.filter(pl.col("provenance") == "county_only").height
    combo.setCurrentIndex(combo.findData("both"))
    assert review.model.rowCount() == run.results.filter(pl.col("provenance").is_in(["both", "both_disagreeing"])).height
    combo.setCurrentIndex(0)

    # -- the Overview and Reports show the reconciliation
    overview_text = window.overview_view.reconciliation.text()
    assert f"{lists['county_only']:,}" in overview_text and "county only" in overview_text.lower()
    by_court = s.reconciliation_by_courthouse()
    assert by_court["county_only"].sum() == run.results.filter(pl.col("provenance") == "county_only").height
    window.show_view("reports")
    qtbot.waitUntil(lambda: window.reports_view.reconciliation_box.isVisibleTo(window.reports_view), timeout=60000)
    assert window.reports_view.reconciliation_table.model_.rowCount() == by_court.height
    wait_idle(qtbot, s)

    # -- confirm one proposed link and split another; both in the audit trail
    window.show_view("reconcile")
    # (the demo pair links everyone above the threshold, so nothing is proposed; the clerk can
    # still confirm a link or split a wrong one)
    assert view.links_model.rowCount() == s.run.recon_links.height > 0
    assert view.select_link(kind="person")
    first = view.current_link()
    assert not view.withdraw_button.isEnabled()  # nothing to withdraw yet
    view.confirm_button.click()
    assert view.select_link(kind="conviction")
    second = view.current_link()
    assert (second["county_key"], second["doj_key"]) != (first["county_key"], first["doj_key"])
    view.split_button.click()
    words = s.link_decisions()
    assert words[(first["kind"], first["county_key"], first["doj_key"])] == "confirm"
    assert words[(second["kind"], second["county_key"], second["doj_key"])] == "split"
    audit = s.audit_frame()
    link_events = audit.filter(pl.col("action") == "link_decision")
    assert link_events.height == 2
    # the trail names links by opaque ids, not by the keys (which may come from a CII number)
    assert not link_events.select(pl.col(pl.String).str.contains(second["doj_key"], literal=True).any()).row(0)[0]
    assert "Reconcile again" in view.links_note.text()

    # -- reconciled again: the decisions apply (the split pair is no longer linked)
    view.again_button.click()
    wait_idle(qtbot, s, 120000)
    assert s.run.run_id > run.run_id and s.run.is_reconciliation
    links = s.run.recon_links
    assert links.filter((pl.col("kind") == first["kind"]) & (pl.col("county_key") == first["county_key"])
                        & (pl.col("doj_key") == first["doj_key"]))["status"].to_list() == ["confirmed"]
    assert links.filter((pl.col("kind") == second["kind"]) & (pl.col("county_key") == second["county_key"])
                        & (pl.col("doj_key") == second["doj_key"])).height == 0

    # -- the supplemental packet: only county-only convictions
    from pypdf import PdfReader

    from clearrec_desktop.core.safety import resource_path

    s.load_office_file(resource_path("demo/office.toml"))
    results = s.run.results
    county_only = results.filter((pl.col("provenance") == "county_only") & pl.col("outcome").is_in(["dismiss", "reduce"])
                                 & (pl.col("court_case_number").fill_null("") != ""))
    assert county_only.height > 0
    # Documents: the supplemental posture, whose hint says what the reconciliation found
    window.show_view("documents")
    docs = window.documents_view
    docs.posture.setCurrentIndex(docs.posture.findData("supplemental"))
    n_only = s.run.summary["reconciliation"]["lists"]["county_only"]
    assert f"found {n_only:,} conviction" in docs.posture_hint.text()
    docs.filing_date.setDate(QDate(2026, 12, 1))
    docs.include_undecided.setChecked(True)
    docs.include_juvenile.setChecked(True)
    task = docs.build()
    assert task is not None
    wait_idle(qtbot, s, 120000)
    built = [docs.doc_set] if docs.doc_set is not None else []
    assert built, "the documents were not built"
    texts = []
    for doc in built[0].documents:  # the motion packets (the cover report lists what was left out)
        if "motion" in doc.file_name and doc.data[:4] == b"%PDF":
            texts.append("\n".join(p.extract_text() or "" for p in PdfReader(BytesIO(doc.data)).pages))
    text = "\n".join(texts)
    assert "SUPPLEMENTAL" in text.upper()
    granted = set(county_only["court_case_number"])
    assert any(case in text for case in granted)
    for case in results.filter(pl.col("provenance") != "county_only")["court_case_number"].drop_nulls().unique().to_list():
        if case not in granted:  # a case number can hold a county-only count beside a listed one
            assert case not in text, f"{case} is on DOJ's list but appears in the supplemental motion"

    # -- reopening the workspace brings the reconciliation back
    s.close_workspace()
    s.open_workspace(tmp_path / "rec.clearrec", PASSPHRASE)
    s.load_latest_run()
    wait_idle(qtbot, s, 120000)
    assert s.run.is_reconciliation and s.run.recon_table.height == s.run.results.height
    assert view.count("county_only") == s.run.summary["reconciliation"]["lists"]["county_only"]


def test_a_county_export_imported_after_the_doj_extract_can_be_reconciled(qtbot, tmp_path, demo_extract, county_export):
    """The "add or replace?" question offers a third answer when the file read is the county's
    export and the workspace holds one DOJ extract: reconcile them (the same lists as File >
    Reconcile)."""
    county_file, mapping = county_export
    window = MainWindow()
    qtbot.addWidget(window)
    s = window.session
    s.create_workspace(tmp_path / "rec2.clearrec", PASSPHRASE, "SACRAMENTO")
    s.read_files([demo_extract])
    wait_idle(qtbot, s)
    assert s.import_choices() == {}  # the first import: nothing to choose
    s.screen_pending("SACRAMENTO", AS_OF, window.import_view.selected_profile())
    wait_idle(qtbot, s, 120000)
    assert s.run is not None and not s.run.is_reconciliation
    s.read_files([demo_extract])  # another DOJ extract: add or replace only
    wait_idle(qtbot, s)
    assert set(s.import_choices()) == {"add", "replace"}
    s.read_files([county_file], mapping)
    wait_idle(qtbot, s)
    choices = s.import_choices()
    assert set(choices) == {"reconcile", "add", "replace"} and "DOJ's list missed" in choices["reconcile"]

    clicked = []

    def answer(box) -> None:
        button = next(b for b in box.buttons() if "concile" in b.text())
        clicked.append(box.informativeText())
        button.click()

    answer_next_dialog(answer)
    assert window.import_view.ask_import_mode() == "reconcile"
    assert "Reconcile with DOJ's extract:" in clicked[0]
    s.screen_pending("SACRAMENTO", AS_OF, window.import_view.selected_profile(), "reconcile")
    wait_idle(qtbot, s, 120000)
    run = s.run
    assert run.is_reconciliation and len(run.import_ids) == 2
    lists = run.summary["reconciliation"]["lists"]
    assert lists["county_only"] > 0 and lists["doj_only"] > 0
    assert window.reconcile_view.count("county_only") == lists["county_only"]
    assert set(run.results["provenance"]) == {"both", "both_disagreeing", "doj_only", "county_only"}
    # the same lists as reconciling the two files in one go
    from clearrec_desktop.core.reconcile import run as reconcile_run

    ref = reconcile_run.run_reconcile(demo_extract, county_file, mapping=mapping, county="Sacramento", as_of=AS_OF,
                                      profile=window.import_view.selected_profile())
    assert ref.summary["reconciliation"]["lists"] == lists
