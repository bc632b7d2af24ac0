"""The synthetic DOJ extract generator: shape, determinism and honest trap counts.

Every trap count the generator reports is re-derived here from the file alone, with rules
written independently of the generator, so a stat that drifts from the data fails a test.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date

import polars as pl
import pytest

from clearrec_desktop.core.demo import INJECTED_KEYS, PAD_COLUMNS, write_demo_extract
from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.ingest.doj import DOJ_COLUMNS

CANNABIS_NUM = re.compile(r"(?<![\d.])(11357|11358|11359|11360)(?![\d.])")
CANONICAL = re.compile(r"(11357|11358|11359|11360)(\([A-C]\))? HS-[A-Z0-9/]+(?: [A-Z0-9/]+)*")
LOOKALIKE = re.compile(r"\s*(11357\.5|11358\.5|11359\.5|11360\.5|211360)\b")
ATTEMPT = re.compile(r"\s*(664[/.-]|182\(A\)\(1\) PC/)(11357|11358|11359|11360)(?![\d.])")
WRONG_CODE = re.compile(r"\s*(11357|11358|11359|11360)(\([A-Z]\))? (PC|VC)-")
PARTIAL = re.compile(r"(19|20)\d\d(0000|(0[1-9]|1[0-2])00|0[1-9]|1[0-2])")
DATE_COLUMNS = ("CYC_DATE", "STP_EVENT_DATE", "DISP_DATE")
DESCR_COLUMNS = ("OFFENSE_DESCR", "DISP_OFFENSE_DESCR", "CONV_OFFENSE_DESCR")


def read(path):
    """(header line or None, good rows as dicts in file order, bad lines as (line_no, fields count, odd quotes))."""
    raw = path.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    header = lines[0] if lines and lines[0].startswith("RECORD_ID") else None
    first = 2 if header is not None else 1
    good, bad = [], []
    for n, line in enumerate(lines[first - 1:], start=first):
        fields = next(csv.reader([line]))
        odd = line.count('"') % 2 == 1
        if odd or len(fields) != len(DOJ_COLUMNS):
            bad.append((n, len(fields), odd))
        else:
            good.append(dict(zip(DOJ_COLUMNS, fields)))
    return header, good, bad


def date_kind(value: str) -> str:
    if value.strip() == "":
        return "dates_blank"
    if PARTIAL.fullmatch(value):
        return "dates_partial"
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        return "ok" if len(value) == 8 and value.isdigit() else "dates_junk"
    except ValueError:
        return "dates_junk"


def is_conviction(row) -> bool:
    return row["STP_TYPE_DESCR"].strip() == "COURT ACTION" and row["DISP_DESCR"].strip().startswith("CONVICTED")


def derive_traps(good) -> dict[str, int]:
    """Count every trap from the file alone."""
    found = dict.fromkeys(INJECTED_KEYS, 0)
    for row in good:
        for col, v in row.items():
            if v.strip() == "NULL":
                found["null_values"] += 1
            elif col in PAD_COLUMNS and v != v.rstrip():
                found["padded_values"] += 1
        if row["CONV_STAT_DESCR"].strip() and row["CONV_STAT_DESCR"] != row["CONV_STAT_DESCR"].strip():
            found["padded_levels"] += 1
        if row["DISP_DESCR"].strip() and row["DISP_DESCR"] != row["DISP_DESCR"].lstrip():
            found["disposition_leading_spaces"] += 1
        county = row["STP_ORI_CNTY_NAME"]
        if county != " ".join(county.split()).upper():
            found["county_variants"] += 1
        for col in DATE_COLUMNS:
            kind = date_kind(row[col])
            if kind != "ok":
                found[kind] += 1

    counts = {}
    for row in good:
        if is_conviction(row):
            counts.setdefault((row["SUBJECT_ID"].strip(), row["CNT_ORDER"].strip()), row)
    for row in counts.values():
        descr, comment = row["OFFENSE_DESCR"], row["COMMENT_TEXT"]
        if row["CONV_STAT_DESCR"].strip() == "":
            found["blank_conv_level"] += 1
        elif descr.strip() in ("", "SEE COMMENT FOR CHARGE"):
            found["comment_only_charges"] += 1
        elif LOOKALIKE.match(descr):
            found["lookalike_sections"] += 1
        elif CANNABIS_NUM.search(comment):
            found["comment_other_cannabis"] += 1
        elif ATTEMPT.match(descr):
            found["attempt_conspiracy"] += 1
        elif row["CONV_OFFENSE_DESCR"].strip() and row["CONV_OFFENSE_DESCR"].strip() != descr.strip():
            found["conv_offense_differs"] += 1
        elif CANNABIS_NUM.search(descr):
            if WRONG_CODE.match(descr):
                found["wrong_code_letter"] += 1
            elif not CANONICAL.fullmatch(descr):
                found["section_variants"] += 1

    people = defaultdict(set)
    for row in good:
        people[(row["PRI_NAME"].strip(), row["PRI_DOB"].strip())].add(row["SUBJECT_ID"].strip())
    found["duplicate_people"] = sum(len(ids) - 1 for ids in people.values())

    dob_after = set()
    for row in counts.values():
        dob, when = row["PRI_DOB"].strip(), row["STP_EVENT_DATE"]
        if date_kind(when) == "ok" and dob > when:
            dob_after.add(row["SUBJECT_ID"].strip())
    found["dob_after_conviction"] = len(dob_after)
    return found


@pytest.fixture(scope="module")
def trapped(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "extract.dat"
    stats = write_demo_extract(path, 20_000, "Sacramento", 11)
    return path, stats, read(path)


def test_shape_header_and_exact_row_count(trapped):
    path, stats, (header, good, bad) = trapped
    assert header == ",".join(DOJ_COLUMNS)
    assert stats["rows"] == len(good) + len(bad) == 20_000
    assert stats["lines"] == 20_001
    assert stats["bytes"] == path.stat().st_size
    assert 400 <= stats["bytes"] / stats["rows"] <= 800
    assert stats["people"] == len({r["SUBJECT_ID"].strip() for r in good})
    assert stats["county"] == "SACRAMENTO"
    for row in good:
        for sep in ("REQ_SEG_SEP", "PII_SEG_SEP", "PDR_SEG_SEP", "CYC_SEG_SEP", "STP_SEG_SEP",
                    "CNT_SEG_SEP", "SENT_SEG_SEP", "END_OF_REC"):
            assert row[sep] == "#"
        assert re.fullmatch(r"\d{12}", row["CNT_ORDER"].strip())
        assert row["CNT_ORDER"].startswith(row["CYC_ORDER"] + row["STP_ORDER"])


def test_malformed_lines_are_reported_exactly(trapped):
    _, stats, (_, _, bad) = trapped
    assert [n for n, _, _ in bad] == stats["malformed_line_numbers"]
    inj = stats["injected"]
    assert sum(1 for _, _, odd in bad if odd) == inj["malformed_quote"] >= 1
    assert sum(1 for _, n, odd in bad if not odd and n == 94) == inj["malformed_short"] >= 1
    assert sum(1 for _, n, odd in bad if not odd and n == 96) == inj["malformed_long"] >= 1
    assert stats["malformed_lines"] == len(bad)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_small_trapped_file_has_a_malformed_line(tmp_path, seed):
    stats = write_demo_extract(tmp_path / "x.csv", 2000, "ALAMEDA", seed)
    assert stats["malformed_lines"] >= 1
    assert len(read(tmp_path / "x.csv")[2]) == stats["malformed_lines"]


def test_reported_trap_counts_are_in_the_file(trapped):
    _, stats, (_, good, _) = trapped
    found = derive_traps(good)
    for key in INJECTED_KEYS:
        if key.startswith("malformed_"):
            continue
        assert found[key] == stats["injected"][key], key
        assert stats["injected"][key] > 0, f"no {key} injected in 20,000 rows"


def test_clean_file_has_no_traps(tmp_path):
    path = tmp_path / "clean.csv"
    stats = write_demo_extract(path, 5000, "LOS ANGELES", 5, traps=False)
    header, good, bad = read(path)
    assert bad == [] and stats["malformed_line_numbers"] == []
    assert all(v == 0 for v in stats["injected"].values())
    assert all(v == 0 for v in derive_traps(good).values())
    for row in good:
        for col, v in row.items():
            assert v == v.strip() and v != "NULL", (col, v)
        descr = row["OFFENSE_DESCR"]
        if CANNABIS_NUM.search(descr) and not descr.startswith("664/187"):
            assert CANONICAL.fullmatch(descr), descr
        for col in DATE_COLUMNS:
            assert date_kind(row[col]) == "ok"
        if row["STP_TYPE_DESCR"] == "ARREST/DETAINED/CITED" and not row["DISP_DESCR"]:
            assert not row["SENT_LOC_DESCR"]


def test_deterministic(tmp_path):
    a, b, c = (tmp_path / n for n in ("a", "b", "c"))
    sa = write_demo_extract(a, 3000, "SACRAMENTO", 42)
    sb = write_demo_extract(b, 3000, "SACRAMENTO", 42)
    write_demo_extract(c, 3000, "SACRAMENTO", 43)
    assert a.read_bytes() == b.read_bytes()
    assert sa == {**sb, "path": sa["path"]}
    assert a.read_bytes() != c.read_bytes()


def test_sentence_parts_share_the_count_key(trapped):
    _, stats, (_, good, _) = trapped
    pairs = 0
    for prev, row in zip(good, good[1:]):
        key = (row["SUBJECT_ID"].strip(), row["CNT_ORDER"].strip())
        if key == (prev["SUBJECT_ID"].strip(), prev["CNT_ORDER"].strip()):
            assert is_conviction(row) and is_conviction(prev)
            assert row["SENT_LOC_DESCR"].strip() != prev["SENT_LOC_DESCR"].strip()
            assert row["SENT_ORDER"] == "002" and prev["SENT_ORDER"] == "001"
            pairs += 1
    assert pairs == stats["multi_part_convictions"]
    assert 0.15 < pairs / stats["convictions"] < 0.4


def test_ssn_is_never_a_real_format(trapped):
    _, _, (_, good, _) = trapped
    for row in good:
        assert re.fullmatch(r"(9\d\d|000)-\d\d-\d{4}", row["PRI_SSN"].strip())
        assert row["REQ_SSN"] == ""


def test_realistic_content(trapped):
    _, stats, (_, good, _) = trapped
    steps = {r["STP_TYPE_DESCR"].strip() for r in good}
    assert {"ARREST/DETAINED/CITED", "COURT ACTION", "REGISTRATION", "DECEASED"} <= steps
    assert 0.5 < stats["cannabis_convictions_in_county"] / stats["people"] < 3
    in_county = {r["SUBJECT_ID"].strip() for r in good if is_conviction(r)
                 and CANONICAL.fullmatch(r["OFFENSE_DESCR"])
                 and " ".join(r["STP_ORI_CNTY_NAME"].split()).upper() == "SACRAMENTO"}
    assert len(in_county) > 0.8 * stats["people"]
    descrs = " ".join(r["OFFENSE_DESCR"] for r in good)
    for section in ("187(A) PC", "664/187(A) PC", "288(A) PC", "211 PC", "459 PC"):
        assert section in descrs
    assert {r["STP_ORI_CNTY_NAME"].strip().upper() for r in good} > {"SACRAMENTO", "LOS ANGELES"}
    ages = [int(r["CYC_AGE"]) for r in good if r["CYC_AGE"].strip().isdigit()]
    assert min(ages) < 18 and sum(a < 21 for a in ages) > 0.05 * len(ages)
    assert any(r["STP_EVENT_DATE"] >= "20161109" for r in good if is_conviction(r))


def test_no_header_and_file_quirks(tmp_path):
    path = tmp_path / "nh.dat"
    stats = write_demo_extract(path, 50, "yolo", 3, header=False, traps=False)
    header, good, _ = read(path)
    assert header is None and len(good) == stats["rows"] == 50 and stats["lines"] == 50
    quirky = tmp_path / "q.dat"
    write_demo_extract(quirky, 10, "YOLO", 3, bom=True, header_trailing_comma=True)
    first = quirky.read_text(encoding="utf-8").split("\n")[0]
    assert first == "\ufeff" + ",".join(DOJ_COLUMNS) + ","
    assert write_demo_extract(tmp_path / "z.dat", 0, "YOLO", 3)["rows"] == 0


def test_bad_arguments(tmp_path):
    with pytest.raises(InputError):
        write_demo_extract(tmp_path / "x", 10, "ATLANTIS", 1)
    with pytest.raises(InputError):
        write_demo_extract(tmp_path / "x", -1, "YOLO", 1)


# --- planted cases (issue 11): every file shows the cases that are easy to get wrong ----------

# case -> {profile: (section, outcome, rule)}; hand-worked from prop64-rules.md
PLANTED_EXPECTED = {
    # PC 667(e)(2)(C)(iv)(VIII): life offences and gang-enhanced ones are super strikes (HS 11358(d)(1))
    "life_offence_prior": {"statutory": ("HS 11358", "review", "prior-super-strike"), "los-angeles-2020": ("HS 11358", "ineligible", "prior-super-strike")},
    "aggravated_arson_prior": {"statutory": ("HS 11358", "review", "prior-super-strike")},
    "child_death_prior": {"statutory": ("HS 11359", "review", "prior-super-strike")},
    "gang_same_count": {"statutory": ("HS 11358", "review", "prior-super-strike")},
    "gang_same_case": {"statutory": ("HS 11360(a)", "review", "prior-super-strike")},
    "carjacking_without_gang": {"statutory": ("HS 11358", "dismiss", "remedy")},
    # 653f: only (b) is a super strike, only (c) registers; PC 220 registers except mayhem
    "solicit_murder_653f_b": {"statutory": ("HS 11359", "review", "prior-super-strike")},
    "solicit_653f_a": {"statutory": ("HS 11359", "reduce", "remedy")},
    "solicit_rape_653f_c": {"statutory": ("HS 11359", "review", "prior-pc290")},
    "assault_intent_rape_220": {"statutory": ("HS 11360(a)", "review", "prior-pc290")},
    "assault_intent_mayhem_220": {"statutory": ("HS 11360(a)", "reduce", "remedy")},
    # serious offences not on either list decide nothing
    "manslaughter_not_listed": {"statutory": ("HS 11358", "dismiss", "remedy")},
    "unlawful_sex_not_listed": {"statutory": ("HS 11359", "reduce", "remedy")},
    # HS 11357(a)(2), 11358(b): infraction at 18-20
    "age19_concentrate_felony": {"statutory": ("HS 11357(a)", "reduce", "remedy")},
    "age20_cultivation_felony": {"statutory": ("HS 11358", "reduce", "remedy")},
    # HS 11362.1: giving away up to 28.5 g at 21+ is lawful
    "give_away_21_infraction": {"statutory": ("HS 11360(b)", "dismiss", "remedy")},
    "give_away_21_misdemeanor": {"statutory": ("HS 11360(b)", "dismiss", "remedy")},
    # shared guards
    "undated_murder_59": {"statutory": ("HS 11359", "review", "guard-disqualifier-undated"),
                          "los-angeles-2020": ("HS 11359", "review", "guard-disqualifier-undated"),
                          "san-francisco-2018": ("HS 11359", "review", "guard-disqualifier-undated")},
    "partial_murder_prior": {"los-angeles-2020": ("HS 11359", "ineligible", "prior-super-strike")},
    "dob_after_conviction": {"los-angeles-2020": ("HS 11357(b)", "dismiss", "possession-small"),
                             "statutory": ("HS 11359", "review", "guard-age-unknown")},
    "implausible_sentence": {"sacramento-2019": ("HS 11360(a)", "review", "guard-sentence-implausible")},
    "undated_other_conviction": {"sacramento-2019": ("HS 11359", "reduce", "several-recent")},
    # variations the reader must take in its stride
    "padded_level": {"statutory": ("HS 11359", "reduce", "remedy")},
    "leading_space_disposition": {"statutory": ("HS 11358", "dismiss", "remedy")},
    "convicted_offense_differs": {"statutory": ("HS 11357(c)", "ineligible", "remedy")},   # the convicted charge counts
    "lookalikes": {"statutory": ("HS 11359", "reduce", "remedy")},
}


def test_every_planted_case_is_in_the_file_and_screens_as_the_law_says(tmp_path):
    from clearrec_desktop.core.demo import PLANTED_CASES
    from clearrec_desktop.core.ingest import importer
    from clearrec_desktop.core.screen import profiles, screening

    assert set(PLANTED_EXPECTED) == set(PLANTED_CASES)
    path = tmp_path / "demo.csv"
    stats = write_demo_extract(path, 2000, "SACRAMENTO", 3)
    assert set(stats["planted"]) == set(PLANTED_CASES)
    rows, _ = importer.import_files([path])
    results = {}
    for case, expected in PLANTED_EXPECTED.items():
        sid = stats["planted"][case]
        for profile, (section, outcome, rule) in expected.items():
            if profile not in results:
                results[profile] = screening.screen(rows, county="SACRAMENTO", as_of=date(2026, 11, 1),
                                                    profile=profiles.load_profile(profile))
            got = results[profile].filter((pl.col("subject_id") == sid) & (pl.col("code_section") == section))
            assert got.height == 1, (case, profile, results[profile].filter(pl.col("subject_id") == sid))
            assert (got.item(0, "outcome"), got.item(0, "rules")) == (outcome, rule), (case, profile)
    # the look-alikes are convictions in the file but never screened
    lookalike = results["statutory"].filter(pl.col("subject_id") == stats["planted"]["lookalikes"])
    assert lookalike["code_section"].to_list() == ["HS 11359"]


def test_clean_files_plant_only_clean_cases(tmp_path):
    from clearrec_desktop.core.demo import PLANTED_CASES

    stats = write_demo_extract(tmp_path / "clean.csv", 2000, "YOLO", 3, traps=False)
    assert {"life_offence_prior", "give_away_21_infraction", "age19_concentrate_felony"} <= set(stats["planted"])
    assert not {"undated_murder_59", "padded_level", "lookalikes"} & set(stats["planted"])
    assert set(stats["planted"]) < set(PLANTED_CASES)


def test_wrong_county_is_caught_before_screening(tmp_path):
    """Issue 19.2: a county holding a small share of the file's convictions while another holds
    most is named; the county that holds most, or a file with no majority, passes quietly."""
    from clearrec_desktop.core.ingest.report import ImportReport
    from clearrec_desktop.core.pipeline import county_mismatch

    def report(counties):
        return ImportReport(files=[], rows=0, counties=counties, rows_by_county=counties, warnings={})

    sac = report({"SACRAMENTO": 1879, "ALAMEDA": 27})
    text = county_mismatch("alameda", sac)
    assert text and "ALAMEDA holds 27 of the file's 1,906 convictions (1%)" in text and "SACRAMENTO" in text
    assert county_mismatch("Sacramento County", sac) is None
    assert county_mismatch("SACRAMENTO", sac) is None
    spread = report({"A": 40, "B": 35, "C": 25})  # no county holds most: a statewide file
    assert county_mismatch("C", spread) is None
    assert county_mismatch("", sac) is None
    assert county_mismatch("ALAMEDA", report({})) is None
