"""Issue 11, "the law, exactly": one hand-worked case (or a few) per point, each test naming the
statute it pins, and the property that an undated disqualifier never lets a felony through.

prop64-rules.md is the reference: sections Super strikes, PC 290(c) registrable offences, Remedy
by offence, Guards shared by every profile.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from builders import Person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from screen_helpers import SHIPPED, court_ref, one, screen

from clearrec_desktop.core.screen import code_lists
from clearrec_desktop.core.screen import profiles as screen_profiles

FELONY_11358 = "11358 HS-CULTIVATE MARIJUANA"


def prior_then_cultivation(prior: str, *, dob="19600101", sid="1", prior_date="19850101") -> Person:
    return Person(sid, dob=dob).conviction(prior_date, prior).conviction("19900101", FELONY_11358)


# --- point 1: offences punishable by life or death are super strikes --------------------------

@pytest.mark.parametrize("prior", [
    "37 PC-TREASON", "128 PC-PERJURY CAUSING EXECUTION", "205 PC-AGGRAVATED MAYHEM", "217.1(B) PC-ATT MURDER OFFICIAL",
    "220(B) PC-ASLT W/INT RAPE DURING BURGLARY", "273AB PC-ASSAULT CHILD CAUSING DEATH", "451.5 PC-AGGRAVATED ARSON",
    "209(B)(1) PC-KIDNAP FOR ROBBERY", "4500 PC-ASLT BY LIFE PRISONER", "18745 PC-EXPLODE DEVICE W/INT MURDER",
])
def test_point1_life_offences_are_super_strikes_PC_667e2Civ_VIII(tmp_path, prior):
    """PC 667(e)(2)(C)(iv)(VIII): a serious or violent felony punishable by life or death is a super
    strike, so a prior one can keep a felony 11358 a felony (HS 11358(d)(1)). The issue's case: a
    prior PC 205 got dismiss; it is review under the statute and ineligible under Los Angeles 2020."""
    res, _ = screen(tmp_path, prior_then_cultivation(prior))
    r = one(res, code_section="HS 11358")
    assert (r["outcome"], r["rules"]) == ("review", "prior-super-strike")
    assert "prior_super_strike" in r["flags"]
    res, _ = screen(tmp_path, prior_then_cultivation(prior), profile="los-angeles-2020")
    assert one(res, code_section="HS 11358")["outcome"] == "ineligible"


@pytest.mark.parametrize("records,is_super", [
    # the gang enhancement PC 186.22(b)(4) on the same count ...
    ([("19850101", "215 PC/186.22(B)(4) PC-CARJACKING FOR GANG")], True),
    ([("19850101", "246 PC-SHOOT INHABITED DWELLING", "GANG ENH 186.22(B)(4) PC")], True),
    # ... or as a conviction in the same arrest cycle (a second count of the same case)
    ([("19850101", "215 PC-CARJACKING", "186.22(B)(4) PC-GANG ENHANCEMENT")], True),
    ([("19850101", "136.1(A) PC-DISSUADE WITNESS", "186.22(B)(4)(C) PC-GANG ENHANCEMENT")], True),
    ([("19850101", "213(A)(1)(A) PC-ROBBERY IN CONCERT", "186.22(B)(4) PC-GANG")], True),
    # without it, or with another gang enhancement, or with it in another cycle: not a super strike
    ([("19850101", "215 PC-CARJACKING")], False),
    ([("19850101", "215 PC-CARJACKING", "186.22(B)(1) PC-GANG ENHANCEMENT")], False),
    ([("19850101", "215 PC-CARJACKING"), ("19860101", "186.22(B)(4) PC-GANG ENHANCEMENT")], False),
])
def test_point1_gang_enhanced_offences_PC_186_22b4(tmp_path, records, is_super):
    """PC 667(e)(2)(C)(iv)(VIII) with PC 186.22(b)(4): carjacking, home-invasion robbery in concert,
    shooting at a dwelling, witness intimidation, extortion and PC 12022.55 carry an indeterminate life
    term with the gang enhancement, on the same count or in the same case."""
    p = Person("1", dob="19600101")
    for rec in records:
        if len(rec) == 3 and "GANG ENH " in rec[2]:
            p.conviction(rec[0], rec[1], comment=rec[2])
        elif len(rec) == 3:
            p.conviction(rec[0], rec[1])
            second = [dict(r) for r in p.rows if r["CYC_ORDER"] == f"{p.cycle:03d}" and r["STP_ORDER"] == "002"]
            for r in second:
                r["CNT_ORDER"] = r["CNT_ORDER"][:6] + "002000"
                r["OFFENSE_DESCR"] = rec[2]
            p.rows.extend(second)
        else:
            p.conviction(rec[0], rec[1])
    p.conviction("19900101", FELONY_11358)
    res, _ = screen(tmp_path, p)
    r = one(res, code_section="HS 11358")
    assert (r["rules"] == "prior-super-strike") is is_super, r["reasons"]


@pytest.mark.parametrize("prior", ["237 PC-FALSE IMPRISONMENT", "1203.4 PC-EXPUNGEMENT", "2205 PC-OTHER", "2187 PC-OTHER",
                                   "187.5 PC-OTHER", "128.5 PC-OTHER"])
def test_point1_sections_match_whole_numbers(tmp_path, prior):
    """A section is matched on its number, not as a substring (prop64-rules.md): 237 is not 37,
    1203.4 is not 203, 2205 is not 205, 187.5 is not 187."""
    res, _ = screen(tmp_path, prior_then_cultivation(prior))
    r = one(res, code_section="HS 11358")
    assert (r["outcome"], r["rules"]) == ("dismiss", "remedy")
    assert "prior_super_strike" not in r["flags"] and "prior_pc290" not in r["flags"]


def test_point1_lists_are_data_with_citation_and_description():
    """Both lists ship as data, one entry per section and subsection, each citing the statute."""
    ss, p290 = code_lists.load_list("super-strikes"), code_lists.load_list("pc290")
    for lst in (ss, p290):
        assert all(e.citation and e.description for e in lst.entries)
        assert lst.frame.columns == ["code_section", "description", "citation", "conditions"]
    sections = {e.code_section for e in ss.entries}
    assert {"PC 37", "PC 128", "PC 205", "PC 217.1(b)", "PC 220(b)", "PC 273ab", "PC 451.5", "PC 653f(b)",
            "PC 136.1", "PC 213(a)(1)(a)", "PC 215", "PC 246", "PC 519", "PC 12022.55"} <= sections
    gang = {e.section for e in ss.entries if e.requires == "PC 186.22(b)(4)"}
    assert gang == {"136.1", "213", "215", "246", "519", "12022.55"}
    assert all("PC 667(e)(2)(C)(iv)" in e.citation for e in ss.entries)
    assert all("PC 290" in e.citation for e in p290.entries)


# --- point 2: PC 653f by subdivision, PC 220, PC 451.5 -----------------------------------------

@pytest.mark.parametrize("prior,kind", [
    ("653F(A) PC-SOLICIT CRIME", None), ("653F(D) PC-SOLICIT DRUG OFFENSE", None), ("653F(E) PC-SOLICIT", None),
    ("653F(B) PC-SOLICIT MURDER", "super"), ("653F(C) PC-SOLICIT RAPE BY FORCE", "pc290"),
    ("220 PC-ASSAULT TO COMMIT RAPE", "pc290"), ("220(A)(1) PC-ASLT W/INT COMMIT MAYHEM", None),
    ("220(A)(1) PC-ASLT W/INT MAYHEM/RAPE", "pc290"), ("451.5 PC-AGGRAVATED ARSON", "super"),
    ("451 PC-ARSON", None),
])
def test_point2_653f_by_subdivision_220_except_mayhem_4515_PC_290c_and_667e2Civ(tmp_path, prior, kind):
    """PC 667(e)(2)(C)(iv)(V): only PC 653f(b) (solicitation of murder) is a super strike; PC 290(c)(1):
    only 653f(c) registers, and PC 220 registers "except assault to commit mayhem"; PC 451.5 is a
    super strike under (VIII), not a PC 290 offence."""
    res, _ = screen(tmp_path, prior_then_cultivation(prior))
    r = one(res, code_section="HS 11358")
    flags = r["flags"].split(";")
    assert ("prior_super_strike" in flags) is (kind == "super")
    assert ("prior_pc290" in flags) is (kind == "pc290")
    expected = {"super": "prior-super-strike", "pc290": "prior-pc290", None: "remedy"}[kind]
    assert r["rules"] == expected


def test_point2_653f_without_subdivision_is_flagged_not_decided(tmp_path):
    """A PC 653f conviction with no subdivision recorded may or may not be 653f(b)/(c): the flag
    asks for the court file; it decides nothing by itself."""
    res, _ = screen(tmp_path, prior_then_cultivation("653F PC-SOLICIT"))
    r = one(res, code_section="HS 11358")
    assert r["rules"] == "remedy" and "disqualifier_subsection_unknown" in r["flags"]


# --- point 3: 18, 19 or 20 at the offence ----------------------------------------------------

@pytest.mark.parametrize("descr,dob,outcome,relief,cite", [
    ("11357(A) HS-POSS CONCENTRATED CANNABIS", "19700601", "reduce", "reduce_to_infraction", "HS 11357(a)(2)"),  # 19
    ("11357(A) HS-POSS CONCENTRATED CANNABIS", "19690602", "reduce", "reduce_to_infraction", "HS 11357(a)(2)"),  # 20
    ("11358 HS-CULTIVATE", "19720101", "reduce", "reduce_to_infraction", "HS 11358(b)"),                         # 18
    ("11358 HS-CULTIVATE", "19690602", "reduce", "reduce_to_infraction", "HS 11358(b)"),                         # 20
    ("11357(A) HS-POSS CONCENTRATED CANNABIS", "19690601", "dismiss", "dismiss_and_seal", "HS 11362.1"),        # 21 that day
    ("11358 HS-CULTIVATE", "19690101", "dismiss", "dismiss_and_seal", "HS 11362.1"),                            # 21
    ("11358 HS-CULTIVATE", "19730101", "reduce", "reduce_to_infraction", "WIC 602"),                            # 17: juvenile
])
def test_point3_felony_11357a_and_11358_at_18_to_20_redesignated_infraction_HS_11357a2_11358b(tmp_path, descr, dob, outcome, relief, cite):
    """HS 11357(a)(2) and 11358(b): possessing up to 8 g of concentrate or cultivating up to six
    plants at 18-20 is an infraction (HS 11362.1 makes it lawful only from 21): redesignate as an
    infraction, never dismiss. Offence on 1990-06-01."""
    res, _ = screen(tmp_path, Person("1", dob=dob).conviction("19900601", descr))
    r = one(res)
    assert (r["outcome"], r["relief"]) == (outcome, relief)
    assert cite in r["citations"] or cite in r["reasons"]
    if outcome == "reduce":
        assert "infraction" in r["reasons"]


# --- point 4: 11360(b) at 21 or older ----------------------------------------------------------

@pytest.mark.parametrize("descr,level,dob,outcome,relief", [
    ("11360(B) HS-GIVE/TRANSPORT 1 OZ", "INFRACTION", "19600101", "dismiss", "dismiss_and_seal"),
    ("11360(B) HS-GIVE/TRANSPORT 1 OZ", "MISDEMEANOR", "19600101", "dismiss", "dismiss_and_seal"),
    ("11360(B)HS", "INFRACTION", "19600101", "dismiss", "dismiss_and_seal"),
    ("11360(B) HS", "MISDEMEANOR", "19710101", "reduce", "reduce_to_infraction"),   # 19
    ("11360(B) HS", "INFRACTION", "19710101", "ineligible", None),                  # 19, already an infraction
])
def test_point4_11360b_by_21_or_older_dismissed_HS_11362_1(tmp_path, descr, level, dob, outcome, relief):
    """HS 11362.1(a)(1): giving away or transporting up to 28.5 g is lawful at 21+, so an 11360(b)
    infraction or misdemeanor is dismissed and sealed, not "already at the new-law level"."""
    res, _ = screen(tmp_path, Person("1", dob=dob).conviction("19900601", descr, level=level))
    r = one(res)
    assert (r["outcome"], r["relief"]) == (outcome, relief)
    if outcome == "dismiss":
        assert r["relief_basis"] == "statute_dismissal"


# --- point 5: undated disqualifiers block relief in every profile that looks at them ----------

@pytest.mark.parametrize("profile", ["los-angeles-2020", "san-francisco-2018", "statutory"])
@pytest.mark.parametrize("murder_date", ["", "19800000", "199006", "ABCDEFGH"])
def test_point5_undated_murder_blocks_relief_HS_11359c1(tmp_path, profile, murder_date):
    """HS 11359(c)(1): a prior super strike can keep possession for sale a felony. The issue's case:
    a murder with a blank or partial date on the record of a 59-year-old (as of 2026-11-01), felony
    11359 in 1990: Los Angeles dismissed it (age 50+), San Francisco reduced it. Neither may: the
    murder may be a prior. (19800000 has a known earlier year: it *is* a prior, see below.)"""
    p = Person("1", dob="19670101").conviction(murder_date, "187 PC-MURDER").conviction("19900101", "11359 HS-POSS FOR SALE")
    res, path = screen(tmp_path, p, profile=profile)
    r = one(res, code_section="HS 11359")
    assert r["outcome"] in ("review", "ineligible")
    if murder_date == "19800000":      # the year is known and earlier: a prior (prop64-rules.md)
        assert r["rules"] == {"los-angeles-2020": "prior-super-strike", "san-francisco-2018": "super-strike",
                              "statutory": "prior-super-strike"}[profile]
        assert "1980 (partial date)" in r["reasons"]
    else:
        assert r["rules"] == "guard-disqualifier-undated"
        assert "may be a prior" in r["reasons"]
        assert "disqualifier_date_unknown" in r["flags"]
        assert court_ref(path, "187 PC-MURDER") in r["evidence"].split(";")


def test_point5_partial_date_in_a_later_year_is_not_a_prior(tmp_path):
    p = Person("1", dob="19670101").conviction("199500", "187 PC-MURDER").conviction("19900101", "11359 HS")
    res, _ = screen(tmp_path, p, profile="los-angeles-2020")
    r = one(res, code_section="HS 11359")
    assert (r["outcome"], r["rules"]) == ("dismiss", "age-50")
    assert "later_super_strike" in r["flags"] and "disqualifier_date_unknown" not in r["flags"]


def test_point5_guard_blocks_relief_even_where_the_policy_ignores_dated_priors(tmp_path):
    """Los Angeles dismisses felony 11357(a)/(b) before it looks at disqualifiers; the shared guard
    still holds a felony back while a super strike of unknown date may be a prior."""
    p = Person("1", dob="19670101").conviction("", "187 PC").conviction("19900101", "11357(A) HS")
    res, _ = screen(tmp_path, p, profile="los-angeles-2020")
    r = one(res, code_section="HS 11357(a)")
    assert (r["outcome"], r["rules"]) == ("review", "guard-disqualifier-undated")
    assert "would have proposed dismiss under rule [possession-small]" in r["reasons"]


def test_point5_profiles_without_disqualifier_rules_are_unchanged_but_flagged(tmp_path):
    """BEAR had no disqualifier checks; imported, it still reproduces that tool's outcome, and the
    undated entry shows as a flag (prop64-rules.md: "A profile with no disqualifier rules ... is not
    changed by this")."""
    p = Person("1", dob="19670101").conviction("", "187 PC").conviction("19900101", "11359 HS")
    res, _ = screen(tmp_path, p, profile="bear-gogen")
    r = one(res, code_section="HS 11359")
    assert r["outcome"] == "dismiss" and "disqualifier_date_unknown" in r["flags"]


# --- point 6: a guard blocks only the rules that use the doubted fact --------------------------

def test_point6_dob_after_conviction_blocks_only_age_rules(tmp_path):
    """prop64-rules.md, shared guards: a date of birth after the conviction makes the age unknown,
    not the conviction date. Los Angeles dismisses every felony 11357(a)/(b) regardless of age, so
    that still applies (with the flag); its age-50 rule cannot be decided, so a felony 11359 goes to
    review saying the age is unknown."""
    p = Person("1", dob="20050101").conviction("20000101", "11357(B) HS").conviction("20010101", "11359 HS")
    res, path = screen(tmp_path, p, profile="los-angeles-2020")
    small = one(res, code_section="HS 11357(b)")
    assert (small["outcome"], small["rules"]) == ("dismiss", "possession-small")
    assert small["conviction_date_quality"] == "full"
    assert "dob_after_conviction" in small["flags"] and "age_unknown" in small["flags"]
    sale = one(res, code_section="HS 11359")
    assert (sale["outcome"], sale["rules"]) == ("review", "guard-age-unknown")
    assert "age is unknown" in sale["reasons"] and "[age-50]" in sale["reasons"]
    assert "missing, partial or impossible" not in sale["reasons"]
    assert court_ref(path, "11357(B) HS") in sale["evidence"].split(";")
    # the statutory remedy turns on the age: review, saying why
    res, _ = screen(tmp_path, p)
    assert {r["rules"] for r in res.iter_rows(named=True)} == {"guard-age-unknown"}


# --- point 7: implausible sentences --------------------------------------------------------------

@pytest.mark.parametrize("sentence", [("PRISON", "-10", "Y"), ("JAIL", "0", "D"), ("PROBATION", "150", "Y"),
                                      ("JAIL", "40000", "D")])
def test_point7_implausible_sentence_makes_the_end_unknown_HS_11361_8(tmp_path, sentence):
    """HS 11361.8(a)-(b) vs (e): the track (petition or application) depends on whether the sentence
    is still running. A sentence of -10 years ends before it starts; a zero-length jail term, 150
    years or 40,000 days are not believable either: sentence end unknown, track unknown, flagged, and
    a rule that needs the sentence goes to review."""
    p = Person("1").conviction("20100101", "11360 HS", sentences=(sentence,))
    res, _ = screen(tmp_path, p)
    r = one(res)
    assert r["sentence_end"] is None and r["relief_track"] == "unknown"
    assert "sentence_implausible" in r["flags"] and "sentence_unknown" in r["flags"]
    assert r["outcome"] == "reduce"                # the statutory remedy does not use the sentence
    res, _ = screen(tmp_path, p, profile="sacramento-2019")
    r = one(res)
    assert (r["outcome"], r["rules"]) == ("review", "guard-sentence-implausible")
    assert "[single-completed]" in r["reasons"]


def test_point7_plausible_parts_still_combine(tmp_path):
    p = Person("1").conviction("20100101", "11360 HS", sentences=(("JAIL", "6", "M"), ("PROBATION", "3", "Y")))
    res, _ = screen(tmp_path, p)
    r = one(res)
    assert r["sentence_end"] == date(2013, 1, 1) and "sentence_implausible" not in r["flags"]


# --- point 8: a rule not decided for want of a date says so ------------------------------------

def test_point8_undated_conviction_leaves_no_conviction_in_10_years_undecided(tmp_path):
    """Sacramento 2019: "more than one conviction, none in the past 10 years -> dismiss". A PC 459
    conviction with no date may be recent, so the rule cannot be decided; the next rule decides, and
    the reason and the flag say why (the reviewer sees the undated row)."""
    p = Person("1").conviction("20000101", "11359 HS").conviction("", "459 PC-BURGLARY")
    res, path = screen(tmp_path, p, profile="sacramento-2019")
    r = one(res, code_section="HS 11359")
    assert (r["outcome"], r["rules"]) == ("reduce", "several-recent")
    assert "Rule [several-no-recent]" in r["reasons"] and "no usable date" in r["reasons"]
    assert "recent_conviction_undated" in r["flags"]
    assert court_ref(path, "459 PC-BURGLARY") in r["evidence"].split(";")
    # a partial date in an old year decides it: no conviction in ten years
    p = Person("2").conviction("20000101", "11359 HS").conviction("200100", "459 PC-BURGLARY")
    res, _ = screen(tmp_path, p, profile="sacramento-2019")
    r = one(res, code_section="HS 11359")
    assert (r["outcome"], r["rules"]) == ("dismiss", "several-no-recent")
    assert "recent_conviction_undated" not in r["flags"]


def test_point8_los_angeles_ten_years_clean(tmp_path):
    p = Person("1", dob="19800101").conviction("20050101", "11359 HS").conviction("", "459 PC")
    res, _ = screen(tmp_path, p, profile="los-angeles-2020")
    r = one(res, code_section="HS 11359")
    assert r["rules"] == "otherwise-review" and "Rule [ten-years-clean]" in r["reasons"]
    assert "recent_conviction_undated" in r["flags"]


# --- the property ----------------------------------------------------------------------------

DISQ = ["187 PC-MURDER", "664/187 PC", "653F(B) PC", "288(A) PC", "243.4 PC", "653F(C) PC", "205 PC", "220 PC"]
UNDATED = ["", "ABCDEFGH", "19851345"]
CANNABIS = ["11357(A) HS", "11357(B) HS", "11358 HS", "11359 HS", "11360(A) HS", "11360(B) HS"]
OTHER = ["459 PC", "11359 HS", "23152(A) VC"]

looks_at_disqualifiers = [p for p in SHIPPED if screen_profiles.load_profile(p).looks_at_disqualifiers()]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dob=st.sampled_from(["19500101", "19700615", "19990101", ""]),
       disq=st.sampled_from(DISQ), disq_date=st.sampled_from(UNDATED), registration=st.booleans(),
       counts=st.lists(st.tuples(st.sampled_from(["19850315", "19920101", "20050630", "20180101"]), st.sampled_from(CANNABIS),
                                 st.sampled_from(["FELONY", "MISDEMEANOR", ""])), min_size=1, max_size=3),
       other=st.lists(st.tuples(st.sampled_from(["19800101", "20100101", "", "202001"]), st.sampled_from(OTHER)), max_size=2),
       profile=st.sampled_from(looks_at_disqualifiers))
def test_property_no_relief_for_a_felony_while_an_undated_disqualifier_is_on_record(tmp_path, dob, disq, disq_date, registration,
                                                                                     counts, other, profile):
    """No profile that looks at disqualifiers ever proposes relief for a felony count whose record
    holds a super-strike or PC 290 entry (conviction or registration) with no usable date
    (prop64-rules.md, shared guards). The profiles without disqualifier rules (BEAR options,
    Sacramento, San Joaquin) are left unchanged by the reference, and carry the flag instead."""
    p = Person("1", dob=dob)
    if registration:
        p.step(disq_date, "REGISTRATION", "290 PC-REGISTRATION OF SEX OFFENDER")
    else:
        p.conviction(disq_date, disq)
    for d, s, lvl in counts:
        p.conviction(d, s, level=lvl, toc=lvl[:1] or "M")
    for d, s in other:
        p.conviction(d, s)
    res, _ = screen(tmp_path, p, profile=profile)
    felonies = res.filter(pl.col("level") == "F")
    assert not set(felonies["outcome"]) & {"dismiss", "reduce"}, felonies.select("code_section", "outcome", "rules")
    assert all("disqualifier_date_unknown" in f for f in res["flags"])
