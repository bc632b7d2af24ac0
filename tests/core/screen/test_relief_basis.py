"""results.csv `relief_basis` (the contract the court documents rely on): what legal ground the
proposed relief rests on, for every shipped profile.

- statute_dismissal: HS 11361.8(f), the conduct is now lawful;
- statute_redesignation: HS 11361.8(b)/(f), redesignation / resentencing;
- policy_dismissal / policy_redesignation: relief the statute does not give for the count, on the
  office's motion (PC 1385 for dismissals);
- empty for review and ineligible.

Derived from the rule that decided: statute_* when the statutory profile (the HS 11361.8 remedy
table with its disqualifier exceptions) gives the same relief for that count, policy_* when not;
a rule's `legal_basis` is kept, but a statutory basis is never claimed where the statute does not
give that relief.
"""

from __future__ import annotations

import copy

import pytest
from builders import Person
from screen_helpers import SHIPPED, one, profile_from, screen

from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.screen import screening

CASES = [
    # profile, person, section of the count, (outcome, relief_basis)
    ("statutory", Person("1", dob="19600101").conviction("19900101", "11357(B) HS", level="MISDEMEANOR"),
     "HS 11357(b)", ("dismiss", "statute_dismissal")),                  # 21+, lawful now: HS 11361.8(f), 11362.1
    ("statutory", Person("1", dob="19600101").conviction("19900101", "11359 HS"), "HS 11359", ("reduce", "statute_redesignation")),
    ("statutory", Person("1", dob="19710101").conviction("19900601", "11358 HS"), "HS 11358", ("reduce", "statute_redesignation")),
    ("statutory", Person("1", dob="19600101").conviction("19900101", "11359 HS", level="MISDEMEANOR"), "HS 11359", ("ineligible", None)),
    ("statutory", Person("1").conviction("19850101", "187 PC").conviction("19900101", "11359 HS"), "HS 11359", ("review", None)),
    # Los Angeles dismisses every relieved felony: a felony 11359 has no lawful version (HS 11359(b))
    ("los-angeles-2020", Person("1", dob="19600101").conviction("20000101", "11359 HS").conviction("20200101", "459 PC"),
     "HS 11359", ("dismiss", "policy_dismissal")),
    ("los-angeles-2020", Person("1", dob="19600101").conviction("20000101", "11357(A) HS"), "HS 11357(a)", ("dismiss", "statute_dismissal")),
    ("los-angeles-2020", Person("1", dob="19600101").conviction("20000101", "11358 HS"), "HS 11358", ("dismiss", "statute_dismissal")),
    ("los-angeles-2020", Person("1").conviction("19990101", "11357(B) HS", level="MISDEMEANOR"), "HS 11357(b)", ("review", None)),
    # Sacramento dismisses misdemeanors the statute leaves alone (11359 misdemeanor: already the new level)
    ("sacramento-2019", Person("1").conviction("19990101", "11359 HS", level="MISDEMEANOR"), "HS 11359", ("dismiss", "policy_dismissal")),
    ("sacramento-2019", Person("1").conviction("20000101", "11359 HS").conviction("20200101", "459 PC"), "HS 11359",
     ("reduce", "statute_redesignation")),
    ("sacramento-2019", Person("1").conviction("20000101", "11360 HS"), "HS 11360", ("dismiss", "policy_dismissal")),
    ("san-joaquin-contra-costa-2019", Person("1").conviction("20000101", "11357(C) HS", level="MISDEMEANOR"), "HS 11357(c)",
     ("dismiss", "policy_dismissal")),
    ("san-joaquin-contra-costa-2019", Person("1").conviction("20000101", "11357(B) HS", level="MISDEMEANOR"), "HS 11357(b)",
     ("dismiss", "statute_dismissal")),
    ("san-francisco-2018", Person("1").conviction("20000101", "11358 HS"), "HS 11358", ("dismiss", "statute_dismissal")),
    ("san-francisco-2018", Person("1").conviction("20000101", "11360 HS"), "HS 11360", ("reduce", "statute_redesignation")),
    # BEAR dismisses a felony 11358 despite a prior murder; the statute keeps it a felony (HS 11358(d)(1))
    ("bear-gogen", Person("1", dob="19800101").conviction("19990101", "187 PC").conviction("20050101", "11358 HS"), "HS 11358",
     ("dismiss", "policy_dismissal")),
    ("bear-gogen", Person("1", dob="19800101").conviction("20050101", "11360 HS").conviction("20240101", "459 PC"), "HS 11360",
     ("reduce", "statute_redesignation")),
    # under 21 at the conviction, BEAR dismisses a felony 11358 the statute makes an infraction (HS 11358(b))
    ("bear-gogen", Person("1", dob="19850101").conviction("20050101", "11358 HS").conviction("20240101", "459 PC"), "HS 11358",
     ("dismiss", "policy_dismissal")),
]


@pytest.mark.parametrize("profile,person,section,expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_relief_basis_for_every_shipped_profile(tmp_path, profile, person, section, expected):
    res, _ = screen(tmp_path, person, profile=profile)
    r = one(res, code_section=section)
    assert (r["outcome"], r["relief_basis"]) == expected, r["reasons"]


def test_every_shipped_profile_is_covered_and_the_column_is_consistent(tmp_path):
    assert {c[0] for c in CASES} == set(SHIPPED)
    assert screening.RESULT_COLUMNS.index("relief_basis") == screening.RESULT_COLUMNS.index("relief") + 1
    people = [copy.deepcopy(c[1]) for c in CASES]
    for i, p in enumerate(people):
        p.base["SUBJECT_ID"] = str(100 + i)
        for row in p.rows:
            row["SUBJECT_ID"] = str(100 + i)
    for profile in SHIPPED:
        res, _ = screen(tmp_path, *people, profile=profile)
        for r in res.iter_rows(named=True):
            if r["outcome"] == "dismiss":
                assert r["relief_basis"] in ("statute_dismissal", "policy_dismissal")
            elif r["outcome"] == "reduce":
                assert r["relief_basis"] in ("statute_redesignation", "policy_redesignation")
            else:
                assert r["relief_basis"] is None


BODY = '''id = "mine"
title = "Our county"
[[rules]]
id = "sale-dismissed"
when = ["section(11359)"]
outcome = "dismiss"
reason = "Possession for sale is dismissed."
basis = "Our policy"
legal_basis = "{basis}"
[[rules]]
id = "small-dismissed"
when = ["section(11357)"]
outcome = "dismiss"
reason = "Possession is dismissed."
basis = "Our policy"
legal_basis = "{small}"
'''


def test_explicit_legal_basis_is_kept_but_never_claims_the_statute_falsely(tmp_path):
    people = [Person("1", dob="19600101").conviction("19900101", "11359 HS"),
              Person("2", dob="19600101").conviction("19900101", "11357(B) HS", level="MISDEMEANOR")]
    prof = profile_from(tmp_path, BODY.format(basis="statute_dismissal", small="policy_dismissal"))
    res, _ = screen(tmp_path, *people, profile=prof)
    sale, small = one(res, subject_id="1"), one(res, subject_id="2")
    # HS 11359(b): possession for sale has no lawful version; the statute redesignates, it does not dismiss
    assert sale["relief_basis"] == "policy_dismissal" and "legal_basis_not_statutory" in sale["flags"]
    # the office may file what the statute would give on its own motion
    assert small["relief_basis"] == "policy_dismissal" and "legal_basis_not_statutory" not in small["flags"]


@pytest.mark.parametrize("basis", ["statute_redesignation", "policy_redesignation", "pardon"])
def test_legal_basis_must_fit_the_outcome(tmp_path, basis):
    with pytest.raises(InputError, match="legal_basis"):
        profile_from(tmp_path, BODY.format(basis=basis, small="policy_dismissal"))
