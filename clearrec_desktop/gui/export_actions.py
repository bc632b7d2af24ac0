"""File > Export: Excel workbook, DOJ-layout results, impact report PDF, review table as CSV.

Each export asks where to save, runs on the worker with a progress dialog (shown when it takes
more than a moment) and Cancel, and ends with a message offering to open the folder. The
session writes the file and records an "export" entry in the audit trail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import polars as pl
from PySide6.QtCore import QObject, QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QTableView

from ..core.errors import InputError
from .dialogs import ErrorDialog
from .models import FrameModel
from .widgets.common import task_failed
from .workers import Task


def shown_table(table: QTableView, model: FrameModel) -> pl.DataFrame:
    """The rows a table shows, in its order, with its visible columns in their on-screen order,
    named by their headers (as the user sees the table)."""
    header = table.horizontalHeader()
    columns = model.columns()
    order = sorted((header.visualIndex(i), i) for i in range(len(columns)) if not header.isSectionHidden(i))
    frame = model.view_frame()
    return frame.select([pl.col(columns[i].key).alias(columns[i].title) for _, i in order])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


class ExportActions(QObject):
    """The export actions of File > Export, and the flow each one runs."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.last_message: QMessageBox | None = None  # the "saved" message last shown
        self._progress: QProgressDialog | None = None
        menu = window.export_menu
        menu.addSeparator()
        self.xlsx_action = self._add(menu, "&Excel Workbook…", self.export_workbook, "exportWorkbook")
        self.doj_action = self._add(menu, "&DOJ-Layout Results…", self.export_doj_results, "exportDojResults")
        self.impact_action = self._add(menu, "Impact Report (&PDF)…", self.export_impact_report, "exportImpact")
        self.csv_action = self._add(menu, "Review Table as &CSV (as Filtered)…", self.export_review_csv,
                                    "exportReviewCsv")
        self.actions = [self.xlsx_action, self.doj_action, self.impact_action, self.csv_action]
        s = self.session
        s.run_changed.connect(self.update_enabled)
        s.workspace_changed.connect(self.update_enabled)
        s.runner.busy_changed.connect(lambda _b: self.update_enabled())
        self.update_enabled()

    def _add(self, menu, text: str, slot, name: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.triggered.connect(lambda _c=False: slot())
        menu.addAction(action)
        return action

    def update_enabled(self) -> None:
        ready = self.session.run is not None and not self.session.runner.busy
        for action in self.actions:
            action.setEnabled(ready)

    # -- where to save -------------------------------------------------------------------------------

    def _default_name(self, stem: str, suffix: str) -> str:
        run = self.session.run
        parts = [stem] + ([_slug(run.county), run.as_of.isoformat()] if run is not None else [])
        return "-".join(p for p in parts if p) + suffix

    def _ask_path(self, title: str, stem: str, suffix: str, file_filter: str) -> Path | None:
        settings = QSettings()
        start = Path(str(settings.value("export/last_dir", "") or Path.home()))
        chosen, _ = QFileDialog.getSaveFileName(self.window, title, str(start / self._default_name(stem, suffix)),
                                                file_filter)
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() != suffix:
            path = path.with_name(path.name + suffix)
        settings.setValue("export/last_dir", str(path.parent))
        return path

    # -- the exports -----------------------------------------------------------------------------------

    # Each export asks where to save unless given ``path`` (the self-test saves without a dialog).

    def export_workbook(self, path: Path | None = None) -> Task | None:
        path = path or self._ask_path("Export the Excel workbook", "clearrec-results", ".xlsx",
                                      "Excel workbook (*.xlsx)")
        if path is None:
            return None
        return self._start(lambda: self.session.export_workbook(path), "The Excel workbook", path)

    def export_impact_report(self, path: Path | None = None) -> Task | None:
        path = path or self._ask_path("Save the impact report", "impact-report", ".pdf", "PDF (*.pdf)")
        if path is None:
            return None
        return self._start(lambda: self.session.export_impact_report(path), "The impact report", path)

    def export_review_csv(self, path: Path | None = None) -> Task | None:
        review = self.window.review_view
        frame = shown_table(review.table, review.model)
        path = path or self._ask_path("Export the review table as shown", "review-table", ".csv", "CSV (*.csv)")
        if path is None:
            return None
        what = f"The review table ({frame.height:,} rows as filtered)"
        return self._start(lambda: self.session.export_results_csv(frame, path), what, path)

    def export_doj_results(self, path: Path | None = None) -> Task | None:
        try:
            sources = self.session.doj_sources()
        except InputError as exc:
            ErrorDialog.show_error(self.window, str(exc))
            return None
        path = path or self._ask_path("Export the results in the DOJ layout", "doj-results", ".csv", "CSV (*.csv)")
        if path is None:
            return None
        return self._run_doj(path, sources)

    def _run_doj(self, path: Path, sources: list[dict]) -> Task | None:
        task = self._start(lambda: self.session.export_doj_results(path, sources), None, path)
        if task is not None:
            task.succeeded.connect(lambda result: self._doj_done(result, path, sources))
        return task

    def _doj_done(self, result, path: Path, sources: list[dict]) -> None:
        if result.written is not None:
            self._saved("The DOJ-layout results", result.written)
            return
        # The DOJ layout is every original line, so the extracts are read again: ask for each
        # one that is not where it was imported from (or has changed there).
        located = {s["file"]: dict(s) for s in sources}
        for src in result.unusable:
            why = ("is no longer where it was imported from" if src["reason"] == "missing"
                   else "has changed since it was imported")
            start = str(Path(src["path"]).parent) if src.get("path") else str(Path.home())
            chosen, _ = QFileDialog.getOpenFileName(
                self.window, f"Locate {src['file']}: the extract {why}", start,
                "DOJ extracts (*.dat *.csv *.txt);;All files (*)")
            if not chosen:
                self.window.statusBar().showMessage("DOJ-layout export cancelled: the extract was not located", 8000)
                return
            located[src["file"]]["path"] = chosen
        self._when_idle(lambda: self._run_doj(path, [located[s["file"]] for s in sources]))

    def _when_idle(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` once the worker is free (a task's result arrives before its thread ends)."""
        runner = self.session.runner
        if not runner.busy:
            fn()
            return

        def go(busy: bool) -> None:
            if not busy:
                runner.busy_changed.disconnect(go)
                fn()

        runner.busy_changed.connect(go)

    # -- progress and the end message ----------------------------------------------------------------

    def _start(self, starter: Callable[[], Task], what: str | None, path: Path) -> Task | None:
        try:
            task = starter()
        except InputError as exc:
            ErrorDialog.show_error(self.window, str(exc))
            return None
        self._follow(task)
        if what is not None:
            task.succeeded.connect(lambda result: self._saved(what, Path(result)))
        task.failed.connect(lambda m, d: task_failed(self.window, m, d))
        task.cancelled.connect(lambda: self.window.statusBar().showMessage(f"{task.title}: cancelled", 6000))
        return task

    def _follow(self, task: Task) -> None:
        dialog = QProgressDialog(task.title + "…", "Cancel", 0, 1000, self.window)
        dialog.setWindowTitle("Export")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(700)  # small exports finish before it would show
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setAccessibleName(task.title)
        dialog.canceled.connect(task.cancel)
        self._progress = dialog

        def progress(fraction: float, message: str) -> None:
            dialog.setValue(int(fraction * 1000))
            if message:
                dialog.setLabelText(message)

        def finished() -> None:
            dialog.canceled.disconnect(task.cancel)  # closing the dialog emits canceled
            dialog.close()
            dialog.deleteLater()
            if self._progress is dialog:
                self._progress = None

        task.progress.connect(progress)
        task.finished.connect(finished)

    def _saved(self, what: str, path: Path) -> None:
        """Say where the file went, with a button that opens its folder (not modal to the app)."""
        box = QMessageBox(QMessageBox.Icon.Information, "Export saved",
                          f"{what} was saved as {path.name} in {path.parent}.", QMessageBox.StandardButton.Close,
                          self.window)
        open_folder = box.addButton("Open &Folder", QMessageBox.ButtonRole.ActionRole)
        open_folder.setAccessibleName("Open the folder of the saved file")
        box.setDefaultButton(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def clicked(button) -> None:
            if button is open_folder:
                self.open_folder(path.parent)

        box.buttonClicked.connect(clicked)
        self.last_message = box

        def forget() -> None:
            if self.last_message is box:
                self.last_message = None

        box.destroyed.connect(forget)
        box.open()

    @staticmethod
    def open_folder(folder: Path) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
