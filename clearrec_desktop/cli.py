"""`clearrec`: the command line. Every command drives core/ only, exactly as the GUI does.

Exit codes: 0 done (even with rejected lines), 2 unusable input (one-line message on stderr),
1 an unexpected internal error (message without record data).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

from . import __version__
from .core.errors import InputError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _options(pairs: list[str] | None) -> dict:
    out = {}
    for p in pairs or []:
        key, _, value = p.partition("=")
        if not key or not _:
            raise InputError(f"--profile-option {p!r}: use NAME=true or NAME=false")
        out[key.strip()] = value.strip().lower() in ("1", "true", "yes", "on")
    return out


def cmd_screen(a) -> int:
    from .core import pipeline
    from .core.screen import profiles

    profile = profiles.load_profile(a.profile, options=_options(a.profile_option))
    mapping = Path(a.mapping) if a.mapping else None
    if mapping is not None:  # checked now, even when no file needs it: a typo must not pass unseen
        from .core.ingest.county_mapping import load_mapping
        load_mapping(mapping)

    def progress(fraction, message):
        if a.verbose:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    rows, report, facts = pipeline.read_for_screening(a.files, mapping=mapping, keep_rows=False,
                                                      progress=lambda f, m: progress(f * 0.55, m))
    mismatch = pipeline.county_mismatch(a.county, report)
    if mismatch:  # said before screening, so a wrong --county is noticed at once
        print(f"clearrec: warning: {mismatch}", file=sys.stderr)
    run = pipeline.screen_rows(rows, report, county=a.county, as_of=a.as_of, profile=profile, progress=progress,
                               facts=facts, once=True)
    out = Path(a.out)
    pipeline.write_outputs(run, out)
    s = run.summary
    c, p = s["convictions"], s["people"]
    print(f"Screened {c['total']:,} cannabis conviction count(s) in {s['county']} as of {s['as_of']} "
          f"with profile '{run.profile.id}'.")
    print("  " + ", ".join(f"{k}: {v:,}" for k, v in c["by_outcome"].items()) if c["by_outcome"] else "  no convictions found for this county")
    print(f"  people: {p['with_conviction']:,}; with some relief: {p['with_relief']:,}; no felony left: {p['no_felony_left']:,}; "
          f"no conviction left: {p['no_conviction_left']:,}")
    rej = len(run.report.rejected)
    print(f"  lines read: {sum(f.lines_read for f in run.report.files):,}; rejected: {rej:,}"
          + (f" (see {out / 'rejected.csv'})" if rej else ""))
    print(f"  written to {out}")
    return 0


def cmd_profiles(a) -> int:
    from .core.screen import profiles

    for p in profiles.list_profiles():
        print(f"{p.id:<22} {p.title}")
    return 0


def cmd_explain(a) -> int:
    from .core.screen import profiles

    if a.vocabulary:
        for name, pred in profiles.PREDICATES.items():
            arg = {"": "", "int": "(N)", "date": "(YYYY-MM-DD)", "sections": "(11357, ...)", "codes": "(\"HS 11357(a)\", ...)",
                   "list": "(list-name)"}[pred.args]
            print(f"{name}{arg}: {pred.text.replace('{}', 'the argument')}")
        return 0
    if not a.profile:
        raise InputError("name a profile (see `clearrec profiles`) or use --vocabulary")
    profile = profiles.load_profile(a.profile, options=_options(a.profile_option))
    print(profile.explain())
    if a.lists:
        for name, lst in profile.lists().items():
            print(f"\n{name} ({len(lst)} entries, {lst.path}):")
            for e in lst.entries:
                extra = f"; {e.condition()}" if e.condition() else ""
                print(f"  {e.code_section:<18} {e.description} [{e.citation or 'no citation'}{extra}]")
    return 0


def cmd_demo(a) -> int:
    from .core import demo
    from .core.safety import local_path

    out = local_path(a.out, must_exist=False)
    county_out = local_path(a.county_export, must_exist=False) if a.county_export else None
    if county_out is not None and county_out == out:
        raise InputError(f"{county_out.name}: --county-export must be another file than the DOJ extract")
    stats = demo.write_demo_extract(out, a.rows, a.county, a.seed, header=not a.no_header, traps=not a.clean)
    print(f"wrote {out} ({stats.get('rows', a.rows):,} rows)")
    if county_out is not None:
        from .core import demo_county

        truth = county_out.with_name(county_out.stem + ".truth.csv")
        mapping = county_out.with_name(county_out.stem + ".mapping.toml")
        c = demo_county.write_county_export(out, county_out, county=a.county, seed=a.seed, truth_path=truth,
                                            mapping_path=mapping)
        print(f"wrote {county_out} ({c['rows']:,} rows, county case-management export)")
        print(f"wrote {mapping} (its column mapping)")
        print(f"wrote {truth} (what was planted: for tests and benchmarks, not for the app)")
    return 0


def cmd_reconcile(a) -> int:
    from .core.outputs.run_folder import write_run_folder
    from .core.reconcile import run as reconcile_run
    from .core.screen import profiles

    profile = profiles.load_profile(a.profile, options=_options(a.profile_option))

    def progress(fraction, message):
        if a.verbose:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    run = reconcile_run.run_reconcile(a.doj_file, a.county_file, mapping=Path(a.mapping) if a.mapping else None,
                                      county=a.county, as_of=a.as_of, profile=profile, progress=progress)
    out = Path(a.out)
    write_run_folder(run.results, run.report, run.summary, out)
    paths = reconcile_run.write_tables(run, out)
    r = run.summary["reconciliation"]
    lists, pl_, cl = r["lists"], r["person_links"], r["conviction_links"]
    print(f"Reconciled DOJ's extract with the county's records for {run.county} as of {run.as_of} "
          f"with profile '{run.profile.id}'.")
    print(f"  both: {lists['both']:,}; both but disagreeing: {lists['both_disagreeing']:,}; "
          f"DOJ only: {lists['doj_only']:,}; county only: {lists['county_only']:,} "
          f"({r['county_only_with_doj_history']:,} with the DOJ history, {r['county_only_history_unknown']:,} statewide history unknown)")
    print("  county only by outcome: " + (", ".join(f"{k}: {v:,}" for k, v in r["county_only_by_outcome"].items()) or "none")
          + f"; people newly relieved: {r['people_newly_relieved']:,}")
    print(f"  links: people {sum(pl_.values()):,} ({pl_.get('proposed', 0):,} proposed), "
          f"convictions {sum(cl.values()):,} ({cl.get('proposed', 0):,} proposed: confirm or split them in the app)")
    rej = len(run.report.rejected)
    print(f"  lines rejected: {rej:,}" + (f" (see {out / 'rejected.csv'})" if rej else ""))
    print(f"  written to {out} ({paths['reconciliation'].name}, {paths['links'].name}, results.csv, summary.json)")
    return 0


def cmd_documents(a) -> int:
    from .core.outputs import filing, packet

    options = filing.FilingOptions(
        posture=a.posture.replace("-", "_"), doj_list_received=a.doj_list_received, petition_filed=a.petition_filed,
        petition_cases=tuple(a.petition_case or ()), include=a.include, challenge_ineligible=a.challenge_ineligible,
        include_juvenile=a.include_juvenile, compact=a.compact, filing_date=a.filing_date or date.today(),
        versions=tuple(a.version or ("sealed", "public")))
    paths = packet.build_documents(Path(a.screen_out), Path(a.office), Path(a.out), per_case=a.per_case,
                                   by_courthouse=a.by_courthouse, decisions=a.decisions and Path(a.decisions),
                                   corrections=a.corrections and Path(a.corrections), options=options,
                                   counts=(counts := {}))
    for p in paths:  # every file written, one per line; then what went in (stdout: not a warning)
        print(p)
    left = counts.get("left_out") or {}
    print(f"in these documents: {counts.get('granted', 0):,} convictions for relief, "
          f"{counts.get('challenged', 0):,} challenged; left out: {sum(left.values()):,} "
          "(each listed with its reason in the cover report)")
    for kind, n in sorted(left.items(), key=lambda kv: (-kv[1], kv[0])):  # the cover report lists each row
        print(f"  {n:,} {filing.LEFT_OUT.get(kind, kind)}")
    return 0


def cmd_export(a) -> int:
    from .core.outputs import exports

    if not (a.xlsx or a.doj_results or a.impact_report):
        raise InputError("choose at least one of --xlsx, --doj-results, --impact-report")
    paths = exports.export_from_dir(Path(a.screen_out), xlsx=a.xlsx and Path(a.xlsx),
                                    doj_results=a.doj_results and Path(a.doj_results),
                                    impact_report=a.impact_report and Path(a.impact_report))
    for p in paths or []:
        print(p)
    return 0


def _passphrase(prompt: str = "Workspace passphrase: ") -> str:
    """From CLEARREC_PASSPHRASE, else typed at the terminal; never a command-line argument
    (it would show in the process list and the shell history)."""
    passphrase = os.environ.get("CLEARREC_PASSPHRASE")
    if passphrase is not None:
        return passphrase
    if sys.stdin is None or not sys.stdin.isatty():
        raise InputError("a workspace passphrase is needed: there is no terminal to type it in, so set it in the "
                         "CLEARREC_PASSPHRASE environment variable")
    import getpass
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return getpass.getpass(prompt)
        except (EOFError, getpass.GetPassWarning):
            raise InputError("a workspace passphrase is needed: it could not be read from the terminal; set it in "
                             "the CLEARREC_PASSPHRASE environment variable") from None


def _notices(ws) -> None:
    for notice in ws.notices:
        print(f"clearrec: {notice}", file=sys.stderr)


def cmd_audit_verify(a) -> int:
    from .core.workspace.store import Workspace
    from .core.workspace.verify import check_against

    passphrase = _passphrase()
    with Workspace.open(Path(a.workspace), passphrase, read_only=True) as ws:
        _notices(ws)
        report = ws.verify_report()
        for line in report.lines():
            print(line)
        ok = report.ok
        if a.against:
            found, message = check_against(ws, a.against)
            print(message)
            ok = ok and found
    return 0 if ok else 3


def _progress(verbose: bool):
    def progress(fraction, message):
        if verbose:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)
    return progress


def cmd_workspace_backup(a) -> int:
    from .core.workspace.store import Workspace

    passphrase = _passphrase()
    with Workspace.open(Path(a.workspace), passphrase) as ws:
        _notices(ws)
        dest = ws.backup(Path(a.dest), progress=_progress(a.verbose))
        head = ws.audit_entries("backup")[-1]["details"]["head"]
    print(f"backed up {Path(a.workspace).name} to {dest} (audit head {head})")
    return 0


def cmd_workspace_restore(a) -> int:
    from .core.workspace.store import restore_workspace

    passphrase = _passphrase("Passphrase of the backup: ")
    restored, aside = restore_workspace(Path(a.backup), Path(a.workspace), passphrase, progress=_progress(a.verbose))
    print(f"restored {restored} from {Path(a.backup).name}")
    if aside is not None:
        print(f"the workspace it replaced is kept as {aside}")
    return 0


def _example(*lines: str) -> str:
    return "example:\n" + "\n".join("  " + line for line in lines)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="clearrec", description="Offline screening of cannabis convictions for Prop 64 relief.")
    ap.add_argument("--version", action="version", version=f"clearrec {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    s = sub.add_parser("screen", help="import extracts and screen every cannabis conviction of a county",
                       epilog=_example("clearrec screen extract.csv --county Sacramento --as-of 2026-11-01 --out results"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("files", nargs="+", metavar="FILE", help="DOJ extract(s), or county files with --mapping")
    s.add_argument("--county", required=True, help="county to screen (case and spacing do not matter)")
    s.add_argument("--as-of", required=True, type=_date, help="evaluation date YYYY-MM-DD (never the clock)")
    s.add_argument("--profile", default=None, help="profile id, profile .toml, or BEAR eligibility_options.json (default: statutory)")
    s.add_argument("--profile-option", action="append", metavar="NAME=true", help="switch a profile option (e.g. include_related_charges=true)")
    s.add_argument("--mapping", help="column mapping (.toml) for county case-management files")
    s.add_argument("--out", required=True, help="output folder (created; must not be an existing file)")
    s.add_argument("-v", "--verbose", action="store_true", help="print progress")
    s.set_defaults(func=cmd_screen)

    s = sub.add_parser("profiles", help="list the shipped policy profiles",
                       epilog=_example("clearrec profiles"), formatter_class=argparse.RawDescriptionHelpFormatter)
    s.set_defaults(func=cmd_profiles)

    s = sub.add_parser("explain-profile", help="print a profile's rules in plain English",
                       epilog=_example("clearrec explain-profile sacramento-2019 --lists"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("profile", nargs="?", help="profile id or profile .toml (default: statutory)")
    s.add_argument("--profile-option", action="append", metavar="NAME=true", help="switch a profile option")
    s.add_argument("--vocabulary", action="store_true", help="list the conditions a profile can use")
    s.add_argument("--lists", action="store_true",
                   help="also print every entry of the profile's code-section lists (super strikes, PC 290, related charges)")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("demo-data", help="write a synthetic DOJ extract",
                       epilog=_example("clearrec demo-data demo.csv --rows 5000 --county Yolo"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("out", metavar="OUT.csv", help="file to write (made-up people only)")
    s.add_argument("--rows", type=int, default=2000, help="about how many rows (default 2000)")
    s.add_argument("--county", default="SACRAMENTO", help="the county most convictions are in")
    s.add_argument("--seed", type=int, default=1, help="random seed: the same seed writes the same file")
    s.add_argument("--no-header", action="store_true", help="write no header line, as some DOJ extracts come")
    s.add_argument("--clean", action="store_true", help="no data-quality traps")
    s.add_argument("--county-export", metavar="FILE",
                   help="also write a county case-management export of the same people with planted differences "
                        "(FILE), its column mapping (FILE.mapping.toml) and what was planted (FILE.truth.csv)")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser(
        "reconcile", help="compare DOJ's extract with the county's own records and screen the three lists",
        description="Link the people and convictions of DOJ's extract and the county's case-management export, "
                    "and screen three lists with the profile: convictions only the county has (the cases DOJ's list "
                    "missed), convictions only DOJ has (find the court file), and convictions both have but "
                    "record differently. Writes the usual results plus reconciliation.csv (one row per "
                    "conviction: provenance, link score, disagreements) and links.csv.",
        epilog="example:\n  clearrec demo-data doj.csv --county-export county.csv\n"
               "  clearrec reconcile doj.csv county.csv --mapping county.mapping.toml --county Sacramento "
               "--as-of 2025-01-01 --out reconciled",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("doj_file", metavar="DOJ_FILE", help="DOJ's bulk extract")
    s.add_argument("county_file", metavar="COUNTY_FILE", help="the county's case-management export (CSV or Excel)")
    s.add_argument("--mapping", required=True, help="column mapping (.toml) of the county's export")
    s.add_argument("--county", required=True, help="county to reconcile (case and spacing do not matter)")
    s.add_argument("--as-of", required=True, type=_date, help="evaluation date YYYY-MM-DD (never the clock)")
    s.add_argument("--profile", default=None, help="profile id, profile .toml, or BEAR eligibility_options.json (default: statutory)")
    s.add_argument("--profile-option", action="append", metavar="NAME=true", help="switch a profile option")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("-v", "--verbose", action="store_true", help="print progress")
    s.set_defaults(func=cmd_reconcile)

    s = sub.add_parser("documents", help="build court documents from a screening output folder",
                       epilog=_example("clearrec documents results --office office.toml --posture doj-list "
                                       "--doj-list-received 2026-09-15 --out packets"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("screen_out", metavar="SCREEN_OUT_DIR", help="the folder `clearrec screen` wrote")
    s.add_argument("--office", required=True, help="office details (TOML; resources/demo/office.toml is an example)")
    s.add_argument("--out", required=True, help="folder for the documents (a new run folder is made inside)")
    s.add_argument("--posture", choices=["doj-list", "supplemental", "petition"], default="supplemental",
                   help="response to DOJ's HS 11361.9 list, supplemental motion for convictions the list missed, or "
                        "response to an individual petition / application (default: supplemental)")
    s.add_argument("--doj-list-received", type=_date, metavar="YYYY-MM-DD", help="date DOJ's list was received (doj-list)")
    s.add_argument("--petition-filed", type=_date, metavar="YYYY-MM-DD", help="date the petition was filed (petition)")
    s.add_argument("--petition-case", action="append", metavar="CASE", help="court case number the petition names")
    s.add_argument("--filing-date", type=_date, metavar="YYYY-MM-DD", help="date of the papers (default: today)")
    s.add_argument("--include", choices=["undecided", "decided"], default="undecided",
                   help="undecided: proposals no attorney has overridden go in; decided: only accepted or decided")
    s.add_argument("--challenge-ineligible", action="store_true",
                   help="the office challenges every conviction its criteria find ineligible")
    s.add_argument("--include-juvenile", action="store_true", help="include offenses committed under 18 (WIC 602)")
    s.add_argument("--compact", action="store_true", help="9-pt exhibits (default: 12 pt, CRC 2.104)")
    s.add_argument("--version", action="append", choices=["sealed", "public"],
                   help="packet version(s) to build (default: both)")
    s.add_argument("--decisions", help="attorney decisions (CSV: conviction_id, decision, ground, reason, relief_basis)")
    s.add_argument("--corrections", help="corrections of the record (CSV: conviction_id, field, value, source)")
    s.add_argument("--per-case", action="store_true", help="one motion, one order (PDF and .docx) per court case")
    s.add_argument("--by-courthouse", action="store_true", help="one packet per courthouse")
    s.set_defaults(func=cmd_documents)

    s = sub.add_parser("export", help="Excel workbook, DOJ-layout results, impact report",
                       epilog=_example("clearrec export results --xlsx results.xlsx --impact-report impact.pdf"),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("screen_out", metavar="SCREEN_OUT_DIR", help="the folder `clearrec screen` wrote")
    s.add_argument("--xlsx", metavar="FILE", help="write the Excel workbook (results, summary, flags)")
    s.add_argument("--doj-results", metavar="FILE", help="write the results in DOJ's extract layout (CSV)")
    s.add_argument("--impact-report", metavar="FILE", help="write the impact report (PDF; small counts suppressed)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("audit", help="workspace audit trail")
    asub = s.add_subparsers(dest="audit_command", required=True)
    v = asub.add_parser(
        "verify", help="check a workspace against its audit trail (chain, decisions, imports, runs, storage)",
        description="Re-hash the audit chain and compare every decision, undo, redo, import, run, note and link "
                    "decision with it; check the append-only triggers, SQLite's integrity and the encryption of "
                    "every page. Exit 0 when everything matches, 3 with each difference listed. The passphrase "
                    "comes from CLEARREC_PASSPHRASE or is asked for at the terminal.",
        epilog=_example("CLEARREC_PASSPHRASE=... clearrec audit verify county.clearrec --against motion.pdf"),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    v.add_argument("workspace", help="the workspace file (.clearrec)")
    v.add_argument("--against", metavar="FILE",
                   help="a packet, motion, report (PDF) or workbook made from this workspace (or the 64 hex digits "
                        "printed on it): say whether the workspace's history still contains the head printed there")
    v.set_defaults(func=cmd_audit_verify)

    s = sub.add_parser("workspace", help="workspace files: new, import, screen, decide, backup, restore")
    wsub = s.add_subparsers(dest="workspace_command", required=True)
    w = wsub.add_parser("backup", help="a complete copy of a workspace, consistent even while it is open",
                        description="Copy WORKSPACE to DEST with SQLite's online backup (never a plain file copy, "
                                    "which misses the log). DEST must not exist. The passphrase comes from "
                                    "CLEARREC_PASSPHRASE or is asked for at the terminal.",
                        epilog=_example("clearrec workspace backup county.clearrec backups/county-2026-12-05.clearrec"),
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("workspace", metavar="WORKSPACE", help="the workspace file (.clearrec)")
    w.add_argument("dest", metavar="DEST", help="the copy to write (must not exist)")
    w.add_argument("-v", "--verbose", action="store_true", help="print progress")
    w.set_defaults(func=cmd_workspace_backup)
    w = wsub.add_parser("restore", help="put a backup in place of a workspace (the replaced file is kept)",
                        description="Copy BACKUP over WORKSPACE. A WORKSPACE that exists is renamed "
                                    "NAME.replaced-DATE-TIME.clearrec (with its log), never deleted; a log that "
                                    "belonged to it is never applied to the restored copy.",
                        epilog=_example("clearrec workspace restore backups/county-2026-12-05.clearrec county.clearrec"),
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("backup", metavar="BACKUP", help="the backup to put in place")
    w.add_argument("workspace", metavar="WORKSPACE", help="the workspace file it replaces (kept aside if it exists)")
    w.add_argument("-v", "--verbose", action="store_true", help="print progress")
    w.set_defaults(func=cmd_workspace_restore)
    # workspace new|import|screen|decide, filings, lookup (issue 16): their own module
    from .cli_workspace import register
    register(sub, wsub, passphrase=_passphrase, notices=_notices)
    return ap


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .core import offline
    offline.install_guard()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f"clearrec: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a path the user gave: exists, is a folder, not writable, disk full
        where = Path(e.filename).name if getattr(e, "filename", None) else "output"
        what = {FileExistsError: "already exists as a file; give a folder name that is not taken",
                IsADirectoryError: "is a folder, not a file", NotADirectoryError: "is a file, not a folder",
                PermissionError: "cannot be written or read here (permission denied)",
                FileNotFoundError: "does not exist"}.get(type(e), e.strerror or "cannot be used")
        print(f"clearrec: {where}: {what}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("clearrec: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # never a traceback with record data for the user; the type says where
        print(f"clearrec: internal error ({type(e).__name__}); please report it with the command used", file=sys.stderr)
        if os.environ.get("CLEARREC_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
