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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from PySide6.QtCore import QObject, Signal

from ..core import county_files, importer, pipeline, profiles
from ..core.safety import local_path
from ..core.errors import Cancelled, InputError
from ..core.workspace import DECISIONS, REVIEWER_SETTING, Workspace, requires_reason
from .workers import Task, TaskRunner

# The fixed evaluation date of the demo workspace (shown in the window title bar of the run).
DEMO_AS_OF = date(2026, 11, 1)
DEMO_PASSPHRASE = "clearrec-demo"  # the workspace wants 8+ characters
MAPPING_SETTING = "import_mappings"  # workspace setting: file signature -> column mapping


@dataclass
class RunState:
    """One screening run as the views see it."""

    run_id: int
    results: pl.DataFrame
    rows: pl.DataFrame
    report: importer.ImportReport
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


@dataclass
class PendingImport:
    """A file read for the import step, not yet screened or stored."""

    paths: list[Path]
    rows: pl.DataFrame
    report: importer.ImportReport
    mapping: dict | None = None
    elapsed: float = 0.0
    extra: dict = field(default_factory=dict)


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


def _file_report(d: dict) -> importer.FileReport:
    names = {f.name for f in dataclasses.fields(importer.FileReport)}
    return importer.FileReport(**{k: v for k, v in d.items() if k in names})


# -- functions run on the worker thread (no widgets, no Qt) ---------------------------------------

def _read_files(progress, cancel, paths: list[Path], mapping: dict | None) -> PendingImport:
    rows, report = pipeline.import_only(paths, mapping=mapping, progress=progress, cancel=cancel)
    progress(1.0, "Read")
    return PendingImport(paths=list(paths), rows=rows, report=report, mapping=mapping)


def _store_import(ws: Workspace, pending: PendingImport) -> list[int]:
    ids = []
    for file_report in pending.report.files:
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
        created_at=(ws.latest_run() or {}).get("created_at", ""),
    )
    if previous is not None:
        state.changes = ws.compare_runs(previous["run_id"], run_id)
    state.orphan_decisions = ws.decisions_without_conviction(run_id).height
    return state


def _screen_and_store(progress, cancel, ws: Workspace, pending: PendingImport, county: str,
                      as_of: date, profile: profiles.Profile, import_ids: list[int] | None) -> RunState:
    run = pipeline.screen_rows(pending.rows, pending.report, county=county, as_of=as_of,
                               profile=profile, progress=lambda f, m: progress(f * 0.9, m),
                               cancel=cancel)
    if cancel.is_set():
        raise Cancelled()
    # Past this point the run is written; cancelling now would leave half a record.
    progress(0.92, "Saving to the workspace")
    if import_ids is None:
        import_ids = _store_import(ws, pending)
    state = _store_run(ws, run, import_ids)
    progress(1.0, "Saved")
    return state


def _read_and_screen(progress, cancel, ws: Workspace, paths: list[Path], county: str | None,
                     as_of: date, profile: profiles.Profile) -> RunState:
    """Read and screen in one go (the demo and the self-test). Without a county, the county with
    the most convictions in the file is screened."""
    pending = _read_files(lambda f, m: progress(f * 0.5, m), cancel, paths, None)
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
    frames, file_reports = [], []
    for n, import_id in enumerate(latest["import_ids"]):
        if cancel.is_set():
            raise Cancelled()
        progress(0.3 + 0.6 * n / max(1, len(latest["import_ids"])), "Loading the imported records")
        frames.append(ws.load_import_rows(import_id))
        file_reports.append(_file_report(imports[import_id]["report"]))
    rows = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    report = importer.build_report(rows, file_reports)
    profile = profile_from_text(latest["profile_id"], latest["profile_text"])
    runs = ws.runs()
    state = RunState(
        run_id=latest["run_id"], results=results, rows=rows, report=report, summary=latest["summary"],
        profile_id=latest["profile_id"], profile_title=profile.title, profile_text=latest["profile_text"],
        county=latest["county"] or "", as_of=date.fromisoformat(latest["as_of"]),
        import_ids=list(latest["import_ids"]), created_at=latest["created_at"],
    )
    if len(runs) > 1:
        state.changes = ws.compare_runs(runs[-2]["run_id"], latest["run_id"])
    state.orphan_decisions = ws.decisions_without_conviction(latest["run_id"]).height
    progress(1.0, "Loaded")
    return state


def _what_if(progress, cancel, rows: pl.DataFrame, report, county: str, as_of: date,
             profile_a: profiles.Profile, profile_b: profiles.Profile) -> dict:
    a = pipeline.screen_rows(rows, report, county=county, as_of=as_of, profile=profile_a,
                             progress=lambda f, m: progress(f * 0.5, f"{profile_a.id}: {m}"), cancel=cancel)
    b = pipeline.screen_rows(rows, report, county=county, as_of=as_of, profile=profile_b,
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


# -- the session -----------------------------------------------------------------------------------

class Session(QObject):
    """The open workspace and its current run."""

    workspace_changed = Signal()     # opened or closed
    run_changed = Signal()           # a run was loaded or screened
    pending_changed = Signal()       # a file was read for import (or the pending import dropped)
    decisions_changed = Signal(list)  # conviction ids whose effective decision changed
    audit_changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.workspace: Workspace | None = None
        self.run: RunState | None = None
        self.pending: PendingImport | None = None
        self.decisions: pl.DataFrame = pl.DataFrame()
        self.demo = False
        self._generation = 0  # bumped on close: results of tasks for a closed workspace are dropped

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
        self.workspace_changed.emit()
        self.audit_changed.emit()

    def load_latest_run(self) -> Task | None:
        if not self.is_open or self.workspace.latest_run() is None:
            return None
        task = self.runner.start("Loading the workspace", _load_run, self.workspace)
        self._deliver(task, self._on_run_ready)
        return task

    def close_workspace(self) -> None:
        self.runner.shutdown()
        self._generation += 1
        if self.workspace is not None:
            self.workspace.close()
        had = self.workspace is not None
        self.workspace = None
        self.run = None
        self.pending = None
        self.decisions = pl.DataFrame()
        if had:
            self.workspace_changed.emit()
            self.run_changed.emit()
            self.pending_changed.emit()

    @property
    def workspace_county(self) -> str:
        return (self.workspace.county or "") if self.is_open else ""

    # -- import and screening ------------------------------------------------------------------

    def read_files(self, paths: list[Path], mapping: dict | None = None) -> Task:
        task = self.runner.start("Reading the file", _read_files, list(paths), mapping)
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

    def screen_pending(self, county: str, as_of: date, profile: profiles.Profile) -> Task:
        if self.pending is None:
            raise InputError("choose a file to import first")
        task = self.runner.start("Importing and screening", _screen_and_store, self.workspace,
                                 self.pending, county, as_of, profile, None)
        self._deliver(task, self._on_screened)
        return task

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
        pending = PendingImport(paths=[], rows=self.run.rows, report=self.run.report)
        task = self.runner.start("Screening again", _screen_and_store, self.workspace, pending,
                                 self.run.county, as_of, profile, list(self.run.import_ids))
        self._deliver(task, self._on_run_ready)
        return task

    def what_if(self, profile_a: profiles.Profile, profile_b: profiles.Profile) -> Task:
        if self.run is None:
            raise InputError("import an extract first")
        return self.runner.start("Comparing profiles", _what_if, self.run.rows, self.run.report,
                                 self.run.county, self.run.as_of, profile_a, profile_b)

    def _on_screened(self, state: RunState) -> None:
        self.pending = None
        self.pending_changed.emit()
        self._on_run_ready(state)

    def _on_run_ready(self, state: RunState | None) -> None:
        self.run = state
        if self.is_open:
            self.decisions = self.workspace.current_decisions()
        self.run_changed.emit()
        self.audit_changed.emit()

    def run_profile(self) -> profiles.Profile | None:
        """The profile the current run was screened with."""
        if self.run is None:
            return None
        return profile_from_text(self.run.profile_id, self.run.profile_text)

    # -- mapping of county files ------------------------------------------------------------------

    @staticmethod
    def needs_mapping(path: Path) -> bool:
        """County files (any spreadsheet, or a CSV that is not a DOJ extract) need a column mapping."""
        path = local_path(path, what="file")
        if path.suffix.lower() in county_files.SPREADSHEET_SUFFIXES:
            return True
        return not importer.is_doj_extract(path)

    @staticmethod
    def mapping_fields() -> list[tuple[str, str, bool]]:
        """(field id, label, required) of a column mapping, as the county-file importer defines them."""
        return county_files.mapping_fields()

    @staticmethod
    def preview_file(path: Path, rows: int = 20) -> tuple[list[str], list[list[str]], str]:
        """The header and first rows of a county file as text, and a signature of its header (the
        key its mapping is saved under, so the next file with the same columns reuses it)."""
        header, first = county_files.preview(local_path(path, what="file"), rows)
        signature = hashlib.sha256("\x1f".join(header).encode("utf-8")).hexdigest()[:16]
        return header, first, signature

    @staticmethod
    def guess_mapping(header: list[str]) -> dict:
        return {"columns": county_files.guess_mapping(header), "options": {}}

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
               ground: str | None = None, notes: str | None = None) -> int:
        """Record a decision (committed before this returns). The workspace enforces the rules:
        a known decision, a ground with a challenge, a reason when departing from the proposal."""
        if decision not in DECISIONS:
            raise InputError(f"unknown decision {decision!r}")
        self._require_idle()
        event = self.workspace.record_decision(conviction_id, decision, reason=reason, ground=ground,
                                               notes=notes, proposed=self.proposal(conviction_id))
        self._decisions_touched([conviction_id])
        return event

    def undo(self) -> dict | None:
        self._require_idle()
        event = self.workspace.undo() if self.is_open else None
        if event is not None:
            self._decisions_touched([event["conviction_id"]])
        return event

    def redo(self) -> dict | None:
        self._require_idle()
        event = self.workspace.redo() if self.is_open else None
        if event is not None:
            self._decisions_touched([event["conviction_id"]])
        return event

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


def _details_text(details: Any) -> str:
    if not isinstance(details, dict):
        return str(details)
    return ", ".join(f"{k}={v}" for k, v in details.items() if v not in (None, "", [], {}))


def profile_choices() -> list[profiles.Profile]:
    return profiles.list_profiles()

