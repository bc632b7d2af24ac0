"""After filing in the desktop app (issue 16): build and record a filing -> import the court's
ruling file (granted, denied and unmatched rows) -> statuses and counts -> Lookup finds a person
by a misspelled name -> the status letter PDF, read back: the right convictions, no other record."""

from __future__ import annotations

import csv
import io
from datetime import date

import pdfplumber
from gui_helpers import wait_idle

from clearrec_desktop.core.outputs import court_update
from clearrec_desktop.core.outputs import filing as outputs_filing
from clearrec_desktop.core.safety import resource_path


def _result(qtbot, task):
    box: list = []
    task.succeeded.connect(box.append)
    task.failed.connect(lambda m, d: box.append(AssertionError(m)))
    qtbot.waitUntil(lambda: bool(box), timeout=60000)
    if isinstance(box[0], Exception):
        raise box[0]
    return box[0]


def test_filing_rulings_statuses_lookup_and_letter(screened_window, qtbot, errors, tmp_path):
    window = screened_window
    session = window.session
    assert window.lookup_view in [window.view(k) for k in window.view_keys()]
    assert window.documents_view.load_office_file(resource_path("demo/office.toml"))
    doc_set = _result(qtbot, session.build_documents(options=outputs_filing.FilingOptions(posture="supplemental")))
    wait_idle(qtbot, session)
    filing_id = _result(qtbot, session.record_filing(doc_set, court="Superior Court, Sacramento",
                                                     filed_on=date(2026, 11, 2)))
    wait_idle(qtbot, session)
    (filing,) = session.filings()
    assert filing["filing_id"] == filing_id and filing["audit_head_printed"] == doc_set.request.audit_head
    assert {f["name"] for f in filing["files"]} == set(doc_set.file_names)

    # the court returns the update file: two denied, the rest granted, one row of another case
    update = court_update.court_update_rows(doc_set.selection)
    text = court_update.court_update_csv(update).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0] + ["ruling"]
    body = [r + ["denied" if k < 2 else "granted"] for k, r in enumerate(rows[1:])]
    at = header.index("order_date")
    for r in body:
        r[at] = "2026-12-01"
    stranger = [""] * len(header)
    stranger[header.index("court_case_number")], stranger[at], stranger[-1] = "99F00000", "2026-12-01", "granted"
    path = tmp_path / "returned.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *body, stranger])
    result = _result(qtbot, session.import_rulings(path))
    wait_idle(qtbot, session)
    assert result.recorded == len(body) and result.by_ruling["denied"] == 2
    assert [u["case"] for u in result.unmatched] == ["99F00000"]

    box: list = []
    assert session.statuses(box.append, lambda m, d: box.append(m), waiting_days=30)
    qtbot.waitUntil(lambda: bool(box), timeout=60000)
    counts = box[0]["counts"]
    assert counts["ruled"] == len(body) and counts["filed"] == 0
    assert counts["screened"] + counts["decided"] + counts["ruled"] == session.run.results.height

    # Lookup: a granted dismissal's person, by a misspelled name
    granted = next(dict(zip(header, r)) for r in body[2:] if r[header.index("action")].startswith("dismiss"))
    name = granted["name"]
    view = window.lookup_view
    window.show_view("lookup")
    view.name.setText(name[:2] + ("Q" if name[2] != "Q" else "X") + name[3:])
    view.reason.setText("caller asked about the record")
    view.search_button.click()
    qtbot.waitUntil(lambda: bool(view.people), timeout=60000)
    wait_idle(qtbot, session)
    assert view.people[0]["name"] == name
    top = view.tree.topLevelItem(0)
    cases = [top.child(i).text(0) for i in range(top.childCount())]
    assert f"Case {granted['court_case_number']}" in cases
    assert any("granted as asked" in top.child(i).text(2) for i in range(top.childCount()))
    letter = tmp_path / "letter.pdf"
    view.save_letter(letter)
    qtbot.waitUntil(lambda: letter.exists(), timeout=60000)
    wait_idle(qtbot, session)
    with pdfplumber.open(letter) as doc:
        text = " ".join(" ".join((p.extract_text() or "").split()) for p in doc.pages)
    mine = {c["court_case_number"] for c in view.people[0]["convictions"]}
    assert all(case in text for case in mine) and "deemed never to have occurred" in text
    others = {dict(zip(header, r))["court_case_number"] for r in body} - mine
    assert not [c for c in others if c in text]
    assert granted["dob"] not in text and granted["cii_number"] not in text
    actions = [e["action"] for e in session.workspace.audit_entries()]
    assert {"filing_recorded", "rulings_imported", "lookup", "status_letter"} <= set(actions)
    assert not errors
