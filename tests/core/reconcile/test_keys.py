"""Comparable forms of court case numbers and names, and name similarity (reconcile/keys.py)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from clearrec_desktop.core.reconcile.keys import case_keys, name_key, name_similarity, swapped_dob


def _keys(*cases):
    full, short = case_keys(pl.col("c"))
    return pl.DataFrame({"c": list(cases)}, schema={"c": pl.String}).select(full.alias("f"), short.alias("s")).rows()


@pytest.mark.parametrize("written", ["98F01234", "98-F-01234", "98 f 01234", "SAC98F01234", "SAC-98F01234",
                                     "1998F01234", "1998-F-01234", "98F1234", "98f1234"])
def test_case_numbers_written_other_ways_read_the_same(written):
    assert _keys(written) == _keys("98F01234") == [("98F-1234", "98-1234")]


@pytest.mark.parametrize("other", ["98F01235", "99F01234", "98F12340", "98M01234"])
def test_other_case_numbers_stay_different(other):
    assert _keys(other)[0][0] != "98F-1234"


def test_digits_only_numbers_and_blanks():
    assert _keys("9801234")[0][1] == _keys("98-01234")[0][1] == "98-1234"
    assert _keys(None, "") == [(None, None), (None, None)]


@pytest.mark.parametrize("a, b", [
    ("ALVAREZ,MARIA L", "MARIA L ALVAREZ"),        # order of names
    ("ALVAREZ,MARIA LUISA", "ALVAREZ, MARIA"),     # middle name left out
    ("ALVAREZ,MARIA", "ALVAREZ, MARIA L"),         # middle initial added
    ("GARCIA-LOPEZ,ANA", "GARCIA LOPEZ, ANA"),     # hyphen and space
    ("DE LA CRUZ,ANA", "DELACRUZ, ANA"),           # spaces inside a surname
    ("O'BRIEN,PAT", "OBRIEN, PAT"),                # apostrophe
    ("SMITH,JOHN JR", "JOHN SMITH"),               # suffix
])
def test_formatting_differences_are_no_difference(a, b):
    assert name_similarity(a, b) == pytest.approx(1.0)


@pytest.mark.parametrize("a, b", [("BRAMELBECK,ARVEN", "BRAMELBEK,ARVEN"), ("BRAMELBECK,ARVEN", "BRAMLEBECK,ARVEN"),
                                  ("BRAMELBECK,ARVEN", "BRAMELBECK,ARVIN"), ("BRAMELBECK,ARVEN", "BRAMELBECKS,ARVEN")])
def test_one_typo_scores_high_but_below_one(a, b):
    assert 0.9 <= name_similarity(a, b) < 1.0


@pytest.mark.parametrize("a, b, most", [("SMITH,JOHN", "SMITH,JAMES", 0.6), ("CALANDERSBY,ELRIC", "WENOVA,ELRIC", 0.5),
                                        ("ALVAREZ,MARIA", "NGUYEN,TRAN", 0.2), ("SMITH,JOHN A", "SMITH,JOHN B", 0.95)])
def test_different_people_score_low(a, b, most):
    assert name_similarity(a, b) <= most


def test_name_key_ignores_order_initials_and_suffixes():
    keys = pl.DataFrame({"n": ["SMITH,JOHN A", "JOHN SMITH JR", "smith, john"]}).select(name_key(pl.col("n")))["n"]
    assert keys.to_list() == ["JOHN SMITH"] * 3


def test_swapped_dob():
    out = pl.DataFrame({"d": [date(1970, 3, 5), date(1970, 3, 3), date(1970, 3, 25)]}).select(swapped_dob(pl.col("d")).alias("d"))
    assert out["d"].to_list() == [date(1970, 5, 3), None, None]
