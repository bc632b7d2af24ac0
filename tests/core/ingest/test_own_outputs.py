"""ClearRec's own output files are recognised, so importing one says what it is (issue 19.6)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl

from clearrec_desktop.core import pipeline
from clearrec_desktop.core.ingest import own_outputs
from clearrec_desktop.core.outputs import exports
from clearrec_desktop.core.safety import resource_path
from clearrec_desktop.core.screen import profiles

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "tests" / "data" / "doj-extract-sample.csv"


def test_results_files_are_named_and_extracts_are_not(tmp_path):
    run = pipeline.run_screen([SAMPLE], county="SAN JOAQUIN", as_of=date(2026, 11, 1),
                              profile=profiles.load_profile("statutory"))
    written = pipeline.write_outputs(run, tmp_path / "run")
    exports.export_from_dir(tmp_path / "run", xlsx=tmp_path / "results.xlsx")
    text = own_outputs.describe(tmp_path / "results.xlsx")
    assert text and text.startswith("results.xlsx is ClearRec's review workbook") and "not an extract" in text
    csvs = [p for p in written.values() if Path(p).name == "results.csv"]
    assert csvs
    for path in csvs:
        assert "results file written by ClearRec" in own_outputs.describe(path)
    # what is to be imported is not mistaken for an output
    assert own_outputs.describe(SAMPLE) is None
    assert own_outputs.describe(resource_path("mappings/example-cms.csv")) is None
    book = openpyxl.Workbook()
    book.active.title = "Summary"  # a county workbook that happens to have a Summary sheet
    book.create_sheet("Cases")
    book.save(tmp_path / "county.xlsx")
    assert own_outputs.describe(tmp_path / "county.xlsx") is None
