"""A synthetic DOJ extract in which most rows are cannabis convictions of one county.

The second kind of file of issue 14 (about 300 bytes a row, three quarters of the rows cannabis
court convictions in the screened county), next to `clearrec demo-data`'s statewide-looking
file. No real person: names, numbers and dates come from a hash of the row number.

    python benchmarks/cannabis_extract.py OUT.csv [--rows 1000000] [--county SACRAMENTO]

Each person takes 8 rows: an arrest, a conviction with two sentence parts (jail, then
probation), two counts of a second case, and three more cases; some people also have a
non-cannabis conviction, a conviction in another county, a super-strike or PC 290 entry, or a
DECEASED step, so every person-level fact of screening is exercised.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

ROWS_PER_PERSON = 8
CHUNK_PEOPLE = 125_000  # 1,000,000 rows per chunk written

CANNABIS = ["11357(A) HS-POSSESS MARIJUANA", "11357(B) HS-POSSESS MARIJUANA", "11357(C) HS-POSSESS MARIJUANA",
            "11358 HS-CULTIVATE MARIJUANA", "11359 HS-POSSESS MARIJUANA FOR SALE",
            "11360(A) HS-TRANSPORT/SELL MARIJUANA", "11360(B) HS-GIVE AWAY MARIJUANA"]
OTHER = ["459 PC-BURGLARY", "23152(A) VC-DUI ALCOHOL", "11350(A) HS-POSSESS NARCOTIC", "484(A) PC-PETTY THEFT"]
LAST = ["GARCIA", "NGUYEN", "SMITH", "JOHNSON", "MARTINEZ", "LEE", "BROWN", "LOPEZ", "DAVIS", "WILSON",
        "ANDERSON", "THOMAS", "HERNANDEZ", "MOORE", "JACKSON", "WHITE"]
FIRST = ["MARIA", "JOSE", "JAMES", "LINDA", "MICHAEL", "ANA", "DAVID", "KIM", "ROBERT", "ROSA", "JOHN", "MAI"]
RACES = ["HISPANIC", "WHITE", "BLACK", "ASIAN", "OTHER"]
COUNTIES = ["LOS ANGELES", "SAN JOAQUIN", "ALAMEDA", "FRESNO"]


def _header() -> list[str]:
    from clearrec_desktop.core.ingest.doj import DOJ_COLUMNS

    return DOJ_COLUMNS


def _pick(values: list[str], h: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather((h % len(values)).cast(pl.Int64))


def _date(days: pl.Expr) -> pl.Expr:
    return (pl.lit(0).cast(pl.Date) + pl.duration(days=days)).dt.strftime("%Y%m%d")


def chunk(first_person: int, people: int, county: str, seed: int) -> pl.DataFrame:
    n = people * ROWS_PER_PERSON
    i = pl.int_range(first_person * ROWS_PER_PERSON, first_person * ROWS_PER_PERSON + n, dtype=pl.Int64)
    frame = pl.select(i.alias("i"))
    p = pl.col("i") // ROWS_PER_PERSON
    j = pl.col("i") % ROWS_PER_PERSON
    hp = (p + seed).hash(seed)          # per person
    hr = (pl.col("i") + seed).hash(seed + 1)  # per row
    cycle = pl.when(j <= 2).then(1).when(j <= 4).then(2).otherwise(j - 2)   # 1,1,1,2,2,3,4,5
    step = pl.when(j == 0).then(1).otherwise(2)
    count = pl.when(j == 4).then(2).otherwise(1)
    dob_days = (hp % 9000).cast(pl.Int64) - 5000                     # 1956-1994
    conv_days = dob_days + 6600 + ((hp // 7 + cycle * 911) % 9000).cast(pl.Int64)  # age 18-43
    conv_days = pl.min_horizontal(conv_days, pl.lit(17500))          # mostly before 11/9/2016
    kind = (hp // 13) % 1000
    other_row = (j == 6) & (kind < 250)                              # a non-cannabis conviction
    super_strike = (j == 6) & (kind >= 250) & (kind < 255)
    registration = (j == 7) & (kind >= 255) & (kind < 258)
    deceased = (j == 7) & (kind >= 258) & (kind < 260)
    other_county = (j == 5) & ((hp // 17) % 10 == 0)
    offence = (pl.when(super_strike).then(pl.lit("187 PC-MURDER"))
               .when(registration).then(pl.lit("290 PC-REGISTRATION OF SEX OFFENDER"))
               .when(other_row).then(_pick(OTHER, hr))
               .otherwise(_pick(CANNABIS, hp // 3 + cycle)))
    level = pl.when(offence.str.contains("11357|11360\\(B")).then(pl.lit("MISDEMEANOR")).otherwise(
        pl.when((hr % 3) == 0).then(pl.lit("MISDEMEANOR")).otherwise(pl.lit("FELONY")))
    step_type = (pl.when(j == 0).then(pl.lit("ARREST/DETAINED/CITED")).when(registration).then(pl.lit("REGISTRATION"))
                 .when(deceased).then(pl.lit("DECEASED")).otherwise(pl.lit("COURT ACTION")))
    court = (j > 0) & ~registration & ~deceased
    cty = pl.when(other_county).then(_pick(COUNTIES, hp)).otherwise(pl.lit(county))
    sent_type = pl.when(~court).then(pl.lit("")).when(j == 2).then(pl.lit("PROBATION")).otherwise(pl.lit("JAIL"))
    sent_len = pl.when(~court).then(pl.lit("")).when(j == 2).then(pl.lit("3")).otherwise(((hr % 180) + 1).cast(pl.String))
    sent_unit = pl.when(~court).then(pl.lit("")).when(j == 2).then(pl.lit("Y")).otherwise(pl.lit("D"))
    subject = (p + 1_000_000).cast(pl.String)
    cyc = cycle.cast(pl.String).str.zfill(3)
    values = {
        "RECORD_ID": pl.col("i").cast(pl.String),
        "SUBJECT_STATUS": pl.lit("A"),
        "SUBJECT_ID": subject,
        "CII_NUMBER": pl.lit("A") + ((hp % 90_000_000) + 10_000_000).cast(pl.String),
        "PRI_NAME": _pick(LAST, hp // 5) + pl.lit(",") + _pick(FIRST, hp // 11),
        "GENDER": pl.when(hp % 4 == 0).then(pl.lit("F")).otherwise(pl.lit("M")),
        "PRI_DOB": _date(dob_days),
        "RACE_DESCR": _pick(RACES, hp // 19),
        "CYC_ORDER": cyc,
        "CYC_DATE": _date(conv_days - 30),
        "STP_ORDER": step.cast(pl.String).str.zfill(3),
        "STP_EVENT_DATE": pl.when(j == 0).then(_date(conv_days - 30)).otherwise(_date(conv_days)),
        "STP_TYPE_DESCR": step_type,
        "STP_ORI_CODE": pl.when(j == 0).then(pl.lit("CAPD")).otherwise(pl.lit("CASC")) + cty,
        "STP_ORI_DESCR": pl.when(court).then(cty + pl.lit(" SUPERIOR COURT")).otherwise(pl.lit("")),
        "STP_ORI_CNTY_NAME": cty,
        "CNT_ORDER": cyc + step.cast(pl.String).str.zfill(3) + count.cast(pl.String).str.zfill(3) + pl.lit("000"),
        "DISP_DATE": pl.when(j == 0).then(_date(conv_days - 30)).otherwise(_date(conv_days)),
        "OFN": pl.when(court).then(pl.lit("F") + (hp % 1_000_000).cast(pl.String) + cyc).otherwise(pl.lit("")),
        "OFFENSE_DESCR": offence,
        "OFFENSE_TOC": level.str.slice(0, 1),
        "DISP_DESCR": pl.when(court).then(pl.when(sent_type == "PROBATION").then(pl.lit("CONVICTED-PROBATION"))
                                          .otherwise(pl.lit("CONVICTED-JAIL"))).otherwise(pl.lit("")),
        "CONV_STAT_DESCR": pl.when(court).then(level).otherwise(pl.lit("")),
        "SENT_LOC_DESCR": sent_type, "SENT_LENGTH": sent_len, "SENT_TIME_CODE": sent_unit,
        "CYC_AGE": ((conv_days - dob_days) // 365).cast(pl.String),
    }
    seps = {"REQ_SEG_SEP", "PII_SEG_SEP", "PDR_SEG_SEP", "CYC_SEG_SEP", "STP_SEG_SEP", "CNT_SEG_SEP",
            "SENT_SEG_SEP", "END_OF_REC"}
    # blank fields as nulls: polars writes an empty string as "" but a null as nothing
    cols = [(pl.when(values[c] == "").then(None).otherwise(values[c]) if c in values
             else pl.lit("#" if c in seps else None, dtype=pl.String)).alias(c) for c in _header()]
    return frame.select(cols)


def write_cannabis_extract(path: Path, rows: int, county: str = "SACRAMENTO", seed: int = 1) -> int:
    people = max(1, rows // ROWS_PER_PERSON)
    with open(path, "wb") as fh:
        fh.write((",".join(_header()) + "\n").encode())
        done = 0
        while done < people:
            n = min(CHUNK_PEOPLE, people - done)
            chunk(done, n, county.upper(), seed).write_csv(fh, include_header=False)
            done += n
    return people * ROWS_PER_PERSON


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--county", default="SACRAMENTO")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t = time.perf_counter()
    n = write_cannabis_extract(Path(a.out), a.rows, a.county, a.seed)
    size = Path(a.out).stat().st_size
    print(f"wrote {a.out}: {n:,} rows, {size / 1e6:.0f} MB ({size / n:.0f} bytes a row) in {time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
