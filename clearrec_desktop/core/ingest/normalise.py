"""Normalisation of raw extract values into the internal schema, as polars expressions.

Every data-quality trap of the DOJ extract is handled here and made visible: the canonical
code section keeps the original text beside it, attempts and conspiracies keep their
qualifier, dates carry a quality, and each repair leaves a flag column (``q_*``) that the
import report counts and the screening turns into informational flags.
"""

from __future__ import annotations

import polars as pl

CANNABIS_SECTIONS = ("11357", "11358", "11359", "11360")

_CODES = r"H\s*&\s*S|HSC|HS|PC|VC|BP|B\s*&\s*P|WIC|WI|GC|CCR|FG|RT|PRC|CC"
# The offence text: optional code letters, the section number (11357, 11357.5, 211360...),
# subsections "(A)(1)", optional code letters after, then the literal description.
_SECTION_RE = (
    rf"^\s*(?:(?P<pre>{_CODES})\s*)?(?P<num>\d{{2,7}}(?:\.\d{{1,3}})?)"
    rf"(?P<sub>(?:\s*\(\s*[A-Z0-9]{{1,3}}\s*\))*)\s*(?:(?P<post>{_CODES})\b)?"
)
# One or two letters (288A, 273AB) directly after the number; two letters that are a code
# ("11357HS") are the code, not part of the section.
_LETTER_RE = rf"^\s*(?:(?:{_CODES})\s*)?\d{{2,7}}(?:\.\d{{1,3}})?([A-Z]{{1,2}})(?:[^A-Z]|$)"
_LETTER_STRIP_RE = rf"^(\s*(?:(?:{_CODES})\s*)?\d{{2,7}}(?:\.\d{{1,3}})?)[A-Z]{{1,2}}"
_CODE_WORDS = ("HS", "PC", "VC", "BP", "WI", "GC", "CC", "FG", "RT")
# Attempt (PC 664) and conspiracy (PC 182) prefixes: 664/11359, 664-11357(C), 664.11360,
# 182(A)(1) PC/11360 HS.
_ATTEMPT_RE = r"^\s*(?:PC\s*)?664\s*(?:PC)?\s*[/.\-]\s*"
_CONSPIRACY_RE = r"^\s*(?:PC\s*)?182(?:\s*\([A-Z0-9]{1,3}\))*\s*(?:PC)?\s*[/.\-]\s*"
# A charge written in the comment: "11358 HS-CULTIVATE", "CHRG 11358 HS", ":CHRG 11358 HS".
_COMMENT_CHARGE_RE = r"^[\s:;\-]*(?:CHRG|CHARGE|CHG)?[\s:;.\-]*"
_CANNABIS_IN_TEXT_RE = r"(?:^|[^0-9.])(1135[7-9]|11360)(?:[^0-9.]|$)"


def clean(col: str) -> pl.Expr:
    """Trim padding and turn placeholders such as ``NULL  `` into nulls."""
    s = pl.col(col).str.strip_chars()
    return pl.when(s.is_in(["", "NULL", "Null", "null", "N/A", "NONE"])).then(None).otherwise(s).alias(col)


def date_and_quality(expr: pl.Expr, name: str) -> list[pl.Expr]:
    """``YYYYMMDD`` -> Date plus a quality: full, partial (19800000, 198006), unknown, invalid."""
    digits = expr.str.strip_chars()
    parsed = digits.str.to_date("%Y%m%d", strict=False)
    parsed = pl.when(digits.str.len_chars() == 8).then(parsed).otherwise(None)
    in_range = parsed.is_between(pl.date(1880, 1, 1), pl.date(2100, 12, 31))
    year_ok = digits.str.slice(0, 4).cast(pl.Int32, strict=False).is_between(1880, 2100)
    quality = (
        pl.when(digits.is_null() | (digits == "")).then(pl.lit("unknown"))
        .when(parsed.is_not_null() & in_range).then(pl.lit("full"))
        # 1980, 19800000, 198006, 19800600: year (and month) known, day not
        .when(digits.str.contains(r"^\d{4}(?:0000|00|(?:0[1-9]|1[0-2])(?:00)?)?$") & year_ok).then(pl.lit("partial"))
        .otherwise(pl.lit("invalid"))
    )
    return [
        pl.when(in_range).then(parsed).otherwise(None).alias(name),
        quality.alias(f"{name}_quality"),
    ]


def date_year(expr: pl.Expr) -> pl.Expr:
    """The year of a full or partial ``YYYYMMDD`` date (null otherwise): a partial date still
    orders events years apart, e.g. a 1980 conviction before a 1990 one."""
    quality = date_and_quality(expr, "_y")[1]
    return (pl.when(quality.is_in(["full", "partial"]))
            .then(expr.str.strip_chars().str.slice(0, 4).cast(pl.Int16, strict=False)).otherwise(None))


def _law_code(expr: pl.Expr) -> pl.Expr:
    e = expr.str.replace_all(r"\s", "").str.replace_all("&", "")
    return pl.when(e == "HSC").then(pl.lit("HS")).when(e == "WIC").then(pl.lit("WI")).otherwise(e)


def parse_offence(text: pl.Expr, prefix: str) -> list[pl.Expr]:
    """Split offence text into number, subsection, law code and qualifier columns."""
    up = text.str.to_uppercase().str.strip_chars()
    attempt = up.str.contains(_ATTEMPT_RE)
    conspiracy = up.str.contains(_CONSPIRACY_RE)
    body = up.str.replace(_ATTEMPT_RE, "").str.replace(_CONSPIRACY_RE, "")
    # Sections such as 288a, 266c, 653f carry a letter; "11357HS" does not (a code follows).
    letter = body.str.extract(_LETTER_RE, 1)
    letter = pl.when(letter.is_in(_CODE_WORDS)).then(None).otherwise(letter)
    body = pl.when(letter.is_not_null()).then(body.str.replace(_LETTER_STRIP_RE, "$1")).otherwise(body)
    parts = body.str.extract_groups(_SECTION_RE)
    num = pl.concat_str([parts.struct.field("num"), letter.str.to_lowercase().fill_null("")])
    sub = parts.struct.field("sub").str.replace_all(r"\s", "").str.to_lowercase()
    code = pl.coalesce(_law_code(parts.struct.field("post")), _law_code(parts.struct.field("pre")))
    return [
        num.alias(f"{prefix}num"),
        pl.when(sub == "").then(None).otherwise(sub).alias(f"{prefix}sub"),
        code.alias(f"{prefix}code"),
        pl.when(attempt).then(pl.lit("attempt")).when(conspiracy).then(pl.lit("conspiracy"))
        .otherwise(None).alias(f"{prefix}qual"),
    ]


def canonical_section(code: pl.Expr, num: pl.Expr, sub: pl.Expr) -> pl.Expr:
    """``HS 11357(a)``; a missing code letter reads as HS for cannabis numbers, else stays blank."""
    law = pl.when(code.is_null() & num.is_in(CANNABIS_SECTIONS)).then(pl.lit("HS")).otherwise(code)
    return pl.when(num.is_null()).then(None).otherwise(
        pl.concat_str([pl.when(law.is_null()).then(pl.lit("")).otherwise(law + " "), num, sub.fill_null("")])
    )


def level_expr() -> list[pl.Expr]:
    stat = pl.col("CONV_STAT_DESCR").str.to_uppercase()
    from_stat = (
        pl.when(stat.str.starts_with("FEL")).then(pl.lit("F"))
        .when(stat.str.starts_with("MIS")).then(pl.lit("M"))
        .when(stat.str.starts_with("INF")).then(pl.lit("I"))
        .otherwise(None)
    )
    toc = pl.coalesce(pl.col("CONV_OFFENSE_TOC"), pl.col("OFFENSE_TOC")).str.to_uppercase().str.slice(0, 1)
    from_toc = pl.when(toc.is_in(["F", "M", "I"])).then(toc).otherwise(None)
    return [
        pl.coalesce(from_stat, from_toc).alias("level"),
        (from_stat.is_null() & from_toc.is_not_null()).alias("q_level_from_toc"),
    ]


def county_expr(col: str) -> pl.Expr:
    return pl.col(col).str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()


def normalise_county(name: str) -> str:
    return " ".join(name.upper().split())


def name_key(expr: pl.Expr) -> pl.Expr:
    """Name compared for possible duplicate people: letters only, upper case."""
    return expr.str.to_uppercase().str.replace_all(r"[^A-Z]", "")


def comment_cannabis_section(comment: pl.Expr) -> pl.Expr:
    return comment.str.to_uppercase().str.extract(_CANNABIS_IN_TEXT_RE, 1)


def comment_charge_text(comment: pl.Expr) -> pl.Expr:
    return comment.str.to_uppercase().str.replace(_COMMENT_CHARGE_RE, "")

def via_unique(df: pl.DataFrame, keys: list[str], exprs: list[pl.Expr]) -> pl.DataFrame:
    """Evaluate costly string expressions once per distinct key instead of once per row.

    Offence texts, dispositions and dates repeat heavily (a million rows hold a few hundred
    offence texts), so cleaning and parsing the distinct values and joining back is many times
    faster and needs far less memory. The expressions see the keys already trimmed and with
    NULL placeholders as nulls; the join uses the raw keys.
    """
    raw = df.select(keys).unique()
    work = raw.with_columns([clean(k) for k in keys if raw.schema[k] == pl.String]).with_columns(exprs)
    added = [c for c in work.columns if c not in keys]
    table = raw.with_columns(work.select(added).get_columns())
    looked_up = df.select(keys).join(table, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return df.with_columns(looked_up.select(added).get_columns())


# High-cardinality columns are trimmed row by row; everything else is cleaned per distinct value.
_ROW_CLEANED = ["SUBJECT_ID", "CII_NUMBER", "PRI_NAME", "CNT_ORDER", "OFN", "FE_NUM_CRT_CASE"]


def normalise_doj(raw: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Raw DOJ string columns -> the internal schema."""
    df = raw.with_columns([clean(c) for c in _ROW_CLEANED])
    if "q_padded" not in df.columns:
        df = df.with_columns(pl.lit(False).alias("q_padded"), pl.lit(False).alias("q_null_placeholder"))

    # The convicted charge: CONV_OFFENSE_DESCR when filled, else OFFENSE_DESCR, else the comment.
    descr = pl.coalesce(pl.col("CONV_OFFENSE_DESCR"), pl.col("OFFENSE_DESCR"))
    see_comment = descr.is_null() | descr.str.to_uppercase().str.contains("SEE COMMENT")
    comment_charge = comment_charge_text(pl.col("COMMENT_TEXT"))
    from_comment = (see_comment & comment_charge.str.contains(r"^\d{3,6}")).fill_null(False)
    offence_text = pl.when(from_comment).then(comment_charge).when(see_comment).then(None).otherwise(descr)
    qual_list = pl.concat_str([pl.col("CONV_OFFENSE_QUAL_LST"), pl.col("OFFENSE_QUAL_LST")], ignore_nulls=True).str.to_uppercase()
    df = via_unique(df, ["CONV_OFFENSE_DESCR", "OFFENSE_DESCR", "COMMENT_TEXT", "CONV_OFFENSE_QUAL_LST", "OFFENSE_QUAL_LST"], [
        offence_text.alias("offence_text"), from_comment.alias("q_charge_from_comment"),
        comment_cannabis_section(pl.col("COMMENT_TEXT")).alias("comment_cannabis_section"),
        pl.col("COMMENT_TEXT").alias("comment"),
        pl.when(qual_list.str.contains("ATT")).then(pl.lit("attempt"))
        .when(qual_list.str.contains("CONSP")).then(pl.lit("conspiracy")).alias("_qual_list"),
    ])
    cannabis_num = pl.col("section_num").is_in(CANNABIS_SECTIONS)
    base_num = pl.col("section_num").str.split(".").list.first()
    df = via_unique(df, ["offence_text"], [*parse_offence(pl.col("offence_text"), "_o")])
    df = via_unique(df, ["offence_text", "_onum", "_osub", "_ocode", "_oqual", "_qual_list"], [
        pl.coalesce(pl.col("_oqual"), pl.col("_qual_list")).alias("qualifier"),
        canonical_section(pl.col("_ocode"), pl.col("_onum"), pl.col("_osub")).alias("code_section"),
        # the number alone decides candidacy: 11357.5 and 211360 are different numbers
        pl.col("_onum").alias("section_num"),
        pl.col("_osub").alias("section_sub"),
        pl.when(pl.col("_ocode").is_null() & pl.col("_onum").is_in(CANNABIS_SECTIONS)).then(pl.lit("HS"))
        .otherwise(pl.col("_ocode")).alias("law_code"),
        # the text as found, for display and documents (the section part, without the literal)
        pl.col("offence_text").str.replace(r"\s*-\s*[A-Z]{2}.*$", "").str.strip_chars().alias("code_section_original"),
    ])
    df = via_unique(df, ["section_num", "section_sub", "law_code", "code_section_original", "qualifier",
                         "comment_cannabis_section", "q_charge_from_comment"], [
        ((pl.col("section_num").str.contains(r"\.") & base_num.is_in(CANNABIS_SECTIONS))
         | pl.col("section_num").str.contains(r"^\d+(1135[7-9]|11360)$")).fill_null(False).alias("q_lookalike"),
        (pl.col("comment_cannabis_section").is_not_null() & ~pl.col("q_charge_from_comment")
         & (pl.col("comment_cannabis_section") != pl.col("section_num")).fill_null(True)).fill_null(False)
        .alias("q_other_cannabis_in_comment"),
        (cannabis_num & (pl.col("law_code") != "HS")).fill_null(False).alias("q_wrong_code"),
        pl.col("qualifier").is_not_null().alias("q_qualifier"),
        (cannabis_num & (pl.col("code_section_original").str.replace_all(r"\s", "")
                         != pl.concat_str([pl.col("section_num"), pl.col("section_sub").fill_null("").str.to_uppercase(), pl.lit("HS")])))
        .fill_null(False).alias("q_section_variant"),
    ])

    # one look-up per date column: the date, its quality and (for the conviction date) its year
    years = {"STP_EVENT_DATE": "_step_year", "DISP_DATE": "_disp_year"}
    for col, name in (("PRI_DOB", "dob"), ("CYC_DATE", "cycle_date"), ("STP_EVENT_DATE", "step_date"), ("DISP_DATE", "_disp_date")):
        year = [date_year(pl.col(col)).alias(years[col])] if col in years else []
        df = via_unique(df, [col], [*date_and_quality(pl.col(col), name), *year])
    df = via_unique(df, ["CONV_STAT_DESCR", "CONV_OFFENSE_TOC", "OFFENSE_TOC"], level_expr())
    df = via_unique(df, ["DISP_DESCR", "STP_TYPE_DESCR", "STP_ORI_CNTY_NAME", "STP_ORI_CODE", "STP_ORI_DESCR"], [
        pl.col("DISP_DESCR").str.to_uppercase().str.starts_with("CONVICTED").fill_null(False).alias("convicted"),
        pl.col("DISP_DESCR").alias("disposition"),
        county_expr("STP_ORI_CNTY_NAME").alias("county"),
        pl.col("STP_TYPE_DESCR").str.to_uppercase().alias("step_type"),
        pl.coalesce(pl.col("STP_ORI_DESCR"), pl.col("STP_ORI_CODE")).alias("courthouse"),
        pl.col("STP_ORI_CODE").alias("agency_code"),
    ])
    # q_county_variant compares the raw text with the normalised name
    df = df.with_columns((pl.col("STP_ORI_CNTY_NAME") != pl.col("county")).fill_null(False).alias("q_county_variant"))
    df = via_unique(df, ["GENDER", "RACE_DESCR", "RACE_CODE", "CYC_ORDER", "STP_ORDER"], [
        pl.col("GENDER").str.to_uppercase().alias("gender"),
        pl.coalesce(pl.col("RACE_DESCR"), pl.col("RACE_CODE")).str.to_uppercase().alias("race"),
        pl.col("CYC_ORDER").alias("cycle"), pl.col("STP_ORDER").alias("step"),
    ])
    df = via_unique(df, ["SENT_LOC_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "CYC_AGE"], [
        pl.col("SENT_LOC_DESCR").str.to_uppercase().alias("sent_type"),
        pl.col("SENT_LENGTH").cast(pl.Int64, strict=False).alias("sent_length"),
        pl.col("SENT_TIME_CODE").str.to_uppercase().alias("sent_unit"),
        pl.col("CYC_AGE").cast(pl.Int64, strict=False).alias("cycle_age"),
    ])
    # Conviction date: the court step's date; the disposition date only when the step has none.
    use_disp = (pl.col("step_date_quality") == "unknown") & (pl.col("_disp_date_quality") == "full")
    df = df.with_columns(
        pl.when(use_disp).then(pl.col("_disp_date")).otherwise(pl.col("step_date")).alias("conviction_date"),
        pl.when(use_disp).then(pl.lit("full")).otherwise(pl.col("step_date_quality")).alias("conviction_date_quality"),
        pl.when(use_disp).then(pl.col("_disp_year")).otherwise(pl.col("_step_year")).alias("conviction_year"),
    )
    impossible = pl.col("dob").is_not_null() & pl.col("conviction_date").is_not_null() & (pl.col("dob") >= pl.col("conviction_date"))
    df = df.with_columns(
        pl.when(pl.col("convicted") & impossible).then(pl.lit("impossible"))
        .otherwise(pl.col("conviction_date_quality")).alias("conviction_date_quality"),
        (pl.col("convicted") & impossible).alias("q_dob_after_conviction"),
    )

    return df.select(
        pl.lit(file_name).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        pl.col("SUBJECT_ID").alias("subject_id"),
        pl.col("CII_NUMBER").alias("cii_number"),
        pl.col("PRI_NAME").alias("name"),
        "dob", "dob_quality",
        "gender", "race", "cycle", "cycle_date", "step", "step_type", "step_date",
        "county", "courthouse", "agency_code",
        pl.col("CNT_ORDER").alias("count_key"),
        pl.coalesce(pl.col("OFN"), pl.col("FE_NUM_CRT_CASE")).alias("court_case_number"),
        "disposition", "convicted",
        "offence_text", "code_section", "code_section_original", "section_num", "section_sub", "law_code",
        "qualifier", "level", "conviction_date", "conviction_date_quality", "conviction_year",
        "sent_type", "sent_length", "sent_unit", "cycle_age", "comment", "comment_cannabis_section",
        "q_padded", "q_null_placeholder", "q_section_variant", "q_qualifier", "q_lookalike", "q_wrong_code",
        "q_charge_from_comment", "q_other_cannabis_in_comment",
        (pl.col("convicted") & (pl.col("conviction_date_quality") == "partial")).alias("q_date_partial"),
        (pl.col("convicted") & pl.col("conviction_date_quality").is_in(["unknown", "invalid"])).alias("q_date_unknown"),
        (pl.col("dob_quality") != "full").alias("q_dob_unknown"),
        "q_dob_after_conviction",
        (pl.col("convicted") & pl.col("q_level_from_toc")).alias("q_level_from_toc"),
        "q_county_variant",
        (pl.col("convicted") & pl.col("OFN").is_null() & pl.col("FE_NUM_CRT_CASE").is_null()).alias("q_no_case_number"),
    )


def flag_duplicate_people(rows: pl.DataFrame) -> pl.DataFrame:
    """Two subject ids with the same normalised name and DOB: flag both, never merge."""
    key = rows.select("subject_id", name_key(pl.col("name")).alias("_nk"), "dob").unique().drop_nulls()
    dupes = (
        key.group_by("_nk", "dob").agg(pl.col("subject_id").n_unique().alias("_n"), pl.col("subject_id"))
        .filter(pl.col("_n") > 1).explode("subject_id").select("subject_id").unique()
    )
    return rows.with_columns(pl.col("subject_id").is_in(dupes["subject_id"].implode()).alias("q_possible_duplicate_person"))
