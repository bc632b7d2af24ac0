"""Shared helpers for the screening tests: screen hand-built people, find one result row, find
the physical line of a conviction's court row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from builders import write_extract

from clearrec_desktop.core.ingest import importer
from clearrec_desktop.core.screen import profiles as screen_profiles
from clearrec_desktop.core.screen import screening

AS_OF = date(2026, 11, 1)
SHIPPED = ["statutory", "bear-gogen", "los-angeles-2020", "sacramento-2019", "san-joaquin-contra-costa-2019",
           "san-francisco-2018"]


def screen(tmp_path: Path, *people, profile="statutory", county="SACRAMENTO", as_of=AS_OF, options=None, name="x.csv"):
    path = write_extract(tmp_path / name, *people)
    rows, _ = importer.import_files([path])
    prof = screen_profiles.load_profile(profile, options=options) if isinstance(profile, str) else profile
    return screening.screen(rows, county=county, as_of=as_of, profile=prof), path


def one(res: pl.DataFrame, **match) -> dict:
    f = res
    for k, v in match.items():
        f = f.filter(pl.col(k) == v)
    assert f.height == 1, f
    return f.row(0, named=True)


def court_ref(path: Path, needle: str, nth: int = 1) -> str:
    """``file:line`` of the ``nth`` court-action row whose text contains ``needle``."""
    seen = 0
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line and "COURT ACTION" in line:
            seen += 1
            if seen == nth:
                return f"{path.name}:{i}"
    raise AssertionError(f"no court row with {needle!r} in {path}")


def step_ref(path: Path, step_type: str, nth: int = 1) -> str:
    seen = 0
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if f",{step_type}," in line:
            seen += 1
            if seen == nth:
                return f"{path.name}:{i}"
    raise AssertionError(f"no {step_type} step in {path}")


def profile_from(tmp_path: Path, body: str, name: str = "mine.toml"):
    path = tmp_path / name
    path.write_text(body)
    return screen_profiles.load_profile(str(path))
