"""`clearrec workspace new|import|screen|decide`, `clearrec filings ...` and `clearrec lookup`.

The workspace steps the desktop app takes, scriptable: every command opens the encrypted
workspace (passphrase from CLEARREC_PASSPHRASE or typed at the terminal, never an argument),
calls the same core functions as the GUI and closes it. Registered from cli.py by
``register``; cli.py passes its passphrase and notice helpers in, so this module never imports
cli.py (no import cycle).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from .core.errors import InputError

_FMT = argparse.RawDescriptionHelpFormatter
_PASS_NOTE = ("The passphrase comes from the CLEARREC_PASSPHRASE environment variable or is asked for at the "
              "terminal; it is never a command-line argument.")
_helpers: dict[str, Callable] = {}


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the number of days must be 0 or more")
    return value


def _open(path: str, *, read_only: bool = False):
    from .core.workspace.store import Workspace

    ws = Workspace.open(Path(path), _helpers["passphrase"](), read_only=read_only or None)
    _helpers["notices"](ws)
    return ws


def _say(verbose: bool):
    def progress(fraction, message):
        if verbose:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)
    return progress


# --------------------------------------------------------------------------- workspace steps

def cmd_new(a) -> int:
    from .core.workspace.store import Workspace

    passphrase = _helpers["passphrase"]("Passphrase for the new workspace: ")
    with Workspace.create(Path(a.workspace), passphrase, county=a.county.strip().upper()) as ws:
        print(f"created {ws.path} for {a.county.strip().upper()} County")
    return 0


def cmd_import(a) -> int:
    from .core import pipeline
    from .core.ingest import county_files

    with _open(a.workspace) as ws:
        with county_files.person_ids_keyed(ws.person_id_key()):
            rows, report, _facts = pipeline.read_for_screening([Path(f) for f in a.files],
                                                               mapping=Path(a.mapping) if a.mapping else None,
                                                               progress=_say(a.verbose))
        ids = []
        for fr in report.files:
            part = rows.groups(file=fr.file)
            details = dataclasses.asdict(fr)
            details["lines_rejected"] = len(fr.rejected)
            ids.append(ws.add_import(fr.file, fr.sha256, fr.size, details, part))
            print(f"imported {fr.file}: {fr.rows_imported:,} row(s), {len(fr.rejected):,} line(s) rejected "
                  f"(import {ids[-1]})")
        print("next: clearrec workspace screen " + a.workspace)
    return 0


def _pending_imports(ws) -> list[int]:
    screened = {i for r in ws.runs() for i in r["import_ids"]}
    pending = [i["import_id"] for i in ws.imports() if i["import_id"] not in screened]
    if pending:
        return pending
    latest = ws.latest_run()
    if latest is None:
        raise InputError(f"{ws.path.name}: nothing imported yet; run `clearrec workspace import` first")
    return list(latest["import_ids"])


def cmd_screen(a) -> int:
    from .core import pipeline
    from .core.ingest import report as ingest_report
    from .core.ingest import rowstore
    from .core.screen import profiles, screening

    with _open(a.workspace) as ws:
        import_ids = a.imports or _pending_imports(ws)
        imports = {i["import_id"]: i for i in ws.imports()}
        unknown = [i for i in import_ids if i not in imports]
        if unknown:
            raise InputError(f"{ws.path.name}: no import {unknown[0]}; `clearrec workspace screen --help` lists how to choose")
        rows, acc, builder = rowstore.RowStore(), ingest_report.ReportAccumulator(count_convictions=False), \
            screening.new_facts()
        files = []
        names = {f.name for f in dataclasses.fields(ingest_report.FileReport)}
        for import_id in import_ids:
            name = imports[import_id]["source_name"]
            for data in ws.import_row_groups(import_id):
                group = rowstore.decode(data)
                rows.add_encoded(data, group.height, name, group.get_column("subject_id"))
                acc.add(group)
                builder.add(group)
            files.append(ingest_report.FileReport(**{k: v for k, v in imports[import_id]["report"].items() if k in names}))
        dup_subjects, dup_people = acc.duplicates()
        facts = builder.finish(dup_subjects, dup_people)
        report = acc.report(files, dict(facts.counties))
        county = a.county or ws.county or ""
        profile = profiles.load_profile(a.profile)
        run = pipeline.screen_rows(rows, report, county=county, as_of=a.as_of or date.today(), profile=profile,
                                   facts=facts, progress=_say(a.verbose))
        run_id = ws.add_run(import_ids, profile.id, profile.text or profile.explain(), run.county, run.as_of,
                            run.results, run.summary)
        by = run.summary["convictions"]["by_outcome"]
        print(f"run {run_id}: screened {run.results.height:,} cannabis conviction count(s) in {run.county} as of "
              f"{run.as_of} with profile '{profile.id}'")
        if by:
            print("  " + ", ".join(f"{k}: {v:,}" for k, v in by.items()))
    return 0


def cmd_decide(a) -> int:
    import polars as pl

    with _open(a.workspace) as ws:
        if a.from_csv:
            try:
                frame = pl.read_csv(a.from_csv, infer_schema=False)
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise InputError(f"{Path(a.from_csv).name}: cannot be read as CSV ({type(exc).__name__})") from None
            missing = {"conviction_id", "decision"} - set(frame.columns)
            if missing:
                raise InputError(f"{Path(a.from_csv).name}: needs the columns conviction_id and decision "
                                 f"(missing {', '.join(sorted(missing))})")
            done, problems = 0, []
            for line, r in enumerate(frame.iter_rows(named=True), start=2):
                try:
                    ws.record_decision(r["conviction_id"], r["decision"], reason=r.get("reason"),
                                       ground=r.get("ground") or None, notes=r.get("notes"))
                    done += 1
                except InputError as exc:
                    problems.append(f"{Path(a.from_csv).name} line {line}: {exc}")
            print(f"recorded {done:,} decision(s)")
            for p in problems:
                print(f"clearrec: {p}", file=sys.stderr)
            return 2 if problems else 0
        if not (a.conviction and a.decision):
            raise InputError("give CONVICTION_ID and DECISION, or --from-csv FILE")
        ws.record_decision(a.conviction, a.decision, reason=a.reason, ground=a.ground, notes=a.notes)
        print(f"recorded: {a.decision}")
    return 0


# --------------------------------------------------------------------------- filings

def cmd_filings_list(a) -> int:
    from .core.workspace.filings import STATUS_LABELS

    with _open(a.workspace, read_only=True) as ws:
        filings = ws.filings()
        if not filings:
            print("no filing recorded yet")
        for f in filings:
            state = f["state"] + (f" by filing {f['amended_by']}" if f["amended_by"] else "") + \
                (f" on {f['withdrawn_on']}" if f["withdrawn_on"] else "")
            print(f"filing {f['filing_id']}: {f['posture']}, {f['court']}, filed {f['filed_on']}, "
                  f"{f['convictions']:,} conviction(s), {f['ruled']:,} ruled, {len(f['files'])} file(s); {state}")
        statuses = ws.statuses() if ws.latest_run() or filings else None
        if statuses is not None:
            counts = ws.status_counts(statuses)
            print("status: " + "; ".join(f"{STATUS_LABELS[k]}: {v:,}" for k, v in counts.items()))
            if a.waiting is not None:
                waiting = ws.waiting(a.waiting, statuses=statuses)
                print(f"waiting longer than {a.waiting} days: {waiting.height:,}")
                for what, n in waiting.group_by("waiting_for").len().sort("waiting_for").iter_rows():
                    print(f"  for {what}: {n:,}")
                if a.ids:
                    for r in waiting.select("conviction_id", "waiting_for", "days_waiting").iter_rows():
                        print(f"  {r[0]}  {r[1]}  {r[2]} days")
            if a.doj_unchanged is not None:
                flagged = ws.doj_unchanged(a.doj_unchanged)
                print(f"granted, but DOJ's latest extract still shows them unchanged more than {a.doj_unchanged} days "
                      f"after the order: {flagged.height:,}")
                if a.ids:
                    for cid in flagged["conviction_id"]:
                        print(f"  {cid}")
    return 0


def cmd_filings_record(a) -> int:
    import polars as pl

    from .core.workspace.filings import file_digests, rows_from_update
    from .core.workspace.verify import heads_in_file

    folder = Path(a.folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; give the folder the documents were saved in")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if a.update_file:
        update_path = Path(a.update_file)
    else:
        updates = [p for p in files if p.name.startswith("court-update") and p.suffix == ".csv"]
        if len(updates) != 1:
            raise InputError(f"{folder}: {'no' if not updates else len(updates)} court update CSV file(s) in it; "
                             "name the one filed with --update-file")
        update_path = updates[0]
    try:
        update = pl.read_csv(update_path, infer_schema=False, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{update_path.name}: cannot be read as the court update CSV ({type(exc).__name__})") from None
    update = update.rename({c: c.lstrip("\ufeff") for c in update.columns})
    head = a.audit_head.strip().lower() if a.audit_head else None
    with _open(a.workspace) as ws:
        if head is None:
            # only a head of this workspace's own history: a PDF also prints the extract's SHA-256
            known = {e["hash"] for e in ws.audit_entries()}
            head = next((h for p in files if p.suffix.lower() == ".pdf" for h in heads_in_file(p) if h in known), None)
        fid = ws.record_filing(posture=a.posture, court=a.court, filed_on=a.filed_on, courthouse=a.courthouse,
                               convictions=rows_from_update(update), files=file_digests(files),
                               audit_head_printed=head, amends=a.amends, note=a.note)
        print(f"recorded filing {fid}: {rows_from_update(update).height:,} conviction(s), {len(files)} file(s) hashed"
              + (f", audit head printed {head[:16]}..." if head else ", no audit head found on the documents"))
    return 0


def cmd_filings_withdraw(a) -> int:
    with _open(a.workspace) as ws:
        ws.withdraw_filing(a.filing, reason=a.reason, withdrawn_on=a.on)
        print(f"filing {a.filing} withdrawn (it stays recorded)")
    return 0


def cmd_filings_ruling(a) -> int:
    with _open(a.workspace) as ws:
        if a.file:
            if a.ruling or a.case or a.conviction:
                raise InputError("--file imports the court's returned file; do not also give a ruling, --case or --conviction")
            result = ws.import_rulings(Path(a.file), filing_id=a.filing)
            for line in result.lines():
                print(line)
            return 0
        if a.filing is None or not a.ruling or a.order_date is None:
            raise InputError("give --filing ID, the RULING and --order-date (or --file FILE to import the court's file)")
        ids = ws.record_ruling(a.filing, a.ruling, a.order_date, case_number=a.case,
                               conviction_ids=a.conviction or None, note=a.note)
        print(f"recorded {a.ruling} ({a.order_date}) for {len(ids):,} conviction(s) of filing {a.filing}")
    return 0


def cmd_filings_reported(a) -> int:
    import polars as pl

    from .core.workspace.filings import GRANTED

    with _open(a.workspace) as ws:
        st = ws.statuses().filter((pl.col("filing_id") == a.filing) & pl.col("ruling").is_in(GRANTED))
        if st.height == 0:
            raise InputError(f"filing {a.filing}: no granted conviction to report")
        n = ws.record_doj_report(st["conviction_id"].to_list(), a.on)
        print(f"recorded the court's notice to DOJ ({a.on}) for {n:,} granted conviction(s) of filing {a.filing}")
    return 0


# --------------------------------------------------------------------------- lookup

def cmd_lookup(a) -> int:
    from .core.workspace.filings import status_sentence

    with _open(a.workspace) as ws:
        people = ws.lookup(reason=a.reason, name=a.name, dob=a.dob, cii=a.cii, case=a.case)
        if not people:
            print("no one found")
            return 0 if not a.letter else 2
        for n, p in enumerate(people, start=1):
            print(f"{n}. {p['name']}" + (f" (name match {p['score']:.0f}%)" if a.name else ""))
            if not p["convictions"]:
                print("   no cannabis conviction in the latest screening")
            for c in p["convictions"]:
                print(f"   case {c['court_case_number'] or '(none)'}: {status_sentence(c)}")
        if a.letter:
            if len(people) > 1 and a.person is None:
                raise InputError(f"{len(people)} people match; choose one with --person N for the letter")
            index = (a.person or 1) - 1
            if not 0 <= index < len(people):
                raise InputError(f"--person {a.person}: there are {len(people)} match(es)")
            from .core.outputs.status_letter import build_status_letter

            person = people[index]
            office = ws.get_office()
            if a.office:
                from .core.outputs.filing import load_office

                office = {k: v for k, v in dataclasses.asdict(load_office(Path(a.office))).items() if v}
            if not office.get("county"):
                office["county"] = (ws.county or "").title()
            pdf = build_status_letter(person, person["convictions"], office, today=date.today(),
                                      mailing_address=(a.address or "").replace("\\n", "\n"))
            out = Path(a.letter)
            try:
                out.write_bytes(pdf)
            except OSError as exc:
                raise InputError(f"{out}: cannot be written ({exc.strerror or type(exc).__name__})") from None
            ws.log_status_letter(person["subject_id"], [c["conviction_id"] for c in person["convictions"]],
                                 reason=a.reason)
            print(f"status letter written to {out}")
    return 0


# --------------------------------------------------------------------------- parsers

def _parser(sub, name: str, help_text: str, description: str, example: str, func) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text, description=description + " " + _PASS_NOTE,
                       epilog="example:\n  " + example, formatter_class=_FMT)
    p.set_defaults(func=func)
    return p


def register(sub, workspace_sub, *, passphrase: Callable, notices: Callable) -> None:
    """Add the subcommands to cli.py's parser: ``sub`` (top level) and ``workspace_sub`` (the
    ``workspace`` command's subcommands, where backup and restore already are)."""
    _helpers.update(passphrase=passphrase, notices=notices)
    w = _parser(workspace_sub, "new", "create an encrypted workspace for a county",
                "Create WORKSPACE (a new .clearrec file) for COUNTY; the passphrase must be strong.",
                "CLEARREC_PASSPHRASE='long passphrase here' clearrec workspace new sac.clearrec --county SACRAMENTO",
                cmd_new)
    w.add_argument("workspace", metavar="WORKSPACE", help="the new file, e.g. sac.clearrec")
    w.add_argument("--county", required=True, help="the county the office serves, e.g. SACRAMENTO")

    w = _parser(workspace_sub, "import", "import DOJ extracts or county files into a workspace",
                "Read each FILE (DOJ bulk extract, or a county case export with --mapping) and store its rows in "
                "the workspace; rejected lines are counted with their reasons. Screen them next.",
                "clearrec workspace import sac.clearrec doj-extract-2026.csv", cmd_import)
    w.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    w.add_argument("files", nargs="+", metavar="FILE", help="extract files, e.g. doj-extract-2026.csv")
    w.add_argument("--mapping", metavar="TOML", help="column mapping of a county export, e.g. county-mapping.toml")
    w.add_argument("-v", "--verbose", action="store_true", help="print progress, e.g. -v")

    w = _parser(workspace_sub, "screen", "screen the imported records with a policy profile",
                "Screen the imports not screened yet (or, when all are, the latest run's imports again) and store "
                "the run in the workspace.",
                "clearrec workspace screen sac.clearrec --as-of 2026-11-01 --profile statutory", cmd_screen)
    w.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    w.add_argument("--as-of", type=_date, help="the screening date (default today), e.g. 2026-11-01")
    w.add_argument("--profile", default=None, help="policy profile id (see `clearrec profiles`), e.g. statutory")
    w.add_argument("--county", help="county to screen (default: the workspace's), e.g. SACRAMENTO")
    w.add_argument("--imports", type=int, nargs="+", metavar="ID", help="screen these import ids, e.g. --imports 1 2")
    w.add_argument("-v", "--verbose", action="store_true", help="print progress, e.g. -v")

    w = _parser(workspace_sub, "decide", "record an attorney decision on a conviction (or many from a CSV)",
                "Record DECISION (accept, dismiss, reduce, challenge, defer) on CONVICTION_ID; a decision that "
                "departs from the proposal needs --reason; a challenge needs --ground.",
                "clearrec workspace decide sac.clearrec 2358253/80F95814/001002001000 accept", cmd_decide)
    w.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    w.add_argument("conviction", nargs="?", metavar="CONVICTION_ID", help="e.g. 2358253/80F95814/001002001000")
    w.add_argument("decision", nargs="?", metavar="DECISION", help="accept, dismiss, reduce, challenge or defer")
    w.add_argument("--reason", help="why, when departing from the proposal, e.g. --reason 'no sale in the file'")
    w.add_argument("--ground", help="for a challenge: not_eligible or public_safety")
    w.add_argument("--notes", help="notes kept with the decision, e.g. --notes 'checked the court file'")
    w.add_argument("--from-csv", metavar="FILE", help="columns conviction_id, decision[, reason, ground, notes], "
                                                      "e.g. --from-csv decisions.csv")

    s = sub.add_parser("filings", help="filings recorded in a workspace and the court's rulings",
                       description="Record what was filed, the court's rulings and its notice to DOJ; list filings, "
                                   "statuses and what is waiting. " + _PASS_NOTE,
                       epilog="example:\n  clearrec filings list sac.clearrec --waiting 90", formatter_class=_FMT)
    fsub = s.add_subparsers(dest="filings_command", required=True)
    f = _parser(fsub, "list", "list filings and each status's count",
                "List every filing (active, amended, withdrawn) and the count of convictions at each status "
                "(screened, decided, filed, ruled, reported to DOJ).",
                "clearrec filings list sac.clearrec --waiting 90 --doj-unchanged 180", cmd_filings_list)
    f.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    f.add_argument("--waiting", type=_days, metavar="DAYS", help="count convictions waiting longer than DAYS for "
                                                                  "their next step, e.g. --waiting 90")
    f.add_argument("--doj-unchanged", type=_days, metavar="DAYS",
                   help="count granted convictions DOJ still shows unchanged DAYS after the order, e.g. 180")
    f.add_argument("--ids", action="store_true", help="also print the conviction ids of those lists, e.g. --ids")

    f = _parser(fsub, "record", "record a filing from the folder its documents were saved in",
                "Record that the documents in FOLDER were filed: the convictions from its court update CSV, the "
                "SHA-256 of every file and the audit head printed on them.",
                "clearrec filings record sac.clearrec filing-2026-11/ --court 'Superior Court, Sacramento' "
                "--filed-on 2026-11-02 --posture supplemental", cmd_filings_record)
    f.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    f.add_argument("folder", metavar="FOLDER", help="the folder of the filed documents, e.g. filing-2026-11/")
    f.add_argument("--court", required=True, help="where it was filed, e.g. 'Superior Court, Sacramento'")
    f.add_argument("--filed-on", required=True, type=_date, help="the date filed, e.g. 2026-11-02")
    f.add_argument("--posture", required=True, help="response, supplemental or petition, e.g. supplemental")
    f.add_argument("--courthouse", help="the courthouse, when one packet per courthouse, e.g. 'Gordon D. Schaber'")
    f.add_argument("--update-file", metavar="CSV", help="the court update CSV filed, when the folder has several")
    f.add_argument("--audit-head", help="the audit head printed on the documents (default: read from the PDFs)")
    f.add_argument("--amends", type=int, metavar="ID", help="the filing this one amends, e.g. --amends 3")
    f.add_argument("--note", help="a note kept with the filing, e.g. --note 'e-filed, envelope 1234'")

    f = _parser(fsub, "withdraw", "withdraw a filing (it stays recorded)",
                "Mark filing ID withdrawn; a filing the court already ruled on cannot be withdrawn.",
                "clearrec filings withdraw sac.clearrec 3 --reason 'filed in the wrong courthouse'", cmd_filings_withdraw)
    f.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    f.add_argument("filing", type=int, metavar="ID", help="the filing id (see `filings list`), e.g. 3")
    f.add_argument("--reason", required=True, help="why, e.g. --reason 'filed in the wrong courthouse'")
    f.add_argument("--on", type=_date, help="the date withdrawn (default today), e.g. 2026-11-03")

    f = _parser(fsub, "ruling", "record the court's ruling, or import the court's returned file",
                "Record RULING (granted, granted_differently, denied, continued) with its --order-date for a whole "
                "filing, one --case or some --conviction ids; or import the court update file the court returned "
                "with its ruling and order_date columns filled in (--file). Rows of the file that match no filed "
                "conviction are listed by line, never dropped.",
                "clearrec filings ruling sac.clearrec --file court-update-returned.xlsx\n"
                "  clearrec filings ruling sac.clearrec granted --filing 3 --order-date 2026-12-01 --case 80F95814",
                cmd_filings_ruling)
    f.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    f.add_argument("ruling", nargs="?", metavar="RULING", help="granted, granted_differently, denied or continued")
    f.add_argument("--filing", type=int, metavar="ID", help="the filing ruled on, e.g. --filing 3")
    f.add_argument("--order-date", type=_date, help="the date of the court's order, e.g. 2026-12-01")
    f.add_argument("--case", help="only this court case of the filing, e.g. --case 80F95814")
    f.add_argument("--conviction", nargs="+", metavar="ID", help="only these conviction ids, e.g. --conviction 23/80F1/001")
    f.add_argument("--file", metavar="CSV_OR_XLSX", help="the court's returned update file, e.g. returned.xlsx")
    f.add_argument("--note", help="a note kept with the ruling, e.g. --note 'minute order'")

    f = _parser(fsub, "reported", "record that the court reported a filing's granted orders to DOJ",
                "Record the date the court's notice to DOJ is known for every granted conviction of filing ID.",
                "clearrec filings reported sac.clearrec 3 --on 2027-01-10", cmd_filings_reported)
    f.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    f.add_argument("filing", type=int, metavar="ID", help="the filing id, e.g. 3")
    f.add_argument("--on", type=_date, required=True, help="the date reported, e.g. 2027-01-10")

    s = _parser(sub, "lookup", "find a person and say where each cannabis conviction stands",
                "Find a person by name (spelling mistakes tolerated), date of birth, CII or case number and print, "
                "for each of their cannabis convictions, its case number and status in plain language (nothing "
                "else of the record). Every lookup is recorded in the audit trail with the reason given.",
                "clearrec lookup sac.clearrec --name 'Tormer, Arven' --reason 'caller asked about the record'\n"
                "  clearrec lookup sac.clearrec --case 80F95814 --reason 'letter' --letter letter.pdf",
                cmd_lookup)
    s.add_argument("workspace", metavar="WORKSPACE", help="the workspace file, e.g. sac.clearrec")
    s.add_argument("--name", help="the person's name, any order, e.g. --name 'Maria Alvarez'")
    s.add_argument("--dob", type=_date, help="date of birth, e.g. --dob 1980-04-02")
    s.add_argument("--cii", help="CII number, e.g. --cii A12345678")
    s.add_argument("--case", help="court case number, e.g. --case 80F95814")
    s.add_argument("--reason", required=True, help="why the record is looked up, e.g. --reason 'caller asked'")
    s.add_argument("--letter", metavar="PDF", help="write a status letter for the person found, e.g. letter.pdf")
    s.add_argument("--person", type=int, metavar="N", help="which match the letter is for, e.g. --person 2")
    s.add_argument("--address", help="mailing address printed on the letter (lines separated by \\n)")
    s.add_argument("--office", metavar="TOML", help="office details for the letter's sender and signature when the "
                                                    "workspace has none, e.g. --office office.toml")
