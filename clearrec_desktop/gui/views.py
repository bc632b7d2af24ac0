"""The views: Import, Overview, Review (with the case detail), Policy and Activity.

Views show what the session holds and pass the user's choices back to it; they hold no
screening or decision rules.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Sequence

import polars as pl
from PySide6.QtCore import QDate, QModelIndex, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QFileDialog, QFormLayout, QFrame, QGridLayout,
    QGroupBox, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit, QMessageBox,
    QPlainTextEdit, QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSplitter,
    QTableView, QTabWidget, QTextBrowser, QVBoxLayout, QWidget,
)

from ..core import profiles, screening
from ..core.errors import InputError
from .dialogs import DecisionDialog, ErrorDialog, MappingDialog
from .models import (
    DECISION_STATUSES, REVIEW_COLUMNS, REVIEW_KEEP, ROW_ID, Column, FrameModel, decision_columns,
    decision_label, review_frame, review_filter,
)
from .session import Session
from .workers import Task

ANY = "(any)"
OUTCOME_TEXT = {
    "dismiss": "Dismiss and seal",
    "reduce": "Reduce",
    "review": "Attorney review",
    "ineligible": "Ineligible",
}
RELIEF_TEXT = {
    "dismiss_and_seal": "dismiss and seal",
    "reduce_to_misdemeanor": "redesignate as a misdemeanor",
    "reduce_to_infraction": "redesignate as an infraction",
}
GROUNDS = [("not_eligible", "&Not eligible under HS 11361.8"),
           ("public_safety", "Unreasonable risk to &public safety (PC 1170.18(c))")]


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def fmt_int(n) -> str:
    return f"{int(n or 0):,}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def configure_table(table: QTableView, model: FrameModel, name: str, *, sortable: bool = False) -> None:
    """A read-only table sized from the column specs (never by measuring a million rows).

    Sortable tables start in the frame's own order (no sort indicator) until a header is clicked."""
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.setTabKeyNavigation(False)  # Tab leaves the table, as everywhere else
    vh = table.verticalHeader()
    vh.hide()
    vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vh.setDefaultSectionSize(table.fontMetrics().height() + 8)
    hh = table.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    hh.setStretchLastSection(True)
    hh.setHighlightSections(False)
    for i, col in enumerate(model.columns()):
        table.setColumnWidth(i, col.width)
    if sortable:
        hh.setSortIndicatorShown(True)
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)


def task_failed(parent: QWidget, message: str, details: str) -> None:
    ErrorDialog.show_error(parent, message, details)


# -- a small bar chart ---------------------------------------------------------------------------


def paint_chart_frame(widget: QWidget, painter: QPainter, title: str, title_h: int, has_data: bool) -> bool:
    """The part every chart shares: its bold title, a focus frame, and "no data" when empty.
    Returns whether there is anything to draw below the title."""
    pal = widget.palette()
    font = painter.font()
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(pal.color(QPalette.ColorRole.WindowText))
    painter.drawText(0, 0, widget.width(), title_h, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
    font.setBold(False)
    painter.setFont(font)
    if widget.hasFocus():
        painter.setPen(pal.color(QPalette.ColorRole.Highlight))
        painter.drawRect(widget.rect().adjusted(0, 0, -1, -1))
    if not has_data:
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(0, title_h, widget.width(), widget.fontMetrics().height() + 6, Qt.AlignmentFlag.AlignLeft, "no data")
    return has_data

class BarChart(QWidget):
    """Horizontal bars with labels and counts, painted from the palette (light or dark)."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._title = title
        self._items: list[tuple[str, int]] = []
        self.label_width = 0  # a shared minimum, so several charts line their bars up
        self.setAccessibleName(title)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # so a screen reader can reach the figures
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_items(self, items: Sequence[tuple[str, int]]) -> None:
        self._items = [(str(k), int(v)) for k, v in items]
        self.setAccessibleDescription("; ".join(f"{k}: {v:,}" for k, v in self._items) or "no data")
        self.setToolTip(self.accessibleDescription())
        self.updateGeometry()
        self.update()

    def items(self) -> list[tuple[str, int]]:
        return list(self._items)

    def needed_label_width(self) -> int:
        fm = self.fontMetrics()
        return max((fm.horizontalAdvance(k) for k, _ in self._items), default=0) + 10

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 6

    def sizeHint(self) -> QSize:
        return QSize(380, (len(self._items) + 1) * self._row_height() + 12)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.sizeHint().height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = self.fontMetrics()
        rh = self._row_height()
        if not paint_chart_frame(self, painter, self._title, rh, bool(self._items)):
            return
        label_w = min(max(self.label_width, self.needed_label_width()), self.width() // 2)
        value_w = max(fm.horizontalAdvance(f"{v:,}") for _, v in self._items) + 10
        bar_w = max(10, self.width() - label_w - value_w - 4)
        top = max(v for _, v in self._items) or 1
        bar_color = pal.color(QPalette.ColorRole.Highlight)
        for i, (label, value) in enumerate(self._items):
            y = rh * (i + 1) + 4
            painter.setPen(pal.color(QPalette.ColorRole.WindowText))
            shown = fm.elidedText(label, Qt.TextElideMode.ElideRight, label_w - 6)
            painter.drawText(0, y, label_w - 6, rh, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown)
            w = int(bar_w * value / top)
            painter.fillRect(label_w, y + 3, max(w, 1 if value else 0), rh - 6, bar_color)
            painter.drawText(label_w + w + 4, y, value_w, rh, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{value:,}")
        painter.end()


# -- progress strip shared by the views that start long work -------------------------------------

class ProgressStrip(QWidget):
    """Progress bar, message and Cancel for the task a view started."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Progress")
        self.message = QLabel()
        self.message.setAccessibleName("Progress message")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the running task")
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.message, 3)
        layout.addWidget(self.cancel_button)
        self._task: Task | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.hide()

    def follow(self, task: Task) -> None:
        self._task = task
        self.bar.setValue(0)
        self.message.setText(task.title + "…")
        self.cancel_button.setEnabled(True)
        self.show()
        task.progress.connect(self._on_progress)
        task.finished.connect(self._on_finished)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(fraction * 1000))
        if message:
            self.message.setText(message)

    def _on_finished(self) -> None:
        self._task = None
        self.hide()

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.message.setText("Cancelling…")


# -- Import ---------------------------------------------------------------------------------------

class DropZone(QFrame):
    """A framed area that accepts a dropped file (the whole window accepts drops too)."""

    file_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("dropZone")
        self.setStyleSheet("#dropZone { border: 2px dashed palette(mid); border-radius: 8px; }")
        self.setMinimumHeight(110)
        layout = QVBoxLayout(self)
        self.label = QLabel("Drop the DOJ extract (.dat or .csv) or a county file (.csv, .xlsx) here")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.choose = QPushButton("&Choose file…")
        self.choose.setAccessibleName("Choose the file to import")
        layout.addStretch(1)
        layout.addWidget(self.label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.choose)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.file_dropped.emit(paths)


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
        from ..core.importer import WARNINGS

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
        from ..core.demo import CA_COUNTIES

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

class CountTable(QTableView):
    """A small read-only table of (label, count) pairs."""

    def __init__(self, name: str, label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.model_ = FrameModel([Column("label", label, 200), Column("count", "Convictions", 90)], self)
        configure_table(self, self.model_, name, sortable=True)
        self.setMinimumHeight(120)

    def set_counts(self, counts: dict) -> None:
        items = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
        self.model_.set_frame(pl.DataFrame(
            {"label": [str(k) if k not in (None, "") else "(blank)" for k, _ in items],
             "count": [int(v) for _, v in items]},
            schema={"label": pl.String, "count": pl.Int64}))


class OverviewView(QWidget):
    """What the run found: counts, people left with no felony / no conviction, charts, warnings."""

    title = "Overview"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setAccessibleName("Overview")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heading.setAccessibleName("Run")
        layout.addWidget(self.heading)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setAccessibleName("Warnings")
        self.warnings.setObjectName("warnings")
        self.warnings.setStyleSheet("#warnings { border: 1px solid #c77700; border-radius: 4px; padding: 6px; }")
        layout.addWidget(self.warnings)

        grid = QGridLayout()
        left = QVBoxLayout()
        self.people = QLabel()
        self.people.setAccessibleName("People")
        self.people.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        people_box = QGroupBox("People")
        QVBoxLayout(people_box).addWidget(self.people)
        left.addWidget(people_box)
        self.outcome_chart = BarChart("Convictions by outcome")
        self.section_chart = BarChart("Convictions by code section")
        self.decade_chart = BarChart("Convictions by decade")
        charts = QGroupBox("Charts")
        cl = QVBoxLayout(charts)
        cl.addWidget(self.outcome_chart)
        cl.addWidget(self.section_chart)
        cl.addWidget(self.decade_chart)
        grid.addWidget(charts, 0, 1)
        self.changes = QLabel()
        self.changes.setWordWrap(True)
        self.changes.setAccessibleName("Changes since the previous run")
        changes_box = QGroupBox("Since the previous run")
        QVBoxLayout(changes_box).addWidget(self.changes)
        left.addWidget(changes_box)
        left.addStretch(1)
        grid.addLayout(left, 0, 0)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)

        tables = QGridLayout()
        self.by_outcome = CountTable("Convictions by outcome", "Outcome")
        self.by_section = CountTable("Convictions by code section", "Section")
        self.by_level = CountTable("Convictions by level", "Level")
        self.by_courthouse = CountTable("Convictions by courthouse", "Courthouse")
        for i, (title, table) in enumerate([("By outcome", self.by_outcome), ("By section", self.by_section),
                                            ("By level", self.by_level), ("By courthouse", self.by_courthouse)]):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(table)
            tables.addWidget(box, i // 2, i % 2)
        layout.addLayout(tables)
        layout.addStretch(1)
        session.run_changed.connect(self.refresh)
        session.workspace_changed.connect(self.refresh)
        self.refresh()

    def warning_lines(self) -> list[str]:
        s = self.session
        run = s.run
        if run is None:
            return []
        out = []
        if run.results.height == 0:
            out.append(f"No convictions found for the chosen county ({run.county}). Check the county: "
                       "the import report lists the counties in the file.")
        ws_county = s.workspace_county.upper()
        if ws_county and run.county and ws_county != run.county:
            out.append(f"This run screened {run.county}, but the workspace was created for {ws_county}.")
        n_rejected = len(run.report.rejected)
        if n_rejected:
            out.append(f"{plural(n_rejected, 'line')} of the extract {'was' if n_rejected == 1 else 'were'} "
                       "rejected; see the import report.")
        if run.orphan_decisions:
            out.append(f"{plural(run.orphan_decisions, 'decision')} refer to convictions that are not in "
                       "this run.")
        by_flag = run.summary.get("convictions", {}).get("by_flag", {})
        unknown = int(by_flag.get("date_unknown", 0)) + int(by_flag.get("date_partial", 0))
        if unknown:
            out.append(f"{plural(unknown, 'conviction')} with an unknown or partial date "
                       f"{'goes' if unknown == 1 else 'go'} to attorney review.")
        dupes = int(by_flag.get("possible_duplicate_person", 0))
        if dupes:
            out.append(f"{plural(dupes, 'conviction')} of a possible duplicate person (never merged): "
                       "check the flag in Review.")
        return out

    def refresh(self) -> None:
        run = self.session.run
        if run is None:
            self.heading.setText("<h2>Overview</h2><p>No screening run yet. Import an extract first.</p>")
            for w in (self.warnings, self.people, self.changes):
                w.setText("")
            self.warnings.hide()
            for chart in (self.outcome_chart, self.section_chart, self.decade_chart):
                chart.set_items([])
            for t in (self.by_outcome, self.by_section, self.by_level, self.by_courthouse):
                t.set_counts({})
            return
        conv = run.summary.get("convictions", {})
        people = run.summary.get("people", {})
        everything = run.summary.get("dismiss_everything", {})
        self.heading.setText(
            f"<h2>Overview: {esc(run.county)}</h2>"
            f"<p>Evaluation date <b>{run.as_of.isoformat()}</b> · profile <b>{esc(run.profile_title)}</b> "
            f"({esc(run.profile_id)}) · run {run.run_id} · {fmt_int(conv.get('total', run.results.height))} "
            "cannabis convictions screened</p>")
        lines = self.warning_lines()
        self.warnings.setVisible(bool(lines))
        self.warnings.setText("<b>Warnings</b><ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>")
        rows = [("People with a cannabis conviction here", "with_conviction"),
                ("People with some relief", "with_relief"),
                ("People left with no felony", "no_felony_left"),
                ("People left with no conviction at all", "no_conviction_left"),
                ("People with no conviction in the last 7 years", "none_in_7_years")]
        table = "".join(
            f"<tr><td>{label}</td><td align='right'><b>{fmt_int(people.get(key))}</b></td>"
            f"<td align='right'>{fmt_int(everything.get(key)) if key in everything else ''}</td></tr>"
            for label, key in rows)
        self.people.setText("<table cellspacing='0' cellpadding='4'><tr><th></th>"
                            "<th align='right'>This profile</th>"
                            "<th align='right'>If everything<br>were dismissed</th></tr>" + table + "</table>")
        by_outcome = conv.get("by_outcome", {})
        self.outcome_chart.set_items([(OUTCOME_TEXT.get(k, k), by_outcome.get(k, 0))
                                      for k in ("dismiss", "reduce", "review", "ineligible")])
        by_section = sorted(conv.get("by_section", {}).items(), key=lambda kv: (-kv[1], kv[0]))
        self.section_chart.set_items(by_section[:8])
        decades = run.summary.get("breakdowns", {}).get("decade", {})
        self.decade_chart.set_items([(k, v.get("convictions", 0)) for k, v in sorted(decades.items())])
        charts = (self.outcome_chart, self.section_chart, self.decade_chart)
        width = max(c.needed_label_width() for c in charts)
        for chart in charts:
            chart.label_width = width
            chart.update()
        self.by_outcome.set_counts({OUTCOME_TEXT.get(k, k): v for k, v in by_outcome.items()})
        self.by_section.set_counts(conv.get("by_section", {}))
        self.by_level.set_counts({{"F": "felony", "M": "misdemeanor", "I": "infraction"}.get(k, k): v
                                  for k, v in conv.get("by_level", {}).items()})
        self.by_courthouse.set_counts(conv.get("by_courthouse", {}))
        if run.changes is None:
            self.changes.setText("This is the first run in this workspace.")
        else:
            counts = dict(run.changes.group_by("change").len().iter_rows()) if run.changes.height else {}
            self.changes.setText(
                f"New convictions: <b>{fmt_int(counts.get('new'))}</b><br>"
                f"No longer in the data: <b>{fmt_int(counts.get('gone'))}</b><br>"
                f"Outcome changed: <b>{fmt_int(counts.get('outcome_changed'))}</b><br>"
                "Decisions stay attached to their conviction across runs.")


# -- Review ---------------------------------------------------------------------------------------

HISTORY_COLUMNS = [
    Column("_this", "This", 38),
    Column("_evidence", "Evidence", 64),
    Column("_cannabis", "Cannabis", 66),
    Column("cycle_date", "Cycle date", 88),
    Column("step_type", "Step", 150),
    Column("step_date", "Step date", 88),
    Column("county", "County", 110),
    Column("courthouse", "Court or agency", 190),
    Column("court_case_number", "Case", 90),
    Column("count_key", "Count", 100),
    Column("offence_text", "Offence", 210),
    Column("level", "Level", 44),
    Column("disposition", "Disposition", 170),
    Column("_sentence", "Sentence", 110),
    Column("_ref", "Record line", 120),
]

# The decision actions: (decision id, menu text, key, alternative key with Ctrl for the menu bar).
DECISION_ACTIONS = [
    ("accept", "&Accept proposal", "A"),
    ("dismiss", "&Dismiss", "D"),
    ("reduce", "&Reduce", "R"),
    ("challenge", "&Challenge…", "C"),
    ("defer", "De&fer", "F"),
]


def history_frame(rows: pl.DataFrame, subject_id: str, count_key: str | None,
                  court_case: str | None, evidence: str | None) -> pl.DataFrame:
    """Every row of one person's record, in record order, marked for the timeline."""
    from ..core.normalise import CANNABIS_SECTIONS

    refs = [r for r in (evidence or "").split(";") if r]
    ref = pl.concat_str([pl.col("source_file"), pl.lit(":"), pl.col("source_line").cast(pl.String)])
    cannabis = pl.col("section_num").is_in(CANNABIS_SECTIONS).fill_null(False)
    this = (pl.col("count_key") == (count_key or "")) & pl.col("court_case_number").eq_missing(court_case)
    sentence = pl.concat_str([pl.col("sent_type"), pl.col("sent_length").cast(pl.String), pl.col("sent_unit")],
                             separator=" ", ignore_nulls=True)
    return (rows.filter(pl.col("subject_id") == subject_id)
            .sort("cycle", "step", "count_key", "source_file", "source_line", nulls_last=True)
            .with_columns(
                ref.alias("_ref"),
                ref.is_in(refs).alias("_hl"),
                cannabis.alias("_bold"),
                pl.when(cannabis).then(pl.lit("yes")).otherwise(pl.lit("")).alias("_cannabis"),
                pl.when(ref.is_in(refs)).then(pl.lit("●")).otherwise(pl.lit("")).alias("_evidence"),
                pl.when(this.fill_null(False)).then(pl.lit("▶")).otherwise(pl.lit("")).alias("_this"),
                sentence.alias("_sentence"),
            ))


class ReviewView(QWidget):
    """The review queue: the results table with filters and search, and the case in detail."""

    title = "Review"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.model = FrameModel(REVIEW_COLUMNS, self, keep=REVIEW_KEEP)
        self._results: pl.DataFrame | None = None
        self._current_rid: int | None = None

        # filters
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, CII or case number")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search name, CII or case number")
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)  # filter once typing pauses, not on every key
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search_now)
        self.filters: dict[str, QComboBox] = {}
        filter_row = QHBoxLayout()
        for key, label in [("outcome", "Outcome"), ("flag", "Flag"), ("section", "Section"),
                           ("courthouse", "Courthouse"), ("decade", "Decade"), ("status", "Decision")]:
            combo = QComboBox()
            combo.setAccessibleName(f"Filter by {label.lower()}")
            combo.setToolTip(f"Show only convictions with this {label.lower()}")
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
            combo.currentIndexChanged.connect(self.apply_filters)
            self.filters[key] = combo
            box = QVBoxLayout()
            lab = QLabel(label)
            lab.setBuddy(combo)
            box.addWidget(lab)
            box.addWidget(combo)
            filter_row.addLayout(box)
        self.clear_button = QPushButton("C&lear filters")
        self.clear_button.setAccessibleName("Clear filters and search")
        self.clear_button.clicked.connect(self.clear_filters)
        filter_row.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignBottom)

        self.table = QTableView()
        configure_table(self.table, self.model, "Convictions to review", sortable=True)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Number of convictions shown")

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.search)
        ll.addLayout(filter_row)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.count_label)

        # the case
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.detail.setOpenExternalLinks(False)
        self.detail.setAccessibleName("Case detail")
        self.detail.setMinimumWidth(340)
        self.actions: dict[str, QAction] = {}
        self.decision_buttons: list[QPushButton] = []
        buttons = QGridLayout()
        for i, (decision, text, key) in enumerate(DECISION_ACTIONS):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{text.replace('&', '')} ({key})")
            action.triggered.connect(lambda _c=False, d=decision: self.decide(d))
            self.actions[decision] = action
            button = QPushButton(f"{text.replace('&', '')}  [{key}]")
            button.setAccessibleName(text.replace("&", "").replace("…", ""))
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda b=button, a=action: b.setEnabled(a.isEnabled()))
            buttons.addWidget(button, i // 3, i % 3)
            self.decision_buttons.append(button)
        for name, text, keys, step in [("previous", "&Previous case", ["K", "Ctrl+Up"], -1),
                                       ("next", "&Next case", ["J", "Ctrl+Down"], 1)]:
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _c=False, s=step: self.move(s))
            self.actions[name] = action
        note = QAction("Add &note…", self)
        note.setShortcut(QKeySequence("N"))
        note.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        note.triggered.connect(self.add_note)
        self.actions["note"] = note
        note_button = QPushButton("Note…  [N]")
        note_button.setAccessibleName("Add a note to this case")
        note_button.clicked.connect(note.trigger)
        note.changed.connect(lambda: note_button.setEnabled(note.isEnabled()))
        buttons.addWidget(note_button, 1, 2)
        self.decision_buttons.append(note_button)
        self.decision_hint = QLabel("Keys in the table: A accept · D dismiss · R reduce · C challenge · "
                                    "F defer · N note · J/K next/previous · Ctrl+Z undo")
        self.decision_hint.setWordWrap(True)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.detail, 1)
        decide_box = QGroupBox("Decision")
        dl = QVBoxLayout(decide_box)
        dl.addLayout(buttons)
        dl.addWidget(self.decision_hint)
        rl.addWidget(decide_box)

        self.history_model = FrameModel(HISTORY_COLUMNS, self, highlight="_hl", bold="_bold")
        self.history = QTableView()
        configure_table(self.history, self.history_model, "Record history of the person")
        # The single-key decision shortcuts work where the case is read: the queue, the detail
        # and the history; not in the search box or the filters, where letters are typed.
        for action in self.actions.values():
            for widget in (self.table, self.detail, self.history):
                widget.addAction(action)
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        history_box = QGroupBox("Whole record (every cycle, step and count, all counties)")
        hl = QVBoxLayout(history_box)
        legend = QLabel("▶ this conviction · ● evidence for the outcome (highlighted) · "
                        "bold: cannabis counts")
        legend.setWordWrap(True)
        hl.addWidget(legend)
        hl.addWidget(self.history)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(right)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("reviewSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(history_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.top_splitter = top
        top.setObjectName("reviewTopSplitter")
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

        QWidget.setTabOrder(self.search, self.filters["outcome"])
        order = list(self.filters.values())
        for a, b in zip(order, order[1:]):
            QWidget.setTabOrder(a, b)
        QWidget.setTabOrder(order[-1], self.clear_button)
        QWidget.setTabOrder(self.clear_button, self.table)
        QWidget.setTabOrder(self.table, self.detail)
        chain = [self.detail, *self.decision_buttons, self.history]
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)

        session.run_changed.connect(self.load_run)
        session.decisions_changed.connect(self._on_decisions_changed)
        session.runner.busy_changed.connect(lambda _b: self._update_actions())
        session.workspace_changed.connect(self._update_actions)
        self.load_run()

    # -- data ------------------------------------------------------------------------------------

    def load_run(self) -> None:
        run = self.session.run
        self._results = run.results if run is not None else None
        frame = review_frame(run.results, self.session.decisions) if run is not None else None
        self._current_rid = None
        self.model.set_frame(frame)
        self._fill_filters(frame)
        self.apply_filters()

    def _fill_filters(self, frame: pl.DataFrame | None) -> None:
        def fill(key: str, items: list[tuple[str, str]]) -> None:
            combo = self.filters[key]
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ANY, None)
            for text, data in items:
                combo.addItem(text, data)
            combo.blockSignals(False)

        if frame is None or frame.height == 0:
            for key in self.filters:
                fill(key, [])
            return
        fill("outcome", [(OUTCOME_TEXT.get(o, o), o) for o in ("dismiss", "reduce", "review", "ineligible")])
        flags = (frame.select(pl.col("flags").fill_null("").str.split(";")).explode("flags")
                 .filter(pl.col("flags") != "").get_column("flags").unique().sort().to_list())
        fill("flag", [(screening.FLAGS.get(f, f), f) for f in flags])
        fill("section", [(s, s) for s in frame.get_column("code_section").drop_nulls().unique().sort().to_list()])
        fill("courthouse", [(c, c) for c in frame.get_column("courthouse").drop_nulls().unique().sort().to_list()])
        fill("decade", [(d, d) for d in frame.get_column("_decade").unique().sort().to_list()])
        fill("status", [(s, s) for s in DECISION_STATUSES])

    def filter_expr(self) -> pl.Expr | None:
        values = {k: c.currentData() for k, c in self.filters.items()}
        return review_filter(text=self.search.text(), **values)

    def _search_now(self) -> None:
        self._search_timer.stop()
        self.apply_filters()
        if self.model.rowCount():
            self.table.setFocus()

    def apply_filters(self) -> None:
        keep = self._current_rid
        self.model.set_filter(self.filter_expr())
        total = self.model.frame().height
        shown = self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,} convictions shown")
        row = self.model.row_of(keep) if keep is not None else -1
        self.select_row(row if row >= 0 else 0)

    def clear_filters(self) -> None:
        for combo in self.filters.values():
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.apply_filters()

    # -- the current case --------------------------------------------------------------------------

    def select_row(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            self.table.setCurrentIndex(QModelIndex())
            self._show_case(None)
            return
        index = self.model.index(row, 0)
        same = self.table.currentIndex().row() == row and self.model.row_id(row) == self._current_rid
        self.table.selectionModel().setCurrentIndex(
            index, self.table.selectionModel().SelectionFlag.ClearAndSelect
            | self.table.selectionModel().SelectionFlag.Rows)
        self.table.scrollTo(index)
        if same:  # otherwise currentRowChanged has shown it already
            self._show_case(row)

    def show_conviction(self, conviction_id: str) -> bool:
        """Select a conviction if it is shown (after an undo, for instance)."""
        hit = self.model.frame().filter(pl.col("conviction_id") == conviction_id)
        if hit.height == 0:
            return False
        row = self.model.row_of(hit.item(0, ROW_ID))
        if row < 0:
            return False
        self.select_row(row)
        return True

    def move(self, step: int) -> None:
        row = self.table.currentIndex().row()
        self.select_row(min(max(row + step, 0), self.model.rowCount() - 1))

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = current.row() if current.isValid() else None
        if row is not None and self.model.row_id(row) == self._current_rid:
            return  # the same case moved (a re-sort): nothing to redraw
        self._show_case(row)

    def current_record(self) -> dict | None:
        if self._current_rid is None or self._results is None:
            return None
        return self._results.row(self._current_rid, named=True)

    def current_conviction_id(self) -> str | None:
        record = self.current_record()
        return record["conviction_id"] if record else None

    def _show_case(self, row: int | None) -> None:
        rid = self.model.row_id(row) if row is not None else None
        self._current_rid = rid
        record = self.current_record()
        if record is None:
            self.detail.setHtml("<p>No conviction selected.</p>" if self._results is not None
                                else "<p>No screening run yet. Import an extract first.</p>")
            self.history_model.set_frame(None)
            self._update_actions()
            return
        self.detail.setHtml(self.case_html(record))
        rows = self.session.run.rows
        frame = history_frame(rows, record["subject_id"], record["count_key"], record["court_case_number"],
                              record["evidence"])
        self.history_model.set_frame(frame)
        first = frame.select(pl.arg_where(pl.col("_hl"))).to_series()
        if first.len():
            self.history.scrollTo(self.history_model.index(self.history_model.row_of(int(first[0])), 0),
                                  QAbstractItemView.ScrollHint.PositionAtCenter)
        self._update_actions()

    def case_html(self, r: dict) -> str:
        rows = self.session.run.rows
        names = (rows.filter(pl.col("subject_id") == r["subject_id"]).get_column("name")
                 .drop_nulls().unique().sort().to_list())
        akas = [n for n in names if n != r["name"]]
        person = (
            f"<h3>{esc(r['name'])}</h3>"
            f"<table cellspacing='2'>"
            f"<tr><td>AKAs</td><td>{esc(', '.join(akas)) or 'none recorded'}</td></tr>"
            f"<tr><td>Date of birth</td><td>{esc(r['dob'] or 'unknown')}</td></tr>"
            f"<tr><td>CII</td><td>{esc(r['cii_number'])}</td></tr>"
            f"<tr><td>Race</td><td>{esc(r['race'])}</td></tr>"
            f"<tr><td>Gender</td><td>{esc(r['gender'])}</td></tr>"
            f"<tr><td>DOJ subject id</td><td>{esc(r['subject_id'])}</td></tr></table>")
        relief = RELIEF_TEXT.get(r.get("relief") or "", "")
        conviction = (
            f"<h3>{esc(r['code_section'])} {esc(r['level'] or '')} · case {esc(r['court_case_number'])}</h3>"
            f"<p>{esc(r['courthouse'])}, convicted {esc(r['conviction_date'] or 'date unknown')}"
            f" ({esc(r['conviction_date_quality'])})"
            f"{' · ' + esc(r['qualifier']) if r.get('qualifier') else ''}"
            f" · as recorded: {esc(r['code_section_original'])}</p>")
        reasons = [x.strip() for x in (r.get("reasons") or "").split(" | ") if x.strip()]
        items = []
        for text in reasons:
            cite = ""
            if text.endswith("]") and "[" in text:
                text, cite = text[: text.rfind("[")].strip(), text[text.rfind("[") + 1:-1]
            items.append(f"<li>{esc(text)}{f' <i>[{esc(cite)}]</i>' if cite else ''}</li>")
        evidence = ", ".join((r.get("evidence") or "").split(";")) or "none"
        outcome = (
            f"<h3>Proposed: {esc(OUTCOME_TEXT.get(r['outcome'], r['outcome']))}"
            f"{' (' + esc(relief) + ')' if relief else ''}</h3>"
            f"<p>Track: {esc(r.get('relief_track') or 'unknown')} · rules: {esc(r.get('rules') or '')}</p>"
            f"<ol>{''.join(items)}</ol>"
            f"<p>Evidence rows (highlighted below): {esc(evidence)}</p>")
        flags = [f for f in (r.get("flags") or "").split(";") if f]
        flags_html = ("<h4>Flags</h4><ul>" + "".join(f"<li>{esc(screening.FLAGS.get(f, f))}</li>" for f in flags)
                      + "</ul>") if flags else "<p>No flags.</p>"
        return person + "<hr>" + conviction + outcome + flags_html + "<hr>" + self.decisions_html(r["conviction_id"])

    def decisions_html(self, conviction_id: str) -> str:
        history = self.session.decision_history(conviction_id)
        current = next((e for e in reversed(history) if e.get("effective")), None)
        head = (f"<h3>Decision: {esc(decision_label(current['decision'], current['ground'], current['proposed']))}</h3>"
                if current else "<h3>Decision: none yet</h3>")
        if not history:
            return head
        items = []
        for e in history:
            if e["kind"] == "decision":
                text = decision_label(e["decision"], e["ground"], e["proposed"])
                extra = "".join(f"<br><i>{label}:</i> {esc(e[key])}" for key, label in
                                (("reason", "reason"), ("notes", "notes")) if e.get(key))
                items.append(f"<li>{esc(e['at'])} · {esc(e['reviewer'])}: <b>{esc(text)}</b>{extra}</li>")
            else:
                items.append(f"<li>{esc(e['at'])} · {esc(e['reviewer'])}: {esc(e['kind'])} of the decision "
                             f"made at event {esc(e['target_event_id'])}</li>")
        notes = self.session.notes(conviction_id)
        notes_html = ("<h4>Notes</h4><ul>" + "".join(
            f"<li>{esc(n['at'])} · {esc(n['author'])}: {esc(n['text'])}</li>" for n in notes) + "</ul>") if notes else ""
        return head + "<h4>History</h4><ul>" + "".join(items) + "</ul>" + notes_html

    def _update_actions(self) -> None:
        record = self.current_record()
        ready = record is not None and self.session.is_open and not self.session.runner.busy
        for key, action in self.actions.items():
            if key in ("next", "previous"):
                action.setEnabled(self.model.rowCount() > 0)
            elif key == "accept":
                # "review" proposes nothing to accept: the attorney chooses the outcome.
                action.setEnabled(ready and record["outcome"] != "review")
            else:
                action.setEnabled(ready)

    # -- decisions -----------------------------------------------------------------------------------

    def decide(self, decision: str, *, reason: str | None = None, ground: str | None = None,
               notes: str | None = None, ask: bool = True) -> bool:
        """Record ``decision`` on the current case; asks for a reason (and ground) when needed."""
        record = self.current_record()
        if record is None or not self.actions[decision].isEnabled():
            return False
        cid = record["conviction_id"]
        needs_reason = self.session.departs(decision, record["outcome"])
        if ask and (needs_reason or decision == "challenge"):
            dialog = DecisionDialog(
                self, title=f"{decision.capitalize()}: case {record['court_case_number']}",
                summary=(f"Proposed outcome: <b>{esc(OUTCOME_TEXT.get(record['outcome'], record['outcome']))}</b>."
                         f" Your decision: <b>{esc(decision)}</b>."),
                reason_required=needs_reason, grounds=GROUNDS if decision == "challenge" else ())
            accepted = dialog.exec() == DecisionDialog.DialogCode.Accepted
            reason, ground, notes = dialog.values()
            dialog.deleteLater()
            if not accepted:
                return False
        try:
            self.session.decide(cid, decision, reason=reason or None, ground=ground, notes=notes or None)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return False
        if QSettings().value("review/advance", True, type=bool):
            self.move(1)
        return True

    def add_note(self) -> None:
        cid = self.current_conviction_id()
        if cid is None or not self.actions["note"].isEnabled():
            return
        text, ok = QInputDialog.getMultiLineText(self, "Add a note", "Note on this case:")
        if ok and text.strip():
            try:
                self.session.add_note(cid, text)
            except InputError as exc:
                ErrorDialog.show_error(self, str(exc))

    def _on_decisions_changed(self, ids: list) -> None:
        if self._results is None or not ids:
            return
        cols = decision_columns(pl.Series("conviction_id", [str(i) for i in ids], dtype=pl.String),
                                self.session.decisions)
        for row in cols.iter_rows(named=True):
            self.model.update_where("conviction_id", row["conviction_id"],
                                    {"decision": row["decision"], "_decision": row["_decision"],
                                     "_departs": row["_departs"]})
        record = self.current_record()
        if record is not None and record["conviction_id"] in ids:
            self.detail.setHtml(self.case_html(record))
        self._update_actions()


# -- Policy -------------------------------------------------------------------------------------

_NUMBERED = re.compile(r"^\s*\d+\.\s")


def profile_html(profile: profiles.Profile) -> str:
    """The profile's own plain-English explanation (``Profile.explain``) laid out for reading:
    the title in bold, wrapped text joined into paragraphs, rule ids in bold."""
    lines = profile.explain().splitlines()
    blocks: list[list[str]] = [[]]
    for line in lines[1:]:
        if not line.strip():
            blocks.append([])
        elif _NUMBERED.match(line) or line.startswith("     ["):  # a rule starts a block
            blocks.append([line.strip()])
        else:
            blocks[-1].append(line.strip())
    blocks = [" ".join(b) for b in blocks if b]
    out = [f"<h3>{esc(lines[0]) if lines else ''}</h3>"]
    for block in blocks:
        text = re.sub(r"^(\d+\.\s*)?(\[[^\]]+\])", r"\1<b>\2</b>", esc(block))
        indent = 18 if _NUMBERED.match(block) or block.startswith("[") else 0
        out.append(f"<p style='margin:3px 0 3px {indent}px'>{text}</p>")
    return "".join(out)


class PolicyView(QWidget):
    """The active profile in plain English; re-screen with another profile or date; what-if."""

    title = "Policy"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._profiles: list[profiles.Profile] = []
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        row = QHBoxLayout()
        self.profile = QComboBox()
        self.profile.setAccessibleName("Profile to screen with")
        self.profile.currentIndexChanged.connect(self._show_selected)
        lab = QLabel("P&rofile:")
        lab.setBuddy(self.profile)
        self.as_of = QDateEdit()
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        self.as_of.setAccessibleName("Evaluation date for screening again")
        lab2 = QLabel("&Evaluation date:")
        lab2.setBuddy(self.as_of)
        self.rescreen_button = QPushButton("&Screen again")
        self.rescreen_button.setAccessibleName("Screen again with this profile and date")
        self.rescreen_button.clicked.connect(self.rescreen)
        for w in (lab, self.profile, lab2, self.as_of, self.rescreen_button):
            row.addWidget(w)
        row.addStretch(1)
        layout.addLayout(row)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)
        self.rules = QTextBrowser()
        self.rules.setOpenLinks(False)
        self.rules.setAccessibleName("Profile rules in plain English")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.rules)

        whatif = QGroupBox("What if: compare two profiles on the same records")
        wl = QVBoxLayout(whatif)
        wrow = QHBoxLayout()
        self.profile_a = QComboBox()
        self.profile_a.setAccessibleName("First profile to compare")
        self.profile_b = QComboBox()
        self.profile_b.setAccessibleName("Second profile to compare")
        self.compare_button = QPushButton("Co&mpare")
        self.compare_button.setAccessibleName("Compare the two profiles")
        self.compare_button.clicked.connect(self.compare)
        la, lb = QLabel("&A:"), QLabel("&B:")
        la.setBuddy(self.profile_a)
        lb.setBuddy(self.profile_b)
        for w in (la, self.profile_a, lb, self.profile_b, self.compare_button):
            wrow.addWidget(w)
        wrow.addStretch(1)
        wl.addLayout(wrow)
        self.compare_summary = QLabel("Choose two profiles and Compare.")
        self.compare_summary.setWordWrap(True)
        self.compare_summary.setAccessibleName("Comparison result")
        wl.addWidget(self.compare_summary)
        self.moves_model = FrameModel([Column("outcome_a", "Outcome under A", 140),
                                       Column("outcome_b", "Outcome under B", 140),
                                       Column("count", "Convictions", 90)], self)
        self.moves_table = QTableView()
        configure_table(self.moves_table, self.moves_model, "Outcome changes between the profiles")
        self.changed_model = FrameModel([Column("name", "Name", 170), Column("court_case_number", "Case", 100),
                                         Column("conviction_date", "Convicted", 90),
                                         Column("code_section", "Section", 95), Column("level", "Level", 45),
                                         Column("outcome_a", "Under A", 90), Column("outcome_b", "Under B", 90)],
                                        self)
        self.changed_table = QTableView()
        configure_table(self.changed_table, self.changed_model, "Convictions whose outcome changes",
                        sortable=True)
        tables = QHBoxLayout()
        tables.addWidget(self.moves_table, 1)
        tables.addWidget(self.changed_table, 2)
        wl.addLayout(tables)
        split.addWidget(whatif)
        layout.addWidget(split, 1)

        session.run_changed.connect(self.refresh)
        session.workspace_changed.connect(self.refresh)
        session.runner.busy_changed.connect(lambda _b: self._update_enabled())
        self.reload_profiles()
        self.refresh()

    def reload_profiles(self) -> None:
        self._profiles = profiles.list_profiles()
        for combo in (self.profile, self.profile_a, self.profile_b):
            combo.blockSignals(True)
            combo.clear()
            for p in self._profiles:
                combo.addItem(f"{p.title} ({p.id})", p.id)
            combo.blockSignals(False)
        if len(self._profiles) > 1:
            self.profile_b.setCurrentIndex(1)

    def _profile(self, combo: QComboBox) -> profiles.Profile | None:
        return next((p for p in self._profiles if p.id == combo.currentData()), None)

    def _update_enabled(self) -> None:
        ready = self.session.run is not None and not self.session.runner.busy
        for w in (self.rescreen_button, self.compare_button):
            w.setEnabled(ready)

    def refresh(self) -> None:
        run = self.session.run
        if run is None:
            self.heading.setText("<h2>Policy</h2><p>No screening run yet. The rules below are the profile "
                                 "chosen here; import an extract to screen with it.</p>")
        else:
            self.heading.setText(f"<h2>Policy</h2><p>The current run used <b>{esc(run.profile_title)}</b> "
                                 f"({esc(run.profile_id)}) as of <b>{run.as_of.isoformat()}</b>. Choose another "
                                 "profile or date and Screen again; decisions are kept.</p>")
            i = self.profile.findData(run.profile_id)
            if i >= 0:
                self.profile.setCurrentIndex(i)
            self.profile_a.setCurrentIndex(max(0, self.profile_a.findData(run.profile_id)))
            self.as_of.setDate(QDate(run.as_of.year, run.as_of.month, run.as_of.day))
        self._show_selected()
        self._update_enabled()

    def _show_selected(self) -> None:
        run = self.session.run
        profile = self._profile(self.profile)
        if run is not None and (profile is None or profile.id == run.profile_id):
            from .session import profile_from_text

            profile = profile_from_text(run.profile_id, run.profile_text)
        self.rules.setHtml(profile_html(profile) if profile is not None else "<p>No profiles found.</p>")

    def rescreen(self) -> Task | None:
        profile = self._profile(self.profile)
        if profile is None:
            return None
        try:
            task = self.session.rescreen(self.as_of.date().toPython(), profile)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def compare(self) -> Task | None:
        a, b = self._profile(self.profile_a), self._profile(self.profile_b)
        if a is None or b is None:
            return None
        try:
            task = self.session.what_if(a, b)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.succeeded.connect(self.show_comparison)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def show_comparison(self, result: dict) -> None:
        changed = result["changed"]
        total = result["total"]
        self.compare_summary.setText(
            f"<b>{changed.height:,}</b> of {total:,} convictions get a different outcome under "
            f"<b>{esc(result['b'].title)}</b> than under <b>{esc(result['a'].title)}</b>.")
        self.moves_model.set_frame(result["moves"])
        self.changed_model.set_frame(changed)


# -- Activity ---------------------------------------------------------------------------------------

class ActivityView(QWidget):
    """The audit trail, filterable by action, and a check that it is intact."""

    title = "Activity"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Activity</h2><p>Everything recorded in this workspace: imports, runs, "
                                "decisions, undos, exports. Entries are chained so any change is detected.</p>"))
        row = QHBoxLayout()
        self.action_filter = QComboBox()
        self.action_filter.setAccessibleName("Filter by action")
        self.action_filter.currentIndexChanged.connect(self.apply_filter)
        lab = QLabel("&Action:")
        lab.setBuddy(self.action_filter)
        self.verify_button = QPushButton("&Verify trail")
        self.verify_button.setAccessibleName("Verify that the audit trail is intact")
        self.verify_button.clicked.connect(self.verify)
        self.verify_result = QLabel()
        self.verify_result.setAccessibleName("Verification result")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for w in (lab, self.action_filter, self.verify_button):
            row.addWidget(w)
        row.addWidget(self.verify_result, 1)
        layout.addLayout(row)
        self.model = FrameModel([Column("seq", "#", 50), Column("at", "When (UTC)", 235),
                                 Column("actor", "Who", 110), Column("action", "Action", 140),
                                 Column("details", "Details", 520), Column("hash", "Hash", 140)], self)
        self.table = QTableView()
        configure_table(self.table, self.model, "Audit trail", sortable=True)
        layout.addWidget(self.table, 1)
        QWidget.setTabOrder(self.action_filter, self.verify_button)
        QWidget.setTabOrder(self.verify_button, self.table)
        self._stale = True
        session.audit_changed.connect(self.mark_stale)
        session.workspace_changed.connect(self.mark_stale)

    def mark_stale(self) -> None:
        """Re-read the trail now if shown, else when next shown (every decision adds an entry;
        reading thousands of entries per keypress in Review would slow the review down)."""
        self._stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:
        if self._stale:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        self._stale = False
        frame = self.session.audit_frame()
        current = self.action_filter.currentData()
        self.action_filter.blockSignals(True)
        self.action_filter.clear()
        self.action_filter.addItem(ANY, None)
        for action in sorted(set(frame.get_column("action").to_list())):
            self.action_filter.addItem(action, action)
        i = self.action_filter.findData(current)
        self.action_filter.setCurrentIndex(max(i, 0))
        self.action_filter.blockSignals(False)
        self.model.set_frame(frame)
        self.apply_filter()
        self.verify_result.setText("")

    def apply_filter(self) -> None:
        action = self.action_filter.currentData()
        self.model.set_filter(pl.col("action") == action if action else None)

    def verify(self) -> tuple[bool, int | None, str] | None:
        try:
            ok, bad, message = self.session.verify_audit()
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        if ok:
            self.verify_result.setText("✔ " + esc(message[:1].upper() + message[1:]))
        else:
            where = f" First broken entry: #{bad}." if bad is not None else ""
            self.verify_result.setText(f"<b>✘ The audit trail is broken.</b>{where} {esc(message)}")
            hit = self.model.frame().filter(pl.col("seq") == bad) if bad is not None else None
            if hit is not None and hit.height:
                row = self.model.row_of(hit.item(0, ROW_ID))
                if row >= 0:
                    self.table.selectRow(row)
        return ok, bad, message
