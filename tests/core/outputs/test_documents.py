"""Court documents: every check reads the PDFs back (pypdf for text, pdfplumber for
positions), so the pleading-paper rules, the exhibit contents and what must never be printed
are verified on the bytes a court would receive."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pdfplumber
import polars as pl
import pypdf
import pytest

from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.outputs import court_update
from clearrec_desktop.core.outputs import filing as outputs_filing
from clearrec_desktop.core.outputs import packet as outputs_packet

HYPERLINK_NAME = '=HYPERLINK("http://example.invalid","x")'
SSN = "123-45-6789"
SSN_LIKE = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
CASE_RE = re.compile(r"\bK\d{4}\b")
AUDIT = "9f" * 32

# --------------------------------------------------------------------------- fixture frame

SECTIONS = {
    # key: code_section, original, level, outcome, relief, citations
    "poss_m": ("HS 11357(a)", "11357(A) HS", "M", "dismiss", "dismiss_and_seal", "HS 11361.8(e)-(f) | HS 11362.1"),
    "poss_b": ("HS 11357(b)", "11357(B) HS", "M", "dismiss", "dismiss_and_seal", "HS 11361.8(e)-(f) | HS 11362.1"),
    "cult_f": ("HS 11358", "11358 HS", "F", "dismiss", "dismiss_and_seal", "HS 11361.8(b), (f) presumption | HS 11362.1"),
    "sale_f": ("HS 11359", "11359 HS", "F", "reduce", "reduce_to_misdemeanor", "HS 11361.8(a)-(f) | HS 11359(b)"),
    "trans_f": ("HS 11360(a)", "11360(A) HS", "F", "reduce", "reduce_to_misdemeanor", "HS 11361.8(a)-(f) | HS 11360(a)(2)"),
    "cult_m21": ("HS 11358", "11358 HS", "M", "reduce", "reduce_to_infraction", "HS 11361.8(e)-(f) | HS 11358(a)"),
    "sale_m": ("HS 11359", "11359 HS", "M", "ineligible", "", "HS 11359(b) | HS 11361.8"),
    "cult_rev": ("HS 11358", "11358 HS", "F", "review", "", "HS 11358(d)(1); PC 667(e)(2)(C)(iv)"),
    # relief beyond the statute: felony possession for sale dismissed under a county's policy
    "sale_pol": ("HS 11359", "11359 HS", "F", "dismiss", "dismiss_and_seal", "Los Angeles DA policy (2020)"),
}
BASIS = {"sale_pol": "policy_dismissal"}


def _row(sid, name, case, section, *, count=1, track="application", courthouse="SACRAMENTO SUPERIOR COURT",
         dob="1970-01-01", cii=None, conv_date="1999-05-04", age="29"):
    code, original, level, outcome, relief, cites = SECTIONS[section]
    count_key = f"001002{count:03d}000"
    return {
        "conviction_id": f"{sid}/{case}/{count_key}", "source_file": "extract.dat", "source_line": "2",
        "subject_id": sid, "cii_number": cii or f"A{int(sid):08d}", "name": name, "dob": dob, "gender": "F",
        "race": "HISPANIC", "court_case_number": case, "courthouse": courthouse, "county": "SACRAMENTO",
        "conviction_date": conv_date, "conviction_date_quality": "full", "cycle_date": "1999-01-02",
        "count_key": count_key, "code_section": code, "code_section_original": original, "qualifier": "",
        "level": level, "age_at_offence": age, "age_at_conviction": age, "sentence_end": "2000-05-04",
        "outcome": outcome, "relief": relief,
        "relief_basis": BASIS.get(section, {"dismiss": "statute_dismissal", "reduce": "statute_redesignation"}.get(outcome, "")),
        "relief_track": track,
        "reasons": (f"The person is 50 or older: dismiss and seal. [{cites}]" if section == "sale_pol" else
                    f"Screened {section} [{cites.split(' | ')[0]}]"), "rules": f"remedy_{section}",
        "citations": cites, "evidence": "extract.dat:2", "flags": "",
    }


def make_results(fillers: int = 120) -> pl.DataFrame:
    rows = [
        # two counts of one section in one case, and a second name for the person (AKA)
        _row("9001", "ALPHA,ANN", "K9001", "sale_f", count=1),
        _row("9001", "ALPHA,ANNE", "K9001", "sale_f", count=2),
        _row("9002", "BRAVO,BOB", "K9002", "poss_m"),
        _row("9002", "BRAVO,BOB", "K9003", "cult_f", track="petition"),
        _row("9003", "CHARLIE,CAL", "K9004", "trans_f", track="petition"),        # resentence
        _row("9004", "DELTA,DEE", "K9005", "cult_m21"),                           # to infraction
        _row("9005", "ECHO,EVE", "K9006", "sale_m"),                              # challenged
        _row("9006", "FOXTROT,FAY", "K9007", "cult_rev"),                         # in review
        _row("9007", HYPERLINK_NAME, "K9008", "poss_b"),                          # formula-like name
        _row("9008", "GOLF,GUS", "K9009", "sale_f", courthouse="SACRAMENTO SUPERIOR - SOUTH"),
        _row("9008", "GOLF,GUS", "K9010", "cult_rev", courthouse="SACRAMENTO SUPERIOR - SOUTH"),
        # several sections in one case: still one page in the per-case motions
        _row("9009", "HOTEL,HAL", "K9011", "sale_f", count=1),
        _row("9009", "HOTEL,HAL", "K9011", "trans_f", count=2),
        _row("9009", "HOTEL,HAL", "K9011", "cult_f", count=3),
        _row("9009", "HOTEL,HAL", "K9011", "sale_f", count=4),
        _row("9010", "INDIA,IVY", "K9012", "sale_pol"),                            # policy dismissal
        _row("9011", "JULIET,JO", "K9013", "poss_m", age="16"),                   # juvenile: kept out
        _row("9012", "KILO,KIM", "", "poss_m"),                                    # no case number: kept out
        _row("9013", "NGUYỄN,VĂN ĐỨC", "K9014", "cult_f"),                         # Vietnamese name
    ]
    cycle = ["cult_f", "sale_f", "poss_m", "sale_m", "trans_f", "cult_rev", "cult_f", "poss_b"]
    for i in range(1, fillers + 1):
        sid = str(5000 + i)
        name = f"FILLER{i:03d},PAT"
        court = "SACRAMENTO SUPERIOR COURT" if i % 3 else "SACRAMENTO SUPERIOR - SOUTH"
        row = _row(sid, name, f"K{i:04d}", cycle[i % len(cycle)], courthouse=court, dob=f"19{50 + i % 40}-03-1{i % 10}")
        rows.append(row)
        if i % 7 == 0:  # a second count recorded under another name: AKA makes a two-line cell
            rows.append(_row(sid, f"FILLER{i:03d},PATRICK", f"K{i:04d}", "cult_f", count=2, courthouse=court))
    return pl.DataFrame(rows, schema={c: pl.String for c in (*outputs_filing.RESULTS_COLUMNS, "relief_basis")})


OFFICE = outputs_filing.Office(district_attorney="Jane Q. Prosecutor", state_bar_number="123456",
                  office="Office of the District Attorney", address="901 G Street\nSacramento, CA 95814",
                  phone="(916) 555-0100", email="relief@da.example.gov",
                  court="Superior Court of the State of California", county="SACRAMENTO", deputy="John R. Deputy",
                  deputy_state_bar_number="234567")
SOURCES = ["File extract.dat, SHA-256 " + "ab" * 32 + ", 1,234 lines read."]
LATE = outputs_filing.FilingOptions(posture="doj_list", doj_list_received=date(2019, 7, 1),
                                    filing_date=date(2026, 11, 2), challenge_ineligible=True)

# --------------------------------------------------------------------------- PDF reading


def baseline(char) -> float:
    return char["matrix"][5]


def rows_of(chars) -> dict[float, list]:
    """Chars grouped by baseline (rounded to 0.1 pt), each row sorted left to right."""
    rows: dict[float, list] = {}
    for c in chars:
        rows.setdefault(round(baseline(c), 1), []).append(c)
    return {y: sorted(cs, key=lambda c: c["x0"]) for y, cs in rows.items()}


def text_of(chars) -> str:
    return "".join(c["text"] for c in chars)


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces as single spaces (table cells wrap)."""
    return " ".join(text.split())


class Pdf:
    """Text from pypdf up front; positions from pdfplumber only for the pages a test asks for."""

    def __init__(self, data: bytes):
        self.data = data
        self.reader = pypdf.PdfReader(io.BytesIO(data))
        self.texts = [p.extract_text() for p in self.reader.pages]
        self.sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in self.reader.pages]
        self._plumber = pdfplumber.open(io.BytesIO(data))
        self._pages: dict[int, dict] = {}
        self.pages = _LazyPages(self)

    def page(self, i: int) -> dict:
        if i not in self._pages:
            page = self._plumber.pages[i]
            self._pages[i] = {"width": float(page.width), "height": float(page.height),
                              "chars": list(page.chars), "lines": list(page.lines)}
        return self._pages[i]

    def is_exhibit(self, i: int) -> bool:
        width, height = self.sizes[i]
        return width > height

    def pleading_pages(self) -> list[int]:
        return [i for i in range(len(self.texts)) if not self.is_exhibit(i)]

    def line_numbers(self, i: int) -> dict[int, float]:
        """Line number -> baseline, from the digits printed left of the text column."""
        numbers = {}
        left = [c for c in self.pages[i]["chars"] if c["x1"] < 95]
        for y, cs in rows_of(left).items():
            t = text_of(cs)
            if t.isdigit():
                numbers[int(t)] = y
        return numbers

    def all_text(self) -> str:
        return "\n".join(self.texts)


class _LazyPages:
    def __init__(self, pdf: Pdf):
        self.pdf = pdf

    def __len__(self):
        return len(self.pdf.texts)

    def __getitem__(self, i: int) -> dict:
        return self.pdf.page(range(len(self))[i])


@pytest.fixture(scope="module")
def results():
    return make_results()


@pytest.fixture(scope="module")
def selection(results):
    return outputs_filing.select_for_filing(results, options=LATE)


@pytest.fixture(scope="module")
def packet(selection):
    return Pdf(outputs_packet.build_packet(selection, OFFICE, as_of=date(2026, 11, 1), source_description=SOURCES,
                              profile_title="Statutory default (HS 11361.8)", audit_head=AUDIT, rejected_lines=3,
                              rejected_where="rejected.csv in run"))


@pytest.fixture(scope="module")
def small_selection():
    return outputs_filing.select_for_filing(make_results(12), options=LATE)


@pytest.fixture(scope="module")
def per_case(small_selection):
    return outputs_packet.build_per_case(small_selection, OFFICE)


# --------------------------------------------------------------------------- selection


def test_selection_puts_every_conviction_in_exactly_one_place(results, selection):
    ids = [selection.granted["conviction_id"], selection.challenged["conviction_id"], selection.left_out["conviction_id"]]
    together = pl.concat(ids)
    assert together.len() == results.height == selection.total
    assert together.n_unique() == results.height
    outcome = dict(zip(results["conviction_id"], results["outcome"]))
    assert {outcome[c] for c in ids[0]} == {"dismiss", "reduce"}
    assert {outcome[c] for c in ids[1]} == {"ineligible"}
    assert {outcome[c] for c in ids[2]} == {"review", "dismiss"}
    assert set(selection.challenged["ground"]) == {"not_eligible"}
    kinds = dict(zip(selection.left_out["court_case_number"], selection.left_out["left_out_kind"]))
    assert kinds["K9013"] == "juvenile" and kinds[""] == "no_case_number"
    assert set(kinds.values()) == {"review", "juvenile", "no_case_number"}


def test_ineligible_is_a_challenge_only_by_an_attorney_or_the_office_in_words(results):
    """Issue 18.2: an untouched ineligible proposal is not a challenge."""
    plain = outputs_filing.select_for_filing(results, options=dataclasses.replace(LATE, challenge_ineligible=False))
    assert plain.challenged.height == 0
    left = plain.left_out.filter(pl.col("left_out_kind") == "not_challenged")
    assert set(left["outcome"]) == {"ineligible"} and left.height == results.filter(pl.col("outcome") == "ineligible").height
    assert "the Court grants relief on DOJ's list" in left["left_out_reason"][0]
    cid = left["conviction_id"][0]
    accepted = outputs_filing.select_for_filing(results, pl.DataFrame({"conviction_id": [cid], "decision": ["accept"]}),
                                                options=dataclasses.replace(LATE, challenge_ineligible=False))
    assert accepted.challenged["conviction_id"].to_list() == [cid]


def test_inclusion_choice_only_decided(results):
    """Issue 18.2: "only accepted or decided" leaves every undecided proposal out, counted."""
    ids = results.filter(pl.col("outcome").is_in(["dismiss", "reduce"]))["conviction_id"].head(3).to_list()
    decisions = pl.DataFrame({"conviction_id": ids, "decision": ["accept", "accept", "defer"],
                              "reason": ["", "", "court file"]})
    only = outputs_filing.select_for_filing(results, decisions, options=dataclasses.replace(LATE, include="decided"))
    assert sorted(only.granted["conviction_id"]) == sorted(ids[:2]) and only.challenged.height == 0
    undecided = only.left_out.filter(pl.col("left_out_kind") == "undecided").height
    assert undecided == results.filter(pl.col("outcome") != "review").height - 3
    every = outputs_filing.select_for_filing(results, decisions, options=LATE)
    assert every.granted.height > only.granted.height + 100


def test_selection_groups_and_aka(selection):
    g = {r["court_case_number"]: r for r in selection.granted.iter_rows(named=True)}
    assert g["K9004"]["group"] == "resentence"             # reduce on the petition track
    assert g["K9005"]["group"] == "redesignate_infraction"
    assert g["K9001"]["group"] == "redesignate_misdemeanor"
    assert g["K9003"]["group"] == "dismiss_statute" and g["K9003"]["basis"] == "HS 11361.8(b): conduct now lawful"
    assert g["K9002"]["basis"] == "HS 11361.8(f): conduct now lawful"
    # relief beyond the statute is never called statutory: its basis and criterion come from the rule
    assert g["K9012"]["group"] == "dismiss_policy" and g["K9012"]["basis"] == "PC 1385: office criteria"
    assert g["K9012"]["criterion"] == "The person is 50 or older: dismiss and seal."
    assert g["K9001"]["basis"] == "HS 11361.8(f), (h)" and g["K9004"]["basis"] == "HS 11361.8(b), (h)"
    assert g["K9001"]["primary_name"] in ("ALPHA,ANN", "ALPHA,ANNE")
    assert {g["K9001"]["primary_name"], g["K9001"]["aka"]} == {"ALPHA,ANN", "ALPHA,ANNE"}
    assert g["K9002"]["aka"] == ""
    # Exhibit A order: by relief group first.
    order = list(outputs_filing.GROUPS)
    ranks = [order.index(x) for x in selection.granted["group"]]
    assert ranks == sorted(ranks)


def test_decisions_replace_the_engine_outcome(results):
    idx = {r["court_case_number"]: r["conviction_id"] for r in results.iter_rows(named=True)}
    decisions = pl.DataFrame({
        "conviction_id": [idx["K9007"], idx["K9002"], idx["K9003"], idx["K9005"], idx["K9010"], idx["K9003"], idx["K0001"]],
        "decision": ["dismiss", "challenge", "defer", "reduce", "accept", "accept", "DEFER"],
        "ground": ["", "public_safety", "", "", "", "", ""],
        "reason": ["court file shows 3 plants", "pending case", "waiting for file", "", "", "", ""],
    })
    sel = outputs_filing.select_for_filing(results, decisions)
    where = {}
    for part in ("granted", "challenged", "left_out"):
        for r in getattr(sel, part).iter_rows(named=True):
            where[r["court_case_number"], r["count_key"]] = (part, r)
    one = "001002001000"
    part, r = where["K9007", one]
    # an attorney granting relief the engine did not propose acts on the office's discretion
    assert part == "granted" and r["decided_by"] == "attorney" and r["basis"] == "PC 1385: office criteria (attorney review)"
    part, r = where["K9002", one]
    assert part == "challenged" and r["ground"] == "public_safety" and r["ground_reason"] == "pending case"
    # the last decision for a conviction is in force: K9003 deferred, then accepted
    assert where["K9003", one][0] == "granted"
    part, r = where["K9005", one]   # reduce on a misdemeanor the engine would not touch -> infraction
    assert part == "granted" and r["filing_relief"] == "reduce_to_infraction"
    part, r = where["K9010", one]   # 'accept' on a review row has nothing to accept
    assert part == "left_out" and r["left_out_kind"] == "unresolved"
    part, r = where["K0001", one]
    assert part == "left_out" and r["left_out_kind"] == "defer"
    # no decision: the engine outcome stands; agreeing with the engine keeps its basis
    assert where["K9004", one][0] == "granted"
    assert where["K9003", one][1]["basis"] == "HS 11361.8(b): conduct now lawful"
    # a decision may state its basis; a statutory one on a review row is taken as stated
    stated = outputs_filing.select_for_filing(results, pl.DataFrame({
        "conviction_id": [idx["K9007"]], "decision": ["dismiss"], "reason": ["court file: 2 plants"],
        "relief_basis": ["statute_dismissal"]}))
    row = stated.granted.filter(pl.col("conviction_id") == idx["K9007"]).row(0, named=True)
    assert row["basis"] == "HS 11361.8(f): conduct now lawful (attorney review)"
    assert sel.granted.height + sel.challenged.height + sel.left_out.height == results.height


def test_decision_errors_are_input_errors_without_personal_data(results):
    cid = results["conviction_id"][0]
    cases = [
        pl.DataFrame({"conviction_id": [cid], "decision": ["pardon"]}),
        pl.DataFrame({"conviction_id": ["nobody/none/000"], "decision": ["dismiss"]}),
        pl.DataFrame({"conviction_id": [cid], "decision": ["challenge"], "ground": [""]}),
        pl.DataFrame({"conviction_id": [cid]}),
    ]
    for frame in cases:
        with pytest.raises(InputError) as err:
            outputs_filing.select_for_filing(results, frame)
        message = str(err.value)
        assert "\n" not in message and "ALPHA" not in message and "1970-01-01" not in message
    with pytest.raises(InputError, match="missing column"):
        outputs_filing.select_for_filing(results.drop("relief_track"))


def test_load_office(tmp_path):
    good = tmp_path / "office.toml"
    good.write_text('district_attorney = "Jane Q. Prosecutor"\nstate_bar_number = 123456\n'
                    'office = "Office of the District Attorney"\naddress = ["901 G Street", "Sacramento, CA 95814"]\n'
                    'phone = "(916) 555-0100"\nemail = "relief@da.example.gov"\n'
                    'court = "Superior Court of the State of California"\ncounty = "SAN JOAQUIN"\n')
    office = outputs_filing.load_office(good)
    assert office.state_bar_number == "123456"
    assert office.address_lines == ["901 G Street", "Sacramento, CA 95814"]
    assert office.public_defender == "Public Defender of San Joaquin County"
    assert office.signer == "Jane Q. Prosecutor" and office.deputy is None
    table = tmp_path / "table.toml"
    table.write_text("[office]\n" + good.read_text() + 'deputy = "John R. Deputy"\n')
    with pytest.raises(InputError, match="deputy_state_bar_number"):  # the caption shows the signer's number
        outputs_filing.load_office(table)
    table.write_text(table.read_text() + 'deputy_state_bar_number = 234567\n'
                     'city_attorneys = ["City Attorney of A, 1 Main St", {name = "City Attorney of B", address = "2 Elm"}]\n')
    office = outputs_filing.load_office(table)
    assert office.signer == "John R. Deputy" and office.signer_bar_number == "234567"
    assert office.city_attorneys == ("City Attorney of A, 1 Main St", "City Attorney of B, 2 Elm")
    assert office.court_title == "SUPERIOR COURT OF THE STATE OF CALIFORNIA, COUNTY OF SAN JOAQUIN"
    missing = tmp_path / "missing.toml"
    missing.write_text("\n".join(l for l in good.read_text().splitlines() if not l.startswith("email")))
    with pytest.raises(InputError, match=r"missing\.toml.*'email'"):
        outputs_filing.load_office(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("district_attorney = ")
    with pytest.raises(InputError, match="broken.toml"):
        outputs_filing.load_office(broken)


# --------------------------------------------------------------------------- packet contents


def _exhibit_text(pdf: Pdf, label: str) -> str:
    return "\n".join(t for i, t in enumerate(pdf.texts) if pdf.is_exhibit(i) and label in t)


def test_exhibit_a_lists_each_granted_conviction_once(packet, selection):
    a_text = _exhibit_text(packet, "EXHIBIT A-")
    b_text = _exhibit_text(packet, "EXHIBIT B")
    assert a_text and b_text
    expected = Counter(selection.granted["court_case_number"])
    assert Counter(CASE_RE.findall(a_text)) == expected
    # the rows are numbered 1..N once each across all Exhibit A pages
    numbers = []
    for i, page in enumerate(packet.pages):
        if packet.is_exhibit(i) and "EXHIBIT A-" in packet.texts[i]:
            first_col = [c for c in page["chars"] if c["x0"] < 72 + 24 and baseline(c) < 530]
            numbers += [int(text_of(cs)) for _, cs in sorted(rows_of(first_col).items(), reverse=True)
                        if text_of(cs).isdigit()]
    assert numbers == list(range(1, selection.granted.height + 1))


def test_challenged_only_in_exhibit_b_and_review_nowhere(packet, selection):
    a_cases = set(CASE_RE.findall(_exhibit_text(packet, "EXHIBIT A-")))
    b_cases = Counter(CASE_RE.findall(_exhibit_text(packet, "EXHIBIT B")))
    challenged = Counter(selection.challenged["court_case_number"])
    assert b_cases == challenged
    challenged_only = set(challenged) - set(selection.granted["court_case_number"])
    assert challenged_only and not a_cases & challenged_only
    review_cases = set(selection.left_out["court_case_number"]) - set(selection.granted["court_case_number"]) \
        - set(selection.challenged["court_case_number"]) - {""}
    assert review_cases  # the fixture has review-only cases
    everything = packet.all_text()
    for case in review_cases:
        assert not re.search(rf"\b{case}\b", everything)
    assert "FOXTROT" not in everything
    # juvenile matters and rows with no court case number are not in the filing by default
    assert "JULIET" not in everything and "K9013" not in everything and "KILO" not in everything


def test_cover_report_lists_what_was_left_out(selection):
    pdf = Pdf(outputs_packet.build_cover_report(selection, OFFICE))
    text = pdf.all_text()
    no_space = "".join(text.split())
    for r in selection.left_out.iter_rows(named=True):
        assert r["conviction_id"] in no_space
    assert "FOXTROT,FAY" in text
    assert "Every screened conviction is accounted for" in text
    assert f"Left out of the filing: {selection.left_out.height}" in text


def test_exhibit_header_repeats_and_rows_never_split(packet, selection):
    exhibit_pages = [i for i in range(len(packet.pages)) if packet.is_exhibit(i)]
    assert len([i for i in exhibit_pages if "EXHIBIT A-" in packet.texts[i]]) >= 3  # multi-page table
    for i in exhibit_pages:
        text = packet.texts[i]
        if "No convictions" in text:
            continue
        assert "Court case" in text and "Defendant (AKA)" in text and "DOB" in text
        # footer title (CRC 2.110) is not printed on exhibit pages
        assert "PEOPLE'S MOTION TO DISMISS" not in text.split("\n", 1)[-1] or "Page" in text
        assert not any("MOTION TO DISMISS AND SEAL" in text_of(cs)
                       for y, cs in rows_of(packet.pages[i]["chars"]).items() if y < 60)
    # a row's second line (AKA) is on the same page as its first line
    for r in selection.granted.filter(pl.col("aka") != "").iter_rows(named=True):
        pages_with_case = [i for i in exhibit_pages if re.search(rf"\b{r['court_case_number']}\b", packet.texts[i])]
        assert pages_with_case
        assert all(f"AKA{r['aka']}" in "".join(packet.texts[i].split()) for i in pages_with_case)


def test_exhibit_columns_and_relief(packet, selection):
    a_text = flat(_exhibit_text(packet, "EXHIBIT A-"))
    for header in ("No.", "Court case / courthouse", "Defendant (AKA)", "DOB / CII", "Conv. date / count",
                   "Section / level", "Relief", "Basis"):
        assert header in a_text
    for label in ("EXHIBIT A-1: Dismiss and seal: conduct now lawful (HS 11361.8)",
                  "EXHIBIT A-2: Dismiss in furtherance of justice (PC 1385) and seal: office criteria",
                  "EXHIBIT A-3: Redesignate as misdemeanor", "EXHIBIT A-4: Redesignate as infraction",
                  "EXHIBIT A-5: Recall and resentence"):
        assert label in a_text
    assert "Resentence: misdemeanor" in a_text
    assert "A00009001" in a_text and "1970-01-01" in a_text  # the sealed version shows the identifiers


def _exhibit_rows(pdf: Pdf) -> dict[tuple[str, str], str]:
    """Exhibit A row text by (court case number, count), cells flattened."""
    text = flat(_exhibit_text(pdf, "EXHIBIT A-"))
    parts = re.split(r"\b\d+ (K\d{4}) ", text)
    rows = {}
    for i in range(1, len(parts) - 1, 2):
        count = re.search(r"count (\d+)", parts[i + 1])
        rows[parts[i], count[1] if count else ""] = parts[i + 1]
    return rows


def test_basis_per_row_matches_the_rule_that_decided_it(packet, selection):
    """Issue 12.1: a policy dismissal of a felony 11359 is not "legally invalid"."""
    rows = _exhibit_rows(packet)
    for r in selection.granted.iter_rows(named=True):
        key = (r["court_case_number"], str(int(r["count_key"][6:9])))
        if key not in rows:
            continue
        cell = rows[key]
        if r["relief_basis"] == "policy_dismissal":
            assert "PC 1385: office criteria" in cell and "11361.8" not in cell
        elif r["relief_basis"] == "statute_dismissal":
            assert "conduct now lawful" in cell and "PC 1385" not in cell
        else:
            assert "HS 11361.8(" in cell and "(h)" in cell
    text = flat(packet.all_text())
    order = text[text.index("IT IS ORDERED"):]
    part2 = order[order.index("Exhibit A-2"):order.index("Exhibit A-3")]
    assert "in furtherance of justice" in part2 and "Pen. Code, § 1385" in part2 and "legally invalid" not in part2
    assert "not on a finding that the conduct is lawful" in part2
    part1 = order[order.index("Exhibit A-1"):order.index("Exhibit A-2")]
    assert "legally invalid" in part1 and "11361.8" in part1
    # the office's criterion in its own words, in the points and authorities
    assert "The person is 50 or older: dismiss and seal. (1)" in text


# --------------------------------------------------------------------------- pleading paper


def _check_pleading_page(pdf: Pdf, i: int) -> int:
    """Assert the CRC 2.108 line grid on page i; return how many lines carry text."""
    page = pdf.pages[i]
    assert (page["width"], page["height"]) == (612, 792)
    numbers = pdf.line_numbers(i)
    assert sorted(numbers) == list(range(1, 29)), f"page {i + 1}: line numbers {sorted(numbers)}"
    ys = [numbers[n] for n in range(1, 29)]
    assert all(abs((a - b) - 24) < 0.01 for a, b in zip(ys, ys[1:]))
    body = [c for c in page["chars"] if c["x0"] >= 100 and ys[-1] - 12 < baseline(c) < ys[0] + 12]
    baselines = {round(baseline(c), 2) for c in body if c["text"].strip()}
    used = 0
    for n, y in numbers.items():
        near = [b for b in baselines if abs(b - y) < 11]
        if near:
            used += 1
            assert min(abs(b - y) for b in near) <= 1.0, f"page {i + 1} line {n}: text at {near}, number at {y}"
    # Half-line offsets look like single-spaced text to the check above, so also require every
    # paragraph opening (36 pt first-line indent) and every bold heading to sit on a numbered line.
    text_left = min((c["x0"] for c in body), default=108)
    for y, cs in rows_of(body).items():
        inked = [c for c in cs if c["text"].strip()]
        if not inked:
            continue
        heading = all("Bold" in c["fontname"] for c in inked) and (
            inked[0]["x0"] < 306 or abs((inked[0]["x0"] + inked[-1]["x1"]) / 2 - 333) < 2)
        if abs(inked[0]["x0"] - (text_left + 36)) < 1 or heading:
            assert min(abs(y - ny) for ny in ys) <= 1.0, f"page {i + 1}: {text_of(cs)[:30]!r} is off the grid"
    # 12 pt Times (CRC 2.104) and margins (CRC 2.107): left >= 1 in, right >= 0.5 in
    for c in body:
        if c["text"].strip() and c["size"] >= 9:
            assert "LiberationSerif" in c["fontname"]  # Times metrics (CRC 2.104), embedded
            assert c["x0"] >= 72 and c["x1"] <= 612 - 36
    assert all(c["size"] > 11.99 for c in body if c["text"].strip())
    # vertical rules: between numbers and text, and on the right
    verticals = [ln for ln in page["lines"] if abs(ln["x0"] - ln["x1"]) < 0.1 and ln["y1"] - ln["y0"] > 600]
    number_right = max(c["x1"] for c in page["chars"] if c["x1"] < 95)
    text_left = min(c["x0"] for c in body) if body else 108
    assert any(number_right < ln["x0"] < text_left for ln in verticals)
    assert any(ln["x0"] > max((c["x1"] for c in body), default=558) for ln in verticals)
    return used


def _footer(pdf: Pdf, i: int) -> tuple[str, str, float]:
    """(page-number text, footer title text, footer rule y) of page i."""
    page = pdf.pages[i]
    rules = [ln for ln in page["lines"] if abs(ln["y0"] - ln["y1"]) < 0.1 and ln["x1"] - ln["x0"] > 300
             and ln["y0"] < 70]
    assert len(rules) == 1, f"page {i + 1}: footer rule"
    rule_y = rules[0]["y0"]
    rows = rows_of([c for c in page["chars"] if baseline(c) < 70])
    above = " ".join(text_of(cs) for y, cs in sorted(rows.items(), reverse=True) if y > rule_y)
    below_chars = [c for y, cs in rows.items() if y < rule_y for c in cs if c["size"] >= 10]
    below = " ".join(text_of(cs) for y, cs in sorted(rows_of(below_chars).items(), reverse=True))
    return above, below, rule_y


def test_pleading_grid_on_every_pleading_page(packet):
    used = [_check_pleading_page(packet, i) for i in packet.pleading_pages()]
    assert len(used) >= 6 and sum(used) > 100  # the check did look at text on most lines


def test_first_page_caption(packet):
    page = packet.pages[0]
    numbers = packet.line_numbers(0)
    rows = rows_of([c for c in page["chars"] if c["x0"] >= 100])
    text_at = {y: text_of(cs) for y, cs in rows.items()}
    court_y = [y for y, t in text_at.items() if t.startswith("SUPERIOR COURT OF THE STATE OF CALIFORNIA")]
    assert len(court_y) == 1 and abs(court_y[0] - numbers[8]) <= 1.0
    attorney_y = [y for y, t in text_at.items() if t.startswith("JANE Q. PROSECUTOR")]
    assert attorney_y and abs(attorney_y[0] - numbers[1]) <= 1.0
    # lines 1-7 right of the page centre are left blank for the clerk
    clerk = [c for c in page["chars"] if c["x1"] > 306 and numbers[7] - 11 < baseline(c) < numbers[1] + 12]
    assert clerk == []
    text = packet.texts[0]
    for needle in ("SBN 123456", "901 G Street", "(916) 555-0100", "relief@da.example.gov",
                   "Attorney for The People of the State of California", "Case No.: Various",
                   "PERSONS LISTED IN EXHIBITS A AND B"):
        assert needle in text.replace("\n", " ")
    # case title left of the centre line, case number right of it
    right = {y: text_of(cs) for y, cs in rows_of([c for c in page["chars"] if c["x0"] > 306]).items()}
    left = {y: text_of(cs) for y, cs in rows_of([c for c in page["chars"] if 100 < c["x1"] < 306]).items()}
    assert any(t.startswith("Case No.: Various") for t in right.values())
    assert any(t.startswith("PERSONS LISTED") for t in left.values())
    assert not any("Case No" in t for t in left.values()) and not any("PERSONS" in t for t in right.values())


def test_footer_title_and_page_x_of_y(packet):
    total = len(packet.pages)
    for i in range(total):
        m = re.search(r"Page (\d+) of (\d+)", packet.texts[i])
        assert m and (int(m[1]), int(m[2])) == (i + 1, total)
    for i in packet.pleading_pages():
        above, below, _ = _footer(packet, i)
        assert f"Page {i + 1} of {total}" in above
        assert below.startswith(("PEOPLE'S RESPONSE TO THE DEPARTMENT", "[PROPOSED] ORDER", "PROOF OF SERVICE")), below
    titles = {_footer(packet, i)[1].split(" (")[0] for i in packet.pleading_pages()}
    assert any(t.startswith("[PROPOSED] ORDER") for t in titles) and "PROOF OF SERVICE" in titles


def test_metadata_outline_and_audit_head(packet):
    assert packet.reader.metadata.title == outputs_packet.motion_title(LATE, policy=True)
    # the filing's choices travel in the metadata (issue 16 will keep them in the workspace too)
    keywords = packet.reader.metadata["/Keywords"]
    assert "posture=doj_list" in keywords and "include=undecided" in keywords and "version=sealed" in keywords
    outline = [o.title for o in packet.reader.outline if not isinstance(o, list)]
    for part in ("Notice of motion and motion", "Memorandum of points and authorities", "Declaration",
                 "Exhibit A - convictions granted relief", "Exhibit B - challenged convictions",
                 "[Proposed] order", "Proof of service"):
        assert part in outline
    assert AUDIT in packet.texts[-1]  # small type on the last page, to reconcile paper and file
    assert all(AUDIT not in t for t in packet.texts[:-1] if "audit record of this review" not in flat(t))


def test_packet_text_mentions_the_law_and_counts(packet, selection):
    text = " ".join(packet.all_text().split())
    assert "PEOPLE'S RESPONSE TO THE DEPARTMENT OF JUSTICE'S LIST AND MOTION TO DISMISS AND SEAL" in text
    assert "11361.8, subd. (h)" in text and "Statutory default (HS 11361.8)" in text
    people = selection.granted["subject_id"].n_unique()
    assert f"Exhibit A lists {selection.granted.height} convictions" in text and f"of {people} persons" in text
    assert "PUBLIC DEFENDER OF SACRAMENTO COUNTY" in text
    assert "extract.dat, SHA-256 " in text and "November 1, 2026" in text
    for page_text in packet.texts:  # a signature block is never split from its signer's name
        if "Respectfully submitted," in page_text:
            assert "By: ____" in page_text and "Deputy District Attorney" in page_text


def test_posture_and_dates_are_stated(packet, results):
    """Issue 12.2: a response to DOJ's list after July 1, 2020 says so; the declaration names the data."""
    text = flat(packet.all_text())
    assert "received the list on July 1, 2019" in text
    assert "This response is made after that date" in text and "It is not a timely review under section 11361.9" in text
    assert "March 1, 2023" in text and "Assembly Bill 1706" in text
    assert "also serves as the notice" not in text  # a late response does not pretend to be the 11361.9 notice
    assert "3 lines of these records could not be read and were rejected at import; they are listed in rejected.csv in run" in text
    assert "The office chose to include every proposal of its criteria that no attorney has overridden" in text
    assert "The office also chose to challenge every conviction its criteria find ineligible" in text

    def build(options, **kw):
        sel = outputs_filing.select_for_filing(results, options=options)
        return flat(Pdf(outputs_packet.build_packet(sel, OFFICE, as_of="2026-11-01", source_description=SOURCES,
                                                    **kw)).all_text())

    timely = build(dataclasses.replace(LATE, filing_date=date(2020, 6, 1)))
    assert "made by July 1, 2020" in timely and "not a timely review" not in timely and "also serves as the notice" in timely
    supplemental = build(outputs_filing.FilingOptions(posture="supplemental"))
    assert "SUPPLEMENTAL MOTION" in supplemental and "not on the list the Department of Justice sent" in supplemental
    assert "has no deadline" in supplemental and "Pen. Code, § 1385" in supplemental
    petition = build(outputs_filing.FilingOptions(posture="petition", petition_filed=date(2026, 3, 4),
                                                  petition_cases=("K9002", "K9003")))
    assert "RESPONSE TO PETITION OR APPLICATION" in petition and "March 4, 2026" in petition
    assert "Case No.: K9002, K9003" in petition and "K9001" not in petition
    with pytest.raises(InputError, match="received"):
        outputs_filing.FilingOptions(posture="doj_list")
    with pytest.raises(InputError, match="case number"):
        outputs_filing.FilingOptions(posture="petition", petition_filed=date(2026, 3, 4))


def test_deputy_signs_declares_and_is_in_the_caption(packet):
    """Issue 12.10."""
    first = flat(packet.texts[0])
    assert "JANE Q. PROSECUTOR (SBN 123456)" in first and "JOHN R. DEPUTY (SBN 234567)" in first
    text = flat(packet.all_text())
    assert "DECLARATION OF JOHN R. DEPUTY" in text and "I, John R. Deputy, declare" in text
    assert "a Deputy District Attorney of Sacramento County (State Bar No. 234567)" in text
    assert "Deputy District Attorney (SBN 234567)" in text


def test_proof_of_service_on_the_public_defender_and_city_attorneys(results):
    """Issue 12.12."""
    office = dataclasses.replace(OFFICE, city_attorneys=("Los Angeles City Attorney, 200 N. Main Street",
                                                         "Long Beach City Prosecutor"),
                                 public_defender_address="210 W. Temple Street")
    sel = outputs_filing.select_for_filing(results, options=LATE)
    text = flat(Pdf(outputs_packet.build_packet(sel, office, as_of="2026-11-01", source_description=SOURCES)).all_text())
    proof = text[text.index("PROOF OF SERVICE I am over"):]
    assert "1. Public Defender of Sacramento County, 210 W. Temple Street" in proof
    assert "2. Los Angeles City Attorney, 200 N. Main Street" in proof and "3. Long Beach City Prosecutor" in proof
    assert "TO THE COURT AND TO THE PUBLIC DEFENDER OF SACRAMENTO COUNTY AND TO THE LOS ANGELES CITY ATTORNEY" in text


def test_sealed_and_public_versions(selection, packet):
    """Issue 12.4: the lodged version is marked, the public one redacts DOB and CII."""
    public = Pdf(outputs_packet.build_packet(selection, OFFICE, as_of="2026-11-01", source_description=SOURCES,
                                             version="public"))
    assert all("CONDITIONALLY LODGED UNDER SEAL (Cal. Rules of Court, rules 2.550-2.551)" in t for t in packet.texts)
    assert all("PUBLIC VERSION - dates of birth and CII numbers redacted" in t for t in public.texts)
    text = public.all_text()
    for r in selection.granted.head(40).iter_rows(named=True):
        assert r["cii_number"] not in text and r["dob"] not in text
    assert flat(_exhibit_text(public, "EXHIBIT A-")).count("redacted redacted") == selection.granted.height
    assert len(public.pages) == len(packet.pages)  # same rows on the same pages


def test_packet_by_courthouse_and_deterministic(selection):
    south = outputs_packet.build_packet(selection, OFFICE, as_of="2026-11-01", source_description=SOURCES,
                           courthouse="SACRAMENTO SUPERIOR - SOUTH")
    pdf = Pdf(south)
    a_text = _exhibit_text(pdf, "EXHIBIT A-")
    expected = Counter(selection.granted.filter(pl.col("courthouse") == "SACRAMENTO SUPERIOR - SOUTH")["court_case_number"])
    assert Counter(CASE_RE.findall(a_text)) == expected
    assert "Courthouse: SACRAMENTO SUPERIOR - SOUTH" in flat(pdf.texts[0])
    again = outputs_packet.build_packet(selection, OFFICE, as_of="2026-11-01", source_description=SOURCES,
                           courthouse="SACRAMENTO SUPERIOR - SOUTH")
    assert again == south  # invariant=1: byte-identical output


# --------------------------------------------------------------------------- per-case, challenge notice


def test_per_case_one_document_and_one_order_per_case(per_case, small_selection):
    """Issue 12.7: each case its own motion, its own proposed order (PDF) and an editable order
    (.docx); the order says which count gets which relief; the text is double-spaced."""
    from docx import Document

    cases = small_selection.granted.select("courthouse", "court_case_number", "subject_id").unique()
    names = [n for n, _ in per_case]
    assert len(names) == len(set(n.casefold() for n in names)) == 3 * cases.height
    motions = {n: d for n, d in per_case if n.endswith("-motion.pdf")}
    orders = {n: d for n, d in per_case if n.endswith("-order.pdf")}
    docx_orders = {n: d for n, d in per_case if n.endswith("-order.docx")}
    assert len(motions) == len(orders) == len(docx_orders) == cases.height
    by_case = {}
    for name, data in motions.items():
        pdf = Pdf(data)
        found = set(re.findall(r"Case No\.: (K\d{4})", pdf.all_text()))
        assert len(found) == 1
        case = found.pop()
        by_case[case] = flat(pdf.all_text())
        assert "IT IS ORDERED" not in by_case[case]  # the order is its own document
        for i in pdf.pleading_pages():
            _check_pleading_page(pdf, i)
        assert "John R. Deputy" in by_case[case] and "SBN 234567" in by_case[case]
        assert "1970-01-01" not in by_case[case] and "A0000" not in by_case[case]  # no DOB / CII per case
        order = Pdf(orders[name.replace("-motion.pdf", "-order.pdf")])
        order_text = flat(order.all_text())
        assert f"Case No.: {case}" in order_text and "IT IS ORDERED" in order_text
        assert "Judge of the Superior Court" in order_text
        doc = Document(io.BytesIO(docx_orders[name.replace("-motion.pdf", "-order.docx")]))
        docx_text = " ".join(p.text for p in doc.paragraphs) + " " + doc.tables[0].rows[0].cells[1].text
        assert f"Case No.: {case}" in docx_text and "IT IS ORDERED" in docx_text
        by_case[case, "order"] = order_text
        by_case[case, "docx"] = docx_text
    assert set(k for k in by_case if isinstance(k, str)) == set(cases["court_case_number"])
    # which count gets which relief: K9011 has redesignations of four counts of three sections
    order = by_case["K9011", "order"]
    for count, section in ((1, "HS 11359 (felony)"), (2, "HS 11360(a) (felony)"), (3, "HS 11358 (felony)"),
                           (4, "HS 11359 (felony)")):
        assert f"Count {count}, {section}, convicted May 4, 1999" in order
    assert "Count 3, HS 11358 (felony), convicted May 4, 1999, is dismissed and sealed as legally invalid" in order
    assert "Count 1, HS 11359 (felony), convicted May 4, 1999, is redesignated as a misdemeanor" in order
    assert "Count 3, HS 11358 (felony), convicted May 4, 1999, is dismissed and sealed" in by_case["K9011", "docx"]
    assert "resentenced as a misdemeanor" in by_case["K9004", "order"]
    assert "AKA" in by_case["K9001"]
    # double-spaced body (CRC 2.108): consecutive body lines of a paragraph are 24 pt apart
    pdf = Pdf(next(iter(motions.values())))
    body = sorted({round(baseline(c), 1) for c in pdf.pages[0]["chars"] if 108 <= c["x0"] < 330 and 80 < baseline(c) < 400
                   and c["text"].strip()}, reverse=True)
    gaps = {round(a - b) for a, b in zip(body, body[1:])}
    assert gaps and all(g % 24 == 0 for g in gaps)
    # the .docx is double-spaced with numbered lines restarting on each page
    doc = Document(io.BytesIO(next(iter(docx_orders.values()))))
    xml = doc.element.xml
    assert 'w:lnNumType' in xml and 'w:restart="newPage"' in xml
    from docx.enum.text import WD_LINE_SPACING
    assert doc.styles["Normal"].paragraph_format.line_spacing_rule == WD_LINE_SPACING.DOUBLE


def test_challenge_notice(selection):
    pdf = Pdf(outputs_packet.build_challenge_notice(selection, OFFICE, audit_head=AUDIT))
    text = flat(pdf.all_text())
    assert Counter(CASE_RE.findall(_exhibit_text(pdf, "EXHIBIT B"))) == Counter(selection.challenged["court_case_number"])
    assert "PUBLIC DEFENDER OF SACRAMENTO COUNTY" in text and "PROOF OF SERVICE" in text
    assert "Not eligible (HS 11361.8)" in text
    assert "after July 1, 2020" in text  # a late notice says so
    for i in pdf.pleading_pages():
        _check_pleading_page(pdf, i)
    empty = outputs_filing.select_for_filing(make_results(0).filter(pl.col("outcome") != "ineligible"), options=LATE)
    with pytest.raises(InputError):
        outputs_packet.build_challenge_notice(empty, OFFICE)


# --------------------------------------------------------------------------- never printed, never a formula


def test_no_ssn_anywhere(tmp_path):
    leaky = make_results(16).with_columns(pl.lit(SSN).alias("PRI_SSN"), pl.lit("123456789").alias("ssn"))
    sel = outputs_filing.select_for_filing(leaky, options=LATE)
    assert not {"PRI_SSN", "ssn"} & set(sel.granted.columns)
    outputs = [
        outputs_packet.build_packet(sel, OFFICE, as_of="2026-11-01", source_description=SOURCES),
        *(d for n, d in outputs_packet.build_per_case(sel, OFFICE) if n.endswith(".pdf")),
        outputs_packet.build_challenge_notice(sel, OFFICE),
        outputs_packet.build_cover_report(sel, OFFICE),
    ]
    for data in outputs:
        text = Pdf(data).all_text()
        assert not SSN_LIKE.search(text) and "123456789" not in text
    paths = court_update.write_court_update(sel, tmp_path / "u.csv", tmp_path / "u.xlsx")
    for p in paths:
        raw = p.read_bytes() if p.suffix == ".csv" else b"".join(
            zipfile.ZipFile(p).read(n) for n in zipfile.ZipFile(p).namelist())
        assert SSN.encode() not in raw and b"123456789" not in raw


def test_court_update_matches_exhibits_and_has_no_formulas(selection, tmp_path):
    """Issue 12.11: CSV UTF-8 with BOM, formula-looking text neutralised; .xlsx typed, sized,
    filtered, frozen, with a legend and an order-date column, and no formula anywhere."""
    hostile = selection.granted.with_columns(
        pl.when(pl.col("court_case_number") == "K9002").then(pl.lit("-10+20")).otherwise(pl.col("aka")).alias("aka"))
    selection = dataclasses.replace(selection, granted=hostile)
    rows = court_update.court_update_rows(selection)
    assert rows.height == selection.granted.height + selection.challenged.height
    a = rows.filter(pl.col("exhibit") == "A")
    assert a["row"].to_list() == list(range(1, selection.granted.height + 1))
    assert a["court_case_number"].to_list() == selection.granted["court_case_number"].to_list()
    assert set(rows.filter(pl.col("exhibit") == "B")["action"]) == {"challenged"}
    assert set(a["action"]) <= set(court_update.ACTIONS)
    assert "ssn" not in " ".join(rows.columns).lower() and "order_date" in rows.columns
    csv_path, xlsx_path = court_update.write_court_update(selection, tmp_path / "update.csv", tmp_path / "update.xlsx")
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(csv_path, infer_schema=False, encoding="utf8-lossy")
    assert back.height == rows.height
    assert "'" + HYPERLINK_NAME in back["name"].to_list() and "'-10+20" in back["aka"].to_list()
    assert "NGUYỄN,VĂN ĐỨC" in raw.decode("utf-8-sig")
    with zipfile.ZipFile(xlsx_path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"]
        xml = b"".join(z.read(n) for n in sheets)
    assert sheets and b"<f>" not in xml and b"<f " not in xml and b"HYPERLINK" in xml
    wb = openpyxl.load_workbook(xlsx_path)
    ws = wb["court update"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = values[0]
    assert header == list(court_update.UPDATE_COLUMNS)
    assert len(values) == rows.height + 1
    col = {name: header.index(name) for name in header}
    assert HYPERLINK_NAME in [v[col["name"]] for v in values[1:]] and "-10+20" in [v[col["aka"]] for v in values[1:]]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    first = values[1]
    from datetime import datetime
    assert isinstance(first[col["conviction_date"]], datetime) and isinstance(first[col["dob"]], datetime)
    assert isinstance(first[col["row"]], int) and isinstance(first[col["count"]], int)
    assert ws.cell(2, col["order_date"] + 1).number_format == "mm/dd/yyyy"  # the clerk's column, typed as a date
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert ws.column_dimensions["L"].width > 10  # sized, not the default
    legend = [[c.value for c in row] for row in wb["legend"].iter_rows()]
    codes = {r[0] for r in legend if r[0]}
    assert set(court_update.ACTIONS) <= codes and "Confidential" in codes
    assert set(outputs_filing.GROUPS) - {"resentence"} <= set(court_update.ACTIONS)


# --------------------------------------------------------------------------- build_documents


def _write_run(folder: Path, results: pl.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    results.write_csv(folder / "results.csv")
    summary = {"tool": "clearrec", "version": "0.1.0", "county": "SACRAMENTO", "as_of": "2026-11-01",
               "profile": {"id": "statutory", "title": "Statutory default (HS 11361.8)", "source": "statutory.toml"},
               "inputs": [{"file": "extract.dat", "sha256": "cd" * 32, "lines_read": 1234, "rows_imported": 1200,
                           "lines_rejected": 1}]}
    (folder / "summary.json").write_text(json.dumps(summary))


def _office_file(folder: Path, county: str = "Sacramento") -> Path:
    path = folder / "office.toml"
    path.write_text(f'district_attorney = "Jane Q. Prosecutor"\nstate_bar_number = "123456"\n'
                    f'office = "Office of the District Attorney"\naddress = "901 G Street\\nSacramento, CA 95814"\n'
                    f'phone = "(916) 555-0100"\nemail = "relief@da.example.gov"\n'
                    f'court = "Superior Court of the State of California"\ncounty = "{county}"\n')
    return path


def test_build_documents_writes_only_the_chosen_files(tmp_path, monkeypatch):
    results = make_results(30)
    _write_run(tmp_path / "run", results)
    office = _office_file(tmp_path)

    # Every stdlib temporary file lands in tempfile.tempdir: point it at an empty folder and watch it.
    watch = tmp_path / "tmp-watch"
    watch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(watch))
    paths = outputs_packet.build_documents(tmp_path / "run", office, tmp_path / "out", by_courthouse=True,
                                           audit_head=AUDIT, options=LATE)
    monkeypatch.undo()
    assert list(watch.iterdir()) == []
    names = sorted(p.name for p in paths)
    assert names == sorted([
        "motion-packet-sacramento-superior-court-lodged-under-seal.pdf",
        "motion-packet-sacramento-superior-court-public-redacted.pdf",
        "motion-packet-sacramento-superior-south-lodged-under-seal.pdf",
        "motion-packet-sacramento-superior-south-public-redacted.pdf",
        "challenge-notice-lodged-under-seal.pdf", "challenge-notice-public-redacted.pdf",
        "court-update.csv", "court-update.xlsx", "cover-report.pdf"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    update = pl.read_csv(tmp_path / "out" / "court-update.csv", infer_schema=False)
    assert set(update["packet"]) == {"SACRAMENTO SUPERIOR COURT", "SACRAMENTO SUPERIOR - SOUTH"}
    assert set(update.filter(pl.col("exhibit") == "A")["document"]) == {
        "motion-packet-sacramento-superior-court-lodged-under-seal.pdf",
        "motion-packet-sacramento-superior-south-lodged-under-seal.pdf"}
    cover = Pdf((tmp_path / "out" / "cover-report.pdf").read_bytes()).all_text()
    assert "motion-packet-sacramento-superior-south-public-redacted.pdf" in "".join(cover.split())
    decisions = tmp_path / "decisions.csv"
    pl.DataFrame({"conviction_id": [results["conviction_id"][0]], "decision": ["defer"], "reason": ["file"]}).write_csv(decisions)
    again = outputs_packet.build_documents(tmp_path / "run", office, tmp_path / "out2", decisions=decisions,
                                           per_case=True, options=LATE)
    per_case = [p for p in again if p.parent.name == "per-case"]
    granted = outputs_filing.select_for_filing(results, pl.read_csv(decisions), options=LATE).granted
    assert len(per_case) == 3 * granted.select("courthouse", "court_case_number", "subject_id").unique().height
    assert {p.suffix for p in per_case} == {".pdf", ".docx"}


def test_by_courthouse_names_never_collide(tmp_path):
    """Issue 13.1: courthouses that differ in punctuation or case, or with a 300-character name,
    each get their own packet; every file written is reported and the cover report is written."""
    courts = ["SACRAMENTO SUPERIOR - NORTH", "SACRAMENTO SUPERIOR / NORTH", "sacramento superior - north",
              "X" * 300 + " NORTH", "X" * 300 + " SOUTH"]
    rows = [_row(str(7000 + i), f"PERSON{i},PAT", f"K{7000 + i}", "poss_m", courthouse=court)
            for i, court in enumerate(courts)]
    results = pl.DataFrame(rows, schema={c: pl.String for c in (*outputs_filing.RESULTS_COLUMNS, "relief_basis")})
    _write_run(tmp_path / "run", results)
    paths = outputs_packet.build_documents(tmp_path / "run", _office_file(tmp_path), tmp_path / "out",
                                           by_courthouse=True, options=LATE)
    on_disk = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert sorted(p.name for p in paths) == on_disk
    keys = [re.sub(r"[^a-z0-9]", "", n.casefold()) for n in on_disk]
    assert len(keys) == len(set(keys))
    packets = [n for n in on_disk if n.startswith("motion-packet") and "lodged-under-seal" in n]
    assert len(packets) == len(courts) and all(len(n) <= 120 for n in on_disk)
    assert "cover-report.pdf" in on_disk
    update = pl.read_csv(tmp_path / "out" / "court-update.csv", infer_schema=False)
    assert sorted(update["document"]) == sorted(packets)
    for name in packets:
        text = flat(Pdf((tmp_path / "out" / name).read_bytes()).all_text())
        assert len(set(re.findall(r"\bK7\d{3}\b", text))) == 1  # each packet holds its own courthouse's row


def test_cli_documents_reports_every_file(tmp_path, capsys):
    from clearrec_desktop import cli

    _write_run(tmp_path / "run", make_results(10))
    code = cli.main(["documents", str(tmp_path / "run"), "--office", str(_office_file(tmp_path)),
                     "--out", str(tmp_path / "out"), "--posture", "doj-list", "--doj-list-received", "2019-07-01",
                     "--filing-date", "2026-11-02", "--per-case", "--compact"])
    out = capsys.readouterr().out
    assert code == 0
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    printed = sorted(str(Path(line).relative_to(tmp_path / "out")) for line in out.splitlines() if line.startswith(str(tmp_path)))
    assert printed == written and any(w.startswith("per-case/") for w in written)
    cover = flat(Pdf((tmp_path / "out" / "cover-report.pdf").read_bytes()).all_text())
    assert "Exhibit layout: compact (9 pt)" in cover and "made AFTER July 1, 2020" in cover


def test_build_documents_input_errors(tmp_path):
    _write_run(tmp_path / "run", make_results(5))
    with pytest.raises(InputError, match="Fresno"):
        outputs_packet.build_documents(tmp_path / "run", _office_file(tmp_path, "Fresno"), tmp_path / "out")
    with pytest.raises(InputError, match="nothing-here"):
        outputs_packet.build_documents(tmp_path / "nothing-here", _office_file(tmp_path), tmp_path / "out")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "summary.json").write_text("{}")
    with pytest.raises(InputError, match="results.csv"):
        outputs_packet.build_documents(tmp_path / "half", _office_file(tmp_path), tmp_path / "out")
    (tmp_path / "run" / "summary.json").write_text('{"county": "SACRAMENTO"}')
    with pytest.raises(InputError, match="summary.json.*'as_of'"):
        outputs_packet.build_documents(tmp_path / "run", _office_file(tmp_path), tmp_path / "out")
    with pytest.raises(InputError):
        outputs_packet.build_documents("https://example.invalid/run", _office_file(tmp_path), tmp_path / "out")


def test_documents_from_the_screening_pipeline(tmp_path):
    """Demo extract -> pipeline -> results.csv + summary.json -> documents."""
    from clearrec_desktop.core import demo, pipeline

    extract = tmp_path / "demo.dat"
    demo.write_demo_extract(extract, 1500, "Sacramento", 11)
    run = pipeline.run_screen([extract], county="SACRAMENTO", as_of=date(2026, 11, 1))
    pipeline.write_outputs(run, tmp_path / "run")
    paths = {p.name: p for p in outputs_packet.build_documents(tmp_path / "run", _office_file(tmp_path),
                                                               tmp_path / "docs", options=LATE)}
    results = pl.read_csv(tmp_path / "run" / "results.csv", infer_schema=False)
    sel = outputs_packet.hold_unprintable(outputs_filing.select_for_filing(results, options=LATE,
                                                                          statutory_profile=True))
    assert sel.granted.height > 20 and sel.challenged.height > 0 and sel.left_out.height > 0
    packet = Pdf(paths["motion-packet-lodged-under-seal.pdf"].read_bytes())
    update = pl.read_csv(paths["court-update.csv"], infer_schema=False)
    assert update.filter(pl.col("exhibit") == "A").height == sel.granted.height
    a_text = " ".join(_exhibit_text(packet, "EXHIBIT A-").split())
    for r in update.filter(pl.col("exhibit") == "A").head(15).iter_rows(named=True):
        assert r["cii_number"] in a_text
    for i in packet.pleading_pages():
        _check_pleading_page(packet, i)
    cover = "".join(Pdf(paths["cover-report.pdf"].read_bytes()).all_text().split())
    for cid in sel.left_out["conviction_id"]:
        assert cid in cover
    # no juvenile row in the adult exhibit
    juvenile = results.filter(pl.col("age_at_offence").cast(pl.Int64, strict=False) < 18)
    assert juvenile.height
    assert not set(juvenile["conviction_id"]) & set(update["conviction_id"])


# --------------------------------------------------------------------------- fonts, names, layout


def _fonts_of(data: bytes) -> list[tuple[str, bool]]:
    """(font name, embedded?) for every font any page uses, read with pypdf."""
    out = {}
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        forms = page["/Resources"].get_object().get("/XObject", {})
        dicts = [fonts] + [f.get_object()["/Resources"].get_object().get("/Font", {})
                           for f in forms.values() if "/Resources" in f.get_object()]
        for d in dicts:
            for ref in d.get_object().values():
                font = ref.get_object()
                desc = font.get("/FontDescriptor")
                embedded = bool(desc) and any(k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                out[str(font["/BaseFont"])] = embedded
    return sorted(out.items())


def test_every_font_is_embedded(packet, per_case, selection):
    """Issue 12.6: e-filing and PDF/A want embedded fonts."""
    cover = outputs_packet.build_cover_report(selection, OFFICE)
    for data in (packet.data, cover, per_case[0][1], per_case[1][1]):
        fonts = _fonts_of(data)
        assert fonts and all(embedded for _, embedded in fonts), fonts
        assert all("LiberationSerif" in name for name, _ in fonts)
    pdffonts = shutil.which("pdffonts")
    if pdffonts:  # poppler's own view, where installed
        path = Path(tempfile.gettempdir())  # noqa: F841 - nothing is written: pdffonts reads stdin
        out = subprocess.run([pdffonts, "-"], input=packet.data, capture_output=True, check=False)
        if out.returncode == 0:
            lines = out.stdout.decode().splitlines()[2:]
            assert lines and all(line.split()[-5] == "yes" for line in lines)


VIETNAMESE = "NGUYỄN,VĂN ĐỨC"


def test_vietnamese_name_round_trips(selection):
    """Issue 12.6: the signed order and the court's data file agree on the name."""
    pdf = Pdf(outputs_packet.build_packet(selection, OFFICE, as_of="2026-11-01", source_description=SOURCES))
    assert VIETNAMESE in flat(_exhibit_text(pdf, "EXHIBIT A-"))
    with pdfplumber.open(io.BytesIO(pdf.data)) as doc:
        assert any(VIETNAMESE in (page.extract_text() or "") for page in doc.pages)
    assert "NGUY?N" not in pdf.all_text()


# .ci/run installs poppler-utils, so in CI (CI set) this test always runs; elsewhere it needs pdftotext
@pytest.mark.skipif(shutil.which("pdftotext") is None and not os.environ.get("CI"),
                    reason="pdftotext (poppler-utils) is not installed")
def test_vietnamese_name_round_trips_through_pdftotext(selection):
    data = outputs_packet.build_packet(selection, OFFICE, as_of="2026-11-01", source_description=SOURCES)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    assert VIETNAMESE in out.stdout.decode("utf-8")


def test_unprintable_names_go_to_the_cover_report_never_as_question_marks():
    results = make_results(4)
    results = results.with_columns(pl.when(pl.col("court_case_number") == "K9002").then(pl.lit("王,小明"))
                                   .otherwise(pl.col("name")).alias("name"))
    sel = outputs_packet.hold_unprintable(outputs_filing.select_for_filing(results, options=LATE))
    held = sel.left_out.filter(pl.col("left_out_kind") == "unprintable")
    assert set(held["court_case_number"]) == {"K9002", "K9003"}  # the person's every case
    assert "U+738B" in held["left_out_reason"][0]
    packet = Pdf(outputs_packet.build_packet(sel, OFFICE, as_of="2026-11-01", source_description=SOURCES))
    assert "K9002" not in packet.all_text() and "?" not in flat(_exhibit_text(packet, "EXHIBIT A-"))
    cover = flat(Pdf(outputs_packet.build_cover_report(sel, OFFICE)).all_text())
    assert "[U+738B]" in cover and "Characters no bundled font has: 2 convictions" in cover


def test_long_names_wrap_and_a_5000_character_name_builds(tmp_path):
    """Issue 12.8: never cut, never fail the run because of one row."""
    long200 = "LONGNAME" + "-ABCDEFGHIJ" * 17 + ",PAT"
    huge = "HUGE" + "X" * 4996
    results = make_results(4)
    results = results.with_columns(
        pl.when(pl.col("court_case_number") == "K9004").then(pl.lit(long200))
        .when(pl.col("court_case_number") == "K9006").then(pl.lit(huge))
        .otherwise(pl.col("name")).alias("name"))
    _write_run(tmp_path / "run", results)
    paths = outputs_packet.build_documents(tmp_path / "run", _office_file(tmp_path), tmp_path / "out",
                                           per_case=True, options=LATE)
    cover = flat(Pdf((tmp_path / "out" / "cover-report.pdf").read_bytes()).all_text())
    assert "too long to print on one page" in cover and "5,000 characters" in cover
    names = [p.name for p in paths]
    assert not any("k9006" in n for n in names)
    order = Pdf(next(p for p in paths if p.name.startswith("k9004") and p.name.endswith("-order.pdf")).read_bytes())
    first = "".join(order.texts[0].split())
    assert "CaseNo.:K9004" in first and "ITISORDERED" in first  # the order block stays with its caption
    assert long200.replace(",", "") in first.replace(",", "")  # wrapped, whole
    sel = outputs_filing.select_for_filing(results, options=LATE)
    packet = Pdf(outputs_packet.build_packet(outputs_packet.hold_unprintable(sel), OFFICE, as_of="2026-11-01",
                                             source_description=SOURCES))
    a_text = "".join(_exhibit_text(packet, "EXHIBIT A-").split())
    assert long200 in a_text and "[...]" not in a_text


def test_standard_layout_is_12_pt_and_compact_is_an_option(packet, selection):
    """Issue 12.9: CRC 2.104 asks 12 pt."""
    for i in range(len(packet.pages)):
        if packet.is_exhibit(i):
            sizes = {round(c["size"]) for c in packet.pages[i]["chars"] if c["text"].strip() and 90 < baseline(c) < 530}
            assert sizes == {12}
            break
    compact = Pdf(outputs_packet.build_packet(dataclasses.replace(selection, options=dataclasses.replace(LATE, compact=True)),
                                              OFFICE, as_of="2026-11-01", source_description=SOURCES))
    i = next(i for i in range(len(compact.pages)) if compact.is_exhibit(i))
    assert {round(c["size"]) for c in compact.pages[i]["chars"] if 90 < baseline(c) < 530 and c["text"].strip()} == {9}
    assert len(compact.pages) < len(packet.pages)


def test_corrections_print_in_exhibit_a_and_both_values_are_kept(results):
    """Issue 18.3: a decision corrects a fact the court sees, with its source."""
    idx = {r["court_case_number"]: r["conviction_id"] for r in results.iter_rows(named=True)}
    corrections = pl.DataFrame({"conviction_id": [idx["K9002"], idx["K9002"]], "field": ["code_section", "name"],
                                "value": ["HS 11357(c)", "BRAVO,ROBERT"], "source": ["Court file", "Court file"]})
    sel = outputs_filing.select_for_filing(results, options=LATE, corrections=corrections)
    row = sel.granted.filter(pl.col("conviction_id") == idx["K9002"]).row(0, named=True)
    assert row["code_section"] == "HS 11357(c)" and row["name"] == "BRAVO,ROBERT"
    assert sel.corrections.height == 2 and set(sel.corrections["original"]) == {"HS 11357(a)", "BRAVO,BOB"}
    packet = Pdf(outputs_packet.build_packet(sel, OFFICE, as_of="2026-11-01", source_description=SOURCES))
    rows = _exhibit_rows(packet)
    assert "HS 11357(c)" in rows["K9002", "1"]
    assert "Attorneys corrected 2 facts of the record" in flat(packet.all_text())
    cover = flat(Pdf(outputs_packet.build_cover_report(sel, OFFICE)).all_text())
    assert "CORRECTIONS OF THE RECORD APPLIED" in cover and "HS 11357(a)" in cover and "Court file" in cover
    for bad in (pl.DataFrame({"conviction_id": [idx["K9002"]], "field": ["dob"], "value": ["x"], "source": ["y"]}),
                pl.DataFrame({"conviction_id": [idx["K9002"]], "field": ["level"], "value": ["M"], "source": [""]})):
        with pytest.raises(InputError):
            outputs_filing.select_for_filing(results, corrections=bad)
    # a corrected case number lets a row with none into the filing
    fixed = outputs_filing.select_for_filing(results, options=LATE, corrections=pl.DataFrame({
        "conviction_id": [idx[""]], "field": ["court_case_number"], "value": ["K9099"], "source": ["Court index"]}))
    assert "K9099" in fixed.granted["court_case_number"].to_list()


def test_juvenile_rows_can_be_included_deliberately(results):
    sel = outputs_filing.select_for_filing(results, options=dataclasses.replace(LATE, include_juvenile=True))
    row = sel.granted.filter(pl.col("court_case_number") == "K9013").row(0, named=True)
    assert row["basis"].endswith("under 18 at the offense")
    text = flat(Pdf(outputs_packet.build_packet(sel, OFFICE, as_of="2026-11-01", source_description=SOURCES)).all_text())
    assert "K9013" in text and "included only because the office chose to include them" in text
    cover = flat(Pdf(outputs_packet.build_cover_report(outputs_filing.select_for_filing(results, options=LATE),
                                                       OFFICE)).all_text())
    assert "WIC 602" in cover and "JV-744" in cover and "JULIET,JO" in cover


def test_results_without_a_basis_are_not_guessed(results):
    old = results.drop("relief_basis")
    statutory = outputs_filing.select_for_filing(old, options=LATE, statutory_profile=True)
    assert set(statutory.granted["relief_basis"]) == {"statute_dismissal", "statute_redesignation"}
    county = outputs_filing.select_for_filing(old, options=LATE)
    assert county.granted.height == 0
    assert set(county.left_out.filter(pl.col("outcome").is_in(["dismiss", "reduce"]))["left_out_kind"]) <= {
        "basis_unknown", "juvenile", "no_case_number"}
    cover = flat(Pdf(outputs_packet.build_cover_report(county, OFFICE)).all_text())
    assert "the basis is not guessed" in cover


def test_docx_and_xlsxwriter_stay_offline(tmp_path):
    """python-docx and XlsxWriter build without importing a network module, and with the
    runtime guard installed nothing is refused."""
    code = (
        "import sys\n"
        "import docx, xlsxwriter, io\n"
        "d = docx.Document(); d.add_paragraph('x'); d.save(io.BytesIO())\n"
        "wb = xlsxwriter.Workbook(io.BytesIO(), {'in_memory': True}); wb.add_worksheet().write_string(0, 0, 'x'); wb.close()\n"
        "bad = [m for m in ('socket', 'ssl', 'http.client', 'urllib.request') if m in sys.modules]\n"
        "print('network modules:', bad)\n"
        "from clearrec_desktop.core import offline; offline.install_guard()\n"
        "d = docx.Document(); d.save(io.BytesIO())\n"
        "print('built under the guard')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "network modules: []" in out.stdout and "built under the guard" in out.stdout, out.stderr




def test_workspace_keeps_corrections_beside_the_record(tmp_path):
    """Issue 18.3 in the workspace: the corrections table appears with the first correction, so
    a workspace made before it opens unchanged; corrections follow undo / redo and are append-only."""
    from clearrec_desktop.core.workspace.store import Workspace

    path = tmp_path / "w.clearrec"
    ws = Workspace.create(path, "correct horse battery", county="SACRAMENTO")
    ws.record_decision("c1", "dismiss", reason="court file", proposed="review")
    ws.close()
    ws = Workspace.open(path, "correct horse battery")  # as an older workspace: no corrections table
    assert ws.current_corrections().height == 0
    assert not ws._db().execute("SELECT 1 FROM sqlite_master WHERE name = 'decision_corrections'").fetchone()
    with pytest.raises(InputError, match="source"):
        ws.record_decision("c2", "dismiss", reason="x", proposed="review",
                           corrections=[{"field": "level", "value": "M", "source": ""}])
    ws.record_decision("c2", "dismiss", reason="court file", proposed="review",
                       corrections=[{"field": "code_section", "value": "HS 11357(c)", "source": "Court file"},
                                    {"field": "level", "value": "m", "source": "Court file"}])
    fixes = ws.current_corrections()
    assert fixes.select("field", "value").rows() == [("code_section", "HS 11357(c)"), ("level", "M")]
    entry = ws.audit_entries("decision")[-1]["details"]
    assert entry["corrected"] == ["code_section", "level"] and "HS 11357(c)" not in json.dumps(entry)
    ws.undo()
    assert ws.current_corrections().height == 0
    ws.redo()
    assert ws.current_corrections().height == 2
    with pytest.raises(Exception, match="append-only"):
        ws._db().execute("UPDATE decision_corrections SET value = 'x'")
    ws.close()
    ws = Workspace.open(path, "correct horse battery")
    assert ws.current_corrections().height == 2 and ws.verify_audit()[0]
    ws.close()
