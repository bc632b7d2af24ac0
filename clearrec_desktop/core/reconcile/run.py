"""A whole reconciliation from two files: import both, link, screen the lists, summarise.

``run_reconcile`` is what `clearrec reconcile` and the desktop app call (on a worker thread:
``progress(fraction, message)`` is called from it and ``cancel`` is checked between stages);
``write_tables`` writes reconciliation.csv and links.csv beside the usual results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from ... import __version__
from ..errors import Cancelled, InputError
from ..ingest import importer
from ..ingest.normalise import normalise_county
from ..ingest.report import FileReport, ImportReport, build_report
from ..safety import local_path
from ..screen import profiles, summary
from .linkage import LinkDecision
from .lists import Reconciliation, reconcile


@dataclass
class ReconcileRun:
    reconciliation: Reconciliation
    report: ImportReport
    summary: dict
    profile: profiles.Profile
    county: str
    as_of: date
    doj_rows: pl.DataFrame
    county_rows: pl.DataFrame

    @property
    def results(self) -> pl.DataFrame:
        return self.reconciliation.results


def _noop(fraction: float, message: str) -> None:
    pass


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def check_inputs(doj_file, county_file, mapping) -> tuple[Path, Path]:
    """The two files in the right order, each of the right kind, and a mapping for the county's."""
    doj_path, county_path = local_path(doj_file), local_path(county_file)
    if doj_path.resolve() == county_path.resolve():
        raise InputError(f"{doj_path.name}: the same file was given twice; give DOJ's extract, then the county's export")
    for p in (doj_path, county_path):
        if p.stat().st_size == 0:
            raise InputError(f"{p.name}: the file is empty")
    county_is_sheet = county_path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods")
    if doj_path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") or not importer.is_doj_extract(doj_path):
        hint = " (the files may be the wrong way round)" if not county_is_sheet and importer.is_doj_extract(county_path) else ""
        raise InputError(f"{doj_path.name}: not a DOJ extract; give DOJ's extract first, then the county's export{hint}")
    if not county_is_sheet and importer.is_doj_extract(county_path):
        raise InputError(f"{county_path.name}: this is a DOJ extract; the second file must be the county's own "
                         "case-management export")
    if mapping is None:
        raise InputError(f"{county_path.name}: give the column mapping of the county's export (--mapping)")
    return doj_path, county_path


def run_reconcile(doj_file, county_file, *, mapping, county: str, as_of: date, profile: profiles.Profile | None = None,
                  decisions: list[LinkDecision] | tuple = (), progress=_noop, cancel=None) -> ReconcileRun:
    profile = profile or profiles.load_profile()
    doj_path, county_path = check_inputs(doj_file, county_file, mapping)
    progress(0.0, f"Reading {doj_path.name}")
    doj_rows, doj_rep = importer.import_files([doj_path], cancel=cancel, progress=lambda f, m: progress(f * 0.35, m))
    _check_cancel(cancel)
    progress(0.35, f"Reading {county_path.name}")
    county_rows, county_rep = importer.import_files([county_path], mapping=mapping, cancel=cancel,
                                                    progress=lambda f, m: progress(0.35 + f * 0.2, m))
    _check_cancel(cancel)
    key = normalise_county(county or "")
    in_doj = {c for c in doj_rep.rows_by_county if c}
    if not key:
        raise InputError("choose a county (--county); counties in DOJ's extract: " + ", ".join(sorted(in_doj)))
    if key not in in_doj:
        raise InputError(f"county {county!r} is not in {doj_path.name}; counties present: {', '.join(sorted(in_doj)) or 'none'}")
    if key not in county_rep.rows_by_county:
        present = ", ".join(sorted(c for c in county_rep.rows_by_county if c)) or "none"
        raise InputError(f"{county_path.name}: no rows for county {county!r} (counties in it: {present}); "
                         "check the mapping's county column or its options.county")
    return reconcile_imported(doj_rows, county_rows, doj_rep.files[0], county_rep.files[0], county=key, as_of=as_of,
                              profile=profile, decisions=decisions, progress=lambda f, m: progress(0.55 + f * 0.45, m),
                              cancel=cancel)


def reconcile_imported(doj_rows: pl.DataFrame, county_rows: pl.DataFrame, doj_file: FileReport, county_file: FileReport,
                       *, county: str, as_of: date, profile: profiles.Profile,
                       decisions: list[LinkDecision] | tuple = (), progress=_noop, cancel=None) -> ReconcileRun:
    """The reconciliation of two imports already read (the desktop app reconciles again from the
    rows its workspace keeps, after the clerk confirms or splits links). ``county`` is the
    normalised county key."""
    key = county
    rec = reconcile(doj_rows, county_rows, county=key, as_of=as_of, profile=profile, decisions=decisions,
                    progress=lambda f, m: progress(f * 0.9, m), cancel=cancel)
    _check_cancel(cancel)
    progress(0.95, "Summarising")
    report = build_report(rec.rows, [doj_file, county_file])
    inputs = [{"file": f.file, "path": f.path, "sha256": f.sha256, "size": f.size, "lines_read": f.lines_read,
               "rows_imported": f.rows_imported, "lines_rejected": len(f.rejected), "role": role}
              for f, role in ((doj_file, "doj"), (county_file, "county"))]
    summ = summary.summarise(rec.rows, rec.results, county=key, as_of=as_of, profile=profile, inputs=inputs, version=__version__)
    summ["reconciliation"] = rec.counts
    progress(1.0, "Done")
    return ReconcileRun(reconciliation=rec, report=report, summary=summ, profile=profile, county=key, as_of=as_of,
                        doj_rows=doj_rows, county_rows=county_rows)


def _iso(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns([pl.col(c).dt.to_string("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date])


def links_frame(rec: Reconciliation) -> pl.DataFrame:
    """Every link, people and convictions, with its score, status and the fields that made it."""
    lk = rec.linkage
    people = lk.people.select(pl.lit("person").alias("kind"), pl.col("c_person").alias("county_key"),
                              pl.col("d_person").alias("doj_key"), "score", "status", "fields",
                              pl.lit("").alias("disagreements"))
    convs = lk.convictions.select(pl.lit("conviction").alias("kind"), pl.col("c_rec").alias("county_key"),
                                  pl.col("d_rec").alias("doj_key"), "score", "status", "fields", "disagreements")
    return pl.concat([people, convs]).sort("kind", "status", "doj_key", "county_key")


def write_tables(run: ReconcileRun, out_dir) -> dict[str, Path]:
    """reconciliation.csv (one row per conviction) and links.csv (one row per link)."""
    out = local_path(out_dir, must_exist=False, what="folder")
    out.mkdir(parents=True, exist_ok=True)
    paths = {"reconciliation": out / "reconciliation.csv", "links": out / "links.csv",
             "reconciliation_summary": out / "reconciliation-summary.json"}
    _iso(run.reconciliation.table).write_csv(paths["reconciliation"])
    links_frame(run.reconciliation).write_csv(paths["links"])
    paths["reconciliation_summary"].write_text(json.dumps(run.summary["reconciliation"], indent=2), encoding="utf-8")
    return paths
