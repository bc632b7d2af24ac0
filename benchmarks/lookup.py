"""After filing (issue 16): lookup by name over 1,000,000 people, importing a 100,000-row ruling file.

A workspace is built with a synthetic screening run of PEOPLE people (one cannabis conviction
each, names made of random syllables so most are distinct), a filing of RULINGS of them, and a
court-returned update file (CSV, the layout `court_update.py` writes, with the ruling and order
date filled in). Then:

- the lookup index is built once (the first lookup of a run pays it; the desktop app builds it
  on a worker when the run is loaded);
- QUERIES lookups by a misspelled name (one letter changed) through ``Workspace.lookup`` -
  matching, statuses of the people found and the audited write - median and slowest;
- the ruling file is imported (``Workspace.import_rulings``): read, match, record, audit.

Targets: a name lookup under 200 ms, the 100,000-row import under 10 s. Figures, not
assertions: record them in docs/performance.md (the machine is shared; say so).

    python benchmarks/lookup.py [--people 1000000] [--rulings 100000] [--queries 25]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

SYLLABLES = ("AL", "BA", "CO", "DE", "EN", "FA", "GA", "HO", "IR", "JO", "KA", "LI", "MA", "NE", "OR", "PA",
             "QUI", "RO", "SA", "TE", "UL", "VA", "WE", "XI", "YA", "ZO", "BRE", "CHA", "DRU", "FLO", "GRI",
             "KRO", "LUN", "MOR", "NIK", "PRA", "SHE", "TRI", "VEL", "ZAR")


def synthetic_results(people: int, seed: int = 16) -> pl.DataFrame:
    rng = random.Random(seed)
    syl = SYLLABLES

    def word(parts: int) -> str:
        return "".join(rng.choice(syl) for _ in range(parts))

    names = [f"{word(3)},{word(2)} {rng.choice('ABCDEFGHJKLMNPRSTW')}" for _ in range(people)]
    frame = pl.DataFrame({
        "subject_id": [str(1_000_000 + i) for i in range(people)],
        "name": names,
        "dob": pl.Series([rng.randint(-5000, 12000) for _ in range(people)]).cast(pl.Date).cast(pl.String),
        "cii_number": [f"{rng.randrange(10**9):09d}" for _ in range(people)],
        "court_case_number": [f"F{i:08d}" for i in range(people)],
        "courthouse": [rng.choice(("NORTH", "SOUTH", "MAIN")) for _ in range(people)],
        "conviction_date": pl.Series([rng.randint(3000, 16000) for _ in range(people)]).cast(pl.Date),
    }).with_columns(code_section=pl.lit("HS 11357"), level=pl.lit("M"), outcome=pl.lit("dismiss"))
    return frame.with_columns(
        pl.concat_str([pl.col("subject_id"), pl.col("court_case_number"), pl.lit("001001001000")],
                      separator="/").alias("conviction_id"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--rulings", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=25)
    a = ap.parse_args()

    from clearrec_desktop.core.outputs.court_update import court_update_csv
    from clearrec_desktop.core.workspace.filings import rows_from_update
    from clearrec_desktop.core.workspace.store import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        results = synthetic_results(a.people)
        print(f"synthetic run: {results.height:,} people in {time.perf_counter() - t:.1f} s")
        ws = Workspace.create(folder / "bench.clearrec", "benchmark passphrase 16", county="SACRAMENTO")
        import_id = ws.add_import("synthetic.csv", "ab" * 32, 1, {"lines_read": a.people}, results.head(1))
        t = time.perf_counter()
        ws.add_run([import_id], "statutory", "id = 'statutory'\n", "SACRAMENTO", date(2026, 11, 1), results,
                   {"convictions": {"total": results.height}})
        print(f"run stored in {time.perf_counter() - t:.1f} s")

        filed = results.head(a.rulings).select(
            "conviction_id", "court_case_number", pl.lit("1").alias("count"), pl.lit("A").alias("exhibit"),
            pl.lit("dismiss_statute").alias("action"), "code_section", "level", "name", "dob", "cii_number")
        t = time.perf_counter()
        filing_id = ws.record_filing(posture="supplemental", court="Superior Court", filed_on="2026-11-02",
                                     convictions=rows_from_update(filed))
        print(f"filing of {filed.height:,} convictions recorded in {time.perf_counter() - t:.2f} s")
        returned = filed.with_columns(
            pl.when(pl.int_range(pl.len()) % 10 == 0).then(pl.lit("denied")).otherwise(pl.lit("granted"))
            .alias("ruling"), pl.lit("12/01/2026").alias("order_date"))
        ruling_file = folder / "court-update-returned.csv"
        ruling_file.write_bytes(court_update_csv(returned))
        t = time.perf_counter()
        imported = ws.import_rulings(ruling_file, filing_id=filing_id)
        t_import = time.perf_counter() - t
        print(f"ruling file: {imported.rows:,} rows, {imported.recorded:,} rulings recorded, "
              f"{len(imported.unmatched)} unmatched, in {t_import:.2f} s (target < 10 s)")

        t = time.perf_counter()
        ws.person_index()
        print(f"lookup index of {a.people:,} people built in {time.perf_counter() - t:.2f} s (once per run)")
        rng = random.Random(7)
        times, found = [], 0
        for _ in range(a.queries):
            name = results.item(rng.randrange(a.people), "name")
            pos = rng.randrange(1, len(name) - 1)
            typo = name[:pos] + ("X" if name[pos] != "X" else "Y") + name[pos + 1:]
            t = time.perf_counter()
            hits = ws.lookup(name=typo, reason="benchmark")
            times.append(time.perf_counter() - t)
            found += any(h["name"] == name for h in hits)
        print(f"name lookups ({a.queries}, one letter misspelled): median {statistics.median(times) * 1000:.0f} ms, "
              f"slowest {max(times) * 1000:.0f} ms (target < 200 ms); right person found in {found}/{a.queries}")
        ws.close()


if __name__ == "__main__":
    main()
