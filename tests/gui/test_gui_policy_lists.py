"""The Policy view shows the code-section lists the chosen profile screens with (issue 11), and
the case detail highlights every evidence row, including another subject id's (issue 19)."""

from __future__ import annotations

import polars as pl
from builders import Person, write_extract

from clearrec_desktop.core.ingest import importer
from clearrec_desktop.core.screen import code_lists, profiles, screening
from clearrec_desktop.gui.main_window import MainWindow
from clearrec_desktop.gui.views.review import history_frame


def test_policy_view_lists_every_entry_with_citation_and_description(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    policy = window.policy_view
    policy.profile.setCurrentIndex(policy.profile.findData("statutory"))
    names = [policy.list_choice.itemData(i) for i in range(policy.list_choice.count())]
    assert names == ["super-strikes", "pc290"]
    for name in names:
        policy.list_choice.setCurrentIndex(policy.list_choice.findData(name))
        lst = code_lists.load_list(name)
        frame = policy.list_model.frame()
        assert frame.height == len(lst) == policy.list_model.rowCount()
        assert frame.filter((pl.col("citation") == "") | (pl.col("description") == "")).height == 0
        assert str(len(lst)) in policy.list_source.text() and name in policy.list_source.text()
    policy.list_choice.setCurrentIndex(policy.list_choice.findData("super-strikes"))
    row = policy.list_model.frame().filter(pl.col("code_section") == "PC 653f(b)").row(0, named=True)
    assert row["description"].startswith("Solicitation to commit murder") and "(V)" in row["citation"]
    gang = policy.list_model.frame().filter(pl.col("code_section") == "PC 215").row(0, named=True)
    assert "PC 186.22(b)(4)" in gang["conditions"]
    # a profile with related charges shows its related-charge list too
    policy.profile.setCurrentIndex(policy.profile.findData("san-francisco-2018"))
    assert policy.list_choice.findData("related-sf-plea") >= 0
    assert "super strikes" in policy.rules.toPlainText() and "entries; read" in policy.rules.toPlainText()
    window.close()


def test_history_highlights_evidence_rows_of_another_subject(tmp_path):
    people = [Person("1", "TWIN,PAT", dob="19700101").conviction("20000101", "11359 HS"),
              Person("2", "TWIN,PAT", dob="19700101").conviction("19950101", "459 PC")]
    path = write_extract(tmp_path / "x.csv", *people)
    rows, _ = importer.import_files([path])
    prof = profiles.parse_profile({"id": "p", "title": "p", "rules": [
        {"id": "dup", "when": ["possible_duplicate_person"], "outcome": "review", "reason": "r", "basis": "b"}]}, "p.toml")
    res = screening.screen(rows, county="SACRAMENTO", as_of=__import__("datetime").date(2026, 11, 1), profile=prof)
    r = res.filter(pl.col("subject_id") == "1").row(0, named=True)
    frame = history_frame(rows, "1", r["count_key"], r["court_case_number"], r["evidence"])
    assert set(frame.filter(pl.col("_hl"))["_ref"]) == set(r["evidence"].split(";"))
    assert "2" in set(frame["subject_id"])
