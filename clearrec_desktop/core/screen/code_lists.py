"""Code-section lists as data (resources/lists/*.csv): super strikes, PC 290, related charges."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from ..errors import InputError
from ..safety import resource_path


@dataclass(frozen=True)
class SectionList:
    name: str
    frame: pl.DataFrame   # code, section, subsection, attempts, description


@lru_cache(maxsize=16)
def load_list(name: str) -> SectionList:
    path = resource_path(f"lists/{name}.csv")
    if not path.exists():
        raise InputError(f"no code-section list named {name!r} (looked for resources/lists/{name}.csv)")
    frame = pl.read_csv(path, schema={"code": pl.String, "section": pl.String, "subsection": pl.String,
                                       "attempts": pl.String, "description": pl.String}, glob=False)
    return SectionList(name, frame.with_columns(pl.col("subsection").fill_null("")))


def in_list(lst: SectionList) -> pl.Expr:
    """Row matches a list entry: same code and section, subsection starting with the entry's,
    and an attempt/conspiracy only where the entry says attempts count."""
    exprs = []
    for code, section, sub, attempts, _ in lst.frame.iter_rows():
        e = (pl.col("law_code") == code) & (pl.col("section_num") == section.lower())
        if sub:
            e = e & pl.col("section_sub").fill_null("").str.starts_with(sub.lower())
        if (attempts or "").lower() not in ("yes", "y", "true"):
            e = e & pl.col("qualifier").is_null()
        exprs.append(e)
    return pl.any_horizontal(exprs).fill_null(False) if exprs else pl.lit(False)
