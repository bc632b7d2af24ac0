"""Time the court documents on large filings, with the fonts embedded: a 10,000-row exhibit
packet (target < 10 s, each version) and 1,000 per-case filings - a motion and an order as PDF
and the order as .docx for each case (target < 30 s). Prints figures; asserts nothing.

    .venv/bin/python benchmarks/documents.py [rows] [cases]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from clearrec_desktop.core.outputs import court_update, filing
from clearrec_desktop.core.outputs import packet as outputs_packet

REMEDIES = [
    ("HS 11357(a)", "11357(A) HS", "M", "dismiss", "dismiss_and_seal", "HS 11361.8(e)-(f) | HS 11362.1"),
    ("HS 11358", "11358 HS", "F", "dismiss", "dismiss_and_seal", "HS 11361.8(b), (f) presumption | HS 11362.1"),
    ("HS 11359", "11359 HS", "F", "reduce", "reduce_to_misdemeanor", "HS 11361.8(a)-(f) | HS 11359(b)"),
    ("HS 11360(a)", "11360(A) HS", "F", "reduce", "reduce_to_misdemeanor", "HS 11361.8(a)-(f) | HS 11360(a)(2)"),
    ("HS 11358", "11358 HS", "M", "reduce", "reduce_to_infraction", "HS 11361.8(e)-(f) | HS 11358(a)"),
    ("HS 11359", "11359 HS", "M", "ineligible", "", "HS 11359(b) | HS 11361.8"),
]
COURTS = ["SACRAMENTO SUPERIOR COURT", "SACRAMENTO SUPERIOR - SOUTH", "CAROL MILLER JUSTICE CENTER"]


def synthetic_results(rows: int, seed: int = 1) -> pl.DataFrame:
    """A results.csv-shaped frame: people with 1-3 cases of 1-3 counts, mostly granted."""
    rnd = random.Random(seed)
    out: list[dict] = []
    person = 0
    while len(out) < rows:
        person += 1
        sid = str(1_000_000 + person)
        name = f"{rnd.choice(['GARCIA', 'SMITH', 'NGUYEN', 'JOHNSON', 'LOPEZ'])}{person},{rnd.choice(['ANA', 'LUIS', 'KIM'])}"
        for c in range(rnd.randint(1, 3)):
            case = f"{rnd.choice('FM')}{rnd.randint(10, 99)}{person:06d}{c}"
            court = rnd.choice(COURTS)
            code, original, level, outcome, relief, cites = rnd.choice(REMEDIES)
            for k in range(rnd.randint(1, 3)):
                if len(out) == rows:
                    break
                count_key = f"{c + 1:03d}002{k + 1:03d}000"
                out.append({
                    "conviction_id": f"{sid}/{case}/{count_key}", "source_file": "extract.dat",
                    "source_line": str(len(out) + 2), "subject_id": sid, "cii_number": f"A{person:08d}",
                    "name": name if rnd.random() > 0.05 else name + " JR", "dob": "1970-04-12", "gender": "M",
                    "race": "HISPANIC", "court_case_number": case, "courthouse": court, "county": "SACRAMENTO",
                    "conviction_date": f"{rnd.randint(1975, 2015)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
                    "conviction_date_quality": "full", "cycle_date": "", "count_key": count_key,
                    "code_section": code, "code_section_original": original, "qualifier": "", "level": level,
                    "age_at_offence": "30", "age_at_conviction": "30", "sentence_end": "",
                    "outcome": outcome, "relief": relief,
                    "relief_basis": {"dismiss": "statute_dismissal", "reduce": "statute_redesignation"}.get(outcome, ""),
                    "relief_track": "petition" if rnd.random() < 0.1 else "application",
                    "reasons": f"Remedy table [{cites.split(' | ')[0]}]", "rules": "remedy", "citations": cites,
                    "evidence": "extract.dat:2", "flags": "",
                })
    return pl.DataFrame(out, schema={c: pl.String for c in (*filing.RESULTS_COLUMNS, "relief_basis")})


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    cases = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
    office = filing.Office(district_attorney="Jane Q. Prosecutor", state_bar_number="123456",
                      office="Office of the District Attorney", address="901 G Street\nSacramento, CA 95814",
                      phone="(916) 555-0100", email="relief@da.example.gov",
                      court="Superior Court of the State of California", county="SACRAMENTO",
                      deputy="John R. Deputy", deputy_state_bar_number="234567")

    results = synthetic_results(rows)
    options = filing.FilingOptions(posture="doj_list", doj_list_received=date(2019, 6, 28),
                                   filing_date=date(2026, 11, 2), challenge_ineligible=True)
    t0 = time.perf_counter()
    selection = outputs_packet.hold_unprintable(filing.select_for_filing(results, options=options))
    t1 = time.perf_counter()
    print(f"select_for_filing + printable check, {rows:,} rows: {t1 - t0:.2f} s")
    for version in ("sealed", "public"):
        for compact in (False, True):
            sel = selection if not compact else filing.Selection(
                selection.granted, selection.challenged, selection.left_out, selection.total,
                options=filing.FilingOptions(posture="doj_list", doj_list_received=date(2019, 6, 28), compact=True))
            t = time.perf_counter()
            packet = outputs_packet.build_packet(sel, office, as_of=date(2026, 11, 1), version=version,
                                                 source_description=["File extract.dat (synthetic)"], audit_head="0" * 64)
            print(f"bulk packet ({version}, {'9 pt' if compact else '12 pt'}), {sel.granted.height:,} rows in "
                  f"Exhibit A + {sel.challenged.height:,} in Exhibit B: {time.perf_counter() - t:.2f} s "
                  f"({len(packet) / 1e6:.1f} MB)  [target < 10 s]")

    # Per-case: the first `cases` court cases of the selection.
    granted = selection.granted
    keys = granted.select("courthouse", "court_case_number", "subject_id").unique(maintain_order=True).head(cases)
    few = filing.Selection(granted.join(keys, on=["courthouse", "court_case_number", "subject_id"], how="semi"),
                           selection.challenged.head(0), selection.left_out.head(0), options=options)
    t3 = time.perf_counter()
    per_case = outputs_packet.build_per_case(few, office)
    t4 = time.perf_counter()
    size = sum(len(d) for _, d in per_case)
    print(f"per-case filings, {keys.height:,} court cases ({len(per_case):,} files: motion + order PDF + order "
          f".docx each): {t4 - t3:.2f} s ({size / 1e6:.1f} MB)  [target < 30 s]")

    with tempfile.TemporaryDirectory() as tmp:  # synthetic rows only
        t5 = time.perf_counter()
        csv_path, xlsx_path = court_update.write_court_update(selection, Path(tmp) / "u.csv", Path(tmp) / "u.xlsx")
        t6 = time.perf_counter()
        size = xlsx_path.stat().st_size
    print(f"court update CSV + XLSX, {rows:,} rows: {t6 - t5:.2f} s (XLSX {size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
