"""The Documents view: office details, what to file, what goes in, build, preview, save, print.

Documents are built in memory on the worker and written only into the folder the user
chooses; printing paints the same pages on the printer. The view holds no filing rules: the
core's ``select_for_filing`` decides what goes in, through the session.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import InputError
from ..dialogs import ErrorDialog
from ..pdfview import PagePreview, prepare_printer
from ..session import (
    OFFICE_LABELS,
    OFFICE_REQUIRED,
    BuiltDocument,
    DocumentSet,
    Session,
    missing_office_fields,
)
from ..widgets.common import esc, task_failed
from ..widgets.progress import ProgressStrip
from ..workers import Task

ALL_COURTS = "All courthouses"
GROUP_TEXT = {  # Exhibit A parts as the "what goes in" table names them
    "dismiss_and_seal": "Dismiss and seal (HS 11361.8(f))",
    "redesignate_misdemeanor": "Redesignate as misdemeanor (HS 11361.8(f))",
    "redesignate_infraction": "Redesignate as infraction (HS 11361.8(f))",
    "resentence": "Recall and resentence (HS 11361.8(b))",
}
LEFT_OUT_TEXT = {"review": "still in attorney review", "defer": "deferred by an attorney",
                 "unresolved": "decision needs attention"}
PLACEHOLDERS = {
    "district_attorney": "Full name of the District Attorney",
    "state_bar_number": "e.g. 123456",
    "office": "Office of the District Attorney, County of …",
    "address": "Street, city, CA ZIP (one or more lines)",
    "phone": "(916) 555-0100",
    "email": "prop64@da.example.gov",
    "court": "SUPERIOR COURT OF THE STATE OF CALIFORNIA, COUNTY OF …",
    "county": "e.g. Sacramento",
    "public_defender": "Public Defender of … County (default)",
}


class _AddressEdit(QPlainTextEdit):
    """A multi-line field that reports when the user leaves it (saved then, like the others)."""

    editing_finished = Signal()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.editing_finished.emit()


class DocumentsView(QWidget):
    """Build the motion packet (or per-case motions), challenge notice, cover report and court
    update file from the current decisions; preview, save, print."""

    title = "Documents"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.doc_set: DocumentSet | None = None
        self.counts: dict | None = None
        self._counts_stale = True
        self._built_stale = False
        self.last_print_pages = 0

        self.heading = QLabel()
        self.heading.setWordWrap(True)

        # -- office details
        self.office_box = QGroupBox("Office details (captions and signature blocks)")
        office_form = QFormLayout(self.office_box)
        self.office_edits: dict[str, QLineEdit | _AddressEdit] = {}
        for field_id, label in OFFICE_LABELS.items():
            if field_id == "address":
                edit = _AddressEdit()
                edit.setTabChangesFocus(True)
                edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 12)
                edit.setPlaceholderText(PLACEHOLDERS[field_id])
                edit.editing_finished.connect(lambda f=field_id: self.save_office_field(f))
            else:
                edit = QLineEdit()
                edit.setPlaceholderText(PLACEHOLDERS[field_id])
                edit.editingFinished.connect(lambda f=field_id: self.save_office_field(f))
            if field_id == "county":
                from ...core.demo import CA_COUNTIES

                completer = QCompleter([c.title() for c in CA_COUNTIES], edit)
                completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
                edit.setCompleter(completer)
            required = field_id in OFFICE_REQUIRED
            edit.setAccessibleName(f"Office detail: {label}" + ("" if required else " (optional)"))
            self.office_edits[field_id] = edit
            office_form.addRow(f"{label}{' *' if required else ''}:", edit)
        self.office_error = QLabel()
        self.office_error.setObjectName("officeError")
        self.office_error.setWordWrap(True)
        self.office_error.setAccessibleName("Office details problem")
        self.office_error.setStyleSheet("#officeError { color: palette(bright-text); background: #b3261e; "
                                        "padding: 4px; }")
        self.office_error.hide()
        office_form.addRow(self.office_error)
        self.office_hint = QLabel()
        self.office_hint.setWordWrap(True)
        self.office_hint.setAccessibleName("Office details status")
        office_form.addRow(self.office_hint)
        self.load_office_button = QPushButton("&Load office file…")
        self.load_office_button.setAccessibleName("Load the office details from an office file")
        self.load_office_button.setToolTip("The office file (TOML) the command line uses: district_attorney, "
                                           "state_bar_number, office, address, phone, email, court, county")
        self.load_office_button.clicked.connect(self.choose_office_file)
        office_form.addRow(self.load_office_button)

        # -- what to file
        self.options_box = QGroupBox("What to file")
        options = QFormLayout(self.options_box)
        self.court = QComboBox()
        self.court.setAccessibleName("Courthouse to file in")
        self.court.currentIndexChanged.connect(self._on_options_changed)
        options.addRow("Co&urthouse:", self.court)
        self.by_courthouse = QCheckBox("&One packet per courthouse")
        self.by_courthouse.setAccessibleName("One packet per courthouse")
        self.by_courthouse.setToolTip("With all courthouses: a separate packet for each, with its own exhibits "
                                      "and order; the court update file numbers rows per packet.")
        self.by_courthouse.toggled.connect(self._on_options_changed)
        options.addRow(self.by_courthouse)
        self.bulk = QRadioButton("&Bulk motion packet")
        self.bulk.setToolTip("Notice and motion, points and authorities, declaration, Exhibits A and B, "
                             "proposed order and proof of service")
        self.bulk.setAccessibleName("Bulk motion packet")
        self.per_case = QRadioButton("Per-c&ase motions and orders")
        self.per_case.setToolTip("One page per court case: the People's request and the order for the judge")
        self.per_case.setAccessibleName("Per-case motions and orders")
        self.format_group = QButtonGroup(self)
        self.format_group.addButton(self.bulk)
        self.format_group.addButton(self.per_case)
        self.bulk.setChecked(True)
        self.bulk.toggled.connect(self._on_options_changed)
        options.addRow(self.bulk)
        options.addRow(self.per_case)
        format_hint = QLabel("The bulk packet holds the motion, Exhibits A and B, the proposed order and the "
                             "proof of service; per-case motions put one court case on each page. Challenged "
                             "convictions also get a notice for the Public Defender.")
        format_hint.setWordWrap(True)
        options.addRow(format_hint)

        # -- what goes in
        self.contents_box = QGroupBox("What goes in (from the current decisions)")
        cl = QVBoxLayout(self.contents_box)
        self.contents = QLabel()
        self.contents.setWordWrap(True)
        self.contents.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.contents.setAccessibleName("What goes in the documents")
        cl.addWidget(self.contents)

        build_row = QHBoxLayout()
        self.build_button = QPushButton("Bu&ild documents")
        self.build_button.setAccessibleName("Build the court documents")
        self.build_button.clicked.connect(self.build)
        build_row.addWidget(self.build_button)
        build_row.addStretch(1)
        self.progress = ProgressStrip()

        left_body = QWidget()
        ll = QVBoxLayout(left_body)
        ll.addWidget(self.office_box)
        ll.addWidget(self.options_box)
        ll.addWidget(self.contents_box)
        ll.addLayout(build_row)
        ll.addWidget(self.progress)
        ll.addStretch(1)
        left = QScrollArea()
        left.setAccessibleName("Office details and what to file")
        left.setWidgetResizable(True)
        left.setFrameShape(QFrame.Shape.NoFrame)
        left.setWidget(left_body)
        left.setMinimumWidth(420)

        # -- preview and output
        self.preview_box = QGroupBox("Preview")
        pl_ = QVBoxLayout(self.preview_box)
        nav = QHBoxLayout()
        self.document = QComboBox()
        self.document.setAccessibleName("Document to preview, save or print")
        self.document.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.document.setMinimumContentsLength(24)
        self.document.currentIndexChanged.connect(self._show_document)
        doc_label = QLabel("Docu&ment:")
        doc_label.setBuddy(self.document)
        self.prev_button = QPushButton("◀ P&revious page")
        self.prev_button.setAccessibleName("Previous page")
        self.prev_button.clicked.connect(lambda: self.preview.show_page(self.preview.current_page() - 1))
        self.next_button = QPushButton("&Next page ▶")
        self.next_button.setAccessibleName("Next page")
        self.next_button.clicked.connect(lambda: self.preview.show_page(self.preview.current_page() + 1))
        self.page_label = QLabel()
        self.page_label.setAccessibleName("Page shown")
        nav.addWidget(doc_label)
        nav.addWidget(self.document, 1)
        for w in (self.prev_button, self.page_label, self.next_button):
            nav.addWidget(w)
        pl_.addLayout(nav)
        self.preview = PagePreview()
        self.preview.page_changed.connect(self._on_page_changed)
        pl_.addWidget(self.preview, 1)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setAccessibleName("Notes on the documents")
        pl_.addWidget(self.notes)
        out = QHBoxLayout()
        self.save_button = QPushButton("&Save…")
        self.save_button.setAccessibleName("Save the documents and the court update file in a folder")
        self.save_button.clicked.connect(self.save)
        self.print_button = QPushButton("&Print…")
        self.print_button.setAccessibleName("Print the document shown")
        self.print_button.clicked.connect(self.print_document)
        self.open_button = QPushButton("Open in PDF vie&wer")
        self.open_button.setAccessibleName("Open the saved document in the PDF viewer")
        self.open_button.clicked.connect(self.open_in_viewer)
        self.folder_button = QPushButton("Open fol&der")
        self.folder_button.setAccessibleName("Open the folder the documents were saved in")
        self.folder_button.clicked.connect(self.open_folder)
        for w in (self.save_button, self.print_button, self.open_button, self.folder_button):
            out.addWidget(w)
        out.addStretch(1)
        pl_.addLayout(out)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Saved or printed")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        pl_.addWidget(self.status)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("documentsSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.preview_box)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.splitter, 1)

        chain = [*self.office_edits.values(), self.load_office_button, self.court, self.by_courthouse,
                 self.bulk, self.per_case, self.build_button, self.progress.cancel_button, self.document,
                 self.prev_button, self.next_button, self.preview, self.save_button, self.print_button,
                 self.open_button, self.folder_button]
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)

        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(150)  # a burst of decisions asks for one count
        self._count_timer.timeout.connect(self.refresh_counts)

        session.workspace_changed.connect(self._on_workspace_changed)
        session.office_changed.connect(self.load_office)
        session.run_changed.connect(self._on_run_changed)
        session.decisions_changed.connect(lambda _ids: self._on_decisions_changed())
        session.runner.busy_changed.connect(lambda _b: self._update_enabled())
        self._on_workspace_changed()

    # -- state ------------------------------------------------------------------------------------

    def _on_workspace_changed(self) -> None:
        self.load_office()
        self._on_run_changed()

    def _on_run_changed(self) -> None:
        current = self.court.currentData()
        self.court.blockSignals(True)
        self.court.clear()
        self.court.addItem(ALL_COURTS, None)
        for name in self.session.run_courthouses():
            self.court.addItem(name, name)
        self.court.setCurrentIndex(max(0, self.court.findData(current)))
        self.court.blockSignals(False)
        self._clear_built()
        self._mark_counts_stale()
        self._update_heading()
        self._update_enabled()

    def _on_decisions_changed(self) -> None:
        self._mark_built_stale("The decisions changed since these documents were built")
        self._mark_counts_stale()

    def _on_options_changed(self, *_args) -> None:
        self._mark_built_stale("The choices under “What to file” changed since these documents were built")
        self._mark_counts_stale()
        self._update_enabled()

    def _update_heading(self) -> None:
        run = self.session.run
        if run is None:
            self.heading.setText("<h2>Documents</h2><p>No screening run yet. Import an extract first; the "
                                 "documents are built from its results and the attorneys' decisions.</p>")
        else:
            self.heading.setText(
                f"<h2>Documents: {esc(run.county)}</h2><p>Motions for the court, a notice of challenge for the "
                "Public Defender, a cover report for the office and the court update file, built from this "
                f"run ({esc(run.profile_title)}, as of {run.as_of.isoformat()}) and the decisions recorded. "
                "Nothing is written until you save.</p>")

    def _update_enabled(self) -> None:
        s = self.session
        busy = s.runner.busy
        is_open = s.is_open
        for edit in self.office_edits.values():
            edit.setEnabled(is_open and not busy)
        self.load_office_button.setEnabled(is_open and not busy)
        has_run = s.run is not None
        for w in (self.court, self.bulk, self.per_case, self.build_button):
            w.setEnabled(has_run and not busy)
        self.by_courthouse.setEnabled(has_run and not busy and self.court.currentData() is None)
        built = self.doc_set is not None and bool(self.doc_set.documents)
        usable = built and not self._built_stale and not busy
        self.save_button.setEnabled(usable)
        self.print_button.setEnabled(usable)
        self.document.setEnabled(built)
        saved = built and self.doc_set.folder is not None
        self.open_button.setEnabled(saved and self.current_document() is not None
                                    and self.doc_set.saved_path(self.current_document()).is_file())
        self.folder_button.setEnabled(saved)
        n, shown = self.preview.current_page(), self.preview.page_count_shown()
        self.prev_button.setEnabled(n > 1)
        self.next_button.setEnabled(0 < n < shown)

    # -- office details ----------------------------------------------------------------------------

    def load_office(self) -> None:
        office = self.session.office()
        for field_id, edit in self.office_edits.items():
            value = str(office.get(field_id) or "")
            edit.blockSignals(True)
            if isinstance(edit, _AddressEdit):
                if edit.toPlainText() != value:
                    edit.setPlainText(value)
            elif edit.text() != value:
                edit.setText(value)
            edit.blockSignals(False)
        self._show_office_problem("")
        self._update_office_hint()

    def _field_text(self, field_id: str) -> str:
        edit = self.office_edits[field_id]
        return edit.toPlainText() if isinstance(edit, _AddressEdit) else edit.text()

    def save_office_field(self, field_id: str) -> bool:
        """Save the field as typed (validated by the session); a refused value stays on screen
        with the reason, and the stored value is kept."""
        if not self.session.is_open:
            return False
        try:
            changed = self.session.set_office_field(field_id, self._field_text(field_id))
        except InputError as exc:
            self._show_office_problem(f"{exc} Not saved.")
            return False
        self._show_office_problem("")
        if changed:
            self._mark_built_stale("The office details changed since these documents were built")
        self._update_office_hint()
        return changed

    def _show_office_problem(self, text: str) -> None:
        self.office_error.setText(text)
        self.office_error.setVisible(bool(text))

    def _update_office_hint(self) -> None:
        if not self.session.is_open:
            self.office_hint.setText("Open a workspace to enter the office details.")
            return
        missing = missing_office_fields(self.session.office())
        self.office_hint.setText(
            ("Still needed before building: " + ", ".join(missing) + ". " if missing else "")
            + "Each detail is saved in the workspace as soon as you leave its field. * required")

    def choose_office_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load the office details", "",
                                              "Office file (*.toml);;All files (*)")
        if path:
            self.load_office_file(Path(path))

    def load_office_file(self, path: Path) -> bool:
        try:
            self.session.load_office_file(path)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return False
        self._mark_built_stale("The office details changed since these documents were built")
        return True

    # -- what goes in ------------------------------------------------------------------------------

    def _mark_counts_stale(self) -> None:
        self._counts_stale = True
        if self.isVisible():
            self._count_timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._counts_stale:
            self._count_timer.start()

    def refresh_counts(self) -> None:
        """Count what goes in on a reader (the count of a large run takes a moment)."""
        self._counts_stale = False
        if not self.session.count_for_filing(self.court.currentData(), self._show_counts,
                                             lambda m, d: task_failed(self, m, d)):
            self.counts = None
            self.contents.setText("No screening run yet.")
            return
        if self.counts is None:
            self.contents.setText("Counting…")

    def _show_counts(self, counts: dict) -> None:
        self.counts = counts
        rows = [f"<tr><td colspan='2'><b>Exhibit A: relief requested</b></td>"
                f"<td align='right'><b>{counts['granted_total']:,}</b></td></tr>"]
        rows += [f"<tr><td width='12'></td><td>{esc(GROUP_TEXT.get(g, g))}</td><td align='right'>{n:,}</td></tr>"
                 for g, n in counts["granted"].items() if n]
        rows.append(f"<tr><td colspan='2'><b>Exhibit B: relief challenged</b></td>"
                    f"<td align='right'><b>{counts['challenged']:,}</b></td></tr>")
        rows.append(f"<tr><td colspan='2'><b>Left out, listed in the cover report</b></td>"
                    f"<td align='right'><b>{counts['left_out_total']:,}</b></td></tr>")
        rows += [f"<tr><td></td><td>{esc(LEFT_OUT_TEXT[k])}</td><td align='right'>{n:,}</td></tr>"
                 for k, n in counts["left_out"].items() if n]
        where = self.court.currentData()
        self.contents.setText(
            "<table cellspacing='0' cellpadding='3'>" + "".join(rows) + "</table>"
            f"<p>{counts['total']:,} convictions screened{' at ' + esc(where) if where else ''}. "
            "Accepted proposals and attorneys' decisions go in; convictions still in review or deferred "
            "stay out until decided.</p>")

    # -- build --------------------------------------------------------------------------------------

    def build(self) -> Task | None:
        # a field being edited is saved first (its editingFinished may not have fired yet)
        focused = self.focusWidget()
        for field_id, edit in self.office_edits.items():
            if edit is focused:
                self.save_office_field(field_id)
        try:
            task = self.session.build_documents(courthouse=self.court.currentData(),
                                                by_courthouse=self.by_courthouse.isChecked(),
                                                per_case=self.per_case.isChecked())
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None
        task.succeeded.connect(self.show_documents)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        self.status.setText("")
        return task

    def show_documents(self, doc_set: DocumentSet) -> None:
        self.doc_set = doc_set
        self._built_stale = False
        self._show_counts(doc_set.counts)
        self.document.blockSignals(True)
        self.document.clear()
        for doc in doc_set.documents:
            self.document.addItem(f"{doc.title} ({doc.file_name}, {doc.pages:,} pages)", doc.file_name)
        self.document.blockSignals(False)
        self.document.setCurrentIndex(0)
        self._show_document()
        files = [d.file_name for d in doc_set.documents] + list(doc_set.update_files)
        self.notes.setText(" ".join(esc(n) for n in doc_set.notes)
                           + (" " if doc_set.notes else "") + "Built in memory: " + esc(", ".join(files))
                           + f". Audit record {esc(doc_set.request.audit_head[:16])}… is printed on each page.")
        self._update_enabled()

    def current_document(self) -> BuiltDocument | None:
        if self.doc_set is None:
            return None
        i = self.document.currentIndex()
        return self.doc_set.documents[i] if 0 <= i < len(self.doc_set.documents) else None

    def _show_document(self, *_args) -> None:
        doc = self.current_document()
        if doc is None:
            self.preview.set_pages([], 0)
        else:
            self.preview.set_pages(doc.preview, doc.pages, doc.title)
        self._update_enabled()

    def _on_page_changed(self, number: int) -> None:
        doc = self.current_document()
        self.page_label.setText(f"Page {number} of {doc.pages:,}" if doc is not None and number else "")
        self._update_enabled()

    def _clear_built(self) -> None:
        self.doc_set = None
        self._built_stale = False
        self.document.clear()
        self.preview.set_pages([], 0)
        self.notes.setText("")
        self.status.setText("")
        self._update_enabled()

    def _mark_built_stale(self, why: str) -> None:
        if self.doc_set is None or self._built_stale:
            return
        self._built_stale = True
        self.status.setText(f"<b>{esc(why)}.</b> Build again before saving or printing.")
        self._update_enabled()

    # -- save, print, open ---------------------------------------------------------------------------

    def save(self) -> None:
        if self.doc_set is None:
            return
        settings = QSettings()
        folder = QFileDialog.getExistingDirectory(
            self, "Folder for the documents and the court update file",
            str(settings.value("documents/last_dir", "") or ""))
        if folder:
            settings.setValue("documents/last_dir", folder)
            self.save_to(Path(folder))

    def save_to(self, folder: Path, *, confirm: bool = True) -> Task | None:
        doc_set = self.doc_set
        if doc_set is None or self._built_stale:
            return None
        names = [d.file_name for d in doc_set.documents] + list(doc_set.update_files)
        existing = [n for n in names if (folder / n).exists()]
        if existing and confirm:
            answer = QMessageBox.question(
                self, "Replace files?", f"{folder} already holds {', '.join(existing)}. Replace "
                f"{'it' if len(existing) == 1 else 'them'}?")
            if answer != QMessageBox.StandardButton.Yes:
                return None
        try:
            task = self.session.save_documents(doc_set, folder)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None

        def saved(paths: list) -> None:
            doc_set.folder = folder
            self.status.setText(f"Saved {len(paths)} files in {esc(folder)}: "
                                + esc(", ".join(Path(p).name for p in paths)) + ".")
            self._update_enabled()

        task.succeeded.connect(saved)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def print_document(self) -> None:
        doc = self.current_document()
        if doc is None or self._built_stale:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        prepare_printer(printer, doc.file_name)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(f"Print {doc.file_name}")
        dialog.setOption(QPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setMinMax(1, doc.pages)
        accepted = dialog.exec() == QPrintDialog.DialogCode.Accepted
        dialog.deleteLater()
        if accepted:
            self.print_to(printer)

    def print_to(self, printer: QPrinter) -> Task | None:
        """Print the document shown on ``printer`` (already set up: the dialog, or a test's PDF file)."""
        doc = self.current_document()
        if doc is None or self._built_stale:
            return None
        try:
            task = self.session.print_document(self.doc_set, doc, printer)
        except InputError as exc:
            ErrorDialog.show_error(self, str(exc))
            return None

        def printed(pages: int) -> None:
            self.last_print_pages = pages
            self.status.setText(f"Sent {pages:,} page{'s' if pages != 1 else ''} of {esc(doc.file_name)} "
                                "to the printer.")

        task.succeeded.connect(printed)
        task.failed.connect(lambda m, d: task_failed(self, m, d))
        self.progress.follow(task)
        return task

    def open_in_viewer(self) -> bool:
        doc = self.current_document()
        path = self.doc_set.saved_path(doc) if doc is not None else None
        if path is None or not path.is_file():
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def open_folder(self) -> bool:
        if self.doc_set is None or self.doc_set.folder is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.doc_set.folder)))
