"""Exports: the review workbook, the DOJ-layout results file, the impact report, the results CSV."""

from __future__ import annotations

import ast
import json
import re
import tempfile
import threading
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pypdf
import pytest

from clearrec_desktop.core.errors import Cancelled, InputError
from clearrec_desktop.core.ingest.doj import DOJ_COLUMNS
from clearrec_desktop.core.outputs import common, doj_layout, exports, workbook
from clearrec_desktop.core.outputs import impact_report as outputs_impact_report

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)", "=1+1", "#N/A", "=cmd|' /C calc'!A0"]
RESULT_COLUMNS = [  # docs/architecture.md, results.csv
    "conviction_id", "source_file", "source_line", "subject_id", "cii_number", "name", "dob", "gender", "race",
    "court_case_number", "courthouse", "county", "conviction_date", "conviction_date_quality", "cycle_date",
    "count_key", "code_section", "code_section_original", "qualifier", "level", "age_at_offence",
    "age_at_conviction", "sentence_end", "outcome", "relief", "relief_track", "reasons", "rules", "citations",
    "evidence", "flags",
]
RELIEF = {"dismiss": "dismiss_and_seal", "reduce": "reduce_to_misdemeanor", "review": "", "ineligible": ""}


def make_results(outcomes: list[str], *, hostile: bool = False) -> pl.DataFrame:
    """A results frame as read back from results.csv: every column text, one row per count."""
    rows = []
    for i, outcome in enumerate(outcomes):
        sid = f"{1000 + i // 2}"
        key = f"001{2 + i % 2:03d}001000"
        name = HOSTILE[i % len(HOSTILE)] if hostile else f"PERSON{i},TEST"
        rows.append({
            "conviction_id": f"{sid}/CR{i:05d}/{key}", "source_file": "extract.dat", "source_line": str(2 + 3 * i),
            "subject_id": sid, "cii_number": f"A{sid}", "name": name,
            "dob": "1961-04-12" if i % 3 else "1958-12-07", "gender": "M" if i % 4 else "F",
            "race": HOSTILE[(i + 1) % len(HOSTILE)] if hostile else "HISPANIC",
            "court_case_number": f"CR{i:05d}", "courthouse": "SACRAMENTO SUPERIOR & <SOUTH>", "county": "SACRAMENTO",
            "conviction_date": f"{1980 + i % 30}-03-0{1 + i % 9}", "conviction_date_quality": "full",
            "cycle_date": "1989-03-03", "count_key": key, "code_section": "HS 11359",
            "code_section_original": "11359 HS", "qualifier": "", "level": "F", "age_at_offence": "27",
            "age_at_conviction": "28", "sentence_end": "1992-03-03", "outcome": outcome, "relief": RELIEF[outcome],
            "relief_track": "application", "reasons": "Felony possession for sale is now a misdemeanor. [HS 11359(b)]",
            "rules": "remedy", "citations": "HS 11361.8(e)-(f)", "evidence": f"extract.dat:{2 + 3 * i}", "flags": "",
        })
    return pl.DataFrame(rows, schema={c: pl.String for c in RESULT_COLUMNS})


SUMMARY = {
    "tool": "clearrec", "version": "0.1.0", "county": "SACRAMENTO", "as_of": "2026-11-01",
    "profile": {"id": "statutory", "title": "Statutory default (HS 11361.8)", "source": "statutory.toml"},
    "inputs": [{"file": "extract.dat", "sha256": "ab" * 32, "lines_read": 4821, "rows_imported": 4810,
                "lines_rejected": 11}],
}


def sheet_xml(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")}


def data_rows(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=2, values_only=True))


# ----------------------------------------------------------------------------------- workbook


def test_workbook_reopens_with_one_sheet_per_outcome(tmp_path):
    outcomes = ["dismiss"] * 5 + ["reduce"] * 3 + ["review"] * 2 + ["ineligible"]
    results = make_results(outcomes)
    out = workbook.write_workbook(results, SUMMARY, tmp_path / "run.xlsx", audit_head="f" * 64)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "dismiss", "reduce", "review", "ineligible"]
    for outcome in common.OUTCOMES:
        ws = wb[outcome]
        header = [c.value for c in ws[1]]
        assert header == RESULT_COLUMNS
        rows = data_rows(ws)
        assert len(rows) == outcomes.count(outcome)
        expected_ids = results.filter(pl.col("outcome") == outcome)["conviction_id"].to_list()
        assert [r[0] for r in rows] == expected_ids
        assert {r[header.index("outcome")] for r in rows} == {outcome}
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:AE{len(rows) + 1}"
        widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width for i in range(1, 32)]
        assert all(8 <= w <= 60 for w in widths)
        assert widths[header.index("reasons")] > widths[header.index("level")]
    summary_values = [v for row in wb["Summary"].iter_rows(values_only=True) for v in row if v is not None]
    assert "SACRAMENTO" in summary_values
    assert "Statutory default (HS 11361.8)" in summary_values
    assert datetime(2026, 11, 1) in summary_values
    assert "f" * 64 in summary_values
    assert "ab" * 32 in summary_values
    # read-only readers trust <dimension>: they must see every row too
    ro = openpyxl.load_workbook(out, read_only=True)
    assert ro["dismiss"].max_row == 6 and ro["dismiss"].max_column == 31


def test_workbook_hostile_values_are_text_never_formulas(tmp_path):
    results = make_results(["dismiss", "reduce", "review", "ineligible"] * 4, hostile=True)
    specials = iter(["ctrl\x01char\x1f", " lead and trail ", "a&b<c>\"d\"", "x" * 40_000])
    reasons = [next(specials) if i % 4 == 0 else HOSTILE[i % len(HOSTILE)] for i in range(16)]  # specials: dismiss rows
    results = results.with_columns(
        pl.Series("reasons", reasons),
        pl.Series("dob", ["=1+1", "-2", "@SUM(A1)", "+1"] * 4),  # hostile text in a date column stays text
    )
    summary = {**SUMMARY, "county": "=HYPERLINK(\"http://x\",\"y\")",
               "profile": {"id": "+1+1", "title": "@SUM(A1)"},
               "inputs": [{"file": "=cmd|' /C calc'!A0", "sha256": "-2", "lines_read": 1}]}
    out = workbook.write_workbook(results, summary, tmp_path / "hostile.xlsx")

    xml = sheet_xml(out)
    assert len(xml) == 5
    for name, data in xml.items():
        assert re.search(rb"<f[\s>/]", data) is None, name
        assert b'"str"' not in data and b't="e"' not in data, name

    wb = openpyxl.load_workbook(out)
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value[:1] in "=+-@#":
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    seen.append(c.value)
    for value in HOSTILE:
        assert value in seen
    assert summary["county"] in seen and "@SUM(A1)" in seen and "=cmd|' /C calc'!A0" in seen

    header = [c.value for c in wb["dismiss"][1]]
    reasons = [r[header.index("reasons")] for r in data_rows(wb["dismiss"])]
    assert "ctrlchar" in reasons          # characters XML cannot hold are dropped, the rest kept
    assert " lead and trail " in reasons  # surrounding spaces preserved
    assert "a&b<c>\"d\"" in reasons
    assert "x" * 32_767 in reasons        # Excel's cell limit
    assert {r[header.index("courthouse")] for r in data_rows(wb["dismiss"])} == {"SACRAMENTO SUPERIOR & <SOUTH>"}


def test_workbook_dates_are_excel_dates_numbers_are_numbers(tmp_path):
    results = make_results(["dismiss", "dismiss", "review"]).with_columns(
        pl.Series("conviction_date", ["1989-03-03", "1990-06", "1899-01-01"]),  # partial and pre-1900 stay text
        pl.Series("sentence_end", ["1992-03-03", "", None]),
        pl.Series("age_at_offence", ["27", "", "n/a"]),
    )
    wb = openpyxl.load_workbook(workbook.write_workbook(results, SUMMARY, tmp_path / "d.xlsx"))
    ws = wb["dismiss"]
    header = [c.value for c in ws[1]]
    first, second = list(ws.iter_rows(min_row=2, max_row=3))
    col = {name: i for i, name in enumerate(header)}
    for name, expected in (("dob", date(1958, 12, 7)), ("conviction_date", date(1989, 3, 3)),
                           ("cycle_date", date(1989, 3, 3)), ("sentence_end", date(1992, 3, 3))):
        c = first[col[name]]
        assert c.is_date and c.value.date() == expected, name
        assert c.number_format == "mm/dd/yyyy"
    assert second[col["conviction_date"]].value == "1990-06" and second[col["conviction_date"]].data_type == "s"
    assert second[col["sentence_end"]].value is None
    assert first[col["source_line"]].value == 2 and first[col["source_line"]].data_type == "n"
    assert first[col["age_at_offence"]].value == 27
    assert second[col["age_at_offence"]].value is None
    assert first[col["count_key"]].value == "001002001000"  # keys keep their leading zeros
    assert first[col["subject_id"]].value == "1000"
    review = list(wb["review"].iter_rows(min_row=2, values_only=True))[0]
    assert review[col["conviction_date"]] == "1899-01-01"
    assert review[col["age_at_offence"]] == "n/a"


def test_workbook_typed_frame_from_the_pipeline(tmp_path):
    """run.results carries Date / Int columns rather than text: same cells."""
    typed = make_results(["reduce", "dismiss"]).with_columns(
        pl.col("dob", "conviction_date", "cycle_date", "sentence_end").str.to_date(),
        pl.col("source_line", "age_at_offence", "age_at_conviction").cast(pl.Int32),
    )
    wb = openpyxl.load_workbook(workbook.write_workbook(typed, SUMMARY, tmp_path / "t.xlsx"))
    header = [c.value for c in wb["reduce"][1]]
    row = list(wb["reduce"].iter_rows(min_row=2))[0]
    assert row[header.index("conviction_date")].value == datetime(1980, 3, 1)
    assert row[header.index("age_at_conviction")].value == 28


def test_workbook_splits_past_the_row_limit(tmp_path):
    outcomes = ["dismiss"] * 7 + ["reduce"] * 3 + ["review"]
    results = make_results(outcomes)
    wb = openpyxl.load_workbook(workbook.write_workbook(results, SUMMARY, tmp_path / "s.xlsx", max_rows_per_sheet=4))
    assert wb.sheetnames == ["Summary", "dismiss", "dismiss (2)", "dismiss (3)", "reduce", "review", "ineligible"]
    counts = {name: len(data_rows(wb[name])) for name in wb.sheetnames[1:]}
    assert counts == {"dismiss": 3, "dismiss (2)": 3, "dismiss (3)": 1, "reduce": 3, "review": 1, "ineligible": 0}
    ids = [r[0] for name in ("dismiss", "dismiss (2)", "dismiss (3)") for r in data_rows(wb[name])]
    assert ids == results.filter(pl.col("outcome") == "dismiss")["conviction_id"].to_list()
    for name in ("dismiss (2)", "dismiss (3)"):
        assert [c.value for c in wb[name][1]] == RESULT_COLUMNS  # every part has its header
        assert wb[name].freeze_panes == "A2"
    with pytest.raises(ValueError):
        workbook.write_workbook(results, SUMMARY, tmp_path / "x.xlsx", max_rows_per_sheet=1_048_577)


def test_workbook_decisions_and_reviewer_columns(tmp_path):
    results = make_results(["review", "review", "dismiss"])
    ids = results["conviction_id"].to_list()
    decisions = pl.DataFrame({
        "conviction_id": [ids[0], ids[0], ids[1]],
        "decision": ["defer", "challenge", "accept"],
        "reason": ["first look", "super strike on record", "ok"],
        "ground": [None, "public_safety", None],
        "notes": ["", "see file", ""],
        "reviewer": ["DDA A", "DDA B", "DDA A"],
        "decided_at": ["2026-11-02T10:00:00", "2026-11-03T09:00:00", "2026-11-02T11:00:00"],
    })
    wb = openpyxl.load_workbook(workbook.write_workbook(results, SUMMARY, tmp_path / "dec.xlsx", decisions=decisions))
    header = [c.value for c in wb["review"][1]]
    assert header == RESULT_COLUMNS + ["decision", "decision_reason", "decision_ground", "decision_notes",
                                       "reviewer", "decided_at"]
    rows = {r[0]: r for r in data_rows(wb["review"])}
    assert rows[ids[0]][-6:] == ("challenge", "super strike on record", "public_safety", "see file", "DDA B",
                                 "2026-11-03T09:00:00")  # the latest decision
    assert rows[ids[1]][header.index("decision")] == "accept"
    assert data_rows(wb["dismiss"])[0][header.index("decision")] is None
    summary = [r for r in wb["Summary"].iter_rows(values_only=True)]
    assert ("challenge", 1) == summary[[r[0] for r in summary].index("challenge")][:2]
    assert ("(none yet)", 1) == summary[[r[0] for r in summary].index("(none yet)")][:2]


def test_workbook_never_holds_an_ssn(tmp_path):
    results = make_results(["dismiss", "reduce"]).with_columns(pl.lit("555-12-3456").alias("PRI_SSN"),
                                                              pl.lit("555123456").alias("ssn"))
    out = workbook.write_workbook(results, SUMMARY, tmp_path / "n.xlsx")
    blob = b"".join(sheet_xml(out).values())
    assert b"555-12-3456" not in blob and b"555123456" not in blob
    wb = openpyxl.load_workbook(out)
    for name in common.OUTCOMES:
        assert [c.value for c in wb[name][1]] == RESULT_COLUMNS


def test_workbook_uses_no_temporary_file_and_writes_only_the_path(tmp_path, monkeypatch):
    import openpyxl.worksheet._writer as ws_writer

    def refuse(*args, **kwargs):
        raise AssertionError("a temporary file was created")

    monkeypatch.setattr(ws_writer, "create_temporary_file", refuse)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    workbook.write_workbook(make_results(["dismiss"] * 30 + ["review"] * 5), SUMMARY, out_dir / "w.xlsx")
    assert [p.name for p in out_dir.iterdir()] == ["w.xlsx"]


def test_workbook_progress_and_cancel(tmp_path):
    results = make_results(["dismiss"] * 20)
    seen = []
    workbook.write_workbook(results, SUMMARY, tmp_path / "p.xlsx", progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) >= 3
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        workbook.write_workbook(results, SUMMARY, tmp_path / "c.xlsx", cancel=cancel)
    assert not (tmp_path / "c.xlsx").exists()


def test_workbook_refuses_urls_bad_folders_and_unknown_outcomes(tmp_path):
    results = make_results(["dismiss"])
    with pytest.raises(InputError, match="web addresses"):
        workbook.write_workbook(results, SUMMARY, "https://example.org/w.xlsx")
    with pytest.raises(InputError, match="no such folder"):
        workbook.write_workbook(results, SUMMARY, tmp_path / "missing" / "w.xlsx")
    bad = results.with_columns(pl.lit("maybe").alias("outcome"))
    with pytest.raises(InputError, match="1 row") as err:
        workbook.write_workbook(bad, SUMMARY, tmp_path / "w.xlsx")
    assert "PERSON0" not in str(err.value) and "A1000" not in str(err.value)


# ----------------------------------------------------------------------------- DOJ layout


def raw_row(subject: str, cnt: str, line: int, **values) -> dict:
    row = {c: "" for c in DOJ_COLUMNS}
    row.update({"RECORD_ID": "x", "SUBJECT_ID": f"{subject}  ", "CNT_ORDER": cnt, "PRI_SSN": "555123456",
                "REQ_SSN": "555123456", "PRI_NAME": "DOE,JOHN Q", "END_OF_REC": "#", "REQ_SEG_SEP": "#"})
    row.update(values)
    row.update({"source_file": "extract.dat", "source_line": line, "subject_id": subject, "count_key": cnt.strip()})
    return row


def test_doj_layout_keeps_every_row_and_blanks_the_ssn(tmp_path):
    raw = pl.DataFrame([
        raw_row("771001", "001001001000", 2, STP_TYPE_DESCR="ARREST/DETAINED/CITED"),
        raw_row("771001", "001002001000", 3, DISP_DESCR="CONVICTED-JAIL", SENT_LOC_DESCR="JAIL"),
        raw_row("771001", "001002001000", 4, DISP_DESCR="CONVICTED-JAIL", SENT_LOC_DESCR="PROBATION"),
        raw_row("771001", "002002001000", 5, OFFENSE_DESCR="459 PC-BURGLARY", COMMENT_TEXT='said "hi", left'),
        raw_row("771002", "001002001000 ", 6, DISP_DESCR="CONVICTED-PROBATION", OFN="NULL  ", GENDER=" M "),
    ], schema_overrides={"source_line": pl.Int64})
    results = make_results(["reduce", "dismiss"]).with_columns(
        pl.Series("subject_id", ["771001", "771002"]), pl.Series("count_key", ["001002001000", "001002001000"]),
        pl.Series("court_case_number", ["7710011", "7710021"]),
    )
    out = doj_layout.write_doj_results(raw, results, tmp_path / "doj.csv")
    back = pl.read_csv(out, infer_schema=False)
    assert back.columns == DOJ_COLUMNS + list(common.DOJ_RESULT_COLUMNS)
    assert back.width == 95 + len(common.DOJ_RESULT_COLUMNS)
    assert back.height == raw.height
    assert back["PRI_SSN"].null_count() == back.height and back["REQ_SSN"].null_count() == back.height
    assert b"555123456" not in out.read_bytes()
    # raw text exactly as read (padding, NULL placeholders, quotes and commas)
    assert back["SUBJECT_ID"].to_list() == ["771001  "] * 4 + ["771002  "]
    assert back["OFN"][4] == "NULL  " and back["GENDER"][4] == " M " and back["CNT_ORDER"][4] == "001002001000 "
    assert back["COMMENT_TEXT"][3] == 'said "hi", left'
    # both sentence parts of the screened count carry its result; other rows carry none
    assert back["CLEARREC_OUTCOME"].to_list() == [None, "reduce", "reduce", None, "dismiss"]
    assert back["CLEARREC_COURT_CASE_NUMBER"].to_list() == [None, "7710011", "7710011", None, "7710021"]
    assert back["CLEARREC_RELIEF"][1] == "reduce_to_misdemeanor"
    assert back["CLEARREC_DECISION"].null_count() == back.height


def test_doj_layout_with_decisions_and_integrity_errors(tmp_path):
    raw = pl.DataFrame([raw_row("9", "001002001000", 2), raw_row("9", "001002002000", 3)],
                       schema_overrides={"source_line": pl.Int64})
    results = make_results(["review", "dismiss"]).with_columns(
        pl.lit("9").alias("subject_id"), pl.Series("count_key", ["001002001000", "001002002000"]))
    decisions = pl.DataFrame({"conviction_id": [results["conviction_id"][0]], "decision": ["challenge"],
                              "ground": ["not_eligible"], "reason": ["prior PC 290"], "notes": ["internal note"],
                              "reviewer": ["DDA A"], "decided_at": ["2026-11-03T09:00:00"]})
    out = doj_layout.write_doj_results(raw, results, tmp_path / "d.csv", decisions=decisions)
    back = pl.read_csv(out, infer_schema=False)
    assert back["CLEARREC_DECISION"].to_list() == ["challenge", None]
    assert back["CLEARREC_DECISION_GROUND"].to_list() == ["not_eligible", None]
    assert b"internal note" not in out.read_bytes()  # notes stay in the office

    orphan = results.with_columns(pl.Series("count_key", ["001002001000", "009009009000"]))
    with pytest.raises(InputError, match="1 screened count"):
        doj_layout.write_doj_results(raw, orphan, tmp_path / "e.csv")
    twice = pl.concat([results, results.head(1)])
    with pytest.raises(InputError, match="more than once"):
        doj_layout.write_doj_results(raw, twice, tmp_path / "e.csv")
    with pytest.raises(InputError, match="DOJ-layout column"):
        doj_layout.write_doj_results(raw.drop("PRI_SSN"), results, tmp_path / "e.csv")
    assert not (tmp_path / "e.csv").exists()


# ------------------------------------------------------------------------------ results CSV


def test_results_csv_is_the_view_as_shown(tmp_path):
    view = make_results(["dismiss", "review", "reduce"], hostile=True).select(
        "conviction_id", "name", "race", "outcome").with_columns(pl.lit("555-12-3456").alias("PRI_SSN"))
    out = common.write_results_csv(view, tmp_path / "view.csv")
    back = pl.read_csv(out, infer_schema=False)
    assert back.columns == ["conviction_id", "name", "race", "outcome"]
    assert back["conviction_id"].to_list() == view["conviction_id"].to_list()
    assert back["name"].to_list() == ["'" + HOSTILE[0], "'" + HOSTILE[1], "'" + HOSTILE[2]]
    assert b"555-12-3456" not in out.read_bytes()
    raw = pl.read_csv(common.write_results_csv(view, tmp_path / "raw.csv", excel_safe=False), infer_schema=False)
    assert raw["name"].to_list() == view["name"].to_list()


# ---------------------------------------------------------------------------- impact report


def pdf_lines(pdf: bytes) -> list[str]:
    import io

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [ln.strip() for page in reader.pages for ln in page.extract_text().splitlines() if ln.strip()]


def after(lines: list[str], label: str, n: int, *, start: str | None = None) -> list[str]:
    """The n lines that follow ``label`` (the cells of its table row), searching from ``start``."""
    i = lines.index(start) if start else 0
    j = lines.index(label, i)
    return lines[j + 1: j + 1 + n]


def num(text: str) -> int:
    return int(text.replace(",", ""))


def report_summary() -> dict:
    return {
        **SUMMARY,
        "profile": {**SUMMARY["profile"], "rules": [
            "If the conviction date is missing, partial or impossible: review. The date is missing. [HS 11361.8; data quality]",
            "If in every case: apply the HS 11361.8 remedy table (dismiss / reduce / ineligible).  [HS 11361.8]"]},
        "convictions": {"total": 2412, "date_range": ["1975-02-08", "2016-10-30"],
                        "by_outcome": {"dismiss": 1204, "reduce": 731, "review": 301, "ineligible": 176},
                        "by_section": {"HS 11357(a)": 512, "HS 11358": 388, "HS 11359": 1017, "HS 11360(a)": 495},
                        "by_level": {"F": 1577, "M": 802, "I": 33}},
        "people": {"with_conviction": 1833, "with_relief": 1502, "no_felony_left": 1210, "no_conviction_left": 644,
                   "none_in_7_years": 1377},
        "dismiss_everything": {"with_relief": 1833, "no_felony_left": 1455, "no_conviction_left": 903,
                               "none_in_7_years": 1601},
        "breakdowns": {
            "race": {"HISPANIC": {"people": 811, "convictions": 1080, "with_relief": 672, "no_felony_left": 530,
                                  "no_conviction_left": 301, "convictions_relieved": 880},
                     "BLACK": {"people": 602, "convictions": 790, "with_relief": 497, "no_felony_left": 388,
                               "no_conviction_left": 200, "convictions_relieved": 640}},
            "gender": {"M": {"people": 1500, "convictions": 2001, "with_relief": 1230, "no_felony_left": 990,
                             "no_conviction_left": 520, "convictions_relieved": 1600}},
            "age_band": {"25-34": {"people": 400, "convictions": 530, "with_relief": 320, "no_felony_left": 250,
                                   "no_conviction_left": 150, "convictions_relieved": 430}},
            "decade": {"1990s": {"people": 700, "convictions": 910, "convictions_relieved": 720}},
        },
    }


def test_impact_report_numbers_equal_the_summary():
    summary = report_summary()
    summary["publishable"] = {"note": "counts under 11 suppressed as \"<11\"", **summary["breakdowns"]}
    pdf = outputs_impact_report.build_impact_report(summary, make_results(["dismiss", "reduce"]), audit_head="c0ffee" * 10)
    assert pdf.startswith(b"%PDF")
    lines = pdf_lines(pdf)
    text = "\n".join(lines)
    assert "SACRAMENTO COUNTY" in lines
    assert "Evaluation date November 1, 2026" in text.replace("\n", " ")
    assert "Statutory default (HS 11361.8)" in text
    assert "If the conviction date is missing, partial or impossible: review. [HS 11361.8; data quality]" in text
    assert "c0ffee" * 10 in text.replace("\n", "")

    conv, people, every = summary["convictions"], summary["people"], summary["dismiss_everything"]
    assert num(lines[lines.index("cannabis convictions screened") - 1]) == conv["total"]
    for label, outcome in (("Dismiss and seal", "dismiss"), ("Reduce (redesignate)", "reduce"),
                           ("Attorney review", "review"), ("Not eligible", "ineligible")):
        count, share = after(lines, label, 2)
        assert num(count) == conv["by_outcome"][outcome]
        assert share == f"{100 * conv['by_outcome'][outcome] / conv['total']:.1f}%"
    for label, key in (("People with some relief", "with_relief"), ("People left with no felony", "no_felony_left"),
                       ("People left with no conviction", "no_conviction_left"),
                       ("People with no conviction in the last 7 years", "none_in_7_years")):
        mine, theirs, diff = after(lines, label, 3)
        assert (num(mine), num(theirs), num(diff)) == (people[key], every[key], every[key] - people[key])
    assert num(after(lines, "People with a cannabis conviction", 1)[0]) == people["with_conviction"]
    for section, n in conv["by_section"].items():
        assert num(after(lines, section, 1, start="Code section")[0]) == n
    for label, key in (("Felony", "F"), ("Misdemeanor", "M"), ("Infraction", "I")):
        assert num(after(lines, label, 1, start="Level")[0]) == conv["by_level"][key]
    assert "February 8, 1975 to October 30, 2016" in text.replace("\n", " ")
    assert "4,821 lines read, 4,810 record rows imported, 11 malformed lines set aside" in text.replace("\n", " ")
    race = summary["breakdowns"]["race"]
    for group, label in (("HISPANIC", "Hispanic"), ("BLACK", "Black")):
        cells = after(lines, label, 6, start="By race / ethnicity")
        assert [num(c) for c in cells[:5]] == [race[group][k] for k in ("people", "convictions", "with_relief",
                                                                        "no_felony_left", "no_conviction_left")]
        assert cells[5] == f"{100 * race[group]['with_relief'] / race[group]['people']:.1f}%"
    assert [num(c) for c in after(lines, "Male", 3, start="By gender")] == [1500, 2001, 1230]
    assert [num(c) for c in after(lines, "25-34", 3, start="By age on the evaluation date")] == [400, 530, 320]
    assert after(lines, "1990s", 4, start="By decade of conviction") == ["700", "910", "720", "79.1%"]
    # same run, same bytes
    assert pdf == outputs_impact_report.build_impact_report(summary, make_results(["dismiss", "reduce"]), audit_head="c0ffee" * 10)


def test_impact_report_suppresses_every_count_under_11():
    summary = report_summary()
    summary["convictions"]["by_section"]["VC 11360"] = 3
    summary["convictions"]["by_level"]["I"] = 7
    summary["convictions"]["by_outcome"]["ineligible"] = 4
    summary["people"]["no_conviction_left"] = 9
    summary["dismiss_everything"]["no_conviction_left"] = 15
    small = {"people": 8, "convictions": 9, "with_relief": 6, "no_felony_left": 5, "no_conviction_left": 2,
             "convictions_relieved": 7}
    summary["breakdowns"]["race"]["ASIAN"] = small
    summary["breakdowns"]["race"]["WHITE"] = {"people": 40, "convictions": 52, "with_relief": 3,
                                              "no_felony_left": 22, "no_conviction_left": 1, "convictions_relieved": 10}
    summary["breakdowns"]["gender"]["F"] = small
    summary["breakdowns"]["decade"]["2010s"] = {"people": 4, "convictions": 4, "convictions_relieved": 1}
    # as summary.py writes it: the publishable block already says "<11"; the raw block does not
    summary["publishable"] = {
        "note": "counts under 11 suppressed as \"<11\"",
        **{dim: {g: {k: (common.SUPPRESSED if 0 < v < 11 else v) for k, v in vals.items()} for g, vals in groups.items()}
           for dim, groups in summary["breakdowns"].items()}}
    lines = pdf_lines(outputs_impact_report.build_impact_report(summary, make_results(["dismiss"])))

    assert after(lines, "VC 11360", 1, start="Code section") == ["<11"]
    assert after(lines, "Infraction", 1, start="Level") == ["<11"]
    assert after(lines, "Not eligible", 1) == ["<11"]
    mine, theirs = after(lines, "People left with no conviction", 2)
    assert (mine, theirs) == ("<11", "15")
    assert after(lines, "Asian", 5, start="By race / ethnicity") == ["<11"] * 5
    white = after(lines, "White", 6, start="By race / ethnicity")
    assert white[:5] == ["40", "52", "<11", "22", "<11"]
    assert white[5] == "Asian"  # no rate cell: 7.5% of 40 would give the suppressed count away
    assert after(lines, "Female", 5, start="By gender") == ["<11"] * 5
    assert after(lines, "2010s", 3, start="By decade of conviction") == ["<11"] * 3
    assert any("not shown to protect privacy" in ln for ln in lines)  # the note under such tables
    # the charts label suppressed bars "<11" too, and draw no bar to measure
    for title, end in (("People: this policy compared with dismissing everything", "The data"),
                       ("People and people with some relief, by race / ethnicity", "By gender")):
        labels = lines[lines.index(title) + 1: lines.index(end)]
        assert "<11" in labels
        assert not [x for x in labels if re.fullmatch(r"[1-9]|10", x)], labels


def test_impact_report_suppresses_even_without_a_publishable_block():
    summary = report_summary()
    summary["breakdowns"]["race"]["ASIAN"] = {"people": 3, "convictions": 5, "with_relief": 2}
    summary["breakdowns"]["race"]["WHITE"] = {"people": 40, "convictions": 44, "with_relief": 3, "no_felony_left": 20,
                                              "no_conviction_left": 12}
    lines = pdf_lines(outputs_impact_report.build_impact_report(summary, make_results(["dismiss"])))
    assert after(lines, "Asian", 3, start="By race / ethnicity") == ["<11", "<11", "<11"]
    assert after(lines, "White", 6, start="By race / ethnicity") == ["40", "44", "<11", "20", "12", "Asian"]


def test_impact_report_computes_what_the_summary_lacks():
    """Old or partial summaries: counts and breakdowns come from the results frame."""
    outcomes = ["dismiss"] * 14 + ["reduce"] * 12 + ["review"] * 3
    results = make_results(outcomes)
    summary = {k: SUMMARY[k] for k in ("county", "as_of", "profile", "inputs")}
    fig = outputs_impact_report.impact_figures(summary, results)
    assert fig["total"] == 29 and fig["by_outcome"] == {"dismiss": 14, "reduce": 12, "review": 3}
    assert fig["people"]["with_conviction"] == results["subject_id"].n_unique() == 15
    assert fig["people"]["with_relief"] == 13  # 1013 and 1014 have only review outcomes
    assert fig["groups"]["race"] == {"HISPANIC": {"people": "15", "convictions": "29", "with_relief": "13",
                                                  "convictions_relieved": "26"}}
    assert fig["groups"]["gender"]["F"]["people"] == common.SUPPRESSED
    assert fig["first_conviction"] == date(1980, 3, 1)
    lines = pdf_lines(outputs_impact_report.build_impact_report(summary, results))
    assert after(lines, "Dismiss and seal", 1) == ["14"]
    assert after(lines, "Attorney review", 1) == ["<11"]
    assert lines[lines.index("people receiving some relief") - 1] == "13"


# ------------------------------------------------------------------- end to end (demo extract)


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    from clearrec_desktop.core import demo, pipeline

    d = tmp_path_factory.mktemp("e2e")
    demo.write_demo_extract(d / "extract.dat", 3000, "SACRAMENTO", 11)
    run = pipeline.run_screen([d / "extract.dat"], county="SACRAMENTO", as_of=date(2026, 11, 1))
    pipeline.write_outputs(run, d / "out")
    return d, run


def test_end_to_end_export_from_a_screening_folder(screened, tmp_path):
    from clearrec_desktop.core.ingest.doj import read_extract

    d, run = screened
    written = exports.export_from_dir(d / "out", xlsx=tmp_path / "r.xlsx", doj_results=tmp_path / "doj.csv",
                                      impact_report=tmp_path / "impact.pdf", inputs=[d / "extract.dat"])
    assert [p.name for p in written] == ["r.xlsx", "doj.csv", "impact.pdf"]

    wb = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    by_outcome = run.summary["convictions"]["by_outcome"]
    for outcome in common.OUTCOMES:
        assert wb[outcome].max_row - 1 == by_outcome.get(outcome, 0)
    for name, data in sheet_xml(tmp_path / "r.xlsx").items():
        assert re.search(rb"<f[\s>/]", data) is None

    doj = pl.read_csv(tmp_path / "doj.csv", infer_schema=False)
    raw = read_extract(d / "extract.dat").frame
    assert doj.height == run.summary["inputs"][0]["rows_imported"] == raw.height
    assert doj.width == 95 + len(common.DOJ_RESULT_COLUMNS)
    assert doj["PRI_SSN"].null_count() == doj.height
    same = [c for c in DOJ_COLUMNS if c not in ("PRI_SSN", "REQ_SSN")]
    assert doj.select(same).equals(raw.select(same))
    screened_rows = doj.filter(pl.col("CLEARREC_OUTCOME").is_not_null())
    assert screened_rows["CLEARREC_CONVICTION_ID"].n_unique() == run.results.height
    assert screened_rows.height >= run.results.height  # sentence parts repeat their count's result

    lines = pdf_lines((tmp_path / "impact.pdf").read_bytes())
    assert lines[lines.index("cannabis convictions screened") - 1] == outputs_impact_report.pub(run.summary["convictions"]["total"])
    assert lines[lines.index("people receiving some relief") - 1] == outputs_impact_report.pub(run.summary["people"]["with_relief"])
    for label, outcome in (("Dismiss and seal", "dismiss"), ("Reduce (redesignate)", "reduce")):
        assert after(lines, label, 1) == [outputs_impact_report.pub(by_outcome[outcome])]


def test_doj_export_finds_checks_or_refuses_the_input(screened, tmp_path):
    import shutil

    d, run = screened
    # as `clearrec export OUT --doj-results` does it: the extract is found beside the output folder
    out = exports.export_from_dir(d / "out", doj_results=tmp_path / "found.csv")[0]
    assert pl.read_csv(out, infer_schema=False).height == run.summary["inputs"][0]["rows_imported"]

    changed = tmp_path / "extract.dat"
    changed.write_bytes((d / "extract.dat").read_bytes() + b"\n")
    with pytest.raises(InputError, match="changed since the screening"):
        exports.export_from_dir(d / "out", doj_results=tmp_path / "doj.csv", inputs=[changed])
    moved = tmp_path / "moved" / "out"
    shutil.copytree(d / "out", moved)
    # the recorded path no longer exists either (the extract was moved away)
    moved_summary = json.loads((moved / "summary.json").read_text())
    for entry in moved_summary["inputs"]:
        entry["path"] = str(tmp_path / "gone" / entry["file"])
    (moved / "summary.json").write_text(json.dumps(moved_summary))
    with pytest.raises(InputError, match="cannot find this input"):
        exports.export_from_dir(moved, doj_results=tmp_path / "doj.csv")
    with pytest.raises(InputError, match="nothing to export"):
        exports.export_from_dir(d / "out")
    assert not (tmp_path / "doj.csv").exists()


def test_exports_module_imports_no_qt_and_no_network():
    trees = [ast.parse(f.read_text(encoding="utf-8")) for f in Path(exports.__file__).parent.glob("*.py")]
    names = {a.name.split(".")[0] for t in trees for n in ast.walk(t) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for t in trees for n in ast.walk(t) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"PySide6", "socket", "urllib", "http", "requests", "ftplib", "smtplib", "ssl"}
