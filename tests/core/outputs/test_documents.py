"""Court documents: every check reads the PDFs back (pypdf for text, pdfplumber for
positions), so the pleading-paper rules, the exhibit contents and what must never be printed
are verified on the bytes a court would receive."""

from __future__ import annotations

import io
import json
import re
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
}


def _row(sid, name, case, section, *, count=1, track="application", courthouse="SACRAMENTO SUPERIOR COURT",
         dob="1970-01-01", cii=None, conv_date="1999-05-04"):
    code, original, level, outcome, relief, cites = SECTIONS[section]
    count_key = f"001002{count:03d}000"
    return {
        "conviction_id": f"{sid}/{case}/{count_key}", "source_file": "extract.dat", "source_line": "2",
        "subject_id": sid, "cii_number": cii or f"A{int(sid):08d}", "name": name, "dob": dob, "gender": "F",
        "race": "HISPANIC", "court_case_number": case, "courthouse": courthouse, "county": "SACRAMENTO",
        "conviction_date": conv_date, "conviction_date_quality": "full", "cycle_date": "1999-01-02",
        "count_key": count_key, "code_section": code, "code_section_original": original, "qualifier": "",
        "level": level, "age_at_offence": "29", "age_at_conviction": "29", "sentence_end": "2000-05-04",
        "outcome": outcome, "relief": relief, "relief_track": track,
        "reasons": f"Screened {section} [{cites.split(' | ')[0]}]", "rules": f"remedy_{section}",
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
    return pl.DataFrame(rows, schema={c: pl.String for c in outputs_filing.RESULTS_COLUMNS})


OFFICE = outputs_filing.Office(district_attorney="Jane Q. Prosecutor", state_bar_number="123456",
                  office="Office of the District Attorney", address="901 G Street\nSacramento, CA 95814",
                  phone="(916) 555-0100", email="relief@da.example.gov",
                  court="Superior Court of the State of California", county="SACRAMENTO", deputy="John R. Deputy",
                  deputy_state_bar_number="234567")
SOURCES = ["File extract.dat, SHA-256 " + "ab" * 32 + ", 1,234 lines read."]

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
    return outputs_filing.select_for_filing(results)


@pytest.fixture(scope="module")
def packet(selection):
    return Pdf(outputs_packet.build_packet(selection, OFFICE, as_of=date(2026, 11, 1), source_description=SOURCES,
                              profile_title="Statutory default (HS 11361.8)", audit_head=AUDIT))


@pytest.fixture(scope="module")
def small_selection():
    return outputs_filing.select_for_filing(make_results(12))


@pytest.fixture(scope="module")
def per_case(small_selection):
    return Pdf(outputs_packet.build_per_case(small_selection, OFFICE))


# --------------------------------------------------------------------------- selection


def test_selection_puts_every_conviction_in_exactly_one_place(results, selection):
    ids = [selection.granted["conviction_id"], selection.challenged["conviction_id"], selection.left_out["conviction_id"]]
    together = pl.concat(ids)
    assert together.len() == results.height == selection.total
    assert together.n_unique() == results.height
    outcome = dict(zip(results["conviction_id"], results["outcome"]))
    assert {outcome[c] for c in ids[0]} == {"dismiss", "reduce"}
    assert {outcome[c] for c in ids[1]} == {"ineligible"}
    assert {outcome[c] for c in ids[2]} == {"review"}
    assert set(selection.challenged["ground"]) == {"not_eligible"}
    assert set(selection.left_out["left_out_kind"]) == {"review"}


def test_selection_groups_and_aka(selection):
    g = {r["court_case_number"]: r for r in selection.granted.iter_rows(named=True)}
    assert g["K9004"]["group"] == "resentence"             # reduce on the petition track
    assert g["K9005"]["group"] == "redesignate_infraction"
    assert g["K9001"]["group"] == "redesignate_misdemeanor"
    assert g["K9003"]["group"] == "dismiss_and_seal"
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
    assert part == "granted" and r["decided_by"] == "attorney" and r["basis"] == "HS 11361.8 (attorney review)"
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
    assert where["K9003", one][1]["basis"] == "HS 11361.8(b), (f) presumption; HS 11362.1"
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
    assert outputs_filing.load_office(table).signer == "John R. Deputy"
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
        - set(selection.challenged["court_case_number"])
    assert review_cases  # the fixture has review-only cases
    everything = packet.all_text()
    for case in review_cases:
        assert not re.search(rf"\b{case}\b", everything)
    assert "FOXTROT" not in everything


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
    for header in ("No.", "Court case", "Courthouse", "Defendant (AKA)", "DOB", "CII", "Conv. date", "Count",
                   "Level", "Relief", "Basis"):
        assert header in a_text
    for label in ("EXHIBIT A-1: Dismiss and seal", "EXHIBIT A-2: Redesignate as misdemeanor",
                  "EXHIBIT A-3: Redesignate as infraction", "EXHIBIT A-4: Recall and resentence"):
        assert label in a_text
    assert "Resentence: misdemeanor" in a_text
    assert "A00009001" in a_text and "1970-01-01" in a_text


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
            assert "Times" in c["fontname"]
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
        assert below.startswith(("PEOPLE'S MOTION TO DISMISS", "[PROPOSED] ORDER", "PROOF OF SERVICE")), below
    titles = {_footer(packet, i)[1].split(" (")[0] for i in packet.pleading_pages()}
    assert any(t.startswith("[PROPOSED] ORDER") for t in titles) and "PROOF OF SERVICE" in titles


def test_metadata_outline_and_audit_head(packet):
    assert packet.reader.metadata.title == outputs_packet.MOTION_TITLE
    outline = [o.title for o in packet.reader.outline if not isinstance(o, list)]
    for part in ("Notice of motion and motion", "Memorandum of points and authorities", "Declaration",
                 "Exhibit A - convictions granted relief", "Exhibit B - challenged convictions",
                 "[Proposed] order", "Proof of service"):
        assert part in outline
    assert AUDIT in packet.texts[-1]  # small type on the last page, to reconcile paper and file
    assert all(AUDIT not in t for t in packet.texts[:-1] if "DECLARATION OF" not in t)


def test_packet_text_mentions_the_law_and_counts(packet, selection):
    text = " ".join(packet.all_text().split())
    assert "PEOPLE'S MOTION TO DISMISS AND SEAL, OR REDESIGNATE, CANNABIS CONVICTIONS" in text
    assert "11361.8, subd. (h)" in text and "Statutory default (HS 11361.8)" in text
    people = selection.granted["subject_id"].n_unique()
    assert f"Exhibit A lists {selection.granted.height} convictions" in text and f"of {people} persons" in text
    assert "PUBLIC DEFENDER OF SACRAMENTO COUNTY" in text
    assert "extract.dat, SHA-256 " in text and "November 1, 2026" in text
    for page_text in packet.texts:  # a signature block is never split from its signer's name
        if "Respectfully submitted," in page_text:
            assert "By: ____" in page_text and "Deputy District Attorney" in page_text


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


def test_per_case_one_page_per_case(per_case, small_selection):
    selection = small_selection
    cases = selection.granted.select("courthouse", "court_case_number", "subject_id").unique()
    assert len(per_case.pages) == cases.height
    seen = []
    for i, text in enumerate(per_case.texts):
        found = re.findall(r"Case No\.: (K\d{4})", text)
        assert len(found) == 1
        seen.append(found[0])
        flat = " ".join(text.split())
        assert "ORDER" in flat and "Judge of the Superior Court" in flat and "record sealed" in flat
        assert "John R. Deputy, Deputy District Attorney" in flat
        _check_pleading_page(per_case, i)
        _, footer, _ = _footer(per_case, i)
        assert footer.startswith("PEOPLE'S MOTION AND [PROPOSED] ORDER")
    assert Counter(seen) == Counter(cases["court_case_number"])
    by_case = {c: " ".join(t.split()) for c, t in zip(seen, per_case.texts)}
    assert "HS 11359 x2 (F)" in by_case["K9001"]
    assert "AKA" in by_case["K9001"]
    assert "HS 11359 x2 (F)" in by_case["K9011"] and "HS 11360(a) (F)" in by_case["K9011"]
    assert "x1" not in by_case["K9002"]
    assert "HS 11361.8(b)" in by_case["K9004"] and "Resentencing" in by_case["K9004"]
    assert "Redesignation / dismissal and sealing, HS 11361.8(f)" in by_case["K9002"]


def test_challenge_notice(selection):
    pdf = Pdf(outputs_packet.build_challenge_notice(selection, OFFICE, audit_head=AUDIT))
    text = flat(pdf.all_text())
    assert Counter(CASE_RE.findall(_exhibit_text(pdf, "EXHIBIT B"))) == Counter(selection.challenged["court_case_number"])
    assert "PUBLIC DEFENDER OF SACRAMENTO COUNTY" in text and "PROOF OF SERVICE" in text
    assert "Not eligible (HS 11361.8)" in text
    for i in pdf.pleading_pages():
        _check_pleading_page(pdf, i)
    empty = outputs_filing.select_for_filing(make_results(0).filter(pl.col("outcome") != "ineligible"))
    with pytest.raises(InputError):
        outputs_packet.build_challenge_notice(empty, OFFICE)


# --------------------------------------------------------------------------- never printed, never a formula


def test_no_ssn_anywhere(tmp_path):
    leaky = make_results(16).with_columns(pl.lit(SSN).alias("PRI_SSN"), pl.lit("123456789").alias("ssn"))
    sel = outputs_filing.select_for_filing(leaky)
    assert not {"PRI_SSN", "ssn"} & set(sel.granted.columns)
    outputs = [
        outputs_packet.build_packet(sel, OFFICE, as_of="2026-11-01", source_description=SOURCES),
        outputs_packet.build_per_case(sel, OFFICE),
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
    rows = court_update.court_update_rows(selection)
    assert rows.height == selection.granted.height + selection.challenged.height
    a = rows.filter(pl.col("exhibit") == "A")
    assert a["row"].to_list() == list(range(1, selection.granted.height + 1))
    assert a["court_case_number"].to_list() == selection.granted["court_case_number"].to_list()
    assert set(rows.filter(pl.col("exhibit") == "B")["action"]) == {"challenged"}
    assert "ssn" not in " ".join(rows.columns).lower()
    csv_path, xlsx_path = court_update.write_court_update(selection, tmp_path / "update.csv", tmp_path / "update.xlsx")
    back = pl.read_csv(csv_path, infer_schema=False)
    assert back.height == rows.height and HYPERLINK_NAME in back["name"].to_list()
    with zipfile.ZipFile(xlsx_path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        xml = b"".join(z.read(n) for n in sheets)
    assert sheets and b"<f>" not in xml and b"<f " not in xml and b"HYPERLINK" in xml
    wb = openpyxl.load_workbook(xlsx_path)
    ws = wb.active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == list(court_update.UPDATE_COLUMNS)
    assert len(values) == rows.height + 1
    names = [v[court_update.UPDATE_COLUMNS.index("name")] for v in values[1:]]
    assert HYPERLINK_NAME in names
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


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

    # Every stdlib temporary file lands in tempfile.tempdir (also for libraries that import
    # NamedTemporaryFile by name, as openpyxl does): point it at an empty folder and watch it.
    watch = tmp_path / "tmp-watch"
    watch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(watch))
    import openpyxl.worksheet._writer as sheet_writer
    created = []
    real = sheet_writer.create_temporary_file
    monkeypatch.setattr(sheet_writer, "create_temporary_file", lambda *a, **k: created.append(1) or real(*a, **k))
    paths = outputs_packet.build_documents(tmp_path / "run", office, tmp_path / "out", per_case=True, by_courthouse=True,
                              audit_head=AUDIT)
    monkeypatch.undo()
    assert created == [] and list(watch.iterdir()) == []
    names = sorted(p.name for p in paths)
    assert names == sorted(["motion-packet-sacramento-superior-court.pdf", "motion-packet-sacramento-superior-south.pdf",
                            "challenge-notice.pdf", "per-case-motions.pdf", "court-update.csv",
                            "court-update.xlsx", "cover-report.pdf"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    update = pl.read_csv(tmp_path / "out" / "court-update.csv", infer_schema=False)
    assert set(update["packet"]) == {"SACRAMENTO SUPERIOR COURT", "SACRAMENTO SUPERIOR - SOUTH"}
    cover = Pdf((tmp_path / "out" / "cover-report.pdf").read_bytes()).all_text()
    assert "motion-packet-sacramento-superior-south.pdf" in " ".join(cover.split())
    decisions = tmp_path / "decisions.csv"
    pl.DataFrame({"conviction_id": [results["conviction_id"][0]], "decision": ["defer"]}).write_csv(decisions)
    again = outputs_packet.build_documents(tmp_path / "run", office, tmp_path / "out2", decisions=decisions)
    assert [p.name for p in again][0] == "motion-packet.pdf"


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
    paths = {p.name: p for p in outputs_packet.build_documents(tmp_path / "run", _office_file(tmp_path), tmp_path / "docs",
                                                  per_case=True)}
    results = pl.read_csv(tmp_path / "run" / "results.csv", infer_schema=False)
    sel = outputs_filing.select_for_filing(results)
    assert sel.granted.height > 20 and sel.challenged.height > 0 and sel.left_out.height > 0
    packet = Pdf(paths["motion-packet.pdf"].read_bytes())
    update = pl.read_csv(paths["court-update.csv"], infer_schema=False)
    assert update.filter(pl.col("exhibit") == "A").height == sel.granted.height
    a_text = " ".join(_exhibit_text(packet, "EXHIBIT A-").split())
    for r in update.filter(pl.col("exhibit") == "A").head(15).iter_rows(named=True):
        assert r["cii_number"] in a_text
    for i in packet.pleading_pages():
        _check_pleading_page(packet, i)
    per_case_pages = len(pypdf.PdfReader(paths["per-case-motions.pdf"]).pages)
    assert per_case_pages == sel.granted.select("courthouse", "court_case_number", "subject_id").unique().height
    cover = "".join(Pdf(paths["cover-report.pdf"].read_bytes()).all_text().split())
    for cid in sel.left_out["conviction_id"]:
        assert cid in cover
