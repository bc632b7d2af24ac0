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


@register_step("reopen")
def _reopen(ctx: Context) -> str:
    from ..core.workspace import WrongPassphrase

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


def run_self_test(out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    from PySide6.QtCore import QSettings, qVersion

    from .app import make_application

    app = make_application()
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
    return 1 if failed else 0
