"""Regenerate the sample documents in this folder from the bundled demo extract.

    python docs/samples/make_samples.py      (needs pdftoppm from poppler-utils for the PNGs)

One sample per posture (response to DOJ's list, supplemental motion, response to a petition),
the public redacted version beside the version lodged under seal, a per-case motion and order
(PDF and .docx), the cover report and the impact report. Everything is fictional demo data.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import polars as pl

from clearrec_desktop.core import pipeline
from clearrec_desktop.core.outputs import exports, filing
from clearrec_desktop.core.outputs import packet as outputs_packet
from clearrec_desktop.core.safety import resource_path
from clearrec_desktop.core.screen import profiles

HERE = Path(__file__).resolve().parent
FILING_DATE = date(2026, 11, 2)


def main() -> None:
    for old in HERE.glob("sample-*"):
        old.unlink()
    run = pipeline.run_screen([resource_path("demo/demo-extract.csv")], county="SACRAMENTO", as_of=date(2026, 11, 1),
                              profile=profiles.load_profile("statutory"))
    office = resource_path("demo/office.toml")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "screen"
        pipeline.write_outputs(run, out)
        results = pl.read_csv(out / "results.csv", infer_schema=False)
        petition_case = results.filter(pl.col("outcome") == "dismiss").item(0, "court_case_number")
        postures = {
            "doj-list": filing.FilingOptions(posture="doj_list", doj_list_received=date(2019, 6, 28),
                                             filing_date=FILING_DATE),
            "supplemental": filing.FilingOptions(posture="supplemental", filing_date=FILING_DATE),
            "petition": filing.FilingOptions(posture="petition", petition_filed=date(2026, 9, 14),
                                             petition_cases=(petition_case,), filing_date=FILING_DATE),
        }
        for name, options in postures.items():
            docs = Path(tmp) / name
            outputs_packet.build_documents(out, office, docs, options=options)
            shutil.copy(docs / "motion-packet-lodged-under-seal.pdf", HERE / f"sample-motion-packet-{name}.pdf")
            if name == "doj-list":
                shutil.copy(docs / "motion-packet-public-redacted.pdf", HERE / "sample-motion-packet-public-redacted.pdf")
                shutil.copy(docs / "cover-report.pdf", HERE / "sample-cover-report.pdf")
                shutil.copy(docs / "court-update.xlsx", HERE / "sample-court-update.xlsx")
        # the petitioner's case as its own motion and order (PDF and the editable .docx)
        per_case = outputs_packet.build_documents(out, office, Path(tmp) / "petition-cases", options=postures["petition"],
                                                  per_case=True)
        for p in per_case:
            if p.parent.name == "per-case":
                kind = "order" if p.stem.endswith("-order") else "motion"
                shutil.copy(p, HERE / f"sample-per-case-{kind}{p.suffix}")
        exports.export_from_dir(out, impact_report=HERE / "sample-impact-report.pdf")
    pages = (("sample-motion-packet-doj-list.pdf", 1, 3), ("sample-motion-packet-public-redacted.pdf", 8, 8),
             ("sample-per-case-order.pdf", 1, 1), ("sample-impact-report.pdf", 1, 1))
    for pdf, first, last in pages:
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(first), "-l", str(last), str(HERE / pdf),
                        str(HERE / pdf.removesuffix(".pdf"))], check=True)
    print("\n".join(sorted(p.name for p in HERE.iterdir())))


if __name__ == "__main__":
    main()
