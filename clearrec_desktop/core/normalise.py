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
_LETTER_RE = rf"^\s*(?:(?:{_CODES})\s*)?\d{{2,7}}(?:\.\d{{1,3}})?([A-Z])(?:[^A-Z]|$)"
_LETTER_STRIP_RE = rf"^(\s*(?:(?:{_CODES})\s*)?\d{{2,7}}(?:\.\d{{1,3}})?)[A-Z]"
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
