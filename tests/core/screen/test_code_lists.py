"""The code-section lists as data: reading them, refusing bad ones with file and line, editing
them in a profile, and explaining them (`clearrec explain-profile`)."""

from __future__ import annotations

import pytest
from builders import Person
from screen_helpers import one, profile_from, screen

from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.safety import resource_path
from clearrec_desktop.core.screen import code_lists
from clearrec_desktop.core.screen import profiles as screen_profiles

HEADER = "code,section,subsection,attempts,requires,text,citation,description\n"


@pytest.mark.parametrize("line,needle", [
    ("PC,187,,maybe,,,PC 667,Murder", "attempts must be"),
    ("P1,187,,no,,,PC 667,Murder", "is not a law code"),
    ("PC,18-7,,no,,,PC 667,Murder", "is not a section number"),
    ("PC,187,a,no,,,PC 667,Murder", "is not written like (a)(1)"),
    ("PC,187,,no,186.22,,PC 667,Murder", "is not a code section"),
    ("PC,187,,no,,([,PC 667,Murder", "is not a valid pattern"),
    ("PC,187,,no,,,PC 667,", "one-line description"),
    ("PC,187,,no", "fields, the header has"),
])
def test_bad_list_lines_are_refused_with_file_and_line(line, needle):
    with pytest.raises(InputError) as e:
        code_lists.parse_list(HEADER + "PC,261,,no,,,PC 667,Rape\n" + line + "\n", "mine", "lists/mine.csv")
    assert needle in str(e.value) and "mine.csv: line 3" in str(e.value)


def test_shipped_lists_read_and_legacy_columns_still_work():
    for path in sorted(resource_path("lists").glob("*.csv")):
        lst = code_lists.load_list(path.stem)
        assert len(lst) > 0 and all(e.description for e in lst.entries)
    old = code_lists.parse_list("code,section,subsection,attempts,description\nPC,187,,yes,Murder\n", "old", "old.csv")
    assert old.entries[0].attempts == "attempt+conspiracy" and old.entries[0].citation == ""
    with pytest.raises(InputError, match="no code-section list named"):
        code_lists.load_list("profiles/statutory")


def test_attempts_per_entry(tmp_path):
    """PC 667(e)(2)(C)(iv)(IV) includes attempted homicide; attempted kidnapping for ransom is not
    punishable by life, so it is not a super strike. PC 290(c) registers attempts."""
    people = [Person("1").conviction("19850101", "664/187 PC").conviction("19900101", "11359 HS"),
              Person("2").conviction("19850101", "182/187 PC").conviction("19900101", "11359 HS"),
              Person("3").conviction("19850101", "664/209 PC").conviction("19900101", "11359 HS"),
              Person("4").conviction("19850101", "664/261 PC").conviction("19900101", "11359 HS")]
    res, _ = screen(tmp_path, *people)
    assert one(res, subject_id="1")["rules"] == "prior-super-strike"
    assert one(res, subject_id="2")["rules"] == "prior-super-strike"
    assert one(res, subject_id="3")["rules"] == "remedy"
    assert one(res, subject_id="4")["rules"] == "prior-pc290"     # attempted rape registers, PC 290(c)


PROFILE = '''id = "edited"
title = "Edited lists"
[[rules]]
id = "ss"
when = ["prior_super_strike"]
outcome = "ineligible"
reason = "Super strike."
basis = "Our policy"
[[rules]]
id = "rest"
when = ["always"]
outcome = "statutory_remedy"
basis = "HS 11361.8"
[lists.super-strikes]
add = ["PC 192(a)"]
remove = ["PC 187"]
'''


def test_a_profile_edits_a_list_and_the_edit_travels_with_it(tmp_path):
    prof = profile_from(tmp_path, PROFILE)
    lst = prof.lists()["super-strikes"]
    assert "PC 192(a)" in {e.code_section for e in lst.entries} and "PC 187" not in {e.code_section for e in lst.entries}
    people = [Person("1").conviction("19850101", "192(A) PC-MANSLAUGHTER").conviction("19900101", "11359 HS"),
              Person("2").conviction("19850101", "187 PC-MURDER").conviction("19900101", "11359 HS")]
    res, _ = screen(tmp_path, *people, profile=prof)
    assert one(res, subject_id="1")["rules"] == "ss"
    assert one(res, subject_id="2")["rules"] == "rest"
    # saved and read back (a run stores the profile text), the edit is kept
    again = screen_profiles.parse_profile(__import__("tomllib").loads(screen_profiles.profile_to_toml(prof)), "again.toml")
    assert again.list_edits == prof.list_edits
    assert "as edited by" in prof.explain()


@pytest.mark.parametrize("edit,needle", [
    ('[lists.super-strikes]\nremove = ["PC 999"]', "it has no such entry"),
    ('[lists.super-strikes]\nadd = ["murder"]', "is not a code section"),
    ('[lists.super-strikes]\nreplace = ["PC 1"]', "give 'add' and/or 'remove'"),
    ('[lists.related-sf-plea]\nadd = ["PC 1"]', "is not a list this profile uses"),
])
def test_bad_list_edits_name_the_profile(tmp_path, edit, needle):
    body = PROFILE[:PROFILE.index("[lists.")] + edit + "\n"
    with pytest.raises(InputError) as e:
        profile_from(tmp_path, body, name="county.toml")
    assert needle in str(e.value) and "county.toml" in str(e.value)


def test_explain_shows_the_lists_sizes_and_where_to_read_them():
    """Issue 11 acceptance: `clearrec explain-profile statutory` shows the super-strike and PC 290
    lists' sizes and where to read them."""
    text = screen_profiles.load_profile("statutory").explain()
    ss, p290 = code_lists.load_list("super-strikes"), code_lists.load_list("pc290")
    assert f"super-strikes: super strikes (PC 667(e)(2)(C)(iv)), {len(ss)} entries; read {ss.path}" in text
    assert f"pc290: PC 290(c) registrable offenses and registration offenses, {len(p290)} entries; read {p290.path}" in text
    assert "guard-age-unknown" in text and "guard-disqualifier-undated" in text and "guard-sentence-implausible" in text
    bear = screen_profiles.load_profile("bear-gogen").explain()
    assert "does not apply: this profile has no disqualifier rule" in bear


def test_cli_explain_profile_statutory_shows_the_lists(capsys):
    from clearrec_desktop.cli import main

    assert main(["explain-profile", "statutory"]) == 0
    out = capsys.readouterr().out
    ss, p290 = code_lists.load_list("super-strikes"), code_lists.load_list("pc290")
    assert f"{len(ss)} entries; read {ss.path}" in out and f"{len(p290)} entries; read {p290.path}" in out
    assert main(["explain-profile", "statutory", "--lists"]) == 0
    out = capsys.readouterr().out
    assert "  PC 653f(b)         Solicitation to commit murder" in out
    assert "  PC 215             Carjacking for a criminal street gang" in out and "only with PC 186.22(b)(4)" in out
