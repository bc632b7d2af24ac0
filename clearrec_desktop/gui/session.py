"""The open workspace and the run on screen, shared by every view.

This is the only GUI module that calls the core (pipeline, workspace, profiles). It holds no
screening or decision rules: it passes the user's choices to the core and hands the frames
it gets back to the views. Long calls are given to the ``TaskRunner`` as plain functions that
never touch a widget.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..core import pipeline
from ..core.errors import Cancelled, InputError
from ..core.ingest import county_files, county_mapping, importer, spreadsheets
from ..core.ingest import report as ingest_report
from ..core.ingest import rowstore
from ..core.ingest.normalise import normalise_county
from ..core.ingest.rowstore import RowStore
from ..core.outputs import common as outputs_common
from ..core.outputs import doj_layout, impact_report, packet, workbook
from ..core.outputs import filing as outputs_filing
from ..core.safety import local_path
from ..core.screen import profiles, screening
from ..core.screen.facts import ScreenFacts
from ..core.workspace.schema import (
    DECISIONS,
    OFFICE_FIELDS,
    REVIEWER_SETTING,
    requires_reason,
)
from ..core.reconcile import run as reconcile_run
from ..core.workspace import keys as workspace_keys
from ..core.workspace import links as workspace_links
from ..core.workspace import reconciliations
from ..core.workspace.store import Workspace, restore_workspace
from . import pdfview
from .workers import Task, TaskRunner

# The fixed evaluation date of the demo workspace (shown in the window title bar of the run).
DEMO_AS_OF = date(2026, 11, 1)
DEMO_PASSPHRASE = "demo kestrel harbor 64"  # strong enough for the strength check; shown in the status bar
MAPPING_SETTING = "import_mappings"  # workspace setting: file signature -> column mapping


@dataclass
class RunState:
    """One screening run as the views see it."""

    run_id: int
    results: pl.DataFrame
    rows: RowStore | pl.DataFrame     # the imported rows as row groups: a person's history on demand
    report: ingest_report.ImportReport
    summary: dict
    profile_id: str
    profile_title: str
    profile_text: str
    county: str
    as_of: date
    import_ids: list[int]
    created_at: str = ""
    # Against the previous run: conviction_id, change (new / gone / outcome_changed), outcomes.
    changes: pl.DataFrame | None = None
    orphan_decisions: int = 0  # decisions whose conviction is no longer in the results
    facts: ScreenFacts | None = None  # what screening reads: re-screens and what-ifs reuse it
    # A reconciliation of DOJ's extract with the county's records (issue 15): one row per
    # conviction with both sources' values, and every link; None for an ordinary run.
    recon_table: pl.DataFrame | None = None
    recon_links: pl.DataFrame | None = None

    @property
    def is_reconciliation(self) -> bool:
        return self.recon_table is not None


@dataclass
class PendingImport:
    """A file read for the import step, not yet screened or stored."""

    paths: list[Path]
    rows: RowStore | pl.DataFrame
    report: ingest_report.ImportReport
    mapping: dict | None = None
    elapsed: float = 0.0
    extra: dict = field(default_factory=dict)
    facts: ScreenFacts | None = None


def profile_from_text(profile_id: str, text: str) -> profiles.Profile:
    """The profile a run was made with, from the text stored in the workspace."""
    try:
        return profiles.load_profile(profile_id)
    except InputError:
        pass
    import tomllib

    try:
        return profiles.parse_profile(tomllib.loads(text), profile_id, text)
    except Exception:
        return profiles.bear_profile(json.loads(text), profile_id)


def _file_report(d: dict) -> ingest_report.FileReport:
    names = {f.name for f in dataclasses.fields(ingest_report.FileReport)}
    return ingest_report.FileReport(**{k: v for k, v in d.items() if k in names})


# -- functions run on the worker thread (no widgets, no Qt) ---------------------------------------

def _read_files(progress, cancel, paths: list[Path], mapping: dict | None, id_key: str | None = None) -> PendingImport:
    # People known only by name and date of birth get ids keyed with the workspace's secret.
    with county_files.person_ids_keyed(id_key):
        rows, report, facts = pipeline.read_for_screening(paths, mapping=mapping, progress=progress, cancel=cancel)
    progress(1.0, "Read")
    return PendingImport(paths=list(paths), rows=rows, report=report, mapping=mapping, facts=facts)


def _backup(progress, cancel, ws: Workspace, dest: Path) -> Path:
    return ws.backup(dest, progress=progress, cancel=cancel, overwrite=True)  # the save dialog asked


def _restore(progress, cancel, backup: Path, target: Path, passphrase: str) -> tuple[Path, Path | None]:
    return restore_workspace(backup, target, passphrase, progress=progress, cancel=cancel)


def _store_import(ws: Workspace, pending: PendingImport) -> list[int]:
    ids = []
    for file_report in pending.report.files:
        if isinstance(pending.rows, RowStore):
            rows = pending.rows.groups(file=file_report.file)  # one row group at a time
        else:
            rows = pending.rows.filter(pl.col("source_file") == file_report.file)
        report = dataclasses.asdict(file_report)
        report["lines_rejected"] = len(file_report.rejected)
        if pending.mapping:
            report["mapping"] = pending.mapping
        ids.append(ws.add_import(file_report.file, file_report.sha256, file_report.size, report, rows))
    return ids


def _store_run(ws: Workspace, run: pipeline.ScreenRun, import_ids: list[int]) -> RunState:
    previous = ws.latest_run()
    run_id = ws.add_run(import_ids, run.profile.id, run.profile.text or run.profile.explain(), run.county,
                        run.as_of, run.results, run.summary)
    state = RunState(
        run_id=run_id, results=run.results, rows=run.rows, report=run.report, summary=run.summary,
        profile_id=run.profile.id, profile_title=run.profile.title,
        profile_text=run.profile.text, county=run.county, as_of=run.as_of, import_ids=import_ids,
        created_at=(ws.latest_run() or {}).get("created_at", ""), facts=run.facts,
    )
    if previous is not None:
        state.changes = ws.compare_runs(previous["run_id"], run_id)
    state.orphan_decisions = ws.decisions_without_conviction(run_id).height
    return state


def _screen_and_store(progress, cancel, ws: Workspace, pending: PendingImport, county: str,
                      as_of: date, profile: profiles.Profile, import_ids: list[int] | None) -> RunState:
    run = pipeline.screen_rows(pending.rows, pending.report, county=county, as_of=as_of,
                               profile=profile, progress=lambda f, m: progress(f * 0.9, m),
                               cancel=cancel, facts=pending.facts)
    if cancel.is_set():
        raise Cancelled()
    # Past this point the run is written; cancelling now would leave half a record.
    progress(0.92, "Saving to the workspace")
    if import_ids is None:
        import_ids = _store_import(ws, pending)
    state = _store_run(ws, run, import_ids)
    progress(1.0, "Saved")
    return state


def _add_and_store(progress, cancel, ws: Workspace, pending: PendingImport, held: RunState, county: str,
                   as_of: date, profile: profiles.Profile) -> RunState:
    """Screen the pending file together with what the current run holds (one run over both);
    the new file is stored as an import of its own beside the ones the run already used."""
    rows = _joined_rows(held.rows, pending.rows)
    acc, builder = ingest_report.ReportAccumulator(count_convictions=False), screening.new_facts()
    for n, group in enumerate(rows.groups()):  # one group decoded at a time
        if cancel.is_set():
            raise Cancelled()
        progress(0.4 * n / max(1, rows.n_groups), "Gathering both imports")
        acc.add(group)
        builder.add(group)
    dup_subjects, dup_people = acc.duplicates()
    facts = builder.finish(dup_subjects, dup_people)
    report = acc.report([*held.report.files, *pending.report.files], dict(facts.counties))
    run = pipeline.screen_rows(rows, report, county=county, as_of=as_of, profile=profile, facts=facts,
                               progress=lambda f, m: progress(0.4 + f * 0.5, m), cancel=cancel)
    if cancel.is_set():
        raise Cancelled()
    progress(0.92, "Saving to the workspace")
    new_ids = _store_import(ws, pending)
    state = _store_run(ws, run, [*held.import_ids, *new_ids])
    progress(1.0, "Saved")
    return state


def _joined_rows(*parts: RowStore | pl.DataFrame | None) -> RowStore:
    """The row groups of several imports as one store (groups are shared, not copied)."""
    out = RowStore()
    for part in parts:
        if part is None:
            continue
        if isinstance(part, RowStore):
            out.extend(part)
        else:
            for name in part.get_column("source_file").unique(maintain_order=True).to_list():
                out.add(part.filter(pl.col("source_file") == name), name)
    return out


def _rejected_lines(progress, cancel, report) -> dict[tuple[str, int], str]:
    from ..core.ingest import rejected_lines

    out: dict[tuple[str, int], str] = {}
    for f in report.files:
        if not f.rejected or cancel.is_set():
            continue
        try:
            texts = rejected_lines.read_lines(f.path, f.size, [r["line"] for r in f.rejected])
        except (InputError, OSError):
            continue  # moved or changed since the import: the table says the text is not available
        out.update({(f.file, n): t for n, t in texts.items()})
    return out


def _read_and_screen(progress, cancel, ws: Workspace, paths: list[Path], county: str | None,
                     as_of: date, profile: profiles.Profile) -> RunState:
    """Read and screen in one go (the demo and the self-test). Without a county, the county with
    the most convictions in the file is screened."""
    pending = _read_files(lambda f, m: progress(f * 0.5, m), cancel, paths, None, ws.person_id_key())
    if not county:
        counties = sorted(pending.report.counties.items(), key=lambda kv: (-kv[1], kv[0]))
        county = next((c for c, _ in counties if c), "")
    return _screen_and_store(lambda f, m: progress(0.5 + f * 0.5, m), cancel, ws, pending, county,
                             as_of, profile, None)


def _load_run(progress, cancel, ws: Workspace) -> RunState | None:
    latest = ws.latest_run()
    if latest is None:
        return None
    progress(0.1, "Loading results")
    results = ws.load_results(latest["run_id"])
    imports = {i["import_id"]: i for i in ws.imports()}
    file_reports = []
    # The stored row groups are read once: kept as they are (compressed) for the history pane,
    # and decoded one at a time for the import report's figures and the screening facts.
    rows, acc, builder = RowStore(), ingest_report.ReportAccumulator(count_convictions=False), screening.new_facts()
    for n, import_id in enumerate(latest["import_ids"]):
        name = imports[import_id]["source_name"]
        groups = ws.import_row_groups(import_id)
        for k, data in enumerate(groups):
            if cancel.is_set():
                raise Cancelled()
            progress(0.2 + 0.7 * (n + k / len(groups)) / max(1, len(latest["import_ids"])), "Loading the imported records")
            group = rowstore.decode(data)
            rows.add_encoded(data, group.height, name, group.get_column("subject_id"))
            acc.add(group)
            builder.add(group)
        file_reports.append(_file_report(imports[import_id]["report"]))
    dup_subjects, dup_people = acc.duplicates()
    facts = builder.finish(dup_subjects, dup_people)
    report = acc.report(file_reports, dict(facts.counties))
    profile = profile_from_text(latest["profile_id"], latest["profile_text"])
    runs = ws.runs()
    state = RunState(
        run_id=latest["run_id"], results=results, rows=rows, report=report, summary=latest["summary"],
        profile_id=latest["profile_id"], profile_title=profile.title, profile_text=latest["profile_text"],
        county=latest["county"] or "", as_of=date.fromisoformat(latest["as_of"]),
        import_ids=list(latest["import_ids"]), created_at=latest["created_at"], facts=facts,
    )
    if len(runs) > 1:
        state.changes = ws.compare_runs(runs[-2]["run_id"], latest["run_id"])
    state.orphan_decisions = ws.decisions_without_conviction(latest["run_id"]).height
    tables = reconciliations.load_reconciliation(ws, latest["run_id"])
    if tables is not None:
        state.recon_table, state.recon_links = tables
    progress(1.0, "Loaded")
    return state


def _store_reconciliation(ws: Workspace, run: reconcile_run.ReconcileRun, import_ids: list[int]) -> RunState:
    """Store a reconciliation like any run (its results carry ``provenance``), with its table
    and links beside it."""
    previous = ws.latest_run()
    profile = run.profile
    run_id = ws.add_run(import_ids, profile.id, profile.text or profile.explain(), run.county, run.as_of,
                        run.results, run.summary)
    links = reconcile_run.links_frame(run.reconciliation)
    reconciliations.save_reconciliation(ws, run_id, run.reconciliation.table, links)
    state = RunState(
        run_id=run_id, results=run.results, rows=run.reconciliation.rows, report=run.report, summary=run.summary,
        profile_id=profile.id, profile_title=profile.title, profile_text=profile.text, county=run.county,
        as_of=run.as_of, import_ids=list(import_ids), created_at=(ws.latest_run() or {}).get("created_at", ""),
        recon_table=run.reconciliation.table, recon_links=links,
    )
    if previous is not None:
        state.changes = ws.compare_runs(previous["run_id"], run_id)
    state.orphan_decisions = ws.decisions_without_conviction(run_id).height
    return state


def _reconcile_files(progress, cancel, ws: Workspace, doj_path: Path, county_path: Path, mapping: dict,
                     county: str, as_of: date, profile: profiles.Profile, id_key: str | None) -> RunState:
    """Import DOJ's extract and the county's export together, reconcile them with the clerk's
    link decisions in force, and store the imports and the run."""
    decisions = workspace_links.link_decisions(ws)
    with county_files.person_ids_keyed(id_key):
        run = reconcile_run.run_reconcile(doj_path, county_path, mapping=mapping, county=county, as_of=as_of,
                                          profile=profile, decisions=decisions,
                                          progress=lambda f, m: progress(f * 0.9, m), cancel=cancel)
    if cancel.is_set():
        raise Cancelled()
    # Past this point the imports and the run are written; cancelling now would leave half a record.
    progress(0.92, "Saving to the workspace")
    ids = []
    for file_report, rows, role in ((run.report.files[0], run.doj_rows, "doj"),
                                    (run.report.files[1], run.county_rows, "county")):
        report = dataclasses.asdict(file_report)
        report["lines_rejected"] = len(file_report.rejected)
        report["role"] = role
        if role == "county":
            report["mapping"] = mapping
        ids.append(ws.add_import(file_report.file, file_report.sha256, file_report.size, report, rows))
    state = _store_reconciliation(ws, run, ids)
    progress(1.0, "Saved")
    return state


def _reconcile_pending(progress, cancel, ws: Workspace, held: RunState, pending: PendingImport, county: str,
                       as_of: date, profile: profiles.Profile) -> RunState:
    """The county's export just read, reconciled with the DOJ extract the current run holds (the
    third answer to "add or replace?"); the county file is stored as an import of its own."""
    progress(0.02, "Loading DOJ's extract from the workspace")
    doj_rows = ws.load_import_rows(held.import_ids[0])
    county_rows = pending.rows.collect() if isinstance(pending.rows, RowStore) else pending.rows
    if cancel.is_set():
        raise Cancelled()
    run = reconcile_run.reconcile_imported(
        doj_rows, county_rows, held.report.files[0], pending.report.files[0], county=normalise_county(county),
        as_of=as_of, profile=profile, decisions=workspace_links.link_decisions(ws),
        progress=lambda f, m: progress(0.1 + f * 0.8, m), cancel=cancel)
    if cancel.is_set():
        raise Cancelled()
    progress(0.92, "Saving to the workspace")
    new_ids = _store_import(ws, pending)
    state = _store_reconciliation(ws, run, [held.import_ids[0], *new_ids])
    progress(1.0, "Saved")
    return state


def _reconcile_again(progress, cancel, ws: Workspace, import_ids: list[int], county: str, as_of: date,
                     profile: profiles.Profile) -> RunState:
    """Reconcile the two stored imports again (after link decisions, or with another profile or
    date): a new run, like a re-screen."""
    if len(import_ids) != 2:
        raise InputError("this run is not a reconciliation of two imports")
    imports = {i["import_id"]: i for i in ws.imports()}
    progress(0.02, "Loading DOJ's extract and the county's records")
    doj_rows, county_rows = ws.load_import_rows(import_ids[0]), ws.load_import_rows(import_ids[1])
    if cancel.is_set():
        raise Cancelled()
    run = reconcile_run.reconcile_imported(
        doj_rows, county_rows, _file_report(imports[import_ids[0]]["report"]),
        _file_report(imports[import_ids[1]]["report"]), county=county, as_of=as_of, profile=profile,
        decisions=workspace_links.link_decisions(ws), progress=lambda f, m: progress(0.1 + f * 0.8, m), cancel=cancel)
    if cancel.is_set():
        raise Cancelled()
    progress(0.92, "Saving to the workspace")
    state = _store_reconciliation(ws, run, list(import_ids))
    progress(1.0, "Saved")
    return state


def _what_if(progress, cancel, rows, report, county: str, as_of: date,
             profile_a: profiles.Profile, profile_b: profiles.Profile, facts: ScreenFacts | None = None) -> dict:
    if facts is None:
        facts = pipeline.facts_of(rows)
    a = pipeline.screen_rows(rows, report, county=county, as_of=as_of, profile=profile_a, facts=facts,
                             progress=lambda f, m: progress(f * 0.5, f"{profile_a.id}: {m}"), cancel=cancel)
    b = pipeline.screen_rows(rows, report, county=county, as_of=as_of, profile=profile_b, facts=facts,
                             progress=lambda f, m: progress(0.5 + f * 0.5, f"{profile_b.id}: {m}"), cancel=cancel)
    cols = ["conviction_id", "name", "court_case_number", "conviction_date", "code_section", "level"]
    joined = (a.results.select(*cols, pl.col("outcome").alias("outcome_a"))
              .join(b.results.select("conviction_id", pl.col("outcome").alias("outcome_b")),
                    on="conviction_id", how="full", coalesce=True))
    changed = joined.filter(pl.col("outcome_a").ne_missing(pl.col("outcome_b")))
    moves = (changed.group_by("outcome_a", "outcome_b").len("count")
             .sort("count", "outcome_a", "outcome_b", descending=[True, False, False]))
    return {"a": profile_a, "b": profile_b, "total": joined.height, "changed": changed, "moves": moves,
            "by_outcome_a": a.summary["convictions"]["by_outcome"],
            "by_outcome_b": b.summary["convictions"]["by_outcome"]}


# -- court documents and exports (functions run on the worker: no widgets) --------------------------

# The office fields the Documents view edits, in form order, with their labels. "courthouses" is
# kept by the workspace but not edited here: the courts offered come from the run.
OFFICE_LABELS = {
    "district_attorney": "District Attorney",
    "state_bar_number": "State Bar number",
    "office": "Office",
    "address": "Address",
    "phone": "Phone",
    "email": "Email",
    "court": "Court title",
    "county": "County",
    "deputy": "Deputy who reviewed and signs",
    "deputy_state_bar_number": "Deputy's State Bar number",
    "public_defender": "Public Defender",
    "public_defender_address": "Public Defender's address",
    "city_attorneys": "City attorneys served",
}
MULTILINE_OFFICE_FIELDS = ("address", "public_defender_address", "city_attorneys")
DOCUMENTS_FOLDER_SETTING = "documents_folder"  # where Save proposes to put filings (per workspace)
OFFICE_REQUIRED = outputs_filing.OFFICE_KEYS  # what every caption and signature block needs
PREVIEW_PAGES = 4
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9 ()+\-./]*(?:\s*(?:x|ext\.?)\s*[0-9]+)?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def county_key(county: str) -> str:
    """The county as runs name it: "Sacramento County" and "sacramento" are "SACRAMENTO"."""
    text = " ".join(str(county or "").upper().split())
    return text[: -len(" COUNTY")] if text.endswith(" COUNTY") else text


def office_field_problem(field_id: str, value: str) -> str:
    """Why ``value`` cannot be saved as office field ``field_id`` ("" when it can). An empty
    value can always be saved; what a document still lacks is ``missing_office_fields``."""
    from ..core.demo import CA_COUNTIES

    label = OFFICE_LABELS.get(field_id, field_id)
    text = (value or "").strip()
    if field_id not in OFFICE_LABELS:
        return f"unknown office field {field_id!r}"
    if not text:
        return ""
    if len(text) > 400 and field_id != "city_attorneys":
        return f"{label}: at most 400 characters."
    if len(text) > (2000 if field_id == "city_attorneys" else 400):
        return f"{label}: too long."
    if _CONTROL.search(text) or ("\n" in text and field_id not in MULTILINE_OFFICE_FIELDS):
        return f"{label}: one line of plain text."
    if field_id in ("state_bar_number", "deputy_state_bar_number") and not re.fullmatch(r"[0-9]{1,7}", text):
        return f"{label}: digits only (up to 7)."
    if field_id == "phone" and (not _PHONE.match(text) or len(re.sub(r"\D", "", text)) < 10):
        return "Phone: a number with area code, such as (916) 555-0100."
    if field_id == "email" and not _EMAIL.match(text):
        return "Email: an address such as prop64@da.example.gov."
    if field_id == "court" and "COURT" not in text.upper():
        return "Court title: as captions print it, such as SUPERIOR COURT OF THE STATE OF CALIFORNIA, COUNTY OF …"
    if field_id == "county" and county_key(text) not in CA_COUNTIES:
        return "County: a California county, such as Sacramento."
    return ""


def missing_office_fields(office: dict) -> list[str]:
    return [OFFICE_LABELS[k] for k in OFFICE_REQUIRED if not str(office.get(k) or "").strip()]


def court_title_for(county: str) -> str:
    """The court title captions print for a county (proposed in the Documents view)."""
    return outputs_filing.court_title("", county) if county else ""


@dataclass
class DocumentRequest:
    """What to build, with everything the worker needs (no workspace access on the worker)."""

    results: pl.DataFrame
    decisions: pl.DataFrame
    office: outputs_filing.Office
    summary: dict
    as_of: date
    profile_title: str
    audit_head: str
    options: outputs_filing.FilingOptions = dataclasses.field(
        default_factory=lambda: outputs_filing.FilingOptions(posture="supplemental"))
    corrections: pl.DataFrame | None = None
    statutory: bool = False         # the run's profile is the statutory one (basis fallback)
    courthouse: str | None = None   # None: every courthouse
    by_courthouse: bool = False     # one packet per courthouse
    per_case: bool = False          # per-case motions and orders instead of the bulk packet


@dataclass
class BuiltDocument:
    file_name: str
    title: str
    data: bytes
    pages: int
    preview: list[QImage]           # the first pages, rendered on the worker


@dataclass
class DocumentSet:
    """Documents built in memory; nothing is written until the user saves them. ``documents``
    are the PDFs offered for preview and printing (for per-case output, the first case's);
    ``files`` is everything the filing writes."""

    request: DocumentRequest
    selection: outputs_filing.Selection
    counts: dict
    documents: list[BuiltDocument]
    files: list = field(default_factory=list)   # packet.OutputFile, every file of the filing
    notes: list[str] = field(default_factory=list)
    folder: Path | None = None      # where they were saved, once saved

    @property
    def update_files(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files if f.kind == "update")

    @property
    def file_names(self) -> list[str]:
        return [f.name for f in self.files]

    def saved_path(self, doc: BuiltDocument) -> Path | None:
        return self.folder / doc.file_name if self.folder is not None else None


def _decisions_for(results: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame | None:
    """The decisions on convictions of these results: decisions left from earlier runs whose
    conviction is gone are counted in the overview, and cannot go to a court."""
    if decisions.height == 0 or "conviction_id" not in decisions.columns:
        return None
    return decisions.join(results.select("conviction_id"), on="conviction_id", how="semi")


def _selection(results: pl.DataFrame, decisions: pl.DataFrame, courthouse: str | None,
               options: outputs_filing.FilingOptions | None = None, corrections: pl.DataFrame | None = None,
               statutory: bool = False) -> outputs_filing.Selection:
    if corrections is not None and corrections.height:
        corrections = corrections.join(results.select("conviction_id"), on="conviction_id", how="semi")
    selection = outputs_filing.select_for_filing(results, _decisions_for(results, decisions), options=options,
                                                 corrections=corrections, statutory_profile=statutory)
    if courthouse:
        part = selection.for_courthouse(courthouse)
        # the cover report checks its counts against the total: that of this courthouse
        selection = dataclasses.replace(
            part, total=part.granted.height + part.challenged.height + part.left_out.height)
    return selection


def filing_counts(selection: outputs_filing.Selection) -> dict:
    """What goes in: granted by relief (Exhibit A parts), challenged, and what is left out and
    why; and how many of the filed convictions no attorney has reviewed (counted honestly)."""
    groups = dict(selection.granted.group_by("group").len().iter_rows()) if selection.granted.height else {}
    kinds = dict(selection.left_out.group_by("left_out_kind").len().iter_rows()) if selection.left_out.height else {}
    unreviewed = (selection.granted.filter(~pl.col("reviewed")).height
                  + selection.challenged.filter(~pl.col("reviewed")).height)
    return {
        "granted": {g: int(groups.get(g, 0)) for g in outputs_filing.GROUPS},
        "granted_total": selection.granted.height,
        "challenged": selection.challenged.height,
        "challenged_by_attorney": selection.challenged.filter(pl.col("reviewed")).height,
        "unreviewed_filed": unreviewed,
        "left_out": {k: int(kinds.get(k, 0)) for k in outputs_filing.LEFT_OUT},
        "left_out_total": selection.left_out.height,
        "total": selection.total,
        "courthouses": selection.courthouses,
        "options": selection.options.metadata(),
    }


def _count_for_filing(progress, cancel, results: pl.DataFrame, decisions: pl.DataFrame,
                      courthouse: str | None, options=None, corrections=None, statutory: bool = False) -> dict:
    progress(0.1, "Counting what goes in")
    return filing_counts(_selection(results, decisions, courthouse, options, corrections, statutory))


PREVIEW_FILES = 6  # per-case output: the first motions and orders are previewed, every file is saved


def _build_documents(progress, cancel, req: DocumentRequest) -> DocumentSet:
    progress(0.02, "Choosing what goes in")
    selection = _selection(req.results, req.decisions, None, req.options, req.corrections, req.statutory)
    built_filing = packet.build_filing(
        selection, req.office, summary=req.summary, per_case=req.per_case, by_courthouse=req.by_courthouse,
        courthouse=req.courthouse, audit_head=req.audit_head, rejected_where="the workspace's import report",
        progress=lambda f, m: progress(0.02 + 0.8 * f, m), cancel=cancel)
    selection = built_filing.selection  # rows a document could not print are in the cover report
    counts = filing_counts(selection)
    notes = [f"Not built: {f}" for f in built_filing.failures]
    if selection.granted.height + selection.challenged.height == 0:
        notes.append("Nothing to file: no granted or challenged conviction"
                     + (f" at {req.courthouse}" if req.courthouse else "") + ". Only the cover report was built.")
    pdfs = [f for f in built_filing.files if f.name.endswith(".pdf")]
    shown = [f for f in pdfs if not f.kind.startswith("per_case")]
    per_case = [f for f in pdfs if f.kind.startswith("per_case")]
    if per_case:
        notes.append(f"Per-case filings: {len(per_case) // 2:,} court cases, each a motion, a proposed order and "
                     f"the order as .docx in the folder per-case/; the first {PREVIEW_FILES // 2} are previewed.")
    preview = per_case[:PREVIEW_FILES] + shown
    built = []
    for i, f in enumerate(preview):
        if cancel.is_set():
            raise Cancelled()
        progress(0.82 + 0.17 * i / max(len(preview), 1), f"Preparing the preview of {f.name}")
        built.append(BuiltDocument(f.name, f.title, f.data, pdfview.page_count(f.data),
                                   pdfview.render_pages(f.data, 0, PREVIEW_PAGES)))
    progress(1.0, "Built")
    return DocumentSet(request=req, selection=selection, counts=counts, documents=built,
                       files=list(built_filing.files), notes=notes)


def _write_file(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror or type(exc).__name__})") from None


def _save_documents(progress, cancel, ws: Workspace, doc_set: DocumentSet, folder: Path) -> list[Path]:
    folder = local_path(folder, what="folder")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    if cancel.is_set():
        raise Cancelled()
    # Cancel is not looked at past this point: a few seconds of writing, never half a set.
    built = packet.Filing(doc_set.selection, list(doc_set.files))
    progress(0.1, f"Saving {len(built.files):,} files")
    written = packet.write_filing(built, folder)
    c = doc_set.counts
    o = doc_set.request.options
    per_case = [p for p in written if p.parent != folder]
    ws.log_event("document", {
        "action": "saved",
        # per-case file names carry case numbers: the trail counts them instead
        "files": [p.name for p in written if p.parent == folder],
        "per_case_files": len(per_case),
        "pages": {d.file_name: d.pages for d in doc_set.documents if "/" not in d.file_name},
        "granted": c["granted_total"], "challenged": c["challenged"], "left_out": c["left_out_total"],
        "unreviewed_filed": c["unreviewed_filed"],
        "courthouse": "one" if doc_set.request.courthouse else "all",
        "by_courthouse": doc_set.request.by_courthouse, "per_case": doc_set.request.per_case,
        "posture": o.posture, "include": o.include, "challenge_ineligible": o.challenge_ineligible,
        "include_juvenile": o.include_juvenile, "doj_list_received": o.metadata()["doj_list_received"],
        "filing_date": o.metadata()["filing_date"], "versions": list(o.versions),
        "audit_head_printed": doc_set.request.audit_head,
    })
    progress(1.0, "Saved")
    return written


def _print_document(progress, cancel, ws: Workspace, doc: BuiltDocument, printer, audit_head: str) -> int:
    pages = pdfview.print_pdf(doc.data, printer, progress, cancel)
    ws.log_event("document", {"action": "printed", "file": doc.file_name, "pages": pages,
                              "audit_head_printed": audit_head})
    return pages


def _impact_figures(progress, cancel, summary: dict, results: pl.DataFrame) -> dict:
    progress(0.1, "Working out the report's figures")
    return impact_report.impact_figures(summary, results)


def _filing_progress(ws: Workspace) -> dict | None:
    """Progress after filing for the reports, once the workspace records a filing (issue 16)."""
    return ws.progress_figures() if ws.filings() else None


def _export_workbook(progress, cancel, ws: Workspace, results: pl.DataFrame, summary: dict,
                     decisions: pl.DataFrame | None, audit_head: str, path: Path) -> Path:
    out = workbook.write_workbook(results, summary, path, decisions=decisions, audit_head=audit_head,
                                  filing_progress=_filing_progress(ws), progress=progress, cancel=cancel)
    ws.log_event("export", {"what": "xlsx", "file": out.name, "rows": results.height,
                            "decisions": 0 if decisions is None else decisions.height,
                            "audit_head_printed": audit_head})
    return out


def _export_impact_report(progress, cancel, ws: Workspace, summary: dict, results: pl.DataFrame,
                          audit_head: str, path: Path) -> Path:
    progress(0.1, "Drawing the impact report")
    out = impact_report.write_impact_report(summary, results, path, audit_head=audit_head,
                                            filing_progress=_filing_progress(ws))
    ws.log_event("export", {"what": "impact_report", "file": out.name, "audit_head_printed": audit_head})
    progress(1.0, "Saved")
    return out


def _export_results_csv(progress, cancel, ws: Workspace, frame: pl.DataFrame, path: Path) -> Path:
    progress(0.1, "Writing the CSV file")
    out = outputs_common.write_results_csv(frame, path)
    ws.log_event("export", {"what": "review_table_csv", "file": out.name, "rows": frame.height,
                            "columns": list(frame.columns)})
    progress(1.0, "Saved")
    return out


@dataclass
class DojExport:
    """The DOJ-layout export: the file written, or (nothing written) the input files that must
    be located first, each with ``reason``: "missing" (not where it was read) or "changed"."""

    written: Path | None
    unusable: list[dict] = field(default_factory=list)


def _export_doj_results(progress, cancel, ws: Workspace, sources: list[dict], results: pl.DataFrame,
                        decisions: pl.DataFrame | None, path: Path) -> DojExport:
    """Re-read the DOJ extracts the run screened, each checked against the SHA-256 recorded at
    import, and write every row in the DOJ layout with its result."""
    from ..core.ingest.doj import read_extract

    usable, unusable = [], []
    for i, src in enumerate(sources):
        if cancel.is_set():
            raise Cancelled()
        candidate = Path(src["path"]) if src.get("path") else None
        if candidate is None or not candidate.is_file():
            unusable.append({**src, "reason": "missing"})
            continue
        file_path = local_path(candidate)
        progress(0.3 * i / len(sources), f"Checking {file_path.name}")
        if ingest_report.file_sha256(file_path) != src["sha256"]:
            unusable.append({**src, "reason": "changed"})
            continue
        usable.append((src, file_path))
    if unusable:
        return DojExport(None, unusable)
    frames = []
    for i, (src, file_path) in enumerate(usable):
        progress(0.3 + 0.1 * i / len(usable), f"Re-reading {file_path.name}")
        read = read_extract(file_path, cancel=cancel)
        if read.frame.height != int(src["rows_imported"]):
            raise InputError(f"{file_path.name}: {read.frame.height:,} rows read, the import had "
                             f"{int(src['rows_imported']):,}")
        frames.append(read.frame.with_columns(
            pl.lit(src["file"]).alias("source_file"),
            pl.col("source_line").cast(pl.Int64),
            pl.col("SUBJECT_ID").str.strip_chars().alias("subject_id"),
            pl.col("CNT_ORDER").str.strip_chars().alias("count_key"),
        ))
        if cancel.is_set():
            raise Cancelled()
    rows_raw = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
    out = doj_layout.write_doj_results(rows_raw, results, path, decisions=decisions,
                                    progress=lambda f, m: progress(0.4 + 0.6 * f, m), cancel=cancel)
    ws.log_event("export", {"what": "doj_results", "file": out.name, "rows": rows_raw.height,
                            "inputs": [s["file"] for s in sources]})
    return DojExport(out)


# -- after filing (issue 16): filings, rulings, statuses, lookups ----------------------------------

def _record_filing(progress, cancel, ws: Workspace, doc_set: DocumentSet, court: str, filed_on: date,
                   posture: str | None, note: str | None) -> int:
    from ..core.outputs import court_update
    from ..core.workspace.filings import rows_from_update

    progress(0.2, "Recording the filing")
    update = court_update.court_update_rows(doc_set.selection, by_courthouse=doc_set.request.by_courthouse)
    files = [{"name": f.name, "sha256": hashlib.sha256(f.data).hexdigest(), "bytes": len(f.data)}
             for f in doc_set.files]
    filing_id = ws.record_filing(posture=posture or doc_set.request.options.posture, court=court, filed_on=filed_on,
                                 courthouse=doc_set.request.courthouse, convictions=rows_from_update(update),
                                 files=files, audit_head_printed=doc_set.request.audit_head, note=note)
    progress(1.0, "Recorded")
    return filing_id


def _import_rulings(progress, cancel, ws: Workspace, path: Path, filing_id: int | None, mapping: dict | None):
    progress(0.1, f"Reading {Path(path).name}")
    result = ws.import_rulings(path, filing_id=filing_id, mapping=mapping)
    progress(1.0, "Imported")
    return result


def _statuses(progress, cancel, ws: Workspace, days: int) -> dict:
    progress(0.1, "Working out each conviction's status")
    frame = ws.statuses()
    progress(0.7, "Counting")
    return {"statuses": frame, "counts": ws.status_counts(frame), "waiting": ws.waiting(days, statuses=frame),
            "filings": ws.filings(), "doj_unchanged": ws.doj_unchanged()}


def _progress_counts(progress, cancel, results: pl.DataFrame, decisions: pl.DataFrame, filed: pl.DataFrame,
                     days: int, today: date) -> dict:
    from ..core.workspace.filings import combine_statuses, status_counts_of, waiting_among

    progress(0.1, "Working out each conviction's status")
    frame = combine_statuses(results.select("conviction_id", "courthouse", "conviction_date"), decisions,
                             filed)
    return {"statuses": frame, "counts": status_counts_of(frame), "waiting": waiting_among(frame, days, today)}


def _lookup(progress, cancel, ws: Workspace, fields: dict, reason: str) -> list[dict]:
    progress(0.1, "Searching")
    return ws.lookup(reason=reason, **fields)


def _status_letter(progress, cancel, ws: Workspace, person: dict, reason: str, address: str | None,
                   today: date) -> bytes:
    from ..core.outputs.status_letter import build_status_letter

    progress(0.2, "Writing the letter")
    office = ws.get_office()
    if not office.get("county"):
        office["county"] = (ws.county or "").title()
    pdf = build_status_letter(person, person["convictions"], office, today=today, mailing_address=address)
    ws.log_status_letter(person["subject_id"], [c["conviction_id"] for c in person["convictions"]], reason=reason)
    progress(1.0, "Written")
    return pdf


class _Reader:
    """Read-only work over frames the session holds (counts, report figures), on its own worker
    beside the writer: it never touches the workspace, so it need not wait for an import or
    an export. The latest request wins: an older one still running is cancelled."""

    def __init__(self, session: "Session"):
        self.session = session
        self.runner = TaskRunner(session)
        self._pending: tuple | None = None
        self.runner.busy_changed.connect(self._next)

    def request(self, title: str, fn, args: tuple, handler, failed) -> None:
        if self.runner.busy:
            self._pending = (title, fn, args, handler, failed)
            self.runner.cancel()
            return
        task = self.runner.start(title, fn, *args)
        self.session._deliver(task, handler)
        task.failed.connect(failed)

    def _next(self, busy: bool) -> None:
        if not busy and self._pending is not None:
            pending, self._pending = self._pending, None
            self.request(*pending)

    def shutdown(self) -> None:
        self._pending = None
        self.runner.shutdown()


# -- the session -----------------------------------------------------------------------------------

class Session(QObject):
    """The open workspace and its current run."""

    workspace_changed = Signal()     # opened or closed
    run_changed = Signal()           # a run was loaded or screened
    pending_changed = Signal()       # a file was read for import (or the pending import dropped)
    decisions_changed = Signal(list)  # conviction ids whose effective decision changed
    audit_changed = Signal()
    office_changed = Signal()        # office details saved (or another workspace opened)
    links_changed = Signal()         # a reconciliation link was confirmed, split or withdrawn
    filings_changed = Signal()       # a filing, ruling or notice to DOJ was recorded (issue 16)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.workspace: Workspace | None = None
        self.run: RunState | None = None
        self.pending: PendingImport | None = None
        self.decisions: pl.DataFrame = pl.DataFrame()
        # the convictions of active filings with their status (filed, ruled, reported to DOJ):
        # with the decisions, every conviction's status without reading the workspace (issue 16)
        self.filed: pl.DataFrame = pl.DataFrame()
        self.demo = False
        self._generation = 0  # bumped on close: results of tasks for a closed workspace are dropped
        self._readers: dict[str, _Reader] = {}

    # -- workspace -----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.workspace is not None and not self.workspace.closed

    def create_workspace(self, path: Path, passphrase: str, county: str) -> None:
        ws = Workspace.create(path, passphrase, county=county or None)
        self._set_workspace(ws)

    def open_workspace(self, path: Path, passphrase: str) -> None:
        """Open (raises WrongPassphrase, NotAWorkspace, WorkspaceBusy); the run loads on the worker."""
        ws = Workspace.open(path, passphrase)
        self._set_workspace(ws)

    def _set_workspace(self, ws: Workspace) -> None:
        self.close_workspace()
        self.workspace = ws
        self.decisions = ws.current_decisions()
        self.filed = ws.filed_statuses()
        self.workspace_changed.emit()
        self.audit_changed.emit()
        self.office_changed.emit()

    def load_latest_run(self) -> Task | None:
        if not self.is_open or self.workspace.latest_run() is None:
            return None
        task = self.runner.start("Loading the workspace", _load_run, self.workspace)
        self._deliver(task, self._on_run_ready)
        return task

    def close_workspace(self) -> None:
        self.runner.shutdown()
        for reader in self._readers.values():
            reader.shutdown()
        self._generation += 1
        if self.workspace is not None:
            self.workspace.close()
        had = self.workspace is not None
        self.workspace = None
        self.run = None
        self.pending = None
        self.decisions = pl.DataFrame()
        self.filed = pl.DataFrame()
        if had:
            self.workspace_changed.emit()
            self.run_changed.emit()
            self.pending_changed.emit()

    @property
    def notices(self) -> list[str]:
        """What opening the workspace found that the user should know (a log set aside, read-only)."""
        return list(self.workspace.notices) if self.is_open else []

    def backup(self, dest: Path) -> Task:
        """A complete copy of the open workspace (SQLite's online backup), on the worker."""
        if not self.is_open:
            raise InputError("open a workspace first")
        task = self.runner.start("Backing up the workspace", _backup, self.workspace, Path(dest))
        task.succeeded.connect(lambda _r: self.audit_changed.emit())
        return task

    def restore(self, backup: Path, target: Path, passphrase: str) -> Task:
        """Put a backup in place of ``target`` (closing it first when it is the open workspace);
        ``succeeded`` carries (restored path, where the replaced file was kept or None)."""
        if self.is_open and self.workspace.path == Path(target).resolve():
            self.close_workspace()
        return self.runner.start("Restoring the workspace", _restore, Path(backup), Path(target), passphrase)

    @staticmethod
    def passphrase_problem(passphrase: str, context: tuple[str, ...] = ()) -> str | None:
        """Why a new passphrase is refused (with advice), or None (offline strength estimate)."""
        return workspace_keys.passphrase_problem(passphrase, context=context)

    @staticmethod
    def passphrase_strength(passphrase: str, context: tuple[str, ...] = ()) -> int:
        return workspace_keys.passphrase_strength(passphrase, context=context)

    @property
    def workspace_county(self) -> str:
        return (self.workspace.county or "") if self.is_open else ""

    # -- import and screening ------------------------------------------------------------------

    def read_files(self, paths: list[Path], mapping: dict | None = None) -> Task:
        key = self.workspace.person_id_key() if self.is_open else None
        task = self.runner.start("Reading the file", _read_files, list(paths), mapping, key)
        self._deliver(task, self._on_pending)
        return task

    def _deliver(self, task: Task, handler) -> None:
        """Hand the task's result to ``handler`` unless the workspace it was for has been closed
        meanwhile (a result can still be queued when the window closes the workspace)."""
        generation = self._generation
        task.succeeded.connect(lambda result: handler(result) if generation == self._generation else None)

    def _on_pending(self, pending: PendingImport) -> None:
        self.pending = pending
        self.pending_changed.emit()

    # How a file read while the workspace already holds a run joins it. "replace": the new file
    # alone; "add": screened together with what the run holds. (Reconciling a county file with
    # the DOJ extract is a third way, offered once the reconciliation stage is in the app.)
    # "reconcile": a county export read while the run holds one DOJ extract is reconciled with it.
    IMPORT_MODES = ("replace", "add", "reconcile")

    def can_reconcile_pending(self) -> bool:
        """The pending file is a county export (read through a column mapping) and the current
        run holds exactly one DOJ extract, not yet reconciled."""
        run, pending = self.run, self.pending
        if run is None or pending is None or run.is_reconciliation or not pending.mapping:
            return False
        if len(run.import_ids) != 1 or len(pending.report.files) != 1:
            return False
        held = next((i for i in self.workspace.imports() if i["import_id"] == run.import_ids[0]), None)
        return held is not None and not held["report"].get("mapping")

    def import_choices(self) -> dict[str, str]:
        """What each way of importing the pending file does, in plain words, when the workspace
        already holds a run; empty when there is nothing to choose (first import)."""
        run, pending = self.run, self.pending
        if run is None or pending is None:
            return {}
        held = ", ".join(f.file for f in run.report.files) or "the earlier import"
        new = ", ".join(p.name for p in pending.paths) or "the new file"
        n = run.results.height
        out = {}
        if self.can_reconcile_pending():
            out["reconcile"] = (f"{new} (the county's own records) is compared with {held} (DOJ's list): people and "
                                "convictions are linked across the two and three lists are screened: convictions "
                                "DOJ's list missed, convictions the county cannot find, and those recorded "
                                "differently. Links are shown to confirm or split in the Reconciliation view.")
        return out | {
            "add": (f"{new} is screened together with {held}: people who appear in both are seen with "
                    f"their whole record, and the {n:,} convictions screened now stay in every view."),
            "replace": (f"Only {new} is screened. The {n:,} convictions from {held} leave every view "
                        "(they stay in the workspace's history, and their decisions are kept and come "
                        "back if that file is imported again)."),
        }

    def duplicate_files(self) -> list[str]:
        """Files of the pending import that the current run already holds (same content)."""
        if self.run is None or self.pending is None:
            return []
        held = {f.sha256 for f in self.run.report.files}
        return [f.file for f in self.pending.report.files if f.sha256 in held]

    def screen_pending(self, county: str, as_of: date, profile: profiles.Profile, mode: str = "replace") -> Task:
        if self.pending is None:
            raise InputError("choose a file to import first")
        if mode not in self.IMPORT_MODES:
            raise InputError(f"unknown way of importing {mode!r}")
        if mode == "reconcile":
            if not self.can_reconcile_pending():
                raise InputError("a reconciliation needs a county export read with its column mapping while the "
                                 "workspace holds one DOJ extract")
            task = self.runner.start("Reconciling DOJ's extract with the county's records", _reconcile_pending,
                                     self.workspace, self.run, self.pending, county, as_of, profile)
        elif mode == "add" and self.run is not None:
            same = self.duplicate_files()
            if same:
                raise InputError(f"{', '.join(same)}: the workspace already holds this file; adding it again "
                                 "would count its convictions twice. Choose Replace to screen it again.")
            task = self.runner.start("Importing and screening", _add_and_store, self.workspace, self.pending,
                                     self.run, county, as_of, profile)
        else:
            task = self.runner.start("Importing and screening", _screen_and_store, self.workspace,
                                     self.pending, county, as_of, profile, None)
        self._deliver(task, self._on_screened)
        return task

    def county_warning(self, county: str) -> str | None:
        """The core's wrong-county check for the pending import (or the current run)."""
        report = self.pending.report if self.pending is not None else (self.run.report if self.run else None)
        return pipeline.county_mismatch(county, report) if report is not None else None

    def run_county_warning(self) -> str | None:
        """The wrong-county check for the current run (the Overview shows it)."""
        run = self.run
        return pipeline.county_mismatch(run.county, run.report) if run is not None else None

    def screen_files(self, paths: list[Path], as_of: date, profile: profiles.Profile,
                     county: str | None = None) -> Task:
        """Read, screen and store in one task (no county choice: see ``_read_and_screen``)."""
        task = self.runner.start("Importing and screening", _read_and_screen, self.workspace,
                                 list(paths), county or self.workspace_county, as_of, profile)
        self._deliver(task, self._on_screened)
        return task

    def rescreen(self, as_of: date, profile: profiles.Profile) -> Task:
        """Screen the current run's records again with another profile or evaluation date."""
        if self.run is None:
            raise InputError("import an extract first")
        if self.run.is_reconciliation:
            return self.reconcile_again(as_of, profile)
        pending = PendingImport(paths=[], rows=self.run.rows, report=self.run.report, facts=self.run.facts)
        task = self.runner.start("Screening again", _screen_and_store, self.workspace, pending,
                                 self.run.county, as_of, profile, list(self.run.import_ids))
        self._deliver(task, self._on_run_ready)
        return task

    # -- reconciliation of DOJ's extract with the county's records (issue 15) -------------------

    def reconcile(self, doj_path: Path, county_path: Path, mapping: dict, county: str, as_of: date,
                  profile: profiles.Profile) -> Task:
        """Import both files, link them, screen the three lists and store it all as a run."""
        if not self.is_open:
            raise InputError("open a workspace first")
        if not mapping:
            raise InputError(f"{Path(county_path).name}: give the column mapping of the county's export")
        task = self.runner.start("Reconciling DOJ's extract with the county's records", _reconcile_files,
                                 self.workspace, Path(doj_path), Path(county_path), mapping, county, as_of,
                                 profile, self.workspace.person_id_key())
        self._deliver(task, self._on_screened)
        return task

    def reconcile_again(self, as_of: date | None = None, profile: profiles.Profile | None = None) -> Task:
        """Reconcile the current run's two imports again with the link decisions now in force."""
        run = self.run
        if run is None or not run.is_reconciliation:
            raise InputError("reconcile DOJ's extract with the county's records first")
        task = self.runner.start("Reconciling again", _reconcile_again, self.workspace, list(run.import_ids),
                                 run.county, as_of or run.as_of, profile or self.run_profile())
        self._deliver(task, self._on_run_ready)
        return task

    def reconciliation_counts(self) -> dict | None:
        """The current run's reconciliation figures (lists, links...), or None."""
        if self.run is None or not self.run.is_reconciliation:
            return None
        return self.run.summary.get("reconciliation")

    # Fields compared side by side for a linked pair: (label, table column suffix).
    # Fields compared side by side for a linked pair: (label, table column suffix, the linkage's
    # code for a disagreement on it, or None when it is not compared).
    PAIR_FIELDS = (("Court case number", "court_case_number", "case_number"), ("Code section", "code_section", "section"),
                   ("Level", "level", "level"), ("Conviction date", "conviction_date", "date"),
                   ("Disposition", "convicted", "disposition"), ("Source file", "source_file", None),
                   ("Source line", "source_line", None))

    def reconciliation_list(self, provenance: str | None = None) -> pl.DataFrame:
        """The convictions of one list (all when None) as the Reconciliation view shows them: the
        county's values for a county-only conviction, DOJ's otherwise."""
        run = self.run
        if run is None or not run.is_reconciliation:
            return pl.DataFrame()
        t = run.recon_table
        if provenance:
            t = t.filter(pl.col("provenance") == provenance)
        county_side = pl.col("provenance") == "county_only"

        def value(name: str) -> pl.Expr:
            return (pl.when(county_side).then(pl.col(f"county_{name}").cast(pl.String))
                    .otherwise(pl.col(f"doj_{name}").cast(pl.String)).alias(name))

        people = run.results.select("conviction_id", "name", "courthouse", "subject_id")
        return (t.join(people, on="conviction_id", how="left")
                .select("conviction_id", "provenance", "name", "courthouse", value("court_case_number"),
                        value("code_section"), value("level"), value("conviction_date"), "outcome",
                        pl.col("link_status").fill_null(""), pl.col("link_score").round(2).cast(pl.String).fill_null(""),
                        pl.col("disagreements").fill_null(""), "subject_id")
                .sort("provenance", "court_case_number", "conviction_id", nulls_last=True))

    def reconciliation_pair(self, conviction_id: str) -> list[tuple[str, str, str, bool]]:
        """DOJ's and the county's value of each compared field of one conviction:
        (field, DOJ, county, differs). Empty when the conviction is not in the reconciliation."""
        run = self.run
        if run is None or not run.is_reconciliation:
            return []
        hit = run.recon_table.filter(pl.col("conviction_id") == conviction_id)
        if hit.height == 0:
            return []
        r = hit.row(0, named=True)
        out = []
        codes = (r.get("disagree_on") or "").split(";")
        for label, key, code in self.PAIR_FIELDS:
            d, c = r.get(f"doj_{key}"), r.get(f"county_{key}")
            if key == "convicted":  # the disposition, as the disagreement text says it
                d, c = ({True: "convicted", False: "not a conviction"}.get(v) for v in (d, c))
            d = "" if d is None else str(d)
            c = "" if c is None else str(c)
            differs = code is not None and code in codes
            out.append((label, d, c, differs))
        return out

    def reconciliation_links(self) -> pl.DataFrame:
        """Every link of the current reconciliation with the clerk's word in force on it
        (``word``: confirm, split or blank); proposed links first."""
        run = self.run
        if run is None or not run.is_reconciliation or run.recon_links is None:
            return pl.DataFrame()
        words = self.link_decisions()
        links = run.recon_links
        word = pl.DataFrame({"kind": [k for k, _, _ in words], "county_key": [c for _, c, _ in words],
                             "doj_key": [d for _, _, d in words], "word": list(words.values())},
                            schema={"kind": pl.String, "county_key": pl.String, "doj_key": pl.String, "word": pl.String})
        order = pl.when(pl.col("status") == "proposed").then(0).otherwise(1)
        return (links.join(word, on=["kind", "county_key", "doj_key"], how="left")
                .with_columns(pl.col("word").fill_null(""), pl.col("score").round(2).cast(pl.String).alias("score_text"))
                .sort(order, "kind", "score", "doj_key", "county_key", descending=[False, True, False, False, False]))

    def reconciliation_by_courthouse(self) -> pl.DataFrame:
        """Convictions of each list by courthouse (courthouse, county_only, doj_only,
        both_disagreeing, both, total)."""
        run = self.run
        if run is None or not run.is_reconciliation or "provenance" not in run.results.columns:
            return pl.DataFrame()
        lists = ["county_only", "doj_only", "both_disagreeing", "both"]
        frame = run.results.select(pl.col("courthouse").fill_null("(not recorded)"), "provenance")
        out = frame.group_by("courthouse").agg([(pl.col("provenance") == p).sum().cast(pl.Int64).alias(p) for p in lists])
        return out.with_columns(pl.sum_horizontal(lists).alias("total")).sort("total", "courthouse",
                                                                               descending=[True, False])

    def supplemental_note(self) -> str:
        """What a supplemental motion holds for the current run, in plain words (the core decides:
        after a reconciliation, only the convictions found in the county's records only)."""
        counts = self.reconciliation_counts()
        if counts is None:
            return ("This run is not a reconciliation, so nothing tells which convictions DOJ's list missed: "
                    "reconcile DOJ's extract with the county's records first (Reconciliation view).")
        n = int(counts.get("lists", {}).get("county_only", 0))
        return (f"This reconciliation found {n:,} conviction{'s' if n != 1 else ''} in the county's records only; "
                "only those go in. Convictions on DOJ's list are left out, with that reason in the cover report.")

    def link_decisions(self) -> dict[tuple[str, str, str], str]:
        """The clerk's word in force on each link: (kind, county key, DOJ key) -> confirm / split."""
        if not self.is_open:
            return {}
        return {(d.kind, d.county_key, d.doj_key): d.decision for d in workspace_links.link_decisions(self.workspace)}

    def link_history(self) -> list[dict]:
        return workspace_links.link_decision_history(self.workspace) if self.is_open else []

    def decide_link(self, kind: str, county_key: str, doj_key: str, decision: str, *, reason: str | None = None) -> int:
        """Confirm or split a link, or ``withdraw`` the word in force (the undo the core offers:
        the log is append-only, so a withdrawal is a decision of its own). It takes effect when
        the two imports are reconciled again."""
        self._require_idle()
        decision_id = workspace_links.record_link_decision(self.workspace, kind, county_key, doj_key, decision,
                                                           reason=reason)
        self.links_changed.emit()
        self.audit_changed.emit()
        return decision_id

    def what_if(self, profile_a: profiles.Profile, profile_b: profiles.Profile) -> Task:
        if self.run is None:
            raise InputError("import an extract first")
        return self.runner.start("Comparing profiles", _what_if, self.run.rows, self.run.report,
                                 self.run.county, self.run.as_of, profile_a, profile_b, self.run.facts)

    def _on_screened(self, state: RunState) -> None:
        self.pending = None
        self.pending_changed.emit()
        self._on_run_ready(state)

    def _on_run_ready(self, state: RunState | None) -> None:
        self.run = state
        if self.is_open:
            self.decisions = self.workspace.current_decisions()
            self.filed = self.workspace.filed_statuses()
        self.run_changed.emit()
        self.audit_changed.emit()

    def person_rows(self, subject_id: str) -> pl.DataFrame:
        """Every imported row of one person (the review pane's history), read on demand from the
        run's row groups: only the groups holding that person are decoded."""
        rows = self.run.rows if self.run is not None else None
        if rows is None:
            return pl.DataFrame()
        if isinstance(rows, RowStore):
            return rows.person(subject_id)
        return rows.filter(pl.col("subject_id") == subject_id)

    def run_profile(self) -> profiles.Profile | None:
        """The profile the current run was screened with."""
        if self.run is None:
            return None
        return profile_from_text(self.run.profile_id, self.run.profile_text)

    # -- mapping of county files ------------------------------------------------------------------

    def rejected_lines(self, report, handler, failed) -> None:
        """The text of the report's rejected lines, read from the files on a reader:
        ``handler({(file, line): text})`` (lines of a moved or changed file are left out)."""
        self._reader("rejected").request("Reading the rejected lines", _rejected_lines, (report,), handler, failed)

    @staticmethod
    def own_output(path: Path) -> str | None:
        """What ClearRec output file ``path`` is (results.xlsx, results.csv), or None."""
        from ..core.ingest import own_outputs

        return own_outputs.describe(path)

    @staticmethod
    def needs_mapping(path: Path) -> bool:
        """County files (any spreadsheet, or a CSV that is not a DOJ extract) need a column mapping."""
        path = local_path(path, what="file")
        if path.suffix.lower() in spreadsheets.SPREADSHEET_SUFFIXES:
            return True
        return not importer.is_doj_extract(path)

    @staticmethod
    def mapping_fields() -> list[tuple[str, str, bool]]:
        """(field id, label, required) of a column mapping, as the county-file importer defines them."""
        return county_mapping.mapping_fields()

    @staticmethod
    def preview_file(path: Path, rows: int = 20) -> tuple[list[str], list[list[str]], str]:
        """The header and first rows of a county file as text, and a signature of its header (the
        key its mapping is saved under, so the next file with the same columns reuses it)."""
        header, first = county_files.preview(local_path(path, what="file"), rows)
        signature = hashlib.sha256("\x1f".join(header).encode("utf-8")).hexdigest()[:16]
        return header, first, signature

    @staticmethod
    def guess_mapping(header: list[str]) -> dict:
        return {"columns": county_mapping.guess_mapping(header), "options": {}}

    def saved_mapping(self, signature: str) -> dict | None:
        if not self.is_open:
            return None
        return (self.workspace.get_setting(MAPPING_SETTING, {}) or {}).get(signature)

    def save_mapping(self, signature: str, mapping: dict) -> None:
        if not self.is_open:
            return
        self._require_idle()
        stored = dict(self.workspace.get_setting(MAPPING_SETTING, {}) or {})
        stored[signature] = mapping
        self.workspace.set_setting(MAPPING_SETTING, stored)
        self.audit_changed.emit()

    # -- decisions ---------------------------------------------------------------------------------

    @staticmethod
    def departs(decision: str, proposed: str | None) -> bool:
        """Whether ``decision`` departs from the proposal, so the workspace will want a reason.
        The workspace holds the rule and enforces it."""
        return requires_reason(decision, proposed)

    def proposal(self, conviction_id: str) -> str | None:
        if self.run is None:
            return None
        hit = self.run.results.filter(pl.col("conviction_id") == conviction_id)
        return hit.item(0, "outcome") if hit.height else None

    def decide(self, conviction_id: str, decision: str, *, reason: str | None = None,
               ground: str | None = None, notes: str | None = None,
               corrections: list[dict[str, str]] | None = None) -> int:
        """Record a decision (committed before this returns). The workspace enforces the rules:
        a known decision, a ground with a challenge, a reason when departing from the proposal.
        ``corrections``: facts of the record the court sees, each with its source (issue 18.3)."""
        if decision not in DECISIONS:
            raise InputError(f"unknown decision {decision!r}")
        self._require_idle()
        event = self.workspace.record_decision(conviction_id, decision, reason=reason, ground=ground,
                                               notes=notes, proposed=self.proposal(conviction_id),
                                               corrections=corrections)
        self._decisions_touched([conviction_id])
        return event

    def decide_many(self, conviction_ids: list[str], decision: str = "accept", *, notes: str | None = None,
                    selection: str = "") -> list[int]:
        """One decision on many convictions in one step (committed together; undone together).
        ``selection`` says how they were chosen (the filter), for the audit trail."""
        if decision not in DECISIONS:
            raise InputError(f"unknown decision {decision!r}")
        self._require_idle()
        if self.run is None:
            raise InputError("import and screen an extract first")
        items = self._proposals_of(conviction_ids)
        events = self.workspace.record_decisions(items, decision, notes=notes, selection=selection)
        self._decisions_touched(list(conviction_ids))
        return events

    def _proposals_of(self, conviction_ids: list[str]) -> list[tuple[str, str | None]]:
        wanted = pl.DataFrame({"conviction_id": conviction_ids}, schema={"conviction_id": pl.String})
        found = wanted.join(self.run.results.select("conviction_id", "outcome"), on="conviction_id", how="left")
        return list(found.iter_rows())

    def undo(self) -> dict | None:
        self._require_idle()
        event = self.workspace.undo() if self.is_open else None
        if event is not None:
            self._decisions_touched(event.get("conviction_ids") or [event["conviction_id"]])
        return event

    def redo(self) -> dict | None:
        self._require_idle()
        event = self.workspace.redo() if self.is_open else None
        if event is not None:
            self._decisions_touched(event.get("conviction_ids") or [event["conviction_id"]])
        return event

    def date_alternatives(self, record: dict) -> list[tuple[str, str]]:
        """For a conviction with a doubtful date: the outcome each possible date would give."""
        if self.run is None or record.get("conviction_date_quality") in (None, "full"):
            return []
        profile = self.run_profile()
        try:
            return pipeline.date_alternatives(self.run.rows, record, profile=profile, county=self.run.county,
                                              as_of=self.run.as_of)
        except InputError:
            return []

    def can_undo(self) -> bool:
        return self.is_open and self.workspace.can_undo()

    def can_redo(self) -> bool:
        return self.is_open and self.workspace.can_redo()

    def _require_idle(self) -> None:
        if not self.is_open:
            raise InputError("open a workspace first")
        if self.runner.busy:
            # One writer at a time: the worker may be storing a run.
            raise InputError(f"wait until '{self.runner.current.title}' has finished")

    def _decisions_touched(self, ids: list[str]) -> None:
        """Refresh the effective decisions of ``ids`` only: re-reading every decision after each
        keypress would slow down as the review goes on."""
        schema = self.decisions.schema  # as Workspace.current_decisions() returns it
        kept = self.decisions.filter(~pl.col("conviction_id").is_in(ids))
        fresh = [e for e in (self.workspace.decision_for(cid) for cid in ids) if e is not None]
        if fresh:
            added = pl.DataFrame([{k: e.get("at" if k == "decided_at" else k) for k in schema} for e in fresh],
                                 schema=schema, orient="row")
            kept = pl.concat([kept, added])
        self.decisions = kept
        self.decisions_changed.emit(ids)
        self.audit_changed.emit()

    def add_note(self, conviction_id: str, text: str) -> int:
        self._require_idle()
        note_id = self.workspace.add_note(text, conviction_id=conviction_id)
        self.decisions_changed.emit([conviction_id])
        self.audit_changed.emit()
        return note_id

    def notes(self, conviction_id: str) -> list[dict]:
        return self.workspace.notes(conviction_id) if self.is_open else []

    def decision_history(self, conviction_id: str) -> list[dict]:
        return self.workspace.decision_history(conviction_id) if self.is_open else []

    # -- settings ----------------------------------------------------------------------------------

    def reviewer(self) -> str:
        return self.workspace.reviewer() if self.is_open else ""

    def reviewer_override(self) -> str:
        return (self.workspace.get_setting(REVIEWER_SETTING, "") or "") if self.is_open else ""

    def set_reviewer(self, name: str) -> None:
        if self.is_open and name.strip() != self.reviewer_override():
            self._require_idle()
            self.workspace.set_setting(REVIEWER_SETTING, name.strip() or None)
            self.audit_changed.emit()

    # -- audit --------------------------------------------------------------------------------------

    def audit_frame(self) -> pl.DataFrame:
        entries = self.workspace.audit_entries() if self.is_open else []
        # The trail names convictions by opaque ids; this view shows which conviction each is.
        refs = self.workspace.conviction_refs() if entries else {}
        for e in entries:
            d = e["details"]
            if isinstance(d, dict) and d.get("conviction") in refs:
                e["details"] = {**d, "conviction": refs[d["conviction"]]}
        return pl.DataFrame(
            {
                "seq": [e["seq"] for e in entries],
                "at": [e["at"] for e in entries],
                "actor": [e["actor"] for e in entries],
                "action": [e["action"] for e in entries],
                "details": [_details_text(e["details"]) for e in entries],
                "hash": [e["hash"][:16] for e in entries],
            },
            schema={"seq": pl.Int64, "at": pl.String, "actor": pl.String, "action": pl.String,
                    "details": pl.String, "hash": pl.String},
        )

    def verify_audit(self) -> tuple[bool, int | None, str]:
        if not self.is_open:
            raise InputError("open a workspace first")
        return self.workspace.verify_audit()

    def log_export(self, what: str, file_name: str) -> None:
        if self.is_open:
            self._require_idle()
            self.workspace.log_event("export", {"what": what, "file": Path(file_name).name})
            self.audit_changed.emit()

    # -- office details and court documents (the Documents view) -------------------------------

    def office(self) -> dict:
        """The office details stored in the workspace (unset fields are ""); an unset county and
        court title are proposed from the workspace's county (editable, saved once built)."""
        if not self.is_open:
            return {f: [] if f == "courthouses" else "" for f in OFFICE_FIELDS}
        office = self.workspace.get_office()
        county = self.workspace_county
        if county and not office.get("county"):
            office["county"] = county.title()
        if not office.get("court") and office.get("county"):
            office["court"] = court_title_for(office["county"])
        return office

    def proposed_office_fields(self) -> list[str]:
        """Office fields shown as proposed from the workspace rather than stored."""
        if not self.is_open:
            return []
        stored = self.workspace.get_office()
        shown = self.office()
        return [k for k in ("county", "court") if shown.get(k) and not stored.get(k)]

    def set_office_field(self, field_id: str, value: str) -> bool:
        """Save one office field now (the workspace records office_changed with the field's
        name, never its value). Raises InputError when the value is not acceptable."""
        problem = office_field_problem(field_id, value)
        if problem:
            raise InputError(problem)
        if not self.is_open:
            raise InputError("open a workspace first")
        value = (value or "").strip()
        if self.workspace.get_office().get(field_id, "") == value and value:
            return False  # e.g. a field left while the worker runs: nothing to write
        if not value and not self.workspace.get_office().get(field_id, ""):
            return False
        self._require_idle()
        self.workspace.set_office({field_id: value})
        self.audit_changed.emit()
        return True

    def load_office_file(self, path: Path) -> None:
        """Take the office details from an office file (TOML, as the command line reads it)."""
        office = outputs_filing.load_office(local_path(path, what="office file"))
        values = {k: ("\n".join(office.city_attorneys) if k == "city_attorneys" else str(getattr(office, k) or ""))
                  for k in OFFICE_LABELS}
        problems = [p for p in (office_field_problem(k, v) for k, v in values.items()) if p]
        if problems:
            raise InputError(f"{Path(path).name}: " + " ".join(problems))
        self._require_idle()
        self.workspace.set_office(values)
        self.audit_changed.emit()
        self.office_changed.emit()

    def filing_office(self) -> outputs_filing.Office:
        """The office as the documents print it; refuses missing details or another county."""
        office = self.office()
        missing = missing_office_fields(office)
        if missing:
            raise InputError("Fill in the office details first: " + ", ".join(missing) + ".")
        problems = [p for p in (office_field_problem(k, office.get(k, "")) for k in OFFICE_LABELS) if p]
        if problems:
            raise InputError("Correct the office details first. " + " ".join(problems))
        if self.run is not None and county_key(office["county"]) != county_key(self.run.county):
            raise InputError(f"The office details name {office['county']} County, but this run screened "
                             f"{self.run.county}: correct the county in the office details.")
        return outputs_filing.Office(
            **{k: office[k] for k in OFFICE_REQUIRED},
            public_defender=office.get("public_defender") or None,
            deputy=office.get("deputy") or None,
            deputy_state_bar_number=office.get("deputy_state_bar_number") or None,
            public_defender_address=office.get("public_defender_address") or None,
            city_attorneys=tuple(line for line in (office.get("city_attorneys") or "").splitlines() if line.strip()))

    def run_courthouses(self) -> list[str]:
        if self.run is None:
            return []
        return self.run.results.get_column("courthouse").drop_nulls().unique().sort().to_list()

    def _reader(self, key: str) -> _Reader:
        if key not in self._readers:
            self._readers[key] = _Reader(self)
        return self._readers[key]

    def _filing_inputs(self) -> tuple[pl.DataFrame | None, bool]:
        corrections = self.workspace.current_corrections() if self.is_open else None
        return corrections, self.run is not None and self.run.profile_id == "statutory"

    def count_for_filing(self, courthouse: str | None, handler, failed,
                         options: outputs_filing.FilingOptions | None = None) -> bool:
        """Work out what goes in (from the current decisions and the filing's choices) on a
        reader; ``handler(counts)``."""
        if self.run is None:
            return False
        corrections, statutory = self._filing_inputs()
        self._reader("filing").request("Counting what goes in", _count_for_filing,
                                       (self.run.results, self.decisions, courthouse or None, options,
                                        corrections, statutory), handler, failed)
        return True

    def build_documents(self, *, options: outputs_filing.FilingOptions, courthouse: str | None = None,
                        by_courthouse: bool = False, per_case: bool = False) -> Task:
        """Build the documents in memory on the worker (``succeeded`` carries a DocumentSet).
        Proposed office details (county, court title) are saved as they go to the court."""
        if self.run is None:
            raise InputError("import and screen an extract first")
        self._require_idle()
        office = self.filing_office()
        proposed = self.proposed_office_fields()
        if proposed:
            shown = self.office()
            self.workspace.set_office({k: shown[k] for k in proposed})
            self.audit_changed.emit()
        corrections, statutory = self._filing_inputs()
        request = DocumentRequest(
            results=self.run.results, decisions=self.decisions, office=office,
            summary=self.run.summary, as_of=self.run.as_of, profile_title=self.run.profile_title,
            audit_head=self.workspace.audit_head(), options=options, corrections=corrections, statutory=statutory,
            courthouse=courthouse or None, by_courthouse=by_courthouse and not courthouse, per_case=per_case)
        return self.runner.start("Building the court documents", _build_documents, request)

    def documents_folder(self) -> Path | None:
        """The folder this workspace's filings are saved in (chosen once, on the first Save)."""
        if not self.is_open:
            return None
        value = self.workspace.get_setting(DOCUMENTS_FOLDER_SETTING)
        return Path(value) if isinstance(value, str) and value else None

    def set_documents_folder(self, folder: Path) -> None:
        if self.is_open and self.documents_folder() != Path(folder):
            self._require_idle()
            self.workspace.set_setting(DOCUMENTS_FOLDER_SETTING, str(Path(folder)))
            self.audit_changed.emit()

    def save_documents(self, doc_set: DocumentSet, folder: Path) -> Task:
        """Write the built documents and the court update file into ``folder`` (audited)."""
        self._require_idle()
        task = self.runner.start("Saving the court documents", _save_documents, self.workspace, doc_set,
                                 Path(folder))
        task.succeeded.connect(lambda _r: self.audit_changed.emit())
        return task

    def print_document(self, doc_set: DocumentSet, doc: BuiltDocument, printer) -> Task:
        """Print one built document on ``printer`` (set up by the print dialog) from the worker."""
        self._require_idle()
        task = self.runner.start(f"Printing {doc.file_name}", _print_document, self.workspace, doc, printer,
                                 doc_set.request.audit_head)
        task.succeeded.connect(lambda _r: self.audit_changed.emit())
        return task

    # -- after filing (issue 16) -----------------------------------------------------------------

    def record_filing(self, doc_set: DocumentSet, *, court: str, filed_on: date, posture: str | None = None,
                      note: str | None = None) -> Task:
        """Record built (and saved) documents as filed: their convictions, the SHA-256 of each
        file and the audit head printed on them (``succeeded`` carries the filing id)."""
        if not self.is_open:
            raise InputError("open a workspace first")
        self._require_idle()
        task = self.runner.start("Recording the filing", _record_filing, self.workspace, doc_set, court, filed_on,
                                 posture, note)
        task.succeeded.connect(lambda _r: self._filings_updated())
        return task

    def filings(self) -> list[dict]:
        return self.workspace.filings() if self.is_open else []

    def withdraw_filing(self, filing_id: int, reason: str) -> None:
        self._require_idle()
        self.workspace.withdraw_filing(filing_id, reason=reason)
        self._filings_updated()

    def record_ruling(self, filing_id: int, ruling: str, order_date: date, *, case_number: str | None = None,
                      conviction_ids: list[str] | None = None) -> int:
        """The clerk marks the court's ruling (a filing, a case or some convictions)."""
        self._require_idle()
        ids = self.workspace.record_ruling(filing_id, ruling, order_date, case_number=case_number,
                                           conviction_ids=conviction_ids)
        self._filings_updated()
        return len(ids)

    def import_rulings(self, path: Path, *, filing_id: int | None = None, mapping: dict | None = None) -> Task:
        """Import the court's returned update file on the worker (``succeeded`` carries a
        RulingImport listing the rows that matched nothing)."""
        if not self.is_open:
            raise InputError("open a workspace first")
        self._require_idle()
        task = self.runner.start("Importing the court's rulings", _import_rulings, self.workspace, Path(path),
                                 filing_id, mapping)
        task.succeeded.connect(lambda _r: self._filings_updated())
        return task

    def record_doj_report(self, conviction_ids: list[str], reported_on: date) -> int:
        self._require_idle()
        n = self.workspace.record_doj_report(conviction_ids, reported_on)
        self._filings_updated()
        return n

    def _filings_updated(self) -> None:
        if self.is_open:
            self.filed = self.workspace.filed_statuses()
        self.audit_changed.emit()
        self.filings_changed.emit()

    def progress_counts(self, handler, failed, *, waiting_days: int = 90, today: date | None = None) -> bool:
        """Every conviction's status (the Overview funnel and waiting lists) from the frames the
        session holds, on a reader: never waits for the writer, never makes a decision wait.
        ``handler({"statuses", "counts", "waiting"})``; the same figures as ``statuses``."""
        if self.run is None:
            return False
        self._reader("progress").request("Counting each conviction's status", _progress_counts,
                                         (self.run.results, self.decisions, self.filed, waiting_days,
                                          today or date.today()), handler, failed)
        return True

    def statuses(self, handler, failed, *, waiting_days: int = 90) -> bool:
        """Each conviction's status, the counts (the Overview funnel), the waiting list and the
        DOJ-unchanged list, on the worker: ``handler({"statuses", "counts", "waiting", "filings",
        "doj_unchanged"})``."""
        if not self.is_open or self.run is None:
            return False
        task = self.runner.start("Working out statuses", _statuses, self.workspace, waiting_days)
        self._deliver(task, handler)
        task.failed.connect(failed)
        return True

    def lookup(self, *, reason: str, name: str | None = None, dob: str | None = None, cii: str | None = None,
               case: str | None = None) -> Task:
        """Find a person (audited with the reason); ``succeeded`` carries the people found, each
        with their cannabis convictions and statuses (see ``Workspace.lookup``)."""
        if not self.is_open:
            raise InputError("open a workspace first")
        self._require_idle()
        fields = {k: v for k, v in (("name", name), ("dob", dob), ("cii", cii), ("case", case)) if v}
        task = self.runner.start("Looking up", _lookup, self.workspace, fields, reason)
        task.succeeded.connect(lambda _r: self.audit_changed.emit())
        return task

    def status_letter(self, person: dict, *, reason: str, address: str | None = None,
                      today: date | None = None) -> Task:
        """The status letter PDF for one person found by ``lookup`` (audited); ``succeeded``
        carries the PDF bytes (the view previews and saves them)."""
        if not self.is_open:
            raise InputError("open a workspace first")
        self._require_idle()
        task = self.runner.start("Writing the status letter", _status_letter, self.workspace, person, reason,
                                 address, today or date.today())
        task.succeeded.connect(lambda _r: self.audit_changed.emit())
        return task

    # -- exports (File > Export, the Reports view) ----------------------------------------------

    def impact_figures(self, handler, failed) -> bool:
        """The impact report's figures for the current run, worked out on a reader."""
        if self.run is None:
            return False
        self._reader("figures").request("Working out the report", _impact_figures,
                                        (self.run.summary, self.run.results), handler, failed)
        return True

    def _export_run(self) -> RunState:
        if self.run is None or not self.is_open:
            raise InputError("import and screen an extract first")
        self._require_idle()
        return self.run

    def _export(self, title: str, fn, *args) -> Task:
        """Run an export on the worker; it writes the file and the "export" audit entry."""
        task = self.runner.start(title, fn, self.workspace, *args)
        task.succeeded.connect(lambda _r: self.audit_changed.emit())
        return task

    def _run_decisions(self) -> pl.DataFrame | None:
        return _decisions_for(self.run.results, self.decisions)

    def export_workbook(self, path: Path) -> Task:
        run = self._export_run()
        return self._export("Exporting the Excel workbook", _export_workbook, run.results, run.summary,
                            self._run_decisions(), self.workspace.audit_head(), Path(path))

    def export_impact_report(self, path: Path) -> Task:
        run = self._export_run()
        return self._export("Saving the impact report", _export_impact_report, run.summary, run.results,
                            self.workspace.audit_head(), Path(path))

    def export_results_csv(self, frame: pl.DataFrame, path: Path) -> Task:
        """``frame``: the review table as shown (its rows, columns and order)."""
        self._export_run()
        return self._export("Exporting the review table", _export_results_csv, frame, Path(path))

    def doj_sources(self) -> list[dict]:
        """The DOJ extracts the run screened: file name, where it was read from, SHA-256, rows."""
        if self.run is None:
            raise InputError("import and screen an extract first")
        out = []
        for f in self.run.report.files:
            if f.kind != "doj":
                raise InputError(f"{f.file} is a county file, not a DOJ extract: the DOJ-layout results can "
                                 "only be written for runs screened from DOJ extracts.")
            out.append({"file": f.file, "path": f.path or "", "sha256": f.sha256,
                        "rows_imported": f.rows_imported})
        if not out:
            raise InputError("the run records no input file")
        return out

    def export_doj_results(self, path: Path, sources: list[dict]) -> Task:
        """``succeeded`` carries a DojExport: the file written, or the sources to locate first."""
        run = self._export_run()
        return self._export("Exporting the DOJ-layout results", _export_doj_results, sources, run.results,
                            self._run_decisions(), Path(path))


def _details_text(details: Any) -> str:
    if not isinstance(details, dict):
        return str(details)
    return ", ".join(f"{k}={v}" for k, v in details.items() if v not in (None, "", [], {}))


def profile_choices() -> list[profiles.Profile]:
    return profiles.list_profiles()

