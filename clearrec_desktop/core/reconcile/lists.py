"""The three lists of a reconciliation, each screened with the active profile.

- **county only**: cannabis convictions in the county's records that match nothing on DOJ's
  list. When the person is linked to a DOJ subject (an accepted link), the subject's whole
  statewide record supplies the priors: the county's rows are screened together with the
  subject's DOJ rows. When not, the county's own rows are all there is, and a guard sends any
  relief to attorney review because the statewide history is unknown, unless the profile
  switches on the option ``relieve_without_statewide_history``.
- **DOJ only**: convictions on DOJ's list the county cannot find; DOJ's outcome stands and the
  reason asks the clerk to find the court file.
- **both, disagreeing**: a linked pair whose section, level, conviction date or disposition
  differ; the outcome follows DOJ's record and the reason names the disagreement. When DOJ's
  record is not a cannabis conviction at all while the county's is, the conviction goes to
  attorney review.

Linked pairs that agree are "both". A proposed link is shown with its pair (flag
``link_proposed``) until the clerk confirms or splits it; it is never merged silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from ..screen import screening
from ..screen.profiles import Profile
from .linkage import Linkage, LinkDecision, link

PROVENANCE = ("both", "both_disagreeing", "doj_only", "county_only")
GUARD_OPTION = "relieve_without_statewide_history"
GUARD_ID = "guard-statewide-history-unknown"
GUARD_REASON = ("Found in the county's records only, and the person could not be linked to anyone on DOJ's list, "
                "so their statewide history (convictions elsewhere in California) is unknown: attorney review.")
GUARD_BASIS = "HS 11361.8; statewide history unknown"
DISAGREE_ID = "reconcile-records-disagree"

# Flags a reconciliation adds (id -> plain text, like screening.FLAGS).
FLAGS = {
    "not_on_doj_list": "found in the county's records, not on DOJ's list",
    "not_in_county_records": "on DOJ's list, not found in the county's records",
    "sources_disagree": "DOJ's record and the county's differ",
    "link_proposed": "link between DOJ and county records proposed: confirm or split",
    "statewide_history_unknown": "statewide history unknown (no DOJ record linked)",
}

# Columns added to the screening results.
RESULT_EXTRA = ["provenance", "link_status", "link_score", "disagreements"]


@dataclass
class Reconciliation:
    results: pl.DataFrame      # screening results (screening.RESULT_COLUMNS + RESULT_EXTRA), every list
    table: pl.DataFrame        # one row per conviction: provenance, both sides, link, disagreements
    rows: pl.DataFrame         # DOJ rows + the county rows screened (re-keyed), for summaries
    linkage: Linkage
    counts: dict


def _noop(fraction: float, message: str) -> None:
    pass


def _add_flags(*flags: tuple[str, pl.Expr]) -> pl.Expr:
    """The flags column with each flag appended where its condition holds."""
    parts = [pl.col("flags").fill_null("")] + [pl.when(c.fill_null(False)).then(pl.lit(f)) for f, c in flags]
    return pl.concat_str(parts, separator=";", ignore_nulls=True).str.strip_chars(";").alias("flags")


def _record_table(lk: Linkage, screened_doj: pl.Series) -> pl.DataFrame:
    """Every conviction of the lists: linked pairs, DOJ-only and county-only records."""
    d = lk.doj_records.select(pl.col("d_rec"), pl.col("d_person"),
                              *[pl.col(c).alias(f"doj_{c}") for c in ("court_case_number", "code_section", "level",
                                                                       "conviction_date", "convicted", "cannabis",
                                                                       "source_file", "source_line")])
    c = lk.county_records.select(pl.col("c_rec"), pl.col("c_person"), pl.col("subject_id").alias("c_subject"),
                                 pl.col("count_key").alias("c_count_key"),
                                 *[pl.col(x).alias(f"county_{x}") for x in ("court_case_number", "code_section", "level",
                                                                            "conviction_date", "convicted", "cannabis",
                                                                            "source_file", "source_line")])
    links = lk.convictions.select("c_rec", "d_rec", pl.col("status").alias("link_status"), pl.col("score").alias("link_score"),
                                  pl.col("fields").alias("link_fields"), "disagree_on", "disagreements")
    linked = links.join(d, on="d_rec").join(c, on="c_rec")
    doj_only = d.join(links, on="d_rec", how="anti")
    county_only = c.join(links, on="c_rec", how="anti")
    table = pl.concat([linked, doj_only, county_only], how="diagonal_relaxed")
    table = table.with_columns(
        pl.when(pl.col("c_rec").is_null()).then(pl.lit("doj_only"))
        .when(pl.col("d_rec").is_null()).then(pl.lit("county_only"))
        .when(pl.col("disagree_on").fill_null("") != "").then(pl.lit("both_disagreeing"))
        .otherwise(pl.lit("both")).alias("provenance"),
        pl.col("d_rec").is_in(screened_doj.implode()).fill_null(False).alias("doj_screened"),
    )
    keep = (pl.col("doj_cannabis").fill_null(False) | pl.col("county_cannabis").fill_null(False) | pl.col("doj_screened"))
    return table.filter(keep)


def _person_links(lk: Linkage) -> pl.DataFrame:
    """Each county person's best link: accepted ones first, then proposed."""
    rank = pl.when(pl.col("status").is_in(["confirmed", "auto"])).then(0).otherwise(1)
    return (lk.people.with_columns(rank.alias("_rank"))
            .sort(["c_person", "_rank", "score", "d_person"], descending=[False, False, True, False])
            .unique("c_person", keep="first", maintain_order=True)
            .select("c_person", pl.col("d_person").alias("person_doj_subject"), pl.col("status").alias("person_link_status"),
                    pl.col("score").alias("person_link_score"), pl.col("fields").alias("person_link_fields")))


def _shifted(expr: pl.Expr, offset: str) -> pl.Expr:
    return (expr.cast(pl.Int64, strict=False).fill_null(0) + pl.col(offset)).cast(pl.String).str.zfill(3)


def _rekey(rows: pl.DataFrame, offset: str) -> pl.DataFrame:
    return rows.with_columns(
        pl.col("_target").alias("subject_id"), _shifted(pl.col("cycle"), offset).alias("cycle"),
        pl.concat_str([_shifted(pl.col("count_key").str.slice(0, 3), offset), pl.col("count_key").str.slice(3)]).alias("count_key"),
    ).drop("_target", offset)


def _max_cycle(rows: pl.DataFrame, key: str) -> pl.DataFrame:
    n = pl.max_horizontal(pl.col("cycle").cast(pl.Int64, strict=False), pl.col("count_key").str.slice(0, 3).cast(pl.Int64, strict=False))
    return rows.group_by(key).agg(n.max().fill_null(0).alias("_max"))


def _county_screening_rows(doj_rows: pl.DataFrame, county_rows: pl.DataFrame, lk: Linkage, targets: pl.DataFrame):
    """Rows to screen the target county records with: per county person, the linked DOJ
    subjects' rows and the county rows DOJ lacks, all under one subject id and with the
    county's cycles numbered after DOJ's. Returns (rows for screening, county rows only
    (for summaries), target -> expected screening conviction id)."""
    accepted = lk.people.filter(pl.col("status").is_in(["auto", "confirmed"]))
    primary = (accepted.sort(["c_person", "score", "d_person"], descending=[False, True, False])
               .unique("c_person", keep="first", maintain_order=True).select("c_person", pl.col("d_person").alias("_target")))
    persons = targets.select("c_person").unique()
    linked_p = persons.join(primary, on="c_person", how="inner")
    unlinked_p = persons.join(primary, on="c_person", how="anti").with_columns(
        pl.concat_str([pl.lit("county:"), pl.col("c_person")]).alias("_target"))
    # DOJ blocks: the primary subject first, then the group's other linked subjects
    groups = linked_p.join(accepted.select("c_person", "d_person"), on="c_person")
    doj_blocks = (pl.concat([linked_p.select("_target", pl.col("_target").alias("d_person"), pl.lit(0).alias("_o")),
                             groups.select("_target", "d_person", pl.lit(1).alias("_o"))])
                  .sort("_target", "_o", "d_person").unique(["_target", "d_person"], keep="first", maintain_order=True))
    doj_max = _max_cycle(doj_rows.select(pl.col("subject_id").alias("d_person"), "cycle", "count_key"), "d_person")
    county_blocks = pl.concat([linked_p, unlinked_p]).select("_target", "c_person", pl.lit(2).alias("_o"))
    cmap = lk.county_records.select("subject_id", "c_person").unique()
    county_max = _max_cycle(county_rows.select("subject_id", "cycle", "count_key").join(cmap, on="subject_id"), "c_person")
    blocks = pl.concat([
        doj_blocks.join(doj_max, on="d_person", how="left").select("_target", "_o", pl.col("d_person").alias("_b"), "_max"),
        county_blocks.join(county_max, on="c_person", how="left").select("_target", "_o", pl.col("c_person").alias("_b"), "_max"),
    ]).with_columns(pl.col("_max").fill_null(0)).sort("_target", "_o", "_b")
    blocks = blocks.with_columns((pl.col("_max").cum_sum().over("_target") - pl.col("_max")).alias("_off"))

    # county rows: those of records DOJ does not have, and the targets themselves
    linked_recs = lk.convictions.select("c_rec")
    recs = lk.county_records.select("subject_id", "count_key", "c_rec", "c_person")
    keep = recs.join(linked_recs, on="c_rec", how="anti").select("c_rec")
    keep = pl.concat([keep, targets.select("c_rec")]).unique()
    crows = (county_rows.join(recs, on=["subject_id", "count_key"], how="inner")
             .join(keep, on="c_rec", how="semi")
             .join(blocks.filter(pl.col("_o") == 2).select(pl.col("_b").alias("c_person"), "_target", "_off"), on="c_person"))
    expected = (crows.select("c_rec", "_target", "_off", "count_key", "court_case_number").unique("c_rec")
                .with_columns(pl.concat_str([pl.col("_target"), pl.col("court_case_number").fill_null(""),
                                             _shifted(pl.col("count_key").str.slice(0, 3), "_off") + pl.col("count_key").str.slice(3)],
                                            separator="/").alias("_screen_id"))
                .select("c_rec", "_target", "_screen_id"))
    crows = _rekey(crows.drop("c_rec", "c_person"), "_off")
    drows = doj_rows.join(blocks.filter(pl.col("_o") < 2).select(pl.col("_b").alias("subject_id"), "_target", "_off"),
                          on="subject_id")
    drows = _rekey(drows, "_off")
    both = pl.concat([drows, crows], how="diagonal_relaxed")
    return both, crows, expected


def _guard(results: pl.DataFrame, apply: bool) -> pl.DataFrame:
    relief = pl.col("outcome").is_in(["dismiss", "reduce"])
    out = results.with_columns(_add_flags(("statewide_history_unknown", pl.lit(True))))
    if not apply:
        return out
    changed = [
        pl.when(relief).then(pl.lit("review")).otherwise(pl.col("outcome")).alias("outcome"),
        pl.when(relief).then(pl.lit(None, dtype=pl.String)).otherwise(pl.col("relief")).alias("relief"),
        pl.when(relief).then(pl.lit(GUARD_ID)).otherwise(pl.col("rules")).alias("rules"),
        pl.when(relief).then(pl.lit(GUARD_BASIS)).otherwise(pl.col("citations")).alias("citations"),
        pl.when(relief).then(pl.concat_str([pl.lit(GUARD_REASON + " With a statewide record, the profile would say: "),
                                            pl.col("reasons")])).otherwise(pl.col("reasons")).alias("reasons"),
    ]
    if "relief_basis" in out.columns:
        changed.append(pl.when(relief).then(None).otherwise(pl.col("relief_basis")).alias("relief_basis"))
    return out.with_columns(changed)


def reconcile(doj_rows: pl.DataFrame, county_rows: pl.DataFrame, *, county: str, as_of: date, profile: Profile,
              decisions: list[LinkDecision] | tuple = (), progress=_noop, cancel=None) -> Reconciliation:
    """Link, build the three lists and screen them. ``county`` is the normalised county key."""
    progress(0.0, "Linking people and convictions")
    lk = link(doj_rows, county_rows, county, decisions=decisions, cancel=cancel)
    progress(0.4, "Screening DOJ's convictions")
    doj_res = screening.screen(doj_rows, county=county, as_of=as_of, profile=profile, cancel=cancel)
    table = _record_table(lk, doj_res["conviction_id"])
    table = table.join(_person_links(lk), on="c_person", how="left")
    progress(0.6, "Screening the county's convictions")

    # County records screened from the county's side: county only, and disagreements where
    # DOJ's record is not one screening looks at.
    targets = table.filter((pl.col("provenance") == "county_only") & pl.col("county_cannabis")
                           | pl.col("d_rec").is_not_null() & ~pl.col("doj_screened") & pl.col("county_cannabis").fill_null(False))
    crows_all, crows, expected = _county_screening_rows(doj_rows, county_rows, lk, targets.select("c_rec", "c_person"))
    if targets.height:
        cres = screening.screen(crows_all, county=county, as_of=as_of, profile=profile, cancel=cancel)
        cres = (cres.join(expected, left_on="conviction_id", right_on="_screen_id", how="inner")
                .join(targets.select("c_rec", "d_rec", "provenance", "person_doj_subject", "person_link_status"), on="c_rec"))
    else:
        cres = doj_res.clear().with_columns(*[pl.lit(None, dtype=pl.String).alias(c) for c in
                                              ("c_rec", "_target", "d_rec", "provenance", "person_doj_subject", "person_link_status")])
    linked_target = ~pl.col("_target").str.starts_with("county:")
    only = cres.filter(pl.col("provenance") == "county_only")
    only_linked = only.filter(linked_target).with_columns(
        pl.concat_str([pl.col("reasons"), pl.lit(" Found in the county's records only (not on DOJ's list); priors taken from "
                                                 "the statewide record of DOJ subject "), pl.col("_target"), pl.lit(".")]).alias("reasons"))
    only_unlinked = _guard(only.filter(~linked_target), not profile.options.get(GUARD_OPTION, False))
    only_unlinked = only_unlinked.with_columns(
        pl.when(pl.col("person_link_status") == "proposed")
        .then(pl.concat_str([pl.col("reasons"), pl.lit(" A link to DOJ subject "), pl.col("person_doj_subject"),
                             pl.lit(" is proposed: confirming it supplies the statewide history.")]))
        .otherwise(pl.col("reasons")).alias("reasons"),
        _add_flags(("link_proposed", pl.col("person_link_status") == "proposed")))
    county_side = pl.concat([only_linked, only_unlinked], how="diagonal_relaxed").with_columns(
        pl.col("c_rec").alias("conviction_id"), _add_flags(("not_on_doj_list", pl.lit(True))))
    county_side = county_side.with_columns(pl.when(linked_target).then(pl.col("_target"))
                                           .otherwise(pl.col("subject_id")).alias("subject_id"))
    # DOJ's record of the count is not screened (not a cannabis conviction) but the county's is
    unscreened = cres.filter(pl.col("provenance") != "county_only").join(
        table.select("c_rec", "disagreements"), on="c_rec", how="left").with_columns(
        pl.col("d_rec").alias("conviction_id"), pl.lit("review").alias("outcome"), pl.lit(None, dtype=pl.String).alias("relief"),
        pl.lit(DISAGREE_ID).alias("rules"), pl.lit("HS 11361.8; records disagree").alias("citations"),
        pl.concat_str([pl.lit("The county's records show a cannabis conviction but DOJ's record of the same count does not ("),
                       pl.col("disagreements"), pl.lit("): attorney review. [HS 11361.8; records disagree]")]).alias("reasons"),
        _add_flags(("sources_disagree", pl.lit(True))))
    if "relief_basis" in unscreened.columns:
        unscreened = unscreened.with_columns(pl.lit(None, dtype=pl.String).alias("relief_basis"))

    progress(0.85, "Assembling the lists")
    info = table.select("d_rec", "c_rec", "provenance", "link_status", "link_score", "disagreements")
    doj_side = doj_res.join(info.filter(pl.col("d_rec").is_not_null()), left_on="conviction_id", right_on="d_rec", how="left")
    doj_side = doj_side.with_columns(
        pl.when(pl.col("provenance") == "both_disagreeing")
        .then(pl.concat_str([pl.col("reasons"), pl.lit(" DOJ's record and the county's differ ("), pl.col("disagreements"),
                             pl.lit("); the outcome follows DOJ's record.")]))
        .when(pl.col("provenance") == "doj_only")
        .then(pl.concat_str([pl.col("reasons"), pl.lit(" Not found in the county's records: find the court file.")]))
        .otherwise(pl.col("reasons")).alias("reasons"),
        _add_flags(("sources_disagree", pl.col("provenance") == "both_disagreeing"),
                   ("not_in_county_records", pl.col("provenance") == "doj_only"),
                   ("link_proposed", pl.col("link_status") == "proposed")),
    ).drop("c_rec")
    cols = list(doj_res.columns) + RESULT_EXTRA
    extra_county = county_side.with_columns(pl.lit(None, dtype=pl.String).alias("link_status"),
                                            pl.lit(None, dtype=pl.Float64).alias("link_score"),
                                            pl.lit(None, dtype=pl.String).alias("disagreements"))
    unscreened = unscreened.join(info.select("c_rec", "link_status", "link_score"), on="c_rec", how="left")
    results = pl.concat([doj_side.select(cols), extra_county.select(cols), unscreened.with_columns(
        pl.lit("both_disagreeing").alias("provenance"))
        .select(cols)], how="vertical_relaxed").sort("subject_id", "court_case_number", "count_key", nulls_last=True)

    # the reconciliation table: one row per result
    ids = pl.concat([
        doj_side.select("conviction_id", pl.col("conviction_id").alias("d_rec")),
        county_side.select("conviction_id", "c_rec"),
        unscreened.select("conviction_id", "c_rec"),
    ], how="diagonal_relaxed")
    t = table.drop("provenance", "link_status", "link_score", "disagreements")
    by_d = ids.filter(pl.col("c_rec").is_null()).select("conviction_id", "d_rec").join(t.filter(pl.col("d_rec").is_not_null()), on="d_rec", how="left")
    by_c = ids.filter(pl.col("c_rec").is_not_null()).select("conviction_id", "c_rec").join(t.filter(pl.col("c_rec").is_not_null()), on="c_rec", how="left")
    rec = pl.concat([by_d, by_c], how="diagonal_relaxed")
    out = results.select("conviction_id", *RESULT_EXTRA, "outcome", "relief").join(rec, on="conviction_id", how="left")
    table_out = out.select(
        "conviction_id", "provenance", "outcome", "relief", "link_status", "link_score", "link_fields", "disagree_on",
        "disagreements", "person_link_status", "person_link_score", "person_link_fields",
        pl.coalesce(pl.col("d_person"), pl.col("person_doj_subject")).alias("doj_subject_id"),
        *[f"doj_{c}" for c in ("court_case_number", "code_section", "level", "conviction_date", "convicted", "source_file", "source_line")],
        pl.col("c_person").alias("county_person"),
        *[f"county_{c}" for c in ("court_case_number", "code_section", "level", "conviction_date", "convicted", "source_file", "source_line")],
    ).sort("provenance", "conviction_id")
    rows = pl.concat([doj_rows, crows], how="diagonal_relaxed")
    progress(1.0, "Done")
    return Reconciliation(results=results, table=table_out, rows=rows, linkage=lk, counts=_counts(table_out, results, lk))


def _counts(table: pl.DataFrame, results: pl.DataFrame, lk: Linkage) -> dict:
    def tally(frame: pl.DataFrame, col: str) -> dict:
        return {str(k): int(v) for k, v in frame.group_by(col).len().sort(col).iter_rows() if k is not None}

    lists = {p: 0 for p in PROVENANCE}
    lists.update(tally(table, "provenance"))
    only = results.filter(pl.col("provenance") == "county_only")
    found = only.with_columns((pl.col("conviction_date").dt.year() // 10 * 10).cast(pl.String).fill_null("unknown").alias("decade"),
                              pl.col("code_section").str.extract(r"(\d{5})", 1).fill_null("other").alias("section"))
    disagree = (table.filter(pl.col("disagree_on").fill_null("") != "").select(pl.col("disagree_on").str.split(";"))
                .explode("disagree_on"))
    relieved = only.filter(pl.col("outcome").is_in(["dismiss", "reduce"])).select("subject_id").n_unique()
    return {
        "lists": lists,
        "county_only_with_doj_history": int(only.filter(~pl.col("flags").str.contains("statewide_history_unknown")).height),
        "county_only_history_unknown": int(only.filter(pl.col("flags").str.contains("statewide_history_unknown")).height),
        "county_only_by_outcome": tally(only, "outcome"),
        "county_only_by_section": tally(found, "section"),
        "county_only_by_decade": tally(found, "decade"),
        "people_newly_relieved": int(relieved),
        "disagreements": tally(disagree, "disagree_on") if disagree.height else {},
        "person_links": tally(lk.people, "status"),
        "conviction_links": tally(lk.convictions, "status"),
        "link_decisions_applied": lk.decisions_applied,
        "link_decisions_no_longer_apply": len(lk.decisions_unused),
    }
