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

    def progress(fraction, message):
        if a.verbose:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    rows, report = pipeline.import_only(a.files, mapping=mapping, progress=lambda f, m: progress(f * 0.55, m))
    mismatch = pipeline.county_mismatch(a.county, report)
    if mismatch:  # said before screening, so a wrong --county is noticed at once
        print(f"clearrec: warning: {mismatch}", file=sys.stderr)
    run = pipeline.screen_rows(rows, report, county=a.county, as_of=a.as_of, profile=profile, progress=progress)
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
    stats = demo.write_demo_extract(out, a.rows, a.county, a.seed, header=not a.no_header, traps=not a.clean)
    print(f"wrote {out} ({stats.get('rows', a.rows):,} rows)")
    return 0


def cmd_documents(a) -> int:
    from .core.outputs import packet

    paths = packet.build_documents(Path(a.screen_out), Path(a.office), Path(a.out),
                                      per_case=a.per_case, by_courthouse=a.by_courthouse)
    for p in paths:
        print(p)
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


def cmd_audit_verify(a) -> int:
    from .core.workspace import store

    passphrase = os.environ.get("CLEARREC_PASSPHRASE")
    if passphrase is None:
        import getpass
        passphrase = getpass.getpass("Workspace passphrase: ")
    ok, bad_seq, message = store.verify_workspace_audit(Path(a.workspace), passphrase)
    print(message)
    return 0 if ok else 3


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="clearrec", description="Offline screening of cannabis convictions for Prop 64 relief.")
    ap.add_argument("--version", action="version", version=f"clearrec {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    s = sub.add_parser("screen", help="import extracts and screen every cannabis conviction of a county")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--county", required=True, help="county to screen (case and spacing do not matter)")
    s.add_argument("--as-of", required=True, type=_date, help="evaluation date YYYY-MM-DD (never the clock)")
    s.add_argument("--profile", default=None, help="profile id, profile .toml, or BEAR eligibility_options.json (default: statutory)")
    s.add_argument("--profile-option", action="append", metavar="NAME=true", help="switch a profile option (e.g. include_related_charges=true)")
    s.add_argument("--mapping", help="column mapping (.toml) for county case-management files")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("-v", "--verbose", action="store_true", help="print progress")
    s.set_defaults(func=cmd_screen)

    s = sub.add_parser("profiles", help="list the shipped policy profiles")
    s.set_defaults(func=cmd_profiles)

    s = sub.add_parser("explain-profile", help="print a profile's rules in plain English")
    s.add_argument("profile", nargs="?")
    s.add_argument("--profile-option", action="append", metavar="NAME=true")
    s.add_argument("--vocabulary", action="store_true", help="list the conditions a profile can use")
    s.add_argument("--lists", action="store_true",
                   help="also print every entry of the profile's code-section lists (super strikes, PC 290, related charges)")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("demo-data", help="write a synthetic DOJ extract")
    s.add_argument("out", metavar="OUT.csv")
    s.add_argument("--rows", type=int, default=2000)
    s.add_argument("--county", default="SACRAMENTO")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--no-header", action="store_true")
    s.add_argument("--clean", action="store_true", help="no data-quality traps")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("documents", help="build court documents from a screening output folder")
    s.add_argument("screen_out", metavar="SCREEN_OUT_DIR")
    s.add_argument("--office", required=True, help="office details (TOML)")
    s.add_argument("--out", required=True)
    s.add_argument("--per-case", action="store_true")
    s.add_argument("--by-courthouse", action="store_true")
    s.set_defaults(func=cmd_documents)

    s = sub.add_parser("export", help="Excel workbook, DOJ-layout results, impact report")
    s.add_argument("screen_out", metavar="SCREEN_OUT_DIR")
    s.add_argument("--xlsx")
    s.add_argument("--doj-results")
    s.add_argument("--impact-report")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("audit", help="workspace audit trail")
    asub = s.add_subparsers(dest="audit_command", required=True)
    v = asub.add_parser("verify", help="check the hash chain of a workspace's audit trail")
    v.add_argument("workspace")
    v.set_defaults(func=cmd_audit_verify)
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
