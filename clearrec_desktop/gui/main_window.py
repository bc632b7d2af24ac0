"""The main window: menus, the view sidebar, workspace open / new / recent, layout memory."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import polars as pl
from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core import demo as core_demo
from ..core import pipeline
from ..core.errors import InputError
from ..core.safety import resource_path
from ..core.screen import profiles
from ..core.workspace.schema import WorkspaceBusy, WrongPassphrase
from .dialogs import (
    WORKSPACE_FILTER,
    ErrorDialog,
    NewWorkspaceDialog,
    PassphraseDialog,
    SettingsDialog,
)
from . import guide
from .export_actions import ExportActions
from .session import DEMO_AS_OF, DEMO_PASSPHRASE, Session
from .views.activity import ActivityView
from .views.documents import DocumentsView
from .views.import_view import ImportView
from .views.lookup import LookupView
from .views.overview import OverviewView
from .views.policy import PolicyView
from .views.reconcile import ReconcileView
from .views.reports import ReportsView
from .views.review import ReviewView
from .welcome import WelcomePage
from .widgets.common import task_failed
from .workers import Task

MAX_RECENT = 8
DEMO_EXTRACT = "demo/demo-extract.csv"
DEMO_OFFICE = "demo/office.toml"
DEMO_PREFIX = "clearrec-demo-"
DEMO_FILE = "demo.clearrec"

# The guide's section for each view (its empty state links there; a test checks they exist).
# A new view adds its key here and a "### Name: what it is for" section under "The views, one by
# one" in docs/user-guide.md (and, when it has a role's steps, a line in that role's part).
VIEW_SECTIONS = {
    "import": "import-read-the-extract",
    "overview": "overview-what-the-run-found",
    "review": "review-decide-each-case",
    "policy": "policy-the-rules-and-what-if",
    "documents": "documents-build-print-and-record-filings",
    "reports": "reports-the-impact-report",
    "activity": "activity-the-audit-trail",
    "reconcile": "reconciliation-doj-and-county-records",
    "lookup": "lookup-answer-the-person-who-calls",
}
EMPTY_TEXT = {
    "import": "Drop the DOJ extract or your county's case export here, or press Choose file.",
    "overview": "Nothing screened yet: import an extract first.",
    "review": "Nothing to review yet: import and screen an extract first.",
    "policy": "The policy profiles are listed below; comparing them needs a screened extract.",
    "documents": "Court documents are built from a screened extract: import one first.",
    "reports": "The impact report needs a screened extract: import one first.",
    "activity": "",
    "lookup": "",
}


def cleanup_stale_demos(folder: Path | None = None, *, min_age: float = 60.0) -> list[Path]:
    """Delete the temporary demo workspaces a killed app left behind (a normal close deletes
    its own). A demo still open in another window holds its workspace's lock and is kept; a
    folder without a workspace is only removed once older than ``min_age`` seconds (it may be
    a demo that is being created right now). Returns the folders removed."""
    from ..core.workspace.store import Workspace

    folder = Path(folder or tempfile.gettempdir())
    removed = []
    try:
        candidates = [d for d in folder.glob(DEMO_PREFIX + "*") if d.is_dir()]
    except OSError:
        return removed
    for d in candidates:
        ws_file = d / DEMO_FILE
        try:
            if ws_file.exists():
                try:
                    Workspace.open(ws_file, DEMO_PASSPHRASE).close()
                except WorkspaceBusy:
                    continue  # another window's demo
                except InputError:
                    pass      # not a demo we can read (damaged): it is still ours to delete
            elif time.time() - d.stat().st_mtime < min_age:
                continue
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
        except OSError:
            continue
    return removed


def demo_extract_path() -> Path:
    return resource_path(DEMO_EXTRACT)


class MainWindow(QMainWindow):
    """One window per workspace. Views are registered with ``add_view``: Import, Overview,
    Review, Policy, Documents, Reports and Activity; File > Export gets its exports from
    ``ExportActions``."""

    view_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.session = Session(self)
        self._demo_dir: tempfile.TemporaryDirectory | None = None
        self._views: dict[str, QWidget] = {}
        self._view_actions: dict[str, QAction] = {}

        self.sidebar = QListWidget()
        self.sidebar.setAccessibleName("Views")
        self.sidebar.setMaximumWidth(140)
        self.sidebar.setSpacing(2)
        self.stack = QStackedWidget()
        main_page = QWidget()
        row = QHBoxLayout(main_page)
        row.addWidget(self.sidebar)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        # a view with nothing to show yet says so and links to its part of the user guide
        self.empty_banner = QLabel()
        self.empty_banner.setObjectName("emptyBanner")
        self.empty_banner.setWordWrap(True)
        self.empty_banner.setAccessibleName("What to do first")
        self.empty_banner.setStyleSheet("#emptyBanner { border: 1px solid palette(mid); border-radius: 4px; "
                                        "padding: 6px; }")
        self.empty_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.empty_banner.linkActivated.connect(lambda link: self.show_guide(link.lstrip("#")))
        column.addWidget(self.empty_banner)
        column.addWidget(self.stack, 1)
        row.addLayout(column, 1)
        self.welcome = WelcomePage()
        self.welcome.new_requested.connect(self.new_workspace)
        self.welcome.open_requested.connect(lambda: self.open_workspace())
        self.welcome.recent_requested.connect(lambda p: self.open_workspace(Path(p)) if p else None)
        self.welcome.demo_requested.connect(self.open_demo)
        self.welcome.guide_requested.connect(self.show_guide)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(main_page)
        self.main_page = main_page
        self.setCentralWidget(self.pages)
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.sidebar.currentRowChanged.connect(self._on_view_changed)

        self._build_menus()
        self.import_view = ImportView(self.session)
        self.overview_view = OverviewView(self.session)
        self.review_view = ReviewView(self.session)
        self.reconcile_view = ReconcileView(self.session)
        self.policy_view = PolicyView(self.session)
        self.documents_view = DocumentsView(self.session)
        self.reports_view = ReportsView(self.session)
        self.activity_view = ActivityView(self.session)
        self.add_view("import", "Import", self.import_view)
        self.add_view("overview", "Overview", self.overview_view)
        self.add_view("review", "Review", self.review_view)
        self.add_view("reconcile", "Reconciliation", self.reconcile_view)
        self.add_view("policy", "Policy", self.policy_view)
        self.add_view("documents", "Documents", self.documents_view)
        self.add_view("reports", "Reports", self.reports_view)
        self.add_view("activity", "Activity", self.activity_view)
        self.lookup_view = LookupView(self.session)
        self.add_view("lookup", "Lookup", self.lookup_view)
        self.exports = ExportActions(self)
        self.reports_view.save_button.clicked.connect(lambda _c=False: self.exports.export_impact_report())
        for action in self.review_view.actions.values():
            self.case_menu.addAction(action)
            if action.text() == "De&fer":
                self.case_menu.addSeparator()
        self.import_view.overview_requested.connect(lambda: self.show_view("overview"))
        self.reconcile_view.open_case.connect(self.open_in_review)
        self.overview_view.open_case.connect(self.open_in_review)

        self.status_workspace = QLabel()
        self.status_run = QLabel()
        self.statusBar().addWidget(self.status_workspace)
        self.statusBar().addPermanentWidget(self.status_run)
        self.setAcceptDrops(True)

        s = self.session
        s.workspace_changed.connect(self._update_state)
        s.run_changed.connect(self._update_state)
        s.decisions_changed.connect(lambda _ids: self._update_state())
        s.runner.busy_changed.connect(lambda _b: self._update_state())
        s.run_changed.connect(self._after_run)
        s.pending_changed.connect(self._update_state)
        self.view_changed.connect(lambda _k: self._update_empty_banner())
        self.resize(1280, 820)
        self.restore_layout()
        self.show_view("import")
        self._update_state()
        if not self.session.is_open:
            self.welcome.focus_first()

    # -- views ---------------------------------------------------------------------------------------

    def add_view(self, key: str, title: str, widget: QWidget) -> None:
        """Add a view to the sidebar and the View menu (Ctrl+1, Ctrl+2... in order)."""
        n = len(self._views) + 1
        self._views[key] = widget
        self.stack.addWidget(widget)
        item = QListWidgetItem(title)
        item.setData(Qt.ItemDataRole.UserRole, key)
        self.sidebar.addItem(item)
        # wide enough for every title: the views' own minimum widths must not squeeze it
        needed = self.sidebar.fontMetrics().horizontalAdvance(title) + 2 * self.sidebar.frameWidth() + 24
        self.sidebar.setMinimumWidth(min(self.sidebar.maximumWidth(), max(self.sidebar.minimumWidth(), needed)))
        action = QAction(title, self)
        action.setCheckable(True)
        if n <= 9:
            action.setShortcut(QKeySequence(f"Ctrl+{n}"))
        action.triggered.connect(lambda _c=False, k=key: self.show_view(k))
        self._view_group.addAction(action)
        self.view_menu.insertAction(self._view_menu_end, action)
        self._view_actions[key] = action

    def view(self, key: str) -> QWidget:
        return self._views[key]

    def view_keys(self) -> list[str]:
        return list(self._views)

    def current_view(self) -> str:
        return list(self._views)[self.stack.currentIndex()]

    def show_view(self, key: str) -> None:
        self.sidebar.setCurrentRow(list(self._views).index(key))

    def _on_view_changed(self, index: int) -> None:
        if 0 <= index < len(self._views):
            key = list(self._views)[index]
            self._view_actions[key].setChecked(True)
            if key == "review":
                self.review_view.table.setFocus()
            self.view_changed.emit(key)

    # -- menus -----------------------------------------------------------------------------------------

    def _action(self, text: str, slot, shortcut=None, name: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _c=False: slot())
        if name:
            action.setObjectName(name)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_action = self._action("&New Workspace…", self.new_workspace, QKeySequence.StandardKey.New)
        self.open_action = self._action("&Open Workspace…", self.open_workspace, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.close_action = self._action("&Close Workspace", self.close_workspace, QKeySequence.StandardKey.Close)
        self.import_action = self._action("&Import Extract…", self._import_file, "Ctrl+I")
        file_menu.insertAction(self.recent_menu.menuAction(), self.new_action)
        file_menu.insertAction(self.recent_menu.menuAction(), self.open_action)
        file_menu.addAction(self.close_action)
        file_menu.addSeparator()
        self.backup_action = self._action("&Back Up Workspace…", self.back_up, "Ctrl+Shift+B", "backup")
        self.restore_action = self._action("&Restore Workspace…", self.restore, None, "restore")
        file_menu.addAction(self.backup_action)
        file_menu.addAction(self.restore_action)
        file_menu.addSeparator()
        file_menu.addAction(self.import_action)
        self.reconcile_action = self._action("Re&concile DOJ and County Records…", self._reconcile_files,
                                             "Ctrl+Shift+I", "reconcile")
        file_menu.addAction(self.reconcile_action)
        self.export_menu = file_menu.addMenu("&Export")
        self.export_report_action = self._action("Import &Report…", self.import_view_export)
        self.export_results_action = self._action("Screening &Results (CSV folder)…", self.export_results)
        self.export_menu.addAction(self.export_report_action)
        self.export_menu.addAction(self.export_results_action)
        # The Excel workbook, DOJ-layout results, impact report and review CSV: ExportActions.
        file_menu.addSeparator()
        quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        if quit_action.shortcut().isEmpty():  # Windows has no standard Quit key
            quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        file_menu.addAction(quit_action)

        edit = bar.addMenu("&Edit")
        self.undo_action = self._action("&Undo Decision", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("&Redo Decision", self.redo, QKeySequence.StandardKey.Redo)
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        edit.addSeparator()
        self.find_action = self._action("&Find Case…", self.find, QKeySequence.StandardKey.Find)
        edit.addAction(self.find_action)
        edit.addSeparator()
        settings = self._action("&Settings…", self.edit_settings, QKeySequence.StandardKey.Preferences)
        settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        edit.addAction(settings)

        self.view_menu = bar.addMenu("&View")
        self._view_group = QActionGroup(self)
        self._view_group.setExclusive(True)
        self._view_menu_end = self.view_menu.addSeparator()
        self.case_menu = bar.addMenu("&Case")

        help_menu = bar.addMenu("&Help")
        self.guide_action = self._action("User &Guide", lambda: self.show_guide(None),
                                         QKeySequence.StandardKey.HelpContents)
        if self.guide_action.shortcut().isEmpty():
            self.guide_action.setShortcut(QKeySequence("F1"))
        help_menu.addAction(self.guide_action)
        help_menu.addAction(self._action("Guide to &This View", lambda: self.show_guide(
            VIEW_SECTIONS.get(self.current_view())), "Shift+F1"))
        help_menu.addAction(self._action("&Keyboard Shortcuts", self.show_shortcuts))
        about = self._action("&About ClearRec Desktop", self.about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_workspaces()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_workspace(Path(p)))
        if not recent:
            none = self.recent_menu.addAction("(none)")
            none.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear List", self._clear_recent)

    # -- state -----------------------------------------------------------------------------------------

    def _update_state(self) -> None:
        s = self.session
        busy = s.runner.busy
        self.undo_action.setEnabled(s.can_undo() and not busy)
        self.redo_action.setEnabled(s.can_redo() and not busy)
        self.close_action.setEnabled(s.is_open and not busy)
        self.backup_action.setEnabled(s.is_open and not busy and not s.demo)
        self.restore_action.setEnabled(not busy)
        self.import_action.setEnabled(s.is_open and not busy)
        self.reconcile_action.setEnabled(s.is_open and not busy)
        self.export_report_action.setEnabled((s.run is not None or s.pending is not None) and not busy)
        self.export_results_action.setEnabled(s.run is not None and not busy)
        self.new_action.setEnabled(not busy)
        self.open_action.setEnabled(not busy)
        self.recent_menu.setEnabled(not busy)
        if s.is_open:
            name = s.workspace.path.name
            # Qt adds the application's name to the title bar itself (Windows, Linux)
            self.setWindowTitle("Demo workspace (temporary)" if s.demo else name)
            who = s.reviewer()
            extra = f" · temporary demo workspace, passphrase “{DEMO_PASSPHRASE}”" if s.demo else ""
            self.status_workspace.setText(f"Workspace {name} · reviewer {who}{extra}")
        else:
            self.setWindowTitle("")
            self.status_workspace.setText("No workspace open")
        showing_welcome = self.pages.currentWidget() is self.welcome
        if s.is_open and showing_welcome:
            self.pages.setCurrentWidget(self.main_page)
        elif not s.is_open and not busy and not showing_welcome:
            self.welcome.set_recent(self.recent_workspaces())
            self.pages.setCurrentWidget(self.welcome)
            self.welcome.focus_first()
        elif not s.is_open and showing_welcome:
            self.welcome.set_recent(self.recent_workspaces())
        self._update_empty_banner()
        run = s.run
        if busy:
            self.status_run.setText(f"{s.runner.current.title}…")
        elif run is not None:
            self.status_run.setText(f"{run.county} · as of {run.as_of.isoformat()} · {run.profile_id} · "
                                    f"run {run.run_id}")
        else:
            self.status_run.setText("")

    def _update_empty_banner(self) -> None:
        s = self.session
        key = self.current_view() if self._views else "import"
        empty = s.is_open and s.run is None and not (key == "import" and s.pending is not None)
        text = EMPTY_TEXT.get(key, "")
        if empty and text and key in VIEW_SECTIONS:
            title = self._view_actions[key].text() if key in self._view_actions else key
            self.empty_banner.setText(f"{text} <a href='#{VIEW_SECTIONS[key]}'>How the {title} view works</a> "
                                      "(user guide).")
            self.empty_banner.show()
        else:
            self.empty_banner.hide()

    def show_guide(self, anchor: str | None = None) -> guide.GuideWindow:
        """Help > User Guide (F1), opened at ``anchor`` when given."""
        if getattr(self, "guide_window", None) is None:
            self.guide_window = guide.GuideWindow(self)
        self.guide_window.show_section(anchor)
        return self.guide_window

    def _after_run(self) -> None:
        if self.session.run is not None and self.current_view() == "import" and self.session.pending is None:
            # the import report stays one click away; the overview is what the clerk needs next
            self.import_view.overview_button.setFocus()

    # -- workspace -------------------------------------------------------------------------------------

    def recent_workspaces(self) -> list[str]:
        value = QSettings().value("recent/workspaces", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: Path) -> None:
        items = [p for p in self.recent_workspaces() if p != str(path)]
        QSettings().setValue("recent/workspaces", [str(path), *items][:MAX_RECENT])

    def _clear_recent(self) -> None:
        QSettings().setValue("recent/workspaces", [])

    def _start_dir(self) -> str:
        recent = self.recent_workspaces()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def new_workspace(self) -> bool:
        dialog = NewWorkspaceDialog(self, core_demo.CA_COUNTIES, self._start_dir())
        try:
            while dialog.exec() == NewWorkspaceDialog.DialogCode.Accepted:
                path, passphrase, county = dialog.values()
                try:
                    self.create_workspace(path, passphrase, county)
                except InputError as exc:
                    dialog.error.setText(str(exc))
                    dialog.error.show()
                    continue
                return True
            return False
        finally:
            dialog.deleteLater()

    def create_workspace(self, path: Path, passphrase: str, county: str) -> None:
        self._drop_demo()
        self.session.create_workspace(path, passphrase, county)
        self._remember(path)
        self.show_view("import")

    def open_workspace(self, path: Path | None = None, passphrase: str | None = None) -> bool:
        """Open a workspace, asking for the passphrase until it is right or the user gives up."""
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Open workspace", self._start_dir(), WORKSPACE_FILTER)
            if not chosen:
                return False
            path = Path(chosen)
        error = ""
        while True:
            if passphrase is None:
                dialog = PassphraseDialog(self, path, error)
                accepted = dialog.exec() == PassphraseDialog.DialogCode.Accepted
                passphrase = dialog.value()
                dialog.deleteLater()
                if not accepted:
                    return False
            try:
                self._drop_demo()
                self.session.open_workspace(path, passphrase)
            except WrongPassphrase:
                error = "Wrong passphrase for this workspace. Type it again (it is case-sensitive)."
                passphrase = None
                continue
            except InputError as exc:
                ErrorDialog.show_error(self, str(exc))
                return False
            break
        self._remember(path)
        self._show_notices()
        task = self.session.load_latest_run()
        if task is None:
            self.show_view("import")
        else:
            task.failed.connect(lambda m, d: task_failed(self, m, d))
            task.succeeded.connect(lambda _r: self.show_view("review"))
        return True

    def _show_notices(self) -> None:
        notices = self.session.notices
        if notices:  # not blocking: the workspace is open and usable meanwhile
            box = QMessageBox(QMessageBox.Icon.Information, "Workspace opened", "\n\n".join(notices),
                              QMessageBox.StandardButton.Ok, self)
            box.setObjectName("workspace_notices")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # -- backup and restore ----------------------------------------------------------------------------

    def back_up(self, dest: Path | None = None) -> Task | None:
        """File > Back Up: a complete copy (SQLite's online backup), even while the workspace is open."""
        s = self.session
        if not s.is_open:
            return None
        if dest is None:
            from datetime import date as _date

            suggested = s.workspace.path.with_name(f"{s.workspace.path.stem}-backup-{_date.today():%Y%m%d}.clearrec")
            chosen, _ = QFileDialog.getSaveFileName(self, "Back up workspace to", str(suggested), WORKSPACE_FILTER)
            if not chosen:
                return None
            dest = Path(chosen)
        try:
            task = s.backup(dest)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        self.import_view.progress.follow(task)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        task.succeeded.connect(lambda path: self.statusBar().showMessage(f"Backed up to {path}", 10000))
        self._update_state()
        return task

    def restore(self, backup: Path | None = None, target: Path | None = None,
                passphrase: str | None = None) -> Task | None:
        """File > Restore: put a backup in place of a workspace; the replaced file is kept."""
        s = self.session
        if backup is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Restore from backup", self._start_dir(), WORKSPACE_FILTER)
            if not chosen:
                return None
            backup = Path(chosen)
        if target is None:
            start = str(s.workspace.path) if s.is_open else self._start_dir()
            chosen, _ = QFileDialog.getSaveFileName(self, "Restore as workspace", start, WORKSPACE_FILTER,
                                                    options=QFileDialog.Option.DontConfirmOverwrite)
            if not chosen:
                return None
            target = Path(chosen)
            if target.exists():
                answer = QMessageBox.question(
                    self, "Restore workspace",
                    f"Replace {target.name} with the backup {backup.name}?\n\nThe workspace it replaces is not "
                    f"deleted: it is kept beside it as {target.stem}.replaced-DATE-TIME{target.suffix}.")
                if answer != QMessageBox.StandardButton.Yes:
                    return None
        if passphrase is None:
            dialog = PassphraseDialog(self, backup)
            accepted = dialog.exec() == PassphraseDialog.DialogCode.Accepted
            passphrase = dialog.value()
            dialog.deleteLater()
            if not accepted:
                return None
        self._drop_demo()
        try:
            task = s.restore(backup, target, passphrase)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        self.import_view.progress.follow(task)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        task.succeeded.connect(lambda result: self._when_idle(lambda: self._restored(result, passphrase)))
        self._update_state()
        return task

    def _when_idle(self, fn) -> None:
        """Run ``fn`` once the worker is free (a task's result arrives before its thread ends)."""
        runner = self.session.runner
        if not runner.busy:
            fn()
            return

        def once(busy: bool) -> None:
            if not busy:
                runner.busy_changed.disconnect(once)
                fn()

        runner.busy_changed.connect(once)

    def _restored(self, result, passphrase: str) -> None:
        restored, aside = result
        if self.open_workspace(restored, passphrase):
            kept = f" The workspace it replaced is kept as {aside.name}." if aside is not None else ""
            self.statusBar().showMessage(f"Restored {restored.name}.{kept}", 15000)

    def close_workspace(self) -> None:
        self.session.close_workspace()
        self._drop_demo()
        self.show_view("import")

    def open_demo(self) -> Task:
        """A temporary workspace screened from the bundled demo extract (statutory, fixed date)."""
        self.session.close_workspace()
        self._drop_demo()
        self._demo_dir = tempfile.TemporaryDirectory(prefix=DEMO_PREFIX)
        path = Path(self._demo_dir.name) / DEMO_FILE
        self.session.create_workspace(path, DEMO_PASSPHRASE, "")
        self.session.demo = True
        office = resource_path(DEMO_OFFICE)
        if office.is_file():  # fictional office details, so the demo's documents build at once
            self.session.load_office_file(office)
        task = self.session.screen_files([demo_extract_path()], DEMO_AS_OF, profiles.load_profile())
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        task.succeeded.connect(lambda _r: self.show_view("overview"))
        self.import_view.progress.follow(task)
        self._update_state()
        return task

    def _drop_demo(self) -> None:
        if self._demo_dir is not None:
            self.session.close_workspace()
            self._demo_dir.cleanup()
            self._demo_dir = None
            self.session.demo = False

    # -- menu actions ------------------------------------------------------------------------------------

    def _import_file(self) -> None:
        self.show_view("import")
        self.import_view.choose_file()

    def _reconcile_files(self) -> None:
        self.show_view("reconcile")
        self.reconcile_view.choose_files()

    def open_in_review(self, conviction_id: str) -> bool:
        """Show one conviction in Review (its filters cleared so it is shown)."""
        self.show_view("review")
        if not self.review_view.show_conviction(conviction_id):
            self.review_view.clear_filters()
            return self.review_view.show_conviction(conviction_id)
        return True

    def import_view_export(self) -> None:
        self.import_view.export_report()

    def export_results(self) -> None:
        run = self.session.run
        if run is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder for results.csv, summary.json and the import report")
        if folder:
            self.write_results(Path(folder))

    def write_results(self, folder: Path) -> None:
        run = self.session.run
        screen_run = pipeline.ScreenRun(
            rows=run.rows, results=run.results, report=run.report, summary=run.summary,
            profile=self.session.run_profile(), county=run.county, as_of=run.as_of)
        try:
            pipeline.write_outputs(screen_run, folder)
        except InputError as exc:  # e.g. the disk filled up: the folder's earlier files are untouched
            ErrorDialog.show_error(self, str(exc))
            return
        except OSError as exc:
            ErrorDialog.show_error(self, f"{folder}: could not write the results ({exc.strerror})")
            return
        self.session.log_export("results_csv", folder.name)

    def undo(self) -> None:
        try:
            event = self.session.undo()
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return
        if event is not None:
            self.review_view.show_conviction(event["conviction_id"])
            n = event.get("batch_size", 1)
            what = f"{n:,} decisions recorded together" if n > 1 else self._case_of(event["conviction_id"])
            self.statusBar().showMessage(f"Decision undone ({what})", 6000)

    def redo(self) -> None:
        try:
            event = self.session.redo()
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return
        if event is not None:
            self.review_view.show_conviction(event["conviction_id"])
            n = event.get("batch_size", 1)
            what = f"{n:,} decisions recorded together" if n > 1 else self._case_of(event["conviction_id"])
            self.statusBar().showMessage(f"Decision redone ({what})", 6000)

    def _case_of(self, conviction_id: str) -> str:
        run = self.session.run
        hit = run.results.filter(pl.col("conviction_id") == conviction_id) if run is not None else None
        if hit is None or hit.height == 0:
            return "a conviction not in the current run"
        return f"case {hit.item(0, 'court_case_number') or '(no number)'}, {hit.item(0, 'code_section')}"

    def find(self) -> None:
        self.show_view("review")
        self.review_view.search.setFocus()
        self.review_view.search.selectAll()

    def edit_settings(self) -> None:
        settings = QSettings()
        import getpass

        try:
            login = getpass.getuser()
        except Exception:
            login = "unknown"
        dialog = SettingsDialog(self, self.session.reviewer_override(), login,
                                settings.value("review/advance", True, type=bool))
        if not self.session.is_open:
            dialog.reviewer.setEnabled(False)
            dialog.reviewer.setToolTip("Open a workspace to set the reviewer recorded in it.")
        accepted = dialog.exec() == SettingsDialog.DialogCode.Accepted
        advance, reviewer = dialog.advance.isChecked(), dialog.reviewer.text()
        dialog.deleteLater()
        if accepted:
            settings.setValue("review/advance", advance)
            try:
                self.session.set_reviewer(reviewer)
            except InputError as exc:
                ErrorDialog.show_error(self, str(exc))
            self._update_state()

    def show_shortcuts(self) -> None:
        lines = ["<h3>Keyboard shortcuts</h3><table cellspacing='4'>"]
        rows = [("Views", f"Ctrl+1 … Ctrl+{min(9, len(self._views))}"), ("Find a case", QKeySequence(QKeySequence.StandardKey.Find).toString(
                    QKeySequence.SequenceFormat.NativeText)),
                ("Undo / redo a decision", f"{self.undo_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)}"
                 f" / {self.redo_action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)}")]
        for action in self.review_view.actions.values():
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
            rows.append((action.text().replace("&", ""), keys + " (in the review table or case detail)"))
        lines += [f"<tr><td>{a}</td><td><b>{b}</b></td></tr>" for a, b in rows]
        lines.append("</table><p>Enter in the search box jumps to the results; Tab moves between controls.</p>")
        QMessageBox.information(self, "Keyboard shortcuts", "".join(lines))

    def about(self) -> None:
        QMessageBox.about(
            self, "About ClearRec Desktop",
            f"<h3>ClearRec Desktop {__version__}</h3><p>Screens California cannabis convictions for relief "
            "under HS 11361.8 / 11361.9. Works entirely offline: nothing is sent anywhere.</p>"
            "<p>Outcomes are proposals for an attorney's review, not legal advice.</p>")

    # -- drag and drop onto the window -------------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and not self.session.runner.busy:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        if paths[0].suffix.lower() == ".clearrec":
            self.open_workspace(paths[0])
        else:
            self.show_view("import")
            self.import_view.read_files(paths)

    # -- layout memory and closing -------------------------------------------------------------------------

    def restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        for key, splitter in (("review/splitter", self.review_view.splitter),
                              ("review/top_splitter", self.review_view.top_splitter),
                              ("documents/splitter", self.documents_view.splitter)):
            value = settings.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                splitter.restoreState(value)
        header = settings.value("review/header")
        if isinstance(header, QByteArray) and not header.isEmpty():
            self.review_view.table.horizontalHeader().restoreState(header)

    def save_layout(self) -> None:
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("review/splitter", self.review_view.splitter.saveState())
        settings.setValue("review/top_splitter", self.review_view.top_splitter.saveState())
        settings.setValue("documents/splitter", self.documents_view.splitter.saveState())
        settings.setValue("review/header", self.review_view.table.horizontalHeader().saveState())
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.session.runner.busy:
            answer = QMessageBox.question(
                self, "Quit", f"{self.session.runner.current.title} is still running. Cancel it and quit?")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.save_layout()
        self.session.close_workspace()
        self._drop_demo()
        event.accept()

    def sizeHint(self) -> QSize:
        return QSize(1280, 820)

