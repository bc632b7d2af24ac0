"""``clearrec-desktop --self-test``: drive the real window through the main flow, offscreen.

Each step prints ``ok: ...``; the first failure prints ``FAIL: ...`` on stderr and the command
exits 1. Other features add their steps with ``register_step`` (documents, exports...).
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

STEP_TIMEOUT_S = 120.0


@dataclass
class Context:
    """What the steps share: the application, the window and a temporary folder."""

    app: object
    window: object
    folder: Path
    passphrase: str = "self-test passphrase"
    data: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # what the app would have shown in its error dialog

    @property
    def session(self):
        return self.window.session

    def wait_idle(self, what: str) -> None:
        """Run the event loop until the worker is idle (fails after STEP_TIMEOUT_S)."""
        from PySide6.QtCore import QEventLoop

        deadline = time.monotonic() + STEP_TIMEOUT_S
        while self.session.runner.busy:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not finish within {STEP_TIMEOUT_S:.0f} s")
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        self.app.processEvents()
        self.check_errors(what)

    def check_errors(self, what: str) -> None:
        if self.errors:
            raise RuntimeError(f"{what}: the app reported an error: {self.errors[-1]}")


Step = Callable[[Context], str]
_STEPS: list[tuple[str, Step]] = []


def register_step(name: str) -> Callable[[Step], Step]:
    """Add a step; steps run in registration order and return the text printed after ``ok:``."""
    def add(fn: Step) -> Step:
        _STEPS.append((name, fn))
        return fn
    return add


@register_step("offline")
def _offline(ctx: Context) -> str:
    from ..core.offline import NetworkRefused

    # Raise the audit event a connection would raise; the guard must refuse it. (No network
    # module is imported anywhere in the app, this check included.)
    try:
        sys.audit("socket.connect", None, ("192.0.2.1", 9))
    except NetworkRefused:
        return "network use is refused (offline guard active)"
    raise RuntimeError("the offline guard is not active")


@register_step("demo extract")
def _demo_extract(ctx: Context) -> str:
    from .main_window import demo_extract_path

    path = demo_extract_path()
    if not path.is_file():
        raise RuntimeError(f"the bundled demo extract is missing ({path})")
    ctx.data["extract"] = path
    return f"bundled demo extract found ({path.name}, {path.stat().st_size:,} bytes)"


@register_step("create workspace")
def _create(ctx: Context) -> str:
    path = ctx.folder / "self-test.clearrec"
    ctx.window.create_workspace(path, ctx.passphrase, "")
    header = path.read_bytes()[:16]
    if header.startswith(b"SQLite format 3"):
        raise RuntimeError("the workspace file is not encrypted")
    ctx.data["workspace"] = path
    return f"encrypted workspace created ({path.name})"


@register_step("import and screen")
def _import(ctx: Context) -> str:
    from .session import DEMO_AS_OF

    view = ctx.window.import_view
    task = view.read_files([ctx.data["extract"]])
    if task is None:
        raise RuntimeError("the import view did not start reading the file")
    ctx.wait_idle("reading the demo extract")
    if ctx.session.pending is None:
        raise RuntimeError("the file was not read")
    if view.county.count() == 0:
        raise RuntimeError("no county offered from the file")
    from PySide6.QtCore import QDate

    view.as_of.setDate(QDate(DEMO_AS_OF.year, DEMO_AS_OF.month, DEMO_AS_OF.day))
    view.screen_button.click()
    ctx.wait_idle("screening")
    run = ctx.session.run
    if run is None:
        raise RuntimeError("screening produced no run")
    if run.results.height == 0:
        raise RuntimeError(f"no convictions screened for {run.county}")
    return (f"imported and screened on the worker: {run.results.height:,} convictions "
            f"({run.county}, as of {run.as_of.isoformat()}, profile {run.profile_id})")


@register_step("open every view")
def _views(ctx: Context) -> str:
    opened = []
    for key in ctx.window.view_keys():
        ctx.window.show_view(key)
        ctx.app.processEvents()
        if ctx.window.current_view() != key:
            raise RuntimeError(f"view {key} did not open")
        if ctx.window.grab().isNull():
            raise RuntimeError(f"view {key} did not paint")
        opened.append(key)
    return "opened and painted every view: " + ", ".join(opened)


@register_step("record and undo a decision")
def _decide(ctx: Context) -> str:
    import polars as pl

    from .models import ROW_ID

    window = ctx.window
    window.show_view("review")
    review = window.review_view
    frame = review.model.view_frame()
    hit = frame.with_row_index("_pos").filter(pl.col("outcome").is_in(["dismiss", "reduce"]))
    if hit.height == 0:
        raise RuntimeError("no conviction with a proposal to accept")
    review.select_row(hit.item(0, "_pos"))
    cid = review.current_conviction_id()
    expected_rid = hit.item(0, ROW_ID)
    if review.model.row_id(review.table.currentIndex().row()) != expected_rid:
        raise RuntimeError("the selected row is not the chosen conviction")
    if not review.decide("accept", ask=False):
        raise RuntimeError("the decision was not recorded")
    decided = ctx.session.decisions.filter(pl.col("conviction_id") == cid)
    if decided.height != 1 or decided.item(0, "decision") != "accept":
        raise RuntimeError("the decision is not in the workspace")
    window.undo_action.trigger()
    if ctx.session.decisions.filter(pl.col("conviction_id") == cid).height:
        raise RuntimeError("undo did not withdraw the decision")
    return "decision recorded through the review view, then undone with Edit > Undo"


@register_step("audit trail")
def _audit(ctx: Context) -> str:
    ctx.window.show_view("activity")
    result = ctx.window.activity_view.verify()
    if result is None or not result[0]:
        raise RuntimeError(f"audit trail check failed: {result}")
    return result[2]


@register_step("court documents")
def _documents(ctx: Context) -> str:
    from ..core.safety import resource_path
    from .pdfview import PREVIEW_DPI

    window, session = ctx.window, ctx.session
    view = window.documents_view
    session.load_office_file(resource_path("demo/office.toml"))  # the fictional demo office
    window.show_view("documents")
    view.bulk.setChecked(True)
    view.court.setCurrentIndex(0)  # all courthouses, one packet
    view.posture.setCurrentIndex(view.posture.findData("supplemental"))  # the office's explicit choices
    view.include_undecided.setChecked(True)
    session.filing_office()  # raises with the reason if the office details do not fit the run
    if view.build() is None:
        ctx.check_errors("building the documents")
        raise RuntimeError("the documents view did not start building")
    ctx.wait_idle("building the documents")
    doc_set = view.doc_set
    if doc_set is None or not doc_set.documents:
        raise RuntimeError("no document was built")
    packet = doc_set.documents[0]
    if not packet.file_name.startswith("motion-packet") or packet.pages < 1:
        raise RuntimeError(f"the first document is {packet.file_name} with {packet.pages} pages, not a packet")
    images = view.preview.images()
    expected = (round(8.5 * PREVIEW_DPI), round(11 * PREVIEW_DPI))  # Letter, portrait
    if not images or images[0].isNull() or (images[0].width(), images[0].height()) != expected:
        raise RuntimeError(f"page 1 was not previewed at {expected[0]}x{expected[1]}")
    folder = ctx.folder / "documents"
    folder.mkdir()
    if view.save_to(folder, confirm=False) is None:
        ctx.check_errors("saving the documents")
        raise RuntimeError("the documents were not saved")
    ctx.wait_idle("saving the documents")
    names = doc_set.file_names
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise RuntimeError(f"not saved: {', '.join(missing)}")
    if not session.workspace.audit_entries("document"):
        raise RuntimeError("saving the documents left no audit entry")
    return (f"bulk motion packet built on the worker ({packet.pages} pages), page 1 previewed "
            f"({expected[0]}x{expected[1]}), {len(names)} files saved and audited")


@register_step("excel export")
def _excel_export(ctx: Context) -> str:
    import zipfile

    from openpyxl import load_workbook

    window = ctx.window
    path = ctx.folder / "export" / "results.xlsx"
    path.parent.mkdir()
    if window.exports.export_workbook(path) is None:
        ctx.check_errors("exporting the workbook")
        raise RuntimeError("the export did not start")
    ctx.wait_idle("exporting the workbook")
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise RuntimeError("no workbook was written")
    book = load_workbook(path, read_only=True)
    try:
        rows = sum(max(0, (book[name].max_row or 1) - 1) for name in book.sheetnames if name != "Summary")
        sheets = len(book.sheetnames)
    finally:
        book.close()
    expected = ctx.session.run.results.height
    if rows != expected:
        raise RuntimeError(f"the workbook holds {rows} result rows, the run {expected}")
    if window.exports.last_message is not None:
        window.exports.last_message.close()
    if not ctx.session.workspace.audit_entries("export"):
        raise RuntimeError("the export left no audit entry")
    return f"Excel workbook exported on the worker ({rows:,} results in {sheets} sheets) and audited"


@register_step("reopen")
def _reopen(ctx: Context) -> str:
    from ..core.workspace.schema import WrongPassphrase

    window, path = ctx.window, ctx.data["workspace"]
    window.close_workspace()
    try:
        ctx.session.open_workspace(path, ctx.passphrase + " wrong")
    except WrongPassphrase:
        pass
    else:
        raise RuntimeError("a wrong passphrase opened the workspace")
    if not window.open_workspace(path, ctx.passphrase):
        raise RuntimeError("the workspace did not reopen")
    ctx.wait_idle("loading the workspace")
    if ctx.session.run is None:
        raise RuntimeError("the run did not load after reopening")
    window.close_workspace()
    return "wrong passphrase refused; reopened with the passphrase and the run loaded"


@register_step("threads")
def _threads(ctx: Context) -> str:
    from .workers import live_threads

    left = live_threads()
    if left:
        raise RuntimeError(f"{len(left)} worker thread(s) still running")
    return "no worker thread left running"


def _quiet_benign_qt_messages() -> None:
    """The offscreen platform warns that it cannot propagate size hints; that is expected here and
    would make a frozen-build smoke test that watches stderr fail. Everything else still shows."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(_mode, _context, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr, flush=True)

    qInstallMessageHandler(handler)


def run_self_test(app, out=None, err=None) -> int:
    """Walk every view on ``app`` (the QApplication app.py made) and report each step."""
    out = out or sys.stdout
    err = err or sys.stderr
    from PySide6.QtCore import QSettings, qVersion

    _quiet_benign_qt_messages()
    # Keep the user's window layout and recent files out of the test.
    with tempfile.TemporaryDirectory(prefix="clearrec-self-test-") as tmp:
        folder = Path(tmp)
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "settings"))
        from .main_window import MainWindow

        window = MainWindow()
        window.show()
        print(f"ok: Qt {qVersion()} started on the {app.platformName()} platform", file=out, flush=True)
        ctx = Context(app=app, window=window, folder=folder)
        # An error dialog would wait for a click that never comes: collect the message instead,
        # and let the step that caused it fail.
        from . import dialogs

        original = dialogs.ErrorDialog.show_error
        dialogs.ErrorDialog.show_error = staticmethod(lambda _parent, message, details="": ctx.errors.append(message))
        failed = False
        for name, step in _STEPS:
            try:
                message = step(ctx)
            except Exception as exc:  # report and stop: later steps depend on earlier ones
                print(f"FAIL: {name}: {exc}", file=err, flush=True)
                traceback.print_exc(file=err)
                failed = True
                break
            print(f"ok: {message}", file=out, flush=True)
        window.session.close_workspace()
        window.close()
        app.processEvents()
        dialogs.ErrorDialog.show_error = original
    return 1 if failed else 0
