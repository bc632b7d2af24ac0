"""Import + screen + write results for a 1,000,000-row extract, against polars' bare read_csv.

Prints rows/s, seconds and peak memory (each measurement in its own process, so peaks do not
mix). Targets on the 2-core reference machine: end-to-end no more than 3x the bare read, under
10 s, peak memory under 2 GB. Figures, not assertions: record them in docs/performance.md.

    python benchmarks/screen.py [--rows 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, path, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
t = time.perf_counter()
if mode == "bare":
    import polars as pl
    df = pl.read_csv(path, infer_schema=False)
    rows = df.height
else:
    from datetime import date
    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.screen import profiles
    run = pipeline.run_screen([path], county="SACRAMENTO", as_of=date(2026, 11, 1), profile=profiles.load_profile())
    pipeline.write_outputs(run, out)
    rows = run.rows.height
secs = time.perf_counter() - t
print(json.dumps({"rows": rows, "seconds": secs, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(mode: str, path: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(out)], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{mode} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", help="folder to keep the generated extracts in")
    a = ap.parse_args()
    from clearrec_desktop.core.demo import write_demo_extract

    folder = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="clearrec-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    clean, traps = folder / f"clean-{a.rows}.csv", folder / f"traps-{a.rows}.csv"
    for path, with_traps in ((clean, False), (traps, True)):
        if not path.exists():
            t = time.perf_counter()
            write_demo_extract(path, a.rows, "SACRAMENTO", 7, traps=with_traps)
            print(f"generated {path.name}: {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")

    bare = measure("bare", clean, folder / "o-bare")
    print(f"polars read_csv (clean file, all 95 columns as text): {bare['seconds']:.2f} s, "
          f"{bare['rows'] / bare['seconds']:,.0f} rows/s, peak {bare['peak_mb']:.0f} MB")
    for label, path in (("clean file", clean), ("file with every data-quality trap", traps)):
        e2e = measure("e2e", path, folder / "o")
        print(f"import + screen + write results ({label}): {e2e['seconds']:.2f} s, "
              f"{e2e['rows'] / e2e['seconds']:,.0f} rows/s, peak {e2e['peak_mb']:.0f} MB, "
              f"{e2e['seconds'] / bare['seconds']:.2f}x the bare read")
    print("(polars cannot read the file with traps at all: a stray quote stops it; ClearRec rejects that line alone)")


if __name__ == "__main__":
    main()
