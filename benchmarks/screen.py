"""`clearrec screen` against polars' bare read_csv, from 100,000 to 10,000,000 rows (issue 14).

    python benchmarks/screen.py [--rows 100000,1000000,3000000,10000000] [--kinds demo,cannabis]
                                [--keep DIR] [--app 3000000] [--rescreen 1000000] [--json FILE]

Prints one table: file kind, rows, file size, seconds end to end (import + screen + results +
summary, as `clearrec screen` does it, written to a folder), rows/s, peak memory, the bare
read of the same file in the same run and the ratio. Each figure is measured in its own process
(peak = the process's maximum resident set). Figures, not assertions; the targets of issue 14
are printed beside them:

- 1,000,000 rows of both kinds: at most 3x the bare read, peak under 1 GB;
- 3,000,000 and 10,000,000 rows (``demo``, a statewide-looking file): peak under 2 GB, time
  growing no faster than rows;
- ``--rescreen N``: re-screening N stored rows with another profile under 3 s, a what-if of
  two profiles under 6 s (from the facts the app holds; also from the workspace's row groups);
- ``--app N``: the desktop app's import of N rows, shown in the review table, under 3 GB.

Kinds of file: ``demo`` is `clearrec demo-data --clean` (about 530 bytes a row, many
counties); ``traps`` is the same with every data-quality trap (polars cannot read it at all, so
its bare read is the clean file's of the same size, marked *); ``cannabis`` is
benchmarks/cannabis_extract.py (most rows cannabis convictions of the screened county, about
325 bytes a row). The bare read is skipped for a file whose read would need more than half of
this computer's memory (10,000,000 rows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2026-11-01"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, path, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
figures = {}
t = time.perf_counter()
if mode == "bare":
    import polars as pl
    rows = pl.read_csv(path, infer_schema=False).height
elif mode == "screen":
    from clearrec_desktop.cli import main
    code = main(["screen", str(path), "--county", "SACRAMENTO", "--as-of", "%(as_of)s", "--out", str(out)])
    assert code == 0
    rows = json.loads((out / "import-report.json").read_text())["rows"]
elif mode == "rescreen":
    import threading
    from datetime import date
    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.screen import profiles
    from clearrec_desktop.core.workspace.store import Workspace
    from clearrec_desktop.gui import session as gs
    as_of = date.fromisoformat("%(as_of)s")
    rows_, report, facts = pipeline.read_for_screening([path])
    rows = report.rows
    first = pipeline.screen_rows(rows_, report, county="SACRAMENTO", as_of=as_of, profile=profiles.load_profile(), facts=facts)
    t = time.perf_counter()
    pipeline.screen_rows(rows_, report, county="SACRAMENTO", as_of=as_of, profile=profiles.load_profile("los-angeles-2020"), facts=facts)
    figures["rescreen_s"] = time.perf_counter() - t
    t = time.perf_counter()
    gs._what_if(lambda f, m: None, threading.Event(), rows_, report, "SACRAMENTO", as_of,
                profiles.load_profile("statutory"), profiles.load_profile("sacramento-2019"), facts)
    figures["what_if_s"] = time.perf_counter() - t
    # after reopening the workspace: the facts are rebuilt from the stored row groups
    ws = Workspace.create(out / "bench.clearrec", "benchmark-passphrase", county="SACRAMENTO")
    pending = gs.PendingImport(paths=[path], rows=rows_, report=report, facts=facts)
    gs._screen_and_store(lambda f, m: None, threading.Event(), ws, pending, "SACRAMENTO", as_of, profiles.load_profile(), None)
    t = time.perf_counter()
    state = gs._load_run(lambda f, m: None, threading.Event(), ws)
    figures["load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pipeline.screen_rows(state.rows, state.report, county="SACRAMENTO", as_of=as_of,
                         profile=profiles.load_profile("los-angeles-2020"), facts=state.facts)
    figures["rescreen_after_load_s"] = time.perf_counter() - t
    ws.close()
    t = time.perf_counter() - sum(figures.values())
elif mode == "app":
    import os, threading
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from datetime import date
    from PySide6.QtWidgets import QApplication
    import clearrec_desktop.gui  # noqa: F401
    from clearrec_desktop.core.screen import profiles
    from clearrec_desktop.gui import session as gs
    from clearrec_desktop.gui.views.review import ReviewView
    app = QApplication.instance() or QApplication([])
    session = gs.Session()
    session.create_workspace(out / "app.clearrec", "benchmark-passphrase", "SACRAMENTO")
    view = ReviewView(session); view.resize(1400, 900); view.show(); app.processEvents()
    pending = gs._read_files(lambda f, m: None, threading.Event(), [path], None)
    state = gs._screen_and_store(lambda f, m: None, threading.Event(), session.workspace, pending, "SACRAMENTO",
                                 date.fromisoformat("%(as_of)s"), profiles.load_profile(), None)
    session._on_screened(state)
    view.table.viewport().repaint(); app.processEvents()
    rows = state.report.rows
    figures["results"] = state.results.height
    session.close_workspace()
secs = time.perf_counter() - t
print(json.dumps({"rows": rows, "seconds": secs, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **figures}))
""" % {"as_of": AS_OF}


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def measure(mode: str, path: Path, out: Path) -> dict:
    import shutil

    if out.exists():
        shutil.rmtree(out)   # a workspace left by an earlier run would be refused
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(out)], capture_output=True, text=True,
                          env=env)
    if proc.returncode:
        raise SystemExit(f"{mode} run on {path.name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def extract(folder: Path, kind: str, rows: int) -> Path:
    path = folder / f"{kind}-{rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        if kind in ("demo", "traps"):
            clean = ["--clean"] if kind == "demo" else []
            subprocess.run([sys.executable, "-m", "clearrec_desktop", "demo-data", "--rows", str(rows), *clean, str(path)],
                           check=True, capture_output=True)
        else:
            subprocess.run([sys.executable, str(HERE / "cannabis_extract.py"), str(path), "--rows", str(rows)],
                           check=True, capture_output=True)
        print(f"  (generated {path.name}: {path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - t:.0f} s)",
              flush=True)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="100000,1000000,3000000,10000000")
    ap.add_argument("--kinds", default="demo,traps,cannabis",
                    help="kinds of file; traps and cannabis are measured up to 1,000,000 rows")
    ap.add_argument("--keep", help="folder to keep the generated extracts in")
    ap.add_argument("--app", type=int, default=0, help="also measure the desktop app's import of this many rows")
    ap.add_argument("--rescreen", type=int, default=0, help="also measure re-screening this many stored rows")
    ap.add_argument("--json", help="write the figures here (benchmarks/chart.py draws them)")
    a = ap.parse_args()
    folder = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="clearrec-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [int(x) for x in a.rows.split(",") if x]
    kinds = [k for k in a.kinds.split(",") if k]
    memory = physical_memory()
    print(f"clearrec screen vs polars read_csv; {os.cpu_count()} cores, {memory / 1024**3:.0f} GiB; "
          f"Python {sys.version.split()[0]}", flush=True)
    table = []
    for kind in kinds:
        for n in sizes:
            if kind != "demo" and n > 1_000_000:
                continue
            path = extract(folder, kind, n)
            size = path.stat().st_size
            bare = None
            # a bare read holds the whole file as text columns: about 3.3x the file's size
            if not memory or size * 3.3 < memory / 2:
                bare = measure("bare", extract(folder, "demo", n) if kind == "traps" else path, folder / "out-bare")
            run = measure("screen", path, folder / f"out-{kind}-{n}")
            table.append({"kind": kind, "rows": run["rows"], "mb": size / 1e6, "seconds": run["seconds"],
                          "peak_mb": run["peak_mb"], "bare_seconds": bare and bare["seconds"],
                          "bare_peak_mb": bare and bare["peak_mb"]})
            row = table[-1]
            row["bare_of"] = "clean twin" if kind == "traps" else "same file"
            ratio = f"{row['seconds'] / row['bare_seconds']:5.2f}x" if bare else "    -"
            bare_txt = f"{bare['seconds']:6.2f} s {bare['peak_mb']:6,.0f} MB" if bare else "   (not run: memory)"
            print(f"{kind:<9} {row['rows']:>11,} {row['mb']:>7,.0f} MB {row['seconds']:7.2f} s "
                  f"{row['rows'] / row['seconds']:>9,.0f} rows/s {row['peak_mb']:7,.0f} MB | bare {bare_txt} | {ratio}",
                  flush=True)
    print()
    print("| file | rows | size | seconds | rows/s | peak MB | bare read_csv | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in table:
        star = "*" if r["kind"] == "traps" else ""
        bare = f"{r['bare_seconds']:.2f} s{star}, {r['bare_peak_mb']:,.0f} MB" if r["bare_seconds"] else "not run (memory)"
        ratio = f"{r['seconds'] / r['bare_seconds']:.2f}x" if r["bare_seconds"] else "-"
        print(f"| {r['kind']} | {r['rows']:,} | {r['mb']:,.0f} MB | {r['seconds']:.2f} | {r['rows'] / r['seconds']:,.0f} | "
              f"{r['peak_mb']:,.0f} | {bare} | {ratio} |")
    print("targets: 1M rows <= 3x the bare read and < 1,000 MB; 3M and 10M < 2,000 MB, rows/s not falling")
    extra = {}
    if a.rescreen:
        path = extract(folder, "traps", a.rescreen)
        r = measure("rescreen", path, folder / "out-rescreen")
        extra["rescreen"] = r
        print(f"\nre-screen {r['rows']:,} stored rows with another profile: {r['rescreen_s']:.2f} s (target < 3 s); "
              f"what-if of two profiles: {r['what_if_s']:.2f} s (target < 6 s); "
              f"after reopening the workspace: facts rebuilt from its row groups in {r['load_s']:.2f} s, "
              f"re-screen {r['rescreen_after_load_s']:.2f} s; peak {r['peak_mb']:,.0f} MB")
    if a.app:
        path = extract(folder, "traps", a.app)
        r = measure("app", path, folder / "out-app")
        extra["app"] = r
        print(f"\ndesktop app: import, screen, store and show {r['rows']:,} rows ({r['results']:,} results) "
              f"in {r['seconds']:.1f} s, peak {r['peak_mb']:,.0f} MB (target < 3,000 MB)")
    if a.json:
        Path(a.json).write_text(json.dumps({"table": table, **extra}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
