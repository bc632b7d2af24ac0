"""The DOJ importer: file shapes, malformed lines, and every data-quality trap."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from builders import Person, extract_text, write_extract

from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.ingest import doj
from clearrec_desktop.core.ingest import importer as ingest_importer

# the ten-row sample of the reference (doj-extract.md), copied into the repository
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "doj-extract-sample.csv"


def _import(path):
    return ingest_importer.import_files([path])


def _conv(rows):
    return rows.filter(pl.col("convicted"))


@pytest.fixture
def two_people(tmp_path):
    a = Person("1001", "DOE,JANE", "19700101").conviction("19900101", "11359 HS-POSSESS FOR SALE",
                                                          sentences=(("JAIL", "90", "D"), ("PROBATION", "3", "Y")))
    b = Person("1002", "ROE,RICK", "19650505").conviction("19950303", "11357(B) HS-POSSESS", level="MISDEMEANOR")
    return a, b


def test_reference_sample_imports(tmp_path):
    rows, rep = _import(SAMPLE)
    assert rows.height == 10 and rep.rejected == []
    conv = _conv(rows).unique(["subject_id", "count_key"])
    assert set(conv["code_section"]) == {"HS 11359", "HS 11358", "HS 11357(b)"}
    roe = conv.filter(pl.col("code_section") == "HS 11358")
    assert roe["q_charge_from_comment"].to_list() == [True]
    assert rep.counties == {"SAN JOAQUIN": 2, "ALAMEDA": 1}


@pytest.mark.parametrize("variant", ["plain", "no_header", "trailing_comma", "bom", "crlf"])
def test_file_shapes_give_the_same_rows(tmp_path, two_people, variant):
    text = extract_text(two_people[0].rows + two_people[1].rows, header=variant != "no_header")
    if variant == "trailing_comma":
        head, rest = text.split("\n", 1)
        text = head + ",\n" + rest
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if variant == "bom":
        data = b"\xef\xbb\xbf" + data
    p = tmp_path / "x.dat"
    p.write_bytes(data)
    rows, rep = _import(p)
    assert rep.rejected == []
    assert rows.height == 5
    first = 1 if variant == "no_header" else 2
    assert rows["source_line"].to_list() == list(range(first, first + 5))
    assert rows["subject_id"].to_list() == ["1001"] * 3 + ["1002"] * 2


def test_padding_and_null_placeholders(tmp_path):
    p = Person("1001", "DOE,JANE", "19700101").conviction("19900101", "11359 HS-SALE", ofn="NULL  ")
    for r in p.rows:
        r["CNT_ORDER"] = r["CNT_ORDER"] + "   "
        r["STP_ORI_CNTY_NAME"] = " Sacramento  "
    rows, rep = _import(write_extract(tmp_path / "x.csv", p))
    conv = _conv(rows)
    assert conv["court_case_number"].to_list() == [None]
    assert conv["count_key"].to_list() == ["001002001000"]
    assert conv["county"].to_list() == ["SACRAMENTO"]
    assert rep.warnings["q_padded"] >= 2 and rep.warnings["q_null_placeholder"] >= 1
    assert rep.warnings["q_county_variant"] == 2
    assert rep.warnings["q_no_case_number"] == 1


def test_malformed_lines_rejected_alone_with_line_numbers(tmp_path, two_people):
    text = extract_text(two_people[0].rows + two_people[1].rows)
    lines = text.splitlines()
    lines[2] = lines[2] + ",EXTRA"                      # 96 fields -> line 3
    lines[3] = lines[3].replace('"DOE,JANE"', '"DOE,JANE')  # stray quote -> line 4
    lines[4] = ",".join(lines[4].split(",")[:-1])      # 94 fields -> line 5
    p = tmp_path / "bad.csv"
    p.write_text("\n".join(lines) + "\n")
    rows, rep = _import(p)
    rejected = {r["line"]: r["reason"] for r in rep.rejected}
    assert rejected == {3: "has 96 fields, expected 95", 4: "stray or unbalanced double quote (bad quoting)",
                        5: "has 94 fields, expected 95"}
    assert rows["source_line"].to_list() == [2, 6]
    assert rep.files[0].lines_read == 6 and rep.files[0].rows_imported == 2


def test_quoted_line_break_is_kept_as_one_record(tmp_path, two_people):
    rows_ = two_people[0].rows + two_people[1].rows
    rows_[1]["COMMENT_TEXT"] = "FIRST PART\nSECOND PART"
    p = tmp_path / "nl.csv"
    p.write_text(extract_text(rows_))
    rows, rep = _import(p)
    assert rep.rejected == []
    assert rows.height == 5
    assert rows["source_line"].to_list() == [2, 3, 5, 6, 7]
    assert rows.filter(pl.col("source_line") == 3)["comment"].to_list() == ["FIRST PART\nSECOND PART"]


def test_not_an_extract_is_refused_whole(tmp_path, two_people):
    text = extract_text(two_people[0].rows, header=False)
    short = "\n".join(",".join(line.split(",")[:-1]) for line in text.splitlines()) + "\n"
    p = tmp_path / "short.csv"
    p.write_text(short)
    with pytest.raises(InputError) as e:
        _import(p)
    msg = str(e.value)
    assert "short.csv" in msg and "not a DOJ extract" in msg and "95" in msg
    assert "DOE" not in msg


def test_wrong_header_names_missing_columns(tmp_path):
    p = tmp_path / "cms.csv"
    p.write_text("CASE,NAME,DOB,CHARGE\n1,\"A,B\",19700101,11359\n")
    with pytest.raises(InputError) as e:
        _import(p)
    assert "not a DOJ extract" in str(e.value) and "RECORD_ID" in str(e.value)


@pytest.mark.parametrize("bad", ["http://example.org/x.csv", "https://h/x", "file:///etc/passwd", "s3://b/k", "\\\\server\\share\\x.csv"])
def test_urls_and_shares_refused_before_any_library(bad):
    with pytest.raises(InputError):
        ingest_importer.import_files([bad])


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        ingest_importer.import_files([tmp_path / "nope.csv"])
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        ingest_importer.import_files([tmp_path / "empty.csv"])


@pytest.mark.parametrize("text,canonical,qualifier,num", [
    ("11357(A)", "HS 11357(a)", None, "11357"),
    ("11357(a) HS-POSSESS", "HS 11357(a)", None, "11357"),
    ("HS 11357", "HS 11357", None, "11357"),
    ("11357 HS", "HS 11357", None, "11357"),
    ("11357HS", "HS 11357", None, "11357"),
    ("11357(C)HS-POSSESS MARIJUANA", "HS 11357(c)", None, "11357"),
    (" 11357 (c)  HS", "HS 11357(c)", None, "11357"),
    ("664/11359 HS-ATT", "HS 11359", "attempt", "11359"),
    ("664-11357(C)", "HS 11357(c)", "attempt", "11357"),
    ("664.11360", "HS 11360", "attempt", "11360"),
    ("182(A)(1) PC/11360 HS", "HS 11360", "conspiracy", "11360"),
    ("11357.5 HS-SYNTH", "HS 11357.5", None, "11357.5"),
    ("11360.5 HS", "HS 11360.5", None, "11360.5"),
    ("211360", "211360", None, "211360"),
    ("11360 PC", "PC 11360", None, "11360"),
    ("288A PC-ORAL COP", "PC 288a", None, "288a"),
])
def test_code_section_normalisation(tmp_path, text, canonical, qualifier, num):
    p = Person("1", "A,B").conviction("19900101", text)
    rows, _ = _import(write_extract(tmp_path / "x.csv", p))
    c = _conv(rows).row(0, named=True)
    assert (c["code_section"], c["qualifier"], c["section_num"]) == (canonical, qualifier, num)
    assert c["code_section_original"] == text.split("-")[0].strip() if "-" in text and not text.startswith("664-") else True


def test_lookalike_and_wrong_code_are_flagged(tmp_path):
    p = (Person("1", "A,B").conviction("19900101", "11357.5 HS-SYNTHETIC")
         .conviction("19910101", "211360 HS").conviction("19920101", "11360 PC"))
    rows, rep = _import(write_extract(tmp_path / "x.csv", p))
    conv = _conv(rows)
    assert conv["q_lookalike"].to_list() == [True, True, False]
    assert conv["q_wrong_code"].to_list() == [False, False, True]


def test_charge_from_comment_and_other_cannabis_in_comment(tmp_path):
    p = (Person("1", "A,B").conviction("19900101", "SEE COMMENT FOR CHARGE", comment=":CHRG 11358 HS")
         .conviction("19910101", "", comment="CHRG 11359 HS")
         .conviction("19920101", "11357(B) HS-POSSESS", comment="ORIG CHRG 11359 HS"))
    rows, rep = _import(write_extract(tmp_path / "x.csv", p))
    conv = _conv(rows)
    assert conv["code_section"].to_list() == ["HS 11358", "HS 11359", "HS 11357(b)"]
    assert conv["q_charge_from_comment"].to_list() == [True, True, False]
    assert conv["q_other_cannabis_in_comment"].to_list() == [False, False, True]


@pytest.mark.parametrize("date,quality", [
    ("19900615", "full"), ("19800000", "partial"), ("198006", "partial"), ("", "unknown"),
    ("ABCDEFGH", "invalid"), ("19901345", "invalid"), ("NULL", "unknown"),
])
def test_conviction_date_quality(tmp_path, date, quality):
    p = Person("1", "A,B", dob="19500101").conviction(date, "11359 HS")
    rows, _ = _import(write_extract(tmp_path / "x.csv", p))
    c = _conv(rows).row(0, named=True)
    assert c["conviction_date_quality"] == quality
    assert (c["conviction_date"] is not None) == (quality == "full")


def test_dob_after_conviction_is_impossible(tmp_path):
    p = Person("1", "A,B", dob="19950101").conviction("19900101", "11359 HS")
    rows, rep = _import(write_extract(tmp_path / "x.csv", p))
    assert _conv(rows)["conviction_date_quality"].to_list() == ["impossible"]
    assert rep.warnings["q_dob_after_conviction"] == 1


def test_level_falls_back_to_type_of_charge(tmp_path):
    p = Person("1", "A,B").conviction("19900101", "11359 HS", level="", toc="F").conviction("19910101", "11357 HS", level="", toc="")
    rows, rep = _import(write_extract(tmp_path / "x.csv", p))
    assert _conv(rows)["level"].to_list() == ["F", None]
    assert rep.warnings["q_level_from_toc"] == 1


def test_possible_duplicate_people_are_flagged_never_merged(tmp_path):
    a = Person("1", "DOE, JANE", "19700101").conviction("19900101", "11359 HS")
    b = Person("2", "DOE,JANE", "19700101").conviction("19910101", "11358 HS")
    c = Person("3", "DOE,JANE", "19700102").conviction("19910101", "11358 HS")
    rows, rep = _import(write_extract(tmp_path / "x.csv", a, b, c))
    flagged = rows.group_by("subject_id").agg(pl.col("q_possible_duplicate_person").any()).sort("subject_id")
    assert flagged.rows() == [("1", True), ("2", True), ("3", False)]
    assert rows["subject_id"].n_unique() == 3


def test_not_convictions(tmp_path):
    p = (Person("1", "A,B").dismissed("19900101", "11359 HS")
         .conviction("19910101", "11359 HS", disp="PROS REJ-INSUFF EVID", sentences=None))
    rows, _ = _import(write_extract(tmp_path / "x.csv", p))
    assert _conv(rows).height == 0


def test_import_report_counts_counties_and_warnings(tmp_path):
    a = Person("1", "A,B").conviction("19900101", "11359 HS", county="SACRAMENTO").conviction("19910101", "11359 HS", county="Yolo ")
    rows, rep = _import(write_extract(tmp_path / "x.csv", a))
    assert rep.counties == {"SACRAMENTO": 1, "YOLO": 1}
    text = rep.to_text()
    assert "x.csv" in text and "Convictions per county" in text and "YOLO: 1" in text


def test_reader_keeps_raw_columns_when_asked(tmp_path, two_people):
    p = write_extract(tmp_path / "x.csv", *two_people)
    res = doj.read_extract(p)
    assert res.frame.columns[:95] == doj.DOJ_COLUMNS and res.frame.height == 5


# --- issue 13 point 3: a line break inside a quoted name ------------------------------------------

def _person_with_name_break(subject: str, name: str, cycles: int) -> Person:
    """A person whose name (in both name columns, as DOJ files carry it) holds a line break."""
    p = Person(subject, name, "19700101")
    p.base["REQ_NAME"] = name
    for c in range(cycles):
        p.conviction(f"{1990 + c}0101", "11359 HS-POSSESS FOR SALE", counts=2,
                     sentences=(("JAIL", "90", "D"), ("PROBATION", "3", "Y")))
    return p


def test_a_line_break_inside_a_quoted_name_loses_no_line(tmp_path):
    """Issue 13.3: the attack that lost a person's 48 following lines as "stray or unbalanced
    double quote". Every row of the person spans three physical lines (two name columns, one
    line break each); all of them are one record each, and the neighbours are untouched."""
    before = Person("2001", "ALPHA,ANN", "19600101").conviction("19900101", "11357(B) HS-POSSESS", level="MISDEMEANOR")
    broken = _person_with_name_break("2002", "NUNEZ,\nJOSE", 8)   # 8 cycles x 6 rows = 48 rows
    after = Person("2003", "OMEGA,OZ", "19610101").conviction("19910101", "11357(B) HS-POSSESS", level="MISDEMEANOR")
    path = write_extract(tmp_path / "nl.csv", before, broken, after)
    assert len(broken.rows) == 48
    rows, rep = _import(path)
    assert rep.rejected == []
    assert rows.height == len(before.rows) + 48 + len(after.rows)
    assert set(rows.filter(pl.col("subject_id") == "2002")["name"].to_list()) == {"NUNEZ,\nJOSE"}
    # each record is numbered by its first physical line; the lines after it keep their numbers
    lines = path.read_text().split("\n")
    assert rows.filter(pl.col("subject_id") == "2003")["source_line"].to_list() == [
        i for i, line in enumerate(lines, 1) if line.startswith("x,x,2003,")]
    from clearrec_desktop.core.screen import profiles, screening
    from datetime import date
    res = screening.screen(rows, county="SACRAMENTO", as_of=date(2026, 11, 1), profile=profiles.load_profile())
    assert res.filter(pl.col("subject_id") == "2002").height == 16  # every count screened


def test_a_bad_line_is_rejected_alone_never_its_neighbours(tmp_path, two_people):
    """An open quote that never closes is rejected on its own line; the lines after it (even
    300 of them, longer than any record may span) are read as the records they are."""
    many = Person("3001", "MANY,MO", "19600101")
    for c in range(60):
        many.conviction(f"{1980 + c % 30}0101", "11357(B) HS-POSSESS", level="MISDEMEANOR", counts=2)
    text = extract_text(two_people[0].rows + many.rows)
    lines = text.split("\n")
    lines[2] = lines[2].replace('"DOE,JANE"', '"DOE,JANE')          # opens a quote on line 3
    p = tmp_path / "open.csv"
    p.write_text("\n".join(lines))
    rows, rep = _import(p)
    assert [(r["line"], r["reason"]) for r in rep.rejected] == [(3, "stray or unbalanced double quote (bad quoting)")]
    assert rows.height == len(two_people[0].rows) + len(many.rows) - 1


@pytest.mark.parametrize("block", [300, 2_000, 9_000])
def test_records_spanning_lines_and_blocks_read_the_same(tmp_path, monkeypatch, block):
    """Small read blocks cut records, multi-line records and bad lines at every place; the rows,
    numbers and rejections are those of one block."""
    people = [_person_with_name_break(str(4000 + i), f"LINE,\nBREAK {i}", 2) for i in range(3)]
    plain = [Person(str(5000 + i), f"PLAIN,P{i}", "19700101").conviction("19900101", "11358 HS-CULTIVATE")
             for i in range(3)]
    rows_ = [r for p in people + plain for r in p.rows]
    rows_[5]["COMMENT_TEXT"] = "A\n\nB, with a \"quote\"\nC"   # four lines, one of them blank
    text = extract_text(rows_)
    lines = text.rstrip("\n").split("\n")
    bad = next(i for i, line in enumerate(lines) if line.startswith("x,x,5001,"))
    lines[bad] = lines[bad] + ",EXTRA"
    p = tmp_path / "span.csv"
    p.write_text("\r\n".join(lines) + "\r\n")          # CRLF line ends too
    whole = doj.read_extract(p, columns=doj.USED_COLUMNS)
    monkeypatch.setattr(doj, "BLOCK_BYTES", block)
    cut = doj.read_extract(p, columns=doj.USED_COLUMNS)
    assert cut.frame.equals(whole.frame)
    assert cut.rejected == whole.rejected and [r.line for r in whole.rejected] == [bad + 1]
    assert whole.frame.height == len(rows_) - 1
    assert cut.lines_read == whole.lines_read == len(lines)


# --- issue 13 point 7: a Windows-1252 extract -----------------------------------------------------

def test_cp1252_extract_is_read_as_cp1252_and_said_so(tmp_path):
    """Issue 13.7: NUÑEZ JOSÉ in a file saved as Windows-1252 came out as NU�EZ JOS�."""
    p = Person("6001", "NUÑEZ,JOSÉ", "19700101").conviction("19900101", "11357(B) HS-POSSESS", level="MISDEMEANOR")
    q = Person("6002", "PLAIN,ANA", "19700101").conviction("19900101", "11358 HS-CULTIVATE")
    path = tmp_path / "cp1252.csv"
    path.write_bytes(extract_text(q.rows + p.rows).encode("cp1252"))
    rows, rep = _import(path)
    assert set(rows.filter(pl.col("subject_id") == "6001")["name"].to_list()) == {"NUÑEZ,JOSÉ"}
    note = "the file is not UTF-8; it was read as Windows-1252 (cp1252) text"
    assert rep.files[0].notes == [note] and note in rep.to_text()
    # the same file in UTF-8 is read as UTF-8, without a note
    path.write_text(extract_text(q.rows + p.rows), encoding="utf-8")
    rows, rep = _import(path)
    assert set(rows.filter(pl.col("subject_id") == "6001")["name"].to_list()) == {"NUÑEZ,JOSÉ"}
    assert rep.files[0].notes == []
    from clearrec_desktop.core import pipeline
    from datetime import date
    run = pipeline.run_screen([path], county="SACRAMENTO", as_of=date(2026, 11, 1))
    assert "NUÑEZ,JOSÉ" in run.results["name"].to_list()


# --- the record check is the old structure check --------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

_field = st.one_of(st.text(alphabet='ab ,"\x00\r', max_size=4),
                   st.text(alphabet='ab ,', max_size=4).map(lambda t: '"' + t.replace('"', '""') + '"'))


@settings(max_examples=400, deadline=None)
@given(st.lists(_field, min_size=93, max_size=97), st.sampled_from(["", '"', 'x"', '"x', '""']))
def test_record_check_agrees_with_the_field_count_check(fields, noise):
    """``_RECORD`` (one regex pass, the fast path) accepts exactly the lines the explaining
    check (``_structure_exprs``) finds sound with 95 fields."""
    line = ",".join(fields)
    line = line[: len(line) // 2] + noise + line[len(line) // 2:]
    frame = pl.DataFrame({"line": [line], "_cut": [None]}, schema={"line": pl.String, "_cut": pl.String})
    fast = frame.select(pl.col("line").str.contains(doj._RECORD)).item()
    n_fields, bad_quotes, bad_chars = frame.select(doj._structure_exprs()).row(0)
    assert fast == (n_fields == doj.N_COLUMNS and not bad_quotes and not bad_chars)


# --- issue 14: the import as row groups, read back one person at a time ---------------------------

def test_the_import_is_kept_as_row_groups_and_a_person_read_alone(tmp_path, monkeypatch):
    from datetime import date

    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.ingest import rowstore
    from clearrec_desktop.core.screen import facts as screen_facts
    from clearrec_desktop.core.screen import profiles, screening
    from clearrec_desktop.core.workspace.store import Workspace

    people = [Person(str(7000 + i), f"GROUP,G{i}", "19700101").conviction("19900101", "11359 HS-POSSESS FOR SALE")
              .conviction("19950101", "459 PC-BURGLARY", county="FRESNO") for i in range(40)]
    path = write_extract(tmp_path / "groups.csv", *people)
    whole, report = ingest_importer.import_files([path])
    monkeypatch.setattr(doj, "BLOCK_BYTES", 8_000)           # many blocks: many row groups
    monkeypatch.setattr(screen_facts, "PARTITION_ROWS", 30)   # and many screening partitions
    store, rep, facts = pipeline.read_for_screening([path])
    assert store.n_groups > 5 and store.height == whole.height == rep.rows
    assert store.collect().equals(whole)
    assert rep.counties == report.counties and rep.warnings == report.warnings
    for subject in ("7000", "7017", "7039"):
        assert store.person(subject).equals(whole.filter(pl.col("subject_id") == subject))
    assert store.person("no such person").height == 0
    # `clearrec screen` keeps no row at all, and screens the same
    none, rep2, facts2 = pipeline.read_for_screening([path], keep_rows=False)
    assert none is None and rep2.counties == rep.counties
    as_of, profile = date(2026, 11, 1), profiles.load_profile()
    expected = screening.screen(whole, county="SACRAMENTO", as_of=as_of, profile=profile)
    assert len(facts.partitions) > 1
    assert screening.screen(facts, county="SACRAMENTO", as_of=as_of, profile=profile).equals(expected)
    assert screening.screen(facts2, county="SACRAMENTO", as_of=as_of, profile=profile).equals(expected)

    # stored in the workspace as row groups, read back group by group (what the app does on open)
    ws = Workspace.create(tmp_path / "w.clearrec", "row-groups-passphrase")
    try:
        import_id = ws.add_import(path.name, rep.files[0].sha256, rep.files[0].size, {"lines_read": 1},
                                  store.groups(file=path.name))
        chunks = ws.import_row_groups(import_id)
        assert len(chunks) == store.n_groups
        assert ws.load_import_rows(import_id).equals(whole)
        again = rowstore.RowStore()
        for data in chunks:
            group = rowstore.decode(data)
            again.add_encoded(data, group.height, path.name, group.get_column("subject_id"))
        assert again.person("7017").equals(whole.filter(pl.col("subject_id") == "7017"))
        rebuilt = pipeline.facts_of(again)
        assert screening.screen(rebuilt, county="SACRAMENTO", as_of=as_of, profile=profile).equals(expected)
    finally:
        ws.close()


def test_an_import_stored_as_one_table_still_loads(tmp_path):
    """Workspaces written before row groups hold an import as one Arrow table: it reads as one group."""
    from clearrec_desktop.core.workspace.store import Workspace

    rows, rep = _import(SAMPLE)
    ws = Workspace.create(tmp_path / "old.clearrec", "one-table-passphrase")
    try:
        with ws._write() as conn:
            frame_id = ws._store_frame(rows)   # the format of an import before issue 14
            import_id = conn.execute(
                "INSERT INTO imports (source_name, size, sha256, imported_at, lines_read, rows_imported,"
                " lines_rejected, report_json, rows_frame_id) VALUES ('s.csv', 1, ?, 'now', 11, ?, 0, '{}', ?)",
                ("ab" * 32, rows.height, frame_id)).lastrowid
        assert ws.load_import_rows(import_id).equals(rows)
        groups = ws.import_row_groups(import_id)
        assert len(groups) == 1 and pl.read_ipc(__import__("io").BytesIO(groups[0])).equals(rows)
    finally:
        ws.close()
