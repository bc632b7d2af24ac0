"""What a screening produces, reduced to a comparable snapshot (the "before" of issue 14).

``python tests/data/golden/snapshot.py`` run in a checkout writes ``tests/data/golden/*.json``
from that checkout's code. The committed files were written by the pipeline as it was before
the streaming import (issue 14); ``tests/test_golden.py`` runs the same cases through the
current code and compares. To re-base after an intended change of results (new screening
rules), run this script on a checkout of ``main`` *without* the change under test, never on
the code being tested.

A case covers both outputs of the app:
- the folder `clearrec screen` writes (results.csv, summary.json, import reports, rejected.csv),
- the workspace the desktop app builds through its worker functions: the imports (report and
  rows), the run, a re-screen with another profile, the run loaded back after reopening, and a
  what-if comparison of two profiles.
Large files are kept as SHA-256 digests with their row counts; small ones in full.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
AS_OF = date(2026, 11, 1)
PASSPHRASE = "golden-snapshot-passphrase"

# (case id, input files relative to the repository, county, mapping or None, profile, other profile)
CASES = [
    ("demo", ["resources/demo/demo-extract.csv"], "SACRAMENTO", None, "statutory", "sacramento-2019"),
    ("sample", ["tests/data/doj-extract-sample.csv"], "SAN JOAQUIN", None, "statutory", "san-joaquin-contra-costa-2019"),
    ("two-files", ["resources/demo/demo-extract.csv", "tests/data/doj-extract-sample.csv"], "SACRAMENTO", None,
     "los-angeles-2020", "bear-gogen"),
    ("county-cms", ["resources/mappings/example-cms.csv"], None, "resources/mappings/example-cms.toml",
     "statutory", "san-francisco-2018"),
]
PROFILES = ["statutory", "los-angeles-2020", "sacramento-2019", "san-francisco-2018",
            "san-joaquin-contra-costa-2019", "bear-gogen"]


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _frame(frame) -> dict:
    """A frame as its shape, schema and the digest of its CSV text."""
    return {"rows": frame.height, "columns": [f"{n}:{t}" for n, t in frame.schema.items()],
            "csv_sha256": _sha(frame.write_csv())}


def _frame_digest(frame) -> dict:
    """Same without the schema: frames kept by the GUI (the CSV digest still covers every value)."""
    return {"rows": frame.height, "csv_sha256": _sha(frame.write_csv())}


def _clean(value, folder: str):
    """Replace the temporary folder's path so snapshots do not depend on where they ran."""
    if isinstance(value, str):
        return value.replace(folder, "<DIR>")
    if isinstance(value, dict):
        return {k: _clean(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, folder) for v in value]
    return value


def snapshot(case: tuple, work: Path) -> dict:
    """Run one case with the checkout's code; ``work`` is an empty temporary folder."""
    import polars as pl

    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.screen import profiles
    from clearrec_desktop.core.workspace.store import Workspace
    from clearrec_desktop.gui import session as gs

    case_id, files, county, mapping, profile_id, other_id = case
    inputs = []
    for rel in files:
        dest = work / "in" / Path(rel).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / rel, dest)
        inputs.append(dest)
    mapping_path = REPO / mapping if mapping else None
    folder = str(work)
    out: dict = {"case": case_id}

    # --- the command line: clearrec screen ------------------------------------------------------
    run = pipeline.run_screen(inputs, county=county or "SACRAMENTO", as_of=AS_OF,
                              profile=profiles.load_profile(profile_id), mapping=mapping_path)
    paths = pipeline.write_outputs(run, work / "out")
    out["screen_folder"] = {}
    for key, path in sorted(paths.items()):
        text = _clean(path.read_text(encoding="utf-8"), folder)
        out["screen_folder"][path.name] = (json.loads(text) if path.suffix == ".json" and len(text) < 400_000
                                           else {"bytes": len(text.encode("utf-8")), "sha256": _sha(text),
                                                 "lines": text.count("\n")})
    # every shipped profile on the same rows: a digest of its results.csv
    from clearrec_desktop.core.outputs.run_folder import results_for_csv

    out["profiles"] = {}
    for pid in PROFILES:
        other = pipeline.screen_rows(run.rows, run.report, county=run.county, as_of=AS_OF,
                                     profile=profiles.load_profile(pid))
        out["profiles"][pid] = {"results_csv": _frame_digest(results_for_csv(other.results)),
                                "by_outcome": other.summary["convictions"]["by_outcome"],
                                "people": other.summary["people"]}

    # --- the desktop app's workspace, through the session's worker functions ---------------------
    cancel = threading.Event()
    progress = lambda f, m: None  # noqa: E731
    ws_path = work / "case.clearrec"
    mapping_dict = None
    if mapping_path is not None:
        import tomllib

        mapping_dict = tomllib.loads(mapping_path.read_text(encoding="utf-8"))
    ws = Workspace.create(ws_path, PASSPHRASE, county=county or "SACRAMENTO")
    try:
        pending = gs._read_files(progress, cancel, inputs, mapping_dict)
        state = gs._screen_and_store(progress, cancel, ws, pending, county or "SACRAMENTO", AS_OF,
                                     profiles.load_profile(profile_id), None)
        again = gs._screen_and_store(progress, cancel, ws,
                                     gs.PendingImport(paths=[], rows=state.rows, report=state.report),
                                     state.county, AS_OF, profiles.load_profile(other_id), list(state.import_ids))
        what_if = gs._what_if(progress, cancel, again.rows, again.report, again.county, AS_OF,
                              profiles.load_profile(profile_id), profiles.load_profile(other_id))
    finally:
        ws.close()
    ws = Workspace.open(ws_path, PASSPHRASE)
    try:
        loaded = gs._load_run(progress, cancel, ws)
        out["workspace"] = {
            "imports": [_clean({k: v for k, v in i.items() if k != "imported_at"}, folder) for i in ws.imports()],
            "import_rows": [_frame(ws.load_import_rows(i["import_id"])) for i in ws.imports()],
            "runs": [{k: v for k, v in r.items() if k != "created_at"} for r in _clean(ws.runs(), folder)],
            "results": [_frame(ws.load_results(r["run_id"])) for r in ws.runs()],
            "audit": [{"action": e["action"], "details": _clean(e["details"], folder)} for e in ws.audit_entries()],
        }
    finally:
        ws.close()
    out["gui"] = {
        "first_run": {"results": _frame_digest(state.results), "summary": _clean(state.summary, folder)},
        "rescreen": {"results": _frame_digest(again.results),
                     "changes": _frame_digest(again.changes) if again.changes is not None else None},
        "loaded": {"results": _frame_digest(loaded.results), "report": _clean(loaded.report.to_dict(), folder),
                   "changes": _frame_digest(loaded.changes) if loaded.changes is not None else None},
        "what_if": {"total": what_if["total"], "changed": _frame_digest(what_if["changed"]),
                    "moves": what_if["moves"].rows(), "by_outcome_a": what_if["by_outcome_a"],
                    "by_outcome_b": what_if["by_outcome_b"]},
    }
    del pl
    return json.loads(json.dumps(out, default=str))


def golden_path(case_id: str) -> Path:
    return HERE / f"{case_id}.json"


def main() -> int:
    for case in CASES:
        with tempfile.TemporaryDirectory(prefix="clearrec-golden-") as tmp:
            snap = snapshot(case, Path(tmp))
        golden_path(case[0]).write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {golden_path(case[0]).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
