"""Reconciliation of DOJ's extract with a county export (issue 15): linkage quality on the
planted demo pair, and time and memory at 1,000,000 x 1,000,000 rows.

Quality: a demo extract and its county export (`clearrec demo-data --county-export`), then
precision and recall of the person and conviction links against the truth file (targets:
precision >= 99%, recall >= 97%) and each list's count against the truth.

Scale: a 1,000,000-row demo extract and a 1,000,000-row county export (the county's whole
caseload: the extract's people plus people with other cases only), reconciled end to end
(both imports, linking, screening the three lists, summary, results.csv, reconciliation.csv,
links.csv) in its own process. Targets: under 60 s, peak memory under 3 GB. Figures, not
assertions: record them in docs/performance.md (the machine is shared; say so).

    python benchmarks/reconcile.py [--quality-rows 200000] [--rows 1000000] [--skip-scale] [--keep DIR]
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
from datetime import date
from pathlib import Path
from clearrec_desktop.core.outputs.run_folder import write_run_folder
from clearrec_desktop.core.reconcile import run as rr
doj, county, mapping, out = (Path(a) for a in sys.argv[1:5])
marks = {}
last = [time.perf_counter(), "start"]
def progress(fraction, message):  # time spent since the previous message belongs to that message
    now = time.perf_counter()
    if message != last[1]:
        marks[last[1]] = marks.get(last[1], 0.0) + now - last[0]
        last[0], last[1] = now, message
t = time.perf_counter()
run = rr.run_reconcile(doj, county, mapping=mapping, county="SACRAMENTO", as_of=date(2025, 1, 1), progress=progress)
t_run = time.perf_counter() - t
marks[last[1]] = marks.get(last[1], 0.0) + time.perf_counter() - last[0]
write_run_folder(run.results, run.report, run.summary, out)
rr.write_tables(run, out)
secs = time.perf_counter() - t
print(json.dumps({"doj_rows": run.doj_rows.height, "county_rows": run.county_rows.height, "seconds": secs,
                  "reconcile_seconds": t_run, "write_seconds": secs - t_run, "stages": marks,
                  "lists": run.summary["reconciliation"]["lists"],
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _pair(folder: Path, rows: int, min_county_rows: int, seed: int) -> tuple[Path, Path, Path, Path]:
    from clearrec_desktop.core.demo import write_demo_extract
    from clearrec_desktop.core.demo_county import write_county_export

    doj, county = folder / f"doj-{rows}.csv", folder / f"county-{rows}-{min_county_rows}.csv"
    truth, mapping = county.with_suffix(".truth.csv"), folder / "county.mapping.toml"
    if not doj.exists():
        t = time.perf_counter()
        write_demo_extract(doj, rows, "SACRAMENTO", seed)
        print(f"generated {doj.name}: {doj.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")
    if not county.exists() or not truth.exists():
        t = time.perf_counter()
        stats = write_county_export(doj, county, county="SACRAMENTO", seed=seed, truth_path=truth, mapping_path=mapping,
                                    min_rows=min_county_rows)
        print(f"generated {county.name}: {stats['rows']:,} rows, {county.stat().st_size / 1e6:.0f} MB "
              f"in {time.perf_counter() - t:.1f} s")
    elif not mapping.exists():
        from clearrec_desktop.core.demo_county import MAPPING_TOML
        mapping.write_text(MAPPING_TOML, encoding="utf-8")
    return doj, county, mapping, truth


def quality(folder: Path, rows: int) -> None:
    from datetime import date

    from clearrec_desktop.core.demo_county import score_against_truth
    from clearrec_desktop.core.reconcile.run import run_reconcile

    doj, county, mapping, truth = _pair(folder, rows, 0, 7)
    run = run_reconcile(doj, county, mapping=mapping, county="SACRAMENTO", as_of=date(2025, 1, 1))
    s = score_against_truth(run.reconciliation, truth)
    print(f"\nLinkage quality on the planted pair ({rows:,} DOJ rows, {run.county_rows.height:,} county rows):")
    for what in ("people", "convictions"):
        for which in ("accepted", "all"):
            x = s[what][which]
            print(f"  {what:<11} {which + ' links':<15} precision {x['precision']:.2%}  recall {x['recall']:.2%}  "
                  f"({x['correct']:,} right of {x['found']:,} found; truth {x['truth']:,})")
    print("  lists (cannabis convictions):  " + "; ".join(
        f"{k}: {s['lists']['found'][k]:,} (truth {v:,})" for k, v in s["lists"]["truth"].items()))
    r = run.summary["reconciliation"]
    print(f"  proposed links: people {r['person_links'].get('proposed', 0):,}, "
          f"convictions {r['conviction_links'].get('proposed', 0):,}")


def scale(folder: Path, rows: int) -> None:
    doj, county, mapping, _ = _pair(folder, rows, rows, 7)
    out = folder / "o-scale"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(doj), str(county), str(mapping), str(out)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"scale run failed:\n{proc.stderr}")
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\nScale: {m['doj_rows']:,} DOJ rows x {m['county_rows']:,} county rows: {m['seconds']:.1f} s end to end "
          f"(reconcile {m['reconcile_seconds']:.1f} s, writing {m['write_seconds']:.1f} s), peak {m['peak_mb']:,.0f} MB")
    print("  by stage: " + "; ".join(f"{k}: {v:.1f} s" for k, v in m["stages"].items() if v >= 0.05))
    print("  lists: " + ", ".join(f"{k} {v:,}" for k, v in m["lists"].items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quality-rows", type=int, default=200_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--keep", help="folder to keep the generated files in")
    a = ap.parse_args()
    folder = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="clearrec-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    quality(folder, a.quality_rows)
    if not a.skip_scale:
        scale(folder, a.rows)


if __name__ == "__main__":
    main()
