"""The county export of `clearrec demo-data --county-export`: the planted differences, a truth
kept apart, and the reconciliation of the planted pair against it (issue 15)."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from clearrec_desktop.core import demo, demo_county
from clearrec_desktop.core.reconcile.run import run_reconcile


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("pair")
    demo.write_demo_extract(d / "doj.csv", 12000, "SACRAMENTO", 7)
    stats = demo_county.write_county_export(d / "doj.csv", d / "county.csv", county="Sacramento", seed=7,
                                            truth_path=d / "truth.csv", mapping_path=d / "county.toml")
    return d, stats


def test_every_kind_of_difference_is_planted(pair):
    _, stats = pair
    kinds = {"cii_blank", "name_typo", "name_first_name_first", "middle_initial", "surname_hyphen_or_space",
             "dob_day_month_swapped", "aka", "missing_from_county", "missing_from_doj_known_person",
             "person_missing_from_doj", "decoy_same_birth_date_and_given_name", "date_within_tolerance",
             "disagree_section", "disagree_level", "disagree_date", "disagree_disposition"}
    assert kinds <= {k for k, n in stats["planted"].items() if n > 0}, kinds - set(stats["planted"])
    formats = {"case_dashes", "case_courthouse_prefix", "case_four_digit_year", "case_no_leading_zeros", "case_spaces_lowercase"}
    with open(stats["truth"], encoding="utf-8") as fh:
        planted = {p for row in csv.DictReader(fh) for p in row["planted"].split(";")}
    assert formats <= planted


def test_the_truth_is_kept_apart(pair):
    d, stats = pair
    with open(d / "county.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
        body = fh.read()
    assert header == demo_county.HEADER
    assert "missing_from" not in body and "both_disagreeing" not in body


def test_same_arguments_same_bytes(pair, tmp_path):
    d, _ = pair
    demo_county.write_county_export(d / "doj.csv", tmp_path / "again.csv", county="SACRAMENTO", seed=7,
                                    truth_path=tmp_path / "t.csv")
    assert (tmp_path / "again.csv").read_bytes() == (d / "county.csv").read_bytes()
    assert (tmp_path / "t.csv").read_bytes() == (d / "truth.csv").read_bytes()


def test_reconciling_the_planted_pair_meets_the_targets(pair):
    d, _ = pair
    run = run_reconcile(d / "doj.csv", d / "county.csv", mapping=d / "county.toml", county="Sacramento",
                        as_of=date(2025, 1, 1))
    score = demo_county.score_against_truth(run.reconciliation, d / "truth.csv")
    for what in ("people", "convictions"):
        s = score[what]["accepted"]
        assert s["precision"] >= 0.99 and s["recall"] >= 0.97, (what, s)
        assert score[what]["all"]["recall"] >= s["recall"]
    truth, found = score["lists"]["truth"], score["lists"]["found"]
    for kind, n in truth.items():
        assert n > 0 and abs(found[kind] - n) <= max(2, 0.03 * n), (kind, truth, found)
