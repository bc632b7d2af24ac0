"""Import: choose or drop files, map a county file's columns, pick county, date and profile, run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from PySide6.QtCore import QDate, QSettings, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import InputError
from ...core.screen import profiles
from ..dialogs import ErrorDialog, MappingDialog
from ..models import (
    Column,
    FrameModel,
)
from ..session import Session
from ..widgets.common import configure_table, esc, plural, task_failed
from ..widgets.drop_zone import DropZone
from ..widgets.progress import ProgressStrip
from ..workers import Task


class ImportView(QWidget):
    """Pick or drop a file, map its columns if needed, choose county / date / profile, screen."""

    overview_requested = Signal()
    title = "Import"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._profiles: list[profiles.Profile] = []
        layout = QVBoxLayout(self)
        heading = QLabel("<h2>Import an extract</h2>")
        layout.addWidget(heading)
        self.drop = DropZone()
        self.drop.choose.clicked.connect(self.choose_file)
        self.drop.file_dropped.connect(self.read_files)
        layout.addWidget(self.drop)
        self.file_label = QLabel("No file chosen yet.")
        self.file_label.setWordWrap(True)
        self.file_label.setAccessibleName("Chosen file")
        layout.addWidget(self.file_label)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.county = QComboBox()
        self.county.setAccessibleName("County to screen")
        self.county.setMinimumContentsLength(28)
        form.addRow("C&ounty:", self.county)
        self.as_of = QDateEdit()
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        self.as_of.setDate(QDate.currentDate())
        self.as_of.setAccessibleName("Evaluation date (as of)")
        self.as_of.setToolTip("Every outcome is worked out as of this date; it is recorded with the run.")
        form.addRow("&Evaluation date:", self.as_of)
        self.profile = QComboBox()
        self.profile.setAccessibleName("Policy profile")
        form.addRow("&Policy profile:", self.profile)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.screen_button = QPushButton("&Import and screen")
        self.screen_button.setAccessibleName("Import and screen")
        self.screen_button.clicked.connect(self.start_screen)
        buttons.addWidget(self.screen_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)

        self.report_box = QGroupBox("Import report")
        rlayout = QVBoxLayout(self.report_box)
        self.report_tabs = QTabWidget()
        self.report_tabs.setAccessibleName("Import report sections")
        self.report_text = QPlainTextEdit()
        self.report_text.setReadOnly(True)
        self.report_text.setAccessibleName("Import report")
        self.report_text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.report_tabs.addTab(self.report_text, "&Summary")
        self.rejected_model = FrameModel([Column("file", "File", 160), Column("line", "Line", 70),
                                          Column("reason", "Reason", 480)], self)
        self.rejected_table = QTableView()
        configure_table(self.rejected_table, self.rejected_model, "Rejected lines", sortable=True)
        self.report_tabs.addTab(self.rejected_table, "&Rejected lines")
        self.warnings_model = FrameModel([Column("rows", "Rows", 90), Column("warning", "Data-quality warning", 600)], self)
        self.warnings_table = QTableView()
        configure_table(self.warnings_table, self.warnings_model, "Data-quality warnings")
        self.report_tabs.addTab(self.warnings_table, "&Warnings")
        rlayout.addWidget(self.report_tabs)
        row = QHBoxLayout()
        self.export_button = QPushButton("E&xport report…")
        self.export_button.setAccessibleName("Export the import report to a file")
        self.export_button.clicked.connect(self.export_report)
        self.overview_button = QPushButton("Continue to &Overview")
        self.overview_button.setAccessibleName("Continue to the overview")
        self.overview_button.clicked.connect(self.overview_requested)
        row.addWidget(self.export_button)
        row.addStretch(1)
        row.addWidget(self.overview_button)
        rlayout.addLayout(row)
        layout.addWidget(self.report_box, 1)

        QWidget.setTabOrder(self.drop.choose, self.county)
        QWidget.setTabOrder(self.county, self.as_of)
        QWidget.setTabOrder(self.as_of, self.profile)
        QWidget.setTabOrder(self.profile, self.screen_button)
        QWidget.setTabOrder(self.screen_button, self.progress.cancel_button)
        QWidget.setTabOrder(self.progress.cancel_button, self.report_tabs)

        session.pending_changed.connect(self.refresh)
        session.run_changed.connect(self.refresh)
        session.workspace_changed.connect(self.refresh)
        session.runner.busy_changed.connect(lambda _busy: self._update_enabled())
        self.reload_profiles()
        self.refresh()

    def reload_profiles(self) -> None:
        self._profiles = profiles.list_profiles()
        self.profile.clear()
        for p in self._profiles:
            self.profile.addItem(f"{p.title} ({p.id})", p.id)
        i = self.profile.findData(profiles.DEFAULT_PROFILE)
        if i >= 0:
            self.profile.setCurrentIndex(i)

    def selected_profile(self) -> profiles.Profile:
        return next(p for p in self._profiles if p.id == self.profile.currentData())

    def _update_enabled(self) -> None:
        busy = self.session.runner.busy
        can_read = self.session.is_open and not busy
        self.drop.setEnabled(can_read)
        self.setAcceptDrops(can_read)
        self.export_button.setEnabled(not busy)
        ready = can_read and self.session.pending is not None and self.county.currentData() is not None
        for w in (self.county, self.as_of, self.profile, self.screen_button):
            w.setEnabled(ready)

    def refresh(self) -> None:
        s = self.session
        pending = s.pending
        if not s.is_open:
            self.file_label.setText("Create or open a workspace first (File > New Workspace or File > Open Workspace).")
        elif pending is not None:
            r = pending.report
            names = ", ".join(p.name for p in pending.paths)
            self.file_label.setText(
                f"<b>{esc(names)}</b>: {plural(sum(f.lines_read for f in r.files), 'line')} read, "
                f"{plural(r.rows, 'row')} imported, {plural(len(r.rejected), 'line')} rejected. "
                "Choose the county, evaluation date and profile, then Import and screen.")
        elif s.run is not None:
            files = ", ".join(f.file for f in s.run.report.files)
            self.file_label.setText(f"Last import: <b>{esc(files)}</b>. Drop or choose a newer extract to "
                                    "screen it again; decisions are kept.")
        else:
            self.file_label.setText("No file chosen yet.")
        self.county.clear()
        if pending is not None:
            counties = sorted(pending.report.counties.items(), key=lambda kv: (-kv[1], kv[0]))
            for name, n in counties:
                if name:
                    self.county.addItem(f"{name} ({n:,} convictions)", name)
            for name in sorted(pending.report.rows_by_county):
                if name and self.county.findData(name) < 0:
                    self.county.addItem(f"{name} (no convictions)", name)
            wanted = s.workspace_county or (s.run.county if s.run else "")
            i = self.county.findData(wanted.upper())
            self.county.setCurrentIndex(i if i >= 0 else 0)
        elif s.run is not None:
            # nothing to screen: the disabled form shows what the current run used
            self.county.addItem(f"{s.run.county} (current run)", s.run.county)
            self.as_of.setDate(QDate(s.run.as_of.year, s.run.as_of.month, s.run.as_of.day))
            i = self.profile.findData(s.run.profile_id)
            if i >= 0:
                self.profile.setCurrentIndex(i)
        report = pending.report if pending is not None else (s.run.report if s.run else None)
        self.show_report(report)
        self._update_enabled()

    def show_report(self, report) -> None:
        self.report_box.setVisible(report is not None)
        if report is None:
            return
        self.report_text.setPlainText(report.to_text())
        rejected = report.rejected
        self.rejected_model.set_frame(pl.DataFrame(
            {"file": [r["file"] for r in rejected], "line": [int(r["line"]) for r in rejected],
             "reason": [r["reason"] for r in rejected]},
            schema={"file": pl.String, "line": pl.Int64, "reason": pl.String}))
        from ...core.ingest.report import WARNINGS

        self.warnings_model.set_frame(pl.DataFrame(
            {"rows": list(report.warnings.values()),
             "warning": [WARNINGS.get(k, k) for k in report.warnings]},
            schema={"rows": pl.Int64, "warning": pl.String}))
        self.report_tabs.setTabText(1, f"&Rejected lines ({len(rejected):,})")
        self.report_tabs.setTabText(2, f"&Warnings ({len(report.warnings):,})")
        self.overview_button.setVisible(self.session.pending is None and self.session.run is not None)

    # -- actions ---------------------------------------------------------------------------------

    def choose_file(self) -> None:
        settings = QSettings()
        start = str(settings.value("import/last_dir", "") or "")
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Choose the extract to import", start,
            "Extracts and county files (*.dat *.csv *.txt *.xlsx);;All files (*)")
        if paths:
            settings.setValue("import/last_dir", str(Path(paths[0]).parent))
            self.read_files([Path(p) for p in paths])

    def read_files(self, paths: list[Path]) -> Task | None:
        """Read the files on the worker (asking for a column mapping first when they need one)."""
        if not self.session.is_open:
            QMessageBox.information(self, "Import", "Create or open a workspace first.")
            return None
        mapping = None
        try:
            needs = [p for p in paths if self.session.needs_mapping(p)]
            if needs:
                mapping = self.ask_mapping(needs[0])
                if mapping is None:
                    return None
            task = self.session.read_files(paths, mapping)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def ask_mapping(self, path: Path) -> dict | None:
        """The column mapping for a county file: the saved one for files with these columns, else
        the importer's guess, confirmed or corrected by the user and saved for next time."""
        from ...core.demo import CA_COUNTIES

        header, rows, signature = self.session.preview_file(path)
        current = self.session.saved_mapping(signature) or self.session.guess_mapping(header)
        dialog = MappingDialog(self, path.name, header, rows, self.session.mapping_fields(), current,
                               CA_COUNTIES)
        accepted = dialog.exec() == MappingDialog.DialogCode.Accepted
        mapping = dialog.mapping()
        dialog.deleteLater()
        if not accepted:
            return None
        self.session.save_mapping(signature, mapping)
        return mapping

    def start_screen(self) -> Task | None:
        if self.county.currentData() is None:
            return None
        as_of = self.as_of.date().toPython()
        try:
            task = self.session.screen_pending(self.county.currentData(), as_of, self.selected_profile())
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def export_report(self) -> None:
        report = self.session.pending.report if self.session.pending else (
            self.session.run.report if self.session.run else None)
        if report is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the import report", "import-report.txt",
                                              "Text (*.txt);;All files (*)")
        if path:
            self.write_report(Path(path), report)

    def write_report(self, path: Path, report) -> None:
        try:
            path.write_text(report.to_text(), encoding="utf-8")
        except OSError as exc:
            ErrorDialog.show_error(self, f"{path.name}: could not be written ({exc.strerror})")
            return
        self.session.log_export("import_report", path.name)


# -- Overview -------------------------------------------------------------------------------------
