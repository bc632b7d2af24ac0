"""Screening: person-level facts, then a profile's ordered rules, as polars expressions.

Nothing here loops over records in Python and nothing reads the clock: the evaluation date is
an argument. Results do not depend on row order because every "first" is taken after sorting
on (source_file, source_line).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from ..errors import Cancelled, InputError
from ..ingest.normalise import CANNABIS_SECTIONS, name_key, normalise_county
from . import code_lists
from .code_lists import in_list, section_only
from . import facts as facts_module
from .facts import FactsBuilder, ScreenFacts
from .profiles import DOUBT_GUARDS, PREDICATES, Condition, Profile, Rule, load_profile

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
    "dob_after_conviction": "date of birth after a conviction date (impossible): age unknown, rules on age go to review",
    "level_from_toc": "level taken from the type of charge",
    "level_unknown": "conviction level unknown",
    "attempt": "attempt (PC 664)",
    "conspiracy": "conspiracy (PC 182)",
    "prior_super_strike": "prior super-strike conviction",
    "later_super_strike": "super-strike conviction after this one (not a prior)",
    "prior_pc290": "prior PC 290 conviction or registration",
    "later_pc290": "PC 290 conviction or registration after this one (not a prior)",
    "disqualifier_date_unknown": "super strike or PC 290 entry with no usable date (may be a prior)",
    "disqualifier_subsection_unknown": "conviction of a listed section without the subsection that decides it (e.g. PC 653f): check the court file",
    "same_section_priors": "earlier conviction(s) of the same section",
    "juvenile": "under 18 at the offense: possible juvenile matter (WIC 602, JV-744)",
    "age_near_18": "age at the offense within a year of 18",
    "age_near_21": "age at the offense within a year of 21",
    "age_unknown": "age at the offense unknown",
    "sentence_unknown": "sentence not recorded or unreadable",
    "sentence_implausible": "sentence length implausible (negative, zero for a term, or over 99 years): sentence end unknown",
    "recent_conviction_undated": "a rule on recent convictions could not be decided: a conviction has no usable date",
    "legal_basis_not_statutory": "the rule names a statutory basis the statute does not give here: relief on the office's motion",
    "still_serving": "still serving the sentence on the evaluation date",
    "deceased": "the record shows the person is deceased",
    "no_case_number": "no court case number on the record",
    "related_charge": "related (non-cannabis) charge screened under the profile's option",
}

RESULT_COLUMNS = [
    "conviction_id", "source_file", "source_line", "subject_id", "cii_number", "name", "dob", "gender", "race",
    "court_case_number", "courthouse", "county", "conviction_date", "conviction_date_quality", "cycle_date",
    "count_key", "count", "code_section", "code_section_original", "qualifier", "level", "age_at_offence",
    "age_at_conviction", "sentence_end", "outcome", "relief", "relief_basis", "relief_track", "reasons", "rules", "citations",
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


def _on_distinct(frame: pl.DataFrame, keys: list[str], exprs: list[pl.Expr]) -> pl.DataFrame:
    """Evaluate ``exprs``, which read only ``keys``, once per distinct combination of the keys
    and join the answers back (without copying the frame's other columns)."""
    table = frame.select(keys).unique().with_columns(exprs)
    added = [c for c in table.columns if c not in keys]
    looked_up = frame.select(keys).join(table, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return frame.with_columns(looked_up.select(added).get_columns())


def _in_record_order(rows: pl.DataFrame) -> bool:
    """Whether rows already come in (source_file, source_line) order, as an import hands them
    over; sorting a wide frame moves every column, so it is done only when needed."""
    f, n = pl.col("source_file"), pl.col("source_line")
    return bool(rows.select(((f > f.shift(1)) | ((f == f.shift(1)) & (n > n.shift(1)))).fill_null(True).all()).item())


def convictions(rows: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per conviction count (SUBJECT_ID, CNT_ORDER), sentence parts combined: the
    count's first row (in record order) gives every column, its parts the sentence."""
    conv = rows.lazy().filter(pl.col("convicted"))
    if not _in_record_order(rows):
        conv = conv.sort("source_file", "source_line")
    part_unit = pl.col("sent_unit").str.slice(0, 1)
    timed = part_unit.is_in(["D", "M", "Y"]) & pl.col("sent_length").is_not_null()
    money = pl.col("sent_type").fill_null("").str.contains("FINE|RESTITUTION|SUSPEND|CREDIT")
    no_time = money | (pl.col("sent_length") == 0)
    # An implausible part makes the sentence end unknown (prop64-rules.md, shared guards): a
    # negative length ends before it starts, a zero-length jail / prison / probation term is
    # no term, and more than 99 years is not a cannabis sentence.
    days = pl.col("sent_length") * pl.when(part_unit == "Y").then(365).when(part_unit == "M").then(31).otherwise(1)
    implausible = ((pl.col("sent_length") < 0)
                   | ((pl.col("sent_length") == 0) & pl.col("sent_type").is_not_null() & ~money)
                   | (timed & (days > 99 * 366))).fill_null(False)
    offset = pl.concat_str([pl.col("sent_length").cast(pl.String),
                            pl.when(part_unit == "D").then(pl.lit("d")).when(part_unit == "M").then(pl.lit("mo")).otherwise(pl.lit("y"))])
    conv = conv.with_columns(
        implausible.alias("_part_implausible"),
        pl.when(implausible).then(None).when(timed).then(pl.col("conviction_date").dt.offset_by(offset))
        .when(no_time).then(pl.col("conviction_date")).otherwise(None).alias("_part_end"),
        (timed | no_time).alias("_part_known"),
        pl.col("sent_type").is_not_null().alias("_has_part"),
        _ref().alias("_ref"),
    )
    firsts = [c for c in rows.columns
              if c not in ("sent_type", "sent_length", "sent_unit", "source_line") and not c.startswith("q_")]
    keys = ["subject_id", "count_key"]
    # the first row of each count whole, and the parts' aggregates, both in order of first
    # appearance (so they line up) rather than one "first" aggregation per column
    first_rows = conv.unique(keys, keep="first", maintain_order=True).select(
        *keys, *[c for c in firsts if c not in keys], "source_line")
    agg = conv.group_by(*keys, maintain_order=True).agg(
        # parts run together: the longest one ends the sentence (prop64-rules.md)
        pl.col("_part_end").max().alias("sentence_end"),
        (pl.col("_part_known").all() & pl.col("_has_part").any() & ~pl.col("_part_implausible").any()).alias("sentence_known"),
        pl.col("_part_implausible").any().alias("sentence_implausible"),
        pl.col("_ref").alias("self_refs"),
        *[pl.col(c).any().alias(c) for c in rows.columns if c.startswith("q_")],
    )
    first_rows, agg = pl.collect_all([first_rows, agg])
    return pl.concat([first_rows, agg.drop(keys)], how="horizontal")


# The steps other than convictions that screening reads (a DECEASED step, a PC 290 REGISTRATION).
EVENT_STEPS = "DECEASED|REGISTRATION"


def _prepare(rows: pl.DataFrame) -> pl.DataFrame:
    if "conviction_year" not in rows.columns:   # rows imported before the column existed
        rows = rows.with_columns(pl.col("conviction_date").dt.year().cast(pl.Int16).alias("conviction_year"))
    return rows


def new_facts() -> FactsBuilder:
    """A builder of the facts screening reads, fed one block of rows at a time (facts.py)."""
    return FactsBuilder(lambda rows: convictions(rows, None), EVENT_STEPS, prepare=_prepare)


def facts_from_rows(rows: pl.DataFrame) -> ScreenFacts:
    builder = new_facts()
    builder.add(rows)
    dups = duplicate_people_of(rows) if "q_possible_duplicate_person" in rows.columns else None
    return builder.finish(duplicate_people=dups)


def screen(rows: pl.DataFrame | ScreenFacts, *, county: str, as_of: date, profile: Profile, cancel=None) -> pl.DataFrame:
    """Screen every cannabis conviction of ``county``; returns the results frame (RESULT_COLUMNS).

    ``rows``: the imported rows, or the facts gathered from them while they were read (the
    app's path: no row is read again). People are screened one partition at a time; nothing
    of a person depends on another partition (duplicates are flagged on the rows already)."""
    if not isinstance(as_of, date):
        raise InputError("the evaluation date (--as-of) must be given explicitly")
    county_key = normalise_county(county)
    facts = rows if isinstance(rows, ScreenFacts) else facts_from_rows(rows)
    several = len(facts.partitions) > 1

    def one(part) -> pl.DataFrame | bytes:
        _check_cancel(cancel)
        result = _screen_part(part.conv, facts.steps, part.charged, facts.duplicate_people, county_key, as_of,
                              profile, cancel)
        # several partitions: each one's results wait compressed (a tenth of their size, and out
        # of the way of the next partition's working memory) until all are screened
        return facts_module.encode(result) if several else result

    # partitions are independent: two at a time keep both cores busy (much of the work on one
    # partition runs on one core)
    parts = facts_module.map_partitions(one, facts.partitions)
    if len(parts) == 1:
        return share_repeated_text(parts[0])
    # each part is in result order (evaluate sorts it); put the parts in that order one column
    # at a time, so the results are never held twice
    frame = pl.concat([share_repeated_text(facts_module.decode(p)) for p in parts], how="vertical", rechunk=False)
    del parts
    order = frame.select(pl.arg_sort_by("subject_id", "court_case_number", "count_key", nulls_last=True)).to_series()
    columns = []
    for name in frame.columns:
        columns.append(frame.get_column(name).gather(order))
        frame = frame.drop(name)
    return pl.DataFrame(columns)


def share_repeated_text(data):
    """The same values, held in as little memory as they need.

    polars keeps text in shared buffers: a column picked out of a larger table (the results
    out of all of a partition's conviction counts) keeps that whole table's text alive. Each
    text column is given buffers of its own: text that repeats (reasons, citations,
    courthouses: a few hundred distinct texts over a million results) is stored once and
    referred to by every row, and other text is copied out compactly."""
    if isinstance(data, pl.DataFrame):
        return data.with_columns([share_repeated_text(data.get_column(c)) for c, t in data.schema.items() if t == pl.String])
    s = data
    if s.dtype != pl.String:
        return s
    if s.len() < 10_000:
        return s + ""   # a copy: text concatenated anew owns its buffer
    sample = s.head(20_000)
    if sample.n_unique() > sample.len() // 20 or (sample.str.len_bytes().mean() or 0) <= 12:
        return s + ""   # many distinct values, or short ones kept in the row itself
    distinct = s.unique(maintain_order=True)
    if distinct.len() > s.len() // 20:
        return s + ""
    # rebuilt from Python so the texts own a small buffer (a slice of ``s`` would keep it all)
    distinct = pl.Series(s.name, distinct.to_list(), dtype=pl.String)
    index = (s.to_frame().join(distinct.to_frame().with_row_index("_i"), on=s.name, how="left",
                              nulls_equal=True, maintain_order="left").get_column("_i"))
    return distinct.gather(index)


def _screen_part(conv: pl.DataFrame, steps: pl.DataFrame, charged: pl.DataFrame, duplicate_people: pl.DataFrame,
                 county_key: str, as_of: date, profile: Profile, cancel) -> pl.DataFrame:
    """Screen the conviction counts of some people (``steps``: the rows of EVENT_STEPS,
    ``charged``: subject_id and cycle of every arrest cycle with a cannabis charge,
    ``duplicate_people``: each possible duplicate's first row per name and date of birth)."""
    _check_cancel(cancel)

    lists = profile.lists()
    ss, p290 = lists["super-strikes"], lists["pc290"]
    used = {c.name for r in profile.active_rules for c in r.when + r.when_any}
    q = pl.col("conviction_date_quality")
    conv = conv.with_columns(
        # normalise calls a conviction date before the date of birth "impossible"; the date itself
        # is complete, it is the date of birth that is doubted (prop64-rules.md, shared guards)
        pl.when((q == "impossible") & pl.col("q_dob_after_conviction") & pl.col("conviction_date").is_not_null())
        .then(pl.lit("full")).otherwise(q).alias("conviction_date_quality"),
        pl.col("q_dob_after_conviction").any().over("subject_id").alias("dob_doubted"),
    )
    conv = code_lists.add_requirements(conv, list(lists.values()))
    rel_lists = sorted({a for r in profile.active_rules for c in r.when + r.when_any if c.name == "related_charge" for a in c.args})
    # list membership reads only the charge columns, which repeat heavily: match each distinct
    # charge once (a few hundred) rather than every count against every list entry
    charge = ["law_code", "section_num", "section_sub", "qualifier", "offence_text",
              *sorted({code_lists.requirement_column(r) for lst in lists.values() for r in lst.requirements()})]
    conv = _on_distinct(conv, charge, [
        in_list(ss).alias("is_super_strike"),
        in_list(p290).alias("is_pc290"),
        (section_only(ss) | section_only(p290)).alias("is_disq_sub_unknown"),
        *[in_list(lists[name]).alias(f"rel__{name}") for name in rel_lists],
    ])
    conv = conv.with_columns(
        (pl.col("section_num").is_in(CANNABIS_SECTIONS) & pl.col("law_code").is_in(["HS"])).fill_null(False).alias("is_cannabis"),
        (pl.col("section_num").is_in(CANNABIS_SECTIONS) & (pl.col("law_code") != "HS")).fill_null(False).alias("is_cannabis_wrong_code"),
        (pl.col("conviction_date_quality") == "full").alias("date_known"),
        pl.col("self_refs").list.first().alias("ref"),
        pl.concat_str([pl.col("qualifier").fill_null(""), pl.col("code_section").fill_null(pl.col("offence_text")).fill_null("charge unknown")],
                      separator=" ").str.strip_chars().alias("what"),
    )
    is_related = pl.any_horizontal([pl.col(f"rel__{n}") for n in rel_lists]) if rel_lists else pl.lit(False)

    # --- person-level facts, computed once and joined back ------------------------------------
    sentence_done = pl.col("sentence_known") & (pl.col("sentence_end") <= as_of)
    person = conv.group_by("subject_id").agg(
        pl.len().alias("convictions_on_record"),
        pl.col("conviction_date").filter(pl.col("date_known")).max().alias("most_recent_conviction"),
        # years of the convictions without a full date (null = not even the year is known)
        pl.col("conviction_year").filter(~pl.col("date_known")).alias("undated_years"),
        (pl.col("is_cannabis")).all().alias("only_cannabis_convictions"),
        (~pl.col("sentence_implausible") & ~sentence_done).any().alias("_sentence_open"),
        pl.col("sentence_implausible").any().alias("_sentence_doubt"),
    ).with_columns(
        (~pl.col("_sentence_open") & ~pl.col("_sentence_doubt")).alias("all_sentences_completed"),
        (~pl.col("_sentence_open") & pl.col("_sentence_doubt")).alias("all_sentences_unknown"),
    )
    deceased = (steps.lazy().filter(pl.col("step_type").fill_null("").str.contains("DECEASED"))
                .sort("source_file", "source_line")
                .group_by("subject_id").agg(_ref().alias("ev_deceased_refs"),
                                            pl.col("step_date").min().alias("deceased_date")).collect())

    # Disqualifying events: super-strike and PC 290 convictions, PC 290 registration steps, and
    # convictions of a listed section whose deciding subsection is not recorded (a flag only).
    step = pl.col("step_type").fill_null("")
    reg = (steps.lazy().filter(step.str.contains("REGISTRATION")
                              & ((pl.col("section_num").fill_null("") == "290")
                                 | pl.col("offence_text").fill_null("").str.contains("290")))
           .select("subject_id", pl.col("step_date").alias("ev_date"), pl.col("conviction_year").alias("ev_year"),
                   pl.lit("pc290").alias("kind"), pl.lit("PC 290 registration").alias("what"), _ref().alias("ref"),
                   pl.lit(False).alias("conv_ev"))
           .collect())

    def events(mask: pl.Expr, kind: str) -> pl.DataFrame:
        return conv.filter(mask).select("subject_id", pl.col("conviction_date").alias("ev_date"),
                                        pl.col("conviction_year").alias("ev_year"), pl.lit(kind).alias("kind"),
                                        "what", "ref", pl.lit(True).alias("conv_ev"))

    conv_ev = pl.concat([events(pl.col("is_super_strike"), "super_strike"), events(pl.col("is_pc290"), "pc290"),
                         events(pl.col("is_disq_sub_unknown") & ~pl.col("is_super_strike") & ~pl.col("is_pc290"), "sub_unknown"),
                         reg])
    _check_cancel(cancel)

    # --- the screened counts -------------------------------------------------------------------
    cand = conv.filter(pl.col("county") == county_key)
    screened_mask = pl.col("is_cannabis") | pl.col("is_cannabis_wrong_code")
    if rel_lists:
        # a related charge is screened only in an arrest cycle that holds a cannabis charge
        # (arrest or court); the evidence is the cycle's cannabis conviction, when there is one
        charged = charged.with_columns(pl.lit(True).alias("_cycle_charged"))
        cannabis_cycles = (conv.filter(pl.col("is_cannabis") | pl.col("is_cannabis_wrong_code")).sort("source_file", "source_line")
                           .group_by("subject_id", "cycle").agg(pl.col("ref").first().alias("_cyc_ref")))
        cand = (cand.join(cannabis_cycles, on=["subject_id", "cycle"], how="left")
                .join(charged, on=["subject_id", "cycle"], how="left")
                .with_columns(pl.when(pl.col("_cyc_ref").is_not_null()).then(pl.concat_list(pl.col("_cyc_ref")))
                              .alias("ev_cycle_cannabis_refs")))
        screened_mask = screened_mask | (is_related & pl.col("_cycle_charged").fill_null(False))
    else:
        cand = cand.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("ev_cycle_cannabis_refs"))
    cand = cand.filter(screened_mask).with_columns(
        pl.concat_str([pl.col("subject_id"), pl.col("court_case_number").fill_null(""), pl.col("count_key")], separator="/").alias("conviction_id"),
        (~(pl.col("is_cannabis") | pl.col("is_cannabis_wrong_code"))).alias("is_related_charge"),
    )
    keys = cand.select("conviction_id", "subject_id", "conviction_date", "conviction_year", "section_num", pl.col("ref").alias("own_ref"))

    # Priors are strictly earlier than the screened conviction; same day is not a prior. With a
    # partial date the year still decides when it differs from the conviction's year.
    ev = keys.join(conv_ev, on="subject_id", how="inner")
    when_text = (pl.when(pl.col("ev_date").is_not_null()).then(pl.col("ev_date").cast(pl.String))
                 .when(pl.col("ev_year").is_not_null()).then(pl.concat_str([pl.col("ev_year").cast(pl.String), pl.lit(" (partial date)")]))
                 .otherwise(pl.lit("unknown date")))
    ev_desc = pl.concat_str([pl.col("what"), pl.lit(" on "), when_text, pl.lit(" ("), pl.col("ref"), pl.lit(")")])
    prior = ((pl.col("ev_date") < pl.col("conviction_date"))
             | (pl.col("ev_date").is_null() & (pl.col("ev_year") < pl.col("conviction_year")))).fill_null(False)
    later = ((pl.col("ev_date") >= pl.col("conviction_date"))
             | (pl.col("ev_date").is_null() & (pl.col("ev_year") > pl.col("conviction_year")))).fill_null(False)
    maybe = ~prior & ~later
    kind = pl.col("kind")
    disq = kind.is_in(["super_strike", "pc290"])

    def refs(mask: pl.Expr, name: str) -> list[pl.Expr]:
        return [pl.col("ref").filter(mask).alias(f"{name}_refs"), pl.col("desc").filter(mask).str.join("; ").alias(f"{name}_text")]

    # sorted first so evidence lists read the same whatever the order of the input rows
    ev_agg = (ev.with_columns(ev_desc.alias("desc"), prior.alias("_prior"), later.alias("_later"), maybe.alias("_maybe"))
              .sort("ev_date", "ev_year", "what", "ref", nulls_last=True).group_by("conviction_id").agg(
        (prior & (kind == "super_strike")).any().alias("prior_super_strike"),
        (later & (kind == "super_strike")).any().alias("later_super_strike"),
        (maybe & (kind == "super_strike")).any().alias("maybe_super_strike"),
        (prior & (kind == "pc290") & pl.col("conv_ev")).any().alias("prior_pc290_conviction"),
        (maybe & (kind == "pc290") & pl.col("conv_ev")).any().alias("maybe_pc290_conviction"),
        (prior & (kind == "pc290") & ~pl.col("conv_ev")).any().alias("prior_pc290_registration"),
        (maybe & (kind == "pc290") & ~pl.col("conv_ev")).any().alias("maybe_pc290_registration"),
        (later & (kind == "pc290")).any().alias("later_pc290"),
        (maybe & disq).any().alias("disqualifier_date_unknown"),
        (~later & (kind == "sub_unknown")).any().alias("disqualifier_subsection_unknown"),
        *refs(prior & (kind == "super_strike"), "ev_super_strike"),
        *refs(prior & (kind == "pc290") & pl.col("conv_ev"), "ev_pc290_conviction"),
        *refs(prior & (kind == "pc290") & ~pl.col("conv_ev"), "ev_pc290_registration"),
        *refs(maybe & disq, "ev_disq_unknown"),
    ))
    same = (keys.join(conv.filter(pl.col("is_cannabis")).select(
        "subject_id", "section_num", pl.col("conviction_date").alias("o_date"), pl.col("ref").alias("o_ref"),
        pl.col("code_section").alias("o_section")), on=["subject_id", "section_num"], how="inner")
        .filter(pl.col("o_date") < pl.col("conviction_date"))
        .sort("o_date", "o_section", "o_ref").group_by("conviction_id").agg(
            pl.len().alias("same_section_priors"),
            pl.col("o_ref").alias("ev_same_section_refs"),
            pl.concat_str([pl.col("o_section"), pl.lit(" on "), pl.col("o_date").cast(pl.String), pl.lit(" ("), pl.col("o_ref"), pl.lit(")")])
            .str.join("; ").alias("ev_same_section_text")))
    # The most recent dated conviction (any conviction counts, this one included), and every
    # conviction whose date is unknown or partial: those may be recent.
    conv_when = (pl.when(pl.col("date_known")).then(pl.col("conviction_date").cast(pl.String))
                 .when(pl.col("conviction_year").is_not_null()).then(pl.concat_str([pl.col("conviction_year").cast(pl.String), pl.lit(" (partial date)")]))
                 .otherwise(pl.lit("unknown date")))
    conv = conv.with_columns(pl.concat_str([pl.col("what"), pl.lit(" on "), conv_when, pl.lit(" ("), pl.col("ref"), pl.lit(")")]).alias("desc"))
    recent = (conv.lazy().join(person.lazy().select("subject_id", "most_recent_conviction"), on="subject_id")
              .filter((pl.col("conviction_date") == pl.col("most_recent_conviction")) & pl.col("date_known"))
              .sort("source_file", "source_line")
              .group_by("subject_id").agg(pl.col("ref").first().alias("_recent_ref")).collect())
    undated = (conv.lazy().filter(~pl.col("date_known")).sort("conviction_year", "what", "ref", nulls_last=True)
               .group_by("subject_id").agg(pl.col("ref").alias("_undated_refs"), pl.col("desc").str.join("; ").alias("_undated_text"))
               .collect())

    f = (cand.join(person, on="subject_id", how="left")
         .join(ev_agg, on="conviction_id", how="left")
         .join(same, on="conviction_id", how="left")
         .join(deceased, on="subject_id", how="left")
         .join(recent, on="subject_id", how="left")
         .join(undated, on="subject_id", how="left"))
    f = _other_convictions_evidence(f, conv, used, as_of)
    f = _duplicate_evidence(f, duplicate_people, used)
    bool_cols = ["prior_super_strike", "later_super_strike", "maybe_super_strike", "prior_pc290_conviction",
                 "maybe_pc290_conviction", "prior_pc290_registration", "maybe_pc290_registration", "later_pc290",
                 "disqualifier_date_unknown", "disqualifier_subsection_unknown"]
    offence_date = pl.when(pl.col("cycle_date").is_not_null() & (pl.col("cycle_date") <= pl.col("conviction_date").fill_null(date(9999, 1, 1))))\
        .then(pl.col("cycle_date")).otherwise(pl.col("conviction_date"))
    first_ref = lambda c: pl.col(c).list.first()  # noqa: E731
    dob_ok = (pl.col("dob_quality") == "full") & ~pl.col("dob_doubted")
    # the convictions dated before the recorded date of birth (the guard-age-unknown evidence)
    dob_ev = (conv.filter(pl.col("q_dob_after_conviction")).sort("conviction_date", "ref")
              .group_by("subject_id").agg(pl.col("ref").alias("ev_dob_refs"),
                                          pl.concat_str([pl.lit("conviction on "), pl.col("conviction_date").cast(pl.String),
                                                         pl.lit(" is before the recorded date of birth ("), pl.col("ref"), pl.lit(")")])
                                          .str.join("; ").alias("ev_dob_text")))
    f = f.join(dob_ev, on="subject_id", how="left").with_columns(
        pl.when(pl.col("_recent_ref").is_not_null()).then(pl.concat_list(pl.col("_recent_ref"))).alias("_recent_list"),
    ).with_columns(
        pl.concat_list([pl.col("_recent_list").fill_null([]), pl.col("_undated_refs").fill_null([])]).alias("ev_recent_refs"),
        pl.concat_str([
            pl.concat_str([pl.lit("most recent conviction on "), pl.col("most_recent_conviction").cast(pl.String),
                           pl.lit(" ("), pl.col("_recent_ref"), pl.lit(")")]),
            pl.concat_str([pl.lit("convictions without a full date: "), pl.col("_undated_text")]),
        ], separator="; ", ignore_nulls=True).alias("ev_recent_text"),
        pl.concat_str([pl.lit("DECEASED step on "), pl.col("deceased_date").cast(pl.String).fill_null("unknown date"),
                       pl.lit(" ("), first_ref("ev_deceased_refs"), pl.lit(")")]).alias("ev_deceased_text"),
        pl.concat_str([pl.lit("cannabis conviction in the same arrest cycle ("), first_ref("ev_cycle_cannabis_refs"),
                       pl.lit(")")]).alias("ev_cycle_cannabis_text"),
        pl.concat_str([pl.lit("this conviction's sentence ("), pl.col("self_refs").list.join(", "), pl.lit(")")]).alias("ev_sentence_text"),
        pl.col("self_refs").alias("ev_sentence_refs"),
        *[pl.col(c).fill_null(False) for c in bool_cols],
        pl.col("same_section_priors").fill_null(0),
        pl.col("ev_deceased_refs").is_not_null().alias("deceased"),
        pl.when(dob_ok).then(years_between(pl.col("dob"), offence_date)).alias("age_at_offence"),
        pl.when(dob_ok).then(years_between(pl.col("dob"), pl.col("conviction_date"))).alias("age_at_conviction"),
        pl.when(dob_ok).then(years_between(pl.col("dob"), pl.lit(as_of))).alias("age_now"),
    ).with_columns(
        (pl.col("prior_pc290_conviction") | pl.col("prior_pc290_registration")).alias("prior_pc290"),
        pl.when(pl.col("age_at_offence") < 0).then(None).otherwise(pl.col("age_at_offence")).alias("age_at_offence"),
        pl.when(pl.col("age_at_conviction") < 0).then(None).otherwise(pl.col("age_at_conviction")).alias("age_at_conviction"),
        pl.when(pl.col("sentence_known")).then(pl.col("sentence_end")).otherwise(None).alias("sentence_end"),
    )
    _check_cancel(cancel)
    return evaluate(f, profile, as_of)


_LIST_CAP = 12   # how many rows an evidence text names before "and N more" (the refs list them all)


def _capped_list(descs: pl.Expr) -> pl.Expr:
    n = descs.list.len()
    return pl.concat_str([descs.list.head(_LIST_CAP).list.join("; "),
                          pl.when(n > _LIST_CAP).then(pl.format("; and {} more", n - _LIST_CAP)).otherwise(pl.lit(""))])


def _other_convictions_evidence(f: pl.DataFrame, conv: pl.DataFrame, used: set[str], as_of: date) -> pl.DataFrame:
    """Evidence of the conditions that look at every conviction on the record, computed only
    when a rule uses them: the convictions counted, the non-cannabis ones, the open sentences."""
    want = used & {"convictions_on_record_at_least", "only_cannabis_convictions", "all_sentences_completed"}
    cols = ["ev_record", "ev_only_cannabis", "ev_all_sentences"]
    if not want:
        return f.with_columns(*[pl.lit(None, dtype=pl.List(pl.String)).alias(f"{c}_refs") for c in cols],
                              *[pl.lit(None, dtype=pl.String).alias(f"{c}_text") for c in cols])
    done = pl.col("sentence_known") & (pl.col("sentence_end") <= as_of) & ~pl.col("sentence_implausible")
    # per person, once: every screened count of the person cites the same rows
    people = f.select("subject_id").unique()
    others = (conv.join(people, on="subject_id", how="semi")
              .select("subject_id", "ref", "desc", "is_cannabis", "conviction_date", "conviction_year", "what",
                      done.fill_null(False).alias("_done"))
              .sort("conviction_date", "conviction_year", "what", "ref", nulls_last=True))
    # the rows that decide it: the non-cannabis convictions (else all), the open sentences (else all)
    has_nc, has_open = (~pl.col("is_cannabis")).any(), (~pl.col("_done")).any()
    nc_mask, open_mask = ~pl.col("is_cannabis") | ~has_nc, ~pl.col("_done") | ~has_open
    # lists per person in the group-by; the texts are built from the lists afterwards, vectorised
    exprs = {
        "convictions_on_record_at_least": [pl.col("ref").alias("ev_record_refs"), pl.col("desc").alias("_rec_desc")],
        "only_cannabis_convictions": [pl.col("ref").filter(nc_mask).alias("ev_only_cannabis_refs"),
                                      pl.col("desc").filter(nc_mask).alias("_nc_desc"), has_nc.alias("_has_nc")],
        "all_sentences_completed": [pl.col("ref").filter(open_mask).alias("ev_all_sentences_refs"),
                                    pl.col("desc").filter(open_mask).alias("_open_desc"), has_open.alias("_has_open")],
    }
    texts = {
        "convictions_on_record_at_least": [pl.concat_str([pl.col("_rec_desc").list.len().cast(pl.String), pl.lit(" convictions on record: "),
                                                          _capped_list(pl.col("_rec_desc"))]).alias("ev_record_text")],
        "only_cannabis_convictions": [pl.concat_str([pl.when(pl.col("_has_nc")).then(pl.lit("convictions other than HS 11357-11360: "))
                                                     .otherwise(pl.lit("every conviction is HS 11357-11360: ")),
                                                     _capped_list(pl.col("_nc_desc"))]).alias("ev_only_cannabis_text")],
        "all_sentences_completed": [pl.concat_str([pl.when(pl.col("_has_open")).then(pl.lit("sentences not shown as completed: "))
                                                   .otherwise(pl.lit("every sentence completed: ")),
                                                   _capped_list(pl.col("_open_desc"))]).alias("ev_all_sentences_text")],
    }
    agg = others.group_by("subject_id").agg(*[e for name in sorted(want) for e in exprs[name]])
    agg = agg.with_columns(*[e for name in sorted(want) for e in texts[name]]).select(pl.exclude("^_.*$"))
    f = f.join(agg, on="subject_id", how="left")
    present = set(f.columns)
    return f.with_columns(*[pl.lit(None, dtype=pl.List(pl.String)).alias(f"{c}_refs") for c in cols if f"{c}_refs" not in present],
                          *[pl.lit(None, dtype=pl.String).alias(f"{c}_text") for c in cols if f"{c}_text" not in present])


def duplicate_people_of(rows: pl.DataFrame) -> pl.DataFrame:
    """Each possibly duplicated person's first row per normalised name and date of birth (the
    import gathers the same table block by block: ``ReportAccumulator.duplicates``)."""
    return (rows.lazy().filter(pl.col("q_possible_duplicate_person"))
            .select("subject_id", name_key(pl.col("name")).alias("_nk"), "dob", "source_file", "source_line")
            .drop_nulls(["_nk", "dob"]).sort("source_file", "source_line")
            .group_by("subject_id", "_nk", "dob", maintain_order=True)
            .agg(pl.col("source_file").first(), pl.col("source_line").first()).collect())


def _duplicate_evidence(f: pl.DataFrame, people: pl.DataFrame, used: set[str]) -> pl.DataFrame:
    """The other subject ids with the same name and date of birth (their first rows)."""
    if "possible_duplicate_person" not in used:
        return f.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("ev_duplicate_refs"),
                              pl.lit(None, dtype=pl.String).alias("ev_duplicate_text"))
    people = people.select("subject_id", "_nk", "dob", _ref().alias("ref"))
    pairs = (people.join(people, on=["_nk", "dob"], suffix="_o").filter(pl.col("subject_id") != pl.col("subject_id_o"))
             .sort("subject_id_o").group_by("subject_id").agg(
                 pl.col("ref_o").alias("ev_duplicate_refs"),
                 pl.concat_str([pl.lit("DOJ subject id "), pl.col("subject_id_o"), pl.lit(" has the same name and date of birth ("),
                                pl.col("ref_o"), pl.lit(")")]).str.join("; ").alias("ev_duplicate_text")))
    return f.join(pairs, on="subject_id", how="left")


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


# --- predicates ----------------------------------------------------------------------------

def _cutoff_year(as_of: date, years: int) -> int:
    return years_before(as_of, years).year


def _recent_within(as_of: date, years: int) -> pl.Expr:
    """Certainly a conviction within ``years``: a dated one on or after the cutoff, or a partial
    date whose year is after the cutoff's year."""
    cutoff = years_before(as_of, years)
    return ((pl.col("most_recent_conviction") >= cutoff).fill_null(False)
            | pl.col("undated_years").list.eval(pl.element() > cutoff.year).list.any().fill_null(False))


def _recent_undecided(as_of: date, years: int) -> pl.Expr:
    """"No conviction within N years" cannot be decided: no conviction is certainly recent, but
    one without a usable date (unknown, or partial in the cutoff's year) may be."""
    y = _cutoff_year(as_of, years)
    maybe = pl.col("undated_years").list.eval(pl.element().is_null() | (pl.element() == y)).list.any().fill_null(False)
    return ~_recent_within(as_of, years) & maybe


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
        # an undated conviction might be recent: then the condition is undecided (doubt_exprs)
        "no_conviction_within_years": lambda: ~_recent_within(as_of, a[0]) & ~_recent_undecided(as_of, a[0]),
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


def doubt_expr(cond: Condition) -> pl.Expr:
    """The condition cannot be decided because a shared guard doubts the fact it uses."""
    n, fact = cond.name, PREDICATES[cond.name].uses
    if fact == "age":
        return pl.col("dob_doubted").fill_null(False)
    if fact == "sentence":
        col = "all_sentences_unknown" if n == "all_sentences_completed" else "sentence_implausible"
        return pl.col(col).fill_null(False)
    if fact == "disqualifier":
        maybe = {"prior_super_strike": pl.col("maybe_super_strike"),
                 "prior_pc290_conviction": pl.col("maybe_pc290_conviction"),
                 "prior_pc290_registration": pl.col("maybe_pc290_registration"),
                 "prior_pc290": pl.col("maybe_pc290_conviction") | pl.col("maybe_pc290_registration")}[n]
        return (maybe & ~pl.col(n)).fill_null(False)
    return pl.lit(False)


def undecided_expr(cond: Condition, as_of: date) -> pl.Expr:
    """The condition could not be decided for want of another record's date: the rule is
    passed over, and the reason says so (prop64-rules.md; issue 11 point 8)."""
    if cond.name == "no_conviction_within_years":
        return _recent_undecided(as_of, cond.args[0])
    return pl.lit(False)


def implemented_predicates() -> set[str]:
    # used by a test to keep the vocabulary and the implementation in step
    import inspect
    src = inspect.getsource(predicate_expr)
    return {name for name in PREDICATES if f'"{name}":' in src}


_TRUE, _FALSE = pl.lit(True), pl.lit(False)


def _all(exprs):
    return pl.all_horizontal(exprs) if exprs else _TRUE


def _any(exprs):
    return pl.any_horizontal(exprs) if exprs else _FALSE


def _and_states(states):
    """Three-valued AND of (true, unknown, undecided) triples: false wins, then unknown (a
    guard's doubt sends the case to review), then undecided (the rule is passed over)."""
    if not states:
        return _TRUE, _FALSE, _FALSE
    false = _any([~(t | u | s) for t, u, s in states])
    unknown = ~false & _any([u for _, u, _ in states])
    undecided = ~false & ~unknown & _any([s for _, _, s in states])
    return _all([t for t, _, _ in states]), unknown, undecided


def _or_states(states):
    true = _any([t for t, _, _ in states])
    unknown = ~true & _any([u for _, u, _ in states])
    undecided = ~true & ~unknown & _any([s for _, _, s in states])
    return true, unknown, undecided


def condition_state(cond: Condition, as_of: date):
    u, s = doubt_expr(cond), undecided_expr(cond, as_of)
    return predicate_expr(cond, as_of) & ~u & ~s, u, s


def rule_state(rule: Rule, as_of: date):
    """(holds, blocked by a guard's doubt, passed over for want of a date) for each row."""
    states = [condition_state(c, as_of) for c in rule.when]
    if rule.outcome == "statutory_remedy":      # the remedy table turns on the age
        states.append((~pl.col("dob_doubted"), pl.col("dob_doubted"), _FALSE))
    if rule.when_any:
        states.append(_or_states([condition_state(c, as_of) for c in rule.when_any]))
    return _and_states(states)


def rule_expr(rule: Rule, as_of: date) -> pl.Expr:
    return rule_state(rule, as_of)[0]


def _evidence_cols(rule: Rule) -> list[str]:
    """Evidence of every condition the rule reads (either way: the rows that decided it)."""
    cols = []
    for c in rule.when + rule.when_any:
        for ev in PREDICATES[c.name].evidence:
            if ev not in cols:
                cols.append(ev)
    return cols


# Evidence behind each shared guard's doubt.
_GUARD_EVIDENCE = {"age": "ev_dob", "sentence": "ev_sentence", "disqualifier": "ev_disq_unknown"}


# --- the remedy table of HS 11361.8 (prop64-rules.md) -------------------------------------

_R = "HS 11361.8"


def remedy() -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(outcome, relief, reason, basis) of the statutory remedy for each row."""
    sec, sub, lvl, age = pl.col("section_num"), pl.col("section_sub").fill_null(""), pl.col("level"), pl.col("age_at_offence")
    adult21, under21, under18 = age >= 21, age < 21, age < 18
    # 11357 without subsection, (a) concentrated cannabis or (b) up to 28.5 g (pre-2016 lettering)
    small_11357 = (sec == "11357") & ((sub == "") | sub.str.starts_with("(a)") | sub.str.starts_with("(b)"))
    give_away = (sec == "11360") & sub.str.starts_with("(b)")
    branches = [
        # (condition, outcome, relief, reason, basis)
        (age.is_null(), "review", None,
         "The age at the offense is unknown and the remedy depends on it.", f"{_R}; prop64-rules.md remedy table"),
        (under18 & (lvl == "I"), "ineligible", None,
         "Under 18 at the offense and already an infraction: the new law gives no further relief.", "HS 11357-11360 as amended; HS 11361.8"),
        (under18, "reduce", "infraction",
         "Under 18 at the offense: the conduct is now an infraction; redesignate (possible juvenile matter, WIC 602 / JV-744).", f"{_R}(e)-(f); HS 11357-11360 as amended"),
        (small_11357 & lvl.is_in(["M", "I"]) & adult21, "dismiss", None,
         "Possession of up to 28.5 g by a person 21 or older is now lawful: dismiss and seal.", f"{_R}(e)-(f); HS 11362.1"),
        (small_11357 & (lvl == "M") & under21, "reduce", "infraction",
         "Possession at 18, 19 or 20 is now an infraction: redesignate as an infraction.", f"{_R}(e)-(f); HS 11357(a)(2)"),
        (small_11357 & (lvl == "I") & under21, "ineligible", None,
         "Possession at 18, 19 or 20 as an infraction is still an infraction: no relief under the statute.", "HS 11357(a)(2); HS 11361.8"),
        # HS 11357(a)(2): possession of up to 8 g of concentrate at 18-20 is an infraction, not lawful
        (small_11357 & (lvl == "F") & under21, "reduce", "infraction",
         "Felony possession (concentrated cannabis) at 18, 19 or 20: the new law makes possession of up to 8 g an infraction "
         "at that age and the quantity is unknown, so the presumption of eligibility applies: redesignate as an infraction.",
         f"{_R}(b), (f) presumption; HS 11357(a)(2)"),
        (small_11357 & (lvl == "F"), "dismiss", None,
         "Felony possession (concentrated cannabis): lawful up to 8 g for adults and the quantity is unknown, so the presumption of eligibility applies: dismiss and seal.", f"{_R}(b), (f) presumption; HS 11362.1"),
        (sec == "11357", "ineligible", None,
         "Possession over 28.5 g or on school grounds is still a misdemeanor: no change under the statute (county policy may differ).", "HS 11357(b)-(c) as amended; HS 11361.8"),
        # HS 11358(b): cultivating up to six plants at 18-20 is an infraction (HS 11362.1 is for 21+)
        ((sec == "11358") & (lvl == "F") & under21, "reduce", "infraction",
         "Felony cultivation at 18, 19 or 20: the new law makes cultivating up to six plants an infraction at that age and "
         "the plant count is unknown, so the presumption of eligibility applies: redesignate as an infraction.",
         f"{_R}(b), (f) presumption; HS 11358(b)"),
        ((sec == "11358") & (lvl == "F"), "dismiss", None,
         "Felony cultivation: lawful up to six plants for adults and the plant count is unknown, so the presumption of eligibility applies: dismiss and seal.", f"{_R}(b), (f) presumption; HS 11362.1"),
        ((sec == "11358") & lvl.is_in(["M", "I"]) & adult21, "dismiss", None,
         "Cultivation by a person 21 or older: lawful up to six plants: dismiss and seal.", f"{_R}(e)-(f); HS 11362.1"),
        ((sec == "11358") & lvl.is_in(["M"]) & under21, "reduce", "infraction",
         "Cultivation at 18, 19 or 20 is now an infraction: redesignate as an infraction.", f"{_R}(e)-(f); HS 11358(b)"),
        ((sec == "11359") & (lvl == "F"), "reduce", "misdemeanor",
         "Possession for sale is now a misdemeanor: redesignate / resentence as a misdemeanor.", f"{_R}(a)-(f); HS 11359(b)"),
        ((sec == "11360") & (lvl == "F"), "reduce", "misdemeanor",
         "Sale or transport is now a misdemeanor (gift or non-sale facts unknown): redesignate / resentence as a misdemeanor.", f"{_R}(a)-(f); HS 11360(a)(2)"),
        # HS 11362.1(a)(1): giving away or transporting up to 28.5 g is lawful at 21+
        (give_away & lvl.is_in(["M", "I"]) & adult21, "dismiss", None,
         "Giving away or transporting up to 28.5 g by a person 21 or older is now lawful: dismiss and seal.", f"{_R}(e)-(f); HS 11362.1"),
        (give_away & (lvl == "M") & under21, "reduce", "infraction",
         "Giving away or transporting up to 28.5 g under 21 is now an infraction: redesignate as an infraction.", f"{_R}(e)-(f); HS 11360(b)"),
        (give_away & (lvl == "I") & under21, "ineligible", None,
         "Giving away or transporting up to 28.5 g under 21 as an infraction is still an infraction: no relief under the statute.",
         "HS 11360(b); HS 11361.8"),
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

_GUARD_ORDER = ("disqualifier", "age", "sentence")


class _Decision:
    """A profile's decision for every row, as expressions: which rule, whether a guard blocked
    it, the outcome and the relief (before the post-hoc guard on undated disqualifiers)."""

    def __init__(self, profile: Profile, as_of: date, tag: str):
        self.rules = profile.active_rules
        self.profile = profile
        self.states = [rule_state(r, as_of) for r in self.rules]
        self.col = f"_rule{tag}"
        idx = None
        for i, (t, u, _) in enumerate(self.states):
            idx = (pl.when(t | u) if idx is None else idx.when(t | u)).then(pl.lit(i, dtype=pl.Int32))
        self.index = idx.otherwise(pl.lit(None, dtype=pl.Int32)) if idx is not None else pl.lit(None, dtype=pl.Int32)
        self.rem = remedy()

    def by_rule(self, getter, default):
        e = None
        for i, rule in enumerate(self.rules):
            cond = pl.col(self.col) == i
            e = (pl.when(cond) if e is None else e.when(cond)).then(getter(i, rule))
        return e.otherwise(default) if e is not None else default

    def by_rule_rows(self, f: pl.DataFrame, spec: dict) -> list[pl.Series]:
        """``by_rule`` for costly columns (texts, evidence lists): each rule's expression is
        evaluated only on the rows that rule decided, not on every row (the expressions are
        row-wise, so the values are those ``by_rule`` gives). ``spec``: name -> (getter, default)."""
        lf = f.lazy().with_row_index("_pos")
        idx = pl.col(self.col)
        parts = [lf.filter(idx == i).select("_pos", *[g(i, rule).alias(n) for n, (g, _) in spec.items()])
                 for i, rule in enumerate(self.rules)]
        parts.append(lf.filter(idx.is_null()).select("_pos", *[d.alias(n) for n, (_, d) in spec.items()]))
        out = pl.concat(pl.collect_all(parts), how="vertical_relaxed").sort("_pos")
        return out.drop("_pos").get_columns()

    def blocked(self) -> pl.Expr:
        return self.by_rule(lambda i, r: self.states[i][1], _FALSE).fill_null(False)

    def outcome(self) -> pl.Expr:
        rem_out = self.rem[0]
        chosen = self.by_rule(lambda i, r: rem_out if r.outcome == "statutory_remedy" else pl.lit(r.outcome), pl.lit("review"))
        return pl.when(self.blocked()).then(pl.lit("review")).otherwise(chosen)

    def relief(self) -> pl.Expr:
        rem_out, rem_rel = self.rem[0], self.rem[1]

        def default_relief(i, rule: Rule):
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

        return pl.when(self.blocked()).then(None).otherwise(self.by_rule(default_relief, pl.lit(None, dtype=pl.String)))

    def posthoc_disqualifier(self, outcome: pl.Expr) -> pl.Expr:
        """Shared guard: in a profile that looks at prior disqualifiers, a felony it would relieve
        goes to review while a super-strike or PC 290 entry may be a prior (its date is unknown)."""
        if not self.profile.looks_at_disqualifiers():
            return _FALSE
        return ((pl.col("level") == "F") & pl.col("disqualifier_date_unknown") & outcome.is_in(["dismiss", "reduce"])).fill_null(False)


def evaluate(f: pl.DataFrame, profile: Profile, as_of: date) -> pl.DataFrame:
    d = _Decision(profile, as_of, "")
    rules = d.rules
    # the statute's own answer for the same rows decides whether relief rests on it (relief_basis)
    statutory = load_profile("statutory")
    ds = d if profile.text and profile.text == statutory.text and not profile.list_edits else _Decision(statutory, as_of, "_stat")
    f = f.with_columns(d.index.alias(d.col), *([ds.index.alias(ds.col)] if ds is not d else []))
    f = f.with_columns(d.outcome().alias("_outcome0"), d.relief().alias("_relief0"), d.blocked().alias("_blocked"),
                       *([ds.outcome().alias("_stat_outcome0"), ds.relief().alias("_stat_relief")] if ds is not d else []))
    if ds is d:
        f = f.with_columns(pl.col("_outcome0").alias("_stat_outcome0"), pl.col("_relief0").alias("_stat_relief"))
    f = f.with_columns(d.posthoc_disqualifier(pl.col("_outcome0")).alias("_posthoc"),
                       ds.posthoc_disqualifier(pl.col("_stat_outcome0")).alias("_stat_posthoc"))

    rem_out, rem_rel, rem_reason, rem_basis = d.rem

    def evidence_text(cols: list[str]) -> pl.Expr | None:
        detail = [pl.when(pl.col(f"{c}_text") != "").then(pl.col(f"{c}_text")) for c in cols]
        if not detail:
            return None
        joined = pl.concat_str(detail, separator="; ", ignore_nulls=True)
        return pl.when(joined.is_not_null() & (joined != "")).then(pl.concat_str([pl.lit(" Evidence: "), joined, pl.lit(".")]))

    def with_basis(texts: list, basis: pl.Expr) -> pl.Expr:
        return pl.concat_str([pl.concat_str([t for t in texts if t is not None], ignore_nulls=True), pl.lit(" ["), basis, pl.lit("]")])

    def reason(i, rule: Rule):
        if rule.outcome == "statutory_remedy":
            texts = ([pl.lit(rule.reason + " ")] if rule.reason else []) + [rem_reason]
        else:
            texts = [pl.lit(rule.reason)]
        basis = rem_basis if rule.outcome == "statutory_remedy" else pl.lit(rule.basis)
        normal = with_basis(texts + [evidence_text(_evidence_cols(rule))], basis)
        facts = [fct for fct in _GUARD_ORDER if fct in rule.uses()]
        if not facts:
            return normal
        blocked = None
        for fct in reversed(facts):
            g = DOUBT_GUARDS[fct]
            text = with_basis([pl.lit(f"{g.reason} Rule [{rule.id}] ({_rule_conditions(rule)}) could not be applied."),
                               evidence_text([_GUARD_EVIDENCE[fct]] + _evidence_cols(rule))], pl.lit(g.basis))
            cond = _fact_unknown(rule, fct, as_of)
            blocked = text if blocked is None else pl.when(cond).then(text).otherwise(blocked)
        return pl.when(pl.col("_blocked")).then(blocked).otherwise(normal)

    def rule_id(i, rule: Rule):
        facts = [fct for fct in _GUARD_ORDER if fct in rule.uses()]
        if not facts:
            return pl.lit(rule.id)
        out = None
        for fct in reversed(facts):
            gid = pl.lit(DOUBT_GUARDS[fct].id)
            out = gid if out is None else pl.when(_fact_unknown(rule, fct, as_of)).then(gid).otherwise(out)
        return pl.when(pl.col("_blocked")).then(out).otherwise(pl.lit(rule.id))

    def citation(i, rule: Rule):
        own = rem_basis if rule.outcome == "statutory_remedy" else pl.lit(rule.basis)
        facts = [fct for fct in _GUARD_ORDER if fct in rule.uses()]
        if not facts:
            return own
        out = None
        for fct in reversed(facts):
            b = pl.lit(DOUBT_GUARDS[fct].basis)
            out = b if out is None else pl.when(_fact_unknown(rule, fct, as_of)).then(b).otherwise(out)
        return pl.when(pl.col("_blocked")).then(out).otherwise(own)

    def evidence(i, rule: Rule):
        cols = _evidence_cols(rule)
        lists = [pl.col("self_refs")] + [pl.col(f"{c}_refs") for c in cols]
        facts = [fct for fct in _GUARD_ORDER if fct in rule.uses()]
        for fct in facts:
            lists.append(pl.when(pl.col("_blocked") & _fact_unknown(rule, fct, as_of))
                         .then(pl.col(f"{_GUARD_EVIDENCE[fct]}_refs")))
        return pl.concat_list([x.fill_null([]) for x in lists])

    no_rule_reason = pl.lit("No rule of the profile applies to this conviction: attorney review. [profile " + profile.id + "]")
    g = DOUBT_GUARDS["disqualifier"]
    posthoc_reason = pl.concat_str([
        pl.lit(g.reason + " The profile would have proposed "), pl.col("_outcome0"), pl.lit(" under rule ["),
        pl.col("_rule_id0"), pl.lit("]."), evidence_text(["ev_disq_unknown"]).fill_null(""), pl.lit(f" [{g.basis}]")])
    f = f.with_columns(d.by_rule_rows(f, {
        "_rule_id0": (rule_id, pl.lit("no-rule")),
        "_citation0": (citation, pl.lit("profile " + profile.id)),
        "_reason0": (reason, no_rule_reason),
        "_evidence0": (evidence, pl.col("self_refs")),
    }))
    # Rules passed over because "no conviction within N years" could not be decided: say so.
    notes, note_refs = [], []
    for i, rule in enumerate(rules):
        s = d.states[i][2]
        conds = [c for c in rule.when + rule.when_any if c.name == "no_conviction_within_years"]
        if not conds:
            continue
        passed = s & (pl.col(d.col).is_null() | (pl.col(d.col) > i))
        notes.append(pl.when(passed).then(pl.lit(
            f"Rule [{rule.id}] ({_rule_conditions(rule)}) could not be decided: a conviction on the record has no usable "
            f"date, so it may fall within the period; the rule was not applied.") + pl.coalesce(evidence_text(["ev_recent"]), pl.lit(""))
            + pl.lit(" [data quality]")))
        note_refs.append(pl.when(passed).then(pl.col("ev_recent_refs")))
    joined_notes = pl.concat_str(notes, separator=" | ", ignore_nulls=True) if notes else pl.lit(None, dtype=pl.String)
    note_text = pl.when(joined_notes != "").then(joined_notes)
    posthoc = pl.col("_posthoc")
    f = f.with_columns(
        pl.when(posthoc).then(pl.lit("review")).otherwise(pl.col("_outcome0")).alias("outcome"),
        pl.when(posthoc).then(pl.lit(g.id)).otherwise(pl.col("_rule_id0")).alias("rules"),
        pl.when(posthoc).then(pl.lit(g.basis)).otherwise(pl.col("_citation0")).alias("citations"),
        pl.concat_str([pl.when(posthoc).then(posthoc_reason).otherwise(pl.col("_reason0")), note_text],
                      separator=" | ", ignore_nulls=True).alias("reasons"),
        pl.concat_list([pl.col("_evidence0"), pl.when(posthoc).then(pl.col("ev_disq_unknown_refs")).fill_null([]),
                        *[r.fill_null([]) for r in note_refs]])
        .list.unique(maintain_order=True).list.join(";").alias("evidence"),
        (note_text.is_not_null()).alias("_undecided_note"),
        pl.when(pl.col("_stat_posthoc")).then(None).otherwise(pl.col("_stat_relief")).alias("_stat_relief"),
    )
    relief = pl.when(pl.col("outcome").is_in(["dismiss", "reduce"])).then(pl.col("_relief0")).otherwise(None)
    f = f.with_columns(relief.alias("relief"))
    f = f.with_columns(*_relief_basis(d),
                       pl.when(pl.col("sentence_end").is_null()).then(pl.lit("unknown"))
                       .when(pl.col("sentence_end") > as_of).then(pl.lit("petition")).otherwise(pl.lit("application")).alias("relief_track"),
                       pl.col("count_key").str.slice(6, 3).cast(pl.Int32, strict=False).alias("count"))
    f = f.with_columns(flags_expr(as_of).alias("flags"))
    return f.select(RESULT_COLUMNS).sort("subject_id", "court_case_number", "count_key", nulls_last=True)


def _rule_conditions(rule: Rule) -> str:
    parts = [c.describe() for c in rule.when]
    if rule.when_any:
        parts.append("any of: " + "; ".join(c.describe() for c in rule.when_any))
    if rule.outcome == "statutory_remedy":
        parts.append("the HS 11361.8 remedy table, which turns on the age at the offense")
    return " and ".join(parts) or "in every case"


def _fact_unknown(rule: Rule, fact: str, as_of: date) -> pl.Expr:
    """Some condition of the rule that uses ``fact`` cannot be decided for this row."""
    exprs = [doubt_expr(c) for c in rule.when + rule.when_any if PREDICATES[c.name].uses == fact]
    if rule.outcome == "statutory_remedy" and fact == "age":
        exprs.append(pl.col("dob_doubted"))
    return _any(exprs).fill_null(False)


def _relief_basis(d: _Decision) -> list[pl.Expr]:
    """relief_basis: statute_* when the statutory profile gives the same relief for the row,
    policy_* when it does not; a rule's explicit ``legal_basis`` is kept, except that a
    statutory basis is never claimed where the statute does not give that relief."""
    same = pl.col("relief").eq_missing(pl.col("_stat_relief")) & pl.col("_stat_relief").is_not_null()
    derived = (pl.when(pl.col("outcome") == "dismiss")
               .then(pl.when(same).then(pl.lit("statute_dismissal")).otherwise(pl.lit("policy_dismissal")))
               .when(pl.col("outcome") == "reduce")
               .then(pl.when(same).then(pl.lit("statute_redesignation")).otherwise(pl.lit("policy_redesignation")))
               .otherwise(pl.lit(None, dtype=pl.String)))
    explicit = d.by_rule(lambda i, r: pl.lit(r.legal_basis, dtype=pl.String), pl.lit(None, dtype=pl.String))
    relief_now = pl.col("outcome").is_in(["dismiss", "reduce"])
    claims_statute = explicit.str.starts_with("statute_").fill_null(False)
    downgraded = relief_now & claims_statute & derived.str.starts_with("policy_").fill_null(False)
    basis = (pl.when(~relief_now).then(pl.lit(None, dtype=pl.String))
             .when(explicit.is_null() | claims_statute).then(derived)
             .otherwise(explicit))
    return [basis.alias("relief_basis"), downgraded.alias("_basis_downgraded")]


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
        "dob_after_conviction": pl.col("dob_doubted"),
        "level_from_toc": pl.col("q_level_from_toc"),
        "level_unknown": pl.col("level").is_null(),
        "attempt": pl.col("qualifier") == "attempt",
        "conspiracy": pl.col("qualifier") == "conspiracy",
        "prior_super_strike": pl.col("prior_super_strike"),
        "later_super_strike": pl.col("later_super_strike"),
        "prior_pc290": pl.col("prior_pc290"),
        "later_pc290": pl.col("later_pc290"),
        "disqualifier_date_unknown": pl.col("disqualifier_date_unknown"),
        "disqualifier_subsection_unknown": pl.col("disqualifier_subsection_unknown"),
        "same_section_priors": pl.col("same_section_priors") > 0,
        "juvenile": age < 18,
        "age_near_18": (age >= 17) & (age <= 18),
        "age_near_21": (age >= 20) & (age <= 21),
        "age_unknown": age.is_null(),
        "sentence_unknown": pl.col("sentence_end").is_null(),
        "sentence_implausible": pl.col("sentence_implausible"),
        "still_serving": pl.col("sentence_end") > as_of,
        "deceased": pl.col("deceased"),
        "no_case_number": pl.col("court_case_number").is_null(),
        "related_charge": pl.col("is_related_charge"),
        "recent_conviction_undated": pl.col("_undecided_note"),
        "legal_basis_not_statutory": pl.col("_basis_downgraded"),
    }
    return pl.concat_str([pl.when(c.fill_null(False)).then(pl.lit(k)) for k, c in conds.items()], separator=";", ignore_nulls=True).fill_null("")
