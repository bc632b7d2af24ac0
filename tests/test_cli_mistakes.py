"""Common command-line mistakes get one line and exit 2, never "internal error" (issue 19.4)."""

from __future__ import annotations

from clearrec_desktop import cli
from clearrec_desktop.core.safety import resource_path

SCREEN = ["--county", "Sacramento", "--as-of", "2026-11-01"]


def _run(capsys, argv):
    code = cli.main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


def test_output_path_that_is_an_existing_file(tmp_path, capsys):
    extract = resource_path("demo/demo-extract.csv")
    taken = tmp_path / "results.xlsx"
    taken.write_bytes(b"")
    code, err = _run(capsys, ["screen", str(extract), *SCREEN, "--out", str(taken)])
    assert code == 2 and "internal error" not in err and len(err.splitlines()) == 1
    assert err.startswith("clearrec: results.xlsx: already exists as a file")


def test_unknown_profile_lists_the_shipped_ids(tmp_path, capsys):
    code, err = _run(capsys, ["screen", str(resource_path("demo/demo-extract.csv")), *SCREEN, "--profile", "sacramento",
                              "--out", str(tmp_path / "o")])
    assert code == 2 and len(err.splitlines()) == 1
    assert "no such profile" in err and "sacramento-2019" in err and "statutory" in err


def test_audit_verify_without_terminal_or_passphrase(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CLEARREC_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # no terminal
    ws = tmp_path / "w.clearrec"
    ws.write_bytes(b"not a workspace")
    code, err = _run(capsys, ["audit", "verify", str(ws)])
    assert code == 2 and "internal error" not in err and "EOFError" not in err


def _subcommands(parser, path=()):
    import argparse

    for action in parser._actions:  # argparse keeps no public list of subparsers
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommands(sub, (*path, name))
            return
    yield path, parser


def test_every_subcommand_has_an_example_and_every_argument_help():
    missing = []
    for path, parser in _subcommands(cli.build_parser()):
        name = " ".join(path)
        if "example" not in (parser.epilog or ""):
            missing.append(f"{name}: no example")
        for action in parser._actions:
            if action.dest != "help" and not action.help:
                missing.append(f"{name}: {'/'.join(action.option_strings) or action.dest} has no help")
    assert not missing, "\n".join(missing)


def test_documents_says_how_many_were_left_out_and_why(tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main(["screen", str(resource_path("demo/demo-extract.csv")), *SCREEN, "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["documents", str(out), "--office", str(resource_path("demo/office.toml")), "--posture",
                     "doj-list", "--doj-list-received", "2026-09-15", "--out", str(tmp_path / "d")]) == 0
    captured = capsys.readouterr()
    assert not captured.err  # a summary, not a warning
    assert "in these documents:" in captured.out and "left out:" in captured.out
    assert "still in attorney review" in captured.out  # a reason, in words


MISSING = "no-such-file.csv"


def _mistakes(tmp):
    out = str(tmp / "out")
    return [
        ["screen", MISSING, *SCREEN, "--out", out],
        ["screen", str(tmp), *SCREEN, "--out", out],                       # a folder given as the file
        ["screen", str(resource_path("demo/demo-extract.csv")), "--county", "Sacramento", "--as-of", "2026-13-45",
         "--out", out],
        ["screen", str(resource_path("demo/demo-extract.csv")), *SCREEN, "--mapping", MISSING, "--out", out],
        ["explain-profile", "sacramento"],
        ["documents", str(tmp / "nothing-here"), "--office", str(resource_path("demo/office.toml")), "--out", out],
        ["export", str(tmp / "nothing-here"), "--xlsx", str(tmp / "r.xlsx")],
        ["reconcile", MISSING, MISSING, "--mapping", MISSING, *SCREEN, "--out", out],
        ["audit", "verify", MISSING],
        ["workspace", "backup", MISSING, str(tmp / "b.clearrec")],
    ]


def test_each_subcommand_meets_common_mistakes_with_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLEARREC_PASSPHRASE", "correct horse battery staple")
    monkeypatch.chdir(tmp_path)
    problems = []
    for argv in _mistakes(tmp_path):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's own usage errors exit 2 too
            code = exc.code
        err = capsys.readouterr().err.strip()
        lines = [line for line in err.splitlines() if line.strip()]
        if code != 2 or "internal error" in err or "Traceback" in err or not lines:
            problems.append(f"{' '.join(argv[:2])}: exit {code}: {err[:200]}")
        elif not err.startswith("usage:") and len(lines) != 1:
            problems.append(f"{' '.join(argv[:2])}: {len(lines)} lines: {err[:200]}")
    assert not problems, "\n".join(problems)
