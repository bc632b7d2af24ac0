"""Screening: person-level facts, then a profile's ordered rules, as polars expressions.

Nothing here loops over records in Python and nothing reads the clock: the evaluation date is
an argument. Results do not depend on row order because every "first" is taken after sorting
on (source_file, source_line).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from ..errors import Cancelled, InputError
from ..ingest.normalise import CANNABIS_SECTIONS, normalise_county
from .code_lists import in_list, load_list
from .facts import FactsBuilder, ScreenFacts
from .profiles import PREDICATES, Condition, Profile, Rule

PROP64_EFFECTIVE = date(2016, 11, 9)

# Informational flags: id -> plain text (the GUI and documents show the text).
FLAGS = {
    "after_prop64": "convicted on or after 11/9/2016 (Prop 64 already in force)",
    "charge_from_comment": "charge taken from the comment text",
    "other_cannabis_in_comment": "comment names a different cannabis section",
    "possible_duplicate_person": "possible duplicate person (same name and DOB, other subject id)",
    "wrong_code_letter": "cannabis section under another code letter",
    "date_partial": "conviction date partial",
    "date_unknown": "conviction date unknown or unreadable",
    "dob_after_conviction": "date of birth after the conviction (impossible)",
    "level_from_toc": "level taken from the type of charge",
    "level_unknown": "conviction level unknown",
    "attempt": "attempt (PC 664)",
    "conspiracy": "conspiracy (PC 182)",
    "prior_super_strike": "prior super-strike conviction",
    "later_super_strike": "super-strike conviction after this one (not a prior)",
    "prior_pc290": "prior PC 290 conviction or registration",
    "later_pc290": "PC 290 conviction or registration after this one (not a prior)",
    "disqualifier_date_unknown": "super strike or PC 290 entry with unknown date",
    "same_section_priors": "earlier conviction(s) of the same section",
    "juvenile": "under 18 at the offence: possible juvenile matter (WIC 602, JV-744)",
    "age_near_18": "age at the offence within a year of 18",
    "age_near_21": "age at the offence within a year of 21",
    "age_unknown": "age at the offence unknown",
    "sentence_unknown": "sentence not recorded or unreadable",
    "still_serving": "still serving the sentence on the evaluation date",
    "deceased": "the record shows the person is deceased",
    "no_case_number": "no court case number on the record",
    "related_charge": "related (non-cannabis) charge screened under the profile's option",
}

RESULT_COLUMNS = [
    "conviction_id", "source_file", "source_line", "subject_id", "cii_number", "name", "dob", "gender", "race",
    "court_case_number", "courthouse", "county", "conviction_date", "conviction_date_quality", "cycle_date",
    "count_key", "count", "code_section", "code_section_original", "qualifier", "level", "age_at_offence",
    "age_at_conviction", "sentence_end", "outcome", "relief", "relief_track", "reasons", "rules", "citations",
    "evidence", "flags",
]

def years_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    before_birthday = (end.dt.month().cast(pl.Int32) * 100 + end.dt.day().cast(pl.Int32)) < (
        start.dt.month().cast(pl.Int32) * 100 + start.dt.day().cast(pl.Int32))
    return (end.dt.year().cast(pl.Int32) - start.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32))


def _ref() -> pl.Expr:
    return pl.concat_str([pl.col("source_file"), pl.lit(":"), pl.col("source_line").cast(pl.String)])


def years_before(as_of: date, years: int) -> date:
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - years, day=28)


def convictions(rows: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per conviction count (SUBJECT_ID, CNT_ORDER), sentence parts combined."""
    conv = rows.lazy().filter(pl.col("convicted")).sort("source_file", "source_line")
    part_unit = pl.col("sent_unit").str.slice(0, 1)
    timed = part_unit.is_in(["D", "M", "Y"]) & pl.col("sent_length").is_not_null()
    no_time = pl.col("sent_type").fill_null("").str.contains("FINE|RESTITUTION|SUSPEND|CREDIT") | (pl.col("sent_length") == 0)
    offset = pl.concat_str([pl.col("sent_length").cast(pl.String),
                            pl.when(part_unit == "D").then(pl.lit("d")).when(part_unit == "M").then(pl.lit("mo")).otherwise(pl.lit("y"))])
    conv = conv.with_columns(
        pl.when(timed).then(pl.col("conviction_date").dt.offset_by(offset))
        .when(no_time).then(pl.col("conviction_date")).otherwise(None).alias("_part_end"),
        (timed | no_time).alias("_part_known"),
        pl.col("sent_type").is_not_null().alias("_has_part"),
        _ref().alias("_ref"),
    )
    firsts = [c for c in rows.columns
              if c not in ("sent_type", "sent_length", "sent_unit", "source_line") and not c.startswith("q_")]
    agg = conv.group_by("subject_id", "count_key").agg(
        *[pl.col(c).first() for c in firsts if c not in ("subject_id", "count_key")],
        pl.col("source_line").first(),
        # parts run together: the longest one ends the sentence (prop64-rules.md)
        pl.col("_part_end").max().alias("sentence_end"),
        (pl.col("_part_known").all() & pl.col("_has_part").any()).alias("sentence_known"),
        pl.col("_ref").alias("self_refs"),
        *[pl.col(c).any().alias(c) for c in rows.columns if c.startswith("q_")],
    )
    return agg.collect()


# The steps other than convictions that screening reads (a DECEASED step, a PC 290 REGISTRATION).
EVENT_STEPS = "DECEASED|REGISTRATION"


def new_facts() -> FactsBuilder:
    """A builder of the facts screening reads, fed one block of rows at a time (facts.py)."""
    return FactsBuilder(lambda rows: convictions(rows, None), EVENT_STEPS)


def facts_from_rows(rows: pl.DataFrame) -> ScreenFacts:
    builder = new_facts()
    builder.add(rows)
    return builder.finish()


def screen(rows: pl.DataFrame | ScreenFacts, *, county: str, as_of: date, profile: Profile, cancel=None) -> pl.DataFrame:
    """Screen every cannabis conviction of ``county``; returns the results frame (RESULT_COLUMNS).

    ``rows``: the imported rows, or the facts gathered from them while they were read (the
    app's path: no row is read again). People are screened one partition at a time; nothing
    of a person depends on another partition (duplicates are flagged on the rows already)."""
    if not isinstance(as_of, date):
        raise InputError("the evaluation date (--as-of) must be given explicitly")
    county_key = normalise_county(county)
    facts = rows if isinstance(rows, ScreenFacts) else facts_from_rows(rows)
    parts = []
    for part in facts:
        _check_cancel(cancel)
        parts.append(_screen_part(part.conv, facts.steps, part.charged, county_key, as_of, profile, cancel))
    if len(parts) == 1:
        return parts[0]
    return pl.concat(parts).sort("subject_id", "court_case_number", "count_key", nulls_last=True)


def _screen_part(conv: pl.DataFrame, steps: pl.DataFrame, charged: pl.DataFrame, county_key: str, as_of: date,
                 profile: Profile, cancel) -> pl.DataFrame:
    """Screen the conviction counts of some people (``steps``: the rows of EVENT_STEPS,
    ``charged``: subject_id and cycle of every arrest cycle with a cannabis charge)."""
    _check_cancel(cancel)

    ss, p290 = load_list("super-strikes"), load_list("pc290")
    conv = conv.with_columns(
        (pl.col("section_num").is_in(CANNABIS_SECTIONS) & pl.col("law_code").is_in(["HS"])).alias("is_cannabis"),
        (pl.col("section_num").is_in(CANNABIS_SECTIONS) & (pl.col("law_code") != "HS")).fill_null(False).alias("is_cannabis_wrong_code"),
        in_list(ss).alias("is_super_strike"),
        in_list(p290).alias("is_pc290"),
        pl.col("conviction_date_quality").is_in(["full"]).alias("date_known"),
    )
    rel_lists = sorted({a for r in profile.active_rules for c in r.when + r.when_any if c.name == "related_charge" for a in c.args})
    for name in rel_lists:
        conv = conv.with_columns(in_list(load_list(name)).alias(f"rel__{name}"))
    is_related = pl.any_horizontal([pl.col(f"rel__{n}") for n in rel_lists]) if rel_lists else pl.lit(False)

    # --- person-level facts, computed once and joined back ------------------------------------
    person = conv.group_by("subject_id").agg(
        pl.len().alias("convictions_on_record"),
        pl.col("conviction_date").filter(pl.col("date_known")).max().alias("most_recent_conviction"),
        (~pl.col("date_known")).any().alias("has_undated_conviction"),
        (pl.col("is_cannabis")).all().alias("only_cannabis_convictions"),
        (pl.col("sentence_known") & (pl.col("sentence_end") <= as_of)).all().alias("all_sentences_completed"),
    )
    deceased = (steps.lazy().filter(pl.col("step_type").fill_null("").str.contains("DECEASED"))
                .sort("source_file", "source_line")
                .group_by("subject_id").agg(_ref().alias("ev_deceased_refs"),
                                            pl.col("step_date").min().alias("deceased_date")).collect())

    # Disqualifying events: super-strike and PC 290 convictions, PC 290 registration steps.
    reg = (steps.lazy().filter(pl.col("step_type").fill_null("").str.contains("REGISTRATION")
                              & (pl.col("section_num").fill_null("") == "290")
                              | pl.col("step_type").fill_null("").str.contains("REGISTRATION")
                              & pl.col("offence_text").fill_null("").str.contains("290"))
           .select("subject_id", pl.col("step_date").alias("ev_date"), pl.lit("pc290").alias("kind"),
                   pl.lit("PC 290 registration").alias("what"), _ref().alias("ref"), pl.lit(False).alias("conv_ev"))
           .collect())
    conv_ev = pl.concat([
        conv.filter(pl.col("is_super_strike")).select(
            "subject_id", pl.col("conviction_date").alias("ev_date"), pl.lit("super_strike").alias("kind"),
            pl.concat_str([pl.col("qualifier").fill_null(""), pl.col("code_section")], separator=" ").str.strip_chars().alias("what"),
            pl.col("self_refs").list.first().alias("ref"), pl.lit(True).alias("conv_ev")),
        conv.filter(pl.col("is_pc290")).select(
            "subject_id", pl.col("conviction_date").alias("ev_date"), pl.lit("pc290").alias("kind"),
            pl.col("code_section").alias("what"), pl.col("self_refs").list.first().alias("ref"), pl.lit(True).alias("conv_ev")),
        reg,
    ])
    _check_cancel(cancel)

    # --- the screened counts -------------------------------------------------------------------
    cand = conv.filter(pl.col("county") == county_key)
    screened_mask = pl.col("is_cannabis") | pl.col("is_cannabis_wrong_code")
    if rel_lists:
        # a related charge is screened only in an arrest cycle that holds a cannabis charge
        # (arrest or court); the evidence is the cycle's cannabis conviction, when there is one
        charged = charged.with_columns(pl.lit(True).alias("_cycle_charged"))
        cannabis_cycles = (conv.filter(pl.col("is_cannabis") | pl.col("is_cannabis_wrong_code")).sort("source_file", "source_line")
                           .group_by("subject_id", "cycle").agg(pl.col("self_refs").list.first().alias("ev_cycle_cannabis_refs")))
        cand = (cand.join(cannabis_cycles, on=["subject_id", "cycle"], how="left")
                .join(charged, on=["subject_id", "cycle"], how="left"))
        screened_mask = screened_mask | (is_related & pl.col("_cycle_charged").fill_null(False))
    else:
        cand = cand.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("ev_cycle_cannabis_refs"))
    cand = cand.filter(screened_mask).with_columns(
        pl.concat_str([pl.col("subject_id"), pl.col("court_case_number").fill_null(""), pl.col("count_key")], separator="/").alias("conviction_id"),
        (~(pl.col("is_cannabis") | pl.col("is_cannabis_wrong_code"))).alias("is_related_charge"),
    )
    keys = cand.select("conviction_id", "subject_id", "conviction_date", "section_num")

    # Priors are strictly earlier than the screened conviction; same day is not a prior.
    ev = keys.join(conv_ev, on="subject_id", how="inner")
    ev_desc = pl.concat_str([pl.col("what"), pl.lit(" on "), pl.col("ev_date").cast(pl.String).fill_null("unknown date"),
                             pl.lit(" ("), pl.col("ref"), pl.lit(")")])
    prior = pl.col("ev_date") < pl.col("conviction_date")
    later = pl.col("ev_date") >= pl.col("conviction_date")
    # sorted first so evidence lists read the same whatever the order of the input rows
    ev_agg = ev.with_columns(ev_desc.alias("desc")).sort("ev_date", "ref", nulls_last=True).group_by("conviction_id").agg(
        (prior & (pl.col("kind") == "super_strike")).any().alias("prior_super_strike"),
        (later & (pl.col("kind") == "super_strike")).any().alias("later_super_strike"),
        (prior & (pl.col("kind") == "pc290") & pl.col("conv_ev")).any().alias("prior_pc290_conviction"),
        (prior & (pl.col("kind") == "pc290") & ~pl.col("conv_ev")).any().alias("prior_pc290_registration"),
        (later & (pl.col("kind") == "pc290")).any().alias("later_pc290"),
        pl.col("ev_date").is_null().any().alias("disqualifier_date_unknown"),
        pl.col("ref").filter(prior & (pl.col("kind") == "super_strike")).alias("ev_super_strike_refs"),
        pl.col("desc").filter(prior & (pl.col("kind") == "super_strike")).str.join("; ").alias("ev_super_strike_text"),
        pl.col("ref").filter(prior & (pl.col("kind") == "pc290")).alias("ev_pc290_refs"),
        pl.col("desc").filter(prior & (pl.col("kind") == "pc290")).str.join("; ").alias("ev_pc290_text"),
        pl.col("ref").filter(pl.col("ev_date").is_null()).alias("ev_disq_unknown_refs"),
        pl.col("desc").filter(pl.col("ev_date").is_null()).str.join("; ").alias("ev_disq_unknown_text"),
    )
    same = (keys.join(conv.filter(pl.col("is_cannabis")).select(
        "subject_id", "section_num", pl.col("conviction_date").alias("o_date"), pl.col("self_refs").list.first().alias("o_ref"),
        pl.col("code_section").alias("o_section")), on=["subject_id", "section_num"], how="inner")
        .filter(pl.col("o_date") < pl.col("conviction_date"))
        .sort("o_date", "o_ref").group_by("conviction_id").agg(
            pl.len().alias("same_section_priors"),
            pl.col("o_ref").alias("ev_same_section_refs"),
            pl.concat_str([pl.col("o_section"), pl.lit(" on "), pl.col("o_date").cast(pl.String), pl.lit(" ("), pl.col("o_ref"), pl.lit(")")])
            .str.join("; ").alias("ev_same_section_text")))
    # Most recent conviction other than... any conviction counts, this one included.
    recent_refs = (conv.lazy().join(person.lazy().select("subject_id", "most_recent_conviction"), on="subject_id")
                   .filter(pl.col("conviction_date") == pl.col("most_recent_conviction"))
                   .sort("source_file", "source_line")
                   .group_by("subject_id").agg(pl.col("self_refs").list.first().alias("ev_recent_refs")).collect())

    f = (cand.join(person, on="subject_id", how="left")
         .join(ev_agg, on="conviction_id", how="left")
         .join(same, on="conviction_id", how="left")
         .join(deceased, on="subject_id", how="left")
         .join(recent_refs, on="subject_id", how="left"))
    bool_cols = ["prior_super_strike", "later_super_strike", "prior_pc290_conviction", "prior_pc290_registration",
                 "later_pc290", "disqualifier_date_unknown"]
    offence_date = pl.when(pl.col("cycle_date").is_not_null() & (pl.col("cycle_date") <= pl.col("conviction_date").fill_null(date(9999, 1, 1))))\
        .then(pl.col("cycle_date")).otherwise(pl.col("conviction_date"))
    first_ref = lambda c: pl.col(c).list.first()  # noqa: E731
    f = f.with_columns(
        pl.concat_str([pl.lit("most recent conviction on "), pl.col("most_recent_conviction").cast(pl.String),
                       pl.lit(" ("), first_ref("ev_recent_refs"), pl.lit(")")]).alias("ev_recent_text"),
        pl.concat_str([pl.lit("DECEASED step on "), pl.col("deceased_date").cast(pl.String).fill_null("unknown date"),
                       pl.lit(" ("), first_ref("ev_deceased_refs"), pl.lit(")")]).alias("ev_deceased_text"),
        pl.concat_str([pl.lit("cannabis conviction in the same arrest cycle ("), first_ref("ev_cycle_cannabis_refs"),
                       pl.lit(")")]).alias("ev_cycle_cannabis_text"),
        *[pl.col(c).fill_null(False) for c in bool_cols],
        pl.col("same_section_priors").fill_null(0),
        pl.col("ev_deceased_refs").is_not_null().alias("deceased"),
        pl.when(pl.col("dob_quality") == "full").then(years_between(pl.col("dob"), offence_date)).alias("age_at_offence"),
        pl.when(pl.col("dob_quality") == "full").then(years_between(pl.col("dob"), pl.col("conviction_date"))).alias("age_at_conviction"),
        pl.when(pl.col("dob_quality") == "full").then(years_between(pl.col("dob"), pl.lit(as_of))).alias("age_now"),
    ).with_columns(
        (pl.col("prior_pc290_conviction") | pl.col("prior_pc290_registration")).alias("prior_pc290"),
        pl.when(pl.col("age_at_offence") < 0).then(None).otherwise(pl.col("age_at_offence")).alias("age_at_offence"),
        pl.when(pl.col("age_at_conviction") < 0).then(None).otherwise(pl.col("age_at_conviction")).alias("age_at_conviction"),
        pl.when(pl.col("sentence_known")).then(pl.col("sentence_end")).otherwise(None).alias("sentence_end"),
    )
    _check_cancel(cancel)
    return evaluate(f, profile, as_of)


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


# --- predicates ----------------------------------------------------------------------------

def predicate_expr(cond: Condition, as_of: date) -> pl.Expr:
    n, a = cond.name, cond.args
    lvl = pl.col("level")
    table = {
        "always": lambda: pl.lit(True),
        "date_unknown": lambda: ~pl.col("date_known"),
        "convicted_on_or_after": lambda: pl.col("conviction_date") >= a[0],
        "convicted_before": lambda: pl.col("conviction_date") < a[0],
        "qualifier": lambda: pl.col("qualifier").is_not_null(),
        "attempt": lambda: pl.col("qualifier") == "attempt",
        "conspiracy": lambda: pl.col("qualifier") == "conspiracy",
        "felony": lambda: lvl == "F",
        "misdemeanor": lambda: lvl == "M",
        "infraction": lambda: lvl == "I",
        "level_unknown": lambda: lvl.is_null(),
        "section": lambda: pl.col("section_num").is_in(list(a)),
        "code_section": lambda: pl.col("code_section").is_in(list(a)),
        "wrong_code_letter": lambda: pl.col("is_cannabis_wrong_code"),
        "prior_super_strike": lambda: pl.col("prior_super_strike"),
        "prior_pc290": lambda: pl.col("prior_pc290"),
        "prior_pc290_conviction": lambda: pl.col("prior_pc290_conviction"),
        "prior_pc290_registration": lambda: pl.col("prior_pc290_registration"),
        "disqualifier_date_unknown": lambda: pl.col("disqualifier_date_unknown"),
        "same_section_priors_at_least": lambda: pl.col("same_section_priors") >= a[0],
        "convictions_on_record_at_least": lambda: pl.col("convictions_on_record") >= a[0],
        # an undated conviction might be recent, so it blocks "no conviction within N years"
        "no_conviction_within_years": lambda: (pl.col("most_recent_conviction") < years_before(as_of, a[0])) & ~pl.col("has_undated_conviction"),
        "conviction_older_than_years": lambda: pl.col("conviction_date") <= years_before(as_of, a[0]),
        "age_now_at_least": lambda: pl.col("age_now") >= a[0],
        "age_at_conviction_under": lambda: pl.col("age_at_conviction") < a[0],
        "age_at_offence_under": lambda: pl.col("age_at_offence") < a[0],
        "age_unknown": lambda: pl.col("age_at_offence").is_null(),
        "only_cannabis_convictions": lambda: pl.col("only_cannabis_convictions"),
        "sentence_completed": lambda: pl.col("sentence_end") <= as_of,
        "still_serving": lambda: pl.col("sentence_end") > as_of,
        "sentence_unknown": lambda: pl.col("sentence_end").is_null(),
        "all_sentences_completed": lambda: pl.col("all_sentences_completed"),
        "deceased": lambda: pl.col("deceased"),
        "other_cannabis_in_comment": lambda: pl.col("q_other_cannabis_in_comment"),
        "charge_from_comment": lambda: pl.col("q_charge_from_comment"),
        "possible_duplicate_person": lambda: pl.col("q_possible_duplicate_person"),
        "related_charge": lambda: pl.any_horizontal([pl.col(f"rel__{x}") for x in a]),
        "cycle_has_cannabis_conviction": lambda: pl.col("ev_cycle_cannabis_refs").is_not_null(),
    }
    e = table[n]().fill_null(False)
    return ~e if cond.negate else e


def implemented_predicates() -> set[str]:
    # used by a test to keep the vocabulary and the implementation in step
    import inspect
    src = inspect.getsource(predicate_expr)
    return {name for name in PREDICATES if f'"{name}":' in src}


def rule_expr(rule: Rule, as_of: date) -> pl.Expr:
    e = pl.lit(True)
    for c in rule.when:
        e = e & predicate_expr(c, as_of)
    if rule.when_any:
        e = e & pl.any_horizontal([predicate_expr(c, as_of) for c in rule.when_any])
    return e


def _evidence_cols(rule: Rule) -> list[str]:
    cols = []
    for c in rule.when + rule.when_any:
        ev = PREDICATES[c.name].evidence
        if ev and not c.negate and ev not in cols:
            cols.append(ev)
    return cols


# --- the remedy table of HS 11361.8 (prop64-rules.md) -------------------------------------

_R = "HS 11361.8"


def remedy() -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(outcome, relief, reason, basis) of the statutory remedy for each row."""
    sec, sub, lvl, age = pl.col("section_num"), pl.col("section_sub").fill_null(""), pl.col("level"), pl.col("age_at_offence")
    adult21, under21, under18 = age >= 21, age < 21, age < 18
    small_11357 = (sec == "11357") & sub.is_in(["", "(a)", "(b)"])
    branches = [
        # (condition, outcome, relief, reason, basis)
        (age.is_null(), "review", None,
         "The age at the offence is unknown and the remedy depends on it.", f"{_R}; prop64-rules.md remedy table"),
        (under18 & (lvl == "I"), "ineligible", None,
         "Under 18 at the offence and already an infraction: the new law gives no further relief.", "HS 11357-11360 as amended; HS 11361.8"),
        (under18, "reduce", "infraction",
         "Under 18 at the offence: the conduct is now an infraction; redesignate (possible juvenile matter, WIC 602 / JV-744).", f"{_R}(e)-(f); HS 11357-11360 as amended"),
        (small_11357 & lvl.is_in(["M", "I"]) & adult21, "dismiss", None,
         "Possession of up to 28.5 g by a person 21 or older is now lawful: dismiss and seal.", f"{_R}(e)-(f); HS 11362.1"),
        (small_11357 & (lvl == "M") & under21, "reduce", "infraction",
         "Possession under 21 is now an infraction: redesignate as an infraction.", f"{_R}(e)-(f); HS 11357(a)(1)"),
        (small_11357 & (lvl == "I") & under21, "ineligible", None,
         "Possession under 21 as an infraction is still an infraction: no relief under the statute.", "HS 11357(a)(1); HS 11361.8"),
        ((sec == "11357") & (lvl == "F") & sub.is_in(["", "(a)", "(b)"]), "dismiss", None,
         "Felony possession (concentrated cannabis): lawful up to 8 g for adults and the quantity is unknown, so the presumption of eligibility applies: dismiss and seal.", f"{_R}(b), (f) presumption; HS 11362.1"),
        (sec == "11357", "ineligible", None,
         "Possession over 28.5 g or on school grounds is still a misdemeanor: no change under the statute (county policy may differ).", "HS 11357(b)-(c) as amended; HS 11361.8"),
        ((sec == "11358") & (lvl == "F"), "dismiss", None,
         "Felony cultivation: lawful up to six plants for adults and the plant count is unknown, so the presumption of eligibility applies: dismiss and seal.", f"{_R}(b), (f) presumption; HS 11362.1"),
        ((sec == "11358") & lvl.is_in(["M", "I"]) & adult21, "dismiss", None,
         "Cultivation by a person 21 or older: lawful up to six plants: dismiss and seal.", f"{_R}(e)-(f); HS 11362.1"),
        ((sec == "11358") & lvl.is_in(["M"]) & under21, "reduce", "infraction",
         "Cultivation under 21 is now an infraction: redesignate as an infraction.", f"{_R}(e)-(f); HS 11358(a)"),
        ((sec == "11359") & (lvl == "F"), "reduce", "misdemeanor",
         "Possession for sale is now a misdemeanor: redesignate / resentence as a misdemeanor.", f"{_R}(a)-(f); HS 11359(b)"),
        ((sec == "11360") & (lvl == "F"), "reduce", "misdemeanor",
         "Sale or transport is now a misdemeanor (gift or non-sale facts unknown): redesignate / resentence as a misdemeanor.", f"{_R}(a)-(f); HS 11360(a)(2)"),
        ((sec == "11360") & (sub == "(b)") & (lvl == "M") & adult21, "dismiss", None,
         "Giving away or transporting up to 28.5 g by a person 21 or older is now lawful: dismiss and seal.", f"{_R}(e)-(f); HS 11362.1"),
        ((sec == "11360") & (sub == "(b)") & (lvl == "M") & under21, "reduce", "infraction",
         "Giving away or transporting up to 28.5 g under 21 is now an infraction: redesignate as an infraction.", f"{_R}(e)-(f); HS 11360(b)"),
        (lvl.is_null(), "review", None,
         "The conviction level is not recorded, so the remedy cannot be chosen.", f"{_R}; data quality"),
    ]
    out = rel = rea = bas = None
    for cond, o, r, text, b in branches:
        cond = cond.fill_null(False)
        out = (pl.when(cond) if out is None else out.when(cond)).then(pl.lit(o))
        rel = (pl.when(cond) if rel is None else rel.when(cond)).then(pl.lit(r, dtype=pl.String))
        rea = (pl.when(cond) if rea is None else rea.when(cond)).then(pl.lit(text))
        bas = (pl.when(cond) if bas is None else bas.when(cond)).then(pl.lit(b))
    # misdemeanor 11359 / 11360(a) and anything else: already at the new-law level
    return (out.otherwise(pl.lit("ineligible")), rel.otherwise(pl.lit(None, dtype=pl.String)),
            rea.otherwise(pl.lit("Already at the level the new law provides (e.g. misdemeanor possession for sale): no relief under the statute.")),
            bas.otherwise(pl.lit(f"{_R}; HS 11359-11360 as amended")))


# --- evaluation ----------------------------------------------------------------------------

def evaluate(f: pl.DataFrame, profile: Profile, as_of: date) -> pl.DataFrame:
    rules = profile.active_rules
    idx = None
    for i, rule in enumerate(rules):
        cond = rule_expr(rule, as_of)
        idx = (pl.when(cond) if idx is None else idx.when(cond)).then(pl.lit(i, dtype=pl.Int32))
    idx = idx.otherwise(pl.lit(None, dtype=pl.Int32)) if idx is not None else pl.lit(None, dtype=pl.Int32)
    f = f.with_columns(idx.alias("_rule"))

    rem_out, rem_rel, rem_reason, rem_basis = remedy()

    def by_rule(getter, default):
        e = None
        for i, rule in enumerate(rules):
            e = (pl.when(pl.col("_rule") == i) if e is None else e.when(pl.col("_rule") == i)).then(getter(rule))
        return e.otherwise(default) if e is not None else default

    def default_relief(rule: Rule):
        if rule.outcome == "dismiss":
            return pl.lit("dismiss_and_seal")
        if rule.outcome == "reduce":
            if rule.relief:
                return pl.lit(f"reduce_to_{rule.relief}")
            return pl.when(pl.col("level") == "F").then(pl.lit("reduce_to_misdemeanor")).otherwise(pl.lit("reduce_to_infraction"))
        if rule.outcome == "statutory_remedy":
            return (pl.when(rem_out == "dismiss").then(pl.lit("dismiss_and_seal"))
                    .when(rem_out == "reduce").then(pl.concat_str([pl.lit("reduce_to_"), rem_rel])).otherwise(None))
        return pl.lit(None, dtype=pl.String)

    def reason(rule: Rule):
        if rule.outcome == "statutory_remedy":
            texts = ([pl.lit(rule.reason + " ")] if rule.reason else []) + [rem_reason]
        else:
            texts = [pl.lit(rule.reason)]
        detail = [pl.col(f"{c}_text") for c in _evidence_cols(rule)]
        if detail:
            texts.append(pl.concat_str([pl.lit(" Evidence: "), pl.concat_str(detail, separator="; ", ignore_nulls=True)]))
        basis = rem_basis if rule.outcome == "statutory_remedy" else pl.lit(rule.basis)
        return pl.concat_str([pl.concat_str(texts, ignore_nulls=True), pl.lit(" ["), basis, pl.lit("]")])

    def evidence(rule: Rule):
        lists = [pl.col("self_refs")] + [pl.col(f"{c}_refs") for c in _evidence_cols(rule)]
        return pl.concat_list([l.fill_null([]) for l in lists]).list.unique(maintain_order=True).list.join(";")

    no_rule_reason = pl.lit("No rule of the profile applies to this conviction: attorney review. [profile " + profile.id + "]")
    f = f.with_columns(
        by_rule(lambda r: rem_out if r.outcome == "statutory_remedy" else pl.lit(r.outcome), pl.lit("review")).alias("outcome"),
        by_rule(default_relief, pl.lit(None, dtype=pl.String)).alias("relief"),
        by_rule(lambda r: pl.lit(r.id), pl.lit("no-rule")).alias("rules"),
        by_rule(lambda r: rem_basis if r.outcome == "statutory_remedy" else pl.lit(r.basis), pl.lit("profile " + profile.id)).alias("citations"),
        by_rule(reason, no_rule_reason).alias("reasons"),
        by_rule(evidence, pl.col("self_refs").list.join(";")).alias("evidence"),
    )
    f = f.with_columns(
        pl.when(pl.col("outcome").is_in(["dismiss", "reduce"])).then(pl.col("relief")).otherwise(None).alias("relief"),
        pl.when(pl.col("sentence_end").is_null()).then(pl.lit("unknown"))
        .when(pl.col("sentence_end") > as_of).then(pl.lit("petition")).otherwise(pl.lit("application")).alias("relief_track"),
        flags_expr(as_of).alias("flags"),
        pl.col("count_key").str.slice(6, 3).cast(pl.Int32, strict=False).alias("count"),
    )
    out = f.select(RESULT_COLUMNS).sort("subject_id", "court_case_number", "count_key", nulls_last=True)
    return out


def flags_expr(as_of: date) -> pl.Expr:
    age = pl.col("age_at_offence")
    conds = {
        "after_prop64": pl.col("conviction_date") >= PROP64_EFFECTIVE,
        "charge_from_comment": pl.col("q_charge_from_comment"),
        "other_cannabis_in_comment": pl.col("q_other_cannabis_in_comment"),
        "possible_duplicate_person": pl.col("q_possible_duplicate_person"),
        "wrong_code_letter": pl.col("is_cannabis_wrong_code"),
        "date_partial": pl.col("conviction_date_quality") == "partial",
        "date_unknown": pl.col("conviction_date_quality").is_in(["unknown", "invalid"]),
        "dob_after_conviction": pl.col("q_dob_after_conviction"),
        "level_from_toc": pl.col("q_level_from_toc"),
        "level_unknown": pl.col("level").is_null(),
        "attempt": pl.col("qualifier") == "attempt",
        "conspiracy": pl.col("qualifier") == "conspiracy",
        "prior_super_strike": pl.col("prior_super_strike"),
        "later_super_strike": pl.col("later_super_strike"),
        "prior_pc290": pl.col("prior_pc290"),
        "later_pc290": pl.col("later_pc290"),
        "disqualifier_date_unknown": pl.col("disqualifier_date_unknown"),
        "same_section_priors": pl.col("same_section_priors") > 0,
        "juvenile": age < 18,
        "age_near_18": (age >= 17) & (age <= 18),
        "age_near_21": (age >= 20) & (age <= 21),
        "age_unknown": age.is_null(),
        "sentence_unknown": pl.col("sentence_end").is_null(),
        "still_serving": pl.col("sentence_end") > as_of,
        "deceased": pl.col("deceased"),
        "no_case_number": pl.col("court_case_number").is_null(),
        "related_charge": pl.col("is_related_charge"),
    }
    return pl.concat_str([pl.when(c.fill_null(False)).then(pl.lit(k)) for k, c in conds.items()], separator=";", ignore_nulls=True).fill_null("")
