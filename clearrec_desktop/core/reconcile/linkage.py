"""Linking people and convictions across a DOJ import and a county import.

Both inputs are row frames as the importer makes them (``ingest.importer.import_files``).

People. Candidate pairs come from blocking in polars, never from comparing everyone with
everyone: the same CII number; the same date of birth (or with day and month swapped) and a
word of the name starting with the same three letters; the same name words and birth year;
and the same court case, section and conviction date (which finds people whose name and date
of birth both differ). Each candidate is scored from the name (``keys.name_similarity`` over
every name a person goes by: AKAs), the date of birth and the CII number; sharing a court case
number adds to the score. Links at or above ``PERSON_AUTO`` are accepted, those at or above
``PERSON_PROPOSE`` are proposed for the clerk to confirm or split.

Convictions. Within linked pairs of people, every court count of the county on one side is
compared with every one on the other: normalised court case number, section, conviction date
(``DATE_TOLERANCE_DAYS``) and level. Each record joins at most one link, best scores first
(mutual best matches, repeated). A link is accepted at ``CONVICTION_AUTO`` or more when its
people are accepted; otherwise it is proposed. Every link keeps its score and the fields that
made it; nothing is merged silently.

The clerk's decisions (``LinkDecision``: confirm or split) are applied on every run: a split
pair is never linked again, a confirmed pair always is. Decisions name records by stable keys
(the DOJ subject id and count; the county person and court case), so they survive re-imports.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import polars as pl

from ..errors import Cancelled
from ..ingest.normalise import CANNABIS_SECTIONS
from .keys import case_keys, name_key, name_prefixes, name_similarity, swapped_dob

PERSON_AUTO = 0.94
PERSON_PROPOSE = 0.80
PERSON_MARGIN = 0.05          # a person's links must score within this of its best one
CASE_BOOST = 0.10             # people sharing a court case number
CONVICTION_AUTO = 0.60
CONVICTION_PROPOSE = 0.25
DATE_TOLERANCE_DAYS = 7

# Conviction score parts (they add up to 1.0 for full agreement).
_CASE_FULL, _CASE_SHORT, _CASE_MISSING = 0.65, 0.60, 0.30
_SECTION, _SUBSECTION = 0.12, 0.03
_DATE_EXACT, _DATE_NEAR, _DATE_UNKNOWN = 0.10, 0.07, 0.04
_LEVEL = 0.05
_DISPOSITION = 0.05

DECISIONS = ("confirm", "split")
KINDS = ("person", "conviction")


@dataclass(frozen=True)
class LinkDecision:
    """The clerk's word on one link: ``kind`` person (county person key, DOJ subject id) or
    conviction (county record key, DOJ record key)."""
    kind: str
    county_key: str
    doj_key: str
    decision: str


@dataclass
class Linkage:
    people: pl.DataFrame              # c_person, d_person, score, status, fields
    convictions: pl.DataFrame         # c_rec, d_rec, score, status, fields, disagree_on, disagreements
    county_records: pl.DataFrame      # one row per county court count (see court_counts)
    doj_records: pl.DataFrame
    decisions_applied: int = 0
    decisions_unused: list[LinkDecision] = field(default_factory=list)


def _check(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def person_key(subject_id: str) -> str:
    """A county person's stable key: a digest of the county's own person id (which may be
    built from a CII number, so it is never shown or logged as such)."""
    return "P" + hashlib.sha256(subject_id.encode("utf-8")).hexdigest()[:16].upper()


def _person_keys(ids: pl.Series) -> pl.DataFrame:
    uniq = ids.unique().drop_nulls()
    return pl.DataFrame({"subject_id": uniq, "c_person": [person_key(s) for s in uniq.to_list()]},
                        schema={"subject_id": pl.String, "c_person": pl.String})


_RECORD_COLS = ["court_case_number", "code_section", "section_num", "section_sub", "qualifier", "level",
                "conviction_date", "conviction_date_quality", "disposition", "courthouse", "source_file"]


def court_counts(rows: pl.DataFrame, county: str, *, side: str) -> pl.DataFrame:
    """One row per court count of ``county``: its keys, charge, level, date, disposition and
    whether it is a cannabis conviction. ``side`` is "doj" or "county"."""
    r = rows.lazy().filter(pl.col("county") == county)
    if side == "doj":  # arrests and prosecutor rejections are not court counts
        r = r.filter(pl.col("step_type").fill_null("").str.contains("COURT") | pl.col("convicted"))
    rec = (r.sort("source_file", "source_line")
           .group_by("subject_id", "count_key", maintain_order=True)
           .agg(*[pl.col(c).first() for c in _RECORD_COLS], pl.col("source_line").min(), pl.col("convicted").any())
           .collect())
    full, short = case_keys(pl.col("court_case_number"))
    rec = rec.with_columns(
        full.alias("case_full"), short.alias("case_short"),
        (pl.col("convicted") & pl.col("section_num").is_in(CANNABIS_SECTIONS)).fill_null(False).alias("cannabis"),
    )
    if side == "doj":
        return rec.with_columns(
            pl.col("subject_id").alias("d_person"),
            pl.concat_str([pl.col("subject_id"), pl.col("court_case_number").fill_null(""), pl.col("count_key")],
                          separator="/").alias("d_rec"))
    rec = rec.join(_person_keys(rec["subject_id"]), on="subject_id", how="left")
    # A stable key: who, which case, which charge, which day (+ an ordinal for identical counts);
    # the importer's own count numbers change when older cases are added to the file.
    base = pl.concat_str([pl.lit("county:"), pl.col("c_person"), pl.lit("/"),
                          pl.coalesce(pl.col("case_full"), pl.lit("")), pl.lit("/"),
                          pl.col("code_section").fill_null("?"), pl.lit("/"),
                          pl.col("conviction_date").cast(pl.String).fill_null("?")])
    rec = rec.with_columns(base.alias("_base")).sort("_base", "source_file", "source_line").with_columns(
        pl.concat_str([pl.col("_base"), pl.lit("#"), (pl.int_range(pl.len()).over("_base") + 1).cast(pl.String)])
        .alias("c_rec")).drop("_base")
    return rec.sort("source_file", "source_line")


def _identities(rows: pl.DataFrame, people: pl.DataFrame, person_col: str) -> pl.DataFrame:
    """Every (name, date of birth, CII) a person is recorded under, with comparison keys."""
    ids = (rows.lazy().join(people.lazy(), on="subject_id", how="inner")
           .select(person_col, "name", "dob", pl.col("cii_number").alias("cii"))
           .unique().collect())
    return ids.with_columns(name_key(pl.col("name")).alias("nkey"))


def _identity_pairs(ci: pl.DataFrame, di: pl.DataFrame) -> pl.DataFrame:
    """Blocking on who people are: the same CII; the same birth date (or with day and month
    swapped) and a name word starting alike; the same name words and birth year."""
    pairs = [ci.filter(pl.col("cii").is_not_null()).select("c_person", "cii")
             .join(di.filter(pl.col("cii").is_not_null()).select("d_person", "cii"), on="cii").select("c_person", "d_person")]
    cp = ci.filter(pl.col("dob").is_not_null()).with_columns(name_prefixes(pl.col("nkey")).alias("p")).explode("p")
    dp = di.filter(pl.col("dob").is_not_null()).with_columns(name_prefixes(pl.col("nkey")).alias("p")).explode("p")
    cp, dp = cp.filter(pl.col("p").str.len_chars() > 1), dp.filter(pl.col("p").str.len_chars() > 1)
    pairs.append(cp.select("c_person", "dob", "p").join(dp.select("d_person", "dob", "p"), on=["dob", "p"])
                 .select("c_person", "d_person"))
    pairs.append(cp.select("c_person", swapped_dob(pl.col("dob")).alias("dob"), "p").drop_nulls("dob")
                 .join(dp.select("d_person", "dob", "p"), on=["dob", "p"]).select("c_person", "d_person"))
    year = pl.col("dob").dt.year().alias("y")
    pairs.append(ci.filter(pl.col("nkey") != "").select("c_person", "nkey", year)
                 .join(di.filter(pl.col("nkey") != "").select("d_person", "nkey", year), on=["nkey", "y"])
                 .select("c_person", "d_person"))
    return pl.concat(pairs).unique()


def _rescue_pairs(crec: pl.DataFrame, drec: pl.DataFrame) -> pl.DataFrame:
    """The same court case, charge and day: people whose name and birth date both differ."""
    same = ["case_full", "section_num", "conviction_date"]
    return (crec.drop_nulls(same).select("c_person", *same).unique()
            .join(drec.drop_nulls(same).select("d_person", *same).unique(), on=same)
            .select("c_person", "d_person").unique())


def _score_people(pairs: pl.DataFrame, ci: pl.DataFrame, di: pl.DataFrame, shared: pl.DataFrame) -> pl.DataFrame:
    combos = (pairs.join(ci.rename({"name": "c_name", "dob": "c_dob", "cii": "c_cii", "nkey": "c_nkey"}), on="c_person")
              .join(di.rename({"name": "d_name", "dob": "d_dob", "cii": "d_cii", "nkey": "d_nkey"}), on="d_person"))
    todo = combos.filter(pl.col("c_nkey") != pl.col("d_nkey")).select("c_name", "d_name").unique().drop_nulls()
    sims = pl.DataFrame({"c_name": todo["c_name"], "d_name": todo["d_name"],
                         "_sim": list(map(name_similarity, todo["c_name"].to_list(), todo["d_name"].to_list()))},
                        schema={"c_name": pl.String, "d_name": pl.String, "_sim": pl.Float64})
    combos = combos.join(sims, on=["c_name", "d_name"], how="left")
    name = pl.when((pl.col("c_nkey") == pl.col("d_nkey")) & (pl.col("c_nkey") != "")).then(pl.lit(1.0)) \
        .otherwise(pl.col("_sim").fill_null(0.0))
    combos = combos.with_columns(name.alias("name_sim"))
    dob_exact = (pl.col("c_dob") == pl.col("d_dob")).fill_null(False)
    dob_swap = (swapped_dob(pl.col("c_dob")) == pl.col("d_dob")).fill_null(False)
    dob_year = (pl.col("c_dob").dt.year() == pl.col("d_dob").dt.year()).fill_null(False)
    dob_score = (pl.when(dob_exact).then(1.0).when(dob_swap).then(0.9).when(dob_year).then(0.6)
                 .when(pl.col("c_dob").is_null() | pl.col("d_dob").is_null()).then(0.3).otherwise(0.0))
    cii_eq = (pl.col("c_cii") == pl.col("d_cii")).fill_null(False)
    cii_diff = (pl.col("c_cii") != pl.col("d_cii")).fill_null(False)
    identity = 0.5 * pl.col("name_sim") + 0.5 * dob_score
    score = (pl.when(cii_eq).then(pl.max_horizontal(
        identity, pl.when((pl.col("name_sim") >= 0.8) | dob_exact | dob_swap).then(1.0).otherwise(0.85)))
        .when(cii_diff).then(identity - 0.15).otherwise(identity))
    name_field = pl.when(pl.col("name_sim") >= 0.999).then(pl.lit("name")).when(pl.col("name_sim") >= 0.5) \
        .then(pl.concat_str([pl.lit("name~"), pl.col("name_sim").round(2).cast(pl.String)]))
    dob_field = (pl.when(dob_exact).then(pl.lit("dob")).when(dob_swap).then(pl.lit("dob (day and month swapped)"))
                 .when(dob_year).then(pl.lit("birth year")))
    cii_field = pl.when(cii_eq).then(pl.lit("cii")).when(cii_diff).then(pl.lit("cii differs"))
    combos = combos.with_columns(score.clip(0.0, 1.0).alias("score"),
                                 pl.concat_str([cii_field, name_field, dob_field], separator=";", ignore_nulls=True)
                                 .alias("fields"), cii_eq.alias("cii_match"))
    best = (combos.sort(["score", "cii_match", "c_person", "d_person"], descending=[True, True, False, False])
            .unique(subset=["c_person", "d_person"], keep="first", maintain_order=True)
            .select("c_person", "d_person", "score", "fields", "cii_match"))
    best = best.join(shared.with_columns(pl.lit(True).alias("_shared")), on=["c_person", "d_person"], how="left")
    return best.with_columns(
        pl.when(pl.col("_shared")).then((pl.col("score") + CASE_BOOST).clip(0.0, 1.0)).otherwise(pl.col("score")).alias("score"),
        pl.when(pl.col("_shared")).then(pl.concat_str([pl.col("fields"), pl.lit("case number")], separator=";"))
        .otherwise(pl.col("fields")).alias("fields"),
    ).drop("_shared")


def _mutual_best(pairs: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """One-to-one pairs, best scores first: take the pairs that are each side's best, drop
    their records, repeat. Ties go to the smaller keys, so the result is deterministic."""
    remaining = pairs.sort(["score", "_gap", a, b], descending=[True, False, False, False], nulls_last=True)
    chosen = []
    while remaining.height:
        best_a = remaining.unique(subset=[a], keep="first", maintain_order=True)
        best_b = remaining.unique(subset=[b], keep="first", maintain_order=True)
        mutual = best_a.join(best_b.select(a, b), on=[a, b], how="semi")
        chosen.append(mutual)
        remaining = remaining.filter(~pl.col(a).is_in(mutual[a].implode()) & ~pl.col(b).is_in(mutual[b].implode()))
    return pl.concat(chosen) if chosen else pairs.clear()


def _conviction_features(pairs: pl.DataFrame, *, with_fields: bool) -> pl.DataFrame:
    both_case = pl.col("c_case_full").is_not_null() & pl.col("d_case_full").is_not_null()
    case_full = (pl.col("c_case_full") == pl.col("d_case_full")).fill_null(False)
    case_short = (pl.col("c_case_short") == pl.col("d_case_short")).fill_null(False)
    section = (pl.col("c_section_num") == pl.col("d_section_num")).fill_null(False)
    days = (pl.col("c_conviction_date") - pl.col("d_conviction_date")).dt.total_days().abs()
    level = (pl.col("c_level") == pl.col("d_level")).fill_null(False)
    sub = section & ((pl.col("c_section_sub") == pl.col("d_section_sub")) | pl.col("c_section_sub").is_null()
                     | pl.col("d_section_sub").is_null()).fill_null(True)
    disposition = (pl.col("c_convicted") == pl.col("d_convicted")).fill_null(False)
    case_part = (pl.when(case_full).then(_CASE_FULL).when(case_short).then(_CASE_SHORT)
                 .when(~both_case).then(_CASE_MISSING).otherwise(0.0))
    date_part = (pl.when(days == 0).then(_DATE_EXACT).when(days <= DATE_TOLERANCE_DAYS).then(_DATE_NEAR)
                 .when(days.is_null()).then(_DATE_UNKNOWN).otherwise(0.0))
    score = (case_part + pl.when(section).then(_SECTION).otherwise(0.0) + pl.when(sub).then(_SUBSECTION).otherwise(0.0)
             + date_part + pl.when(level).then(_LEVEL).otherwise(0.0) + pl.when(disposition).then(_DISPOSITION).otherwise(0.0))
    # Without the same case number, only the same section on (about) the same day is a candidate.
    score = pl.when(case_full | case_short | (section & (days.is_null() | (days <= DATE_TOLERANCE_DAYS)))).then(score).otherwise(0.0)
    fields = pl.concat_str([
        pl.when(case_full | case_short).then(pl.lit("case number")),
        pl.when(section).then(pl.lit("section")),
        pl.when(days == 0).then(pl.lit("date")).when(days <= DATE_TOLERANCE_DAYS)
        .then(pl.concat_str([pl.lit("date~"), days.cast(pl.String), pl.lit("d")])),
        pl.when(level).then(pl.lit("level")),
        pl.when(disposition).then(pl.lit("disposition")),
    ], separator=";", ignore_nulls=True)
    if with_fields:
        return pairs.with_columns(score.round(4).alias("score"), fields.alias("fields"))
    # Counts of one case are usually listed in the same order on both sides: between otherwise
    # equal candidates, the one in the same place in its case wins.
    gap = (pl.col("c_rank").cast(pl.Int64) - pl.col("d_rank").cast(pl.Int64)).abs()
    return pairs.with_columns(score.round(4).alias("score"),
                              pl.when(case_full | case_short).then(gap).otherwise(None).alias("_gap"))


def _side_text(col: str, who: str) -> pl.Expr:
    return pl.concat_str([pl.col(col).cast(pl.String).fill_null("blank"), pl.lit(f" ({who})")])


def disagreements(links: pl.DataFrame) -> pl.DataFrame:
    """Which fields of a linked pair differ (both known), as codes and as plain text."""
    sub_c, sub_d = pl.col("c_section_sub"), pl.col("d_section_sub")
    section = ((pl.col("c_section_num") != pl.col("d_section_num")).fill_null(False)
               | (sub_c.is_not_null() & sub_d.is_not_null() & (sub_c != sub_d)).fill_null(False)
               | (pl.col("c_qualifier").fill_null("") != pl.col("d_qualifier").fill_null("")))
    level = (pl.col("c_level") != pl.col("d_level")).fill_null(False)
    days = (pl.col("c_conviction_date") - pl.col("d_conviction_date")).dt.total_days().abs()
    date = (days > DATE_TOLERANCE_DAYS).fill_null(False)
    disposition = pl.col("c_convicted") != pl.col("d_convicted")
    case = (pl.col("c_case_full").is_not_null() & pl.col("d_case_full").is_not_null()
            & (pl.col("c_case_full") != pl.col("d_case_full")) & (pl.col("c_case_short") != pl.col("d_case_short")).fill_null(True))
    conv = lambda c: pl.when(pl.col(c)).then(pl.lit("convicted")).otherwise(pl.lit("not a conviction"))  # noqa: E731
    qual = lambda s: pl.concat_str([pl.col(f"{s}_qualifier"), pl.col(f"{s}_code_section")], separator=" ", ignore_nulls=True)  # noqa: E731
    texts = [
        pl.when(section).then(pl.concat_str([pl.lit("section "), qual("d").fill_null("blank"), pl.lit(" (DOJ) / "),
                                             qual("c").fill_null("blank"), pl.lit(" (county)")])),
        pl.when(level).then(pl.concat_str([pl.lit("level "), _side_text("d_level", "DOJ"), pl.lit(" / "), _side_text("c_level", "county")])),
        pl.when(date).then(pl.concat_str([pl.lit("conviction date "), _side_text("d_conviction_date", "DOJ"), pl.lit(" / "),
                                          _side_text("c_conviction_date", "county")])),
        pl.when(disposition).then(pl.concat_str([pl.lit("disposition "), conv("d_convicted"), pl.lit(" (DOJ) / "),
                                                 conv("c_convicted"), pl.lit(" (county)")])),
        pl.when(case).then(pl.concat_str([pl.lit("court case number "), _side_text("d_court_case_number", "DOJ"), pl.lit(" / "),
                                          _side_text("c_court_case_number", "county")])),
    ]
    codes = [pl.when(section).then(pl.lit("section")), pl.when(level).then(pl.lit("level")),
             pl.when(date).then(pl.lit("date")), pl.when(disposition).then(pl.lit("disposition")),
             pl.when(case).then(pl.lit("case_number"))]
    return links.with_columns(pl.concat_str(codes, separator=";", ignore_nulls=True).fill_null("").alias("disagree_on"),
                              pl.concat_str(texts, separator="; ", ignore_nulls=True).fill_null("").alias("disagreements"))


_PAIR_COLS = ["court_case_number", "case_full", "case_short", "code_section", "section_num", "section_sub", "qualifier",
              "level", "conviction_date", "convicted"]
_FEATURE_COLS = ["case_full", "case_short", "section_num", "section_sub", "level", "conviction_date", "convicted"]


def _features(rec: pl.DataFrame, p: str, person: str, order: str) -> pl.DataFrame:
    """What comparing two records needs, narrow: an integer row id instead of the key, and
    case numbers as 64-bit hashes (only ever compared within one run)."""
    rank = pl.col(order).rank("ordinal").over(person, pl.col("case_full").fill_null("")).alias(f"{p}_rank")
    hashed = [pl.when(pl.col(c).is_not_null()).then(pl.col(c).hash()).alias(f"{p}_{c}") for c in ("case_full", "case_short")]
    return rec.select(pl.col("_idx").alias(f"{p}_idx"), person, rank, *hashed,
                      *[pl.col(c).alias(f"{p}_{c}") for c in _FEATURE_COLS if c not in ("case_full", "case_short")])


def _prefixed(rec: pl.DataFrame, p: str) -> pl.DataFrame:
    return rec.select(pl.col("_idx").alias(f"{p}_idx"), *[pl.col(c).alias(f"{p}_{c}") for c in _PAIR_COLS])


def _pairs(keys: list[tuple[str, str]], a: str, b: str) -> pl.DataFrame:
    return pl.DataFrame({a: [k[0] for k in keys], b: [k[1] for k in keys]}, schema={a: pl.String, b: pl.String})


def link(doj_rows: pl.DataFrame, county_rows: pl.DataFrame, county: str, *,
         decisions: list[LinkDecision] | tuple = (), cancel=None) -> Linkage:
    """Link the county's court counts of ``county`` across the two imports."""
    drec = court_counts(doj_rows, county, side="doj").with_row_index("_idx")
    di = _identities(doj_rows, drec.select("subject_id").unique().with_columns(pl.col("subject_id").alias("d_person")),
                     "d_person")
    _check(cancel)
    # The county's file may hold its whole caseload. Only people who may be on DOJ's list
    # (a candidate by who they are) or who have a cannabis conviction take part further.
    in_county = county_rows.lazy().filter(pl.col("county") == county)
    subjects = in_county.select("subject_id").unique().collect()
    ci_raw = _identities(county_rows, subjects.with_columns(pl.col("subject_id").alias("c_person")), "c_person")
    by_identity = _identity_pairs(ci_raw, di)
    _check(cancel)

    decisions = [d for d in decisions if d.kind in KINDS and d.decision in DECISIONS]
    wanted = [by_identity.select(pl.col("c_person").alias("subject_id")),
              in_county.filter(pl.col("convicted") & pl.col("section_num").is_in(CANNABIS_SECTIONS))
              .select("subject_id").collect()]
    if decisions:  # people the clerk has decided on take part whatever their records say
        keys = {d.county_key if d.kind == "person" else d.county_key.removeprefix("county:").split("/")[0] for d in decisions}
        wanted.append(_person_keys(subjects["subject_id"]).filter(pl.col("c_person").is_in(list(keys))).select("subject_id"))
    relevant = pl.concat(wanted).unique()
    crec = court_counts(county_rows.join(relevant, on="subject_id", how="semi"), county, side="county").with_row_index("_idx")
    cmap = crec.select("subject_id", "c_person").unique()
    ci = ci_raw.rename({"c_person": "subject_id"}).join(cmap, on="subject_id").drop("subject_id")
    by_identity = by_identity.rename({"c_person": "subject_id"}).join(cmap, on="subject_id").select("c_person", "d_person")
    del ci_raw
    _check(cancel)

    known_c = set(cmap["c_person"].to_list()) | set(crec["c_rec"].to_list())
    known_d = set(drec["d_person"].unique().to_list()) | set(drec["d_rec"].to_list())
    unused = [d for d in decisions if d.county_key not in known_c or d.doj_key not in known_d]
    live = [d for d in decisions if d not in unused]
    person_dec = {(d.county_key, d.doj_key): d.decision for d in live if d.kind == "person"}
    conv_dec = {(d.county_key, d.doj_key): d.decision for d in live if d.kind == "conviction"}
    confirmed_conv = _pairs([k for k, v in conv_dec.items() if v == "confirm"], "c_rec", "d_rec")
    implied = (confirmed_conv.join(crec.select("c_rec", "c_person"), on="c_rec")
               .join(drec.select("d_rec", "d_person"), on="d_rec").select("c_person", "d_person"))
    forced_people = pl.concat([_pairs([k for k, v in person_dec.items() if v == "confirm"], "c_person", "d_person"),
                               implied]).unique()

    # --- people -----------------------------------------------------------------------------
    pairs = pl.concat([by_identity, _rescue_pairs(crec, drec), forced_people]).unique().sort("c_person", "d_person")
    cases_c = pl.concat([crec.select("c_person", pl.col("case_full").alias("k")), crec.select("c_person", pl.col("case_short").alias("k"))])
    cases_d = pl.concat([drec.select("d_person", pl.col("case_full").alias("k")), drec.select("d_person", pl.col("case_short").alias("k"))])
    shared = (cases_c.drop_nulls().unique().join(cases_d.drop_nulls().unique(), on="k")
              .select("c_person", "d_person").unique().join(pairs, on=["c_person", "d_person"], how="semi"))
    people = _score_people(pairs, ci, di, shared)
    _check(cancel)
    split_people = _pairs([k for k, v in person_dec.items() if v == "split"], "c_person", "d_person")
    people = people.join(split_people, on=["c_person", "d_person"], how="anti")
    people = people.join(forced_people.with_columns(pl.lit(True).alias("forced")), on=["c_person", "d_person"], how="left") \
        .with_columns(pl.col("forced").fill_null(False))
    ok = people.filter((pl.col("score") >= PERSON_PROPOSE) | pl.col("forced"))
    # near-best only: a person's weaker candidates are other people (CII matches and the
    # clerk's confirmations always stay)
    ok = ok.with_columns(pl.col("score").max().over("c_person").alias("_bc"), pl.col("score").max().over("d_person").alias("_bd"))
    ok = ok.filter(pl.col("forced") | pl.col("cii_match")
                   | ((pl.col("score") >= pl.col("_bc") - PERSON_MARGIN) & (pl.col("score") >= pl.col("_bd") - PERSON_MARGIN)))
    people = ok.with_columns(
        pl.when(pl.col("forced")).then(pl.lit("confirmed")).when(pl.col("score") >= PERSON_AUTO).then(pl.lit("auto"))
        .otherwise(pl.lit("proposed")).alias("status"),
        pl.col("score").round(4),
    ).select("c_person", "d_person", "score", "status", "fields").sort("c_person", "d_person")

    # --- convictions ------------------------------------------------------------------------
    cand = (people.select("c_person", "d_person", (pl.col("status") != "proposed").alias("person_ok"))
            .join(_features(crec, "c", "c_person", "source_line"), on="c_person")
            .join(_features(drec, "d", "d_person", "count_key"), on="d_person")
            .drop("c_person", "d_person"))
    cand = _conviction_features(cand, with_fields=False)
    _check(cancel)
    idx = lambda frame: (frame.join(crec.select("c_rec", pl.col("_idx").alias("c_idx")), on="c_rec")  # noqa: E731
                         .join(drec.select("d_rec", pl.col("_idx").alias("d_idx")), on="d_rec").select("c_idx", "d_idx"))
    cand = cand.join(idx(_pairs([k for k, v in conv_dec.items() if v == "split"], "c_rec", "d_rec")),
                     on=["c_idx", "d_idx"], how="anti")
    forced = cand.join(idx(confirmed_conv), on=["c_idx", "d_idx"], how="semi").unique(["c_idx", "d_idx"])
    rest = cand.filter((pl.col("score") >= CONVICTION_PROPOSE)
                       & ~pl.col("c_idx").is_in(forced["c_idx"].implode()) & ~pl.col("d_idx").is_in(forced["d_idx"].implode()))
    del cand
    chosen = pl.concat([forced.with_columns(pl.lit("confirmed").alias("status")),
                        _mutual_best(rest, "c_idx", "d_idx").with_columns(
                            pl.when((pl.col("score") >= CONVICTION_AUTO) & pl.col("person_ok"))
                            .then(pl.lit("auto")).otherwise(pl.lit("proposed")).alias("status"))])
    del rest
    _check(cancel)
    chosen = (chosen.select("c_idx", "d_idx", "score", "status")
              .join(_prefixed(crec, "c"), on="c_idx").join(_prefixed(drec, "d"), on="d_idx")
              .join(crec.select(pl.col("_idx").alias("c_idx"), "c_rec", "c_person"), on="c_idx")
              .join(drec.select(pl.col("_idx").alias("d_idx"), "d_rec", "d_person"), on="d_idx"))
    chosen = disagreements(_conviction_features(chosen.rename({"score": "_score"}), with_fields=True)
                           .drop("score").rename({"_score": "score"}))
    convictions = chosen.select("c_rec", "d_rec", "c_person", "d_person", "score", "status", "fields",
                                "disagree_on", "disagreements").sort("d_rec", "c_rec")
    return Linkage(people=people, convictions=convictions, county_records=crec.drop("_idx"),
                   doj_records=drec.drop("_idx"), decisions_applied=len(live), decisions_unused=unused)
