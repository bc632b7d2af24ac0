"""Smoke-test the frozen one-folder program: ``python installer/smoke_frozen.py dist/clearrec-desktop``.

Runs the *frozen* executables only (never the source tree), each in an empty temporary folder
with a minimal environment: no PYTHONPATH, no CLEARREC_RESOURCES, a throw-away HOME, a UTF-8
locale and the offscreen Qt platform. build_frozen.sh runs this inside an empty network
namespace where the machine allows it.

1. the layout: both executables, the bundled resources;
2. ``ClearRec Desktop --self-test``, three times (the first run's output is shown; the timings
   of all three give the start-up time: the first "ok:" line is printed once Qt is up and the
   main window exists);
3. the ``clearrec`` command line on the bundled data: screen the demo extract (polars), court
   documents (reportlab), exports (openpyxl, reportlab), and the example county file as CSV and
   as an Excel copy made here (fastexcel), which must screen the same.

Any non-zero exit, any missing output and ANY byte on stderr fails the run (exit 1): no
stderr output is expected from any of these commands. (Qt would warn on stderr about a
non-UTF-8 locale, which is why LANG is set; the self-test itself silences only the offscreen
platform's size-hint notice.) Needs only the standard library, plus openpyxl for step 3's
Excel file.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = ".exe" if sys.platform == "win32" else ""
GUI = "ClearRec Desktop" + EXE
CLI = "clearrec" + EXE
TIMEOUT_S = 300
SELF_TEST_RUNS = 3
DEMO_COUNTY, DEMO_AS_OF = "Sacramento", "2026-11-01"


class SmokeFailure(Exception):
    pass


def minimal_env(home: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), "TMPDIR": str(home),
           "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen"}
    if sys.platform == "win32":  # what Windows processes need to start at all
        for key in ("SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT"):
            if key in os.environ:
                env[key] = os.environ[key]
        for key in ("USERPROFILE", "APPDATA", "LOCALAPPDATA", "TEMP", "TMP"):
            env[key] = str(home)
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, list[tuple[float, str]], str, float]:
    """Run ``cmd``; return (exit code, [(seconds since start, stdout line)], stderr, seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, encoding="utf-8", errors="replace")
    err_chunks: list[str] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    watchdog = threading.Timer(TIMEOUT_S, proc.kill)
    watchdog.start()
    lines = []
    try:
        for line in proc.stdout:
            lines.append((time.perf_counter() - start, line.rstrip("\r\n")))
        code = proc.wait()
    finally:
        watchdog.cancel()
    reader.join()
    elapsed = time.perf_counter() - start
    if elapsed >= TIMEOUT_S:
        raise SmokeFailure(f"{Path(cmd[0]).name} did not finish within {TIMEOUT_S} s")
    return code, lines, "".join(err_chunks), elapsed


def check(cmd: list[str], cwd: Path, env: dict[str, str], what: str) -> tuple[list[str], float]:
    code, lines, err, elapsed = run(cmd, cwd, env)
    if code != 0 or err:
        out = "\n".join(text for _, text in lines)
        raise SmokeFailure(f"{what}: exit {code}" + (", unexpected output on stderr" if err else "")
                           + f"\n--- stdout ---\n{out}\n--- stderr ---\n{err}")
    return [text for _, text in lines], elapsed


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def check_layout(dist: Path) -> Path:
    for name in (GUI, CLI):
        if not (dist / name).is_file():
            raise SmokeFailure(f"{dist / name} is missing: not a complete one-folder build")
    resources = dist / "_internal" / "resources"
    for rel in ("profiles/statutory.toml", "lists/super-strikes.csv", "lists/pc290.csv",
                "demo/demo-extract.csv", "demo/office.toml", "mappings/example-cms.toml",
                "mappings/example-cms.csv"):
        if not (resources / rel).is_file():
            raise SmokeFailure(f"bundled resource missing: {resources / rel}")
    guide = dist / "_internal" / "docs" / "user-guide.md"  # Help > User Guide
    if not guide.is_file() or not (guide.parent / "screenshots" / "welcome.png").is_file():
        raise SmokeFailure(f"the user guide or its screenshots are missing from {guide.parent}")
    return resources


def self_test(dist: Path, work: Path) -> tuple[float, float]:
    """Run the frozen self-test SELF_TEST_RUNS times; return median (first "ok", total) seconds."""
    firsts, totals = [], []
    for i in range(SELF_TEST_RUNS):
        cwd = work / f"self-test-{i + 1}"
        cwd.mkdir()
        code, lines, err, elapsed = run([str(dist / GUI), "--self-test"], cwd, minimal_env(cwd))
        if i == 0:
            for _, text in lines:
                print(f"  {text}")
        ok = [t for t, text in lines if text.startswith("ok:")]
        if code != 0 or err or not ok:
            raise SmokeFailure(f"self-test run {i + 1}: exit {code}"
                               + (", unexpected output on stderr" if err else "")
                               + ("" if ok else ', no "ok:" line')
                               + "\n--- stdout ---\n" + "\n".join(text for _, text in lines)
                               + f"\n--- stderr ---\n{err}")
        firsts.append(ok[0])
        totals.append(elapsed)
        if i == 0:
            print(f"  -> passed: exit 0, {len(ok)} ok lines, nothing on stderr")
    print("  start-up (first ok line) per run: " + ", ".join(f"{t:.2f} s" for t in firsts)
          + "; whole self-test: " + ", ".join(f"{t:.2f} s" for t in totals))
    return statistics.median(firsts), statistics.median(totals)


def cli_smoke(dist: Path, resources: Path, work: Path) -> float:
    """The command line on the bundled data; returns the median start-up time of --version."""
    cli = str(dist / CLI)
    env = minimal_env(work)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]

    starts = []
    for _ in range(3):
        out, elapsed = check([cli, "--version"], work, env, "clearrec --version")
        starts.append(elapsed)
    if out != [f"clearrec {version}"]:
        raise SmokeFailure(f"clearrec --version printed {out!r}, expected 'clearrec {version}'")
    print(f"  clearrec --version: {out[0]} ({statistics.median(starts):.2f} s)")

    check([cli, "profiles"], work, env, "clearrec profiles")
    out, elapsed = check([cli, "screen", str(resources / "demo" / "demo-extract.csv"), "--county", DEMO_COUNTY,
                          "--as-of", DEMO_AS_OF, "--out", "screen"], work, env, "clearrec screen")
    with open(work / "screen" / "results.csv", newline="", encoding="utf-8") as fh:
        rows = sum(1 for _ in csv.DictReader(fh))
    if rows == 0:
        raise SmokeFailure("clearrec screen wrote no results for the demo extract")
    print(f"  clearrec screen (demo extract, polars): {rows:,} convictions screened ({elapsed:.2f} s)")

    out, elapsed = check([cli, "documents", "screen", "--office", str(resources / "demo" / "office.toml"),
                          "--out", "packets"], work, env, "clearrec documents")
    pdfs = sorted((work / "packets").glob("*.pdf"))
    if not pdfs or any(p.read_bytes()[:5] != b"%PDF-" for p in pdfs):
        raise SmokeFailure(f"clearrec documents: no valid PDF written ({out})")
    print(f"  clearrec documents (reportlab): {len(pdfs)} PDF(s) ({elapsed:.2f} s)")

    out, elapsed = check([cli, "export", "screen", "--xlsx", "results.xlsx", "--doj-results", "results.dat",
                          "--impact-report", "impact.pdf"], work, env, "clearrec export")
    if (work / "results.xlsx").read_bytes()[:2] != b"PK" or (work / "impact.pdf").read_bytes()[:5] != b"%PDF-" \
            or (work / "results.dat").stat().st_size == 0:
        raise SmokeFailure(f"clearrec export: an output is missing or malformed ({out})")
    print(f"  clearrec export (openpyxl, reportlab): workbook, DOJ results, impact report ({elapsed:.2f} s)")

    # The example county file, as CSV and as an Excel copy of it: the same result both ways.
    mapping, sample = resources / "mappings" / "example-cms.toml", resources / "mappings" / "example-cms.csv"
    import openpyxl  # the build environment has it: it is one of the app's dependencies

    book = openpyxl.Workbook()
    sheet = book.active
    with open(sample, newline="", encoding="utf-8") as fh:
        for record in csv.reader(fh):
            sheet.append(record)
    book.save(work / "cms.xlsx")
    firsts = []
    for source in (str(sample), "cms.xlsx"):
        out, elapsed = check([cli, "screen", source, "--mapping", str(mapping), "--county", DEMO_COUNTY,
                              "--as-of", DEMO_AS_OF, "--out", "cms-" + Path(source).suffix[1:]],
                             work, env, f"clearrec screen {Path(source).name} --mapping")
        firsts.append(out[0] if out else "")
    if firsts[0] != firsts[1] or not firsts[0].startswith("Screened "):
        raise SmokeFailure(f"the Excel copy of the example county file screened differently: {firsts}")
    print(f"  clearrec screen --mapping (county CSV and Excel, fastexcel): same result, {firsts[1]!r}")
    return statistics.median(starts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dist", type=Path, help="the one-folder build, e.g. dist/clearrec-desktop")
    a = ap.parse_args(argv)
    dist = a.dist.resolve()
    try:
        resources = check_layout(dist)
        size, count = folder_size(dist)
        print(f"frozen: {dist.name}/ is {size / 2**20:.0f} MiB in {count:,} files")
        with tempfile.TemporaryDirectory(prefix="clearrec-frozen-") as tmp:
            print(f"frozen: {GUI} --self-test ({SELF_TEST_RUNS} runs, offscreen, minimal environment)")
            first_ok, total = self_test(dist, Path(tmp))
            print(f"frozen: {CLI} on the bundled data")
            cli_dir = Path(tmp) / "cli"
            cli_dir.mkdir()
            cli_start = cli_smoke(dist, resources, cli_dir)
    except SmokeFailure as exc:
        print(f"frozen: FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"frozen: PASSED. size {size / 2**20:.0f} MiB ({count:,} files); start-up to the first self-test "
          f"line {first_ok:.2f} s, whole self-test {total:.2f} s, clearrec --version {cli_start:.2f} s (medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
