"""After filing (issue 16): filings, rulings, statuses, DOJ follow-up, lookups and status letters."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date, datetime, timedelta, timezone

import pdfplumber
import polars as pl
import pytest

from clearrec_desktop.core import demo, pipeline
from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.outputs import court_update
from clearrec_desktop.core.outputs import filing as F
from clearrec_desktop.core.outputs.status_letter import build_status_letter
from clearrec_desktop.core.workspace.filings import (
    combine_statuses,
    file_digests,
    rows_from_update,
    status_counts_of,
    status_sentence,
    waiting_among,
)
from clearrec_desktop.core.workspace.store import Workspace

PASS = "correct horse battery staple 9"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def screen_into(ws: Workspace, path) -> int:
    run = pipeline.run_screen([path], county="SACRAMENTO", as_of=date(2026, 11, 1))
    ids = []
    for fr in run.report.files:
        rep = dataclasses.asdict(fr)
        rep["lines_rejected"] = len(fr.rejected)
        ids.append(ws.add_import(fr.file, fr.sha256, fr.size, rep, run.rows.groups(file=fr.file)))
    return ws.add_run(ids, run.profile.id, run.profile.text or run.profile.explain(), run.county, run.as_of,
                      run.results, run.summary)


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    path = tmp_path_factory.mktemp("extract") / "doj.csv"
    demo.write_demo_extract(path, 400, "SACRAMENTO", 7)
    return path


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ws(tmp_path, extract, clock):
    workspace = Workspace.create(tmp_path / "w.clearrec", PASS, county="SACRAMENTO", clock=clock)
    screen_into(workspace, extract)
    yield workspace
    if not workspace.closed:
        workspace.close()


def _update(ws: Workspace) -> pl.DataFrame:
    results = ws.load_results(ws.latest_run()["run_id"])
    selection = F.select_for_filing(results, None, options=F.FilingOptions(posture="supplemental"))
    return court_update.court_update_rows(selection)


def _file(ws: Workspace, tmp_path, update: pl.DataFrame | None = None) -> tuple[int, pl.DataFrame]:
    update = _update(ws) if update is None else update
    doc = tmp_path / "court-update.csv"
    doc.write_bytes(court_update.court_update_csv(update))
    fid = ws.record_filing(posture="supplemental", court="Superior Court of California, County of Sacramento",
                           filed_on="2026-11-02", convictions=rows_from_update(update), files=file_digests([doc]),
                           audit_head_printed=ws.audit_head())
    return fid, update


def _audit_text(ws: Workspace) -> str:
    return json.dumps([e["details"] for e in ws.audit_entries()])


def test_record_filing_names_convictions_by_reference_only(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    (f,) = ws.filings()
    assert f["filing_id"] == fid and f["state"] == "active" and f["convictions"] == update.height
    assert f["files"][0]["name"] == "court-update.csv" and len(f["files"][0]["sha256"]) == 64
    counts = ws.status_counts()
    assert counts["filed"] == update.height
    (entry,) = ws.audit_entries("filing_recorded")
    assert entry["details"]["convictions"] == [ws.ref(c) for c in update["conviction_id"]]
    trail = _audit_text(ws)
    for r in update.iter_rows(named=True):  # no name, date of birth, CII, case number or conviction id
        for value in (r["name"], r["dob"], r["cii_number"], r["court_case_number"], r["conviction_id"]):
            assert value not in trail
    ok, _, _ = ws.verify_audit()
    assert ok and ws.verify_report().ok


def test_ruling_file_with_granted_denied_unmatched_and_empty_rows(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    n = update.height
    returned = update.with_columns(
        pl.when(pl.int_range(pl.len()) < 5).then(pl.lit("Denied")).when(pl.int_range(pl.len()) < n - 2)
        .then(pl.lit("granted")).otherwise(pl.lit("")).alias("ruling"),
        pl.lit("12/01/2026").alias("order_date"))
    stranger = update.head(1).with_columns(pl.lit("999/NOPE/1").alias("conviction_id"),
                                           pl.lit("99F00000").alias("court_case_number"),
                                           pl.lit("granted").alias("ruling"), pl.lit("2026-12-01").alias("order_date"))
    bad_word = update.slice(n - 1, 1).with_columns(pl.lit("maybe").alias("ruling"))
    path = tmp_path / "returned.csv"
    path.write_bytes(court_update.court_update_csv(pl.concat([returned, stranger, bad_word])))
    result = ws.import_rulings(path)
    assert result.rows == n + 2
    assert result.recorded == n - 2 and result.by_ruling == {"denied": 5, "granted": n - 7}
    assert result.no_ruling == 2
    lines = {u["line"]: u["reason"] for u in result.unmatched}
    assert set(lines) == {n + 2, n + 3}          # header is line 1: the two extra rows, by line
    assert "no conviction of an active filing" in lines[n + 2]
    assert "not one of granted" in lines[n + 3]
    assert any("99F00000" in line for line in result.lines())
    st = ws.statuses()
    assert ws.status_counts(st)["ruled"] == n - 2 and ws.status_counts(st)["filed"] == 2
    denied = st.filter(pl.col("ruling") == "denied")
    assert denied.height == 5 and set(denied["order_date"]) == {"2026-12-01"}
    (entry,) = ws.audit_entries("rulings_imported")
    assert entry["details"]["count"] == n - 2 and entry["details"]["unmatched"] == 2
    assert "99F00000" not in _audit_text(ws)
    assert ws.verify_report().ok


def test_ruling_file_as_xlsx_and_court_layout_mapping(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    returned = update.with_columns(pl.lit("granted").alias("ruling"), pl.lit("2026-12-03").alias("order_date"))
    path = tmp_path / "returned.xlsx"
    path.write_bytes(court_update.court_update_xlsx(returned))
    assert ws.import_rulings(path).recorded == update.height
    # the court's own layout: case number, count, disposition, date; matched on case and count
    own = update.select(pl.col("court_case_number").alias("Case No"), pl.col("count").alias("Cnt"),
                        pl.lit("DENIED").alias("Disposition"), pl.lit("12/09/2026").alias("Date Signed"))
    own_path = tmp_path / "court-layout.csv"
    own.write_csv(own_path)
    result = ws.import_rulings(own_path, mapping={"court_case_number": "Case No", "count": "Cnt",
                                                  "ruling": "Disposition", "order_date": "Date Signed"})
    assert result.recorded == update.height - len(result.unmatched)
    assert result.recorded > 0
    latest = ws.statuses().filter(pl.col("filing_id") == fid)
    assert (latest["ruling"] == "denied").sum() == result.recorded


def test_rulings_per_case_and_conviction_continued_and_superseded(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    case = update.item(0, "court_case_number")
    in_case = update.filter(pl.col("court_case_number") == case).height
    ws.record_ruling(fid, "continued", "2026-11-20", case_number=case)
    st = ws.statuses()
    assert st.filter(pl.col("ruling") == "continued").height == in_case
    assert set(st.filter(pl.col("ruling") == "continued")["status"]) == {"filed"}
    one = update.item(0, "conviction_id")
    ws.record_ruling(fid, "granted_differently", "2026-12-02", conviction_ids=[one])
    row = ws.statuses().filter(pl.col("conviction_id") == one).row(0, named=True)
    assert row["status"] == "ruled" and row["ruling"] == "granted_differently" and row["since"] == "2026-12-02"
    assert ws.rulings().height == in_case + 1       # both rulings kept
    with pytest.raises(InputError, match="not in filing"):
        ws.record_ruling(fid, "granted", "2026-12-02", conviction_ids=["nobody/none/1"])
    with pytest.raises(InputError, match="unknown ruling"):
        ws.record_ruling(fid, "dismissed", "2026-12-02")
    with pytest.raises(InputError, match="not a date"):
        ws.record_ruling(fid, "granted", "next week")
    ws.record_ruling(fid, "granted", "2026-12-05")
    assert ws.status_counts()["ruled"] == update.height


def test_withdraw_and_amend_keep_every_record(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    ws.withdraw_filing(fid, reason="filed in the wrong courthouse", withdrawn_on="2026-11-03")
    assert ws.filings()[0]["state"] == "withdrawn"
    assert ws.status_counts()["filed"] == 0
    with pytest.raises(InputError, match="withdrawn"):
        ws.record_ruling(fid, "granted", "2026-12-01")
    fid2, _ = _file(ws, tmp_path)
    fid3 = ws.record_filing(posture="supplemental", court="Sacramento", filed_on="2026-11-10",
                            convictions=rows_from_update(update.head(3)), amends=fid2)
    states = {f["filing_id"]: f["state"] for f in ws.filings()}
    assert states == {fid: "withdrawn", fid2: "amended", fid3: "active"}
    assert ws.status_counts()["filed"] == 3
    ws.record_ruling(fid3, "denied", "2026-12-01")
    with pytest.raises(InputError, match="already ruled"):
        ws.withdraw_filing(fid3, reason="oops")
    assert ws.filing_convictions().height == 2 * update.height + 3   # nothing overwritten
    path = ws.path
    ws.close()
    from sqlcipher3 import dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = '{PASS}'")
    for sql in ("UPDATE rulings SET ruling = 'granted'", "DELETE FROM filings", "DELETE FROM filing_withdrawals"):
        with pytest.raises(sqlcipher.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_statuses_survive_a_newer_extract_and_doj_unchanged_is_flagged(ws, tmp_path, extract, clock):
    fid, update = _file(ws, tmp_path)
    ws.record_ruling(fid, "granted", "2026-11-15")
    before = ws.statuses().select("conviction_id", "status", "ruling")
    clock.now = datetime(2027, 8, 1, tzinfo=timezone.utc)     # DOJ's next extract, months later
    screen_into(ws, extract)                                   # still lists every conviction as it was
    after = ws.statuses().select("conviction_id", "status", "ruling")
    assert before.sort("conviction_id").equals(after.sort("conviction_id"))
    flagged = ws.doj_unchanged(days=180)
    assert flagged.height == update.height and set(flagged["extract_imported"]) == {"2027-08-01"}
    assert ws.doj_unchanged(days=400).height == 0
    some = update.head(2)["conviction_id"].to_list()
    ws.record_doj_report(some, "2027-01-10")
    st = ws.statuses()
    assert st.filter(pl.col("status") == "reported_to_doj").height == 2
    with pytest.raises(InputError, match="no granted order"):
        ws.record_doj_report(["nobody/none/1"], "2027-01-10")


def test_waiting_lists(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    assert ws.waiting(30, as_of=date(2026, 11, 20)).height == 0
    waiting = ws.waiting(30, as_of=date(2027, 1, 2))
    assert waiting.height == update.height and set(waiting["waiting_for"]) == {"the court's ruling"}
    assert set(waiting["days_waiting"]) == {61}
    ws.record_ruling(fid, "granted", "2026-12-01")
    assert set(ws.waiting(30, as_of=date(2027, 1, 2))["waiting_for"]) == {"the court's notice to DOJ"}
    ws.record_ruling(fid, "denied", "2026-12-01")
    assert ws.waiting(0, as_of=date(2027, 1, 2)).height == 0   # a denial waits for nothing


def test_statuses_from_frames_in_memory_equal_the_workspace(ws, tmp_path):
    """The desktop app counts the funnel from the frames it holds (combine_statuses): the same
    status and date for every conviction as the workspace works out from its tables."""
    run = ws.latest_run()
    results = ws.load_results(run["run_id"])
    ids = results.get_column("conviction_id").to_list()
    fid, update = _file(ws, tmp_path)
    filed = update.get_column("conviction_id").to_list()
    unfiled = [c for c in ids if c not in set(filed)]
    ws.record_decision(unfiled[0], "dismiss", reason="court file", proposed="review")
    ws.record_decision(unfiled[1], "defer", proposed="review")          # deferring decides nothing
    ws.record_decision(filed[0], "accept", proposed="dismiss")
    ws.record_ruling(fid, "granted", "2026-12-01", conviction_ids=filed[:4])
    ws.record_ruling(fid, "denied", "2026-12-02", conviction_ids=filed[4:5])
    ws.record_ruling(fid, "continued", "2026-12-02", conviction_ids=filed[5:6])
    ws.record_doj_report(filed[:2], "2026-12-20")
    expected = ws.statuses().sort("conviction_id")
    got = combine_statuses(results.select("conviction_id", "courthouse", "conviction_date"),
                           ws.current_decisions(), ws.filed_statuses()).sort("conviction_id")
    cols = ["conviction_id", "status", "since", "ruling", "order_date", "filing_id", "in_run"]
    assert got.select(cols).equals(expected.select(cols))
    counts = status_counts_of(got)
    assert counts == ws.status_counts()
    assert counts["reported_to_doj"] == 2 and counts["ruled"] == 3 and counts["decided"] == 1
    assert counts["filed"] == len(filed) - 5
    assert waiting_among(got, 10, date(2027, 1, 2)).equals(ws.waiting(10, as_of=date(2027, 1, 2)))


def test_lookup_is_tolerant_audited_and_needs_a_reason(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    person = update.row(0, named=True)
    misspelled = person["name"].replace(person["name"][1], "X", 1)
    with pytest.raises(InputError, match="reason"):
        ws.lookup(name=misspelled, reason=" ")
    found = ws.lookup(name=misspelled, reason="caller asked about the record")
    assert found and found[0]["name"] == person["name"]
    subject = found[0]["subject_id"]
    assert all(c["conviction_id"].startswith(subject + "/") for c in found[0]["convictions"])
    assert ws.lookup(cii=person["cii_number"], reason="r")[0]["subject_id"] == subject
    assert ws.lookup(case=person["court_case_number"].lower(), reason="r")[0]["subject_id"] == subject
    assert subject in {p["subject_id"] for p in ws.lookup(dob=person["dob"], reason="r")}
    assert ws.lookup(name=misspelled, dob="1900-01-01", reason="r") == []
    entries = ws.audit_entries("lookup")
    assert len(entries) == 5 and entries[0]["details"]["by"] == ["name"]
    assert entries[0]["details"]["people"] == [ws.ref(subject, "person")]
    trail = _audit_text(ws)
    assert person["name"] not in trail and misspelled not in trail and "caller asked" not in trail
    assert ws.verify_report().ok


def test_status_letter_mentions_only_this_persons_convictions(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    ws.record_ruling(fid, "granted", "2026-12-01")
    dismissed = update.filter(pl.col("action").str.starts_with("dismiss"))
    person = dismissed.row(0, named=True)
    (found,) = [p for p in ws.lookup(name=person["name"], reason="letter requested") if p["name"] == person["name"]]
    pdf = build_status_letter(found, found["convictions"], {"office": "Office of the District Attorney",
                                                            "district_attorney": "A. Prosecutor",
                                                            "county": "Sacramento"}, today=date(2026, 12, 10))
    ws.log_status_letter(found["subject_id"], [c["conviction_id"] for c in found["convictions"]], reason="asked")
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = " ".join(page.extract_text() or "" for page in doc.pages)
    text = " ".join(text.split())
    assert person["name"] in text
    for c in found["convictions"]:
        assert c["court_case_number"] in text
    assert "deemed never to have occurred" in text and "December 1, 2026" in text
    others = set(update.filter(~pl.col("conviction_id").str.starts_with(found["subject_id"] + "/"))["court_case_number"])
    assert not [case for case in others if case in text]
    assert person["dob"] not in text and person["cii_number"] not in text
    assert ws.audit_entries("status_letter")[0]["details"]["person"] == ws.ref(found["subject_id"], "person")


def test_status_sentence_is_plain():
    assert "waiting for the court" in status_sentence({"status": "filed", "filed_on": "2026-11-02"})
    assert "granted as asked" in status_sentence({"status": "ruled", "ruling": "granted", "order_date": "2026-12-01"})


def test_progress_figures_by_status_month_courthouse(ws, tmp_path):
    fid, update = _file(ws, tmp_path)
    ws.record_ruling(fid, "granted", "2026-12-01")
    figures = ws.progress_figures()
    assert figures["by_status"]["ruled"] == update.height
    assert figures["by_month"]["2026-12"]["ruled"] == update.height
    assert sum(v["ruled"] for v in figures["by_courthouse"].values()) == update.height
    assert figures["rulings"]["granted"] == update.height


def test_an_older_workspace_without_filing_tables(ws):
    assert ws.filings() == [] and ws.rulings().height == 0
    assert ws.status_counts()["screened"] > 0
    assert ws.verify_report().ok


def test_progress_in_the_workbook_and_the_impact_report_small_counts_suppressed(ws, tmp_path):
    import openpyxl

    from clearrec_desktop.core.outputs.impact_report import build_impact_report
    from clearrec_desktop.core.outputs.workbook import write_workbook

    fid, update = _file(ws, tmp_path)
    ws.record_ruling(fid, "granted", "2026-12-01")
    ws.record_ruling(fid, "denied", "2026-12-02", conviction_ids=update["conviction_id"].head(3).to_list())
    figures = ws.progress_figures()
    run = ws.latest_run()
    results = ws.load_results(run["run_id"])
    path = write_workbook(results, run["summary"], tmp_path / "review.xlsx", filing_progress=figures)
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [tuple(r) for r in wb["Summary"].iter_rows(values_only=True)]
    wb.close()
    labels = {r[0]: r[1] for r in rows if r and r[0]}
    assert "Progress after filing (not suppressed)" in labels
    assert labels["Ruled by the court"] == update.height and labels["denied"] == 3   # the workbook is internal
    pdf = build_impact_report(run["summary"], results, filing_progress=figures)
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    assert "Progress after filing" in text and "By courthouse" in text
    denied_line = next(line for line in text.splitlines() if line.startswith("Denied"))
    assert denied_line.endswith("<11")                          # 3 denials: suppressed in the public report
    ruled_line = next(line for line in text.splitlines() if line.startswith("Ruled by the court"))
    assert ruled_line.endswith(f"{update.height:,}")
