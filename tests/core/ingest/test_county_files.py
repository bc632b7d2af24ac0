"""County case-management files imported through a column mapping (CSV and Excel)."""

from __future__ import annotations

import csv
import datetime as dt
import struct
import threading
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from builders import Person, write_extract
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearrec_desktop.core import pipeline
from clearrec_desktop.core.errors import Cancelled, InputError
from clearrec_desktop.core.ingest import (
    county_files,
    county_mapping,
    importer,
    report,
    spreadsheets,
)

RESOURCES = Path(__file__).resolve().parents[3] / "resources" / "mappings"
AS_OF = date(2026, 11, 1)
HEADERS = ["Case Number", "Defendant", "DOB", "CII", "Charge", "Level", "Disposition", "Disposition Date",
           "Sentence", "Court", "County"]
MAPPING = {"columns": {"court_case_number": "Case Number", "name": "Defendant", "dob": "DOB", "cii_number": "CII",
                       "code_section": "Charge", "level": "Level", "disposition": "Disposition",
                       "conviction_date": "Disposition Date", "sentence": "Sentence", "courthouse": "Court",
                       "county": "County"},
           "options": {}}


def row(case="CR-1", name="TESTER, PAT", dob="01/15/1960", cii="", charge="11359 HS", level="F", disp="Convicted",
        when="03/04/1995", sentence="90 DAYS JAIL", court="Dept 1", county="Sacramento"):
    return [case, name, dob, cii, charge, level, disp, when, sentence, court, county]


# Three charges of one case: a felony 11359, a misdemeanor 11357(b) and a dismissed burglary.
BASIC = [
    row(),
    row(charge="HS 11357(b)", level="MISD", disp="Guilty plea", sentence="FINE $100"),
    row(charge="PC 459", level="FEL", disp="Dismissed", sentence=""),
]


def write_csv(path: Path, rows, headers=HEADERS, encoding="utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(headers)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows, headers=HEADERS, *, title="Charges", before=None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in before or []:
        ws.append(r)
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def as_dates(rows):
    """The same rows with the date columns as Excel dates."""
    def conv(v):
        try:
            return dt.datetime.strptime(v, "%m/%d/%Y").date()
        except (TypeError, ValueError):
            return v
    return [[conv(v) if i in (2, 7) else v for i, v in enumerate(r)] for r in rows]


def screen(path, mapping=MAPPING, county="SACRAMENTO"):
    return pipeline.run_screen([path], county=county, as_of=AS_OF, mapping=mapping)


# --- round trips into the internal schema -------------------------------------------------------

def test_csv_import_gives_the_doj_schema(tmp_path):
    path = write_csv(tmp_path / "cms.csv", BASIC)
    rows, rep = importer.import_files([path], mapping=MAPPING)
    doj_rows, _ = importer.import_files([write_extract(tmp_path / "doj.csv", Person("1001").conviction(
        "19950304", "11359 HS-POSSESS FOR SALE"))])
    assert rows.schema == doj_rows.schema
    assert rows["convicted"].to_list() == [True, True, False]
    assert rows["code_section"].to_list() == ["HS 11359", "HS 11357(b)", "PC 459"]
    assert rows["level"].to_list() == ["F", "M", "F"]
    assert rows["conviction_date"].to_list() == [date(1995, 3, 4)] * 3
    assert rows["dob"].to_list() == [date(1960, 1, 15)] * 3
    assert rows["county"].to_list() == ["SACRAMENTO"] * 3
    assert rows["court_case_number"].to_list() == ["CR-1"] * 3
    assert rows["source_line"].to_list() == [2, 3, 4]
    assert rows["count_key"].to_list() == ["001001001000", "001001002000", "001001003000"]
    assert rows["cycle"].to_list() == ["001"] * 3 and rows["step_type"].to_list() == ["COURT ACTION"] * 3
    assert rows.select("sent_type", "sent_length", "sent_unit").rows()[:2] == [("JAIL", 90, "D"), ("FINE", None, None)]
    f = rep.files[0]
    assert (f.kind, f.lines_read, f.rows_imported, f.rejected, f.has_header, f.blank_lines) == ("mapped", 4, 3, [], True, 0)
    assert f.sha256 == report.file_sha256(path) and f.size == path.stat().st_size


def test_xlsx_import_matches_the_csv_import(tmp_path):
    csv_rows, _ = importer.import_files([write_csv(tmp_path / "cms.csv", BASIC)], mapping=MAPPING)
    xl_rows, rep = importer.import_files([write_xlsx(tmp_path / "cms.xlsx", as_dates(BASIC))], mapping=MAPPING)
    assert rep.files[0].kind == "mapped" and rep.files[0].rejected == []
    assert xl_rows.drop("source_file").equals(csv_rows.drop("source_file"))


def test_screening_of_mapped_files(tmp_path):
    rows = [row(), row(case="CR-2", charge="11357(b) HS", level="M", disp="Guilty", when="06/01/1999",
                       sentence="FINE $100")]
    for path in (write_csv(tmp_path / "s.csv", rows), write_xlsx(tmp_path / "s.xlsx", as_dates(rows))):
        run = screen(path)
        got = {r["code_section"]: (r["outcome"], r["relief"]) for r in run.results.iter_rows(named=True)}
        assert got == {"HS 11359": ("reduce", "reduce_to_misdemeanor"), "HS 11357(b)": ("dismiss", "dismiss_and_seal")}
        assert run.results["age_at_offence"].to_list() == [35, 39]


def test_example_mapping_in_resources_imports():
    run = screen(RESOURCES / "example-cms.csv", RESOURCES / "example-cms.toml")
    f = run.report.files[0]
    assert (f.rows_imported, f.rejected, f.lines_read) == (6, [], 7)
    convicted = run.rows.filter(pl.col("convicted"))["code_section"].to_list()
    assert convicted == ["HS 11359", "HS 11357(b)", "HS 11358", "HS 11360(a)"]  # not the dismissal, not "Plea of Not Guilty"
    got = {r["code_section"]: r["outcome"] for r in run.results.iter_rows(named=True)}
    assert got == {"HS 11359": "reduce", "HS 11357(b)": "dismiss", "HS 11358": "review", "HS 11360(a)": "reduce"}


# --- malformed input ----------------------------------------------------------------------------

def test_a_malformed_csv_line_is_rejected_alone(tmp_path):
    good = ",".join(['CR-{}', '"TESTER, PAT"', "01/15/1960", "", "11359 HS", "F", "Convicted", "03/04/1995",
                     "90 DAYS JAIL", "Dept 1", "Sacramento"])
    lines = [",".join(HEADERS),
             good.format(1),                                   # 2
             "CR-9,too,few,fields",                            # 3: rejected
             good.format(2),                                   # 4
             good.format(3).replace('"TESTER, PAT"', '"TESTER, PAT'),  # 5: unbalanced quote, rejected
             good.format(4),                                   # 6
             good.format(5).replace("90 DAYS JAIL", '"90 DAYS JAIL;\n3 YRS PROB"'),  # 7-8: one record
             "",                                               # 9: blank
             good.format(6),                                   # 10
             '"CR-7"x,' + good.format(7).split(",", 1)[1]]     # 11: text after a closing quote
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, rep = importer.import_files([path], mapping=MAPPING)
    f = rep.files[0]
    assert [(r["line"], r["reason"]) for r in f.rejected] == [
        (3, "has 4 fields, expected 11 like the header"),
        (5, "unbalanced double quote (bad quoting)"),
        (11, "text after a closing double quote (bad quoting)"),
    ]
    assert rows["source_line"].to_list() == [2, 4, 6, 7, 10]
    assert rows["court_case_number"].to_list() == ["CR-1", "CR-2", "CR-4", "CR-5", "CR-6"]
    multi = rows.filter(pl.col("court_case_number") == "CR-5")
    assert multi.select("sent_type", "sent_length", "sent_unit").row(0) == ("PROBATION", 3, "Y")
    assert (f.lines_read, f.blank_lines, f.rows_imported) == (11, 1, 5)


def test_missing_columns_are_named(tmp_path):
    path = write_csv(tmp_path / "cms.csv", BASIC)
    mapping = {"columns": {**MAPPING["columns"], "code_section": "Statute", "level": "Severity"}, "options": {}}
    with pytest.raises(InputError) as exc:
        importer.import_files([path], mapping=mapping)
    msg = str(exc.value)
    assert msg.startswith("cms.csv:") and "'Statute', 'Severity'" in msg and "'Charge'" in msg and "\n" not in msg


def test_a_file_without_header_never_echoes_its_data(tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text('CR-1,"SECRETNAME, PAT",01/15/1960,A1234567,11359 HS,F,Convicted,03/04/1995,,Dept 1,Sacramento\n')
    with pytest.raises(InputError) as exc:
        importer.import_files([path], mapping=MAPPING)
    msg = str(exc.value)
    assert "none of the mapped columns" in msg and "line 1" in msg
    for secret in ("SECRETNAME", "1960", "A1234567"):
        assert secret not in msg


@pytest.mark.parametrize("columns, options, needle", [
    ({"court_case_number": "Case Number", "name": "Defendant", "dob": "DOB", "county": "County"}, {},
     "required field(s) conviction_date, code_section"),
    ({"court_case_number": "Case Number", "code_section": "Charge", "conviction_date": "Disposition Date",
      "name": "Defendant", "county": "County"}, {}, "subject_id column, a cii_number column, or both name and dob"),
    ({"court_case_number": "Case Number", "code_section": "Charge", "conviction_date": "Disposition Date",
      "cii_number": "CII"}, {}, "no county column"),
])
def test_incomplete_mappings_are_refused(tmp_path, columns, options, needle):
    path = write_csv(tmp_path / "cms.csv", BASIC)
    with pytest.raises(InputError, match="cms.csv: .*" + needle.replace("(", r"\(").replace(")", r"\)")):
        county_files.import_mapped(path, {"columns": columns, "options": options})


def test_county_can_come_from_the_options(tmp_path):
    path = write_csv(tmp_path / "cms.csv", [r[:10] for r in BASIC], headers=HEADERS[:10])
    cols = {k: v for k, v in MAPPING["columns"].items() if k != "county"}
    rows, _ = county_files.import_mapped(path, {"columns": cols, "options": {"county": "sacramento county"}})
    assert rows["county"].to_list() == ["SACRAMENTO"] * 3


# --- Excel ---------------------------------------------------------------------------------------

def test_xlsx_formulas_are_not_evaluated_and_hidden_sheets_are_skipped(tmp_path):
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "Scratch"
    hidden.sheet_state = "hidden"
    hidden.append(HEADERS)
    hidden.append(row(case="HIDDEN-1"))
    ws = wb.create_sheet("Charges")
    ws.append(HEADERS)
    ws.append(row(case="CR-1", name="x"))
    ws.append(row(case="CR-2", when="x"))
    ws.append(row(case="CR-3"))
    text = ws["B2"]
    text.value = '=HYPERLINK("http://example.invalid/x","click")'
    text.data_type = "s"          # a text cell that starts with "="
    ws["H3"] = "=DATE(1995,3,4)"  # a real formula: openpyxl stores no cached value
    ws["A4"] = "=CONCATENATE(\"CR-\",\"3\")"
    path = tmp_path / "formulas.xlsx"
    wb.save(path)

    rows, rep = importer.import_files([path], mapping=MAPPING)
    # A formula with no saved value would read as an empty cell: its row stays out until the
    # workbook is saved by a spreadsheet program (issue 13.9).
    assert rows["court_case_number"].to_list() == ["CR-1"]
    assert rows["name"][0] == '=HYPERLINK("http://example.invalid/x","click")'
    reasons = {r["line"]: r["reason"] for r in rep.rejected}
    assert "cell H3 holds a formula with no saved value" in reasons[3]
    assert "cell A4 holds a formula with no saved value" in reasons[4]
    assert "hidden sheets ignored" in " ".join(rep.files[0].notes)

    named, rep = importer.import_files([path], mapping={**MAPPING, "options": {"sheet": "Scratch"}})
    assert named["court_case_number"].to_list() == ["HIDDEN-1"]


def test_excel_dates_numbers_and_text_all_read(tmp_path):
    values = [dt.date(1995, 3, 4), dt.datetime(1995, 3, 4, 0, 0), dt.datetime(1995, 3, 4, 14, 30), "03/04/1995",
              "1995-03-04", 19950304, 34762, "3/4/1995"]
    rows = [row(case=f"CR-{i}", when=v, dob=dt.date(1960, 1, 15) if i % 2 else "01/15/1960")
            for i, v in enumerate(values)]
    rows.append(row(case="CR-T", when=dt.time(13, 5)))   # a time is not a date
    rows.append(row(case="CR-U", when="sometime in 1995"))
    out, _ = importer.import_files([write_xlsx(tmp_path / "dates.xlsx", rows)], mapping=MAPPING)
    by_case = {r["court_case_number"]: r for r in out.iter_rows(named=True)}
    for i in range(len(values)):
        assert by_case[f"CR-{i}"]["conviction_date"] == date(1995, 3, 4), values[i]
        assert by_case[f"CR-{i}"]["dob"] == date(1960, 1, 15)
    for case in ("CR-T", "CR-U"):
        assert by_case[case]["conviction_date"] is None
        assert by_case[case]["conviction_date_quality"] == "invalid"


def test_xlsx_line_numbers_are_spreadsheet_rows(tmp_path):
    # data starting below empty rows: calamine skips them, the row numbers must not
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, value in enumerate(HEADERS, start=2):
        ws.cell(row=4, column=i, value=value)
    for r, values in ((5, row(case="CR-1")), (7, row(case="CR-2", name="", dob="", cii="")), (8, row(case="CR-3"))):
        for i, value in enumerate(values, start=2):
            ws.cell(row=r, column=i, value=value or None)
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    rows, rep = importer.import_files([path], mapping=MAPPING)
    assert rows["source_line"].to_list() == [5, 8]
    f = rep.files[0]
    assert [r["line"] for r in f.rejected] == [7]
    assert (f.blank_lines, f.lines_read) == (1, 8)

    # a title above the header: header_row says where the header is
    titled = write_xlsx(tmp_path / "titled.xlsx", [row(), [None] * 11, row(case="CR-2")],
                        before=[["County export"], [None]])
    rows, rep = county_files.import_mapped(titled, {**MAPPING, "options": {"header_row": 3}})
    assert rows["source_line"].to_list() == [4, 6] and rep.blank_lines == 1
    with pytest.raises(InputError, match="header row"):
        county_files.import_mapped(titled, {**MAPPING, "options": {"header_row": 2}})


def test_damaged_and_hostile_workbooks_give_one_line_errors(tmp_path, monkeypatch):
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    text = tmp_path / "text.xlsx"
    text.write_text("Case Number,Charge\nCR-1,11359\n")
    ole = tmp_path / "locked.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000)
    truncated = tmp_path / "truncated.xlsx"
    good = write_xlsx(tmp_path / "good.xlsx", BASIC).read_bytes()
    truncated.write_bytes(good[: len(good) // 2])
    for path, needle in ((garbage, "cannot be read"), (text, "cannot be read"), (ole, "password-protected"),
                         (truncated, "cannot be read")):
        with pytest.raises(InputError) as exc:
            importer.import_files([path], mapping=MAPPING)
        assert str(exc.value).startswith(path.name + ":") and needle in str(exc.value) and "\n" not in str(exc.value)

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (3 * 1024**2))
    monkeypatch.setattr(spreadsheets, "MAX_UNZIPPED_BYTES", 1024**2)
    with pytest.raises(InputError, match="bomb.xlsx: the workbook unpacks to more than"):
        importer.import_files([bomb], mapping=MAPPING)

    # a real workbook with an extra part that declares 1000 bytes and unpacks to 3 MB: caught
    # when unpacked (the CRC fails), before calamine is called
    liar = tmp_path / "liar.xlsx"
    with zipfile.ZipFile(tmp_path / "good.xlsx") as src, zipfile.ZipFile(liar, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/pad.bin", b"\x00" * (3 * 1024**2))   # first local header, first directory entry
        for info in src.infolist():
            z.writestr(info, src.read(info))
    data = bytearray(liar.read_bytes())
    struct.pack_into("<I", data, data.find(b"PK\x03\x04") + 22, 1000)
    struct.pack_into("<I", data, data.find(b"PK\x01\x02") + 24, 1000)
    liar.write_bytes(bytes(data))
    with zipfile.ZipFile(liar) as z:
        assert z.getinfo("xl/media/pad.bin").file_size == 1000
    calls = []
    monkeypatch.setattr(pl, "read_excel", lambda *a, **k: calls.append(a))
    with pytest.raises(InputError, match="liar.xlsx: cannot be read as a .xlsx workbook"):
        importer.import_files([liar], mapping=MAPPING)
    assert calls == []
    monkeypatch.undo()

    monkeypatch.setattr(county_files, "MAX_SPREADSHEET_BYTES", 1000)
    with pytest.raises(InputError, match="good.xlsx: .* MB is larger than"):
        county_files.import_mapped(tmp_path / "good.xlsx", MAPPING)


# --- values --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, fmt, expected", [
    ("19950304", None, "19950304"), ("1995-03-04", None, "19950304"), ("03/04/1995", None, "19950304"),
    ("3/4/1995", None, "19950304"), ("03-04-1995", None, "19950304"), ("1995-03-04 00:00:00", None, "19950304"),
    (" 03/04/1995 ", None, "19950304"),
    ("02/30/1995", None, "02/30/1995"), ("3/4/95", None, "3/4/95"), ("unknown", None, "unknown"),
    ("1995", None, "1995"), ("18000101", None, "18000101"),
    ("04.03.1995", "DD.MM.YYYY", "19950304"), ("04/03/1995", "%d/%m/%Y", "19950304"),
    ("1995-03-04", "DD.MM.YYYY", "19950304"),   # ISO is never ambiguous
    ("03/04/1995", "DD.MM.YYYY", "03/04/1995"),  # the format given is the format used
])
def test_parse_date(text, fmt, expected):
    assert county_files.parse_date(text, fmt) == expected


def test_excel_serials_only_in_spreadsheets():
    assert county_files.parse_date("34762", spreadsheet=True) == "19950304"
    assert county_files.parse_date("34762") == "34762"
    assert county_files.parse_date("5", spreadsheet=True) == "5"                       # not a plausible date
    assert county_files.parse_date("1899-12-31 13:05:00", spreadsheet=True) == "1899-12-31 13:05:00"


@pytest.mark.parametrize("text, expected", [
    ("90 DAYS JAIL; 3 YRS PROBATION", ("3", "Y", "PROBATION")),
    ("36 MONTHS PROB", ("36", "M", "PROBATION")),
    ("FINE $100", (None, None, "FINE")),
    ("fine $1,000 and 180 days county jail", ("180", "D", "JAIL")),
    ("16 MOS PRISON", ("16", "M", "PRISON")),
    ("2Y CDCR", ("2", "Y", "PRISON")),
    ("PROBATION 1.5 YEARS", ("18", "M", "PROBATION")),
    ("2 WKS JAIL", ("14", "D", "JAIL")),
    ("CREDIT FOR TIME SERVED", (None, None, "CREDIT TIME SERVED")),
    ("2 YRS PRISON SUSPENDED; 3 YRS PROB", ("3", "Y", "PROBATION")),
    ("PROBATION", (None, None, None)),                  # no length: unknown
    ("3 YEARS", (None, None, None)),                    # no kind: unknown
    ("90 DAYS JAIL; DIVERSION", (None, None, None)),    # a part not understood: unknown
    ("1 YR 6 MOS PRISON", (None, None, None)),
    ("", (None, None, None)), (None, (None, None, None)),
])
def test_parse_sentence(text, expected):
    assert county_files.parse_sentence(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("F", "FELONY"), ("fel", "FELONY"), ("Felony", "FELONY"), ("M", "MISDEMEANOR"), ("Misd.", "MISDEMEANOR"),
    ("MISDEMEANOR", "MISDEMEANOR"), ("I", "INFRACTION"), ("inf", "INFRACTION"), ("INFRACTION", "INFRACTION"),
    ("WOBBLER", None), ("FELONY REDUCED TO MISD", None), ("", None), (None, None),
])
def test_parse_level(text, expected):
    assert county_files.parse_level(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Convicted", "CONVICTED-Convicted"), ("guilty plea", "CONVICTED-guilty plea"),
    ("Pled Guilty", "CONVICTED-Pled Guilty"), ("Nolo Contendere", "CONVICTED-Nolo Contendere"),
    ("Plea of Not Guilty", "Plea of Not Guilty"), ("Conviction vacated", "Conviction vacated"),
    ("CONVICTED - REVERSED ON APPEAL", "NOT COUNTED AS A CONVICTION: CONVICTED - REVERSED ON APPEAL"),
    ("Dismissed", "Dismissed"), ("Acquitted", "Acquitted"),
])
def test_disposition_text(text, expected):
    assert county_files.disposition_text(text) == expected


def test_dispositions_follow_the_options(tmp_path):
    rows = [row(case="CR-1", disp="Sentenced"), row(case="CR-2", disp="Convicted"), row(case="CR-3", disp="")]
    path = write_csv(tmp_path / "d.csv", rows)
    out, rep = county_files.import_mapped(path, {**MAPPING, "options": {"convicted": ["SENTENCED"]}})
    assert out["convicted"].to_list() == [True, False, False]
    assert "1 row(s) have no disposition and were not treated as convictions" in rep.notes

    no_disp = {"columns": {k: v for k, v in MAPPING["columns"].items() if k != "disposition"}, "options": {}}
    out, rep = county_files.import_mapped(path, no_disp)
    assert out["convicted"].to_list() == [True, True, True]
    assert "no disposition column is mapped: every row is treated as a conviction" in rep.notes


def test_unknown_or_missing_dates_go_to_review(tmp_path):
    rows = [row(case="CR-1", when="unknown"), row(case="CR-2", when=""), row(case="CR-3", when="3/4/95"),
            row(case="CR-4", dob="not known", charge="11357(b)", level="M")]
    run = screen(write_csv(tmp_path / "u.csv", rows))
    res = {r["court_case_number"]: r for r in run.results.iter_rows(named=True)}
    for case in ("CR-1", "CR-2", "CR-3"):
        assert res[case]["outcome"] == "review" and "date_unknown" in res[case]["flags"]
    assert res["CR-4"]["outcome"] == "review" and "age_unknown" in res["CR-4"]["flags"]
    assert any("conviction date that could not be read" in n for n in run.report.files[0].notes)


# --- people, cases and counts --------------------------------------------------------------------

def test_person_ids_cycles_and_counts(tmp_path):
    rows = [  # the later case has the smaller number: cycles follow dates, not case numbers
        row(case="A-2", name="Tester, Pat", when="06/01/2001", charge="11360 HS"),
        row(case="B-1", name="TESTER,PAT", when="03/04/1995", charge="11359 HS"),
        row(case="B-1", name="TESTER, PAT", when="03/04/1995", charge="11357(b) HS", level="M"),
        row(case="C-3", name="ROE, RAY", cii="A7654321", dob="02/02/1970"),
        row(case="D-4", name="", dob="", cii=""),
        row(case="E-5", name="NODOB, SAM", dob="", cii=""),
    ]
    out, rep = county_files.import_mapped(write_csv(tmp_path / "p.csv", rows), MAPPING)
    pat = county_files.person_key("TESTER, PAT", "19600115")
    assert pat.startswith("N") and len(pat) == 16
    assert out["subject_id"].to_list() == [pat, pat, pat, "CA7654321"]
    keys = dict(zip(out["court_case_number"] + "/" + out["code_section"], out["count_key"]))
    # cycle = the person's cases by date; count = the charges of the case in a fixed order
    assert keys == {"A-2/HS 11360": "002001001000", "B-1/HS 11359": "001001002000",
                    "B-1/HS 11357(b)": "001001001000", "C-3/HS 11359": "001001001000"}
    assert out["cycle"].to_list() == ["002", "001", "001", "001"]
    reason = "no subject id, CII number, or name with date of birth to tell whose record it is"
    assert rep.rejected == [{"file": "p.csv", "line": 6, "reason": reason}, {"file": "p.csv", "line": 7, "reason": reason}]


def test_subject_id_column_wins(tmp_path):
    headers = ["Person", *HEADERS]
    rows = [["P-77", *row(cii="A1")], ["", *row(cii="A1")]]
    mapping = {"columns": {**MAPPING["columns"], "subject_id": "Person"}, "options": {}}
    out, _ = county_files.import_mapped(write_csv(tmp_path / "s.csv", rows, headers=headers), mapping)
    assert out["subject_id"].to_list() == ["P-77", "CA1"]


SHUFFLE_ROWS = [
    row(case="A-1", charge="11359 HS", sentence="90 DAYS JAIL"),
    row(case="A-1", charge="11359 HS", sentence="90 DAYS JAIL"),          # an exact duplicate
    row(case="A-1", charge="11357(b) HS", level="M", sentence="FINE $50"),
    row(case="B-2", when="06/01/2001", charge="11360 HS"),
    row(case="B-2", when="06/01/2001", charge="PC 459", disp="Dismissed"),
    row(case="C-3", name="ROE, RAY", dob="02/02/1970", when="01/01/2000", charge="11358 HS"),
    row(case="", name="ROE, RAY", dob="02/02/1970", when="05/05/1990", charge="11357 HS", level="M"),
    row(case="D-4", name="ROE, RAY", dob="02/02/1970", when="unknown", charge="11359 HS"),
]


def _stable(frame: pl.DataFrame) -> pl.DataFrame:
    drop = [c for c in ("source_line", "evidence", "source_file") if c in frame.columns]
    return frame.drop(drop).sort(pl.all(), nulls_last=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(SHUFFLE_ROWS))))
def test_row_order_does_not_change_results(tmp_path, order):
    base = screen(write_csv(tmp_path / "base.csv", SHUFFLE_ROWS))
    shuffled = screen(write_csv(tmp_path / "shuffled.csv", [SHUFFLE_ROWS[i] for i in order]))
    assert _stable(shuffled.results).equals(_stable(base.results))
    assert _stable(shuffled.rows.collect()).equals(_stable(base.rows.collect()))
    assert base.results.height == 7


# --- mappings --------------------------------------------------------------------------------------

def test_guess_mapping():
    headers = ["Court Case #", "Defendant Name", "Birth Date", "CII No", "Charge", "Charge Level", "Disposition",
               "Disposition Date", "Sentence", "Courthouse", "County", "Race", "Sex", "Offense Date", "Notes"]
    assert county_mapping.guess_mapping(headers) == {
        "name": "Defendant Name", "dob": "Birth Date", "cii_number": "CII No", "court_case_number": "Court Case #",
        "courthouse": "Courthouse", "county": "County", "conviction_date": "Disposition Date",
        "code_section": "Charge", "level": "Charge Level", "disposition": "Disposition", "sentence": "Sentence",
        "race": "Race", "gender": "Sex"}
    assert county_mapping.guess_mapping(["case_no", "DOB", "Statute", "dispo_dt", "F/M", "Subject ID"]) == {
        "subject_id": "Subject ID", "dob": "DOB", "court_case_number": "case_no", "conviction_date": "dispo_dt",
        "code_section": "Statute", "level": "F/M"}
    # an offence *date* is not the charge, and not the conviction date either
    assert county_mapping.guess_mapping(["Notes", "Offense Date", ""]) == {}


def test_save_and_load_mapping_round_trip(tmp_path):
    m = county_mapping.Mapping(columns={"court_case_number": 'Case "No."', "name": "Défendant\tName", "code_section": "Charge",
                            "conviction_date": "Date\\Convicted"},
                   options={"date_format": "MM/DD/YYYY", "county": "Sacramento", "sheet": "Charges", "header_row": 3,
                            "convicted": ["CONVICTED", "GUILTY"], "delimiter": "\t"})
    path = tmp_path / "m.toml"
    county_mapping.save_mapping(m, path)
    assert county_mapping.load_mapping(path) == m
    assert county_mapping.load_mapping(m.to_dict()) == m
    flat = county_mapping.load_mapping({"court_case_number": "Case", "code_section": "Charge"})  # the GUI dialog's shape
    assert flat == county_mapping.Mapping({"court_case_number": "Case", "code_section": "Charge"}, {})


def test_bad_mapping_files_are_named(tmp_path):
    path = tmp_path / "county.toml"
    path.write_text('[columns]\ncourt_case_number = "Case"\nstatute = "Charge"\ncharge_lvl = "Lvl"\n')
    with pytest.raises(InputError, match=r"county.toml: unknown field\(s\) statute, charge_lvl"):
        county_mapping.load_mapping(path)
    path.write_text('[columns]\ncourt_case_number = "Case"\n[options]\ndate_fmt = "x"\n')
    with pytest.raises(InputError, match=r"county.toml: unknown option\(s\) date_fmt"):
        county_mapping.load_mapping(path)
    path.write_text('[columns\n')
    with pytest.raises(InputError, match="county.toml: not a valid mapping file"):
        county_mapping.load_mapping(path)
    with pytest.raises(InputError, match="header_row must be a row number"):
        county_mapping.load_mapping({"columns": {}, "options": {"header_row": 0}})
    with pytest.raises(InputError, match="unknown field"):
        importer.import_files([write_csv(tmp_path / "c.csv", BASIC)], mapping={"charge": "Charge"})


def test_mapping_fields_for_the_gui():
    fields = county_mapping.mapping_fields()
    assert [f for f, _, _ in fields] == list(county_mapping.FIELDS)
    assert {f for f, _, required in fields if required} == set(county_mapping.REQUIRED)


# --- text encodings, delimiters, preview, cancel --------------------------------------------------------

def test_cp1252_bom_and_delimiters(tmp_path):
    latin = write_csv(tmp_path / "latin.csv", [row(name="MUÑOZ, JOSÉ")], encoding="cp1252")
    out, rep = county_files.import_mapped(latin, MAPPING)
    assert out["name"].to_list() == ["MUÑOZ, JOSÉ"]
    assert any("cp1252" in n for n in rep.notes)

    bom = write_csv(tmp_path / "bom.csv", [row()], encoding="utf-8-sig")
    out, rep = county_files.import_mapped(bom, MAPPING)
    assert out.height == 1 and not any("cp1252" in n for n in rep.notes)

    tsv = tmp_path / "tabs.txt"
    tsv.write_text("\t".join(HEADERS) + "\n" + "\t".join(row()) + "\n", encoding="utf-8")
    out, _ = county_files.import_mapped(tsv, MAPPING)
    assert out["code_section"].to_list() == ["HS 11359"]


def test_a_spreadsheet_named_csv_is_refused(tmp_path):
    fake = tmp_path / "really.csv"
    fake.write_bytes(write_xlsx(tmp_path / "x.xlsx", BASIC).read_bytes())
    with pytest.raises(InputError, match="really.csv: this is a spreadsheet"):
        county_files.import_mapped(fake, MAPPING)


def test_preview(tmp_path):
    path = write_csv(tmp_path / "p.csv", [row(case=f"CR-{i}") for i in range(30)])
    header, rows = county_files.preview(path, n=5)
    assert header == HEADERS and len(rows) == 5 and rows[0][0] == "CR-0"
    header, rows = county_files.preview(write_xlsx(tmp_path / "p.xlsx", as_dates(BASIC)), n=20)
    assert header == HEADERS and len(rows) == 3
    assert rows[0][7] == "1995-03-04" and rows[2][4] == "PC 459"


def test_cancel(tmp_path):
    path = write_csv(tmp_path / "c.csv", BASIC)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        county_files.import_mapped(path, MAPPING, cancel=cancel)


def test_100k_rows_import_quickly(tmp_path):
    import time

    rows = [row(case=f"CR-{i // 3}", name=f"PERSON{i // 7}, TEST", charge=("11359 HS", "PC 459", "11357(b)")[i % 3])
            for i in range(100_000)]
    path = write_csv(tmp_path / "big.csv", rows)
    start = time.perf_counter()
    out, rep = county_files.import_mapped(path, MAPPING)
    elapsed = time.perf_counter() - start
    assert out.height == 100_000 and rep.rejected == []
    assert elapsed < 10, elapsed  # about 1.5 s on a 2-core machine; generous for loaded CI runners
