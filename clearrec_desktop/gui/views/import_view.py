"""Import: choose or drop files, map a county file's columns, pick county, date and profile, run."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from PySide6.QtCore import QDate, QSettings, Qt, Signal
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
    QDialog,
    QDialogButtonBox,
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
        self.county.setMinimumContentsLength(40)
        self.county.currentIndexChanged.connect(lambda _i: self._update_county_warning())
        form.addRow("C&ounty:", self.county)
        self.county_warning = QLabel()
        self.county_warning.setObjectName("countyWarning")
        self.county_warning.setWordWrap(True)
        self.county_warning.setAccessibleName("County warning")
        self.county_warning.setStyleSheet("#countyWarning { border: 1px solid #c77700; border-radius: 4px; "
                                          "padding: 4px; }")
        self.county_warning.hide()
        form.addRow("", self.county_warning)
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
        self.screen_button.clicked.connect(lambda _c=False: self.start_screen())
        buttons.addWidget(self.screen_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)

        self.report_box = QGroupBox("Import report")
        rlayout = QVBoxLayout(self.report_box)
        self.report_summary = QLabel()
        self.report_summary.setWordWrap(True)
        self.report_summary.setAccessibleName("Import report summary")
        self.report_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rlayout.addWidget(self.report_summary)
        self.report_tabs = QTabWidget()
        self.report_tabs.setAccessibleName("Import report sections")
        self.files_model = FrameModel([
            Column("file", "File", 220), Column("kind", "Kind", 110), Column("lines_read", "Lines read", 90),
            Column("rows_imported", "Rows imported", 105), Column("rejected", "Rejected", 80),
            Column("blank_lines", "Blank lines", 85), Column("header", "Header", 60),
            Column("notes", "Notes", 300)], self)
        self.files_table = QTableView()
        configure_table(self.files_table, self.files_model, "Files read")
        self.report_tabs.addTab(self.files_table, "&Files")
        self.counties_model = FrameModel([
            Column("county", "County", 200), Column("convictions", "Convictions (any offense)", 180),
            Column("rows", "Rows (every record line)", 170)], self)
        self.counties_table = QTableView()
        configure_table(self.counties_table, self.counties_model, "Counties in the file", sortable=True)
        self.report_tabs.addTab(self.counties_table, "Counti&es")
        rejected_page = QWidget()
        rj = QVBoxLayout(rejected_page)
        rj.setContentsMargins(0, 0, 0, 0)
        self.rejected_model = FrameModel([Column("file", "File", 160), Column("line", "Line", 70),
                                          Column("reason", "Reason", 420), Column("start", "Start of the line", 300)],
                                         self)
        self.rejected_table = QTableView()
        configure_table(self.rejected_table, self.rejected_model, "Rejected lines", sortable=True)
        rj.addWidget(self.rejected_table, 1)
        rrow = QHBoxLayout()
        self.rejected_note = QLabel()
        self.rejected_note.setWordWrap(True)
        self.show_rejected_button = QPushButton("S&how the rejected lines…")
        self.show_rejected_button.setAccessibleName("Show the whole text of the rejected lines")
        self.show_rejected_button.clicked.connect(self.show_rejected_lines)
        rrow.addWidget(self.rejected_note, 1)
        rrow.addWidget(self.show_rejected_button)
        rj.addLayout(rrow)
        self.report_tabs.addTab(rejected_page, "&Rejected lines")
        self.warnings_model = FrameModel([Column("rows", "Rows", 80), Column("warning", "Data-quality warning", 380),
                                          Column("meaning", "What it means", 460)], self)
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
        self._report = None
        self._line_text: dict[tuple[str, int], str] = {}

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
            # what is counted: convictions of any offense (screening then takes the cannabis ones)
            for name, n in counties:
                if name:
                    self.county.addItem(f"{name} ({plural(n, 'conviction')} of any offense in the file)", name)
            for name in sorted(pending.report.rows_by_county):
                if name and self.county.findData(name) < 0:
                    self.county.addItem(f"{name} (no conviction in the file)", name)
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
        self._update_county_warning()

    def _update_county_warning(self) -> None:
        county = self.county.currentData()
        text = self.session.county_warning(county) if (county and self.session.pending is not None) else None
        self.county_warning.setText(f"<b>Check the county.</b> {esc(text)}" if text else "")
        self.county_warning.setVisible(bool(text))

    def show_report(self, report) -> None:
        self.report_box.setVisible(report is not None)
        if report is None or report is self._report:
            if report is not None:
                self.overview_button.setVisible(self.session.pending is None and self.session.run is not None)
            return
        from ...core.ingest.report import WARNING_MEANING, WARNINGS

        self._report = report
        self._line_text = {}
        files = report.files
        lines = sum(f.lines_read for f in files)
        rejected = report.rejected
        convictions = sum(report.counties.values())
        self.report_summary.setText(
            f"{plural(len(files), 'file')} · {plural(lines, 'line')} read · {plural(report.rows, 'row')} imported · "
            f"<b>{plural(len(rejected), 'line')} rejected</b> · {plural(convictions, 'conviction')} of any offense "
            f"in {plural(len([c for c in report.counties if c]), 'county', 'counties')} · "
            f"{plural(len(report.warnings), 'kind')} of data-quality warning")
        self.files_model.set_frame(pl.DataFrame({
            "file": [f.file for f in files],
            "kind": ["DOJ extract" if f.kind == "doj" else "county file" for f in files],
            "lines_read": [f.lines_read for f in files], "rows_imported": [f.rows_imported for f in files],
            "rejected": [len(f.rejected) for f in files], "blank_lines": [f.blank_lines for f in files],
            "header": ["yes" if f.has_header else "no" for f in files],
            "notes": ["; ".join(f.notes) for f in files]},
            schema={"file": pl.String, "kind": pl.String, "lines_read": pl.Int64, "rows_imported": pl.Int64,
                    "rejected": pl.Int64, "blank_lines": pl.Int64, "header": pl.String, "notes": pl.String}))
        names = sorted(set(report.counties) | set(report.rows_by_county),
                       key=lambda c: (-report.counties.get(c, 0), c))
        self.counties_model.set_frame(pl.DataFrame({
            "county": [c or "(blank)" for c in names],
            "convictions": [int(report.counties.get(c, 0)) for c in names],
            "rows": [int(report.rows_by_county.get(c, 0)) for c in names]},
            schema={"county": pl.String, "convictions": pl.Int64, "rows": pl.Int64}))
        self._fill_rejected()
        self.warnings_model.set_frame(pl.DataFrame(
            {"rows": list(report.warnings.values()),
             "warning": [WARNINGS.get(k, k) for k in report.warnings],
             "meaning": [WARNING_MEANING.get(k, "") for k in report.warnings]},
            schema={"rows": pl.Int64, "warning": pl.String, "meaning": pl.String}))
        self.report_tabs.setTabText(2, f"&Rejected lines ({len(rejected):,})")
        self.report_tabs.setTabText(3, f"&Warnings ({len(report.warnings):,})")
        self.show_rejected_button.setEnabled(bool(rejected))
        self.rejected_note.setText(
            "The report itself keeps only line numbers and reasons; the text is read from the file, "
            "on this computer, when shown." if rejected else "No line was rejected.")
        self.overview_button.setVisible(self.session.pending is None and self.session.run is not None)
        if rejected:
            self._read_rejected_text()

    def _fill_rejected(self) -> None:
        rejected = self._report.rejected if self._report is not None else []
        self.rejected_model.set_frame(pl.DataFrame(
            {"file": [r["file"] for r in rejected], "line": [int(r["line"]) for r in rejected],
             "reason": [r["reason"] for r in rejected],
             "start": [_start(self._line_text.get((r["file"], int(r["line"])), "")) for r in rejected]},
            schema={"file": pl.String, "line": pl.Int64, "reason": pl.String, "start": pl.String}))

    def _read_rejected_text(self) -> None:
        """Read the rejected lines' text from the files on the session's reader (not the GUI
        thread: the file can be large); the table fills in when it is done."""
        report = self._report
        self.session.rejected_lines(report, lambda texts, r=report: self._got_rejected_text(r, texts),
                                    lambda _m, _d: None)

    def _got_rejected_text(self, report, texts: dict) -> None:
        if report is not self._report:
            return
        self._line_text = texts
        self._fill_rejected()

    def rejected_lines_text(self) -> str:
        rows = []
        for r in (self._report.rejected if self._report is not None else []):
            text = self._line_text.get((r["file"], int(r["line"])))
            rows.append(f"{r['file']} line {r['line']} ({r['reason']}):\n    "
                        + (text if text is not None else "(not available: the file has moved or changed)"))
        return "\n".join(rows)

    def show_rejected_lines(self) -> None:
        """The whole text of the rejected lines, selectable, in a window of its own."""
        dialog = QDialog(self)
        dialog.setWindowTitle("Rejected lines")
        dialog.resize(900, 500)
        lay = QVBoxLayout(dialog)
        note = QLabel("These lines were not imported. Correct them in the source file and import it again, "
                      "or leave them out; nothing else in the file is affected.")
        note.setWordWrap(True)
        lay.addWidget(note)
        text = QPlainTextEdit(self.rejected_lines_text())
        text.setReadOnly(True)
        text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        text.setAccessibleName("Rejected lines")
        lay.addWidget(text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        lay.addWidget(buttons)
        self.rejected_dialog = dialog
        dialog.show()

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
            for path in paths:
                what = self.session.own_output(path)
                if what:
                    ErrorDialog.show_error(self, what)
                    return None
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

    def ask_county(self, county: str) -> bool:
        """When the core finds the county probably wrong, say so before screening."""
        text = self.session.county_warning(county)
        if not text:
            return True
        box = QMessageBox(QMessageBox.Icon.Warning, "Check the county", text, parent=self)
        go = box.addButton(f"Screen {county} anyway", QMessageBox.ButtonRole.AcceptRole)
        back = box.addButton("Choose another county", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(back)
        box.exec()
        chosen = box.clickedButton() is go
        box.deleteLater()
        if not chosen:
            self.county.setFocus()
        return chosen

    def ask_import_mode(self) -> str | None:
        """A second import: add it to what the workspace holds, or replace that, with the
        consequence of each in plain words. None when the clerk cancels."""
        choices = self.session.import_choices()
        if not choices:
            return "replace"
        box = QMessageBox(QMessageBox.Icon.Question, "Add or replace?",
                          "The workspace already holds a screened import. What should this file do?", parent=self)
        # one button per way the session offers (Session.import_choices; a third way, such as
        # reconciling a county file with the DOJ extract, needs only a line in IMPORT_BUTTONS)
        offered = [m for m in IMPORT_BUTTONS if m in choices]
        box.setInformativeText("".join(f"<p><b>{IMPORT_BUTTONS[m][0].replace('&', '')}:</b> {esc(choices[m])}</p>"
                                       for m in offered))
        buttons = {box.addButton(IMPORT_BUTTONS[m][0], IMPORT_BUTTONS[m][1]): m for m in offered}
        box.addButton(QMessageBox.StandardButton.Cancel)
        self.mode_box = box
        box.exec()
        mode = buttons.get(box.clickedButton())
        box.deleteLater()
        self.mode_box = None
        return mode

    def start_screen(self, mode: str | None = None) -> Task | None:
        """Screen the file read; asks about a doubtful county and, when the workspace already
        holds a run, whether to add or replace (``mode`` answers that in advance)."""
        if self.county.currentData() is None:
            return None
        if not self.ask_county(self.county.currentData()):
            return None
        mode = mode or self.ask_import_mode()
        if mode is None:
            return None
        as_of = self.as_of.date().toPython()
        try:
            task = self.session.screen_pending(self.county.currentData(), as_of, self.selected_profile(), mode)
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


# The buttons of the add-or-replace question, in order: mode -> (label, role).
IMPORT_BUTTONS = {
    "add": ("&Add to the workspace", QMessageBox.ButtonRole.AcceptRole),
    "replace": ("Re&place", QMessageBox.ButtonRole.DestructiveRole),
    "reconcile": ("Re&concile with DOJ's extract", QMessageBox.ButtonRole.AcceptRole),  # issue 15
}


def _start(text: str, n: int = 60) -> str:
    """The first characters of a line, control characters shown as spaces."""
    flat = "".join(c if c.isprintable() else " " for c in text)
    return flat[:n] + ("…" if len(flat) > n else "")
