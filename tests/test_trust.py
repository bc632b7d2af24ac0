"""What the county's security officer is shown (docs/security.md): large files refused up front,
no record data in logs, errors or temporary files, imports and decisions that survive SIGKILL,
the audit head on paper and file, and URLs refused at every door.

Record data here is synthetic and recognisable: every name carries TRUSTFAKE, dates of birth are
in 1937-1943 (no conviction in the demo is that old), CII numbers start Z9, SSNs 900-77-.
"""

from __future__ import annotations

import csv
import ctypes
import dataclasses
import io
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from pypdf import PdfReader

from clearrec_desktop import cli
from clearrec_desktop.core import demo, pipeline
from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.ingest import importer
from clearrec_desktop.core.ingest import report as ingest_report
from clearrec_desktop.core.ingest.doj import DOJ_COLUMNS
from clearrec_desktop.core.outputs import exports, filing, packet, run_folder, workbook
from clearrec_desktop.core.safety import resource_path
from clearrec_desktop.core.screen import profiles, screening
from clearrec_desktop.core.workspace.store import Workspace

PASS = "correct horse battery"
AS_OF = date(2026, 11, 1)
OFFICE = resource_path("demo/office.toml")
FAKE_FIRST = "QUENTILLAX"
FAKE_DOBS = ["19370311", "19410927", "19430115"]


@dataclasses.dataclass
class FakePeople:
    names: list[str]
    dobs: list[str]
    ciis: list[str]
    ssns: list[str]

    def needles(self) -> list[str]:
        """Every form a value could take in text: names, raw and ISO and US dates, CII, SSN."""
        out = {"TRUSTFAKE", FAKE_FIRST, "900-77-"}
        for d in self.dobs:
            out |= {d, f"{d[:4]}-{d[4:6]}-{d[6:]}", f"{d[4:6]}/{d[6:]}/{d[:4]}"}
        return sorted(out | set(self.ciis))


def _fake_surname(k: int) -> str:
    letters = ""
    for _ in range(3):  # names differ in letters (digits are not part of a name's match key)
        k, r = divmod(k, 26)
        letters += chr(65 + r)
    return "TRUSTFAKE" + letters


def write_fake_extract(path: Path, rows: int = 1500, seed: int = 11) -> FakePeople:
    """A demo extract (with every trap) whose people carry the recognisable fake identities,
    plus one malformed line that holds a name."""
    demo.write_demo_extract(path, rows, "SACRAMENTO", seed, traps=True)
    ix = {c: DOJ_COLUMNS.index(c) for c in ("SUBJECT_ID", "REQ_NAME", "PRI_NAME", "REQ_DOB", "PRI_DOB",
                                            "REQ_CII_NUMBER", "CII_NUMBER", "REQ_SSN", "PRI_SSN", "COMMENT_TEXT")}
    people: dict[str, int] = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    for i in range(1, len(lines)):
        if not lines[i]:
            continue
        try:
            fields = next(csv.reader([lines[i]], strict=True))
        except csv.Error:
            continue
        if len(fields) != len(DOJ_COLUMNS):
            continue
        k = people.setdefault(fields[ix["SUBJECT_ID"]].strip(), len(people))
        fields[ix["REQ_NAME"]] = fields[ix["PRI_NAME"]] = f"{_fake_surname(k)},{FAKE_FIRST}"
        fields[ix["REQ_DOB"]] = fields[ix["PRI_DOB"]] = FAKE_DOBS[k % len(FAKE_DOBS)]
        fields[ix["REQ_CII_NUMBER"]] = fields[ix["CII_NUMBER"]] = f"Z9{k:07d}"
        fields[ix["REQ_SSN"]] = fields[ix["PRI_SSN"]] = f"900-77-{k:04d}"
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(fields)
        lines[i] = out.getvalue()
    lines.insert(5, lines[4] + ',"stray')  # a malformed line that names a person
    path.write_text("\n".join(lines), encoding="utf-8")
    n = len(people)
    return FakePeople([_fake_surname(k) for k in range(n)], FAKE_DOBS, [f"Z9{k:07d}" for k in range(n)],
                      [f"900-77-{k:04d}" for k in range(n)])


def store_in_workspace(ws: Workspace, rows: pl.DataFrame, report: ingest_report.ImportReport,
                       run: pipeline.ScreenRun) -> tuple[list[int], int]:
    """As the desktop app stores an import and its run (gui/session.py)."""
    ids = []
    for f in report.files:
        rep = dataclasses.asdict(f)
        rep["lines_rejected"] = len(f.rejected)
        ids.append(ws.add_import(f.file, f.sha256, f.size, rep, rows.filter(pl.col("source_file") == f.file)))
    run_id = ws.add_run(ids, run.profile.id, run.profile.text or run.profile.explain(), run.county, run.as_of,
                        run.results, run.summary)
    return ids, run_id


def find_leaks(text: str, needles: list[str]) -> list[str]:
    upper = text.upper()
    return [n for n in needles if n.upper() in upper]


# ------------------------------------------------------------------------------------------------
# Large files


def test_an_extract_too_large_for_this_computer_is_refused_before_reading(tmp_path, monkeypatch, capsys):
    big = tmp_path / "statewide.dat"
    with open(big, "wb") as fh:
        fh.truncate(5 * 1024**3)  # 5 GB, sparse: no disk space used
    monkeypatch.setattr(importer, "physical_memory", lambda: 8 * 1024**3)
    opened = []
    monkeypatch.setattr(importer, "file_sha256", lambda p: opened.append(p))  # nothing may be read
    with pytest.raises(InputError) as err:
        importer.import_files([big])
    message = str(err.value)
    assert message.startswith("statewide.dat (5.0 GB): too large to import on this computer")
    # a DOJ extract streams: 0.5 GB plus 1.5x its size at worst (docs/security.md)
    assert "needs about 8.0 GB" in message and "this computer has 8.0 GB" in message and "under 3.7 GB" in message
    assert "split the extract" in message and opened == []

    # the same through the command line: a one-line message and exit code 2, no traceback
    code = cli.main(["screen", str(big), "--county", "Sacramento", "--as-of", "2026-11-01", "--out",
                     str(tmp_path / "out")])
    err_text = capsys.readouterr().err
    assert code == 2 and err_text.count("\n") == 1 and "too large to import on this computer" in err_text
    assert not (tmp_path / "out").exists()


def test_files_that_fit_alone_but_not_together_are_refused(tmp_path, monkeypatch):
    parts = []
    for i in range(3):
        part = tmp_path / f"part{i}.dat"
        with open(part, "wb") as fh:
            fh.truncate(1024**3)
        parts.append(part)
    monkeypatch.setattr(importer, "physical_memory", lambda: 8 * 1024**3)  # 6 GB usable: 3 x 1 GB fit (5 GB), 4 do not
    importer.check_fits_in_memory(parts, [p.stat().st_size for p in parts])
    parts.append(parts[0])
    with pytest.raises(InputError, match=r"part0.dat, part1.dat, part2.dat ... \(4 files, 4.0 GB together\)"):
        importer.import_files(parts)


def test_county_files_are_judged_by_what_they_cost(tmp_path, monkeypatch):
    """A county CSV takes about 12x its size to import (measured), a workbook at most its bounded grid."""
    csv_file = tmp_path / "county.csv"
    with open(csv_file, "wb") as fh:
        fh.truncate(2 * 1024**3)
    monkeypatch.setattr(importer, "physical_memory", lambda: 16 * 1024**3)
    mapping = {"court_case_number": "a", "conviction_date": "b", "code_section": "c", "county": "d", "subject_id": "e"}
    with pytest.raises(InputError, match=r"^county.csv \(2.0 GB\): .* needs about 24.0 GB .* under 1.0 GB"):
        importer.import_files([csv_file], mapping=mapping)
    assert importer.memory_needed(csv_file, 2 * 1024**3) == 3 * 1024**3  # the same bytes as a DOJ extract
    book = tmp_path / "big.xlsx"
    assert importer.memory_needed(book, 10 * 1024**2) == 400 * 1024**2
    assert importer.memory_needed(book, 10 * 1024**3) == importer.MAX_WORKBOOK_MEMORY


def test_memory_is_measured_here_and_on_windows(monkeypatch):
    here = importer.physical_memory()
    assert here is not None and 256 * 1024**2 < here < 2**50
    assert importer.max_import_bytes() == int((here * importer.MEMORY_SHARE - importer.MEMORY_BASE)
                                              / importer.MEMORY_PER_FILE_BYTE)

    # Windows: GlobalMemoryStatusEx fills a MEMORYSTATUSEX whose dwLength the caller sets.
    seen = {}

    def global_memory_status_ex(ref):
        status = ref._obj
        seen["length"] = status.dwLength
        status.ullTotalPhys = 16 * 1024**3
        return 1

    fake = type("windll", (), {"kernel32": type("kernel32", (), {
        "GlobalMemoryStatusEx": staticmethod(global_memory_status_ex)})})
    monkeypatch.setattr(ctypes, "windll", fake, raising=False)
    monkeypatch.setattr(importer.sys, "platform", "win32")
    assert importer.physical_memory() == 16 * 1024**3
    assert seen["length"] == 64  # sizeof(MEMORYSTATUSEX)

    # unknown memory: nothing is refused on a guess
    monkeypatch.setattr(importer, "physical_memory", lambda: None)
    assert importer.max_import_bytes() is None
    importer.check_fits_in_memory([Path("x.dat")], [10 * 1024**4])


def test_running_out_of_memory_or_a_vanished_file_is_an_input_error(tmp_path, monkeypatch):
    extract = tmp_path / "x.dat"
    demo.write_demo_extract(extract, 50, "SACRAMENTO", 1)

    def no_memory(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(importer.doj, "read_extract", no_memory)
    with pytest.raises(InputError, match=r"^x.dat: this computer ran out of memory importing it"):
        importer.import_files([extract])
    monkeypatch.undo()

    def gone(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(importer, "file_sha256", gone)
    with pytest.raises(InputError, match=r"^x.dat: cannot be read \(Permission denied\)"):
        importer.import_files([extract])
    with pytest.raises(InputError, match="at least one file"):
        importer.import_files([])


# ------------------------------------------------------------------------------------------------
# No record data in logs, error messages or exceptions


def test_no_record_data_in_logs_stderr_or_exception_messages(tmp_path, monkeypatch, capfd, figures):
    extract = tmp_path / "extract.dat"
    people = write_fake_extract(extract)
    needles = people.needles()
    assert find_leaks(extract.read_text(encoding="utf-8"), needles)  # the values are there to leak

    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.captureWarnings(True)
    errors: list[str] = []

    def expect_error(fn, *args, **kwargs):
        with pytest.raises(Exception) as info:
            fn(*args, **kwargs)
        exc = info.value
        while exc is not None:  # the whole chain, as a traceback would show it
            errors.extend([str(exc), repr(exc)])
            exc = exc.__cause__ or exc.__context__
        return info.value

    try:
        out, docs = tmp_path / "run", tmp_path / "docs"
        # the command line: screen, documents, exports
        assert cli.main(["screen", str(extract), "--county", "sacramento", "--as-of", "2026-11-01",
                         "--out", str(out), "-v"]) == 0
        assert cli.main(["documents", str(out), "--office", str(OFFICE), "--out", str(docs), "--per-case",
                         "--by-courthouse"]) == 0
        assert cli.main(["export", str(out), "--xlsx", str(tmp_path / "r.xlsx"), "--doj-results",
                         str(tmp_path / "r.dat"), "--impact-report", str(tmp_path / "impact.pdf")]) == 0

        # the desktop flow: import, screen, store, decide, undo/redo, notes, office, documents, exports
        rows, report = pipeline.import_only([extract])
        assert report.rejected  # the malformed line with a name was rejected, by line number only
        run = pipeline.screen_rows(rows, report, county="SACRAMENTO", as_of=AS_OF, profile=profiles.load_profile())
        wpath = tmp_path / "county.clearrec"
        ws = Workspace.create(wpath, PASS, county="SACRAMENTO")
        store_in_workspace(ws, rows, report, run)
        ids = run.results.filter(pl.col("outcome").is_in(["dismiss", "reduce"]))["conviction_id"].to_list()
        for cid in ids[:5]:
            ws.record_decision(cid, "accept")
        ws.record_decision(ids[5], "defer", reason=f"spoke with {people.names[0]} born {people.dobs[0]}")
        ws.undo()
        ws.redo()
        ws.add_note(f"{people.names[1]} CII {people.ciis[1]}", conviction_id=ids[6])
        ws.set_office({"district_attorney": "Jordan A. Example", "county": "Sacramento"})
        decisions = ws.current_decisions()
        head = ws.audit_head()
        packet.build_documents(out, OFFICE, tmp_path / "docs2", decisions=decisions, audit_head=head)
        exports.export_from_dir(out, xlsx=tmp_path / "r2.xlsx", decisions=decisions, audit_head=head)
        ws.log_event("export", {"files": 2})

        # error paths, in process: every message and its chain is kept
        ineligible = run.results.filter(pl.col("outcome") == "ineligible")["conviction_id"][0]
        expect_error(ws.record_decision, ineligible, "dismiss")            # departs without a reason
        expect_error(ws.record_decision, "NOT/A/CONVICTION", "accept")
        expect_error(ws.log_event, "export", {"name": people.names[2]})
        expect_error(Workspace.open, wpath, PASS)                          # already open
        ws.close()
        expect_error(Workspace.open, wpath, "not the passphrase")
        absent = next(c for c in demo.CA_COUNTIES if c not in report.rows_by_county)
        expect_error(pipeline.check_county, absent, report)
        cms = tmp_path / "cms.csv"  # a county file whose first row is data, not a header
        cms.write_text(f'98F0001,"{people.names[3]}, {FAKE_FIRST}",03/11/1937,{people.ciis[3]},11359 HS\n',
                       encoding="utf-8")
        expect_error(importer.import_files, [cms])
        mapping = {"court_case_number": "Case", "name": "Name", "dob": "DOB", "conviction_date": "Date",
                   "code_section": "Charge", "county": "County"}
        expect_error(importer.import_files, [cms], mapping=mapping)
        header_only_names = tmp_path / "names.dat"
        header_only_names.write_text(f"{people.names[4]},{FAKE_FIRST},{people.ciis[4]}\n", encoding="utf-8")
        expect_error(importer.import_files, [header_only_names])

        # error paths, through the command line (exit 2; 1 for an internal error)
        assert cli.main(["screen", str(extract), "--county", absent, "--as-of", "2026-11-01",
                         "--out", str(tmp_path / "o2")]) == 2
        monkeypatch.setenv("CLEARREC_PASSPHRASE", PASS)
        assert cli.main(["audit", "verify", str(wpath)]) == 0
        monkeypatch.setenv("CLEARREC_PASSPHRASE", "not the passphrase")
        assert cli.main(["audit", "verify", str(wpath)]) == 2
        fresno = tmp_path / "fresno.toml"
        fresno.write_text(OFFICE.read_text(encoding="utf-8").replace('county = "Sacramento"', 'county = "Fresno"'),
                          encoding="utf-8")
        assert cli.main(["documents", str(out), "--office", str(fresno), "--out", str(tmp_path / "d3")]) == 2
        assert cli.main(["screen", str(cms), "--county", "Sacramento", "--as-of", "2026-11-01",
                         "--out", str(tmp_path / "o3")]) == 2

        def crash(*args, **kwargs):
            raise ValueError(f"unexpected value {people.names[5]} {people.dobs[1]} {people.ciis[5]}")

        monkeypatch.setattr(screening, "screen", crash)
        assert cli.main(["screen", str(extract), "--county", "Sacramento", "--as-of", "2026-11-01",
                         "--out", str(tmp_path / "o4")]) == 1
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()

    captured = capfd.readouterr()
    logged = log_file.read_text(encoding="utf-8")
    assert "imported" in logged and "created workspace" in logged and "decision event" in logged  # it did log
    assert "internal error (ValueError)" in captured.err and "wrong passphrase" in captured.err
    assert len(errors) >= 20
    for where, text in (("log file", logged), ("stderr", captured.err), ("stdout", captured.out),
                        ("exception messages", "\n".join(errors))):
        assert not find_leaks(text, needles), f"record data in the {where}: {find_leaks(text, needles)[:5]}"
    figures(f"no records in logs: {len(needles)} values searched in {len(logged.splitlines())} log lines, "
            f"{len(captured.err.splitlines())} stderr lines and {len(errors) // 2} exception messages: none found")


# ------------------------------------------------------------------------------------------------
# No plaintext left outside the workspace and the chosen outputs

FLOW_CHILD = textwrap.dedent(
    """
    import dataclasses, json, os, sys
    from datetime import date
    from pathlib import Path

    NETWORK = ("socket.", "urllib.", "http.", "ftplib.", "smtplib.", "webbrowser.", "ssl.")
    seen = []
    sys.addaudithook(lambda event, args: seen.append(event) if event.startswith(NETWORK) else None)

    import polars as pl
    from clearrec_desktop.core import offline
    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.outputs import exports
    from clearrec_desktop.core.outputs import filing
    from clearrec_desktop.core.outputs import packet
    from clearrec_desktop.core.outputs import run_folder
    from clearrec_desktop.core.outputs import workbook
    from clearrec_desktop.core.screen import profiles, screening
    from clearrec_desktop.core.workspace.store import Workspace
    offline.install_guard()

    extract, office, wpath, chosen = map(Path, sys.argv[1:5])

    rows, report = pipeline.import_only([extract])
    run = pipeline.screen_rows(rows, report, county="SACRAMENTO", as_of=date(2026, 11, 1),
                               profile=profiles.load_profile())
    ws = Workspace.create(wpath, os.environ["CLEARREC_TEST_PASSPHRASE"], county="SACRAMENTO")
    f = report.files[0]  # stored as the desktop app stores it (gui/session.py)
    rep = dataclasses.asdict(f)
    rep["lines_rejected"] = len(f.rejected)
    import_id = ws.add_import(f.file, f.sha256, f.size, rep, rows)
    ws.add_run([import_id], run.profile.id, run.profile.text, run.county, run.as_of, run.results, run.summary)
    ids = run.results.filter(pl.col("outcome").is_in(["dismiss", "reduce"]))["conviction_id"].to_list()
    for cid in ids[:20]:
        ws.record_decision(cid, "accept")
    ws.record_decision(ids[20], "challenge", ground="public_safety", reason="r")
    ws.undo(); ws.redo()
    ws.add_note("called the court", conviction_id=ids[21])
    decisions, head = ws.current_decisions(), ws.audit_head()
    pipeline.write_outputs(run, chosen / "run")
    packet.build_documents(chosen / "run", office, chosen / "documents", per_case=True, by_courthouse=True,
                              decisions=decisions, audit_head=head)
    exports.export_from_dir(chosen / "run", xlsx=chosen / "review.xlsx", doj_results=chosen / "doj-results.dat",
                            impact_report=chosen / "impact.pdf", decisions=decisions, audit_head=head)
    ws.log_event("export", {"files": 3})
    ws.close()
    print(json.dumps({"network_events": seen}))
    """
)


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_no_plaintext_left_outside_the_workspace_and_the_chosen_outputs(tmp_path):
    work, tmp, home, chosen = (tmp_path / n for n in ("work", "tmp", "home", "chosen"))
    for d in (work, tmp, home, chosen):
        d.mkdir()
    extract = work / "extract.dat"
    people = write_fake_extract(extract, rows=2000, seed=3)
    office = work / "office.toml"
    shutil.copy(OFFICE, office)
    wpath = work / "county.clearrec"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "POLARS_TEMP"))}
    env.update({"TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp), "HOME": str(home),
                "USERPROFILE": str(home), "CLEARREC_TEST_PASSPHRASE": PASS})
    before_work = _files(work)
    shm = Path("/dev/shm")
    shm_before = set(shm.iterdir()) if shm.is_dir() else set()
    proc = subprocess.run([sys.executable, "-c", FLOW_CHILD, str(extract), str(office), str(wpath), str(chosen)],
                          cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])

    assert _files(tmp) == set(), "temporary files were left behind"
    assert _files(home) == set(), "files were written under the home folder"
    assert _files(work) - before_work == {wpath}, "something besides the workspace appeared beside it"
    outputs = {p.relative_to(chosen).as_posix() for p in _files(chosen)}
    assert {"run/results.csv", "review.xlsx", "doj-results.dat", "impact.pdf",
            "documents/cover-report.pdf"} <= outputs
    # the workspace holds every record, encrypted: none of the values, not even the SQLite header
    data = wpath.read_bytes()
    assert not data.startswith(b"SQLite format 3")
    for needle in people.needles() + people.names[:50] + people.ssns[:50]:
        assert needle.encode() not in data, needle
    for new in (set(shm.iterdir()) if shm.is_dir() else set()) - shm_before:
        if new.is_file():
            assert not find_leaks(new.read_bytes().decode("latin-1"), people.needles()), new
    assert report["network_events"] == [], "the flow touched the network"


# ------------------------------------------------------------------------------------------------
# Crash safety: an import and a run being stored, and decisions, killed at random moments

KILL_CHILD = textwrap.dedent(
    """
    import os, sys
    from datetime import date
    from pathlib import Path
    import polars as pl
    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.outputs import run_folder
    from clearrec_desktop.core.screen import profiles, screening
    from clearrec_desktop.core.workspace.store import Workspace

    path, extract, tag = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    ws = Workspace.open(path, os.environ["CLEARREC_TEST_PASSPHRASE"])
    rows, report = pipeline.import_only([extract])
    run = pipeline.screen_rows(rows, report, county="SACRAMENTO", as_of=date(2026, 11, 1),
                               profile=profiles.load_profile())
    f = report.files[0]
    ids = run.results["conviction_id"].to_list()
    print("ready", flush=True)
    i = 0
    while True:
        import_id = ws.add_import(f.file, f.sha256, f.size, {"lines_read": f.lines_read, "lines_rejected":
                                  len(f.rejected), "round": tag}, rows)
        print("i", import_id, rows.height, flush=True)
        run_id = ws.add_run([import_id], run.profile.id, run.profile.text, run.county, run.as_of, run.results,
                            run.summary)
        print("r", run_id, run.results.height, flush=True)
        for k in range(6):
            cid = ids[(i * 6 + k) % len(ids)]
            event_id = ws.record_decision(cid, "defer", reason=f"{tag}-{i}")
            print("d", event_id, cid, flush=True)
        i += 1
    """
)


def test_imports_runs_and_decisions_survive_sigkill(tmp_path, long_run, figures):
    extract = tmp_path / "extract.dat"
    demo.write_demo_extract(extract, 3000, "SACRAMENTO", 5, traps=True)
    path = tmp_path / "crash.clearrec"
    Workspace.create(path, PASS, county="SACRAMENTO").close()
    env = {**os.environ, "CLEARREC_TEST_PASSPHRASE": PASS}
    rng = random.Random(2026)
    rounds = 60 if long_run else 6
    acked: dict[str, dict[int, str]] = {"i": {}, "r": {}, "d": {}}
    checked_imports: set[int] = set()
    checked_runs: set[int] = set()
    started = time.perf_counter()
    for round_no in range(rounds):
        child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(path), str(extract), f"R{round_no}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        first = child.stdout.readline()
        assert first == b"ready\n", child.stderr.read().decode()[-3000:]
        time.sleep(rng.uniform(0.0, 0.6))
        child.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no chance to clean up
        rest, _ = child.communicate()
        for line in rest.decode().split("\n")[:-1]:  # an unfinished last line was never acknowledged
            kind, key, value = line.split()
            acked[kind][int(key)] = value

        with Workspace.open(path, PASS) as ws:
            assert ws.check_integrity() == (True, []), f"round {round_no}"
            ok, bad, message = ws.verify_audit()
            assert ok, f"round {round_no}: {message}"
            imports = {i["import_id"]: i for i in ws.imports()}
            for import_id, n_rows in acked["i"].items():
                assert imports[import_id]["rows_imported"] == int(n_rows), f"round {round_no}: import lost"
            runs = {r["run_id"] for r in ws.runs()}
            assert set(acked["r"]) <= runs, f"round {round_no}: an acknowledged run is missing"
            for event_id, cid in acked["d"].items():
                assert any(h["event_id"] == event_id for h in ws.decision_history(cid)), (round_no, event_id)
            # nothing half-written: what this round stored (acknowledged or not) reads back whole
            for import_id in set(imports) - checked_imports:
                assert ws.load_import_rows(import_id).height == imports[import_id]["rows_imported"]
            for run_id in runs - checked_runs:
                assert ws.load_results(run_id).height > 0
            checked_imports |= set(imports)
            checked_runs |= runs
            audited = {e["details"]["import_id"] for e in ws.audit_entries("import")}
            assert audited == set(imports), "an import without its audit entry, or the reverse"
    seconds = time.perf_counter() - started
    assert acked["i"] and acked["r"] and acked["d"]
    figures(f"kill loop (import + run + decisions): {rounds} SIGKILLs, {len(acked['i'])} imports, "
            f"{len(acked['r'])} runs, {len(acked['d'])} decisions acknowledged and all found; {seconds:.1f} s")


# ------------------------------------------------------------------------------------------------
# The audit head on paper and on file


def _pdf_text(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


def test_audit_head_is_printed_on_documents_and_workbooks(tmp_path):
    extract = tmp_path / "extract.dat"
    demo.write_demo_extract(extract, 1500, "SACRAMENTO", 11, traps=True)
    rows, report = pipeline.import_only([extract])
    run = pipeline.screen_rows(rows, report, county="SACRAMENTO", as_of=AS_OF, profile=profiles.load_profile())
    pipeline.write_outputs(run, tmp_path / "run")
    with Workspace.create(tmp_path / "w.clearrec", PASS, county="SACRAMENTO") as ws:
        store_in_workspace(ws, rows, report, run)
        ids = run.results.filter(pl.col("outcome") == "dismiss")["conviction_id"].to_list()
        ws.record_decision(ids[0], "accept")
        ws.record_decision(ids[1], "challenge", ground="public_safety", reason="pending case")
        head = ws.audit_head()
        paths = packet.build_documents(tmp_path / "run", OFFICE, tmp_path / "docs", per_case=True,
                                          decisions=ws.current_decisions(), audit_head=head)
        paths += packet.build_documents(tmp_path / "run", OFFICE, tmp_path / "bulk",
                                        decisions=ws.current_decisions(), audit_head=head)
        ws.log_event("document", {"files": len(paths)})
        written = exports.export_from_dir(tmp_path / "run", xlsx=tmp_path / "review.xlsx",
                                          impact_report=tmp_path / "impact.pdf",
                                          decisions=ws.current_decisions(), audit_head=ws.audit_head())
        file_head = ws.audit_head()
        ws.log_event("export", {"files": len(written)})
        entries = ws.audit_entries()
        assert ws.verify_audit()[0]

    pdfs = [p for p in paths if p.suffix == ".pdf"]
    assert {p.name for p in pdfs} >= {"motion-packet-lodged-under-seal.pdf", "motion-packet-public-redacted.pdf",
                                      "challenge-notice-lodged-under-seal.pdf", "cover-report.pdf"}
    assert any(p.name.endswith("-order.pdf") for p in pdfs) and any(p.name.endswith("-motion.pdf") for p in pdfs)
    for pdf in pdfs:
        pages = _pdf_text(pdf)
        assert head in pages[-1], f"{pdf.name}: no audit head on its last page"
    assert file_head in " ".join(_pdf_text(tmp_path / "impact.pdf"))
    # no PDF claims to have been made on 2000-01-01 (reportlab's invariant date): they carry no date
    import pypdf
    for pdf in [*pdfs, tmp_path / "impact.pdf"]:
        info = pypdf.PdfReader(pdf).metadata or {}
        assert "/CreationDate" not in info and "/ModDate" not in info, pdf.name
        assert info.get("/Creator"), pdf.name  # the rest of the info dictionary is still written
    summary = [v for r in openpyxl.load_workbook(tmp_path / "review.xlsx")["Summary"].iter_rows(values_only=True)
               for v in r if v is not None]
    assert file_head in summary
    # paper and file reconcile with the chain: each printed head is the hash of an entry in it,
    # and the entry right after it records the documents / the export
    hashes = [e["hash"] for e in entries]
    assert entries[hashes.index(head) + 1]["action"] == "document"
    assert entries[hashes.index(file_head) + 1]["action"] == "export"
    # `clearrec audit verify --against` finds each printed head in the workspace's history (13.5)
    os.environ["CLEARREC_PASSPHRASE"] = PASS
    try:
        for made in (*pdfs, tmp_path / "review.xlsx", tmp_path / "impact.pdf"):
            assert cli.main(["audit", "verify", str(tmp_path / "w.clearrec"), "--against", str(made)]) == 0, made
    finally:
        del os.environ["CLEARREC_PASSPHRASE"]


def test_clearrec_audit_verify_names_the_first_altered_entry(tmp_path, monkeypatch, capsys):
    from sqlcipher3 import dbapi2 as sqlcipher

    path = tmp_path / "w.clearrec"
    with Workspace.create(path, PASS, county="SACRAMENTO") as ws:
        for i in range(4):
            ws.log_event("export", {"files": i})
    monkeypatch.setenv("CLEARREC_PASSPHRASE", PASS)
    assert cli.main(["audit", "verify", str(path)]) == 0
    assert capsys.readouterr().out.startswith("audit trail intact: 5 entries, head ")

    conn = sqlcipher.connect(str(path), isolation_level=None)  # behind the program's back
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = '{PASS}'")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("""UPDATE audit SET details = '{"files":99}' WHERE seq = 3""")
    conn.close()
    assert cli.main(["audit", "verify", str(path)]) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "2 problem(s) found:"  # each difference on its own line
    assert "  - audit entry 3 was altered after it was written" in out
    assert "  - the audit trail's append-only protection has been removed (trigger audit_no_update)" in out


# ------------------------------------------------------------------------------------------------
# Offline: URLs are refused at every door, before a library sees them


@pytest.mark.parametrize("url", ["https://example.invalid/x.dat", "file:///etc/passwd", "s3://bucket/key.csv",
                                 "\\\\server\\share\\x.dat", "//server/share/x.dat"])
def test_urls_and_network_shares_are_refused_everywhere(url, tmp_path):
    from clearrec_desktop.core.ingest import county_files, county_mapping

    good_run = tmp_path / "run"
    calls = [
        lambda: importer.import_files([url]),
        lambda: importer.import_files([url], mapping={"court_case_number": "a", "conviction_date": "b",
                                                      "code_section": "c", "county": "d", "subject_id": "e"}),
        lambda: county_mapping.load_mapping(url),
        lambda: county_files.preview(url),
        lambda: run_folder.read_screen_output(url),
        lambda: filing.load_office(url),
        lambda: packet.build_documents(url, OFFICE, tmp_path / "d"),
        lambda: packet.build_documents(good_run, OFFICE, url),
        lambda: workbook.write_workbook(pl.DataFrame({"conviction_id": ["a"], "outcome": ["dismiss"]}), {}, url),
        lambda: exports.export_from_dir(url, xlsx=tmp_path / "x.xlsx"),
        lambda: Workspace.create(url, PASS),
        lambda: Workspace.open(url, PASS),
        lambda: cli.main(["demo-data", url]),
    ]
    extract = tmp_path / "e.dat"
    demo.write_demo_extract(extract, 300, "SACRAMENTO", 1)
    pipeline.write_outputs(pipeline.run_screen([extract], county="SACRAMENTO", as_of=AS_OF), good_run)
    for i, call in enumerate(calls):
        try:
            result = call()
        except InputError as exc:
            assert "web address" in str(exc) or "network share" in str(exc), (i, str(exc))
        else:
            assert result == 2, f"call {i} accepted {url!r}"


# ------------------------------------------------------------------------------------------------
# Issue 13: the screening output folder is written as one set (4), cells that would run as
# formulas are neutralised in files for people (8), documentation and code agree (13), and
# messages name the real cause (11)


def _screen_to(folder: Path, extract: Path) -> pipeline.ScreenRun:
    rows, report = pipeline.import_only([extract])
    run = pipeline.screen_rows(rows, report, county="SACRAMENTO", as_of=AS_OF, profile=profiles.load_profile())
    pipeline.write_outputs(run, folder)
    return run


def test_a_disk_full_screen_leaves_the_previous_output_whole(tmp_path, monkeypatch):
    """13.4: disk full mid-write left a cut results.csv beside the previous summary.json."""
    small, large, out = tmp_path / "small.dat", tmp_path / "large.dat", tmp_path / "run"
    demo.write_demo_extract(small, 400, "SACRAMENTO", 3, traps=False)
    demo.write_demo_extract(large, 3000, "SACRAMENTO", 4, traps=False)
    first = _screen_to(out, small)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real = pl.DataFrame.write_csv

    def disk_fills_up(frame, file=None, *args, **kwargs):
        if file is not None and frame.height > first.results.height:  # the second run's results
            data = real(frame, None, *args, **kwargs).encode("utf-8")
            with open(file, "wb") as fh:
                fh.write(data[: len(data) // 3])
            raise OSError(28, "No space left on device")
        return real(frame, file, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_csv", disk_fills_up)
    rows, report = pipeline.import_only([large])
    run = pipeline.screen_rows(rows, report, county="SACRAMENTO", as_of=AS_OF, profile=profiles.load_profile())
    with pytest.raises((InputError, OSError)) as caught:
        pipeline.write_outputs(run, out)
    monkeypatch.undo()
    assert "disk is full" in str(caught.value) and "left as they were" in str(caught.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no cut file, no temporary left
    results, summary = run_folder.read_screen_output(out)
    assert results.height == summary["convictions"]["total"] == first.results.height


def test_documents_and_exports_refuse_files_that_do_not_match_the_manifest(tmp_path):
    a, b = tmp_path / "a.dat", tmp_path / "b.dat"
    demo.write_demo_extract(a, 400, "SACRAMENTO", 3, traps=False)
    demo.write_demo_extract(b, 900, "SACRAMENTO", 4, traps=False)
    _screen_to(tmp_path / "run-a", a)
    _screen_to(tmp_path / "run-b", b)
    summary = json.loads((tmp_path / "run-a" / "summary.json").read_text())
    assert set(summary["files"]) == {"results.csv", "rejected.csv", "import-report.txt", "import-report.json"}
    assert all(len(v["sha256"]) == 64 for v in summary["files"].values())
    # the state a crash between two renames leaves: one run's results beside another's summary
    shutil.copy(tmp_path / "run-b" / "results.csv", tmp_path / "run-a" / "results.csv")
    with pytest.raises(InputError, match="results.csv is not the file summary.json was written with"):
        packet.build_documents(tmp_path / "run-a", OFFICE, tmp_path / "docs")
    with pytest.raises(InputError, match="results.csv is not the file summary.json was written with"):
        exports.export_from_dir(tmp_path / "run-a", xlsx=tmp_path / "r.xlsx")
    assert cli.main(["documents", str(tmp_path / "run-a"), "--office", str(OFFICE), "--out", str(tmp_path / "d")]) == 2
    # a cut file
    text = (tmp_path / "run-b" / "results.csv").read_bytes()
    (tmp_path / "run-b" / "results.csv").write_bytes(text[: len(text) // 2])
    with pytest.raises(InputError, match="cut short"):
        run_folder.read_screen_output(tmp_path / "run-b")
    assert not (tmp_path / "docs").exists() and not (tmp_path / "r.xlsx").exists()


FORMULAS = ['=HYPERLINK("http://x.invalid","CLICK")', "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\t=1+1"]


def test_results_csv_cells_that_would_run_as_formulas_are_neutralised(tmp_path):
    """13.8: results.csv reaches Excel by double-click; machine files keep the value."""
    extract = tmp_path / "formulas.dat"
    demo.write_demo_extract(extract, 600, "SACRAMENTO", 5, traps=False)
    lines = extract.read_text(encoding="utf-8").split("\n")
    name_col = DOJ_COLUMNS.index("PRI_NAME")
    for i in range(1, len(lines) - 1):
        fields = next(csv.reader([lines[i]]))
        fields[name_col] = FORMULAS[i % len(FORMULAS)].replace("\\t", "\t")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(fields)
        lines[i] = buf.getvalue()
    extract.write_text("\n".join(lines), encoding="utf-8")
    run = _screen_to(tmp_path / "run", extract)
    assert run.results.height

    with open(tmp_path / "run" / "results.csv", newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]  # every one neutralised
    assert any(c.startswith("'=HYPERLINK(") for c in cells) and any(c.startswith("'+SUM") for c in cells)
    # read back exactly as screened (documents and exports see the real value)
    results, _ = run_folder.read_screen_output(tmp_path / "run")
    assert sorted(results["name"].unique().to_list()) == sorted(run.results["name"].unique().to_list())
    # the DOJ-layout file is for machines: the value as read
    doj_out = tmp_path / "doj.csv"
    exports.export_from_dir(tmp_path / "run", doj_results=doj_out)
    raw = doj_out.read_text(encoding="utf-8")
    assert '=HYPERLINK(""http://x.invalid"",""CLICK"")' in raw or '=HYPERLINK("http://x.invalid","CLICK")' in raw
    # the import report says so, naming the column, never the value
    report = (tmp_path / "run" / "import-report.txt").read_text(encoding="utf-8")
    assert "would run as a formula" in report and "name" in report and "HYPERLINK" not in report


def test_docs_and_code_agree_on_the_county_file_limits():
    """13.13: docs/security.md said 512 MB for county CSV files, the code 200 MB."""
    import re

    from clearrec_desktop.core.ingest import spreadsheets

    doc = (Path(__file__).resolve().parents[1] / "docs" / "security.md").read_text(encoding="utf-8")
    m = re.search(r"county CSV files are limited to ([\d,]+) MB and\s+spreadsheets to ([\d,]+) MB and "
                  r"([\d.]+) GB unpacked", doc)
    assert m, "docs/security.md no longer states the county file limits"
    mb = 1024**2
    assert int(m.group(1).replace(",", "")) * mb == spreadsheets.MAX_CSV_BYTES
    assert int(m.group(2).replace(",", "")) * mb == spreadsheets.MAX_SPREADSHEET_BYTES
    assert float(m.group(3)) * 1024**3 == spreadsheets.MAX_UNZIPPED_BYTES


def test_a_header_only_file_says_it_holds_no_records(tmp_path, capsys):
    """13.11: was "county 'SACRAMENTO' is not in the data; counties present: none"."""
    extract = tmp_path / "header-only.dat"
    demo.write_demo_extract(extract, 10, "SACRAMENTO", 1, traps=False)
    extract.write_text(extract.read_text(encoding="utf-8").split("\n")[0] + "\n", encoding="utf-8")
    code = cli.main(["screen", str(extract), "--county", "Sacramento", "--as-of", "2026-11-01",
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "header-only.dat: holds a header line and no records" in err
    assert "counties present" not in err


def test_stray_carriage_returns_are_named(tmp_path):
    """13.11: a lone CR joining two records was rejected as "has 189 fields"."""
    extract = tmp_path / "mixed-line-ends.dat"
    demo.write_demo_extract(extract, 200, "SACRAMENTO", 2, traps=False)
    lines = extract.read_bytes().split(b"\n")
    lines[10] = lines[10] + b"\r" + lines[11]
    del lines[11]
    extract.write_bytes(b"\n".join(lines))
    rows, report = pipeline.import_only([extract])
    reasons = {r["line"]: r["reason"] for r in report.rejected}
    assert "carriage return" in reasons[11] and "records run together" in reasons[11], reasons
    assert rows.height > 150
