"""`clearrec reconcile` and `clearrec demo-data --county-export` (issue 15): the files they
write, the summary they print, and one-line messages with exit code 2 for user mistakes."""

from __future__ import annotations

import json

import polars as pl
import pytest

from clearrec_desktop.cli import build_parser, main


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    code = main([str(a) for a in ["demo-data", d / "doj.csv", "--rows", "4000", "--seed", "11", "--county-export", d / "county.csv"]])
    assert code == 0
    return d


def test_demo_data_writes_the_county_export_its_mapping_and_the_truth_apart(demo_pair):
    for name in ("doj.csv", "county.csv", "county.mapping.toml", "county.truth.csv"):
        assert (demo_pair / name).stat().st_size > 0, name
    truth = pl.read_csv(demo_pair / "county.truth.csv", infer_schema=False)
    assert set(truth["kind"]) >= {"both", "doj_only", "county_only", "linked"}


def test_reconcile_writes_the_results_and_the_reconciliation(demo_pair, tmp_path, capsys):
    d = demo_pair
    code, out, err = run(["reconcile", d / "doj.csv", d / "county.csv", "--mapping", d / "county.mapping.toml",
                          "--county", "sacramento", "--as-of", "2025-01-01", "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    assert "county only:" in out and "DOJ only:" in out and "proposed" in out
    o = tmp_path / "o"
    results = pl.read_csv(o / "results.csv", infer_schema=False)
    table = pl.read_csv(o / "reconciliation.csv", infer_schema=False)
    assert table.height == results.height and set(table["conviction_id"]) == set(results["conviction_id"])
    assert set(table["provenance"]) == {"both", "both_disagreeing", "doj_only", "county_only"}
    assert {"link_score", "link_fields", "disagreements"} <= set(table.columns)
    assert table.filter(pl.col("provenance") == "both_disagreeing")["disagreements"].str.len_chars().min() > 0
    summary = json.loads((o / "summary.json").read_text())
    assert summary["reconciliation"]["lists"]["county_only"] == table.filter(pl.col("provenance") == "county_only").height
    assert [i["role"] for i in summary["inputs"]] == ["doj", "county"]
    links = pl.read_csv(o / "links.csv", infer_schema=False)
    assert set(links["kind"]) == {"person", "conviction"} and links["score"].is_not_null().all()
    # no names, birth dates or CII numbers in the reconciliation table
    doj = pl.read_csv(d / "county.csv", infer_schema=False)
    text = (o / "reconciliation.csv").read_text()
    assert not any(n in text for n in doj["Defendant Name"].head(50).to_list())


@pytest.mark.parametrize("swap, extra, needle", [
    (True, [], "wrong way round"),
    (False, ["--county", "kern"], "no rows for county 'kern'"),
    (False, ["--county", "nowhere"], "'nowhere' is not in doj.csv"),
])
def test_user_mistakes_exit_2_with_one_line(demo_pair, tmp_path, capsys, swap, extra, needle):
    d = demo_pair
    files = [d / "county.csv", d / "doj.csv"] if swap else [d / "doj.csv", d / "county.csv"]
    args = ["reconcile", *files, "--mapping", d / "county.mapping.toml", "--as-of", "2025-01-01",
            "--out", tmp_path / "o"] + (extra or ["--county", "sacramento"])
    code, out, err = run(args, capsys)
    assert code == 2 and needle in err and err.count("\n") == 1, err


def test_same_file_twice_and_a_missing_mapping(demo_pair, tmp_path, capsys):
    d = demo_pair
    code, _, err = run(["reconcile", d / "doj.csv", d / "doj.csv", "--mapping", d / "county.mapping.toml",
                        "--county", "sacramento", "--as-of", "2025-01-01", "--out", tmp_path / "o"], capsys)
    assert code == 2 and "same file was given twice" in err
    with pytest.raises(SystemExit) as exc:
        main(["reconcile", str(d / "doj.csv"), str(d / "county.csv"), "--county", "sacramento", "--as-of", "2025-01-01",
              "--out", str(tmp_path / "o")])
    assert exc.value.code == 2 and "--mapping" in capsys.readouterr().err


def test_help_has_an_example():
    text = build_parser()._subparsers._group_actions[0].choices["reconcile"].format_help()
    assert "example:" in text and "clearrec reconcile doj.csv county.csv --mapping" in text


def test_supplemental_packet_holds_only_county_only_convictions_with_their_basis(demo_pair, tmp_path, capsys):
    """Issue 15: a supplemental motion (court-documents.md posture (b)) is for the convictions DOJ's
    list missed; everything on DOJ's list is left out of it with that reason."""
    from io import BytesIO

    from pypdf import PdfReader

    from clearrec_desktop.core.safety import resource_path

    d = demo_pair
    code, _, err = run(["reconcile", d / "doj.csv", d / "county.csv", "--mapping", d / "county.mapping.toml",
                        "--county", "sacramento", "--as-of", "2025-01-01", "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    results = pl.read_csv(tmp_path / "o" / "results.csv", infer_schema=False)
    county_only = results.filter((pl.col("provenance") == "county_only") & pl.col("outcome").is_in(["dismiss", "reduce"])
                                 & (pl.col("court_case_number").fill_null("") != ""))
    assert county_only.height > 0
    code, out, err = run(["documents", tmp_path / "o", "--office", resource_path("demo/office.toml"),
                          "--out", tmp_path / "docs", "--posture", "supplemental", "--include", "undecided",
                          "--version", "sealed", "--include-juvenile", "--filing-date", "2026-12-01"], capsys)
    assert code == 0, err
    packets = [p for p in (tmp_path / "docs").rglob("*.pdf") if "motion" in p.name and "per-case" not in str(p)]
    assert packets, sorted(p.name for p in (tmp_path / "docs").rglob("*"))
    text = "\n".join(page.extract_text() or "" for p in packets for page in PdfReader(BytesIO(p.read_bytes())).pages)
    assert "SUPPLEMENTAL" in text.upper()
    on_list = results.filter(pl.col("provenance") != "county_only")["court_case_number"].drop_nulls().unique()
    granted_cases = set(county_only["court_case_number"])
    for case in on_list.to_list()[:200]:
        if case not in granted_cases:  # a case number can hold a county-only count beside a listed one
            assert case not in text, f"{case} is on DOJ's list but appears in the supplemental motion"
    assert any(case in text for case in granted_cases)
    # each row's basis is the one the screening recorded: statutory relief cites HS 11361.8
    assert "11361.8" in text
