"""Reconciliation of a hand-built DOJ extract with a hand-built county export: every kind of
difference the linker must tolerate or report, the three lists, their screening, and the
clerk's confirmations and splits surviving a re-import (issue 15)."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
import pytest

from clearrec_desktop.core.demo_county import HEADER, MAPPING_TOML
from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.reconcile import lists
from clearrec_desktop.core.reconcile.linkage import LinkDecision, person_key
from clearrec_desktop.core.reconcile.run import run_reconcile
from clearrec_desktop.core.screen import profiles
from clearrec_desktop.core.workspace import links as ws_links
from clearrec_desktop.core.workspace.store import Workspace
from builders import Person, write_extract

AS_OF = date(2025, 1, 1)
HS59 = "11359 HS-POSSESS MARIJUANA FOR SALE"


def _doj_people():
    return [
        Person("100", "ALVAREZ,MARIA L", "19700305")
        .conviction("19980602", HS59, ofn="98F01234")
        .conviction("20020401", "11357(B) HS-POSSESS MARIJUANA", level="MISDEMEANOR", ofn="02M05555"),
        Person("200", "BRENNAN-SMITH,JOE", "19650120")
        .conviction("19900101", "187(A) PC-MURDER", county="LOS ANGELES", ofn="90F00001", sentences=(("PRISON", "25", "Y"),))
        .conviction("19950510", "11360(A) HS-SELL/TRANSPORT MARIJUANA", ofn="95F00011"),
        Person("300", "CHO,LINDA", "19720909")
        .conviction("19970303", HS59, ofn="97F00022")
        .conviction("19990404", "11358 HS-CULTIVATE MARIJUANA", ofn="99F00033")
        .conviction("20010505", "11357(C) HS-POSSESS MARIJUANA OVER 1 OZ", level="MISDEMEANOR", ofn="01M00044")
        .conviction("20030606", HS59, ofn="03F00055", disp="DISMISSED/CHARGE DROPPED", sentences=None),
        Person("600", "FARNSBY,OLGA", "19750606").conviction("19960707", "11358 HS-CULTIVATE MARIJUANA", ofn="NULL"),
        Person("700", "GARRISON,KIM", "19800808", cii="A7000000")
        .conviction("20040808", "11357(B) HS-POSSESS MARIJUANA", level="MISDEMEANOR", ofn="04M00099"),
        Person("800", "HOLLOWAY,TESS", "19680412").conviction("19930315", HS59, ofn="93F00111"),
        Person("900", "IRVING,SAM", "19700101").conviction("19880808", "11360(A) HS-SELL/TRANSPORT MARIJUANA", ofn="88F00133"),
    ]


# Party, case, name, DOB, CII, charge, level, disposition, date
COUNTY = [
    ("CMS1", "1998-F-01234", "MARIA L ALVAREZ", "05/03/1970", "", "11359 H&S", "FEL", "Convicted", "06/02/1998"),
    ("CMS1", "05M07777", "MARIA L ALVAREZ", "05/03/1970", "", "11357(c) HS", "MISD", "Guilty Plea", "02/02/2005"),
    ("CMS2", "95F00011", "BRENAN SMITH, JOE", "01/20/1965", "", "11359 HS", "FEL", "Convicted", "05/10/1995"),
    ("CMS2", "00F00012", "BRENAN SMITH, JOE", "01/20/1965", "", "11359 HS", "FEL", "Convicted", "03/03/2000"),
    ("CMS3", "97F00022", "CHO, LINDA", "09/09/1972", "A300", "11359 HS", "M", "Convicted", "03/03/1997"),
    ("CMS3", "99F00033", "CHO, LINDA", "09/09/1972", "A300", "11358 HS", "F", "Convicted", "01/10/2000"),
    ("CMS3", "01M00044", "CHO, LINDA", "09/09/1972", "A300", "11357(c) HS", "M", "Dismissed", "05/05/2001"),
    ("CMS3", "03F00055", "CHO, LINDA", "09/09/1972", "A300", "11359 HS", "F", "Convicted", "06/06/2003"),
    ("CMS4", "00M00066", "DUNMORE, RAY", "02/02/1960", "", "11357(b) HS", "M", "Convicted", "07/07/2000"),
    ("CMS5", "01M00077", "ELMSTEAD, MARIA", "03/05/1970", "", "11357(b) HS", "M", "Convicted", "01/01/2001"),
    ("CMS6", "96F00088", "FARNSBY, OLGA", "06/06/1975", "A600", "11358 HS", "F", "Convicted", "07/07/1996"),
    ("CMS7", "04M00099", "WALLACE, KIMBERLY", "08/08/1980", "A7000000", "11357(b) HS", "M", "Convicted", "08/08/2004"),
    ("CMS8", "97F00122", "HOLOWAY, TESS", "12/04/1968", "", "11359 HS", "F", "Convicted", "02/02/1997"),
    ("CMS9", "88F00999", "IRVING, SAM", "01/01/1970", "A900", "11360 HS", "F", "Convicted", "08/08/1988"),
]


def _write_county(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for party, case, name, dob, cii, charge, level, disp, when in rows:
            w.writerow([party, case, name, dob, cii, charge, level, disp, when, "", "Superior Court", "Sacramento", "", ""])
    return path


@pytest.fixture
def files(tmp_path):
    doj = write_extract(tmp_path / "doj.csv", *_doj_people())
    county = _write_county(tmp_path / "county.csv", COUNTY)
    mapping = tmp_path / "county.mapping.toml"
    mapping.write_text(MAPPING_TOML, encoding="utf-8")
    return doj, county, mapping


def _run(files, decisions=(), profile=None):
    doj, county, mapping = files
    return run_reconcile(doj, county, mapping=mapping, county="Sacramento", as_of=AS_OF,
                         profile=profile or profiles.load_profile(), decisions=decisions)


def _row(run, case: str, side: str = "doj") -> dict:
    t = run.reconciliation.table.filter(pl.col(f"{side}_court_case_number") == case)
    assert t.height == 1, (case, t.height)
    row = t.row(0, named=True)
    res = run.results.filter(pl.col("conviction_id") == row["conviction_id"])
    assert res.height == 1
    row["result"] = res.row(0, named=True)
    return row


def _person(run, party: str) -> list[dict]:
    return run.reconciliation.linkage.people.filter(pl.col("c_person") == person_key(party)).to_dicts()


@pytest.fixture
def run(files):
    return _run(files)


# --- people ------------------------------------------------------------------------------------

def test_people_linked_despite_name_order_swapped_birth_date_and_no_cii(run):
    [link] = _person(run, "CMS1")
    assert (link["d_person"], link["status"]) == ("100", "auto")
    assert "dob (day and month swapped)" in link["fields"] and "cii" not in link["fields"].split(";")


def test_people_linked_despite_a_typo_and_a_hyphen_written_as_a_space(run):
    [link] = _person(run, "CMS2")
    assert (link["d_person"], link["status"]) == ("200", "auto")
    assert link["fields"].split(";")[0].startswith("name~")


def test_same_cii_links_a_changed_name(run):
    [link] = _person(run, "CMS7")
    assert link["d_person"] == "700" and link["fields"].startswith("cii")


def test_person_doj_never_had_and_a_look_alike_are_not_linked(run):
    assert _person(run, "CMS4") == []
    assert _person(run, "CMS5") == []  # same birth date and given name as ALVAREZ, MARIA: another person


def test_typo_and_swapped_birth_date_without_cii_or_shared_case_is_only_proposed(run):
    [link] = _person(run, "CMS8")
    assert (link["d_person"], link["status"]) == ("800", "proposed")
    assert 0.8 <= link["score"] < 0.94


# --- convictions and the lists -----------------------------------------------------------------

def test_case_number_written_another_way_links(run):
    row = _row(run, "98F01234")
    assert row["provenance"] == "both" and row["county_court_case_number"] == "1998-F-01234"
    assert row["link_status"] == "auto" and "case number" in row["link_fields"]


def test_doj_only_conviction_asks_for_the_court_file(run):
    row = _row(run, "02M05555")
    assert row["provenance"] == "doj_only" and row["county_source_line"] is None
    assert "not_in_county_records" in row["result"]["flags"]
    assert "find the court file" in row["result"]["reasons"]


def test_missing_case_number_links_on_section_and_date(run):
    row = _row(run, "96F00088", side="county")
    assert row["provenance"] == "both" and row["link_status"] == "auto"
    assert "case number" not in row["link_fields"] and "section" in row["link_fields"]


@pytest.mark.parametrize("case, field, text", [
    ("95F00011", "section", "section HS 11360(a) (DOJ) / HS 11359 (county)"),
    ("97F00022", "level", "level F (DOJ) / M (county)"),
    ("99F00033", "date", "conviction date 1999-04-04 (DOJ) / 2000-01-10 (county)"),
    ("01M00044", "disposition", "disposition convicted (DOJ) / not a conviction (county)"),
])
def test_disagreements_follow_doj_and_name_the_difference(run, case, field, text):
    row = _row(run, case)
    assert row["provenance"] == "both_disagreeing" and row["disagree_on"] == field
    assert text in row["disagreements"]
    res = row["result"]
    assert "sources_disagree" in res["flags"]
    assert text in res["reasons"] and "the outcome follows DOJ's record" in res["reasons"]
    assert res["rules"] != lists.DISAGREE_ID  # DOJ's record was screened as usual


def test_follows_doj_level_not_the_countys(run):
    # DOJ: felony 11359 -> reduce to a misdemeanor; the county's misdemeanor would have been ineligible
    res = _row(run, "97F00022")["result"]
    assert (res["outcome"], res["level"]) == ("reduce", "F")


def test_county_conviction_doj_records_as_dismissed_goes_to_review(run):
    row = _row(run, "03F00055")
    assert row["provenance"] == "both_disagreeing" and row["disagree_on"] == "disposition"
    res = row["result"]
    assert (res["outcome"], res["rules"], res["relief"]) == ("review", lists.DISAGREE_ID, None)
    assert "DOJ's record of the same count does not" in res["reasons"]


def test_misnumbered_case_is_a_proposed_link_not_a_merge(run):
    row = _row(run, "88F00133")
    assert row["provenance"] == "both_disagreeing" and row["link_status"] == "proposed"
    assert row["disagree_on"] == "case_number" and row["county_court_case_number"] == "88F00999"
    assert "link_proposed" in row["result"]["flags"]
    assert run.reconciliation.table.filter(pl.col("county_court_case_number") == "88F00999").height == 1


def test_county_only_conviction_is_screened_with_the_linked_doj_history(run):
    row = _row(run, "00F00012", side="county")
    res = row["result"]
    assert row["provenance"] == "county_only" and res["subject_id"] == "200"
    # the prior murder conviction is in Los Angeles, on DOJ's record only
    assert (res["outcome"], res["rules"]) == ("review", "prior-super-strike")
    assert "statewide_history_unknown" not in res["flags"] and "not_on_doj_list" in res["flags"]
    assert "priors taken from the statewide record of DOJ subject 200" in res["reasons"]
    assert res["conviction_id"].startswith("county:")


def test_county_only_of_a_linked_person_without_priors_gets_relief(run):
    res = _row(run, "05M07777", side="county")["result"]
    assert res["subject_id"] == "100" and "statewide_history_unknown" not in res["flags"]
    assert res["outcome"] == "ineligible"  # 11357(c): possession over 28.5 g is still a misdemeanor


def test_county_only_without_a_doj_person_goes_to_review_unless_the_profile_says_otherwise(run, files):
    res = _row(run, "00M00066", side="county")["result"]
    assert (res["outcome"], res["rules"], res["relief"]) == ("review", lists.GUARD_ID, None)
    assert "statewide history" in res["reasons"] and "dismiss and seal" in res["reasons"]
    assert "statewide_history_unknown" in res["flags"]

    profile = profiles.load_profile()
    profile.options[lists.GUARD_OPTION] = True
    res = _row(_run(files, profile=profile), "00M00066", side="county")["result"]
    assert (res["outcome"], res["relief"]) == ("dismiss", "dismiss_and_seal")
    assert "statewide_history_unknown" in res["flags"]


def test_proposed_person_link_keeps_the_guard_and_says_so(run):
    res = _row(run, "97F00122", side="county")["result"]
    assert res["rules"] == lists.GUARD_ID and "link_proposed" in res["flags"]
    assert "A link to DOJ subject 800 is proposed" in res["reasons"]


def test_counts(run):
    c = run.summary["reconciliation"]
    assert c["lists"] == {"both": 3, "both_disagreeing": 6, "doj_only": 2, "county_only": 5}
    assert (c["county_only_with_doj_history"], c["county_only_history_unknown"]) == (2, 3)
    assert c["disagreements"] == {"case_number": 1, "date": 1, "disposition": 2, "level": 1, "section": 1}
    assert run.results.height == run.reconciliation.table.height == 16
    assert run.results["conviction_id"].n_unique() == 16


# --- the clerk's decisions ---------------------------------------------------------------------

def test_confirming_a_proposed_person_link_brings_in_the_doj_history(files):
    run = _run(files, [LinkDecision("person", person_key("CMS8"), "800", "confirm")])
    [link] = _person(run, "CMS8")
    assert link["status"] == "confirmed"
    res = _row(run, "97F00122", side="county")["result"]
    assert res["subject_id"] == "800" and "statewide_history_unknown" not in res["flags"]
    assert res["outcome"] == "reduce" and "same_section_priors" in res["flags"]


def test_splitting_a_person_link_unlinks_their_convictions(files):
    run = _run(files, [LinkDecision("person", person_key("CMS2"), "200", "split")])
    assert _person(run, "CMS2") == []
    assert _row(run, "95F00011")["provenance"] == "doj_only"
    res = _row(run, "00F00012", side="county")["result"]
    assert res["rules"] == lists.GUARD_ID  # no statewide history any more


def test_decisions_survive_a_reimport_through_the_workspace(files, tmp_path):
    doj, county, mapping = files
    first = _run(files)
    misnumbered = first.reconciliation.linkage.convictions.filter(pl.col("d_rec").str.contains("88F00133")).row(0, named=True)
    agreeing = first.reconciliation.linkage.convictions.filter(pl.col("d_rec").str.contains("98F01234")).row(0, named=True)
    ws = Workspace.create(tmp_path / "w.clearrec", "correct horse battery")
    ws_links.record_link_decision(ws, "conviction", misnumbered["c_rec"], misnumbered["d_rec"], "confirm", reason="same file")
    ws_links.record_link_decision(ws, "conviction", agreeing["c_rec"], agreeing["d_rec"], "split")
    ws_links.record_link_decision(ws, "person", person_key("CMS8"), "800", "confirm")
    ws.close()

    # The county exports again: rows in another order and an older case for ALVAREZ, which
    # renumbers the importer's own case and count numbers for that person.
    older = ("CMS1", "85M00001", "MARIA L ALVAREZ", "05/03/1970", "", "23152(a) VC", "M", "Convicted", "01/01/1985")
    _write_county(county, [older] + list(reversed(COUNTY)))
    ws = Workspace.open(tmp_path / "w.clearrec", "correct horse battery")
    decisions = ws_links.link_decisions(ws)
    assert len(decisions) == 3 and ws.verify_audit()[0]
    assert [e["details"]["decision"] for e in ws.audit_entries("link_decision")] == ["confirm", "split", "confirm"]
    ws.close()
    again = _run(files, decisions)
    assert again.summary["reconciliation"]["link_decisions_applied"] == 3
    conv = again.reconciliation.linkage.convictions
    assert conv.filter((pl.col("c_rec") == misnumbered["c_rec"]) & (pl.col("d_rec") == misnumbered["d_rec"]))["status"].to_list() == ["confirmed"]
    assert conv.filter((pl.col("c_rec") == agreeing["c_rec"]) & (pl.col("d_rec") == agreeing["d_rec"])).height == 0
    assert _row(again, "98F01234")["provenance"] == "doj_only"
    assert _row(again, "1998-F-01234", side="county")["provenance"] == "county_only"
    assert [p["status"] for p in _person(again, "CMS8")] == ["confirmed"]


def test_a_decision_on_records_that_are_gone_is_kept_but_reported(files):
    run = _run(files, [LinkDecision("person", person_key("CMS-GONE"), "100", "confirm")])
    assert run.summary["reconciliation"]["link_decisions_no_longer_apply"] == 1


# --- user mistakes -----------------------------------------------------------------------------

def test_files_the_wrong_way_round(files):
    doj, county, mapping = files
    with pytest.raises(InputError, match="wrong way round"):
        run_reconcile(county, doj, mapping=mapping, county="Sacramento", as_of=AS_OF)


def test_county_not_in_the_county_file(files):
    doj, county, mapping = files
    county.write_text(county.read_text(encoding="utf-8").replace(",Sacramento,", ",Yolo,"), encoding="utf-8")
    with pytest.raises(InputError, match="no rows for county 'Sacramento'"):
        run_reconcile(doj, county, mapping=mapping, county="Sacramento", as_of=AS_OF)
