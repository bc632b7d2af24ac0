"""`clearrec export`: a screening output folder to the workbook, DOJ layout and impact report."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import polars as pl

from ..errors import InputError
from ..safety import local_path
from .common import Progress
from .doj_layout import export_doj_results_from_dir
from .impact_report import write_impact_report
from .run_folder import read_screen_output
from .workbook import write_workbook

# --------------------------------------------------------------------------------------------
# from a screening output directory (the `clearrec export` command)


def export_from_dir(
    screen_out_dir: str | Path,
    *,
    xlsx: str | Path | None = None,
    doj_results: str | Path | None = None,
    impact_report: str | Path | None = None,
    inputs: Sequence[str | Path] | None = None,
    decisions: pl.DataFrame | None = None,
    audit_head: str | None = None,
    rules: Sequence[str] | None = None,
    progress: Progress | None = None,
    cancel=None,
) -> list[Path]:
    """Export a screening output directory (results.csv + summary.json) to the requested
    files; returns the paths written. ``inputs`` locates the DOJ extracts for the DOJ layout."""
    if not (xlsx or doj_results or impact_report):
        raise InputError("nothing to export: give --xlsx, --doj-results or --impact-report")
    d = local_path(screen_out_dir, what="folder")
    results, summary = read_screen_output(d)
    written = []
    if xlsx:
        written.append(write_workbook(results, summary, xlsx, decisions=decisions, audit_head=audit_head,
                                      progress=progress, cancel=cancel))
    if doj_results:
        written.append(export_doj_results_from_dir(d, doj_results, inputs=inputs, decisions=decisions,
                                                    progress=progress, cancel=cancel))
    if impact_report:
        written.append(write_impact_report(summary, results, impact_report, audit_head=audit_head, rules=rules))
    return written
