"""Regenerate the sample documents in this folder from the bundled demo extract.

    python docs/samples/make_samples.py      (needs pdftoppm from poppler-utils for the PNGs)
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

from clearrec_desktop.core import pipeline
from clearrec_desktop.core.outputs import exports
from clearrec_desktop.core.outputs import packet as outputs_packet
from clearrec_desktop.core.safety import resource_path
from clearrec_desktop.core.screen import profiles

HERE = Path(__file__).resolve().parent


def main() -> None:
    run = pipeline.run_screen([resource_path("demo/demo-extract.csv")], county="SACRAMENTO", as_of=date(2026, 11, 1),
                              profile=profiles.load_profile("statutory"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "screen"
        pipeline.write_outputs(run, out)
        docs = outputs_packet.build_documents(out, resource_path("demo/office.toml"), Path(tmp) / "docs")
        packet = next(p for p in docs if p.name == "motion-packet.pdf")
        shutil.copy(packet, HERE / "sample-motion-packet.pdf")
        exports.export_from_dir(out, impact_report=HERE / "sample-impact-report.pdf")
    for pdf, pages in (("sample-motion-packet.pdf", 3), ("sample-impact-report.pdf", 1)):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", str(pages), str(HERE / pdf),
                        str(HERE / pdf.removesuffix(".pdf"))], check=True)
    print("\n".join(sorted(p.name for p in HERE.iterdir())))


if __name__ == "__main__":
    main()
