"""Aggregates of a screening run (prop64-rules.md, "What a screening run must report").

People figures look at each screened person's whole record (every county, every offense):
after the proposed outcomes, how many have no felony left, no conviction left, or none in the
last 7 years, and the same if every screened conviction were dismissed. Counts under 11 are
suppressed in the ``publishable`` part.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from .facts import ScreenFacts
from .screening import years_before, years_between

SUPPRESS_BELOW = 11
AGE_BANDS = [(0, 25, "under 25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, 65, "55-64"), (65, 200, "65 and over")]


def _age_band(age: pl.Expr) -> pl.Expr:
    e = pl.when(age.is_null()).then(pl.lit("unknown"))
    for lo, hi, label in AGE_BANDS:
        e = e.when((age >= lo) & (age < hi)).then(pl.lit(label))
    return e.otherwise(pl.lit("unknown"))


def suppress(n: int) -> int | str:
    return "<11" if 0 < n < SUPPRESS_BELOW else n


def _counts(frame: pl.DataFrame, col: str) -> dict:
    if frame.height == 0:
        return {}
    g = frame.group_by(pl.col(col).fill_null("unknown").cast(pl.String)).len().sort(["len", col], descending=[True, False])
    return {k: int(v) for k, v in g.iter_rows()}


def whole_records(rows: pl.DataFrame | ScreenFacts, results: pl.DataFrame) -> pl.DataFrame:
    """Every conviction count (any county, any offense) of the people screened: level and
    conviction date of each, as the count's first row gives them (``screening.convictions``)."""
    people = results.select("subject_id").unique()
    cols = ["subject_id", "count_key", "level", "conviction_date", "conviction_date_quality"]
    if isinstance(rows, ScreenFacts):
        parts = [p.records.join(people, on="subject_id", how="semi").select(cols) for p in rows]
        return pl.concat(parts) if len(parts) > 1 else parts[0]
    return (rows.lazy().filter(pl.col("convicted")).join(people.lazy(), on="subject_id", how="semi")
            .select("subject_id", "count_key", "level", "conviction_date", "conviction_date_quality",
                    "source_file", "source_line")
            .sort("source_file", "source_line")
            .group_by("subject_id", "count_key").agg(pl.col("level").first(), pl.col("conviction_date").first(),
                                                    pl.col("conviction_date_quality").first())
            .collect())


def person_outcomes(record: pl.DataFrame, results: pl.DataFrame, as_of: date, *, dismiss_everything: bool = False) -> pl.DataFrame:
    """One row per screened person: relief, and what is left on the whole record afterwards."""
    decided = results.lazy().select("subject_id", "count_key", "outcome", "relief")
    if dismiss_everything:
        decided = decided.with_columns(pl.lit("dismiss").alias("outcome"), pl.lit("dismiss_and_seal").alias("relief"))
    # one query on the streaming engine: the whole records (every count of every screened
    # person) pass through in batches rather than being joined whole
    rec = record.lazy().join(decided, on=["subject_id", "count_key"], how="left")
    cutoff = years_before(as_of, 7)
    rec = rec.with_columns(
        (pl.col("outcome") == "dismiss").fill_null(False).alias("_gone"),
        pl.when(pl.col("outcome") == "reduce").then(
            pl.when(pl.col("relief") == "reduce_to_infraction").then(pl.lit("I")).otherwise(pl.lit("M")))
        .otherwise(pl.col("level")).alias("_level_after"),
    )
    remaining = ~pl.col("_gone")
    return rec.group_by("subject_id").agg(
        pl.col("outcome").is_in(["dismiss", "reduce"]).any().alias("with_relief"),
        # an unknown level might be a felony; an unknown date might be recent
        ~(remaining & (pl.col("_level_after").fill_null("F") == "F")).any().alias("no_felony_left"),
        ~remaining.any().alias("no_conviction_left"),
        ~(remaining & ((pl.col("conviction_date_quality") != "full") | (pl.col("conviction_date") >= cutoff))).any().alias("none_in_7_years"),
    ).collect(engine="streaming")


def _people_figures(po: pl.DataFrame) -> dict:
    s = po.select(pl.len().alias("with_conviction"), pl.col("with_relief").sum(), pl.col("no_felony_left").sum(),
                  pl.col("no_conviction_left").sum(), pl.col("none_in_7_years").sum()).row(0, named=True)
    return {k: int(v or 0) for k, v in s.items()}


def summarise(rows: pl.DataFrame | ScreenFacts, results: pl.DataFrame, *, county: str, as_of: date, profile, inputs: list[dict],
              version: str) -> dict:
    if isinstance(rows, ScreenFacts) and len(rows.partitions) > 1:
        # people are summarised partition by partition: their whole records are never all decoded
        po_parts, po_all_parts = [], []
        for part, res in zip(rows.partitions, rows.split(results.select("subject_id", "count_key", "outcome", "relief"))):
            record = part.records.join(res.select("subject_id").unique(), on="subject_id", how="semi")
            po_parts.append(person_outcomes(record, res, as_of))
            po_all_parts.append(person_outcomes(record, res, as_of, dismiss_everything=True))
        po, po_all = pl.concat(po_parts), pl.concat(po_all_parts)
    else:
        record = whole_records(rows, results)
        po = person_outcomes(record, results, as_of)
        po_all = person_outcomes(record, results, as_of, dismiss_everything=True)
    # only the columns each figure reads: the results frame can be large, and a join copies it
    first = lambda c: pl.col(c).sort_by("source_file", "source_line").first()  # noqa: E731  (in record order)
    person = (results.lazy().select("subject_id", "source_file", "source_line", "race", "gender", "dob")
              .group_by("subject_id").agg(first("race"), first("gender"), first("dob"))
              .collect(engine="streaming"))
    person = person.with_columns(
        _age_band(pl.when(pl.col("dob").is_not_null()).then(years_between(pl.col("dob"), pl.lit(as_of)))).alias("age_band"))
    pp = person.join(po, on="subject_id", how="left")

    breakdowns = {}
    # convictions counted per group without copying the results: race and gender are the
    # conviction's own, the age band its person's (so counted per person first, then joined)
    res_p = results.lazy().select(
        "subject_id", "race", "gender",
        pl.when(pl.col("conviction_date").is_null()).then(pl.lit("unknown"))
        .otherwise((pl.col("conviction_date").dt.year() // 10 * 10).cast(pl.String) + "s").alias("decade"),
        pl.col("outcome").is_in(["dismiss", "reduce"]).alias("_relief"))
    counted = {"convictions": pl.len(), "convictions_relieved": pl.col("_relief").sum()}
    per_dim = {dim: res_p.group_by(pl.col(dim).fill_null("UNKNOWN")).agg(**counted) for dim in ("race", "gender")}
    per_dim["age_band"] = (res_p.group_by("subject_id").agg(**counted)
                           .join(person.lazy().select("subject_id", "age_band"), on="subject_id", how="left")
                           .group_by(pl.col("age_band").fill_null("UNKNOWN"))
                           .agg(pl.col("convictions").sum(), pl.col("convictions_relieved").sum()))
    for dim in ("race", "gender", "age_band"):
        g = (pp.group_by(pl.col(dim).fill_null("UNKNOWN")).agg(
                pl.len().alias("people"), pl.col("with_relief").sum(), pl.col("no_felony_left").sum(),
                pl.col("no_conviction_left").sum())
             .join(per_dim[dim].collect(), on=dim, how="left")
             .sort("people", dim, descending=[True, False]))
        breakdowns[dim] = {r[dim]: {k: int(r[k] or 0) for k in g.columns if k != dim} for r in g.iter_rows(named=True)}
    dec = res_p.group_by("decade").agg(pl.len().alias("convictions"), pl.col("_relief").sum().alias("convictions_relieved"),
                                       pl.col("subject_id").n_unique().alias("people")).sort("decade").collect()
    breakdowns["decade"] = {r["decade"]: {k: int(r[k]) for k in ("people", "convictions", "convictions_relieved")}
                            for r in dec.iter_rows(named=True)}
    publishable = {"note": f"counts under {SUPPRESS_BELOW} suppressed as \"<{SUPPRESS_BELOW}\""}
    for dim, groups in breakdowns.items():
        publishable[dim] = {g: {k: suppress(v) for k, v in vals.items()} for g, vals in groups.items()}
    people = _people_figures(po)
    publishable["people"] = {k: suppress(v) for k, v in people.items()}

    dates = results.filter(pl.col("conviction_date").is_not_null()).select(
        pl.col("conviction_date").min().alias("lo"), pl.col("conviction_date").max().alias("hi"))
    lo, hi = (dates.row(0) if dates.height else (None, None))
    # the distinct flag lists first (a few hundred), then each flag weighted by its list's count
    flags = (results.group_by("flags").len("n").with_columns(pl.col("flags").str.split(";")).explode("flags")
             .filter(pl.col("flags") != "").group_by("flags").agg(pl.col("n").sum().alias("len"))
             .sort("len", descending=True))
    return {
        "tool": "clearrec", "version": version,
        "county": county, "as_of": as_of.isoformat(),
        "profile": {"id": profile.id, "title": profile.title, "source": profile.source, "options": profile.options,
                    "rules": [r.describe() for r in profile.active_rules]},
        "inputs": inputs,
        "convictions": {
            "total": results.height,
            "date_range": [lo.isoformat() if lo else None, hi.isoformat() if hi else None],
            "by_outcome": _counts(results, "outcome"), "by_section": _counts(results, "code_section"),
            "by_level": _counts(results, "level"), "by_relief": _counts(results.filter(pl.col("relief").is_not_null()), "relief"),
            "by_track": _counts(results, "relief_track"), "by_courthouse": _counts(results, "courthouse"),
            "by_flag": {k: int(v) for k, v in flags.iter_rows()},
        },
        "people": people,
        "dismiss_everything": {k: v for k, v in _people_figures(po_all).items() if k != "with_conviction"},
        "breakdowns": breakdowns,
        "publishable": publishable,
    }
