"""The Documents view: office details, what goes in, build on the worker, preview, save, print."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from gui_helpers import PASSPHRASE, wait_idle
from pypdf import PdfReader
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QImage
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog

from clearrec_desktop.core.safety import resource_path
from clearrec_desktop.gui import pdfview

DEMO_OFFICE = resource_path("demo/office.toml")


def record_decisions(session) -> dict[str, str]:
    """Defer one conviction in review, accept one dismissal, challenge one reduction."""
    results = session.run.results
    review = results.filter(pl.col("outcome") == "review").item(0, "conviction_id")
    dismiss = results.filter(pl.col("outcome") == "dismiss").item(0, "conviction_id")
    reduce = results.filter(pl.col("outcome") == "reduce").item(0, "conviction_id")
    session.decide(review, "defer", reason="waiting for the court file")
    session.decide(dismiss, "accept")
    session.decide(reduce, "challenge", ground="public_safety", reason="pending case in another county")
    return {"defer": review, "accept": dismiss, "challenge": reduce}


def expected_review_or_defer(session) -> int:
    """Convictions whose effective decision is still review or defer: the engine's review
    outcome unless an attorney decided otherwise, and every deferral."""
    decisions = session.decisions.select("conviction_id", "decision")
    frame = session.run.results.select("conviction_id", "outcome").join(decisions, on="conviction_id", how="left")
    effective = (pl.when(pl.col("decision").is_null() | (pl.col("decision") == "accept"))
                 .then(pl.col("outcome")).otherwise(pl.col("decision")))
    return frame.filter(effective.is_in(["review", "defer"])).height


def wait_counts(qtbot, view) -> dict:
    qtbot.waitUntil(lambda: view.counts is not None and not view._counts_stale, timeout=10000)
    qtbot.waitUntil(lambda: not any(r.runner.busy for r in view.session._readers.values()), timeout=10000)
    return view.counts


def choose(view, posture="supplemental", include="undecided") -> None:
    """The office's explicit choices: the posture and what goes in (never assumed)."""
    view.posture.setCurrentIndex(view.posture.findData(posture))
    (view.include_undecided if include == "undecided" else view.include_decided).setChecked(True)


def build(qtbot, window, errors, *, chosen=True):
    view = window.documents_view
    if chosen and view.posture.currentData() is None:
        choose(view)
    task = view.build()
    assert task is not None, errors
    wait_idle(qtbot, window.session)
    assert not errors
    assert view.doc_set is not None
    return view.doc_set


def test_office_details_round_trip_through_the_workspace(screened_window, qtbot, errors, tmp_path):
    window = screened_window
    view = window.documents_view
    window.show_view("documents")
    window.activateWindow()
    values = {
        "district_attorney": "Alex Q. Prosecutor",
        "state_bar_number": "123456",
        "office": "Office of the District Attorney, County of Sacramento",
        "phone": "(916) 555-0199",
        "email": "prop64@da.example.gov",
        "court": "SUPERIOR COURT OF THE STATE OF CALIFORNIA, COUNTY OF SACRAMENTO",
        "county": "Sacramento",
        "public_defender": "Public Defender of Sacramento County",
    }
    # issue 17.5: the county and the court title are proposed from the workspace, editable
    assert view.office_edits["county"].text() == "Sacramento"
    assert view.office_edits["court"].text() == "SUPERIOR COURT OF THE STATE OF CALIFORNIA, COUNTY OF SACRAMENTO"
    assert "Proposed from the workspace's county" in view.office_hint.text()
    assert window.session.workspace.get_office()["county"] == ""  # proposed, not yet stored
    for field_id, value in values.items():
        edit = view.office_edits[field_id]
        edit.setFocus()
        edit.clear()
        qtbot.keyClicks(edit, value)
        qtbot.keyClick(edit, Qt.Key.Key_Return)  # editingFinished: saved at once
    address = view.office_edits["address"]
    address.setPlainText("901 G Street\nSacramento, CA 95814")
    address.editing_finished.emit()  # leaving the field saves it
    stored = window.session.workspace.get_office()
    assert {k: stored[k] for k in values} == values
    assert stored["address"] == "901 G Street\nSacramento, CA 95814"
    assert view.office_error.isHidden() and "Still needed" not in view.office_hint.text()

    # a malformed value is refused with the reason and the stored value kept
    email = view.office_edits["email"]
    email.setText("not an address")
    assert not view.save_office_field("email")
    assert view.office_error.isVisibleTo(view) and "Email" in view.office_error.text()
    assert window.session.workspace.get_office()["email"] == values["email"]
    view.office_edits["state_bar_number"].setText("12-34")
    assert not view.save_office_field("state_bar_number")
    view.office_edits["county"].setText("Atlantis")
    assert not view.save_office_field("county")

    # audited by field name only: no value reaches the audit trail
    entries = window.session.workspace.audit_entries("office_changed")
    assert entries and set(entries[-1]["details"]["fields"]) <= set(values) | {"address"}
    trail = json.dumps([e["details"] for e in entries])
    assert "Prosecutor" not in trail and "555-0199" not in trail

    # closed and reopened: the view shows what the workspace holds
    path = window.session.workspace.path
    window.close_workspace()
    assert view.office_edits["district_attorney"].text() == ""
    assert window.open_workspace(path, PASSPHRASE)
    wait_idle(qtbot, window.session)
    for field_id, value in values.items():
        assert view.office_edits[field_id].text() == value
    assert view.office_edits["address"].toPlainText() == "901 G Street\nSacramento, CA 95814"
    assert not errors


def test_build_preview_save_and_audit(screened_window, qtbot, errors, opened_urls, tmp_path, monkeypatch):
    window = screened_window
    session = window.session
    view = window.documents_view
    decided = record_decisions(session)
    assert view.load_office_file(DEMO_OFFICE)
    window.show_view("documents")
    choose(view, "doj_list")
    view.doj_received.setDate(QDate(2019, 7, 1))
    counts = wait_counts(qtbot, view)
    # what goes in, from the current decisions: review and defer stay out, and so do untouched
    # ineligible proposals (not a challenge until an attorney makes one), juvenile matters and
    # rows with no court case number
    left = counts["left_out"]
    assert left["review"] + left["defer"] == expected_review_or_defer(session)
    assert left["defer"] == 1 and left["not_challenged"] > 0 and left["juvenile"] > 0 and left["no_case_number"] > 0
    assert counts["challenged"] == 1 == counts["challenged_by_attorney"]
    assert counts["granted_total"] + counts["challenged"] + counts["left_out_total"] == session.run.results.height
    assert f"{counts['left_out_total']:,}" in view.contents.text()
    assert f"<b>{counts['unreviewed_filed']:,}</b> have no attorney decision" in view.contents.text()

    # no record ever goes to a temporary file while building or saving
    import tempfile

    def no_temp(*_a, **_k):
        raise AssertionError("a temporary file was requested")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile"):
        monkeypatch.setattr(tempfile, name, no_temp)

    doc_set = build(qtbot, window, errors)
    names = [d.file_name for d in doc_set.documents]
    assert names == ["motion-packet-lodged-under-seal.pdf", "motion-packet-public-redacted.pdf",
                     "challenge-notice-lodged-under-seal.pdf", "challenge-notice-public-redacted.pdf",
                     "cover-report.pdf"]
    assert doc_set.update_files == ("court-update.csv", "court-update.xlsx")
    assert doc_set.counts["left_out_total"] >= counts["left_out_total"]
    challenged = doc_set.selection.challenged.get_column("conviction_id").to_list()
    assert challenged == [decided["challenge"]]
    assert decided["defer"] in doc_set.selection.left_out.get_column("conviction_id").to_list()

    # preview: page 1 of the packet, at Letter size, with ink on it
    packet = doc_set.documents[0]
    image = view.preview.images()[0]
    assert (image.width(), image.height()) == (round(8.5 * pdfview.PREVIEW_DPI), round(11 * pdfview.PREVIEW_DPI))
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    assert min(gray.pixelColor(x, y).value() for x in range(0, gray.width(), 7) for y in range(0, gray.height(), 7)) < 100
    assert view.page_label.text() == f"Page 1 of {packet.pages:,}"
    assert len(view.preview.images()) == min(packet.pages, 4)
    view.next_button.click()
    assert view.preview.current_page() == 2
    assert not view.open_button.isEnabled()  # nothing saved yet

    # Save… proposes the user's Documents folder (never the import folder), then the folder
    # chosen once for this workspace
    folder = tmp_path / "filed"
    folder.mkdir()
    starts = []

    def pick(_parent, _caption, start, *a, **k):
        starts.append(start)
        return str(folder)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(pick))
    view.save_button.click()
    wait_idle(qtbot, session)
    assert not errors
    assert Path(starts[0]) != window.extract_copy.parent
    assert session.documents_folder() == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(doc_set.file_names)
    assert len(PdfReader(folder / "motion-packet-lodged-under-seal.pdf").pages) == packet.pages
    assert (folder / "motion-packet-lodged-under-seal.pdf").read_bytes() == packet.data
    head = doc_set.request.audit_head
    assert head in "".join(page.extract_text() for page in PdfReader(folder / "motion-packet-lodged-under-seal.pdf").pages[:8]).replace("\n", "")
    with open(folder / "court-update.csv", newline="", encoding="utf-8-sig") as f:
        update = list(csv.DictReader(f))
    assert len(update) == doc_set.counts["granted_total"] + doc_set.counts["challenged"]
    cover = "".join(page.extract_text() for page in PdfReader(folder / "cover-report.pdf").pages)
    assert decided["defer"] in cover.replace("\n", "")  # the deferred conviction is listed as left out
    assert view.files_list.isVisibleTo(view)
    assert sorted(view.files_list.toPlainText().splitlines()) == sorted(doc_set.file_names)
    from PySide6.QtWidgets import QMessageBox
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No))
    view.save_button.click()
    wait_idle(qtbot, session)
    assert Path(starts[1]) == folder  # the workspace's documents folder, next time
    assert asked and "already holds" in asked[0]  # never replaced without asking

    # the document entry: counts, choices and file names, no personal data
    entry = session.workspace.audit_entries("document")[-1]["details"]
    assert entry["action"] == "saved" and sorted(entry["files"]) == sorted(doc_set.file_names)
    assert entry["granted"] == doc_set.counts["granted_total"]
    assert entry["posture"] == "doj_list" and entry["include"] == "undecided" and entry["doj_list_received"] == "2019-07-01"
    assert entry["audit_head_printed"] == head
    text = json.dumps(entry)
    results = session.run.results
    for column in ("name", "cii_number", "court_case_number"):
        assert not any(v and v in text for v in results.get_column(column).drop_nulls().unique().to_list()[:200])

    # open the saved document and its folder with the desktop's viewer
    assert view.open_button.isEnabled() and view.folder_button.isEnabled()
    view.open_button.click()
    view.folder_button.click()
    assert [u.toLocalFile() for u in opened_urls] == [str(folder / "motion-packet-lodged-under-seal.pdf"), str(folder)]
    assert all(u.isLocalFile() for u in opened_urls)


def test_inclusion_choice_changes_the_exhibits_and_the_declaration(screened_window, qtbot, errors):
    """Issue 18.2: the choice is explicit, counted honestly, and stated in the declaration."""
    window = screened_window
    session = window.session
    view = window.documents_view
    record_decisions(session)
    assert view.load_office_file(DEMO_OFFICE)
    window.show_view("documents")
    view.posture.setCurrentIndex(view.posture.findData("supplemental"))
    assert view.build() is None and "what goes in" in errors[-1]  # never assumed
    errors.clear()
    view.include_decided.setChecked(True)
    counts = wait_counts(qtbot, view)
    assert counts["granted_total"] == 1 and counts["challenged"] == 1 and counts["unreviewed_filed"] == 0
    doc_set = build(qtbot, window, errors)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(doc_set.documents[0].data)).pages).split())
    assert "include only convictions an attorney reviewed" in text
    assert "Exhibit A lists 1 conviction" in text and "Exhibit B lists 1 conviction" in text
    view.include_undecided.setChecked(True)
    wider = wait_counts(qtbot, view)
    assert wider["granted_total"] > 100 and wider["unreviewed_filed"] == wider["granted_total"] - 1
    view.challenge_ineligible.setChecked(True)
    challenged = wait_counts(qtbot, view)
    assert challenged["challenged"] > 1 and challenged["challenged_by_attorney"] == 1
    doc_set = build(qtbot, window, errors)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(doc_set.documents[0].data)).pages).split())
    assert "include every proposal of its criteria that no attorney has overridden" in text
    assert "also chose to challenge every conviction its criteria find ineligible" in text


def test_a_corrected_section_prints_in_exhibit_a(screened_window, qtbot, errors):
    """Issue 18.3: the decision carries the correction with its source; the workspace keeps both."""
    window = screened_window
    session = window.session
    view = window.documents_view
    results = session.run.results
    row = results.filter((pl.col("outcome") == "dismiss") & pl.col("court_case_number").is_not_null()
                         & (pl.col("age_at_offence") >= 18)).row(0, named=True)
    session.decide(row["conviction_id"], "dismiss", reason="Court file confirms HS 11357(c)",
                   corrections=[{"field": "code_section", "value": "HS 11357(c)", "source": "Court file"}])
    kept = session.workspace.current_corrections()
    assert kept.height == 1 and session.run.results.filter(
        pl.col("conviction_id") == row["conviction_id"]).item(0, "code_section") == row["code_section"]
    assert view.load_office_file(DEMO_OFFICE)
    window.show_view("documents")
    doc_set = build(qtbot, window, errors)
    granted = doc_set.selection.granted.filter(pl.col("conviction_id") == row["conviction_id"])
    assert granted.item(0, "code_section") == "HS 11357(c)"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(doc_set.documents[0].data)).pages).split())
    at = text.index(row["court_case_number"])
    assert "HS 11357(c)" in text[at:at + 200]


def test_build_is_visible_at_1440x900(screened_window, qtbot, errors):
    """Issue 18.8: the main action never sits below the fold."""
    window = screened_window
    window.resize(1440, 900)
    window.show_view("documents")
    view = window.documents_view
    qtbot.waitUntil(lambda: view.isVisible(), timeout=5000)
    button = view.build_button
    top_left = button.mapTo(window, button.rect().topLeft())
    bottom = top_left.y() + button.height()
    assert button.isVisible() and 0 <= top_left.y() and bottom <= window.height()
    # and stays visible when the form above it scrolls
    view.left_scroll.verticalScrollBar().setValue(view.left_scroll.verticalScrollBar().maximum())
    assert button.mapTo(window, button.rect().topLeft()).y() == top_left.y()


def test_print_to_a_pdf_printer_gives_the_same_pages(screened_window, qtbot, errors, tmp_path):
    window = screened_window
    view = window.documents_view
    assert view.load_office_file(DEMO_OFFICE)
    window.show_view("documents")
    choose(view)
    view.challenge_ineligible.setChecked(True)
    doc_set = build(qtbot, window, errors)
    view.document.setCurrentIndex(2)  # the challenge notice: pleading pages and landscape exhibits
    doc = view.current_document()
    assert doc.file_name == "challenge-notice-lodged-under-seal.pdf"
    printer = QPrinter()
    pdfview.prepare_printer(printer, doc.file_name)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert view.print_to(printer) is not None
    wait_idle(qtbot, window.session)
    assert not errors
    printed = PdfReader(out)
    assert len(printed.pages) == doc.pages == view.last_print_pages
    # Letter paper, portrait, every page (landscape exhibit pages are turned to fit)
    for page in printed.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)
    entry = window.session.workspace.audit_entries("document")[-1]["details"]
    assert entry == {"action": "printed", "file": doc.file_name, "pages": doc.pages,
                     "audit_head_printed": doc_set.request.audit_head}


def test_print_range_from_the_dialog_is_honoured(screened_window, qtbot, errors, tmp_path):
    window = screened_window
    view = window.documents_view
    assert view.load_office_file(DEMO_OFFICE)
    build(qtbot, window, errors)
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "range.pdf"))
    printer.setFromTo(2, 3)
    view.print_to(printer)
    wait_idle(qtbot, window.session)
    assert not errors and len(PdfReader(tmp_path / "range.pdf").pages) == 2


def test_per_case_by_courthouse_and_one_courthouse(screened_window, qtbot, errors, tmp_path):
    window = screened_window
    session = window.session
    view = window.documents_view
    assert view.load_office_file(DEMO_OFFICE)
    window.show_view("documents")
    courts = session.run_courthouses()
    assert view.court.count() == len(courts) + 1 and view.court.itemData(0) is None
    view.per_case.setChecked(True)
    doc_set = build(qtbot, window, errors)
    cases = doc_set.selection.granted.select("courthouse", "court_case_number", "subject_id").unique().height
    per_case = [n for n in doc_set.file_names if n.startswith("per-case/")]
    assert len([n for n in per_case if n.endswith("-motion.pdf")]) == cases
    assert len([n for n in per_case if n.endswith("-order.pdf")]) == cases
    assert len([n for n in per_case if n.endswith("-order.docx")]) == cases
    assert len(doc_set.documents) <= 6 + 3  # previews of the first cases, the cover report
    folder = tmp_path / "pc"
    folder.mkdir()
    view.save_to(folder, confirm=False)
    wait_idle(qtbot, session)
    assert not errors
    assert len(list((folder / "per-case").iterdir())) == 3 * cases
    entry = session.workspace.audit_entries("document")[-1]["details"]
    assert entry["per_case_files"] == 3 * cases and not any("/" in n for n in entry["files"])

    # one packet per courthouse
    view.bulk.setChecked(True)
    view.by_courthouse.setChecked(True)
    doc_set = build(qtbot, window, errors)
    packets = [d.file_name for d in doc_set.documents if d.file_name.startswith("motion-packet-")
               and d.file_name.endswith("-lodged-under-seal.pdf")]
    granted_courts = sorted(doc_set.selection.granted.get_column("courthouse").unique().to_list())
    assert len(packets) == len(granted_courts) >= 2

    # one courthouse: counts, documents and the cover report's total are that courthouse's
    view.court.setCurrentIndex(view.court.findData(courts[0]))
    assert not view.by_courthouse.isEnabled()
    assert not view.save_button.isEnabled()  # the options changed: build again first
    counts = wait_counts(qtbot, view)
    assert counts["total"] == session.run.results.filter(pl.col("courthouse") == courts[0]).height
    doc_set = build(qtbot, window, errors)
    assert doc_set.documents[0].file_name.startswith("motion-packet-")
    assert set(doc_set.selection.granted.get_column("courthouse").to_list()) == {courts[0]}
    assert doc_set.selection.total == counts["total"]


def test_building_needs_the_office_details_of_the_run_county(screened_window, qtbot, errors):
    window = screened_window
    view = window.documents_view
    window.show_view("documents")
    choose(view)
    assert view.build() is None
    assert errors and "Fill in the office details first" in errors[-1] and "District Attorney" in errors[-1]
    assert view.load_office_file(DEMO_OFFICE)
    view.office_edits["county"].setText("Yolo")
    assert view.save_office_field("county")
    assert view.build() is None
    assert "Yolo County" in errors[-1] and "SACRAMENTO" in errors[-1]
    view.office_edits["county"].setText("Sacramento")
    assert view.save_office_field("county")
    view.posture.setCurrentIndex(view.posture.findData("doj_list"))
    assert view.build() is None and "date the list was received" in errors[-1]
    assert not window.session.runner.busy


def test_a_decision_after_building_asks_for_a_new_build(screened_window, qtbot, errors):
    window = screened_window
    view = window.documents_view
    assert view.load_office_file(DEMO_OFFICE)
    window.show_view("documents")
    build(qtbot, window, errors)
    assert view.save_button.isEnabled() and view.print_button.isEnabled()
    cid = window.session.run.results.filter(pl.col("outcome") == "dismiss").item(0, "conviction_id")
    window.session.decide(cid, "defer", reason="check the docket")
    assert not view.save_button.isEnabled() and not view.print_button.isEnabled()
    assert "decisions changed" in view.status.text()
    counts = wait_counts(qtbot, view)
    assert counts["left_out"]["defer"] == 1
    build(qtbot, window, errors)
    assert view.save_button.isEnabled()


def test_cancel_stops_the_build(screened_window, qtbot, errors):
    window = screened_window
    view = window.documents_view
    assert view.load_office_file(DEMO_OFFICE)
    choose(view)
    task = view.build()
    cancelled = []
    task.cancelled.connect(lambda: cancelled.append(True))
    view.progress.cancel_button.click()
    wait_idle(qtbot, window.session)
    assert cancelled and view.doc_set is None and not errors


@pytest.mark.parametrize("field_id, value", [("phone", "555"), ("email", "a@b"), ("court", "Sacramento"),
                                             ("district_attorney", "two\nlines")])
def test_office_field_rules(field_id, value):
    from clearrec_desktop.gui.session import office_field_problem

    assert office_field_problem(field_id, value)
    assert office_field_problem(field_id, "") == ""
