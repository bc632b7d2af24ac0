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
