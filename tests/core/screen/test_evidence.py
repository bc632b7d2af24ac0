"""Issue 19 point 1: every condition of every rule names the record rows that decided it.

The test walks the condition vocabulary as docs/profiles.md documents it: for each condition a
hand-built record and a one-rule profile using it; the rule must decide, and the conviction's
``evidence`` must list the rows it used (the count's own rows, and for conditions that look at
other records, those records' rows), with their dates in the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from builders import Person, line_of
from screen_helpers import AS_OF, court_ref, one, profile_from, screen, step_ref

from clearrec_desktop.core.screen import profiles as screen_profiles

DOC = Path(__file__).resolve().parents[3] / "docs" / "profiles.md"


def documented_conditions() -> list[str]:
    names = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `([a-z0-9_]+)", line)
        if m and m.group(1) in screen_profiles.PREDICATES:
            names.append(m.group(1))
    return names


def probe(cond: str) -> str:
    return f'''id = "probe"
title = "probe"
[[rules]]
id = "probe"
when = [{cond!r}]
outcome = "review"
reason = "Probe."
basis = "test"
[[rules]]
id = "rest"
when = ["always"]
outcome = "ineligible"
reason = "Rest."
basis = "test"
'''.replace("'", '"').replace('"HS 11357(a)"', '\\"HS 11357(a)\\"')


SALE = "11359 HS-POSS FOR SALE"


def dup_people():
    return [Person("1", "TWIN,PAT", dob="19700101").conviction("20000101", SALE),
            Person("2", "TWIN,PAT", dob="19700101").conviction("19950101", "459 PC-BURGLARY")]


def related_cycle():
    p = Person("1").conviction("20000101", SALE)
    plea = [dict(r) for r in p.rows if r["STP_ORDER"] == "002"]
    for r in plea:
        r["CNT_ORDER"] = "001002002000"
        r["OFFENSE_DESCR"] = "11364 HS-PARAPHERNALIA"
        r["CONV_STAT_DESCR"] = "MISDEMEANOR"
    p.rows.extend(plea)
    return [p]


# condition text -> (people, the row text of the screened count, decider rule,
#                    other rows it must cite as (needle, kind), extra match on the result row)
CASES = {
    "always": ("always", lambda: [Person("1").conviction("20000101", SALE)], SALE, "probe", []),
    "date_unknown": ("date_unknown", lambda: [Person("1").conviction("", SALE)], SALE, "guard-date-unknown", []),
    "convicted_on_or_after": ("convicted_on_or_after(1999-01-01)", lambda: [Person("1").conviction("20000101", SALE)], SALE, "probe", []),
    "convicted_before": ("convicted_before(2001-01-01)", lambda: [Person("1").conviction("20000101", SALE)], SALE, "probe", []),
    "qualifier": ("qualifier", lambda: [Person("1").conviction("20000101", "664/11359 HS")], "664/11359", "probe", []),
    "attempt": ("attempt", lambda: [Person("1").conviction("20000101", "664/11359 HS")], "664/11359", "probe", []),
    "conspiracy": ("conspiracy", lambda: [Person("1").conviction("20000101", "182(A)(1) PC/11360 HS")], "182(A)(1)", "probe", []),
    "felony": ("felony", lambda: [Person("1").conviction("20000101", SALE)], SALE, "probe", []),
    "misdemeanor": ("misdemeanor", lambda: [Person("1").conviction("20000101", SALE, level="MISDEMEANOR")], SALE, "probe", []),
    "infraction": ("infraction", lambda: [Person("1").conviction("20000101", "11357(B) HS", level="INFRACTION")], "11357(B)", "probe", []),
    "level_unknown": ("level_unknown", lambda: [Person("1").conviction("20000101", SALE, level="", toc="")], SALE, "probe", []),
    "section": ("section(11359)", lambda: [Person("1").conviction("20000101", SALE)], SALE, "probe", []),
    "code_section": ('code_section("HS 11357(a)")', lambda: [Person("1").conviction("20000101", "11357(A) HS")], "11357(A)", "probe", []),
    "wrong_code_letter": ("wrong_code_letter", lambda: [Person("1").conviction("20000101", "11359 PC")], "11359 PC", "guard-wrong-code", []),
    "prior_super_strike": ("prior_super_strike", lambda: [Person("1").conviction("19900101", "187 PC-MURDER").conviction("20000101", SALE)],
                           SALE, "probe", [("187 PC-MURDER", "court")]),
    "prior_pc290": ("prior_pc290", lambda: [Person("1").conviction("19900101", "243.4 PC-SEXUAL BATTERY")
                                            .step("19910101", "REGISTRATION", "290 PC-REGISTRATION").conviction("20000101", SALE)],
                    SALE, "probe", [("243.4 PC", "court"), ("REGISTRATION", "step")]),
    "prior_pc290_conviction": ("prior_pc290_conviction", lambda: [Person("1").conviction("19900101", "243.4 PC-SEXUAL BATTERY")
                                                                  .conviction("20000101", SALE)], SALE, "probe", [("243.4 PC", "court")]),
    "prior_pc290_registration": ("prior_pc290_registration", lambda: [Person("1").step("19910101", "REGISTRATION", "290 PC-REGISTRATION")
                                                                      .conviction("20000101", SALE)], SALE, "probe", [("REGISTRATION", "step")]),
    "disqualifier_date_unknown": ("disqualifier_date_unknown", lambda: [Person("1").conviction("", "187 PC-MURDER").conviction("20000101", SALE)],
                                  SALE, "probe", [("187 PC-MURDER", "court")]),
    "same_section_priors_at_least": ("same_section_priors_at_least(1)",
                                     lambda: [Person("1").conviction("19900101", "11359 HS-FIRST").conviction("20000101", SALE)],
                                     SALE, "probe", [("11359 HS-FIRST", "court")]),
    "convictions_on_record_at_least": ("convictions_on_record_at_least(2)",
                                       lambda: [Person("1").conviction("20000101", SALE).conviction("20190101", "273.5(A) PC-CORPORAL INJ")],
                                       SALE, "probe", [("273.5(A) PC", "court")]),
    "no_conviction_within_years": ("no_conviction_within_years(10)",
                                   lambda: [Person("1").conviction("20000101", SALE).conviction("20050101", "459 PC-BURGLARY")],
                                   SALE, "probe", [("459 PC-BURGLARY", "court")]),
    "conviction_older_than_years": ("conviction_older_than_years(10)", lambda: [Person("1").conviction("20000101", SALE)], SALE, "probe", []),
    "age_now_at_least": ("age_now_at_least(50)", lambda: [Person("1", dob="19600101").conviction("20000101", SALE)], SALE, "probe", []),
    "age_at_conviction_under": ("age_at_conviction_under(30)", lambda: [Person("1", dob="19800101").conviction("20000101", SALE)],
                                SALE, "probe", []),
    "age_at_offence_under": ("age_at_offence_under(30)", lambda: [Person("1", dob="19800101").conviction("20000101", SALE)],
                             SALE, "probe", []),
    "age_unknown": ("age_unknown", lambda: [Person("1", dob="").conviction("20000101", SALE)], SALE, "probe", []),
    "only_cannabis_convictions": ("only_cannabis_convictions",
                                  lambda: [Person("1").conviction("19950101", "11357(B) HS-POSS").conviction("20000101", SALE)],
                                  SALE, "probe", [("11357(B) HS-POSS", "court")]),
    "sentence_completed": ("sentence_completed", lambda: [Person("1").conviction("20000101", SALE)], SALE, "probe", []),
    "still_serving": ("still_serving", lambda: [Person("1").conviction("20000101", SALE, sentences=(("PRISON", "30", "Y"),))],
                      SALE, "probe", []),
    "sentence_unknown": ("sentence_unknown", lambda: [Person("1").conviction("20000101", SALE, sentences=None)], SALE, "probe", []),
    "all_sentences_completed": ("all_sentences_completed",
                                lambda: [Person("1").conviction("19950101", "459 PC-BURGLARY").conviction("20000101", SALE)],
                                SALE, "probe", [("459 PC-BURGLARY", "court")]),
    "deceased": ("deceased", lambda: [Person("1").conviction("20000101", SALE).step("20200101", "DECEASED")], SALE, "probe",
                 [("DECEASED", "step")]),
    "other_cannabis_in_comment": ("other_cannabis_in_comment",
                                  lambda: [Person("1").conviction("20000101", SALE, comment="ORIG CHRG 11358 HS")], SALE,
                                  "guard-comment-charge", []),
    "charge_from_comment": ("charge_from_comment",
                            lambda: [Person("1").conviction("20000101", "SEE COMMENT FOR CHARGE", comment="11359 HS-POSS")],
                            "SEE COMMENT", "probe", []),
    # the other subject id is cited by its first row in the file
    "possible_duplicate_person": ("possible_duplicate_person", dup_people, SALE, "probe", [("459 PC-BURGLARY", "first")]),
    "related_charge": ("related_charge(related-sf-plea)", related_cycle, "11364 HS", "probe", []),
    "cycle_has_cannabis_conviction": ("cycle_has_cannabis_conviction", related_cycle, "11364 HS", "probe", [(SALE, "court")]),
}
# negated conditions that look at other records cite the rows that made them false
NEGATED = {
    "no_conviction_within_years": ("not no_conviction_within_years(10)",
                                    lambda: [Person("1").conviction("20000101", SALE).conviction("20190101", "273.5(A) PC-CORPORAL INJ")],
                                    SALE, "probe", [("273.5(A) PC", "court")]),
    "only_cannabis_convictions": ("not only_cannabis_convictions",
                                  lambda: [Person("1").conviction("19950101", "459 PC-BURGLARY").conviction("20000101", SALE)],
                                  SALE, "probe", [("459 PC-BURGLARY", "court")]),
    "all_sentences_completed": ("not all_sentences_completed",
                                lambda: [Person("1").conviction("20200101", "459 PC-BURGLARY", sentences=(("PRISON", "20", "Y"),))
                                         .conviction("20000101", SALE)],
                                SALE, "probe", [("459 PC-BURGLARY", "court")]),
}


def test_every_documented_condition_has_a_case():
    documented = documented_conditions()
    assert set(documented) == set(screen_profiles.PREDICATES), "docs/profiles.md and the vocabulary differ"
    assert set(CASES) == set(documented)


def _check(tmp_path, case):
    cond, people, needle, decider, cited = case
    prof = profile_from(tmp_path, probe(cond))
    if cond.startswith("related_charge") or cond == "cycle_has_cannabis_conviction":
        body = probe(cond).replace(f"when = [\"{cond}\"]", f"when = [\"related_charge(related-sf-plea)\", \"{cond}\"]")
        prof = profile_from(tmp_path, body)
    res, path = screen(tmp_path, *people(), profile=prof)
    own = court_ref(path, needle)
    r = one(res, source_line=int(own.split(":")[1]))
    assert r["rules"] == decider, (cond, r["rules"], r["reasons"])
    evidence = r["evidence"].split(";")
    assert own in evidence, (cond, evidence)
    for text, kind in cited:
        ref = {"court": court_ref, "step": step_ref, "first": lambda p, t: f"{p.name}:{line_of(p, t)}"}[kind](path, text)
        assert ref in evidence, (cond, ref, evidence)
        assert ref in r["reasons"], (cond, "the reason names the row", r["reasons"])
    if screen_profiles.PREDICATES[cond.split("(")[0].removeprefix("not ")].evidence:
        assert "Evidence: " in r["reasons"]
    return r


@pytest.mark.parametrize("name", sorted(CASES))
def test_condition_cites_the_rows_that_decided_it(tmp_path, name):
    _check(tmp_path, CASES[name])


@pytest.mark.parametrize("name", sorted(NEGATED))
def test_negated_condition_cites_the_rows_that_decided_it(tmp_path, name):
    _check(tmp_path, NEGATED[name])


def test_sacramento_reduce_cites_the_recent_conviction(tmp_path):
    """Issue 19's case: Sacramento "more than one conviction on record, one within ten years" must
    cite the 2019 PC 273.5 conviction that decided it, with its date, and not only the count itself."""
    p = Person("1").conviction("20140217", "11359 HS-POSS FOR SALE").conviction("20190305", "273.5(A) PC-CORPORAL INJ SPOUSE")
    res, path = screen(tmp_path, p, profile="sacramento-2019")
    r = one(res, code_section="HS 11359")
    assert (r["outcome"], r["rules"]) == ("reduce", "several-recent")
    ref = court_ref(path, "273.5(A) PC")
    assert ref in r["evidence"].split(";")
    assert f"PC 273.5(a) on 2019-03-05 ({ref})" in r["reasons"]


def test_results_csv_and_the_workbook_carry_the_deciding_rows(tmp_path):
    """The evidence of a record-wide condition reaches results.csv and the exported workbook."""
    import csv

    from builders import write_extract
    from openpyxl import load_workbook

    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.outputs.exports import export_from_dir
    from clearrec_desktop.core.screen import profiles

    p = Person("1").conviction("20140217", "11359 HS-POSS FOR SALE").conviction("20190305", "273.5(A) PC-CORPORAL INJ SPOUSE")
    path = write_extract(tmp_path / "extract.csv", p)
    ref = court_ref(path, "273.5(A) PC")
    run = pipeline.run_screen([path], county="SACRAMENTO", as_of=AS_OF, profile=profiles.load_profile("sacramento-2019"))
    out = tmp_path / "out"
    pipeline.write_outputs(run, out)
    with open(out / "results.csv", newline="", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert ref in row["evidence"].split(";") and row["relief_basis"] == "statute_redesignation"
    xlsx = tmp_path / "review.xlsx"
    export_from_dir(out, xlsx=xlsx)
    wb = load_workbook(xlsx, read_only=True)
    cells = [str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if c]
    assert any(ref in c.split(";") for c in cells) and "statute_redesignation" in cells
