"""Import and screen in one call, and the output directory of `clearrec screen`.

The GUI runs ``run_screen`` on a worker thread; ``progress(fraction, message)`` is called from
that thread and ``cancel`` (a threading.Event) is checked between stages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from .. import __version__
from .errors import Cancelled, InputError
from .ingest import importer
from .ingest.normalise import normalise_county
from .ingest.report import ImportReport, note_formula_like
from .ingest.rowstore import RowStore
from .screen import profiles, screening, summary
from .screen.facts import ScreenFacts

log = logging.getLogger(__name__)


@dataclass
class ScreenRun:
    rows: RowStore | pl.DataFrame | None   # the imported rows (None: not kept, as `clearrec screen` runs)
    results: pl.DataFrame
    report: ImportReport
    summary: dict
    profile: profiles.Profile
    county: str
    as_of: date
    facts: ScreenFacts | None = None       # what screening read: re-screening reuses it


def _noop(fraction: float, message: str) -> None:
    pass


def check_county(county: str, report: ImportReport) -> str:
    key = normalise_county(county or "")
    present = {c for c in report.rows_by_county if c}
    if not report.rows:
        names = ", ".join(f.file for f in report.files) or "the file"
        if report.rejected:
            raise InputError(f"{names}: no record could be read: every line was rejected ({len(report.rejected):,}); "
                             "see the import report for the line numbers and reasons")
        raise InputError(f"{names}: holds a header line and no records; export the data again (the export may "
                         "have been cut off, or filtered down to nothing)")
    if not key:
        raise InputError("choose a county (--county); counties in the data: " + ", ".join(sorted(present)))
    if key not in present:
        listed = ", ".join(f"{c} ({report.counties.get(c, 0):,} convictions)" for c in sorted(present)) or "none"
        raise InputError(f"county {county!r} is not in the data; counties present: {listed}")
    return key


# The chosen county is "probably wrong" when it holds under this share of the file's convictions
# while one other county holds at least MAJORITY_SHARE of them (a county's own extract is mostly
# its own county; a statewide or neighbouring file is not, and then no county holds a majority).
SMALL_SHARE = 0.2
MAJORITY_SHARE = 0.5


def county_mismatch(county: str, report: ImportReport) -> str | None:
    """A plain warning when ``county`` holds a small share of the file's convictions and another
    county holds most of them (the workspace's county left at the wrong value, say), else None.
    Counts are convictions of any offense, as the import report counts them."""
    key = normalise_county(county or "")
    counts = {c: int(n) for c, n in report.counties.items() if c}
    if key.endswith(" COUNTY") and key not in counts:
        key = key[: -len(" COUNTY")]
    total = sum(counts.values())
    if not key or total == 0 or key not in counts:  # absent altogether: check_county says so
        return None
    top, top_n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    mine = counts.get(key, 0)
    if top == key or mine >= SMALL_SHARE * total or top_n < MAJORITY_SHARE * total:
        return None
    return (f"{key} holds {mine:,} of the file's {total:,} convictions ({mine / total:.0%}), while {top} "
            f"holds {top_n:,} ({top_n / total:.0%}). Check the county: a run screens only the county chosen.")


def import_only(files, *, mapping=None, progress=_noop, cancel=None):
    """Import into one frame of rows (small files and tests; see ``read_for_screening``)."""
    return importer.import_files(files, mapping=mapping, cancel=cancel, progress=progress)


def read_for_screening(files, *, mapping=None, progress=_noop, cancel=None,
                       keep_rows: bool = True) -> tuple[RowStore | None, ImportReport, ScreenFacts]:
    """Read the files once: the rows as compressed row groups (unless ``keep_rows`` is false),
    the import report, and the facts screening reads, gathered block by block."""
    builder = screening.new_facts()
    imported = importer.import_stream(files, mapping=mapping, cancel=cancel, progress=progress,
                                      on_block=builder.add, keep_rows=keep_rows, count_convictions=False)
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    facts = builder.finish(imported.duplicate_subjects, imported.duplicate_people)
    imported.report.counties = dict(facts.counties)  # counted once, on the conviction counts
    log.info("imported %d rows from %d file(s), %d lines rejected", imported.report.rows,
             len(imported.report.files), len(imported.report.rejected))
    return imported.rows, imported.report, facts


def facts_of(rows: RowStore | pl.DataFrame) -> ScreenFacts:
    """The screening facts of rows already imported (a frame, or the row groups of a workspace)."""
    if isinstance(rows, pl.DataFrame):
        return screening.facts_from_rows(rows)
    builder = screening.new_facts()
    for group in rows.groups():
        builder.add(group)
    return builder.finish()


def screen_rows(rows: RowStore | pl.DataFrame | None, report: ImportReport, *, county: str, as_of: date,
                profile: profiles.Profile, progress=_noop, cancel=None, facts: ScreenFacts | None = None,
                once: bool = False) -> ScreenRun:
    """Screen already imported rows (the GUI re-screens with another profile or date this way):
    from ``facts`` when given, so nothing is read again. ``once``: the facts will not be screened
    again (the command line), so their conviction counts are let go before the summary."""
    key = check_county(county, report)
    if facts is None:
        facts = facts_of(rows)
    progress(0.6, "Screening convictions")
    results = screening.screen(facts, county=key, as_of=as_of, profile=profile, cancel=cancel)
    note_formula_like(results, report)
    if once:
        facts.release_convictions()
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    progress(0.9, "Summarising")
    inputs = [{"file": f.file, "path": f.path, "sha256": f.sha256, "size": f.size, "lines_read": f.lines_read,
               "rows_imported": f.rows_imported, "lines_rejected": len(f.rejected)} for f in report.files]
    summ = summary.summarise(facts, results, county=key, as_of=as_of, profile=profile, inputs=inputs, version=__version__)
    progress(1.0, "Done")
    return ScreenRun(rows=rows, results=results, report=report, summary=summ, profile=profile, county=key, as_of=as_of,
                     facts=facts)


def run_screen(files, *, county: str, as_of: date, profile: profiles.Profile | None = None, mapping=None,
               progress=_noop, cancel=None, keep_rows: bool = True) -> ScreenRun:
    """Import and screen. ``keep_rows=False`` (the command line) keeps no row once its facts are
    taken: memory is then bounded by the results, not by the file."""
    profile = profile or profiles.load_profile()
    progress(0.0, "Importing")
    rows, report, facts = read_for_screening(files, mapping=mapping, cancel=cancel, keep_rows=keep_rows,
                                             progress=lambda f, m: progress(f * 0.55, m))
    return screen_rows(rows, report, county=county, as_of=as_of, profile=profile, progress=progress, cancel=cancel,
                       facts=facts, once=not keep_rows)


def write_outputs(run: ScreenRun, out_dir: Path) -> dict[str, Path]:
    """The output folder of `clearrec screen` (see outputs/run_folder.py)."""
    from .outputs.run_folder import write_run_folder

    return write_run_folder(run.results, run.report, run.summary, out_dir)


# -- what a doubtful conviction date would decide (the review's explanation) -------------------

PROP64_DATE = date(2016, 11, 9)  # Proposition 64 in force


def _fmt_date(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def date_alternatives(rows: pl.DataFrame, result: dict, *, profile: profiles.Profile, county: str,
                      as_of: date) -> list[tuple[str, str]]:
    """For a conviction whose date is unknown or partial: [(what the date might be, the outcome
    the profile would then propose)], worked out by screening the person's record again with a
    full date put in. The dates tried are the ends of what the record allows (the year of a
    partial date; from the arrest cycle to the evaluation date for an unknown one) and either
    side of 11/9/2016; neighbouring dates with the same outcome are said together. Empty when
    the date is known or nothing can be tried."""
    if result.get("conviction_date_quality") in (None, "full"):
        return []
    this = ((pl.col("subject_id") == result["subject_id"]) & (pl.col("count_key") == result["count_key"])
            & pl.col("court_case_number").eq_missing(result.get("court_case_number")))
    person = rows.filter(pl.col("subject_id") == result["subject_id"])
    mine = person.filter(this)
    if mine.height == 0:
        return []
    year = next((y for y in mine.get_column("conviction_year").to_list() if y), None)
    if year:
        low, high = date(int(year), 1, 1), min(date(int(year), 12, 31), as_of)
    else:
        cycle = result.get("cycle_date") or next((d for d in mine.get_column("cycle_date").to_list() if d), None)
        low, high = (cycle or date(1900, 1, 1)), as_of
    if low > high:
        return []
    samples = sorted({d for d in (low, PROP64_DATE - timedelta(days=1), PROP64_DATE, high) if low <= d <= high})
    outcomes = []
    for d in samples:
        trial = person.with_columns(
            pl.when(this).then(pl.lit(d)).otherwise(pl.col("conviction_date")).alias("conviction_date"),
            pl.when(this).then(pl.lit("full")).otherwise(pl.col("conviction_date_quality")).alias("conviction_date_quality"),
            pl.when(this).then(pl.lit(d.year)).otherwise(pl.col("conviction_year")).alias("conviction_year"),
            *[pl.when(this).then(pl.lit(False)).otherwise(pl.col(c)).alias(c)
              for c in ("q_date_partial", "q_date_unknown") if c in person.columns])
        res = screening.screen(trial, county=normalise_county(county), as_of=as_of, profile=profile)
        hit = res.filter((pl.col("count_key") == result["count_key"])
                         & pl.col("court_case_number").eq_missing(result.get("court_case_number")))
        if hit.height:
            outcomes.append((d, hit.item(0, "outcome")))
    # say neighbouring dates with the same outcome together
    spans: list[list] = []
    for d, outcome in outcomes:
        if spans and spans[-1][2] == outcome:
            spans[-1][1] = d
        else:
            spans.append([d, d, outcome])
    out = []
    for first, last, outcome in spans:
        if first == last:
            when = f"on {_fmt_date(first)}"
        elif last == PROP64_DATE - timedelta(days=1):
            when = f"before {_fmt_date(PROP64_DATE)} ({_fmt_date(first)} to {_fmt_date(last)})"
        elif first == PROP64_DATE:
            when = f"on or after {_fmt_date(PROP64_DATE)} ({_fmt_date(first)} to {_fmt_date(last)})"
        else:
            when = f"between {_fmt_date(first)} and {_fmt_date(last)}"
        out.append((when, outcome))
    return out
