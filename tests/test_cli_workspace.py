"""`clearrec workspace new|import|screen|decide`, `clearrec filings ...`, `clearrec lookup` (issue 16):
an end-to-end walk from an extract to a status letter, the passphrase rules and the help texts."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pdfplumber
import pytest

from clearrec_desktop import cli
from clearrec_desktop.core import demo

PASS = "correct horse battery staple 9"
OFFICE = ('district_attorney = "Jane Q. Prosecutor"\nstate_bar_number = "123456"\n'
          'office = "Office of the District Attorney"\naddress = "901 G Street\\nSacramento, CA 95814"\n'
          'phone = "(916) 555-0100"\nemail = "relief@da.example.gov"\n'
          'court = "Superior Court of the State of California"\ncounty = "Sacramento"\n')


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CLEARREC_PASSPHRASE", PASS)
    monkeypatch.chdir(tmp_path)
    demo.write_demo_extract(tmp_path / "x.csv", 400, "SACRAMENTO", 11)
    (tmp_path / "office.toml").write_text(OFFICE)
    return tmp_path


def _returned(update_csv, out, *, denied: int):
    rows = list(csv.reader(io.StringIO(update_csv.read_text(encoding="utf-8-sig"))))
    header = rows[0] + ["ruling"]
    at = header.index("order_date")
    body = []
    for k, r in enumerate(rows[1:]):
        r[at] = "12/01/2026"
        body.append(r + ["denied" if k < denied else "granted"])
    stranger = [""] * len(header)
    stranger[header.index("court_case_number")], stranger[header.index("count")] = "99F00000", "1"
    stranger[at], stranger[-1] = "2026-12-01", "granted"
    with open(out, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *body, stranger])
    return [dict(zip(header, r)) for r in body]


def test_walk_from_extract_to_status_letter(env, capsys):
    assert run(capsys, "workspace", "new", "w.clearrec", "--county", "sacramento")[0] == 0
    code, out, _ = run(capsys, "workspace", "import", "w.clearrec", "x.csv")
    assert code == 0 and "400 row(s)" in out
    code, out, _ = run(capsys, "workspace", "screen", "w.clearrec", "--as-of", "2026-11-01")
    assert code == 0 and "screened" in out
    # the documents of the same extract and date, then the filing recorded from their folder
    assert run(capsys, "screen", "x.csv", "--county", "SACRAMENTO", "--as-of", "2026-11-01", "--out", "run")[0] == 0
    assert run(capsys, "documents", "run", "--office", "office.toml", "--out", "docs")[0] == 0
    code, out, err = run(capsys, "filings", "record", "w.clearrec", "docs", "--court", "Superior Court, Sacramento",
                         "--filed-on", "2026-11-02", "--posture", "supplemental")
    assert code == 0, err
    assert "recorded filing 1" in out and "no audit head found" in out   # the extract's SHA-256 is not a head
    filed = _returned(env / "docs" / "court-update.csv", env / "returned.csv", denied=2)
    code, out, _ = run(capsys, "filings", "ruling", "w.clearrec", "--file", "returned.csv")
    assert code == 0
    assert f"{len(filed)} ruling(s) recorded (denied: 2, granted: {len(filed) - 2})" in out
    assert "99F00000" in out and "match no filed conviction" in out
    code, out, _ = run(capsys, "filings", "list", "w.clearrec", "--waiting", "10")
    assert code == 0 and f"Ruled by the court: {len(filed)}" in out and "Filed, waiting for the court: 0" in out
    granted = next(r for r in filed[2:] if r["action"].startswith("dismiss"))
    misspelled = granted["name"][:-1] + ("Q" if granted["name"][-1] != "Q" else "X")
    code, out, _ = run(capsys, "lookup", "w.clearrec", "--name", misspelled, "--reason", "caller asked",
                       "--letter", "letter.pdf", "--office", "office.toml",
                       *(["--person", "1"]))
    assert code == 0 and granted["name"] in out and granted["court_case_number"] in out
    assert "granted as asked" in out
    assert granted["dob"] not in out and granted["cii_number"] not in out   # status only, no other record data
    with pdfplumber.open(env / "letter.pdf") as doc:
        text = " ".join(" ".join((p.extract_text() or "").split()) for p in doc.pages)
    assert granted["court_case_number"] in text and "deemed never to have occurred" in text
    others = {r["court_case_number"] for r in filed if r["name"] != granted["name"]}
    assert not [c for c in others if c in text]
    assert "Jane Q. Prosecutor" in text
    code, out, _ = run(capsys, "audit", "verify", "w.clearrec")
    assert code == 0, out


def test_decide_single_and_from_csv(env, capsys):
    run(capsys, "workspace", "new", "w.clearrec", "--county", "SACRAMENTO")
    run(capsys, "workspace", "import", "w.clearrec", "x.csv")
    run(capsys, "workspace", "screen", "w.clearrec", "--as-of", "2026-11-01")
    from clearrec_desktop.core.workspace.store import Workspace

    with Workspace.open(env / "w.clearrec", PASS) as ws:
        results = ws.load_results(ws.latest_run()["run_id"])
    ids = results.filter(results["outcome"] == "dismiss")["conviction_id"].to_list()
    code, out, _ = run(capsys, "workspace", "decide", "w.clearrec", ids[0], "accept")
    assert code == 0 and "recorded: accept" in out
    code, _, err = run(capsys, "workspace", "decide", "w.clearrec", ids[1], "reduce")
    assert code == 2 and "reason is required" in err and err.count("\n") == 1
    (env / "d.csv").write_text("conviction_id,decision,reason\n" + f"{ids[1]},accept,\nnobody,accept,\n")
    code, out, err = run(capsys, "workspace", "decide", "w.clearrec", "--from-csv", "d.csv")
    assert code == 2 and "recorded 1 decision(s)" in out and "d.csv line 3" in err


def test_user_mistakes_exit_2_with_one_line(env, capsys):
    run(capsys, "workspace", "new", "w.clearrec", "--county", "SACRAMENTO")
    for argv, words in (
        (("filings", "ruling", "w.clearrec", "granted", "--filing", "9", "--order-date", "2026-12-01"), "no filing 9"),
        (("filings", "record", "w.clearrec", "nowhere", "--court", "c", "--filed-on", "2026-11-02", "--posture", "p"),
         "not a folder"),
        (("lookup", "w.clearrec", "--name", "x", "--reason", "r"), "no screening run"),
        (("filings", "ruling", "w.clearrec", "--file", "missing.csv"), "no such ruling file"),
        (("workspace", "screen", "w.clearrec"), "nothing imported"),
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2 and words in err and err.count("\n") == 1, (argv, err)
    with pytest.raises(SystemExit) as exc:
        cli.main(["filings", "list", "w.clearrec", "--waiting", "soon"])
    assert exc.value.code == 2


def test_passphrase_never_an_argument_and_no_terminal_means_exit_2(env, tmp_path):
    run_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "clearrec_desktop.cli", "lookup", "w.clearrec", "--name", "x",
                           "--reason", "r"], capture_output=True, text=True, stdin=subprocess.DEVNULL, env=run_env,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "CLEARREC_PASSPHRASE" in proc.stderr
    parser = cli.build_parser()
    for argv in (["workspace", "new", "w", "--county", "X", "--passphrase", "p"],):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)


@pytest.mark.parametrize("argv", [
    ["workspace", "new"], ["workspace", "import"], ["workspace", "screen"], ["workspace", "decide"],
    ["filings"], ["filings", "list"], ["filings", "record"], ["filings", "withdraw"], ["filings", "ruling"],
    ["filings", "reported"], ["lookup"],
])
def test_every_subcommand_and_option_has_help_with_an_example(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([*argv, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "example:" in text and "clearrec " in text.split("example:")[1]
    parser = cli.build_parser()
    action = parser
    for word in argv:
        sub = next(a for a in action._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
        action = sub.choices[word]
    for opt in action._actions:
        if opt.dest != "help" and not opt.dest.endswith("_command"):  # subcommands: their own help
            assert opt.help, (argv, opt.dest)
