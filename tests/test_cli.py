"""The `clearrec` command-line contract that other tools and our acceptance checks rely on."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys

import polars as pl
import pytest
from builders import Person, line_of, write_extract

from clearrec_desktop.cli import main
from clearrec_desktop.core.screen import summary

REQUIRED = ["source_file", "source_line", "subject_id", "cii_number", "name", "dob", "court_case_number", "courthouse",
            "conviction_date", "code_section", "code_section_original", "level", "outcome", "relief_track", "reasons",
            "rules", "flags"]


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def extract(tmp_path):
    people = [
        Person("1", "DOE,JANE", "19700101", race="HISPANIC", gender="F")
        .conviction("19900101", "11359 HS", ofn="90F1", counts=2, sentences=(("JAIL", "90", "D"), ("PROBATION", "3", "Y")))
        .conviction("19950101", "459 PC", ofn="95F2"),
        Person("2", "ROE,RICK", "19650505", race="BLACK").conviction("19950303", "11357(B) HS", level="MISDEMEANOR", ofn="95M3"),
        Person("3", "POE,AL", "19800101").conviction("20000101", "11358 HS", county="YOLO", ofn="00F4"),
    ]
    path = write_extract(tmp_path / "extract.dat", *people)
    lines = path.read_text().splitlines()
    lines.insert(3, "this,is,not,a,record")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_screen_writes_the_contract(tmp_path, extract, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(["screen", extract, "--county", "sacramento", "--as-of", "2026-11-01", "--out", out], capsys)
    assert code == 0, err
    assert "Screened 3" in stdout and "rejected: 1" in stdout
    res = pl.read_csv(out / "results.csv", infer_schema=False)
    assert set(REQUIRED) <= set(res.columns)
    # one row per count: the 2-count case with sentence parts is 2 rows, the YOLO case is not screened
    assert res.height == 3
    assert sorted(res["outcome"].to_list()) == ["dismiss", "reduce", "reduce"]
    first = res.filter(pl.col("count_key") == "001002001000").filter(pl.col("subject_id") == "1").row(0, named=True)
    assert int(first["source_line"]) == line_of(extract, "001002001000")
    assert first["source_file"] == "extract.dat" and first["dob"] == "1970-01-01"
    rejected = list(csv.DictReader(open(out / "rejected.csv")))
    assert rejected == [{"source_file": "extract.dat", "source_line": "4", "reason": "has 5 fields, expected 95"}]
    s = json.loads((out / "summary.json").read_text())
    assert s["county"] == "SACRAMENTO" and s["as_of"] == "2026-11-01" and s["profile"]["id"] == "statutory"
    assert s["inputs"][0]["sha256"] == hashlib.sha256(extract.read_bytes()).hexdigest()
    assert s["convictions"]["by_outcome"] == {"reduce": 2, "dismiss": 1}
    assert (out / "import-report.txt").read_text().count("extract.dat line 4") == 1


def test_summary_people_figures_by_hand(tmp_path, extract, capsys):
    out = tmp_path / "out"
    assert run(["screen", extract, "--county", "SACRAMENTO", "--as-of", "2026-11-01", "--out", out], capsys)[0] == 0
    s = json.loads((out / "summary.json").read_text())
    # person 1: two 11359 felonies reduced, but the PC 459 felony stays -> still a felony, some relief
    # person 2: 11357(b) misdemeanor dismissed -> no conviction left
    assert s["people"] == {"with_conviction": 2, "with_relief": 2, "no_felony_left": 1, "no_conviction_left": 1,
                           "none_in_7_years": 2}
    assert s["dismiss_everything"] == {"with_relief": 2, "no_felony_left": 1, "no_conviction_left": 1, "none_in_7_years": 2}
    assert s["breakdowns"]["race"]["HISPANIC"]["people"] == 1
    assert s["publishable"]["race"]["HISPANIC"]["people"] == "<11"
    assert all(v == 0 or v == "<11" or (isinstance(v, int) and v >= 11)
               for g in s["publishable"]["race"].values() for v in g.values())


def test_suppression_rule():
    assert [summary.suppress(n) for n in (0, 1, 10, 11, 250)] == [0, "<11", "<11", 11, 250]


@pytest.mark.parametrize("args,needle", [
    (["screen", "MISSING.dat", "--county", "X", "--as-of", "2026-01-01"], "no such file"),
    (["screen", "EXTRACT", "--county", "Fresno", "--as-of", "2026-01-01"], "counties present: SACRAMENTO"),
    (["screen", "EXTRACT", "--county", "sacramento", "--as-of", "2026-01-01", "--profile", "BADPROFILE"], "bad.toml"),
    (["screen", "EXTRACT", "--county", "sacramento", "--as-of", "2026-01-01", "--profile", "no-such-profile"], "no such profile"),
    (["screen", "NOTDOJ", "--county", "sacramento", "--as-of", "2026-01-01"], "not a DOJ extract"),
    (["screen", "http://example.org/x.dat", "--county", "sacramento", "--as-of", "2026-01-01"], "not web addresses"),
])
def test_unusable_input_exits_2_with_one_line(tmp_path, extract, capsys, args, needle):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\ntitle = "t"\n[[rules]]\nwhen = ["felony"]\noutcome = "maybe"\nreason = "r"\nbasis = "b"\n')
    notdoj = tmp_path / "cms.csv"
    notdoj.write_text("CASE,NAME,CHARGE\n1,X,11359\n")
    subst = {"EXTRACT": extract, "BADPROFILE": bad, "NOTDOJ": notdoj, "MISSING.dat": tmp_path / "MISSING.dat"}
    argv = [subst.get(a, a) for a in args] + ["--out", tmp_path / "o"]
    code, out, err = run(argv, capsys)
    assert code == 2
    assert needle in err and err.count("\n") == 1
    assert "DOE" not in err and "19700101" not in err


def test_profiles_and_explain(capsys):
    code, out, _ = run(["profiles"], capsys)
    assert code == 0 and len(out.splitlines()) >= 6 and "statutory" in out and "los-angeles-2020" in out
    code, out, _ = run(["explain-profile", "sacramento-2019"], capsys)
    assert code == 0 and "Sacramento" in out and "If the conviction was on or after 2016-11-09: ineligible" in out
    code, out, _ = run(["explain-profile", "--vocabulary"], capsys)
    assert code == 0 and "prior_super_strike" in out


def test_demo_data_and_screen_it(tmp_path, capsys):
    demo = tmp_path / "demo.csv"
    code, out, _ = run(["demo-data", "--rows", "3000", "--county", "Sacramento", "--seed", "5", demo], capsys)
    assert code == 0 and demo.exists()
    code, out, err = run(["screen", demo, "--county", "sacramento", "--as-of", "2026-11-01", "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    res = pl.read_csv(tmp_path / "o" / "results.csv", infer_schema=False)
    assert set(res["outcome"]) == {"dismiss", "reduce", "review", "ineligible"}
    assert res["conviction_id"].n_unique() == res.height


def test_console_script_entry_point(tmp_path, extract):
    proc = subprocess.run([sys.executable, "-m", "clearrec_desktop", "screen", str(extract), "--county", "nowhere",
                           "--as-of", "2026-11-01", "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("clearrec: county 'nowhere' is not in the data")


def test_bundled_demo_extract_screens(tmp_path, capsys):
    from clearrec_desktop.core.safety import resource_path
    demo = resource_path("demo/demo-extract.csv")
    code, out, err = run(["screen", demo, "--county", "SACRAMENTO", "--as-of", "2026-11-01", "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    assert "rejected:" in out
