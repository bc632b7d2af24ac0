"""The impact report of a reconciliation run (issue 15) adds a section comparing DOJ's list with
the county's records: each list's count and each list by courthouse, small counts suppressed."""

from __future__ import annotations

import tomllib
from datetime import date
from io import BytesIO

import polars as pl
from pypdf import PdfReader

from clearrec_desktop.core import demo, demo_county
from clearrec_desktop.core.outputs import impact_report
from clearrec_desktop.core.reconcile import run as reconcile_run


def test_reconciliation_section(tmp_path):
    demo.write_demo_extract(tmp_path / "doj.csv", 3000, "SACRAMENTO", 5)
    demo_county.write_county_export(tmp_path / "doj.csv", tmp_path / "county.csv", county="SACRAMENTO", seed=5,
                                    mapping_path=tmp_path / "map.toml")
    mapping = tomllib.loads((tmp_path / "map.toml").read_text(encoding="utf-8"))
    run = reconcile_run.run_reconcile(tmp_path / "doj.csv", tmp_path / "county.csv", mapping=mapping,
                                      county="Sacramento", as_of=date(2025, 1, 1))
    fig = impact_report.impact_figures(run.summary, run.results)
    rec = fig["reconciliation"]
    assert rec["lists"] == {k: run.summary["reconciliation"]["lists"][k]
                            for k in ("county_only", "doj_only", "both_disagreeing", "both")}
    assert sum(v["county_only"] for v in rec["by_courthouse"].values()) == \
        run.results.filter(pl.col("provenance") == "county_only").height
    text = "\n".join(p.extract_text() or "" for p in
                     PdfReader(BytesIO(impact_report.build_impact_report(run.summary, run.results))).pages)
    flat = " ".join(text.split())
    assert "DOJ's list compared with the county's own records" in flat
    shown = impact_report.pub(rec["lists"]["county_only"])
    assert f"Found in the county's records only (not on DOJ's list) {shown}" in flat

    # an ordinary run has no such section
    plain = run.summary | {"reconciliation": None}
    assert impact_report.impact_figures(plain, run.results.drop("provenance"))["reconciliation"] is None
    text = "\n".join(p.extract_text() or "" for p in PdfReader(BytesIO(
        impact_report.build_impact_report(plain, run.results.drop("provenance")))).pages)
    assert "compared with the county's own records" not in " ".join(text.split())
